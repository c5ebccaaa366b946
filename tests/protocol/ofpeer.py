"""A scripted OpenFlow 1.0 switch: plain blocking sockets and one reader thread, no eventlet.

Ryu's own OpenFlow 1.0 classes parse and serialize every message. Ryu only ships parsers for what a
controller receives and serializers for what a controller sends, so this module adds the reverse
direction: decoders for controller-to-switch requests (FEATURES_REQUEST, BARRIER_REQUEST, STATS_REQUEST...)
and serializers for switch-to-controller replies (FEATURES_REPLY, STATS_REPLY, PORT_STATUS...), each a
small subclass of the ryu class of the same message.

Typical use::

    peer = OFPeer(controller.ofp_port, dpid=0xa296ffdd5645).connect()
    peer.wait_ready()                        # handshake done and the controller's first barrier arrived
    mark = peer.mark()
    ... push a flow over REST ...
    fm = peer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark)
    peer.close()

Every message received is kept, in order, with its arrival time (`msg.received_at`, time.monotonic()).
The peer answers what a switch must answer (ECHO, FEATURES, BARRIER, GET_CONFIG, STATS, QUEUE_GET_CONFIG),
applies flow-mods to a small flow table (`flow_table()`) that flow stats replies report (split into
OFPSF_REPLY_MORE parts like a real switch when large), can start with flows already installed (`flows=`) and
reject chosen flow-mods with an OpenFlow error (`reject_flow_mod=`), can hold its replies back to open race
windows (`hold_replies=`, `release_held()`), and answers any message type it does not know with an OFPT_ERROR
as a switch would. Behaviour switches (`answer_echo`, `answer_barrier`, `answer_features`)
can be flipped at any time from the test thread.
"""
import itertools
import socket
import struct
import threading
import time

from ryu.lib import addrconv
from ryu.lib.pack_utils import msg_pack_into
from ryu.ofproto import ofproto_parser
from ryu.ofproto import ofproto_v1_0 as ofp
from ryu.ofproto import ofproto_v1_0_parser as parser
from ryu.ofproto.ofproto_protocol import ProtocolDesc

DATAPATH = ProtocolDesc(ofp.OFP_VERSION)  # what ryu's serializers need from a "datapath": the version
DEFAULT_TIMEOUT = 5.0
NO_BUFFER = 0xffffffff
STATS_BODY_MAX = 0xffff - ofp.OFP_STATS_MSG_SIZE  # an OpenFlow message is at most 64 KiB

MSG_TYPE_NAMES = {getattr(ofp, name): name[len('OFPT_'):] for name in dir(ofp)
                  if name.startswith('OFPT_') and isinstance(getattr(ofp, name), int)}
FLOW_MOD_COMMAND_NAMES = {ofp.OFPFC_ADD: 'ADD', ofp.OFPFC_MODIFY: 'MODIFY', ofp.OFPFC_MODIFY_STRICT: 'MODIFY_STRICT',
                          ofp.OFPFC_DELETE: 'DELETE', ofp.OFPFC_DELETE_STRICT: 'DELETE_STRICT'}
# What a switch exchanges before it counts the controller as "really" talking to it (OVS leaves fail-open
# only on the first message outside this set).
HANDSHAKE_TYPES = frozenset((ofp.OFPT_HELLO, ofp.OFPT_FEATURES_REQUEST, ofp.OFPT_ECHO_REQUEST,
                             ofp.OFPT_ECHO_REPLY))

DEFAULT_CAPABILITIES = (ofp.OFPC_FLOW_STATS | ofp.OFPC_TABLE_STATS | ofp.OFPC_PORT_STATS | ofp.OFPC_QUEUE_STATS
                        | ofp.OFPC_ARP_MATCH_IP)
DEFAULT_ACTIONS = (1 << (ofp.OFPAT_ENQUEUE + 1)) - 1  # every OF1.0 action, as OVS advertises
DEFAULT_PORT_FEATURES = ofp.OFPPF_10GB_FD | ofp.OFPPF_COPPER


def type_name(msg_type):
    return MSG_TYPE_NAMES.get(msg_type, 'TYPE_%d' % msg_type)


def describe(msg):
    """One line for assertion messages: type, xid and what matters of a flow-mod."""
    text = '%s xid=%#x' % (type_name(msg.msg_type), msg.xid)
    if msg.msg_type == ofp.OFPT_FLOW_MOD:
        text += ' %s cookie=%#018x priority=%d wildcards=%#x actions=%s' % (
            FLOW_MOD_COMMAND_NAMES.get(msg.command, msg.command), msg.cookie, msg.priority, msg.match.wildcards,
            [type(a).__name__ for a in msg.actions])
    return text


# ---------------------------------------------------------------------------------------------------------
# Ports

def make_port(port_no, name=None, hw_addr=None, config=0, state=0, curr=DEFAULT_PORT_FEATURES):
    """An OFPPhyPort as a switch would describe it (`s1-eth3`, a locally administered MAC)."""
    return parser.OFPPhyPort(
        port_no=port_no, hw_addr=hw_addr or '02:00:00:00:%02x:%02x' % ((port_no >> 8) & 0xff, port_no & 0xff),
        name=(name or 's1-eth%d' % port_no).encode(), config=config, state=state, curr=curr,
        advertised=curr, supported=curr, peer=0)


def pack_port(port):
    name = port.name.encode() if isinstance(port.name, str) else port.name
    return struct.pack(ofp.OFP_PHY_PORT_PACK_STR, port.port_no, addrconv.mac.text_to_bin(port.hw_addr), name,
                       port.config, port.state, port.curr, port.advertised, port.supported, port.peer)


def hello_with_version_bitmap(versions, xid=0):
    """A HELLO offering several versions (OpenFlow 1.3.1+ encoding, understood by ryu): header version = the
    highest, one OFPHET_VERSIONBITMAP element. Built by hand: ryu does not serialize hello elements."""
    bitmap = 0
    for version in versions:
        bitmap |= 1 << version
    element = struct.pack('!HHI', 1, 8, bitmap)  # OFPHET_VERSIONBITMAP, length, one 32-bit bitmap
    return struct.pack('!BBHI', max(versions), ofp.OFPT_HELLO, 8 + len(element), xid) + element


def make_flow_mod(match, cookie=0, priority=ofp.OFP_DEFAULT_PRIORITY, actions=(), command=ofp.OFPFC_ADD,
                  idle_timeout=0, hard_timeout=0, flags=0):
    """A flow-mod as if received (bytes included): for `OFPeer(flows=...)`, a switch that already has flows."""
    msg = parser.OFPFlowMod(DATAPATH, match, cookie, command, idle_timeout, hard_timeout, priority, NO_BUFFER,
                            ofp.OFPP_NONE, flags, list(actions))
    return decode(encode(msg, xid=0))


# ---------------------------------------------------------------------------------------------------------
# Switch-to-controller messages ryu can parse but not serialize: the same classes with a body serializer.

class FeaturesReply(parser.OFPSwitchFeatures):
    def __init__(self, datapath, datapath_id, ports, n_buffers=256, n_tables=1,
                 capabilities=DEFAULT_CAPABILITIES, actions=DEFAULT_ACTIONS):
        super().__init__(datapath, datapath_id, n_buffers, n_tables, capabilities, actions, list(ports))

    def _serialize_body(self):
        msg_pack_into(ofp.OFP_SWITCH_FEATURES_PACK_STR, self.buf, ofp.OFP_HEADER_SIZE, self.datapath_id,
                      self.n_buffers, self.n_tables, self.capabilities, self.actions)
        for port in self.ports:
            self.buf += pack_port(port)


class GetConfigReply(parser.OFPGetConfigReply):
    def __init__(self, datapath, flags=ofp.OFPC_FRAG_NORMAL, miss_send_len=128):
        super().__init__(datapath)
        self.flags = flags
        self.miss_send_len = miss_send_len

    def _serialize_body(self):
        msg_pack_into(ofp.OFP_SWITCH_CONFIG_PACK_STR, self.buf, ofp.OFP_HEADER_SIZE, self.flags,
                      self.miss_send_len)


class StatsReply(parser.OFPStatsReply):
    """Any stats reply: the stats type, flags and the already-packed body."""

    def __init__(self, datapath, stats_type, body=b'', flags=0):
        super().__init__(datapath)
        self.type = stats_type
        self.flags = flags
        self.body = body

    def _serialize_body(self):
        msg_pack_into(ofp.OFP_STATS_MSG_PACK_STR, self.buf, ofp.OFP_HEADER_SIZE, self.type, self.flags)
        self.buf += self.body


class QueueGetConfigReply(parser.OFPQueueGetConfigReply):
    def __init__(self, datapath, port):
        super().__init__(datapath)
        self.port = port
        self.queues = []

    def _serialize_body(self):
        msg_pack_into(ofp.OFP_QUEUE_GET_CONFIG_REPLY_PACK_STR, self.buf, ofp.OFP_HEADER_SIZE, self.port)


class PortStatus(parser.OFPPortStatus):
    def _serialize_body(self):
        msg_pack_into('!B7x', self.buf, ofp.OFP_HEADER_SIZE, self.reason)
        self.buf += pack_port(self.desc)


class PacketIn(parser.OFPPacketIn):
    def __init__(self, datapath, in_port, data, reason=ofp.OFPR_NO_MATCH, buffer_id=NO_BUFFER, total_len=None):
        super().__init__(datapath, buffer_id, len(data) if total_len is None else total_len, in_port, reason,
                         data)

    def _serialize_body(self):
        msg_pack_into(ofp.OFP_PACKET_IN_PACK_STR, self.buf, ofp.OFP_HEADER_SIZE, self.buffer_id, self.total_len,
                      self.in_port, self.reason)
        self.buf += self.data


class FlowRemoved(parser.OFPFlowRemoved):
    def __init__(self, datapath, match, cookie, priority, reason, idle_timeout=0, duration_sec=0,
                 duration_nsec=0, packet_count=0, byte_count=0):
        super().__init__(datapath)
        self.match = match
        self.cookie = cookie
        self.priority = priority
        self.reason = reason
        self.idle_timeout = idle_timeout
        self.duration_sec = duration_sec
        self.duration_nsec = duration_nsec
        self.packet_count = packet_count
        self.byte_count = byte_count

    def _serialize_body(self):
        self.match.serialize(self.buf, ofp.OFP_HEADER_SIZE)
        msg_pack_into(ofp.OFP_FLOW_REMOVED_PACK_STR0, self.buf, ofp.OFP_HEADER_SIZE + ofp.OFP_MATCH_SIZE,
                      self.cookie, self.priority, self.reason, self.duration_sec, self.duration_nsec,
                      self.idle_timeout, self.packet_count, self.byte_count)


# ---------------------------------------------------------------------------------------------------------
# Controller-to-switch messages ryu can serialize but not parse.

class UnparsedMessage(ofproto_parser.MsgBase):
    """A message this module has no decoder for: header fields and raw bytes only."""

    def __init__(self, datapath, msg_type=None):
        super().__init__(datapath)
        self.msg_type = msg_type

    @classmethod
    def from_header(cls, version, msg_type, msg_len, xid, buf):
        msg = cls(DATAPATH, msg_type)
        msg.version, msg.msg_len, msg.xid = version, msg_len, xid
        msg.set_buf(buf)
        return msg


def _with_header(msg, version, msg_type, msg_len, xid, buf):
    msg.set_headers(version, msg_type, msg_len, xid)
    msg.set_buf(buf)
    return msg


def _decode_header_only(cls):
    return lambda version, msg_type, msg_len, xid, buf: _with_header(cls(DATAPATH), version, msg_type, msg_len,
                                                                     xid, buf)


def _decode_set_config(version, msg_type, msg_len, xid, buf):
    flags, miss_send_len = struct.unpack_from(ofp.OFP_SWITCH_CONFIG_PACK_STR, buf, ofp.OFP_HEADER_SIZE)
    return _with_header(parser.OFPSetConfig(DATAPATH, flags, miss_send_len), version, msg_type, msg_len, xid, buf)


def _decode_packet_out(version, msg_type, msg_len, xid, buf):
    buffer_id, in_port, actions_len = struct.unpack_from(ofp.OFP_PACKET_OUT_PACK_STR, buf, ofp.OFP_HEADER_SIZE)
    offset = ofp.OFP_PACKET_OUT_SIZE
    actions = []
    while offset < ofp.OFP_PACKET_OUT_SIZE + actions_len:
        action = parser.OFPAction.parser(buf, offset)
        actions.append(action)
        offset += action.len
    msg = parser.OFPPacketOut(DATAPATH, buffer_id, in_port, actions, bytes(buf[offset:msg_len]) or None)
    return _with_header(msg, version, msg_type, msg_len, xid, buf)


def _decode_stats_request(version, msg_type, msg_len, xid, buf):
    stats_type, flags = struct.unpack_from(ofp.OFP_STATS_MSG_PACK_STR, buf, ofp.OFP_HEADER_SIZE)
    body = ofp.OFP_STATS_MSG_SIZE
    if stats_type == ofp.OFPST_DESC:
        msg = parser.OFPDescStatsRequest(DATAPATH, flags)
    elif stats_type == ofp.OFPST_TABLE:
        msg = parser.OFPTableStatsRequest(DATAPATH, flags)
    elif stats_type in (ofp.OFPST_FLOW, ofp.OFPST_AGGREGATE):
        match = parser.OFPMatch.parse(buf, body)
        table_id, out_port = struct.unpack_from(ofp.OFP_FLOW_STATS_REQUEST_ID_PORT_STR, buf,
                                                body + ofp.OFP_MATCH_SIZE)
        cls = parser.OFPFlowStatsRequest if stats_type == ofp.OFPST_FLOW else parser.OFPAggregateStatsRequest
        msg = cls(DATAPATH, flags, match, table_id, out_port)
    elif stats_type == ofp.OFPST_PORT:
        (port_no,) = struct.unpack_from(ofp.OFP_PORT_STATS_REQUEST_PACK_STR, buf, body)
        msg = parser.OFPPortStatsRequest(DATAPATH, flags, port_no)
    elif stats_type == ofp.OFPST_QUEUE:
        port_no, queue_id = struct.unpack_from(ofp.OFP_QUEUE_STATS_REQUEST_PACK_STR, buf, body)
        msg = parser.OFPQueueStatsRequest(DATAPATH, flags, port_no, queue_id)
    elif stats_type == ofp.OFPST_VENDOR:
        (vendor,) = struct.unpack_from(ofp.OFP_VENDOR_STATS_MSG_PACK_STR, buf, body)
        msg = parser.OFPVendorStatsRequest(DATAPATH, flags, vendor, bytes(buf[body + 4:msg_len]))
    else:
        msg = UnparsedMessage.from_header(version, msg_type, msg_len, xid, buf)
        msg.type, msg.flags = stats_type, flags
        return msg
    return _with_header(msg, version, msg_type, msg_len, xid, buf)


def _decode_queue_get_config_request(version, msg_type, msg_len, xid, buf):
    (port,) = struct.unpack_from(ofp.OFP_QUEUE_GET_CONFIG_REQUEST_PACK_STR, buf, ofp.OFP_HEADER_SIZE)
    return _with_header(parser.OFPQueueGetConfigRequest(DATAPATH, port), version, msg_type, msg_len, xid, buf)


def _decode_vendor(version, msg_type, msg_len, xid, buf):
    """Nicira vendor messages: NXT_ROLE_REQUEST gets `nx_subtype` and `role`; others only the subtype."""
    msg = UnparsedMessage.from_header(version, msg_type, msg_len, xid, buf)
    msg.vendor = msg.nx_subtype = msg.role = None
    if msg_len >= 16:
        msg.vendor, msg.nx_subtype = struct.unpack_from('!II', buf, ofp.OFP_HEADER_SIZE)
        if msg.vendor == NX_VENDOR_ID and msg.nx_subtype == NXT_ROLE_REQUEST and msg_len >= 20:
            (msg.role,) = struct.unpack_from('!I', buf, 16)
    return msg


NX_VENDOR_ID = 0x00002320
NXT_ROLE_REQUEST = 10
NX_ROLE_SLAVE = 2

_REQUEST_DECODERS = {
    ofp.OFPT_VENDOR: _decode_vendor,
    ofp.OFPT_FEATURES_REQUEST: _decode_header_only(parser.OFPFeaturesRequest),
    ofp.OFPT_GET_CONFIG_REQUEST: _decode_header_only(parser.OFPGetConfigRequest),
    ofp.OFPT_BARRIER_REQUEST: _decode_header_only(parser.OFPBarrierRequest),
    ofp.OFPT_SET_CONFIG: _decode_set_config,
    ofp.OFPT_PACKET_OUT: _decode_packet_out,
    ofp.OFPT_STATS_REQUEST: _decode_stats_request,
    ofp.OFPT_QUEUE_GET_CONFIG_REQUEST: _decode_queue_get_config_request,
}
# Types ryu's OF1.0 parser understands (those a controller receives, plus FLOW_MOD).
_RYU_PARSED = frozenset((ofp.OFPT_HELLO, ofp.OFPT_ERROR, ofp.OFPT_ECHO_REQUEST, ofp.OFPT_ECHO_REPLY,
                         ofp.OFPT_VENDOR, ofp.OFPT_FEATURES_REPLY, ofp.OFPT_PORT_STATUS, ofp.OFPT_PACKET_IN,
                         ofp.OFPT_GET_CONFIG_REPLY, ofp.OFPT_BARRIER_REPLY, ofp.OFPT_FLOW_REMOVED,
                         ofp.OFPT_QUEUE_GET_CONFIG_REPLY, ofp.OFPT_STATS_REPLY, ofp.OFPT_FLOW_MOD))


def decode(buf):
    """One whole message (bytes) -> a ryu message object (or UnparsedMessage), with header fields set."""
    version, msg_type, msg_len, xid = ofproto_parser.header(buf)
    buf = bytes(buf[:msg_len])
    msg = None
    if version == ofp.OFP_VERSION:
        if msg_type in _REQUEST_DECODERS:
            msg = _REQUEST_DECODERS[msg_type](version, msg_type, msg_len, xid, buf)
        elif msg_type in _RYU_PARSED:
            msg = ofproto_parser.msg(DATAPATH, version, msg_type, msg_len, xid, buf)
    if msg is None:
        msg = UnparsedMessage.from_header(version, msg_type, msg_len, xid, buf)
    return msg


def encode(msg, xid=None):
    """Serialize a ryu message (datapath and xid filled in here) -> bytes."""
    msg.datapath = DATAPATH
    if xid is not None:
        msg.xid = xid
    msg.serialize()
    return bytes(msg.buf)


# ---------------------------------------------------------------------------------------------------------

class PeerClosed(AssertionError):
    """The connection ended while a test waited for a message."""


class OFPeer:
    """One scripted OpenFlow 1.0 switch connection to a controller."""

    def __init__(self, port, dpid, host='127.0.0.1', ports=(1, 2, 3), answer_echo=True, answer_barrier=True,
                 answer_features=True, n_buffers=256, n_tables=1, name=None, flows=(), reject_flow_mod=None,
                 hello_versions=(ofp.OFP_VERSION,), hold_replies=(), miss_send_len=128, answer_roles=True,
                 config_length_host_order=False, packet_in_after_features=None):
        """hold_replies: OFPT_* request types whose replies are built on arrival (a snapshot, as a switch would)
        but kept in `held` until release_held(): to open a window between a switch's answer and its delivery.
        hello_versions: the OpenFlow wire versions our HELLO offers; more than just 1.0 sends the highest in the
        header and all of them in a version bitmap, as OVS does with protocols=OpenFlow10,OpenFlow13.
        flows: flow-mods already in the table (e.g. `old_peer.flow_table().values()`: a switch that kept its
        flows across a reconnect). reject_flow_mod: callable(flow_mod) -> None to accept it, or an
        (OFPET_*, code) pair to answer it with that OpenFlow error instead of applying it.
        miss_send_len: 128 plays a primary connection (the switch dialed the controller), 0 a service one.
        answer_roles: answer Nicira role requests as OVS does (and refuse a SLAVE's flow-mods with EPERM);
        False answers them with BAD_REQUEST, as a switch without the extension.
        config_length_host_order: answer GET_CONFIG with the length in host byte order (0x0c00 for 12), as
        cbench's fake switch does.
        packet_in_after_features: (in_port, frame, buffer_id) sent right behind the FEATURES_REPLY, as cbench
        sends its ARP.
        """
        self.host = host
        self.port = port
        self.dpid = dpid
        self.ports = [p if isinstance(p, parser.OFPPhyPort) else make_port(p) for p in ports]
        self.answer_echo = answer_echo
        self.answer_barrier = answer_barrier
        self.answer_features = answer_features
        self.reject_flow_mod = reject_flow_mod
        self.hello_versions = tuple(hello_versions)
        self.hold_replies = set(hold_replies)
        self.held = []                     # (reply, xid) built but not sent yet; see hold_replies
        self.n_buffers = n_buffers
        self.n_tables = n_tables
        self.name = name or 'peer-%016x' % dpid
        self.switch_config = (ofp.OFPC_FRAG_NORMAL, miss_send_len)  # (flags, miss_send_len); SET_CONFIG
        self.answer_roles = answer_roles
        self.config_length_host_order = config_length_host_order
        self.packet_in_after_features = packet_in_after_features
        self.role = 0                      # NX_ROLE_OTHER until a role request changes it
        self.port_counters = {}            # port_no -> (rx_bytes, tx_bytes) a PORT stats request reports

        self.sock = None
        self.local_address = None          # (host, port) of our end, as the controller sees it
        self.features_replied_at = None    # time.monotonic() just before FEATURES_REPLY went out
        self.features_sent = False
        self.closed_at = None              # time.monotonic() when the connection ended
        self.closed_by_controller = False  # True when the controller ended it (EOF or reset), not close()
        self.sent = []                     # every message we sent, in order

        self._messages = []
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._closing = False
        self._reader = None
        self._xids = itertools.count(0x5eed0001)
        self._flows = {}                   # (priority, match bytes) -> flow-mod; see flow_table()
        for flow_mod in flows:
            self._flows[(flow_mod.priority, _match_key(flow_mod))] = flow_mod

    def __repr__(self):
        return '<OFPeer %s dpid=%016x local=%s>' % (self.name, self.dpid, self.local_address)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- connection -----------------------------------------------------------------------------------

    def connect(self, timeout=DEFAULT_TIMEOUT):
        """Open TCP, start reading, send HELLO (a switch says hello first, without waiting)."""
        return self._start(socket.create_connection((self.host, self.port), timeout=timeout))

    def accept(self, listener, timeout=DEFAULT_TIMEOUT):
        """Play a switch's `ptcp:` listener: wait for a service controller to dial `listener`, then as connect()."""
        listener.settimeout(timeout)
        sock, _address = listener.accept()
        return self._start(sock)

    def _start(self, sock):
        self.sock = sock
        self.sock.settimeout(None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.local_address = self.sock.getsockname()[:2]
        self._reader = threading.Thread(target=self._read_loop, name='ofpeer-%s' % self.name, daemon=True)
        self._reader.start()
        if self.hello_versions == (ofp.OFP_VERSION,):
            self.send(parser.OFPHello(DATAPATH))
        else:
            self.send_raw(hello_with_version_bitmap(self.hello_versions, self.next_xid()))
        return self

    @property
    def local_port(self):
        return self.local_address[1]

    @property
    def connected(self):
        return self.sock is not None and self.closed_at is None

    def close(self, abort=False):
        """End the connection from our side. abort=True sends a TCP reset, as a crashed switch would."""
        if self.sock is None:
            return
        self._closing = True
        try:
            if abort:
                # close() with a zero linger time resets the connection; SHUT_RD first only wakes our reader
                # (it sends nothing, so no FIN goes out before the RST)
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                self.sock.shutdown(socket.SHUT_RD)
            else:
                self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(DEFAULT_TIMEOUT)
        try:
            self.sock.close()
        except OSError:
            pass

    def wait_closed(self, timeout=DEFAULT_TIMEOUT):
        """Wait until the controller ends the connection; True if it did, False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self.closed_at is not None, timeout)

    # --- sending --------------------------------------------------------------------------------------

    def next_xid(self):
        return next(self._xids)

    def send(self, msg, xid=None):
        """Serialize and send a ryu message; returns its xid (a fresh one unless given or already set)."""
        if xid is None and msg.xid is None:
            xid = self.next_xid()
        data = encode(msg, xid)
        self.send_raw(data)
        self.sent.append(msg)
        return msg.xid

    def send_raw(self, data):
        with self._send_lock:
            self.sock.sendall(data)

    def echo(self, data=b'', timeout=DEFAULT_TIMEOUT, xid=None):
        """Send ECHO_REQUEST, wait for the ECHO_REPLY with the same xid, return it."""
        mark = self.mark()
        xid = self.send(parser.OFPEchoRequest(DATAPATH, data), xid=xid)
        return self.wait_for_message(ofp.OFPT_ECHO_REPLY, timeout, since=mark, where=lambda m: m.xid == xid)

    def release_held(self):
        """Send the replies kept back by `hold_replies`, in order; returns how many were sent."""
        with self._cond:
            held, self.held = self.held, []
        for reply, xid in held:
            self.send(reply, xid=xid)
        return len(held)

    def send_port_status(self, reason, port):
        return self.send(PortStatus(DATAPATH, reason, port))

    def send_packet_in(self, in_port, data, reason=ofp.OFPR_NO_MATCH, buffer_id=NO_BUFFER):
        return self.send(PacketIn(DATAPATH, in_port, data, reason, buffer_id))

    def send_flow_removed(self, flow_mod, reason=ofp.OFPRR_IDLE_TIMEOUT, **counters):
        """Tell the controller a flow it installed expired (match/cookie/priority taken from its flow-mod)."""
        with self._cond:
            self._flows.pop((flow_mod.priority, _match_key(flow_mod)), None)
        return self.send(FlowRemoved(DATAPATH, flow_mod.match, flow_mod.cookie, flow_mod.priority, reason,
                                     idle_timeout=flow_mod.idle_timeout, **counters))

    # --- what was received ----------------------------------------------------------------------------

    def mark(self):
        """Index of the next message to arrive: pass it as `since` to look only at what came after."""
        with self._cond:
            return len(self._messages)

    def received(self, msg_type=None, since=0):
        """Messages received so far (optionally of one OFPT_* type), in arrival order."""
        with self._cond:
            msgs = self._messages[since:]
        return [m for m in msgs if msg_type is None or m.msg_type == msg_type]

    def flow_mods(self, since=0, command=None):
        return [m for m in self.received(ofp.OFPT_FLOW_MOD, since) if command is None or m.command == command]

    def received_stats_requests(self, stats_type=ofp.OFPST_PORT):
        """How many statistics requests of one type arrived."""
        return sum(1 for m in self.received(ofp.OFPT_STATS_REQUEST) if m.type == stats_type)

    def barrier_requests(self, since=0):
        return self.received(ofp.OFPT_BARRIER_REQUEST, since)

    def wait_for(self, predicate, timeout=DEFAULT_TIMEOUT, what='a condition'):
        """Wait until predicate(list of received messages) is truthy; return its value or fail with a dump."""
        with self._cond:
            self._cond.wait_for(lambda: predicate(self._messages) or self.closed_at is not None, timeout)
            value = predicate(self._messages)
            ended = self.closed_at is not None
        if value:
            return value
        if ended:
            raise PeerClosed('%s: connection closed while waiting for %s; received:\n%s'
                             % (self, what, self.dump()))
        raise AssertionError('%s: timed out after %.1f s waiting for %s; received:\n%s'
                             % (self, timeout, what, self.dump()))

    def wait_for_message(self, msg_type, timeout=DEFAULT_TIMEOUT, since=0, where=None):
        """The first message of type `msg_type` (an OFPT_* number) at index >= since that satisfies `where`."""
        return self.wait_for_messages(msg_type, 1, timeout, since, where)[0]

    def wait_for_messages(self, msg_type, count, timeout=DEFAULT_TIMEOUT, since=0, where=None):
        """The first `count` messages of a type at index >= since (that satisfy `where`).

        Scans each message once, however many arrive while waiting (benchmarks wait for thousands).
        """
        found, scanned = [], [since]

        def find(msgs):
            for i in range(scanned[0], len(msgs)):
                if len(found) >= count:
                    break
                msg = msgs[i]
                scanned[0] = i + 1
                if msg.msg_type == msg_type and (where is None or where(msg)):
                    found.append(msg)
            return found if len(found) >= count else None
        what = '%s%s since #%d' % ('' if count == 1 else '%d x ' % count, type_name(msg_type), since)
        return self.wait_for(find, timeout, what=what)

    def wait_handshake(self, timeout=DEFAULT_TIMEOUT):
        """Until we answered FEATURES_REQUEST (the controller knows our DPID)."""
        self.wait_for(lambda msgs: self.features_sent, timeout, what='FEATURES_REQUEST')
        return self

    def wait_ready(self, timeout=DEFAULT_TIMEOUT):
        """Until the first message outside the handshake arrives after our FEATURES_REPLY (OVS's cue to leave
        fail-open). Returns that message."""
        self.wait_handshake(timeout)

        def first_after_handshake(msgs):
            for msg in msgs:
                if msg.received_at >= self.features_replied_at and msg.msg_type not in HANDSHAKE_TYPES:
                    return msg
            return None
        return self.wait_for(first_after_handshake, timeout, what='the first message after the handshake')

    def dump(self, since=0):
        return '\n'.join('  #%d %s' % (i, describe(m)) for i, m in enumerate(self.received(since=since), since)) \
            or '  (nothing)'

    def flow_table(self):
        """{(priority, match bytes): flow-mod} as an OpenFlow 1.0 switch holds it after the flow-mods so far.

        ADD, MODIFY_STRICT and DELETE_STRICT are applied exactly; DELETE with an all-wildcard match empties the
        table; other non-strict MODIFY/DELETE are recorded but not applied.
        """
        with self._cond:
            return dict(self._flows)

    # --- the reader thread ----------------------------------------------------------------------------

    def _read_loop(self):
        buf = bytearray()
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                buf += data
                while len(buf) >= ofp.OFP_HEADER_SIZE:
                    _version, _type, msg_len, _xid = ofproto_parser.header(buf)
                    msg_len = max(msg_len, ofp.OFP_HEADER_SIZE)
                    if len(buf) < msg_len:
                        break
                    msg = decode(buf[:msg_len])
                    del buf[:msg_len]
                    msg.received_at = time.monotonic()
                    with self._cond:
                        self._apply(msg)
                        self._messages.append(msg)
                        self._cond.notify_all()
                    self._answer(msg)
        except OSError:
            pass
        finally:
            with self._cond:
                self.closed_by_controller = not self._closing
                self.closed_at = time.monotonic()
                self._cond.notify_all()
            if not self._closing:
                try:  # the controller hung up: close our end too, as a switch would
                    self.sock.close()
                except OSError:
                    pass

    def _apply(self, msg):
        if msg.msg_type == ofp.OFPT_SET_CONFIG:
            self.switch_config = (msg.flags, msg.miss_send_len)
        elif msg.msg_type == ofp.OFPT_VENDOR and msg.role is not None and self.answer_roles:
            self.role = msg.role
        elif msg.msg_type in (ofp.OFPT_FLOW_MOD, ofp.OFPT_PACKET_OUT) and self.role == NX_ROLE_SLAVE:
            msg.rejected_with = (ofp.OFPET_BAD_REQUEST, ofp.OFPBRC_EPERM)  # as OVS refuses a slave's writes
            return
        elif msg.msg_type == ofp.OFPT_FLOW_MOD:
            msg.rejected_with = self.reject_flow_mod(msg) if self.reject_flow_mod is not None else None
            if msg.rejected_with:
                return
            key = (msg.priority, _match_key(msg))
            if msg.command in (ofp.OFPFC_ADD, ofp.OFPFC_MODIFY_STRICT):
                self._flows[key] = msg
            elif msg.command == ofp.OFPFC_DELETE_STRICT:
                self._flows.pop(key, None)
            elif msg.command == ofp.OFPFC_DELETE and msg.match.wildcards & ofp.OFPFW_ALL == ofp.OFPFW_ALL:
                self._flows.clear()

    def _answer(self, msg):
        try:
            if msg.msg_type == ofp.OFPT_FEATURES_REQUEST:
                if self.answer_features:
                    features = FeaturesReply(DATAPATH, self.dpid, self.ports, self.n_buffers, self.n_tables)
                    with self._cond:
                        self.features_replied_at = time.monotonic()
                    self.send(features, xid=msg.xid)
                    if self.packet_in_after_features:
                        self.send_packet_in(*self.packet_in_after_features)
                    with self._cond:
                        self.features_sent = True
                        self._cond.notify_all()
                return
            replies = self._replies(msg)
            with self._cond:
                if replies and msg.msg_type in self.hold_replies:
                    self.held.extend((reply, msg.xid) for reply in replies)
                    self._cond.notify_all()
                    return
            for reply in replies:
                if isinstance(reply, bytes):
                    self.send_raw(reply)  # already encoded, quirks included
                else:
                    self.send(reply, xid=msg.xid)
        except OSError:
            pass  # the connection is going away; the read loop notices

    def _replies(self, msg):
        """What a switch answers to `msg`, built now from the current state: a list of messages."""
        t = msg.msg_type
        if t == ofp.OFPT_ECHO_REQUEST:
            return [parser.OFPEchoReply(DATAPATH, msg.data)] if self.answer_echo else []
        if t == ofp.OFPT_BARRIER_REQUEST:
            return [parser.OFPBarrierReply(DATAPATH)] if self.answer_barrier else []
        if t == ofp.OFPT_GET_CONFIG_REQUEST:
            reply = GetConfigReply(DATAPATH, *self.switch_config)
            if self.config_length_host_order:
                data = bytearray(encode(reply, msg.xid))
                data[2:4] = struct.pack('<H', len(data))
                return [bytes(data)]
            return [reply]
        if t == ofp.OFPT_STATS_REQUEST:
            return self._stats_replies(msg)
        if t == ofp.OFPT_QUEUE_GET_CONFIG_REQUEST:
            return [QueueGetConfigReply(DATAPATH, msg.port)]
        if t == ofp.OFPT_VENDOR and msg.role is not None and self.answer_roles:
            reply = parser.NXTRoleReply(DATAPATH, msg.role)
            reply.data = struct.pack('!I', msg.role)  # ryu only parses this message; its body is the role
            return [reply]
        if t == ofp.OFPT_PACKET_OUT and getattr(msg, 'rejected_with', None):
            return [self._error(msg.rejected_with[0], msg.rejected_with[1], msg)]
        if t == ofp.OFPT_FLOW_MOD:
            return [self._error(msg.rejected_with[0], msg.rejected_with[1], msg)] if msg.rejected_with else []
        if t in (ofp.OFPT_HELLO, ofp.OFPT_ECHO_REPLY, ofp.OFPT_ERROR, ofp.OFPT_SET_CONFIG, ofp.OFPT_PACKET_OUT,
                 ofp.OFPT_PORT_MOD):
            return []
        return [self._error(ofp.OFPET_BAD_REQUEST, ofp.OFPBRC_BAD_TYPE, msg)]

    def _stats_replies(self, msg):
        """The STATS_REPLY messages answering one request (flow stats split into parts below 64 KiB)."""
        if msg.type == ofp.OFPST_FLOW:
            with self._cond:
                flows = list(self._flows.values())
            parts, body = [], b''
            for flow_mod in flows:
                record = _flow_stats_record(flow_mod)
                if len(body) + len(record) > STATS_BODY_MAX:
                    parts.append(body)
                    body = b''
                body += record
            parts.append(body)
            return [StatsReply(DATAPATH, msg.type, part, ofp.OFPSF_REPLY_MORE if i < len(parts) - 1 else 0)
                    for i, part in enumerate(parts)]
        if msg.type == ofp.OFPST_DESC:
            body = struct.pack(ofp.OFP_DESC_STATS_PACK_STR, b'ofpeer', b'scripted OpenFlow 1.0 peer',
                               b'tests/protocol/ofpeer.py', b'0', self.name.encode()[:255])
        elif msg.type == ofp.OFPST_AGGREGATE:
            body = struct.pack(ofp.OFP_AGGREGATE_STATS_REPLY_PACK_STR, 0, 0, len(self._flows))
        elif msg.type == ofp.OFPST_PORT:
            body = b''.join(struct.pack(ofp.OFP_PORT_STATS_PACK_STR, port_no, 0, 0, rx, tx, *[0] * 8)
                            for port_no, (rx, tx) in sorted(dict(self.port_counters).items()))
        elif msg.type in (ofp.OFPST_TABLE, ofp.OFPST_QUEUE):
            body = b''  # no counters to report: an empty list is a valid answer
        else:
            return [self._error(ofp.OFPET_BAD_REQUEST, ofp.OFPBRC_BAD_STAT, msg)]
        return [StatsReply(DATAPATH, msg.type, body)]

    @staticmethod
    def _error(err_type, code, msg):
        return parser.OFPErrorMsg(DATAPATH, err_type, code, bytes(msg.buf[:64]))


def _match_key(flow_mod):
    return bytes(flow_mod.buf[ofp.OFP_HEADER_SIZE:ofp.OFP_HEADER_SIZE + ofp.OFP_MATCH_SIZE])


def _flow_stats_record(flow_mod):
    """One ofp_flow_stats for a flow installed by `flow_mod`: its match, priority, cookie and actions as sent
    (zero counters and duration)."""
    actions = bytes(flow_mod.buf[ofp.OFP_FLOW_MOD_SIZE:flow_mod.msg_len])
    length = ofp.OFP_FLOW_STATS_SIZE + len(actions)
    return (struct.pack(ofp.OFP_FLOW_STATS_0_PACK_STR, length, 0) + _match_key(flow_mod)
            + struct.pack(ofp.OFP_FLOW_STATS_1_PACK_STR, 0, 0, flow_mod.priority, flow_mod.idle_timeout,
                          flow_mod.hard_timeout, flow_mod.cookie, 0, 0)
            + actions)
