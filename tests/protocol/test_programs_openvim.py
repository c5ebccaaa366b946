"""What OpenVIM's Floodlight connector (openvim floodlight.py, class OF_conn, driven by its `openflow` command)
relies on. It was written for Floodlight 0.90 (its install script fetches v0.90) and guesses the generation:

- get_of_switches(): GET /wm/core/controller/switches/json; `dpid` and `inetAddress` in the first switch -> 0.9,
  else `switchDPID` and `inetAddress` -> 1.X; then it lists (switch[dpid key], switch['inetAddress']).
- obtain_port_correspondence(): the same list; 0.9 (already guessed, or `dpid` and `ports` in it) reads
  switch['ports'][i]['name'] and ['portNumber']; 1.X reads GET /wm/core/switch/<dpid>/port-desc/json ->
  'portDesc' list with 'name' and 'portNumber'.
- new_flow(): POST /wm/staticflowentrypusher/json (0.9; JSON body, Content-Type application/json) with active,
  name, priority, switch, ingress-port, dst-mac, vlan-id, actions "strip-vlan,output=N" or "set-vlan-id=V,..."
- get_of_rules(): GET /wm/staticflowentrypusher/list/<dpid>/json -> {dpid: {name: {priority, match: {inputPort,
  dataLayerDestination, dataLayerVirtualLan}, actions: [{type: OUTPUT, port} | {type: STRIP_VLAN} |
  {type: SET_VLAN_ID, virtualLanIdentifier}]}}} (its 1.X branch iterates 1.2's list of objects as a dict and
  fails against Floodlight 1.2 itself: not served here either)
- del_flow(): DELETE /wm/staticflowentrypusher/json {"switch","name"} -> 200; clear_all_flows():
  GET /wm/staticflowentrypusher/clear/<dpid>/json -> any 2xx.
Any other status is an error to it.
"""
import json

import pytest

from tests.protocol.programs import FAST, SWITCH_B, assert_shape, get_json, two_switches

pytestmark = pytest.mark.protocol

JSON_HEADERS = {'content-type': 'application/json', 'Accept': 'application/json'}  # OF_conn.headers
FAMILY = '/wm/staticflowentrypusher'


def request(controller, method, path, body=None):
    return controller.request(method, path, body, headers=JSON_HEADERS)


def test_openvim_guesses_0_9_and_finds_its_switches(start_controller, connect_peer):
    controller = start_controller(FAST)
    two_switches(controller, connect_peer)
    switches = get_json(controller, '/wm/core/controller/switches/json')
    # get_of_switches: the generation guess, then (dpid, inetAddress) per switch
    assert 'dpid' in switches[0] and 'inetAddress' in switches[0]
    assert_shape(switches, [{'dpid': str, 'inetAddress': str}])
    # the 1.X branch of obtain_port_correspondence (taken by a client that already guessed 1.X): port-desc names
    desc = get_json(controller, '/wm/core/switch/%s/port-desc/json' % SWITCH_B)
    assert_shape(desc, {'portDesc': [{'name': str, 'portNumber': (str, int)}]})
    assert sorted(int(port['portNumber']) for port in desc['portDesc']) == [1, 2, 3]


def test_openvim_reads_port_names_from_the_switch_list(start_controller, connect_peer):
    controller = start_controller(FAST)
    two_switches(controller, connect_peer)
    switches = get_json(controller, '/wm/core/controller/switches/json')
    # obtain_port_correspondence after the 0.9 guess: pp2ofi[name] = str(portNumber), ofi2pp[portNumber] = name,
    # where portNumber is compared with the list's match.inputPort and OUTPUT port: numbers
    assert_shape(switches, [{'dpid': str, 'ports': [{'name': str, 'portNumber': int}]}])


def test_openvim_pushes_lists_and_deletes_0_9_entries(start_controller, connect_peer):
    controller = start_controller(FAST)
    two_switches(controller, connect_peer)
    strip = {'active': 'true', 'name': 'ovim-strip', 'priority': '1000', 'vlan-id': 100,
             'dst-mac': '02:00:00:00:0a:01', 'switch': SWITCH_B, 'ingress-port': '2', 'actions': 'strip-vlan,output=3'}
    tag = {'active': 'true', 'name': 'ovim-tag', 'priority': '1001', 'switch': SWITCH_B, 'ingress-port': '3',
           'actions': 'set-vlan-id=5,output=2'}
    for body in (strip, tag):
        status, text, _ = request(controller, 'POST', FAMILY + '/json', json.dumps(body))
        assert status == 200, text

    listed = get_json(controller, FAMILY + '/list/%s/json' % SWITCH_B)
    rule = {'priority': int, 'match': {'inputPort': int, 'dataLayerDestination': str, 'dataLayerVirtualLan': int},
            'actions': [{'type': str}]}
    assert_shape(listed, {SWITCH_B: {'ovim-strip': rule, 'ovim-tag': rule}})
    rules = listed[SWITCH_B]
    assert int(rules['ovim-strip']['priority']) == 1000
    assert rules['ovim-strip']['match']['inputPort'] == 2
    assert rules['ovim-strip']['match']['dataLayerDestination'] == '02:00:00:00:0a:01'
    assert rules['ovim-strip']['match']['dataLayerVirtualLan'] == 100
    assert [(a['type'], a.get('port')) for a in rules['ovim-strip']['actions']] == [('STRIP_VLAN', None),
                                                                                   ('OUTPUT', 3)]
    # "no destination MAC" and "no VLAN" as OpenVIM tests for them
    assert rules['ovim-tag']['match']['dataLayerDestination'] == '00:00:00:00:00:00'
    assert rules['ovim-tag']['match']['dataLayerVirtualLan'] == -1
    assert [(a['type'], a.get('virtualLanIdentifier', a.get('port'))) for a in rules['ovim-tag']['actions']] == [
        ('SET_VLAN_ID', 5), ('OUTPUT', 2)]

    status, text, _ = request(controller, 'DELETE', FAMILY + '/json',
                              '{"switch":"%s","name":"%s"}' % (SWITCH_B, 'ovim-strip'))
    assert status == 200, text
    assert list(get_json(controller, FAMILY + '/list/%s/json' % SWITCH_B)[SWITCH_B]) == ['ovim-tag']
    status, text, _ = controller.get(FAMILY + '/clear/%s/json' % SWITCH_B)  # requests.get, no headers
    assert 200 <= status < 300, text
    assert not get_json(controller, FAMILY + '/list/%s/json' % SWITCH_B).get(SWITCH_B)
