"""What a switch may send on an OpenFlow 1.0 session. Pure: the session (apps/session.py) feeds it each
message's raw bytes before Ryu parses them, and disconnects the peer on the ProtocolViolation it raises.

Ryu 4.34 alone keeps reading after garbage: it treats a length below 8 as 8, logs a traceback for a type it has no
parser for and drops the message, and lets a version-4 message through to handlers written for 1.0. Here any of
these ends the session with one log line; the other switches never notice.
"""
from controller import of10


HEADER_SIZE = of10.HEADER_SIZE  # read for every message a switch sends: bound once


class ProtocolViolation(Exception):
    """The peer broke OpenFlow 1.0 framing or sent something a 1.0 switch never sends: disconnect it."""


class PeerCheck:
    """One per connection. `check(header)` with each message's first 8 bytes as soon as they arrive (before the
    rest is awaited, so a bogus length is caught at once); raises ProtocolViolation."""

    def __init__(self, version=of10.OFP_VERSION):
        self.version = version
        self.hello_seen = False
        self.pending = None  # the header of the message whose body is still awaited

    def check(self, data):
        """The receiver may look at one header several times while the body trickles in: checked once."""
        if len(data) < HEADER_SIZE:
            raise ProtocolViolation('truncated header (%d bytes)' % len(data))
        data = bytes(data[:HEADER_SIZE])
        if data == self.pending:
            return
        self._check(data)
        self.pending = data

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
                return  # a keepalive crossing the HELLOs on the wire
            if msg_type != of10.OFPT_HELLO or version == 0:
                raise ProtocolViolation('first message is not an OpenFlow HELLO (version 0x%02x, type %d)'
                                        % (version, msg_type))
            return  # version negotiation itself is Ryu's: it answers HELLO_FAILED (and logs) without 1.0
        if version != self.version:
            raise ProtocolViolation('version 0x%02x message (type %d) on an OpenFlow 0x%02x session'
                                    % (version, msg_type, self.version))
        if msg_type not in of10.SWITCH_MESSAGES:
            raise ProtocolViolation('message type %d is not one an OpenFlow 1.0 switch sends' % msg_type)
        minimum, exact = of10.SWITCH_MESSAGES[msg_type]
        if length < minimum or (exact is not None and length != exact):
            raise ProtocolViolation('%s message of %d bytes (%s %d)' % (
                of10.type_name(msg_type), length, 'expected' if exact else 'at least', exact or minimum))
        if msg_type == of10.OFPT_FEATURES_REPLY and (length - minimum) % of10.PHY_PORT_SIZE:
            raise ProtocolViolation('FEATURES_REPLY of %d bytes is not 32 + 48 per port' % length)
