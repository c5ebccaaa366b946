"""Floodlight 1.2's ACL (/wm/acl/...) against a real controller and emulated OpenFlow 1.0 switches: hosts are
learned from packet-ins, and a DENY rule's drop flow arrives on the switch of the host it covers."""
import json
import struct

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.lib.controller import wait_for
from tests.protocol.helpers import colon_dpid, delete, list_entries, push_ok
from tests.protocol.test_golden_replay import CAPTURES, parse_capture

pytestmark = pytest.mark.protocol

SW1, SW2 = 1, 2
RULES_URL = '/wm/acl/rules/json'
CLEAR_URL = '/wm/acl/clear/json'
H1_MAC = bytes.fromhex('000000000001')
H2_MAC = bytes.fromhex('000000000002')
STATIC_COOKIE_BASE = 10 << 52
FAST = ('--port-quarantine', '0.2')


def arp(src_mac, sender_ip):
    body = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + src_mac + bytes(sender_ip) + bytes(6) + bytes((10, 0, 0, 99))
    return b'\xff' * 6 + src_mac + b'\x08\x06' + body


def host_appears(controller, peer, port, mac, ip):
    """A host sends an ARP on peer:port; until the controller lists it among its devices."""
    peer.send_packet_in(port, arp(mac, ip))
    address = '.'.join(map(str, ip))

    def listed():
        status, text, _ = controller.get('/wm/device/')
        return status == 200 and address in text
    wait_for(listed, 5.0, what='host %s learned' % address)


def acl(controller, method, body=None, url=RULES_URL):
    status, text, headers = controller.request(method, url, None if body is None else json.dumps(body))
    return status, text


def drop_flows(peer, since=0, command=ofp.OFPFC_ADD):
    return [m for m in peer.flow_mods(since, command=command) if m.cookie & (0xfff << 52) == STATIC_COOKIE_BASE]


def wait_flow_mods(peer, count, since=0, command=ofp.OFPFC_ADD, timeout=5.0):
    return wait_for(lambda: len(drop_flows(peer, since, command)) >= count and drop_flows(peer, since, command),
                    timeout, what='%d ACL flow-mods (command %d)' % (count, command))


def ipv4(text):
    return struct.unpack('!I', bytes(int(part) for part in text.split('.')))[0]


def test_floodlight_captures_replayed_with_the_same_answers_and_flows(start_controller, connect_peer):
    """Floodlight 1.2's recorded ACL requests (hosts 10.0.0.1 on s1:1, 10.0.0.2 on s2:1): the same status and
    bodies, and the same drop flows on s1 (cookie, priority 30000 then 29999, match), deleted strictly."""
    controller = start_controller(FAST)
    s1 = connect_peer(controller, SW1)
    s2 = connect_peer(controller, SW2)
    host_appears(controller, s1, 1, H1_MAC, (10, 0, 0, 1))
    host_appears(controller, s2, 1, H2_MAC, (10, 0, 0, 2))
    mark1, mark2 = s1.mark(), s2.mark()
    for name in ('065_acl_add', '066_acl_add_bad', '067_acl_list', '068_acl_del', '069_acl_clear'):
        method, url, body, status, headers, expected = parse_capture(CAPTURES / 'v1.2' / (name + '.txt'))
        got_status, got_body, got_headers = controller.request(method, url, body)
        assert (got_status, got_body) == (status, expected), name
        if expected:
            assert got_headers['Content-Type'] == headers['content-type'], name
        if name == '066_acl_add_bad':
            added = wait_flow_mods(s1, 2, mark1)
    first, second = added
    assert (first.cookie, first.priority, second.cookie, second.priority) == (
        0xa00000c499d175, 30000, 0xa00000630ed4d6, 29999)
    assert first.actions == [] and second.actions == []
    assert (first.match.dl_type, first.match.nw_src, first.match.nw_dst) == (0x0800, ipv4('10.0.0.1'),
                                                                              ipv4('10.0.0.2'))
    assert first.match.wildcards == 0x3000ef and second.match.wildcards == 0x3fc0ef
    deleted = wait_flow_mods(s1, 2, mark1, ofp.OFPFC_DELETE_STRICT)
    assert [m.cookie for m in deleted] == [first.cookie, second.cookie]
    assert drop_flows(s2, mark2) == []  # the rule's source host is on s1 only
    assert json.loads(acl(controller, 'GET')[1]) == []
    assert not any(name.startswith('ACLRule_') for items in list_entries(controller).values()
                   for item in items for name in item)


def test_a_host_seen_later_gets_the_drop_flow_on_its_switch(start_controller, connect_peer):
    controller = start_controller(FAST)
    s1 = connect_peer(controller, SW1)
    s2 = connect_peer(controller, SW2)
    assert acl(controller, 'POST', {'src-ip': '10.0.7.0/24', 'nw-proto': 'TCP', 'tp-dst': '80',
                                    'action': 'deny'}) == (200, '{"status" : "Success! New rule added."}')
    mark1, mark2 = s1.mark(), s2.mark()
    host_appears(controller, s2, 3, H2_MAC, (10, 0, 7, 9))
    (flow,) = wait_flow_mods(s2, 1, mark2)
    assert (flow.priority, flow.actions) == (30000, [])
    match = flow.match
    assert (match.dl_type, match.nw_proto, match.tp_dst, match.nw_src) == (0x0800, 6, 80, ipv4('10.0.7.0'))
    assert (match.wildcards >> ofp.OFPFW_NW_SRC_SHIFT) & 0x3f == 8  # a /24
    assert drop_flows(s1, mark1) == []
    # listed as a static entry of s2, under Floodlight's ACL name
    assert 'ACLRule_1_%s' % colon_dpid(SW2) in [name for item in list_entries(controller)[colon_dpid(SW2)]
                                                  for name in item]
    assert acl(controller, 'DELETE', {'ruleid': 1}) == (200, '{"status" : "Success! Rule deleted"}')
    (removed,) = wait_flow_mods(s2, 1, mark2, ofp.OFPFC_DELETE_STRICT)
    assert removed.cookie == flow.cookie


def test_allow_exception_goes_above_the_drop_flow(start_controller, connect_peer):
    controller = start_controller(FAST)
    s1 = connect_peer(controller, SW1)
    host_appears(controller, s1, 1, H1_MAC, (10, 0, 0, 1))
    mark = s1.mark()
    assert acl(controller, 'POST', {'src-ip': '10.0.0.1/32', 'dst-ip': '10.0.0.2/32', 'action': 'allow'})[0] == 200
    assert acl(controller, 'POST', {'src-ip': '10.0.0.0/24', 'action': 'deny'})[0] == 200
    allow, deny = wait_flow_mods(s1, 2, mark)
    assert (allow.priority, deny.priority) == (30000, 29999)
    assert [a.port for a in allow.actions] == [ofp.OFPP_CONTROLLER] and deny.actions == []
    # a deny inside the allow's scope would never take effect: refused, nothing changes
    status, text = acl(controller, 'POST', {'src-ip': '10.0.0.1/32', 'dst-ip': '10.0.0.2/32', 'action': 'deny'})
    assert status == 409 and 'rule 1' in json.loads(text)['reason']
    assert [rule['id'] for rule in json.loads(acl(controller, 'GET')[1])] == [1, 2]


@pytest.mark.parametrize('body, key', [
    ({'dst-ip': '10.0.0.1'}, 'dst-ip'),                         # no mask bits
    ({'src-ip': '10.0.0.300/32'}, 'src-ip'),
    ({'src-ip': '10.0.0.1/33'}, 'src-ip'),
    ({'src-ip': '10.0.0.1/32', 'nw-proto': 'SCTPX'}, 'nw-proto'),
    ({'src-ip': '10.0.0.1/32', 'tp-dst': '80'}, 'tp-dst'),       # Floodlight dropped the port silently
    ({'src-ip': '10.0.0.1/32', 'action': 'reject'}, 'action'),
    ({'src-ip': '10.0.0.1/32', 'priority': '5'}, 'priority'),
    ({'src-ip': ['10.0.0.1/32']}, 'src-ip'),
    ({'action': 'deny'}, None),
])
def test_bad_rules_get_400_with_a_reason_and_change_nothing(controller, body, key):
    status, text = acl(controller, 'POST', body)
    assert status == 400, text
    reply = json.loads(text)
    assert reply['reason'] and reply.get('key') == key
    assert acl(controller, 'GET') == (200, '[]')


def test_bad_deletes_and_bodies(controller):
    assert acl(controller, 'DELETE', {'ruleid': 7})[0] == 404
    assert acl(controller, 'DELETE', {'ruleid': 'x'})[0] == 400
    assert acl(controller, 'DELETE', {})[0] == 400
    assert controller.request('POST', RULES_URL, '{not json')[0] == 400
    assert controller.request('PUT', RULES_URL, '{}')[0] == 405


def test_rules_and_their_flows_survive_a_restart(start_controller, connect_peer, tmp_path):
    db = str(tmp_path / 'acl.sqlite3')
    controller = start_controller(FAST, db_path=db)
    s1 = connect_peer(controller, SW1)
    host_appears(controller, s1, 1, H1_MAC, (10, 0, 0, 1))
    assert acl(controller, 'POST', {'src-ip': '10.0.0.1/32', 'nw-proto': 'icmp'})[0] == 200
    wait_flow_mods(s1, 1)
    rules = acl(controller, 'GET')[1]
    s1.close()
    controller.stop()

    again = start_controller(FAST, db_path=db)
    assert acl(again, 'GET') == (200, rules)
    s1 = connect_peer(again, SW1, wait=None)
    (flow,) = wait_flow_mods(s1, 1)  # installed at connect from the store, no host learned yet
    assert (flow.priority, flow.match.nw_proto, flow.match.nw_src) == (30000, 1, ipv4('10.0.0.1'))
    # numbering goes on after the restart; a clear starts it (and the priorities) again
    assert acl(again, 'POST', {'dst-ip': '10.9.0.0/16'})[0] == 200
    assert [r['id'] for r in json.loads(acl(again, 'GET')[1])] == [1, 2]
    mark = s1.mark()
    assert acl(again, 'GET', url=CLEAR_URL) == (204, '')
    wait_flow_mods(s1, 1, mark, ofp.OFPFC_DELETE_STRICT)
    host_appears(again, s1, 1, H1_MAC, (10, 0, 0, 1))
    mark = s1.mark()
    assert acl(again, 'POST', {'src-ip': '10.0.0.0/8'})[0] == 200
    (flow,) = wait_flow_mods(s1, 1, mark)
    assert flow.priority == 30000
    assert [r['id'] for r in json.loads(acl(again, 'GET')[1])] == [1]


def test_an_entry_that_cannot_be_pushed_is_a_health_fault_until_it_is(start_controller, connect_peer):
    """A user's static entry with the drop flow's match and priority (OpenFlow 1.0 keeps one flow for both): the
    ACL's push is refused (409 inside), health says so, and the entry goes in once the user's is deleted."""
    controller = start_controller(FAST)
    s1 = connect_peer(controller, SW1)
    host_appears(controller, s1, 1, H1_MAC, (10, 0, 0, 1))
    push_ok(controller, {'switch': colon_dpid(SW1), 'name': 'mine', 'priority': '30000', 'eth_type': '0x0800',
                         'ipv4_src': '10.0.0.1/32', 'actions': 'output=2'})
    assert acl(controller, 'POST', {'src-ip': '10.0.0.1/32'})[0] == 200

    def health():
        status, text, _ = controller.get('/wm/core/health/json')
        return status, json.loads(text)
    status, body = wait_for(lambda: health()[0] == 503 and health(), 5.0, what='health 503')
    assert 'ACLRule_1_%s not pushed' % colon_dpid(SW1) in json.dumps(body)
    mark = s1.mark()
    assert delete(controller, 'mine')[0] == 200
    (flow,) = wait_flow_mods(s1, 1, mark)
    assert (flow.priority, flow.actions) == (30000, [])
    wait_for(lambda: health()[0] == 200, 5.0, what='health 200 again')
    assert 'ACL: ' in controller.log()
