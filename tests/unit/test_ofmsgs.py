"""controller.ofmsgs: entries become OpenFlow 1.0 bytes a switch accepts, checked by re-parsing them."""
import pytest
from ryu.ofproto import ofproto_parser
from ryu.ofproto import ofproto_v1_0 as ofp

from controller import ofmsgs
from rest import floodlight as fl

pytestmark = pytest.mark.unit


def round_trip(msg):
    data = ofmsgs.serialize(msg, xid=7)
    version, msg_type, length, xid = ofproto_parser.header(data)
    assert (version, length, xid) == (ofp.OFP_VERSION, len(data), 7)
    return ofproto_parser.msg(ofmsgs.NULL_DATAPATH, version, msg_type, length, xid, data)


def entry(**doc):
    return fl.parse_entry(dict({"switch": "1", "name": "e"}, **doc), fl.DIALECT_V1)


def test_tutorial_flow_add_on_the_wire():
    msg = round_trip(ofmsgs.flow_add(entry(name='static-flow1', priority='32768', **{'src-mac': '52:54:00:9b:d5:bc'},
                                           actions='output=3')))
    assert msg.command == ofp.OFPFC_ADD
    assert msg.cookie == 0x00a00000d7014f7f
    assert msg.priority == 32768
    assert msg.buffer_id == 0xffffffff and msg.out_port == ofp.OFPP_NONE
    assert msg.flags == 0
    assert msg.match.wildcards == ofp.OFPFW_ALL & ~ofp.OFPFW_DL_SRC
    assert msg.match['dl_src'] == '52:54:00:9b:d5:bc'
    assert [(a.port, a.max_len) for a in msg.actions] == [(3, 65535)]


def test_cidr_match_sets_nw_wildcard_bits():
    msg = round_trip(ofmsgs.flow_add(entry(eth_type='0x800', ipv4_dst='10.0.0.0/24')))
    assert (msg.match.wildcards & ofp.OFPFW_NW_DST_MASK) >> ofp.OFPFW_NW_DST_SHIFT == 8
    assert msg.match['nw_dst'] == '10.0.0.0'


def test_every_action_serialises_in_order():
    actions = ('set-vlan-id=20,set-vlan-priority=2,set-src-mac=00:00:00:00:00:0a,set-dst-mac=00:00:00:00:00:0b,'
               'set-tos-bits=8,set-src-ip=1.2.3.4,set-dst-ip=5.6.7.8,set-src-port=1000,set-dst-port=2000,'
               'strip-vlan,enqueue=3:7,output=normal')
    msg = round_trip(ofmsgs.flow_add(entry(actions=actions)))
    assert [type(a).__name__ for a in msg.actions] == [
        'OFPActionVlanVid', 'OFPActionVlanPcp', 'OFPActionSetDlSrc', 'OFPActionSetDlDst', 'OFPActionSetNwTos',
        'OFPActionSetNwSrc', 'OFPActionSetNwDst', 'OFPActionSetTpSrc', 'OFPActionSetTpDst', 'OFPActionStripVlan',
        'OFPActionEnqueue', 'OFPActionOutput']
    assert msg.actions[-1].port == ofp.OFPP_NORMAL
    assert (msg.actions[5].nw_addr, msg.actions[6].nw_addr) == (0x01020304, 0x05060708)
    assert msg.actions[2].dl_addr == b'\x00\x00\x00\x00\x00\x0a'
    assert (msg.actions[10].port, msg.actions[10].queue_id) == (3, 7)


def test_timeouts_ask_for_flow_removed():
    msg = round_trip(ofmsgs.flow_add(entry(idle_timeout='5', hard_timeout='10')))
    assert (msg.idle_timeout, msg.hard_timeout, msg.flags) == (5, 10, ofp.OFPFF_SEND_FLOW_REM)


def test_modify_and_delete_keep_match_priority_and_cookie():
    e = entry(in_port='1', priority='100', actions='output=2')
    add, mod, delete = (round_trip(f(e)) for f in (ofmsgs.flow_add, ofmsgs.flow_modify_strict,
                                                   ofmsgs.flow_delete_strict))
    assert (mod.command, delete.command) == (ofp.OFPFC_MODIFY_STRICT, ofp.OFPFC_DELETE_STRICT)
    for msg in (mod, delete):
        assert (msg.match.wildcards, msg.match.in_port, msg.priority, msg.cookie) == \
            (add.match.wildcards, add.match.in_port, add.priority, add.cookie)


def test_barrier():
    data = ofmsgs.serialize(ofmsgs.barrier(), xid=9)
    assert ofproto_parser.header(data) == (ofp.OFP_VERSION, ofp.OFPT_BARRIER_REQUEST, 8, 9)
