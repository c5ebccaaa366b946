"""The firewall's pure parts: the rule key table, rule order, matching, the verdict, the flows, and the JSON
shapes against Floodlight's golden captures (tests/fixtures/floodlight/)."""
import json
import pathlib
from dataclasses import replace

import pytest

from controller import firewall, of10
from controller.firewall import ALLOW, DENY, FirewallState, Rule
from controller.forwarding import ForwardingState
from rest import firewall as fw_rest
from rest.floodlight import FlowValidationError

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / 'fixtures' / 'floodlight'
H1 = bytes.fromhex('020000000b01')
H2 = bytes.fromhex('020000000b02')


def capture(version, name):
    """(request body or None, reply body) of a golden capture."""
    lines = (FIXTURES / version / name).read_text().rstrip('\n').splitlines()
    body = next((line[len('>>> BODY: '):] for line in lines if line.startswith('>>> BODY: ')), None)
    return body, lines[-1]


def ipv4_frame(src, dst, src_ip, dst_ip, proto=1, ports=b''):
    ip = bytes((0x45, 0, 0, 20 + len(ports), 0, 0, 0, 0, 64, proto, 0, 0)) + bytes(src_ip) + bytes(dst_ip)
    return dst + src + b'\x08\x00' + ip + ports


def packet(frame):
    return firewall.packet_fields(frame, of10.OFP_VLAN_NONE, frame[12] << 8 | frame[13], 14)


# --- the key table ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('document,expected', [
    ({'switchid': '00:00:00:00:00:00:00:01', 'src-ip': '10.0.0.1/32', 'dst-ip': '10.0.0.2/32', 'nw-proto': 'ICMP',
      'action': 'ALLOW'},
     Rule(dpid=1, dl_type=0x0800, nw_src=(0x0a000001, 32), nw_dst=(0x0a000002, 32), nw_proto=1)),
    ({'src-mac': '00:00:00:00:00:01', 'action': 'DENY', 'priority': '5'},
     Rule(dl_src='00:00:00:00:00:01', priority=5, action=DENY)),
    ({'switchid': '-1', 'src-mac': 'ANY', 'dl-type': 'arp', 'action': 'drop'}, Rule(dl_type=0x0806, action=DENY)),
    ({'SRC-INPORT': 3, 'nw-proto': 'tcp', 'tp-dst': '80', 'tp-src': 0, 'action': 'accept'},
     Rule(in_port=3, dl_type=0x0800, nw_proto=6, tp_dst=80)),
    ({'src-ip': '10.1.2.3/8', 'priority': ''}, Rule(dl_type=0x0800, nw_src=(0x0a000000, 8))),
    ({}, Rule()),
])
def test_rule_keys(document, expected):
    assert fw_rest.parse_rule(document) == expected


@pytest.mark.parametrize('document,key', [
    ({'colour': 'red'}, 'colour'),
    ({'action': 'maybe'}, 'action'),
    ({'src-ip': '10.0.0.300'}, 'src-ip'),
    ({'src-mac': '00:00:00:00:01'}, 'src-mac'),
    ({'switchid': 'sw1'}, 'switchid'),
    ({'src-inport': '70000'}, 'src-inport'),
    ({'nw-proto': 'SCTP'}, 'nw-proto'),
    ({'dl-type': 'IPv6'}, 'dl-type'),
    ({'tp-dst': '80'}, 'tp-dst'),                        # Floodlight ignored a port without TCP/UDP
    ({'nw-proto': 'ICMP', 'tp-src': '8'}, 'tp-src'),
    ({'dl-type': 'ARP', 'src-ip': '10.0.0.1'}, 'dl-type'),
    ({'priority': [1]}, 'priority'),
    ({'priority': True}, 'priority'),
])
def test_bad_rule_names_its_key(document, key):
    with pytest.raises(FlowValidationError) as error:
        fw_rest.parse_rule(document)
    assert error.value.key == key


def test_delete_body_needs_a_ruleid():
    assert fw_rest.parse_rule_id({'ruleid': '-1489866928'}) == -1489866928
    with pytest.raises(FlowValidationError):
        fw_rest.parse_rule_id({'action': 'allow'})


def test_subnet_mask_body():
    assert fw_rest.parse_subnet_mask({'subnet-mask': '255.255.0.0'}) == 0xffff0000
    for document in ({'subnet-mask': '255.0.255.0'}, {'subnet-mask': 24}, {'mask': '255.0.0.0'}, {}):
        with pytest.raises(FlowValidationError):
            fw_rest.parse_subnet_mask(document)


# --- order, ids and duplicates ------------------------------------------------------------------------------

def test_rules_sorted_by_priority_new_rule_first_among_equals():
    fw = FirewallState()
    a = firewall.new_rule(fw, Rule(priority=5))
    firewall.insert_rule(fw, a)
    b = firewall.new_rule(fw, Rule(priority=1, action=DENY))
    firewall.insert_rule(fw, b)
    c = firewall.new_rule(fw, Rule(priority=5, dl_src='00:00:00:00:00:01'))
    firewall.insert_rule(fw, c)
    assert fw.rules == [b, c, a]  # as Floodlight's v1.2 capture 062: the later rule of equal priority first
    assert len({a.ruleid, b.ruleid, c.ruleid}) == 3 and all(0 < r.ruleid < 2 ** 31 for r in fw.rules)


def test_a_similar_rule_is_refused_whatever_its_priority():
    fw = FirewallState()
    firewall.insert_rule(fw, firewall.new_rule(fw, Rule(dl_src='00:00:00:00:00:01', action=DENY)))
    with pytest.raises(firewall.DuplicateRuleError):
        firewall.new_rule(fw, Rule(dl_src='00:00:00:00:00:01', action=DENY, priority=9))
    firewall.new_rule(fw, Rule(dl_src='00:00:00:00:00:01', action=ALLOW))  # another action: not similar


def test_rule_id_is_stable_and_avoids_taken_ids():
    rule = Rule(nw_proto=6, dl_type=0x0800)
    first = firewall.new_rule_id(rule, set())
    assert firewall.new_rule_id(rule, set()) == first
    assert firewall.new_rule_id(rule, {first}) != first


# --- matching and the verdict -------------------------------------------------------------------------------

ICMP_1_2 = packet(ipv4_frame(H1, H2, (10, 0, 0, 1), (10, 0, 0, 2)))
TCP_1_2 = packet(ipv4_frame(H1, H2, (10, 0, 0, 1), (10, 0, 0, 2), 6, bytes((0x30, 0x39, 0, 80))))
ARP_REPLY = firewall.Packet(H1, H2, of10.OFP_VLAN_NONE, 0x0806)


@pytest.mark.parametrize('rule,pkt,matches', [
    (Rule(), ICMP_1_2, True),
    (Rule(dpid=2), ICMP_1_2, False),
    (Rule(in_port=1), ICMP_1_2, True),
    (Rule(in_port=2), ICMP_1_2, False),
    (Rule(dl_src='02:00:00:00:0b:01', dl_dst='02:00:00:00:0b:02'), ICMP_1_2, True),
    (Rule(dl_dst='02:00:00:00:0b:01'), ICMP_1_2, False),
    (Rule(dl_type=0x0806), ICMP_1_2, False),
    (Rule(dl_type=0x0806), ARP_REPLY, True),
    (Rule(dl_type=0x0800), ARP_REPLY, False),
    (Rule(dl_type=0x0800, nw_src=(0x0a000000, 24)), ICMP_1_2, True),
    (Rule(dl_type=0x0800, nw_dst=(0x0a000100, 24)), ICMP_1_2, False),
    (Rule(dl_type=0x0800, nw_proto=1), ICMP_1_2, True),
    (Rule(dl_type=0x0800, nw_proto=6), ICMP_1_2, False),
    (Rule(dl_type=0x0800, nw_proto=6, tp_dst=80), TCP_1_2, True),
    (Rule(dl_type=0x0800, nw_proto=6, tp_dst=22), TCP_1_2, False),
    (Rule(dl_type=0x0800, nw_proto=6, tp_src=12345), TCP_1_2, True),
    (Rule(dl_type=0x0800, nw_proto=17), TCP_1_2, False),
])
def test_rule_matches(rule, pkt, matches):
    assert firewall.rule_matches(rule, 1, 1, pkt) is matches


def test_default_deny_first_match_wins_and_broadcasts():
    fw = FirewallState()
    assert firewall.verdict(fw, 1, 1, ICMP_1_2) == (False, None)  # no rule: denied
    allow_all = Rule(ruleid=1, priority=10)
    deny_icmp = Rule(ruleid=2, priority=1, dl_type=0x0800, nw_proto=1, action=DENY)
    firewall.insert_rule(fw, allow_all)
    firewall.insert_rule(fw, deny_icmp)
    assert firewall.verdict(fw, 1, 1, ICMP_1_2) == (False, deny_icmp)
    assert firewall.verdict(fw, 1, 1, TCP_1_2) == (True, allow_all)
    fw.rules = []
    bcast = firewall.Packet(H1, b'\xff' * 6, of10.OFP_VLAN_NONE, 0x0806)
    assert firewall.verdict(fw, 1, 1, bcast) == (True, None)  # broadcast ARP: allowed without rules
    to_bcast_ip = packet(ipv4_frame(H1, b'\xff' * 6, (10, 0, 0, 1), (10, 0, 0, 255)))
    assert firewall.verdict(fw, 1, 1, to_bcast_ip)[0] is True
    malformed = packet(ipv4_frame(H1, b'\xff' * 6, (10, 0, 0, 1), (10, 0, 0, 2)))
    assert firewall.verdict(fw, 1, 1, malformed)[0] is False
    fw.subnet_mask = 0xfffffffc  # 10.0.0.2 is not a /30 broadcast, 10.0.0.3 is
    assert firewall.verdict(fw, 1, 1, packet(ipv4_frame(H1, b'\xff' * 6, (10, 0, 0, 1), (10, 0, 0, 3))))[0]


# --- flows --------------------------------------------------------------------------------------------------

def _state_with_hosts():
    state = ForwardingState(link_discovery=False, quarantine=0)
    state.topology.switch_up(1, {1: b'\0' * 6, 2: b'\0' * 6}, 0.0)
    state.devices.learn(H1, of10.OFP_VLAN_NONE, 1, 1, 0.0)
    state.devices.learn(H2, of10.OFP_VLAN_NONE, 1, 2, 0.0)
    return state


def test_flows_carry_the_verdict_and_every_change_deletes_them():
    fw, state = FirewallState(), _state_with_hosts()
    packet_filter = lambda *args: firewall.filter_packet(fw, *args)  # noqa: E731
    state.installed = {1: {1 << 16 | of10.OFP_VLAN_NONE: {H2 + H1: 2}}}  # an L2 flow from before the firewall
    deletes = firewall.set_enabled(fw, state, True, packet_filter)
    assert len(deletes) == 1 and state.installed == {} and state.packet_filter is packet_filter
    frame = ipv4_frame(H1, H2, (10, 0, 0, 1), (10, 0, 0, 2))
    denied = firewall.filter_packet(fw, state, 1, 1, of10.OFP_VLAN_NONE, 0x0800, 14, frame, 0.0, of10.NO_BUFFER)
    assert len(denied) == 1  # the drop flow only: nothing forwarded
    drop = denied[0][1].buf
    assert of10.unpack_match(drop) == firewall.exact_match(1, packet(frame))
    firewall.insert_rule(fw, Rule(ruleid=7))
    assert len(firewall.rules_changed(fw, state)) == 1 and fw.flows == {}
    allowed = firewall.filter_packet(fw, state, 1, 1, of10.OFP_VLAN_NONE, 0x0800, 14, frame, 0.0, of10.NO_BUFFER)
    assert [msg.msg_type for _, msg in allowed] == [of10.OFPT_FLOW_MOD, of10.OFPT_PACKET_OUT]
    firewall.flow_removed(fw, 1, firewall.exact_match(1, packet(frame)))  # it expired
    assert firewall.set_enabled(fw, state, False, packet_filter) == [] and state.packet_filter is None
    # a broadcast allowed: None, forwarding floods it as usual
    bcast = b'\xff' * 6 + H1 + b'\x08\x06' + bytes(28)
    assert firewall.filter_packet(fw, state, 1, 1, of10.OFP_VLAN_NONE, 0x0806, 14, bcast, 0.0, 0) is None


# --- replies against Floodlight's captures --------------------------------------------------------------------

@pytest.mark.parametrize('version,name,body', [
    ('v0.91', '051_fw_status.txt', fw_rest.status_result(False)),
    ('v0.91', '054_fw_status2.txt', fw_rest.status_result(True)),
    ('v0.91', '053_fw_enable.txt', fw_rest.RUNNING),
    ('v0.91', '062_fw_disable.txt', fw_rest.STOPPED),
    ('v0.91', '056_fw_subnet.txt', fw_rest.subnet_mask_body(0xffffff00, fw_rest.API_V0)),
    ('v0.91', '057_fw_add1.txt', fw_rest.rule_added(-1489866928)),
    ('v1.2', '052_fw_status.txt', fw_rest.status_result(False)),
    ('v1.2', '054_fw_enable.txt', fw_rest.RUNNING),
    ('v1.2', '064_fw_disable.txt', fw_rest.STOPPED),
    ('v1.2', '057_fw_subnet.txt', fw_rest.subnet_mask_body(0xffffff00, fw_rest.API_V1)),
    ('v1.2', '059_fw_add1.txt', fw_rest.rule_added(1989446733)),
])
def test_replies_as_captured(version, name, body):
    assert capture(version, name)[1] == body


@pytest.mark.parametrize('version,api,adds,listing', [
    ('v0.91', fw_rest.API_V0, ('057_fw_add1.txt', '058_fw_add2.txt'), '060_fw_rules.txt'),
    ('v1.2', fw_rest.API_V1, ('059_fw_add1.txt',), '062_fw_rules.txt'),
])
def test_rule_list_as_captured(version, api, adds, listing):
    """Each captured rule, parsed from its captured request and given its captured id, lists with every key and
    value Floodlight's list had (plus the other generation's flag keys)."""
    listed = {rule['ruleid']: rule for rule in json.loads(capture(version, listing)[1])}
    for name in adds:
        request, reply = capture(version, name)
        ruleid = int(json.loads(reply)['rule-id'])
        ours = fw_rest.rule_json(replace(fw_rest.parse_rule(json.loads(request)), ruleid=ruleid), api)
        theirs = listed[ruleid]
        assert {key: ours[key] for key in theirs} == theirs
        assert list(ours)[:len(theirs) - 2] == list(theirs)[:-2]  # the generation's own key order first


def test_storage_rows_as_floodlight_stored_them():
    rule = fw_rest.parse_rule({'switchid': '00:00:00:00:00:00:00:01', 'src-ip': '10.0.0.1/32', 'action': 'deny'})
    row = fw_rest.storage_row(replace(rule, ruleid=5), fw_rest.API_V1)
    assert (row['ruleid'], row['dpid'], row['nw_src_prefix'], row['nw_src_maskbits'], row['any_in_port'],
            row['action']) == ('5', '1', '167772161', '-1', 'true', '0')
    assert fw_rest.storage_row(rule, fw_rest.API_V0)['nw_src_maskbits'] == '32'
