"""What a switch may send on an OpenFlow 1.0 session. Pure: the session (apps/session.py) feeds it each
message's raw bytes before Ryu parses them, and disconnects the peer on the ProtocolViolation it raises.

Ryu 4.34 alone keeps reading after garbage: it treats a length below 8 as 8, logs a traceback for a type it has no
parser for and drops the message, and lets a version-4 message through to handlers written for 1.0. Here any of
these ends the session with one log line; the other switches never notice.

One tolerated quirk: cbench's fake switch (the standard controller benchmark) answers GET_CONFIG with the length
in host byte order (0x0c00, 3,072, for 12). A fixed-size message whose length is exactly its size byte-swapped
is read at its real size, and the session is told once (`quirks`): the switch is not Open vSwitch, so what its
GET_CONFIG says about the connection's kind means nothing.
"""
from controller import of10


HEADER_SIZE = of10.HEADER_SIZE  # read for every message a switch sends: bound once


class ProtocolViolation(Exception):
    """The peer broke OpenFlow 1.0 framing or sent something a 1.0 switch never sends: disconnect it."""


HOST_ORDER_LENGTH = 'GET_CONFIG_REPLY length in host byte order'


def _byte_swapped(length):
    return (length & 0xff) << 8 | length >> 8


class PeerCheck:
    """One per connection. `check(header)` with each message's first 8 bytes as soon as they arrive (before the
    rest is awaited, so a bogus length is caught at once); raises ProtocolViolation."""

    def __init__(self, version=of10.OFP_VERSION, note=lambda quirk: None):
        self.version = version
        self.hello_seen = False
        self.pending = None  # the header of the message whose body is still awaited
        self.pending_length = 0
        self.quirks = set()  # tolerated departures from OpenFlow 1.0 seen on this connection
        self.note = note     # called once per quirk, when it is first seen

    def check(self, data):
        """-> the message's length (its header's, but for a tolerated quirk). The receiver may look at one
        header several times while the body trickles in: checked once."""
        if len(data) < HEADER_SIZE:
            raise ProtocolViolation('truncated header (%d bytes)' % len(data))
        data = bytes(data[:HEADER_SIZE])
        if data != self.pending:
            self.pending_length = self._check(data)
            self.pending = data
        return self.pending_length

    def received(self):
        """The message whose header was checked last has arrived whole."""
        if not self.hello_seen and self.pending is not None and of10.type_of(self.pending) == of10.OFPT_HELLO:
            self.hello_seen = True
        self.pending = None

    def _check(self, data):
        version, msg_type, length, _xid = of10.header_at(data)
        if length < HEADER_SIZE:
            raise ProtocolViolation('message length %d is shorter than the OpenFlow header' % length)
        if not self.hello_seen:
            if msg_type in (of10.OFPT_ECHO_REQUEST, of10.OFPT_ECHO_REPLY) and version != 0:
                return length  # a keepalive crossing the HELLOs on the wire
            if msg_type != of10.OFPT_HELLO or version == 0:
                raise ProtocolViolation('first message is not an OpenFlow HELLO (version 0x%02x, type %d)'
                                        % (version, msg_type))
            return length  # version negotiation itself is Ryu's: it answers HELLO_FAILED (and logs) without 1.0
        if version != self.version:
            raise ProtocolViolation('version 0x%02x message (type %d) on an OpenFlow 0x%02x session'
                                    % (version, msg_type, self.version))
        if msg_type not in of10.SWITCH_MESSAGES:
            raise ProtocolViolation('message type %d is not one an OpenFlow 1.0 switch sends' % msg_type)
        minimum, exact = of10.SWITCH_MESSAGES[msg_type]
        if msg_type == of10.OFPT_GET_CONFIG_REPLY and length == _byte_swapped(exact):
            if HOST_ORDER_LENGTH not in self.quirks:
                self.quirks.add(HOST_ORDER_LENGTH)
                self.note(HOST_ORDER_LENGTH)
            return exact
        if length < minimum or (exact is not None and length != exact):
            raise ProtocolViolation('%s message of %d bytes (%s %d)' % (
                of10.type_name(msg_type), length, 'expected' if exact else 'at least', exact or minimum))
        if msg_type == of10.OFPT_FEATURES_REPLY and (length - minimum) % of10.PHY_PORT_SIZE:
            raise ProtocolViolation('FEATURES_REPLY of %d bytes is not 32 + 48 per port' % length)
        return length
