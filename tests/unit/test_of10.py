"""controller.of10: entries and templates become OpenFlow 1.0 bytes that Ryu's parser reads back as meant
(tests/lib/of10_oracle), the match-field and action tables cover every field and action, and the readers find
what the hot paths need."""
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ryu.lib import addrconv
from ryu.ofproto import ofproto_parser
from ryu.ofproto import ofproto_v1_0 as ofp
from ryu.ofproto import ofproto_v1_0_parser as parser

from controller import of10
from controller.flowentry import MATCH_FIELD_ORDER
from controller.of10 import match as of10_match
from rest import floodlight as fl
from tests.lib import of10_oracle as oracle

pytestmark = pytest.mark.unit


def entry(**doc):
    return fl.parse_entry(dict({"switch": "1", "name": "e"}, **doc), fl.DIALECT_V1)


def round_trip(msg):
    data = of10.serialize(msg, xid=7)
    version, msg_type, length, xid = ofproto_parser.header(data)
    assert (version, length, xid) == (ofp.OFP_VERSION, len(data), 7)
    return oracle.parse(data)


def add(e):
    return round_trip(of10.packed_flow_mod(of10.pack_flow_add(e), e.name))


# --- flow-mods of static entries --------------------------------------------------------------------------------

def test_tutorial_flow_add_on_the_wire():
    msg = add(entry(name='static-flow1', priority='32768', **{'src-mac': '52:54:00:9b:d5:bc'}, actions='output=3'))
    assert msg.command == ofp.OFPFC_ADD
    assert msg.cookie == 0x00a00000d7014f7f
    assert msg.priority == 32768
    assert msg.buffer_id == 0xffffffff and msg.out_port == ofp.OFPP_NONE
    assert msg.flags == 0
    assert msg.match.wildcards == ofp.OFPFW_ALL & ~ofp.OFPFW_DL_SRC
    assert msg.match['dl_src'] == '52:54:00:9b:d5:bc'
    assert [(a.port, a.max_len) for a in msg.actions] == [(3, 65535)]


def test_cidr_match_sets_nw_wildcard_bits():
    msg = add(entry(eth_type='0x800', ipv4_dst='10.0.0.0/24'))
    assert (msg.match.wildcards & ofp.OFPFW_NW_DST_MASK) >> ofp.OFPFW_NW_DST_SHIFT == 8
    assert msg.match['nw_dst'] == '10.0.0.0'


def test_every_action_serialises_in_order():
    actions = ('set-vlan-id=20,set-vlan-priority=2,set-src-mac=00:00:00:00:00:0a,set-dst-mac=00:00:00:00:00:0b,'
               'set-tos-bits=8,set-src-ip=1.2.3.4,set-dst-ip=5.6.7.8,set-src-port=1000,set-dst-port=2000,'
               'strip-vlan,enqueue=3:7,output=normal')
    e = entry(actions=actions)
    msg = add(e)
    assert [type(a).__name__ for a in msg.actions] == [
        'OFPActionVlanVid', 'OFPActionVlanPcp', 'OFPActionSetDlSrc', 'OFPActionSetDlDst', 'OFPActionSetNwTos',
        'OFPActionSetNwSrc', 'OFPActionSetNwDst', 'OFPActionSetTpSrc', 'OFPActionSetTpDst', 'OFPActionStripVlan',
        'OFPActionEnqueue', 'OFPActionOutput']
    assert msg.actions[-1].port == ofp.OFPP_NORMAL
    assert (msg.actions[5].nw_addr, msg.actions[6].nw_addr) == (0x01020304, 0x05060708)
    assert msg.actions[2].dl_addr == b'\x00\x00\x00\x00\x00\x0a'
    assert (msg.actions[10].port, msg.actions[10].queue_id) == (3, 7)
    assert of10.ryu_actions(msg.actions) == e.actions == of10.unpack_actions(of10.pack_flow_add(e))
    assert {a.kind for a in of10.ACTIONS} == {a[0] for a in e.actions}  # the table has no action left untested


def test_timeouts_ask_for_flow_removed():
    msg = add(entry(idle_timeout='5', hard_timeout='10'))
    assert (msg.idle_timeout, msg.hard_timeout, msg.flags) == (5, 10, ofp.OFPFF_SEND_FLOW_REM)


def test_modify_and_delete_keep_match_priority_and_cookie():
    e = entry(in_port='1', priority='100', actions='output=2')
    packed = of10.pack_flow_add(e)
    added, mod, delete = (round_trip(of10.packed_flow_mod(packed, 'e', command)) for command in (
        of10.FLOW_ADD, of10.FLOW_MODIFY_STRICT, of10.FLOW_DELETE_STRICT))
    assert (mod.command, delete.command) == (ofp.OFPFC_MODIFY_STRICT, ofp.OFPFC_DELETE_STRICT)
    for msg in (mod, delete):
        assert (msg.match.wildcards, msg.match.in_port, msg.priority, msg.cookie) == \
            (added.match.wildcards, added.match.in_port, added.priority, added.cookie)
    assert of10.packed_flow_mod(packed, 'e', of10.FLOW_DELETE_STRICT).command == ofp.OFPFC_DELETE_STRICT


def test_the_0_9x_list_facts_are_those_of_the_flow_mod():
    for e in (entry(), entry(eth_type='0x800', ipv4_src='10.0.0.0/8', idle_timeout='3',
                             actions='set_eth_src=00:00:00:00:00:01,output=1')):
        msg = add(e)
        assert of10.flow_add_facts(e) == (len(of10.serialize(oracle.flow_add(e))), msg.match.wildcards, msg.flags)
        assert of10.wildcards_of(e.match) == msg.match.wildcards


def test_barrier():
    data = of10.serialize(of10.barrier(), xid=9)
    assert ofproto_parser.header(data) == (ofp.OFP_VERSION, ofp.OFPT_BARRIER_REQUEST, 8, 9)


def test_a_switch_flow_no_entry_accounts_for_is_deleted_exactly():
    e = entry(eth_type='0x800', ipv4_dst='10.0.0.7/24', priority='9')
    flow, = oracle.installed([oracle.flow_add(e)])
    msg = round_trip(of10.flow_delete_strict_installed(flow))
    assert msg.command == ofp.OFPFC_DELETE_STRICT and msg.priority == 9 and msg.cookie == e.cookie
    assert of10.match_key(msg.match) == flow.match and msg.actions == []


# --- the match-field table --------------------------------------------------------------------------------------

# One document per row of MATCH_FIELDS, setting that field (with what it needs) to a value other than the default.
FIELD_CASES = {
    'in_port': {'in_port': '7'},
    'dl_src': {'eth_src': '52:54:00:9b:d5:bc'},
    'dl_dst': {'eth_dst': 'ff:ff:ff:ff:ff:fe'},
    'dl_vlan': {'eth_vlan_vid': '42'},
    'dl_vlan_pcp': {'eth_vlan_pcp': '5'},
    'dl_type': {'eth_type': '0x806'},
    'nw_tos': {'eth_type': '0x800', 'ip_tos': '0xb8'},
    'nw_proto': {'eth_type': '0x800', 'ip_proto': '17'},
    'nw_src': {'eth_type': '0x800', 'ipv4_src': '10.1.2.3/16'},
    'nw_dst': {'eth_type': '0x800', 'ipv4_dst': '192.168.7.9'},
    'tp_src': {'eth_type': '0x800', 'ip_proto': '6', 'tcp_src': '1234'},
    'tp_dst': {'eth_type': '0x800', 'ip_proto': '17', 'udp_dst': '53'},
}


def test_the_table_is_the_entries_field_order_and_every_row_has_a_case():
    assert MATCH_FIELD_ORDER == of10.FIELD_NAMES == tuple(f.name for f in of10.MATCH_FIELDS)
    assert set(FIELD_CASES) == set(of10.FIELD_NAMES)


@pytest.mark.parametrize('field', sorted(FIELD_CASES))
def test_each_match_field_packs_as_ryu_and_reads_back(field):
    e = entry(**FIELD_CASES[field])
    packed = of10.pack_flow_add(e)
    assert packed == of10.serialize(oracle.flow_add(e))
    msg = oracle.parse(packed)
    assert field in msg.match  # its wildcard is cleared (Ryu's own reading of the wildcards)
    value = dict(e.match)[field]
    if field in ('nw_src', 'nw_dst'):
        assert msg.match['%s_mask' % field] == value[1]
    else:
        assert msg.match[field] == value
    assert of10.unpack_match(packed) == e.match
    assert of10.flow_match(msg.match) == e.match  # as a switch reporting it would be listed
    assert of10.match_key(msg.match) == of10_match.packed_match_key(packed)


@pytest.mark.parametrize('match', [
    {}, {'in_port': '1'}, {'eth_src': '52:54:00:9b:d5:bc'}, {'eth_dst': '01:02:03:04:05:06', 'in_port': '65535'},
    {'eth_src': '0:0:0:0:0:1', 'eth_dst': 'FF-FF-FF-FF-FF-FE', 'eth_vlan_vid': '0xffff', 'eth_vlan_pcp': '7'},
    {'eth_type': '0x800', 'ipv4_src': '10.0.0.7/24', 'ipv4_dst': '10.1.2.3/0', 'ip_proto': '17', 'udp_dst': '53',
     'ip_dscp': '63'},
    {'eth_type': '0x806', 'arp_opcode': '2', 'arp_spa': '10.0.0.1/255.255.0.0', 'arp_tpa': '10.0.0.2'},
    {'eth_type': '0x800', 'ip_proto': '1', 'icmpv4_type': '8', 'icmpv4_code': '255', 'ipv4_dst': '0.0.0.0/1'},
])
def test_flow_key_of_the_bytes_is_the_key_of_the_match_a_switch_reports(match):
    e = fl.parse_entry(dict({'switch': '1', 'name': 'e', 'priority': '7'}, **match), fl.DIALECT_V1)
    reported, = oracle.installed([oracle.flow_add(e)])
    assert of10.flow_key(e.dpid, e.priority, packed=of10.pack_flow_add(e)) == of10.flow_key(
        e.dpid, e.priority, match_key=reported.match)


def test_the_key_normalises_as_a_switch_does():
    """Host bits of a prefix and a /0 do not make another flow; a /0 entry still reads back as given."""
    host_bits = entry(eth_type='0x800', ipv4_src='10.0.0.7/24')
    network = entry(eth_type='0x800', ipv4_src='10.0.0.0/24')
    everything = entry(eth_type='0x800', ipv4_src='10.0.0.7/0')
    no_address = entry(eth_type='0x800')
    key = lambda e: of10.flow_key(1, 5, packed=of10.pack_flow_add(e))  # noqa: E731
    assert key(host_bits) == key(network) != key(no_address) == key(everything)
    assert of10.unpack_match(of10.pack_flow_add(everything)) == everything.match
    assert of10.flow_match(oracle.build_match(everything.match)) == no_address.match
    assert of10.flow_identity(of10.pack_flow_add(host_bits)) != of10.flow_identity(of10.pack_flow_add(network))


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=6, max_size=6))
def test_mac_text_and_bytes(data):
    text = of10_match.mac_to_text(data)
    assert text == addrconv.mac.bin_to_text(data)
    assert of10_match.mac_to_bin(text) == data == addrconv.mac.text_to_bin(text)


@pytest.mark.parametrize('text', ['52:54:00:9B:D5:BC', '2:4:0:9b:d5:cc', '52-54-00-9b-d5-bc', '52:54:00:9b:d5',
                                  '52:54:00:9b:d5 bc', '', None])
def test_only_canonical_macs_are_packed(text):
    """A FlowEntry's MAC is canonical (rest.floodlight.to_mac): anything else is a bug, not a value to guess at."""
    with pytest.raises(ValueError):
        of10_match.mac_to_bin(text)


# --- readers ----------------------------------------------------------------------------------------------------

def test_header_and_xid_at_an_offset():
    data = b'pad' + of10.serialize(of10.barrier(), xid=0xdeadbeef) + of10.serialize(of10.get_config_request(), 5)
    assert of10.header_at(data, 3) == (1, ofp.OFPT_BARRIER_REQUEST, 8, 0xdeadbeef)
    assert of10.xid_at(data, 3) == 0xdeadbeef and of10.xid_at(data, 11) == 5
    assert of10.type_of(data, 11) == ofp.OFPT_GET_CONFIG_REQUEST


@pytest.mark.parametrize('padding', [b'', b'\0\0'])
@pytest.mark.parametrize('buffer_id', [0xffffffff, 0x1234])
def test_packet_in_fields(padding, buffer_id):
    frame = bytes(range(60))
    body = struct.pack('!IHHBx', buffer_id, len(frame), 3, ofp.OFPR_NO_MATCH) + frame + padding
    msg = struct.pack('!BBHI', 1, ofp.OFPT_PACKET_IN, 8 + len(body), 0) + body
    data = b'x' * 5 + msg
    in_port, start, end, buffer = of10.packet_in_fields(data, 5, len(msg))
    assert (in_port, data[start:end], buffer) == (3, frame, buffer_id)
    parsed = oracle.parse(msg)
    assert (parsed.in_port, parsed.data, parsed.buffer_id) == (in_port, frame, buffer)


def test_flow_identity_is_match_cookie_and_priority():
    base = of10.pack_flow_add(entry(in_port='1', priority='5', actions='output=2'))
    same = of10.pack_flow_add(entry(in_port='1', priority='5', actions='output=3', idle_timeout='9'))
    assert of10.flow_identity(base) == of10.flow_identity(same)
    for other in (entry(in_port='2', priority='5'), entry(in_port='1', priority='6'),
                  entry(name='other', in_port='1', priority='5')):
        assert of10.flow_identity(of10.pack_flow_add(other)) != of10.flow_identity(base)


def test_what_a_switch_may_send():
    assert of10.SWITCH_MESSAGES == {
        ofp.OFPT_HELLO: (8, None), ofp.OFPT_ERROR: (12, None), ofp.OFPT_ECHO_REQUEST: (8, None),
        ofp.OFPT_ECHO_REPLY: (8, None), ofp.OFPT_VENDOR: (12, None), ofp.OFPT_FEATURES_REPLY: (32, None),
        ofp.OFPT_GET_CONFIG_REPLY: (12, 12), ofp.OFPT_PACKET_IN: (18, None), ofp.OFPT_FLOW_REMOVED: (88, 88),
        ofp.OFPT_PORT_STATUS: (64, 64), ofp.OFPT_STATS_REPLY: (12, None), ofp.OFPT_BARRIER_REPLY: (8, 8),
        ofp.OFPT_QUEUE_GET_CONFIG_REPLY: (16, None)}
    assert of10.type_name(ofp.OFPT_PACKET_IN) == 'PACKET_IN' and of10.type_name(99) == 'type 99'


def test_small_decoders():
    port = parser.OFPPhyPort(1, b'\0' * 6, b'p1', 0, 0, 0, 0, 0, 0)
    assert of10.port_is_up(port)
    assert not of10.port_is_up(port._replace(config=ofp.OFPPC_PORT_DOWN))
    assert not of10.port_is_up(port._replace(state=ofp.OFPPS_LINK_DOWN))
    assert of10.is_expiry(ofp.OFPRR_IDLE_TIMEOUT) and of10.is_expiry(ofp.OFPRR_HARD_TIMEOUT)
    assert not of10.is_expiry(ofp.OFPRR_DELETE)
    assert of10.capability_names(ofp.OFPC_FLOW_STATS | ofp.OFPC_ARP_MATCH_IP) == ['FLOW_STATS', 'ARP_MATCH_IP']
    assert of10.action_type_names(1 << ofp.OFPAT_OUTPUT | 1 << ofp.OFPAT_ENQUEUE) == ['OUTPUT', 'ENQUEUE']
    assert of10.describe_error(ofp.OFPET_BAD_ACTION, ofp.OFPBAC_BAD_OUT_PORT) == ('OFPET_BAD_ACTION',
                                                                                  'OFPBAC_BAD_OUT_PORT')
    vendor_action = struct.pack('!HHI', ofp.OFPAT_VENDOR, 8, 0x2320)  # not one of the table's: named by number
    assert of10.unpack_actions(vendor_action * 2, 0) == (('OFPAT', ofp.OFPAT_VENDOR),) * 2


def test_count_sent_counts_each_message_a_switch_receives():
    """A session's sent counts (apps/session.py: /metrics and Floodlight's per-switch FLOW_MOD counter) add this
    for what it sends: a RawMessage or a batch counts each message it holds."""
    src, dst = bytes.fromhex('020000000001'), bytes.fromhex('020000000002')
    packed = of10.pack_flow_add(fl.parse_entry({'switch': '1', 'name': 'a', 'actions': 'output=1'}, fl.DIALECT_V1))
    counts = [0] * 256
    for msg in [of10.forwarding_flow_add(1, 0xffff, src, dst, 2, 5, 1),
                of10.forwarding_flow_add_and_packet_out(1, 0xffff, src, dst, 2, 5, 1, b'x' * 60),
                of10.packed_flow_mod(packed, 'a'), of10.PackedFlowModBatch([packed] * 3, ['a', 'b', 'c']),
                of10.barrier(), of10.stats_request('desc')]:
        of10.count_sent(counts, msg)
    assert counts[ofp.OFPT_FLOW_MOD] == 6 and counts[ofp.OFPT_PACKET_OUT] == 1
    assert counts[ofp.OFPT_BARRIER_REQUEST] == 1 and counts[ofp.OFPT_STATS_REQUEST] == 1
