"""The web UI (rest/ui.py, rest/ui_static/) in a real headless Chromium, against a controller with two scripted
switches joined by a link (their own LLDP delivered both ways) and two hosts (ARP packet-ins).

Every page loads with nothing in the browser's console, and shows what the REST API says: the switches, links and
hosts; a switch's sessions, ports with rates, flow table, entries with their status and timeline. Entries and rules
added through the forms are stored (read back over REST) and reach the switch; bad ones show the REST 400's reason
next to the field and store nothing. With a token set, the page asks for it once.

UI_SCREENSHOTS=<directory> saves a screenshot of each page there (docs/screenshots/ was made so).
"""
import http.client
import json
import os
import time

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from controller.lldp import parse_lldp
from tests.lib import browser as chromium
from tests.lib.browser import browser, chromium_session  # noqa: F401  (the fixtures)
from tests.lib.browser import (card_value, click, console_problems, entry_form_push, fill, graph, new_entry, open_page,
                               row_text, screenshot, text_of, wait_until)
from tests.lib.controller import wait_for
from tests.protocol.helpers import colon_dpid, list_entries, push_ok
from tests.protocol.test_security_rest import make_certificate
from tests.protocol.test_forwarding import DPID_A, DPID_B, FAST, H1, H2, arp, cable, get_json, lldp_outs

pytestmark = [
    pytest.mark.protocol,
    # CI installs chromium (Makefile APT_PACKAGES): there a missing browser fails the tests instead
    pytest.mark.skipif(bool(chromium.missing()) and not os.environ.get('CI'), reason=str(chromium.missing())),
]

DPID_C = 0xf0a0000000000003
A, B, C = colon_dpid(DPID_A), colon_dpid(DPID_B), colon_dpid(DPID_C)
MAC1, MAC2 = '02:00:00:00:0a:01', '02:00:00:00:0a:02'
REFUSED_PRIORITY = 999  # switch A answers a flow-mod at this priority with an EPERM error
SCREENSHOTS = os.environ.get('UI_SCREENSHOTS')


class Network:
    def __init__(self, controller, a, b):
        self.controller, self.a, self.b = controller, a, b


def refuse_some(flow_mod):
    return (ofp.OFPET_FLOW_MOD_FAILED, ofp.OFPFMFC_EPERM) if flow_mod.priority == REFUSED_PRIORITY else None


def build_network(controller, connect_peer):
    """Switches A and B, a link A:3 <-> B:3, host 1 on A:1 and host 2 on B:2, an installed entry and a refused one."""
    a = connect_peer(controller, DPID_A, reject_flow_mod=refuse_some)
    b = connect_peer(controller, DPID_B)
    cable(a, 3, b, 3)
    back = b.wait_for(lambda msgs: [m for m in lldp_outs(b).values() if parse_lldp(m) == (DPID_B, 3)],
                      what='the reverse LLDP')
    a.send_packet_in(3, back[-1])
    wait_for(lambda: [l for l in get_json(controller, '/wm/topology/links/json') if l['direction'] == 'bidirectional'],
             5, what='a bidirectional link')
    time.sleep(0.3)  # past the port quarantine: the hosts' ports may teach hosts now
    b.send_packet_in(2, arp(H2, (10, 0, 0, 2), (10, 0, 0, 1)))
    a.send_packet_in(1, arp(H1, (10, 0, 0, 1), (10, 0, 0, 2)))
    wait_for(lambda: len(get_json(controller, '/wm/device/')) == 2, 5, what='two hosts')
    a.port_counters = {1: (1000, 2000), 2: (0, 0), 3: (0, 0)}
    push_ok(controller, {'switch': A, 'name': 'web-1', 'priority': '100', 'in_port': '1', 'actions': 'output=2'})
    push_ok(controller, {'switch': A, 'name': 'refused-1', 'priority': str(REFUSED_PRIORITY), 'in_port': '2',
                         'actions': 'output=1'})
    wait_for(lambda: get_json(controller, '/wm/staticflowpusher/status/all/json')[A]['refused-1']['state'] == 'error',
             5, what='the refused entry in error')
    return Network(controller, a, b)


@pytest.fixture
def network(start_controller, connect_peer):
    return build_network(start_controller(FAST), connect_peer)


def test_every_page_shows_the_network_and_nothing_in_the_console(browser, network, connect_peer):  # noqa: F811
    controller, a = network.controller, network.a
    browser.get(controller.base_url + '/')
    wait_until(browser, lambda d: d.current_url.endswith('/ui/'), what='/ to redirect to /ui/')

    # Dashboard
    wait_until(browser, lambda d: card_value(d, 'card-switches') == '2', what='two switches on the dashboard')
    version = get_json(controller, '/wm/core/version/json')
    assert card_value(browser, 'card-version') == 'floodlight-ryu ' + version['version']
    assert card_value(browser, 'card-hosts') == '2'
    assert card_value(browser, 'card-links') == '2'  # the summary counts directed links
    assert card_value(browser, 'card-role') == 'MASTER'
    assert 'error 1' in text_of(browser, 'card-entries') and 'installed 1' in text_of(browser, 'card-entries')
    events = wait_until(browser, lambda d: 'refused by the switch' in text_of(d, 'events') and text_of(d, 'events'),
                        what='the entry error among the events')
    assert 'entry refused-1 refused by the switch: OFPET_FLOW_MOD_FAILED / OFPFMFC_EPERM' in events
    assert events.count('connected (primary)') == 2
    screenshot(browser, SCREENSHOTS, 'dashboard')

    # Topology: the graph, then a third switch appears without a reload
    open_page(browser, controller.base_url, 'topology')
    nodes = wait_until(browser, lambda d: sorted(graph(d, 'nodes().map(n => n.id())') or []) == sorted(
        [A, B, 'host:' + MAC1, 'host:' + MAC2]) and graph(d, 'nodes().map(n => n.id())'), what='the graph')
    assert len(nodes) == 4
    links = graph(browser, "edges().not('.attachment').map(e => [e.source().id(), e.target().id()])")
    assert [sorted(link) for link in links] == [[A, B]]
    attachments = graph(browser, "edges('.attachment').map(e => [e.source().id(), e.target().id(), e.data('label')])")
    assert sorted(attachments) == [['host:' + MAC1, A, '1'], ['host:' + MAC2, B, '2']]
    assert text_of(browser, 'topology-summary') == '2 switch(es), 1 link(s), 2 host(s)'
    screenshot(browser, SCREENSHOTS, 'topology')
    browser.execute_script('window.notReloaded = true')
    connect_peer(controller, DPID_C)
    wait_until(browser, lambda d: C in (graph(d, 'nodes().map(n => n.id())') or []), what='switch C in the graph')
    assert browser.execute_script('return window.notReloaded') is True

    # a click on switch A's node opens its detail
    from selenium.webdriver.common.action_chains import ActionChains
    container = browser.find_element('id', 'graph')
    size = container.size

    def a_in_view(driver):
        position = graph(driver, "getElementById('%s').renderedPosition()" % A)
        inside = 0 < position['x'] < size['width'] and 0 < position['y'] < size['height']
        return inside and (position['x'], position['y'])
    time.sleep(0.5)  # the layout of the graph with C has run
    x, y = wait_until(browser, a_in_view, what="switch A's node in view")
    ActionChains(browser).move_to_element_with_offset(container, int(x - size['width'] / 2),
                                                      int(y - size['height'] / 2)).click().perform()
    wait_until(browser, lambda d: d.current_url.endswith('#/switch/' + A), what='the click to open switch A')

    # Switch detail: sessions, ports and their rates, entries with status, flow table, timeline
    sessions = wait_until(browser, lambda d: 'connected' in text_of(d, 'sessions') and text_of(d, 'sessions'),
                          what='the sessions')
    assert 'primary' in sessions and 'master' in sessions and '127.0.0.1:%d' % a.local_address[1] in sessions
    wait_until(browser, lambda d: row_text(d, 'ports', 'data-port', '1'), what='port 1')
    a.port_counters = {1: (1000 + 10 ** 6, 2000), 2: (0, 0), 3: (0, 0)}  # a megabyte in about a poll or two
    wait_until(browser, lambda d: 'kbit/s' in row_text(d, 'ports', 'data-port', '1')
               or 'Mbit/s' in row_text(d, 'ports', 'data-port', '1'), what='a receive rate on port 1')
    assert 's1-eth1' in row_text(browser, 'ports', 'data-port', '1')
    assert 'installed' in row_text(browser, 'entries', 'data-entry', 'web-1')
    assert 'OFPET_FLOW_MOD_FAILED / OFPFMFC_EPERM' in row_text(browser, 'entries', 'data-entry', 'refused-1')
    wait_until(browser, lambda d: 'in_port=1' in text_of(d, 'flows'), what='the flow table')
    assert 'output=2' in text_of(browser, 'flows')
    assert 'connected' in text_of(browser, 'timeline') and 'role' in text_of(browser, 'timeline')
    assert 'ofpeer' in text_of(browser, 'switch-desc')
    screenshot(browser, SCREENSHOTS, 'switch')

    # Static entries, firewall, ACL, hosts
    open_page(browser, controller.base_url, 'entries')
    wait_until(browser, lambda d: 'installed' in row_text(d, 'entries', 'data-entry', 'web-1'), what='the entries')
    assert 'error' in row_text(browser, 'entries', 'data-entry', 'refused-1')
    screenshot(browser, SCREENSHOTS, 'entries')
    open_page(browser, controller.base_url, 'firewall')
    wait_until(browser, lambda d: 'firewall disabled' in text_of(d, 'firewall-status'), what='the firewall page')
    screenshot(browser, SCREENSHOTS, 'firewall')
    open_page(browser, controller.base_url, 'acl')
    wait_until(browser, lambda d: 'no rules' in text_of(d, 'acl-rules'), what='the ACL page')
    open_page(browser, controller.base_url, 'hosts')
    wait_until(browser, lambda d: row_text(d, 'hosts', 'data-mac', MAC2), what='the hosts')
    for mac, ip, switch, port in ((MAC1, '10.0.0.1', A, '1'), (MAC2, '10.0.0.2', B, '2')):
        cells = row_text(browser, 'hosts', 'data-mac', mac).split(' ')
        assert cells[:5] == [mac, ip, 'untagged', switch, port], cells
    screenshot(browser, SCREENSHOTS, 'hosts')

    assert console_problems(browser) == []


def test_a_switch_that_goes_is_shown_gone_without_a_reload(browser, network):  # noqa: F811
    controller = network.controller
    open_page(browser, controller.base_url, 'dashboard')
    wait_until(browser, lambda d: card_value(d, 'card-switches') == '2', what='two switches')
    network.b.close()
    events = wait_until(browser, lambda d: card_value(d, 'card-switches') == '1' and 'gone (primary)' in text_of(
        d, 'events') and text_of(d, 'events'), what='switch B gone on the dashboard')
    assert 'gone (primary): standalone: at ' in events  # OVS's default fail mode: when it will fail open
    open_page(browser, controller.base_url, 'topology')
    wait_until(browser, lambda d: graph(d, "getElementById('%s').hasClass('gone')" % B), what='B drawn as gone')
    open_page(browser, controller.base_url, 'switch/' + B)
    sessions = wait_until(browser, lambda d: 'disconnected' in text_of(d, 'sessions') and text_of(d, 'sessions'),
                          what="B's session ended")
    assert 'predicted at ' in sessions
    assert text_of(browser, 'ports') == 'not connected: no statistics'
    assert 'disconnected' in text_of(browser, 'timeline')
    assert console_problems(browser) == []


def test_a_long_list_draws_its_first_rows_and_the_filter_finds_the_others(browser, controller):  # noqa: F811
    for n in range(620):
        push_ok(controller, {'switch': A, 'name': 'bulk-%03d' % n, 'priority': str(n),
                             'eth_dst': '02:00:00:00:%02x:%02x' % (n >> 8, n & 0xff), 'actions': 'output=1'})
    open_page(browser, controller.base_url, 'entries')
    wait_until(browser, lambda d: 'the first 500 of 620 rows' in text_of(d, 'entries'), what='the first 500 rows')
    assert len(browser.find_elements('css selector', '#entries tr[data-entry]')) == 500
    fill(browser.find_element('css selector', 'input.filter'), 'bulk-61')
    wait_until(browser, lambda d: len(d.find_elements('css selector', '#entries tr[data-entry]')) == 10,
               what='the filtered rows')
    assert 'waiting' in row_text(browser, 'entries', 'data-entry', 'bulk-619')  # no switch: waiting
    assert console_problems(browser) == []


def stored(controller):
    """{name: listed entry} of every stored active entry (1.x listing)."""
    return {name: entry for entries in list_entries(controller).values() for item in entries
            for name, entry in item.items()}


def test_entry_form_stores_good_entries_and_shows_the_reason_for_a_bad_one(browser, network):  # noqa: F811
    controller, a = network.controller, network.a
    open_page(browser, controller.base_url, 'entries')
    wait_until(browser, lambda d: row_text(d, 'entries', 'data-entry', 'web-1'), what='the entries page')
    mark = a.mark()

    entry_form_push(browser, {'switch': A, 'name': 'form-1', 'priority': '200'}, [('in_port', '2')], 'output=3')
    wait_until(browser, lambda d: text_of(d, 'entry-done') == 'Entry pushed: form-1', what='the push to be answered')
    assert stored(controller)['form-1']['match'] == {'in_port': '2'}
    sent = a.wait_for(lambda msgs: [m for m in a.flow_mods(mark) if m.priority == 200], what='form-1 flow-mod')
    assert sent[0].match.in_port == 2 and [x.port for x in sent[0].actions] == [3]
    wait_until(browser, lambda d: 'installed' in row_text(d, 'entries', 'data-entry', 'form-1'),
               what='form-1 installed in the list')

    # the other dialect: 0.9x keys, pushed to /wm/staticflowentrypusher/json
    new_entry(browser)
    entry_form_push(browser, {'switch': A, 'name': 'form-v0', 'priority': '300', 'idle-timeout': '60'},
                    [('ingress-port', '1'), ('ether-type', '0x0800'), ('src-ip', '10.0.0.1')], 'output=2', '0.9x')
    wait_until(browser, lambda d: text_of(d, 'entry-done') == 'Entry pushed: form-v0', what='the 0.9x push')
    entry = stored(controller)['form-v0']
    assert entry['match'] == {'in_port': '1', 'eth_type': '0x0x800', 'ipv4_src': '10.0.0.1'}  # Floodlight's 0x0x
    assert entry['idleTimeoutSec'] == '60'
    wait_until(browser, lambda d: 'installed' in row_text(d, 'entries', 'data-entry', 'form-v0'), what='form-v0')
    assert 'in_port=1, eth_type=0x800, ipv4_src=10.0.0.1' in row_text(browser, 'entries', 'data-entry', 'form-v0')

    # bad: ip_proto without eth_type (the REST reason, next to that match field), and a priority out of range
    new_entry(browser)
    entry_form_push(browser, {'switch': A, 'name': 'form-bad'}, [('ip_proto', '6')], 'output=2')
    reason = 'ip_proto needs eth_type (ether-type) 0x0800 in the same entry'
    wait_until(browser, lambda d: reason in text_of(d, 'entry-error'), what='the reason of the 400')
    screenshot(browser, SCREENSHOTS, 'entry-refused')
    invalid = browser.find_elements('css selector', '#entry-form .invalid')
    assert [e.get_attribute('value') for e in invalid] == ['6']
    assert browser.find_element('css selector', '#entry-form .field-error').text == reason
    fill(browser.find_element('css selector', '#entry-form [data-key="priority"]'), '70000')
    fill(browser.find_element('css selector', '#entry-form .match-key'), 'in_port')
    browser.find_element('id', 'entry-submit').click()
    wait_until(browser, lambda d: 'priority' in text_of(d, 'entry-error') and '70000' in text_of(d, 'entry-error'),
               what='the priority refused')
    assert [e.get_attribute('data-key') for e in browser.find_elements('css selector', '#entry-form .invalid')] == [
        'priority']
    assert 'form-bad' not in stored(controller)
    assert 'form-bad' not in get_json(controller, '/wm/staticflowpusher/status/all/json').get(A, {})

    # edit: the form filled from the list, the name kept, the actions changed
    click(browser, '#entries tr[data-entry="form-1"] button.small:not(.danger)')
    name = browser.find_element('css selector', '#entry-form [data-key="name"]')
    assert name.get_attribute('value') == 'form-1' and name.get_attribute('readonly') is not None
    assert browser.find_element('css selector', '#entry-form .match-key').get_attribute('value') == 'in_port'
    fill(browser.find_element('css selector', '#entry-form [data-key="actions"]'), 'output=1')
    browser.find_element('id', 'entry-submit').click()
    wait_until(browser, lambda d: 'output=1' in row_text(d, 'entries', 'data-entry', 'form-1'), what='the edit')
    assert stored(controller)['form-1']['actions'] == {'actions': 'output=1'}
    assert stored(controller)['form-1']['priority'] == '200'

    # delete
    click(browser, '#entries tr[data-entry="form-v0"] button.danger')
    wait_until(browser, lambda d: not row_text(d, 'entries', 'data-entry', 'form-v0'), what='form-v0 gone')
    assert 'form-v0' not in stored(controller)

    # filter
    fill(browser.find_element('css selector', 'input.filter'), 'EPERM')
    wait_until(browser, lambda d: len(d.find_elements('css selector', '#entries tbody tr')) == 1, what='the filter')
    assert row_text(browser, 'entries', 'data-entry', 'refused-1')

    assert console_problems(browser, allowed_statuses=(400,)) == []


def submit_rule(driver, kind, fields):
    form = driver.find_element('id', kind + '-form')
    for key, text in fields.items():
        fill(form.find_element('css selector', '[data-key="%s"]' % key), text)
    driver.find_element('id', kind + '-submit').click()


def test_firewall_and_acl_forms(browser, network):  # noqa: F811
    controller = network.controller
    open_page(browser, controller.base_url, 'firewall')
    wait_until(browser, lambda d: 'no rules' in text_of(d, 'firewall-rules'), what='the firewall page')
    submit_rule(browser, 'firewall', {'src-ip': '10.0.0.1/32', 'nw-proto': 'TCP', 'tp-dst': '80', 'action': 'DENY'})
    wait_until(browser, lambda d: text_of(d, 'firewall-done') == 'Rule added', what='the firewall rule added')
    rules = get_json(controller, '/wm/firewall/rules/json')
    assert [(r['nw_src_prefix'], r['nw_src_maskbits'], r['nw_proto'], r['tp_dst']) for r in rules] == [
        ('10.0.0.1', 32, 6, 80)]
    wait_until(browser, lambda d: '10.0.0.1/32' in row_text(d, 'firewall-rules', 'data-rule', rules[0]['ruleid']),
               what='the rule listed')
    submit_rule(browser, 'firewall', {'src-ip': '10.0.0.1/32', 'nw-proto': 'TCP', 'tp-dst': '80', 'action': 'DENY',
                                      'tp-src': '99999'})
    wait_until(browser, lambda d: 'tp-src' in text_of(d, 'firewall-error'), what='the bad firewall rule refused')
    assert [e.get_attribute('data-key') for e in browser.find_elements('css selector', '#firewall-form .invalid')] == [
        'tp-src']
    assert len(get_json(controller, '/wm/firewall/rules/json')) == 1
    browser.find_element('id', 'firewall-enable').click()
    wait_until(browser, lambda d: 'firewall enabled' in text_of(d, 'firewall-status'), what='the firewall enabled')

    open_page(browser, controller.base_url, 'acl')
    wait_until(browser, lambda d: 'no rules' in text_of(d, 'acl-rules'), what='the ACL page')
    submit_rule(browser, 'acl', {'src-ip': '10.0.0.1/32', 'dst-ip': '10.0.0.2/32', 'action': 'deny'})
    wait_until(browser, lambda d: text_of(d, 'acl-done') == 'Rule added', what='the ACL rule added')
    assert [(r['nw_src'], r['nw_dst']) for r in get_json(controller, '/wm/acl/rules/json')] == [
        ('10.0.0.1/32', '10.0.0.2/32')]
    submit_rule(browser, 'acl', {'src-ip': '', 'dst-ip': '', 'action': 'deny'})
    wait_until(browser, lambda d: 'Either src-ip or dst-ip must be specified' in text_of(d, 'acl-error'),
               what='the bad ACL rule refused')
    # edit: the old rule is replaced by the new one
    wait_until(browser, lambda d: row_text(d, 'acl-rules', 'data-rule', '1'), what='rule 1 listed')
    click(browser, '#acl-rules tr[data-rule="1"] button.small:not(.danger)')
    assert browser.find_element('css selector', '#acl-form [data-key="src-ip"]').get_attribute('value') == \
        '10.0.0.1/32'
    submit_rule(browser, 'acl', {'dst-ip': '10.0.0.3/32'})
    wait_until(browser, lambda d: text_of(d, 'acl-done') == 'Rule replaced', what='the ACL rule replaced')
    assert [(r['nw_src'], r['nw_dst']) for r in get_json(controller, '/wm/acl/rules/json')] == [
        ('10.0.0.1/32', '10.0.0.3/32')]
    screenshot(browser, SCREENSHOTS, 'acl')
    # a rule deleted elsewhere between two polls: the refused delete's reason shows above the page
    status, text, _ = controller.request('DELETE', '/wm/acl/rules/json', '{"ruleid": "2"}')
    assert status == 200, text
    click(browser, '#acl-rules tr[data-rule="2"] button.danger')
    wait_until(browser, lambda d: text_of(d, 'action-error') == "404: a rule with this ID doesn't exist: 2",
               what='the refused delete shown')
    assert console_problems(browser, allowed_statuses=(400, 404)) == []


def raw_get(controller, path):
    """GET exactly `path` (no client-side dot-segment removal) -> (status, body)."""
    connection = http.client.HTTPConnection('127.0.0.1', controller.rest_port, timeout=10)
    try:
        connection.request('GET', path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_with_a_token_the_page_asks_for_it_once(browser, start_controller, connect_peer, tmp_path):  # noqa: F811
    token_file = tmp_path / 'rest-token'
    token_file.write_text('ui-s3cret\n')
    controller = start_controller(FAST + ('--rest-token-file', str(token_file)))
    connect_peer(controller, DPID_A)
    # the files need no token, the data does; a file path cannot reach the API
    assert raw_get(controller, '/ui/')[0] == 200 and raw_get(controller, '/ui/app.js')[0] == 200
    assert raw_get(controller, '/wm/core/version/json')[0] == 401
    status, body = raw_get(controller, '/ui/../wm/core/controller/switches/json')
    assert status == 404 and A.encode() not in body
    assert raw_get(controller, '/ui/%2e%2e/wm/core/controller/switches/json')[0] == 404

    browser.get(controller.base_url + '/ui/')
    dialog = wait_until(browser, lambda d: d.find_element('id', 'token-dialog').is_displayed()
                        and d.find_element('id', 'token-dialog'), what='the token dialog')
    assert 'needs its REST token' in dialog.text
    fill(browser.find_element('id', 'token-input'), 'wrong')
    browser.find_element('id', 'token-submit').click()
    wait_until(browser, lambda d: 'refused this token' in text_of(d, 'token-why')
               and d.find_element('id', 'token-dialog').is_displayed(), what='the wrong token refused')
    fill(browser.find_element('id', 'token-input'), 'ui-s3cret')
    browser.find_element('id', 'token-submit').click()
    wait_until(browser, lambda d: card_value(d, 'card-switches') == '1', what='the dashboard with the token')
    assert not browser.find_element('id', 'token-dialog').is_displayed()
    # once: other pages and a reload in this tab use it without asking
    for page in ('topology', 'entries', 'hosts'):
        open_page(browser, controller.base_url, page)
        time.sleep(0.5)
        assert not browser.find_element('id', 'token-dialog').is_displayed(), page
    browser.refresh()
    wait_until(browser, lambda d: 'no hosts learned yet' in text_of(d, 'hosts'), what='the hosts page after a reload')
    assert not browser.find_element('id', 'token-dialog').is_displayed()
    assert console_problems(browser, allowed_statuses=(401,)) == []


def test_over_https_the_page_and_its_calls_use_the_rest_certificate_and_token(start_controller, connect_peer,
                                                                              tmp_path):
    key, cert = make_certificate(str(tmp_path))
    token_file = tmp_path / 'rest-token'
    token_file.write_text('tls-token')
    controller = start_controller(FAST + ('--rest-cert', cert, '--rest-key', key, '--rest-token-file',
                                          str(token_file)))
    connect_peer(controller, DPID_A)
    driver = chromium.start_browser(accept_insecure_certs=True)  # the test's self-signed certificate
    try:
        base = 'https://127.0.0.1:%d' % controller.rest_port
        driver.get(base + '/')
        wait_until(driver, lambda d: d.current_url == base + '/ui/', what='the redirect over HTTPS')
        wait_until(driver, lambda d: d.find_element('id', 'token-dialog').is_displayed(), what='the token dialog')
        fill(driver.find_element('id', 'token-input'), 'tls-token')
        driver.find_element('id', 'token-submit').click()
        wait_until(driver, lambda d: card_value(d, 'card-switches') == '1', what='the dashboard over HTTPS')
        assert driver.execute_script('return window.isSecureContext') is True
        assert console_problems(driver, allowed_statuses=(401,)) == []
    finally:
        driver.quit()


def test_static_files_are_served_with_their_types_and_policy(controller):
    status, text, headers = controller.get('/ui/index.html')
    assert status == 200 and headers['Content-Type'] == 'text/html; charset=utf-8'
    assert "script-src 'self'" in headers['Content-Security-Policy']
    status, text, headers = controller.get('/ui/pages/topology.js')
    assert status == 200 and headers['Content-Type'] == 'text/javascript; charset=utf-8'
    status, text, headers = controller.get('/ui/vendor/cytoscape.LICENSE.txt')
    assert status == 200 and 'Cytoscape Consortium' in text
    status, text, headers = controller.get('/ui/no-such.js')
    assert status == 404 and json.loads(text)['reason'] == 'no such UI file: no-such.js'
    status, text, headers = controller.request('HEAD', '/ui/')
    assert status == 200 and text == '' and int(headers['Content-Length']) > 0
    status, text, headers = controller.request('POST', '/ui/', '{}')
    assert status == 405
