"""The OpenFlow 1.0 handshake as Open vSwitch sees it, and the switch showing up in Floodlight's switch list."""
import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.protocol.helpers import colon_dpid, listed, wait_listed
from tests.protocol.ofpeer import HANDSHAKE_TYPES, describe

pytestmark = pytest.mark.protocol

DPID = 0x0000a296ffdd5645
PROMPT = 1.0  # seconds: what "promptly" means for the post-handshake barrier


def test_hello_features_then_barrier(controller, connect_peer):
    peer = connect_peer(controller, DPID, wait=None)

    hello = peer.wait_for_message(ofp.OFPT_HELLO)
    assert hello.version == 1, 'the controller must speak OpenFlow 1.0 (wire version 1)'
    request = peer.wait_for_message(ofp.OFPT_FEATURES_REQUEST)
    assert request.version == 1
    assert peer.received().index(hello) < peer.received().index(request), peer.dump()

    peer.wait_handshake()
    first = peer.wait_ready(timeout=PROMPT)
    # OVS keeps a fail-open bridge in standalone mode until the controller sends a non-handshake message:
    # the controller's first one must be a BARRIER_REQUEST, and nothing else may come before it.
    assert first.msg_type == ofp.OFPT_BARRIER_REQUEST, peer.dump()
    assert first.received_at - peer.features_replied_at < PROMPT
    before = peer.received()[:peer.received().index(first)]
    assert all(m.msg_type in HANDSHAKE_TYPES for m in before), peer.dump()
    assert all(m.version == 1 for m in peer.received()), peer.dump()
    # no error came back from the controller for anything we sent
    assert not peer.received(ofp.OFPT_ERROR), [describe(m) for m in peer.received(ofp.OFPT_ERROR)]


def test_switch_listed_with_colon_dpid_and_address(controller, connect_peer):
    peer = connect_peer(controller, DPID)

    entry = wait_listed(controller, peer)
    assert entry['switchDPID'] == '00:00:a2:96:ff:dd:56:45' == colon_dpid(DPID)
    assert entry['inetAddress'] == '/127.0.0.1:%d' % peer.local_port
    assert isinstance(entry['connectedSince'], int) and entry['connectedSince'] > 1_000_000_000_000  # epoch ms
    assert len(listed(controller, DPID)) == 1


def test_two_switches_listed_separately(controller, connect_peer):
    first = connect_peer(controller, 1)
    second = connect_peer(controller, 0xffffffffffffffff)

    assert wait_listed(controller, first)['switchDPID'] == '00:00:00:00:00:00:00:01'
    assert wait_listed(controller, second)['switchDPID'] == 'ff:ff:ff:ff:ff:ff:ff:ff'


def test_switch_offering_10_and_13_is_spoken_to_in_10(controller, connect_peer):
    """OVS with protocols=OpenFlow10,OpenFlow13 says HELLO version 4 with a version bitmap of {1.0, 1.3}."""
    peer = connect_peer(controller, 0x13, wait='ready', hello_versions=(0x01, 0x04))
    assert all(m.version == 1 for m in peer.received()), peer.dump()
    assert peer.received(ofp.OFPT_FEATURES_REQUEST)
    wait_listed(controller, peer)


def test_switch_without_10_is_refused(controller, connect_peer):
    peer = connect_peer(controller, 0x14, wait=None, hello_versions=(0x04,))
    error = peer.wait_for_message(ofp.OFPT_ERROR)
    assert error.type == ofp.OFPET_HELLO_FAILED, describe(error)
    assert peer.wait_closed(), 'the controller kept a session it cannot speak to'
    assert not peer.received(ofp.OFPT_FEATURES_REQUEST)
    assert not listed(controller, 0x14)
