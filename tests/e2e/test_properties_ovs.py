"""Property (hypothesis): every static flow entry the parser accepts becomes a flow-mod that Open vSwitch accepts.

The flow-mods are the controller's own (controller.of10.pack_flow_add of the parsed entry, byte for byte what a
push sends) and go to a real ovs-vswitchd over its `<bridge>.mgmt` OpenFlow socket, each followed by a barrier:
an OFPT_ERROR for the flow-mod's xid before the barrier reply is a counterexample. The vswitchd is a private
instance (tests/lib/privateovs.py), so the shared system OVS is not touched.
"""
import socket
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ryu.ofproto import ofproto_v1_0 as ofp
from ryu.ofproto import ofproto_v1_0_parser as parser

from controller import of10
from rest import floodlight
from tests.lib import entry_strategies as strat
from tests.lib.privateovs import PrivateOVS

pytestmark = pytest.mark.e2e

HEADER = struct.Struct('!BBHI')
BRIDGE = 'i7prop'


class OpenFlowClient:
    """A minimal OpenFlow 1.0 controller connection to a bridge's management socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.buf = b''
        self.xid = 100
        self.sock.sendall(HEADER.pack(ofp.OFP_VERSION, ofp.OFPT_HELLO, 8, 1))
        assert self.read()[1] == ofp.OFPT_HELLO

    def read(self):
        while True:
            if len(self.buf) >= 8:
                version, msg_type, length, xid = HEADER.unpack_from(self.buf)
                if len(self.buf) >= length:
                    body, self.buf = self.buf[8:length], self.buf[length:]
                    if msg_type == ofp.OFPT_ECHO_REQUEST:
                        self.sock.sendall(HEADER.pack(version, ofp.OFPT_ECHO_REPLY, length, xid) + body)
                        continue
                    return version, msg_type, xid, body
            data = self.sock.recv(65536)
            if not data:
                raise AssertionError('OVS closed the OpenFlow connection')
            self.buf += data

    def send_and_confirm(self, data):
        """Send one message (its xid is rewritten) and a barrier: -> None, or (error type, code) for it."""
        self.xid += 2
        xid, barrier_xid = self.xid, self.xid + 1
        self.sock.sendall(data[:4] + struct.pack('!I', xid) + data[8:]
                          + HEADER.pack(ofp.OFP_VERSION, ofp.OFPT_BARRIER_REQUEST, 8, barrier_xid))
        error = None
        while True:
            _, msg_type, got_xid, body = self.read()
            if msg_type == ofp.OFPT_ERROR and got_xid == xid:
                error = struct.unpack_from('!HH', body)
            elif msg_type == ofp.OFPT_BARRIER_REPLY and got_xid == barrier_xid:
                return error

    def close(self):
        self.sock.close()


@pytest.fixture(scope='module')
def ovs_client(tmp_path_factory):
    ovs = PrivateOVS(tmp_path_factory.mktemp('ovs-properties')).start()
    try:
        ovs.add_bridge(BRIDGE, 0x7e57, controller=None)
        client = OpenFlowClient(ovs.mgmt(BRIDGE))
        yield ovs, client
        client.close()
    finally:
        ovs.cleanup()


DELETE_ALL = of10.serialize(parser.OFPFlowMod(
    None, parser.OFPMatch(), 0, ofp.OFPFC_DELETE, 0, 0, 0, 0xffffffff, ofp.OFPP_NONE, 0, []))

accepted_count = []


@settings(max_examples=700, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(strat.entry_document(name='prop', switch='7e57'), st.sampled_from([floodlight.DIALECT_V0,
                                                                         floodlight.DIALECT_V1]))
def test_ovs_accepts_every_flow_mod_the_parser_accepts(ovs_client, document, dialect):
    ovs, client = ovs_client
    try:
        entry = floodlight.parse_entry(document, dialect)
    except floodlight.FlowValidationError:
        return
    packed = of10.pack_flow_add(entry)
    error = client.send_and_confirm(packed)
    assert error is None, 'OVS rejected %r (%s): %s' % (document, of10.describe_error(*error), entry)
    accepted_count.append(1)
    # modify and delete forms of the same entry are accepted too
    for command in (of10.FLOW_MODIFY_STRICT, of10.FLOW_DELETE_STRICT):
        assert client.send_and_confirm(of10.serialize(of10.packed_flow_mod(packed, entry.name, command))) is None
    assert client.send_and_confirm(DELETE_ALL) is None


def test_the_property_saw_enough_accepted_entries(ovs_client):
    """Runs after the property (file order): it must not pass on rejections alone."""
    assert len(accepted_count) >= 50, len(accepted_count)
    ovs, _ = ovs_client
    assert ovs.flows(BRIDGE) == []
