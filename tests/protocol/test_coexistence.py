"""Other Ryu apps in the same process keep Ryu's behaviour: `ryu-manager controller.apps ryu.app.ofctl_rest
ryu.app.simple_switch` serves both REST APIs on one port, simple_switch learns and forwards, and ryu.topology
reads our LLDP frames. Each app is checked the way its own users would."""
import json

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from controller.lldp import lldp_frame
from tests.protocol.helpers import colon_dpid, push_ok

pytestmark = pytest.mark.protocol

DPID = 0x0000a296ffdd5645
MAC_A = bytes.fromhex('525400000a0a')
MAC_B = bytes.fromhex('525400000b0b')


def frame(src, dst):
    """An Ethernet frame with an IPv4 ethertype and a little padding (enough for both parsers)."""
    return dst + src + b'\x08\x00' + bytes(46)


def get_json(controller, path):
    status, text, _ = controller.get(path)
    assert status == 200, (path, status, text)
    return json.loads(text)


def test_ofctl_rest_and_simple_switch_beside_ours(start_controller, connect_peer):
    controller = start_controller(['--no-forwarding'], apps=['ryu.app.ofctl_rest', 'ryu.app.simple_switch'])
    peer = connect_peer(controller, DPID)

    # Ours: the tutorial's push reaches the switch.
    mark = peer.mark()
    push_ok(controller, {'switch': colon_dpid(DPID), 'name': 'coexist', 'priority': '32768',
                         'eth_src': '52:54:00:00:0a:0a', 'actions': 'output=2'})
    added = peer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark)
    assert added.match.dl_src == b'\x52\x54\x00\x00\x0a\x0a'
    assert get_json(controller, '/wm/core/controller/switches/json')[0]['switchDPID'] == colon_dpid(DPID)

    # ofctl_rest: its own URLs, its own shapes, on the same port.
    assert get_json(controller, '/stats/switches') == [DPID]
    desc = get_json(controller, '/stats/desc/%d' % DPID)
    assert set(desc) == {str(DPID)} and 'mfr_desc' in desc[str(DPID)]
    flows = get_json(controller, '/stats/flow/%d' % DPID)
    assert isinstance(flows[str(DPID)], list)

    # simple_switch: an unknown destination floods; the reply to a learned host gets a flow and a packet-out.
    mark = peer.mark()
    peer.send_packet_in(1, frame(MAC_A, MAC_B))
    flood = peer.wait_for_message(ofp.OFPT_PACKET_OUT, since=mark)
    assert [a.port for a in flood.actions] == [ofp.OFPP_FLOOD]
    mark = peer.mark()
    peer.send_packet_in(2, frame(MAC_B, MAC_A))
    learned = peer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark, where=lambda m: m.match.dl_dst == MAC_A)
    assert [a.port for a in learned.actions] == [1]
    out = peer.wait_for_message(ofp.OFPT_PACKET_OUT, since=mark)
    assert [a.port for a in out.actions] == [1]


def test_ryu_topology_beside_ours_reads_our_lldp(start_controller, connect_peer):
    """ryu.topology parses every packet-in as LLDP; our frames must not crash it (the log must stay clean, which
    the fixture checks) and it finds the link they announce."""
    controller = start_controller(['--observe-links'], apps=['ryu.topology.switches'])
    peer = connect_peer(controller, DPID)
    other = connect_peer(controller, DPID + 1)
    # Our LLDP from (DPID, port 1) arriving on (DPID + 1, port 2), as if a cable joined them.
    other.send_packet_in(2, lldp_frame(DPID, 1, bytes(6)))
    peer.echo(b'still there')
    other.echo(b'still there')
    assert 'Traceback' not in controller.log()
