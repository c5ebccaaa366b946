"""What a switch sends on its own: expiry notices, port changes, packets, errors and vendor messages."""
import pytest
from ryu.ofproto import ofproto_v1_0 as ofp
from ryu.ofproto import ofproto_v1_0_parser as parser

from tests.lib.controller import wait_for
from tests.protocol.helpers import colon_dpid, list_entries, listed, push_ok
from tests.protocol.ofpeer import DATAPATH, FlowRemoved, make_port

pytestmark = pytest.mark.protocol

DPID = 0x0000000000000909


def names(controller):
    return {name for item in list_entries(controller).get(colon_dpid(DPID), []) for name in item}


def test_expired_flow_forgets_its_entry(controller, connect_peer):
    push_ok(controller, {'switch': colon_dpid(DPID), 'name': 'expiring', 'priority': '50', 'in_port': '1',
                         'idle_timeout': '5', 'actions': 'output=2'})
    push_ok(controller, {'switch': colon_dpid(DPID), 'name': 'permanent', 'priority': '60', 'in_port': '1',
                         'actions': 'output=3'})
    peer = connect_peer(controller, DPID)
    by_priority = {fm.priority: fm for fm in peer.flow_mods(command=ofp.OFPFC_ADD)}
    expiring, permanent = by_priority[50], by_priority[60]
    # only a flow that can expire asks for a FLOW_REMOVED
    assert expiring.flags == ofp.OFPFF_SEND_FLOW_REM and expiring.idle_timeout == 5
    assert permanent.flags == 0

    # someone deletes the permanent flow by hand (reason DELETE): the entry stays, as in Floodlight
    peer.send_flow_removed(permanent, reason=ofp.OFPRR_DELETE)
    # the expiring flow times out: its entry is forgotten (Floodlight 1.1+)
    peer.send_flow_removed(expiring, reason=ofp.OFPRR_IDLE_TIMEOUT, duration_sec=5)
    wait_for(lambda: names(controller) == {'permanent'}, 5.0, what='"expiring" to leave the list')


def test_unsolicited_switch_messages_leave_the_session_alone(controller, connect_peer):
    peer = connect_peer(controller, DPID)
    peer.send_port_status(ofp.OFPPR_ADD, make_port(4))
    peer.send_port_status(ofp.OFPPR_MODIFY, make_port(1, state=ofp.OFPPS_LINK_DOWN))
    peer.send_port_status(ofp.OFPPR_DELETE, make_port(2))
    peer.send_packet_in(1, bytes.fromhex('ffffffffffff525400000001080600010800060400015254000000010a000001'
                                         '0000000000000a000002'))
    peer.send(parser.OFPErrorMsg(DATAPATH, ofp.OFPET_BAD_REQUEST, ofp.OFPBRC_BAD_TYPE, b'\x01' * 8), xid=0x777)
    peer.send(parser.OFPEchoReply(DATAPATH, b'unasked'), xid=0x778)
    vendor = parser.OFPVendor(DATAPATH)
    vendor.vendor, vendor.data = 0x00abcdef, b'\x00' * 8
    peer.send(vendor)
    # an expiry notice for a flow no entry owns (static flow cookie, unknown match)
    peer.send(FlowRemoved(DATAPATH, parser.OFPMatch(in_port=7), cookie=(10 << 52) | 0xdead, priority=1,
                          reason=ofp.OFPRR_HARD_TIMEOUT))

    # still in business: echo answered, still listed, and a push reaches it
    assert peer.echo(b'ping').data == b'ping'
    assert [s['inetAddress'] for s in listed(controller, DPID)] == ['/127.0.0.1:%d' % peer.local_port]
    mark = peer.mark()
    push_ok(controller, {'switch': colon_dpid(DPID), 'name': 'after', 'priority': '70', 'actions': 'output=1'})
    assert peer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark).priority == 70
    # (the fixture's teardown fails the test if any of this made the controller log a traceback)

