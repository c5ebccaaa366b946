"""A switch that behaves as cbench's fake switch does (the standard controller benchmark): GET_CONFIG answered
with its length in host byte order and miss_send_len 0, Nicira role requests refused, packets buffered. It
connects, stays, is counted as the primary session it is, and each buffered packet-in gets one answer naming the
buffer."""
import time

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.lib.controller import wait_for
from tests.protocol.helpers import colon_dpid, push_ok, wait_listed
from tests.protocol.test_coexistence import frame
from tests.protocol.test_connections import NO_OVSDB, history, sessions_of

pytestmark = pytest.mark.protocol

CBENCH_LIKE = dict(miss_send_len=0, config_length_host_order=True, answer_roles=False)
HOST_A = bytes.fromhex('000000000a01')
HOST_B = bytes.fromhex('000000000b02')
QUARANTINE = 1.0


def test_a_cbench_switch_connects_stays_primary_and_is_logged_once_as_what_it_is(start_controller, connect_peer):
    controller = start_controller(NO_OVSDB)
    peer = connect_peer(controller, 0x5001, **CBENCH_LIKE)
    wait_listed(controller, peer)
    peer.wait_for_message(ofp.OFPT_GET_CONFIG_REQUEST)
    push_ok(controller, {'switch': colon_dpid(0x5001), 'name': 'cb1', 'priority': '5', 'active': 'true',
                         'actions': 'output=2'})
    peer.wait_for(lambda msgs: peer.flow_mods(command=ofp.OFPFC_ADD), what='the static entry')
    time.sleep(0.5)  # the GET_CONFIG reply has long been handled
    assert peer.connected, peer.dump()
    [session] = sessions_of(controller, 0x5001)
    assert session['kind'] == 'primary'
    assert 'reclassified' not in [e['event'] for e in history(controller, 0x5001)]
    log = controller.log()
    quirk_lines = [line for line in log.splitlines() if 'host byte order' in line]
    assert len(quirk_lines) == 1 and colon_dpid(0x5001) in quirk_lines[0], quirk_lines
    assert 'disconnecting' not in log and 'reclassified' not in log and 'rejected' not in log, log


def test_buffered_packet_ins_get_one_answer_naming_the_buffer_and_quarantine_still_teaches(start_controller,
                                                                                          connect_peer):
    controller = start_controller(NO_OVSDB + ('--port-quarantine', str(QUARANTINE)))
    # host A's broadcast right behind the FEATURES_REPLY, as cbench sends its ARP: port 1 is in quarantine (and
    # the controller's apps may not have seen the session come up yet), so nothing goes out, but A is learned
    peer = connect_peer(controller, 0x5002, packet_in_after_features=(1, frame(HOST_A, b'\xff' * 6), 11),
                        **CBENCH_LIKE)
    wait_listed(controller, peer)
    wait_for(lambda: controller.get('/wm/device/')[1].count('00:00:00:00:0a:01'), 5, what='host A learned')
    assert [m for m in peer.received(ofp.OFPT_PACKET_OUT) if m.buffer_id == 11] == [], peer.dump()
    time.sleep(QUARANTINE)
    # B answers A: one flow-mod toward port 1 that releases buffer 12, no packet-out, no frame sent back
    mark = peer.mark()
    peer.send_packet_in(2, frame(HOST_B, HOST_A), buffer_id=12)
    [flow_mod] = peer.wait_for(lambda msgs: peer.flow_mods(mark, command=ofp.OFPFC_ADD), what='the flow-mod')
    assert flow_mod.buffer_id == 12 and [a.port for a in flow_mod.actions] == [1]
    assert (flow_mod.match.dl_src, flow_mod.match.dl_dst) == (HOST_B, HOST_A)
    # a broadcast (after the quarantine) is flooded by one packet-out naming its buffer, without the frame
    peer.send_packet_in(2, frame(HOST_B, b'\xff' * 6), buffer_id=13)
    [flood] = peer.wait_for(lambda msgs: [m for m in peer.received(ofp.OFPT_PACKET_OUT, mark)
                                          if m.buffer_id == 13], what='the flood')
    assert not flood.data and sorted(a.port for a in flood.actions) == [1, 3]
    time.sleep(0.3)
    assert [m.buffer_id for m in peer.received(ofp.OFPT_PACKET_OUT, mark)] == [13], peer.dump()
