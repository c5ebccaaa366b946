"""What a switch may send on an OpenFlow 1.0 session. Pure: the glue (controller/hardening.py) feeds it each
message's raw bytes before Ryu parses them, and disconnects the peer on the ProtocolViolation it raises.

Ryu 4.34 alone keeps reading after garbage: it treats a length below 8 as 8, logs a traceback for a type it has no
parser for and drops the message, and lets a version-4 message through to handlers written for 1.0. Here any of
these ends the session with one log line; the other switches never notice.
"""
import struct

from ryu.ofproto import ofproto_v1_0 as ofp

HEADER = struct.Struct('!BBHI')

# Switch-to-controller messages of OpenFlow 1.0, with the smallest length each may have and, for fixed-size
# ones, the only length (None: variable). Anything else a switch sends is a protocol violation.
SWITCH_MESSAGES = {
    ofp.OFPT_HELLO: (8, None),
    ofp.OFPT_ERROR: (12, None),
    ofp.OFPT_ECHO_REQUEST: (8, None),
    ofp.OFPT_ECHO_REPLY: (8, None),
    ofp.OFPT_VENDOR: (12, None),
    ofp.OFPT_FEATURES_REPLY: (32, None),
    ofp.OFPT_GET_CONFIG_REPLY: (12, 12),
    ofp.OFPT_PACKET_IN: (18, None),
    ofp.OFPT_FLOW_REMOVED: (88, 88),
    ofp.OFPT_PORT_STATUS: (64, 64),
    ofp.OFPT_STATS_REPLY: (12, None),
    ofp.OFPT_BARRIER_REPLY: (8, 8),
    ofp.OFPT_QUEUE_GET_CONFIG_REPLY: (16, None),
}
PHY_PORT_SIZE = 48


class ProtocolViolation(Exception):
    """The peer broke OpenFlow 1.0 framing or sent something a 1.0 switch never sends: disconnect it."""


class PeerCheck:
    """One per connection. `check(header)` with each message's first 8 bytes as soon as they arrive (before the
    rest is awaited, so a bogus length is caught at once); raises ProtocolViolation."""

    def __init__(self, version=ofp.OFP_VERSION):
        self.version = version
        self.hello_seen = False
        self.pending = None  # the header of the message whose body is still awaited

    def check(self, data):
        """The receiver may look at one header several times while the body trickles in: checked once."""
        if len(data) < HEADER.size:
            raise ProtocolViolation('truncated header (%d bytes)' % len(data))
        data = bytes(data[:HEADER.size])
        if data == self.pending:
            return
        self._check(data)
        self.pending = data

    def received(self):
        """The message whose header was checked last has arrived whole."""
        if self.pending is not None and self.pending[1] == ofp.OFPT_HELLO:
            self.hello_seen = True
        self.pending = None

    def _check(self, data):
        version, msg_type, length, _xid = HEADER.unpack_from(data)
        if length < HEADER.size:
            raise ProtocolViolation('message length %d is shorter than the OpenFlow header' % length)
        if not self.hello_seen:
            if msg_type in (ofp.OFPT_ECHO_REQUEST, ofp.OFPT_ECHO_REPLY) and version != 0:
                return  # a keepalive crossing the HELLOs on the wire
            if msg_type != ofp.OFPT_HELLO or version == 0:
                raise ProtocolViolation('first message is not an OpenFlow HELLO (version 0x%02x, type %d)'
                                        % (version, msg_type))
            return  # version negotiation itself is Ryu's: it answers HELLO_FAILED (and logs) without 1.0
        if version != self.version:
            raise ProtocolViolation('version 0x%02x message (type %d) on an OpenFlow 0x%02x session'
                                    % (version, msg_type, self.version))
        if msg_type not in SWITCH_MESSAGES:
            raise ProtocolViolation('message type %d is not one an OpenFlow 1.0 switch sends' % msg_type)
        minimum, exact = SWITCH_MESSAGES[msg_type]
        if length < minimum or (exact is not None and length != exact):
            raise ProtocolViolation('%s message of %d bytes (%s %d)' % (
                _type_name(msg_type), length, 'expected' if exact else 'at least', exact or minimum))
        if msg_type == ofp.OFPT_FEATURES_REPLY and (length - minimum) % PHY_PORT_SIZE:
            raise ProtocolViolation('FEATURES_REPLY of %d bytes is not 32 + 48 per port' % length)


def _type_name(msg_type):
    for name in dir(ofp):
        if name.startswith('OFPT_') and getattr(ofp, name) == msg_type:
            return name[len('OFPT_'):]
    return 'type %d' % msg_type
