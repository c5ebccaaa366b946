"""What the web UIs written for Floodlight read, page by page: Floodlight's own UI (src/main/resources/web, served
at /ui/index.html, Backbone.js; v0.91 and v1.2 differ in js/models/switchmodel.js only), and the separate
floodlight-webui project (SB Admin pages calling http://<controller>:<port>/wm/... from wherever they are served:
its README deploys them on Apache or IIS, so every call is cross-origin and needs --rest-cors-origins).

Each table below is URL -> the keys and types the page reads (tests/protocol/programs.assert_shape: a superset is
fine). Tried by hand in headless Chromium against this controller: docs/compatibility.md, "Programs written for
Floodlight".
"""
import pytest

from tests.protocol.programs import FAST, SWITCH_A, SWITCH_B, assert_shape, get_json, two_switches

pytestmark = pytest.mark.protocol

UI_ORIGIN = 'http://ui.example:8000'
NUMBER = (int, str)  # Floodlight 1.2 wrote most statistics as strings; JavaScript reads either
SWITCH_DETAIL = '/wm/core/switch/%s/' % SWITCH_A

# Floodlight v1.2's web UI (js/models/*.js of v1.2)
UI_1_2 = {
    # statusmodel.js (dashboard): health, uptime, memory, module list
    '/wm/core/health/json': {'healthy': bool},
    '/wm/core/system/uptime/json': {'systemUptimeMsec': int},
    '/wm/core/memory/json': {'free': int, 'total': int},
    '/wm/core/module/loaded/json': dict,
    # switchmodel.js: SwitchCollection.fetch, then each Switch's desc, aggregate, port-desc and flows
    '/wm/core/controller/switches/json': [{'switchDPID': str, 'inetAddress': str, 'connectedSince': int}],
    SWITCH_DETAIL + 'desc/json': {'desc': {'datapathDescription': str, 'hardwareDescription': str,
                                           'manufacturerDescription': str, 'serialNumber': str, 'version': str,
                                           'softwareDescription': str}},
    SWITCH_DETAIL + 'aggregate/json': {'aggregate': {'flowCount': NUMBER, 'packetCount': NUMBER,
                                                     'byteCount': NUMBER}},
    # its "Ports (n)" list: names, state & 1, currentFeatures & 0x7f (1.2 itself answered an ERROR blob here
    # for OpenFlow 1.0 switches, so its UI showed "Ports (0)"); the port counters it asks at port/json are
    # read from data['port'], which 1.2 never wrote (its own bug: zeros there, as here)
    SWITCH_DETAIL + 'port-desc/json': {'portDesc': [{'portNumber': NUMBER, 'name': str, 'state': NUMBER,
                                                     'currentFeatures': NUMBER}]},
    SWITCH_DETAIL + 'flow/json': {'flows': [{'match': dict, 'actions': dict, 'tableId': str, 'cookie': NUMBER,
                                             'priority': NUMBER, 'packetCount': NUMBER, 'byteCount': NUMBER,
                                             'durationSeconds': NUMBER, 'idleTimeoutSec': NUMBER}]},
    # hostmodel.js: h.mac[0], h.ipv4, attachmentPoint[].switchDPID/port, lastSeen (a Date of it)
    '/wm/device/': [{'mac': [str], 'ipv4': list, 'attachmentPoint': [{'switchDPID': str, 'port': int}],
                     'lastSeen': int}],
    # topologymodel.js
    '/wm/topology/links/json': [{'src-switch': str, 'dst-switch': str}],
}

# floodlight-webui as of commit c9287cb (May 2016), the last that reads Floodlight 1.2's shapes: later commits
# follow Floodlight's master branch ({"devices": [...]} from /wm/device/, snake_case statistics), which no
# release of Floodlight served (docs/compatibility.md)
WEBUI = {
    # index.html
    '/wm/core/role/json': {'role': str},
    '/wm/core/system/uptime/json': {'systemUptimeMsec': int},
    '/wm/core/health/json': {'healthy': bool},
    '/wm/core/controller/summary/json': {'# Switches': int, '# hosts': int, '# inter-switch links': int,
                                         '# quarantine ports': int},
    '/wm/core/memory/json': {'total': int, 'free': int},
    '/wm/core/storage/tables/json': [str],
    '/wm/core/module/loaded/json': dict,
    '/wm/core/module/all/json': dict,
    # switches.html
    '/wm/core/controller/switches/json': [{'switchDPID': str, 'inetAddress': str, 'connectedSince': int}],
    '/wm/core/switch/all/role/json': {SWITCH_A: str, SWITCH_B: str},
    # switchDetail.html?macAddress=<dpid>; its group table asks every switch's group-features: any status but 2xx
    # is an alert box (an OpenFlow 1.0 switch has none: {"<dpid>": []})
    '/wm/core/switch/all/group-features/json': {SWITCH_A: list, SWITCH_B: list},
    SWITCH_DETAIL + 'features/json': {'version': str, 'buffers': NUMBER, 'tables': NUMBER, 'dpid': str},
    SWITCH_DETAIL + 'desc/json': {'desc': {'version': str, 'hardwareDescription': str,
                                           'manufacturerDescription': str, 'softwareDescription': str,
                                           'serialNumber': str, 'datapathDescription': str}},
    SWITCH_DETAIL + 'aggregate/json': {'aggregate': {'version': str, 'flowCount': NUMBER, 'packetCount': NUMBER,
                                                     'byteCount': NUMBER, 'flags': NUMBER}},
    SWITCH_DETAIL + 'port/json': {'port_reply': [{'port': [{
        'portNumber': NUMBER, 'receivePackets': NUMBER, 'transmitPackets': NUMBER, 'receiveBytes': NUMBER,
        'transmitBytes': NUMBER, 'receiveDropped': NUMBER, 'transmitDropped': NUMBER, 'collisions': NUMBER}]}]},
    SWITCH_DETAIL + 'flow/json': {'flows': [{'tableId': str, 'packetCount': NUMBER, 'byteCount': NUMBER,
                                             'durationSeconds': NUMBER, 'priority': NUMBER,
                                             'idleTimeoutSec': NUMBER, 'hardTimeoutSec': NUMBER}]},
    SWITCH_DETAIL + 'table/json': {'table': list},
    SWITCH_DETAIL + 'role/json': {SWITCH_A: str},
    # hosts.html, topology.html
    '/wm/device/': [{'mac': list, 'ipv4': list, 'ipv6': list, 'attachmentPoint': [{'switchDPID': str, 'port': int}],
                     'lastSeen': int}],
    # links.html, topology.html
    '/wm/topology/links/json': [{'direction': str, 'src-port': int, 'src-switch': str, 'dst-port': int,
                                 'dst-switch': str, 'type': str}],
    '/wm/topology/external-links/json': list,
    # firewall.html: data["result"] == "firewall disabled", data["subnet-mask"], the rule table
    '/wm/firewall/module/status/json': {'result': str},
    '/wm/firewall/module/subnet-mask/json': {'subnet-mask': str},
    '/wm/firewall/rules/json': list,
    # acl.html
    '/wm/acl/rules/json': list,
}


def with_static_flow(controller):
    status, text, _ = controller.post('/wm/staticflowpusher/json', '{"switch":"%s","name":"ui-flow","priority":"100",'
                                      '"in_port":"1","actions":"output=3"}' % SWITCH_A)
    assert status == 200, text


def test_floodlight_1_2_web_ui_pages_read_their_keys(start_controller, connect_peer):
    controller = start_controller(FAST)
    two_switches(controller, connect_peer)
    with_static_flow(controller)
    for url, shape in UI_1_2.items():
        assert_shape(get_json(controller, url), shape, url)


def test_floodlight_webui_cross_origin_with_its_cache_buster(start_controller, connect_peer):
    controller = start_controller(FAST + ('--rest-cors-origins', UI_ORIGIN))
    a, _ = two_switches(controller, connect_peer)
    a.port_counters = {1: (10, 20), 3: (30, 40)}
    with_static_flow(controller)
    for url, shape in WEBUI.items():
        # jQuery's cache: false adds ?_=<ms>; the browser sends the page's Origin and reads nothing without
        # Access-Control-Allow-Origin naming it
        status, text, headers = controller.request('GET', url + '?_=1796440073563', headers={'Origin': UI_ORIGIN})
        assert status == 200, (url, status, text)
        assert headers.get('Access-Control-Allow-Origin') == UI_ORIGIN, (url, headers)
        assert_shape(get_json(controller, url), shape, url)
    # a JSON POST (the role change, the flow pusher, firewall rules) is preceded by a preflight; no token is
    # configured, so the POST itself answers as it would same-origin
    status, _, headers = controller.request('OPTIONS', '/wm/firewall/rules/json', headers={
        'Origin': UI_ORIGIN, 'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type'})
    assert status == 204 and 'POST' in headers['Access-Control-Allow-Methods']
    assert 'content-type' in headers['Access-Control-Allow-Headers'].lower()
    assert headers['Access-Control-Allow-Origin'] == UI_ORIGIN
    status, text, headers = controller.request('PUT', '/wm/statistics/config/enable/json', '',
                                               headers={'Origin': UI_ORIGIN})
    assert status == 200 and headers['Access-Control-Allow-Origin'] == UI_ORIGIN, text
    # flowPusher.html's push and delete (the server's own path for pushes, not WSGI)
    entry = '{"switch":"%s","name":"ui-push","priority":"7","in_port":"2","actions":"output=3"}' % SWITCH_B
    for method, body in (('POST', entry), ('DELETE', '{"name":"ui-push"}')):
        status, text, headers = controller.request(method, '/wm/staticflowpusher/json', body, headers={
            'Origin': UI_ORIGIN, 'Content-Type': 'application/json'})
        assert status == 200 and headers['Access-Control-Allow-Origin'] == UI_ORIGIN, (method, text)
    # a page of another origin gets nothing it could read
    status, _, headers = controller.request('GET', '/wm/core/health/json', headers={'Origin': 'http://other:1'})
    assert status == 200 and 'Access-Control-Allow-Origin' not in headers
    status, _, _ = controller.request('OPTIONS', '/wm/core/role/json', headers={
        'Origin': 'http://other:1', 'Access-Control-Request-Method': 'POST'})
    assert status == 403


def test_cross_origin_calls_still_need_the_token(start_controller, tmp_path):
    token = tmp_path / 'token'
    token.write_text('s3cret\n')
    controller = start_controller(('--rest-cors-origins', UI_ORIGIN, '--rest-token-file', str(token)))
    # the preflight carries no credentials: answered before the token check
    status, _, headers = controller.request('OPTIONS', '/wm/core/memory/json', headers={
        'Origin': UI_ORIGIN, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization'})
    assert status == 204 and 'Authorization' in headers['Access-Control-Allow-Headers']
    # the refusal is readable by the page (it can say why), the call with the token answers
    status, text, headers = controller.request('GET', '/wm/core/memory/json', headers={'Origin': UI_ORIGIN})
    assert status == 401 and headers['Access-Control-Allow-Origin'] == UI_ORIGIN, text
    status, text, headers = controller.request('GET', '/wm/core/memory/json', headers={
        'Origin': UI_ORIGIN, 'Authorization': 'Bearer s3cret'})
    assert status == 200 and headers['Access-Control-Allow-Origin'] == UI_ORIGIN, text


# Floodlight v0.91's web UI: the same pages, reading 0.9x shapes (it needs --floodlight-api 0.9).
UI_0_91 = {
    '/wm/core/controller/switches/json': [{'dpid': str, 'inetAddress': str, 'connectedSince': int}],
    '/wm/device/': [{'mac': [str], 'ipv4': list, 'attachmentPoint': [{'switchDPID': str, 'port': int}],
                     'lastSeen': int}],
    '/wm/topology/links/json': [{'src-switch': str, 'dst-switch': str}],
    '/wm/core/health/json': {'healthy': bool},
    '/wm/core/system/uptime/json': {'systemUptimeMsec': int},
    '/wm/core/memory/json': {'free': int, 'total': int},
    '/wm/core/module/loaded/json': dict,
}
# switchmodel.js of v0.91: every per-switch statistic keyed by the DPID, as 0.91 answered
UI_0_91_SWITCH = {
    SWITCH_DETAIL + 'desc/json': {SWITCH_A: [{'manufacturerDescription': str, 'hardwareDescription': str,
                                              'softwareDescription': str, 'serialNumber': str}]},
    SWITCH_DETAIL + 'aggregate/json': {SWITCH_A: [{'flowCount': int, 'packetCount': int, 'byteCount': int}]},
    SWITCH_DETAIL + 'port/json': {SWITCH_A: [{'portNumber': int, 'transmitBytes': int, 'receiveBytes': int,
                                              'transmitPackets': int, 'receivePackets': int,
                                              'receiveDropped': int, 'transmitDropped': int}]},
    SWITCH_DETAIL + 'features/json': {SWITCH_A: {'ports': [{'portNumber': int, 'name': str, 'state': int,
                                                            'currentFeatures': int}]}},
    SWITCH_DETAIL + 'flow/json': {SWITCH_A: [{'match': {'wildcards': int, 'inputPort': int}, 'actions': [{'type': str}],
                                              'cookie': int, 'priority': int, 'packetCount': int, 'byteCount': int,
                                              'durationSeconds': int, 'idleTimeout': int}]},
}


def test_floodlight_0_91_web_ui_lists_read_their_keys(start_controller, connect_peer):
    controller = start_controller(FAST + ('--floodlight-api', '0.9'))
    two_switches(controller, connect_peer)
    for url, shape in UI_0_91.items():
        assert_shape(get_json(controller, url), shape, url)


def test_floodlight_0_91_web_ui_switch_page_reads_0_9_statistics(start_controller, connect_peer):
    controller = start_controller(FAST + ('--floodlight-api', '0.9'))
    a, _ = two_switches(controller, connect_peer)
    a.port_counters = {1: (10, 20), 3: (30, 40)}
    with_static_flow(controller)
    for url, shape in UI_0_91_SWITCH.items():
        assert_shape(get_json(controller, url), shape, url)
