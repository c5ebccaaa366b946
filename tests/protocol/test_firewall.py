"""The firewall against a scripted OpenFlow 1.0 switch: REST answers, rules enforced on packet-ins, rules kept
across a restart."""
import json
import time

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.lib.controller import wait_for
from tests.protocol.test_forwarding import FAST, arp, get_json

pytestmark = pytest.mark.protocol

DPID = 0xf0a0000000000011
H1 = bytes.fromhex('020000000b01')
H2 = bytes.fromhex('020000000b02')
H3 = bytes.fromhex('020000000b03')
IPS = {H1: (10, 0, 0, 1), H2: (10, 0, 0, 2), H3: (10, 0, 0, 3)}


def icmp_frame(dst, src):
    """An IPv4 ICMP echo request from src to dst (20-byte IP header, 8-byte ICMP header)."""
    ip = bytes((0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0)) + bytes(IPS[src]) + bytes(IPS[dst])
    return dst + src + b'\x08\x00' + ip + bytes((8, 0, 0, 0, 0, 1, 0, 1))


def call(controller, method, path, body=None, expect=200):
    status, text, _headers = controller.request(method, path, body)
    assert status == expect, (method, path, status, text)
    return text


def answer_to(peer, frame, in_port):
    """Send a packet-in; -> (flow-mods, packet-outs) the controller answered with (up to an echo's reply)."""
    mark = peer.mark()
    peer.send_packet_in(in_port, frame)
    peer.echo()
    msgs = peer.received(since=mark)
    return ([m for m in msgs if m.msg_type == ofp.OFPT_FLOW_MOD],
            [m for m in msgs if m.msg_type == ofp.OFPT_PACKET_OUT])


def test_rules_decide_what_is_forwarded_and_survive_a_restart(start_controller, connect_peer, tmp_path):
    db = str(tmp_path / 'fw.sqlite3')
    controller = start_controller(FAST, db_path=db)
    peer = connect_peer(controller, DPID)
    assert call(controller, 'GET', '/wm/firewall/module/status/json') == '{"result" : "firewall disabled"}'
    assert get_json(controller, '/wm/firewall/rules/json') == []
    time.sleep(0.3)  # the port quarantine
    for port, host in ((1, H1), (2, H2), (3, H3)):
        peer.send_packet_in(port, arp(host, IPS[host], (10, 0, 0, 9)))
    wait_for(lambda: len(get_json(controller, '/wm/device/')) == 3, 5, what='three hosts learned')

    # disabled: plain L2 forwarding
    mods, outs = answer_to(peer, icmp_frame(H2, H1), 1)
    assert [(m.match.dl_src, m.match.dl_dst, [a.port for a in m.actions]) for m in mods] == [(H1, H2, [2])]

    # enabled: the L2 flow goes; with no rule every unicast is denied (a drop flow, nothing forwarded)
    mark = peer.mark()
    assert call(controller, 'PUT', '/wm/firewall/module/enable/json') == \
        '{"status" : "success", "details" : "firewall running"}'
    delete = peer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark)
    assert (delete.command, delete.match.dl_src, delete.match.dl_dst) == (ofp.OFPFC_DELETE_STRICT, H1, H2)
    assert call(controller, 'GET', '/wm/firewall/module/status/json') == '{"result" : "firewall enabled"}'
    mods, outs = answer_to(peer, icmp_frame(H3, H1), 1)
    assert outs == [] and [(m.command, m.actions, m.cookie, m.priority) for m in mods] == [
        (ofp.OFPFC_ADD, [], 2 << 52, 1)]
    assert mods[0].match.nw_proto == 1 and mods[0].match.dl_type == 0x0800
    # broadcast ARP is allowed without a rule (flooded)
    mods, outs = answer_to(peer, arp(H1, IPS[H1], IPS[H2]), 1)
    assert mods == [] and sorted(a.port for a in outs[0].actions) == [2, 3]

    # allow everything at priority 10, deny H1 -> H2 at priority 1 (looked at first)
    added = json.loads(call(controller, 'POST', '/wm/firewall/rules/json', '{"action": "ALLOW", "priority": "10"}'))
    assert added['status'] == 'Rule added' and int(added['rule-id'])
    deny = json.loads(call(controller, 'POST', '/wm/firewall/rules/json',
                           '{"src-mac": "02:00:00:00:0b:01", "dst-mac": "02:00:00:00:0b:02", "action": "deny", '
                           '"priority": 1}'))
    rules = get_json(controller, '/wm/firewall/rules/json')
    assert [(r['ruleid'], r['action'], r['priority']) for r in rules] == [
        (int(deny['rule-id']), 'DROP', 1), (int(added['rule-id']), 'ALLOW', 10)]
    call(controller, 'POST', '/wm/firewall/rules/json', '{"src-mac": "02:00:00:00:0b:01", "dst-mac": '
         '"02:00:00:00:0b:02", "action": "deny", "priority": 7}', expect=409)
    assert 'reason' in json.loads(call(controller, 'POST', '/wm/firewall/rules/json', '{bad json', expect=400))
    assert len(get_json(controller, '/wm/firewall/rules/json')) == 2

    mods, outs = answer_to(peer, icmp_frame(H2, H1), 1)
    assert outs == [] and [m.actions for m in mods] == [[]]  # denied: a drop flow
    mods, outs = answer_to(peer, icmp_frame(H3, H1), 1)
    assert [[a.port for a in m.actions] for m in mods] == [[3]] and [a.port for a in outs[0].actions] == [3]
    mods, outs = answer_to(peer, icmp_frame(H1, H2), 2)   # the other direction is not denied
    assert [[a.port for a in m.actions] for m in mods] == [[1]]

    # deleting the deny rule deletes the flows decided under it; H1 -> H2 is forwarded again
    mark = peer.mark()
    assert call(controller, 'DELETE', '/wm/firewall/rules/json', '{"ruleid": "%s"}' % deny['rule-id']) == \
        '{"status" : "Rule deleted"}'
    deleted = peer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark)
    assert deleted.command == ofp.OFPFC_DELETE_STRICT
    call(controller, 'DELETE', '/wm/firewall/rules/json', '{"ruleid": "%s"}' % deny['rule-id'], expect=404)
    mods, outs = answer_to(peer, icmp_frame(H2, H1), 1)
    assert [[a.port for a in m.actions] for m in mods] == [[2]] and outs

    # disabled again: back to L2 forwarding; the rule stays
    assert call(controller, 'PUT', '/wm/firewall/module/disable/json') == \
        '{"status" : "success", "details" : "firewall stopped"}'
    mods, outs = answer_to(peer, icmp_frame(H3, H2), 2)
    assert [(m.match.dl_src, m.match.dl_dst, m.match.dl_type) for m in mods] == [(H2, H3, 0)]

    # restart: the rule is read back from the store, the firewall starts disabled as Floodlight's
    controller.stop()
    controller = start_controller(FAST, db_path=db)
    assert call(controller, 'GET', '/wm/firewall/module/status/json') == '{"result" : "firewall disabled"}'
    assert [(r['ruleid'], r['action']) for r in get_json(controller, '/wm/firewall/rules/json')] == [
        (int(added['rule-id']), 'ALLOW')]
    stored = get_json(controller, '/wm/firewall/module/storageRules/json')
    assert stored[0]['ruleid'] == added['rule-id'] and stored[0]['action'] == '1'


def test_module_answers_and_bad_input(start_controller):
    controller = start_controller(FAST)
    # v0.91 clients enable with GET, v1.2 clients with PUT: both work
    assert call(controller, 'GET', '/wm/firewall/module/enable/json') == \
        '{"status" : "success", "details" : "firewall running"}'
    assert call(controller, 'GET', '/wm/firewall/module/subnet-mask/json') == '{"subnet-mask":"255.255.255.0"}'
    assert call(controller, 'POST', '/wm/firewall/module/subnet-mask/json', '{"subnet-mask": "255.255.0.0"}') == \
        '{"status" : "subnet mask set"}'
    assert call(controller, 'GET', '/wm/firewall/module/subnet-mask/json') == '{"subnet-mask":"255.255.0.0"}'
    for body in ('{"subnet-mask": "255.0.255.0"}', '{"mask": "255.0.0.0"}', 'nonsense'):
        call(controller, 'POST', '/wm/firewall/module/subnet-mask/json', body, expect=400)
    for body in ('{"action": "maybe"}', '{"src-ip": "10.0.0.300/32"}', '{"tp-dst": "80"}', '{"colour": "red"}',
                 '{"src-inport": "-5"}', '[]', ''):
        reply = json.loads(call(controller, 'POST', '/wm/firewall/rules/json', body, expect=400))
        assert reply['reason'], body
    assert get_json(controller, '/wm/firewall/rules/json') == []
    call(controller, 'DELETE', '/wm/firewall/rules/json', '{}', expect=400)
    call(controller, 'POST', '/wm/firewall/module/status/json', '{}', expect=405)


def test_floodlight_091_values(start_controller):
    controller = start_controller(FAST + ('--floodlight-api', '0.9'))
    assert call(controller, 'GET', '/wm/firewall/module/subnet-mask/json') == '255.255.255.0'
    call(controller, 'POST', '/wm/firewall/rules/json', '{"src-mac": "00:00:00:00:00:01", "action":"DENY", '
         '"priority":"5"}')
    rule, = get_json(controller, '/wm/firewall/rules/json')
    assert (rule['dpid'], rule['in_port'], rule['action'], rule['wildcard_dl_src'], rule['any_dpid']) == (
        'ff:ff:ff:ff:ff:ff:ff:ff', 0, 'DENY', False, True)
