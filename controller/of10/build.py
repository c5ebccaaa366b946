"""OpenFlow 1.0 messages the controller sends. Messages are values: the session sets the xid and writes them.

Two kinds:
- packed bytes for what is sent often (static entries' flow-mods: PackedFlowMod and PackedFlowModBatch over the
  bytes the static flow table keeps; forwarding's flow-mods and packet-outs: RawMessage), one struct.pack each;
- Ryu's parser classes for the rare control messages (barrier, GET_CONFIG, role request, statistics requests),
  built with datapath=None.
"""
import struct

from ryu.ofproto import ofproto_v1_0_parser as _parser
from ryu.ofproto.ofproto_parser import MsgBase as _MsgBase
from ryu.ofproto.ofproto_protocol import ProtocolDesc as _ProtocolDesc

from controller.of10 import wire
from controller.of10.actions import pack_actions
from controller.of10.match import pack_match
from controller.of10.wire import (
    ACTION_OUTPUT, FLOW_MOD, FLOW_MOD_SIZE, OFP_VERSION, OFPAT_OUTPUT, OFPFC_ADD, OFPFC_DELETE_STRICT,
    OFPFF_SEND_FLOW_REM, OFPP_IN_PORT, OFPP_NONE, OFPT_FLOW_MOD, OFPT_PACKET_OUT, PACKET_OUT)

NULL_DATAPATH = _ProtocolDesc(wire.OFP_VERSION)  # enough for a Ryu message's serialize() without a switch

FLOW_ADD, FLOW_MODIFY_STRICT, FLOW_DELETE_STRICT = wire.OFPFC_ADD, wire.OFPFC_MODIFY_STRICT, wire.OFPFC_DELETE_STRICT


# --- control messages (Ryu's classes) ---------------------------------------------------------------------------

def barrier():
    return _parser.OFPBarrierRequest(None)


def echo_request():
    """Whether a session is alive: a switch answers at once (the keepalive, the takeover probe)."""
    return _parser.OFPEchoRequest(None)


def get_config_request():
    """Its reply's miss_send_len tells a primary session (128) from a service one (0)."""
    return _parser.OFPGetConfigRequest(None)


# Nicira role extension: NX_ROLE_OTHER/MASTER/SLAVE, named as the connection tracker names them.
ROLE_NUMBERS = {'other': wire.NX_ROLE_OTHER, 'master': wire.NX_ROLE_MASTER, 'slave': wire.NX_ROLE_SLAVE}
ROLE_NAMES = {number: name for name, number in ROLE_NUMBERS.items()}


def role_request(role):
    """NXT_ROLE_REQUEST for 'other', 'master' or 'slave'."""
    return _parser.NXTRoleRequest(None, ROLE_NUMBERS[role])


def flow_stats_request():
    """Every flow of every table: what reconciliation compares the stored entries against."""
    return stats_request('flow')


def stats_request(stat):
    """The OpenFlow 1.0 request behind one Floodlight statistics name (features is a FEATURES_REQUEST)."""
    if stat == 'flow':
        return _parser.OFPFlowStatsRequest(None, 0, _parser.OFPMatch(), 0xff, wire.OFPP_NONE)
    if stat == 'aggregate':
        return _parser.OFPAggregateStatsRequest(None, 0, _parser.OFPMatch(), 0xff, wire.OFPP_NONE)
    if stat == 'port':
        return _parser.OFPPortStatsRequest(None, 0, wire.OFPP_NONE)
    if stat == 'desc':
        return _parser.OFPDescStatsRequest(None, 0)
    if stat == 'table':
        return _parser.OFPTableStatsRequest(None, 0)
    if stat == 'queue':
        return _parser.OFPQueueStatsRequest(None, 0, wire.OFPP_ALL, wire.OFPQ_ALL)
    if stat == 'features':
        return _parser.OFPFeaturesRequest(None)
    raise ValueError('no such statistics request: %r' % (stat,))


def serialize(msg, xid=0):
    """Bytes of a message, without a switch (tests, and checking a message before sending): sets its xid."""
    msg.datapath = NULL_DATAPATH
    msg.set_xid(xid)
    msg.serialize()
    return bytes(msg.buf)


_WRITES = (wire.OFPT_FLOW_MOD, wire.OFPT_PACKET_OUT, wire.OFPT_PORT_MOD)


def msg_type(msg):
    """OFPT_* of a message to send: Ryu's classes know theirs before serialize(), the packed ones from their
    bytes."""
    cls_type = getattr(msg, 'cls_msg_type', None)
    return msg.msg_type if cls_type is None else cls_type


def is_write(msg):
    """Messages that change the switch: a SLAVE controller must not send them. A RawMessage (forwarding's
    flow-mod + packet-out, LLDP packet-outs) is judged by the type of the message it starts with."""
    return msg_type(msg) in _WRITES


def is_barrier(msg):
    return msg_type(msg) == wire.OFPT_BARRIER_REQUEST


# --- flow-mods as bytes ----------------------------------------------------------------------------------------

def flow_mod_bytes(match_values, cookie, command, idle_timeout, hard_timeout, priority, flags, actions=b''):
    """A flow-mod (xid 0): ofp_match values (controller.of10.match), its fields, packed actions."""
    return wire.FLOW_MOD.pack(
        wire.OFP_VERSION, wire.OFPT_FLOW_MOD, wire.FLOW_MOD_SIZE + len(actions), 0, *match_values, cookie, command,
        idle_timeout, hard_timeout, priority, wire.OFP_NO_BUFFER, wire.OFPP_NONE, flags) + actions


def pack_flow_add(entry):
    """A static flow entry's ADD flow-mod as bytes (xid 0). It asks for FLOW_REMOVED only when the flow can
    expire: the static flow pusher then forgets the entry (Floodlight 1.1+); asking always would make every clear
    echo one message per flow."""
    flags = wire.OFPFF_SEND_FLOW_REM if (entry.idle_timeout or entry.hard_timeout) else 0
    return flow_mod_bytes(pack_match(entry.match), entry.cookie, wire.OFPFC_ADD, entry.idle_timeout,
                          entry.hard_timeout, entry.priority, flags, pack_actions(entry.actions))


def packed_fields(packed):
    """(cookie, idle_timeout, hard_timeout, priority) of packed flow-mod bytes."""
    cookie, _, idle, hard, priority = wire.FLOW_MOD_ENTRY_FIELDS.unpack_from(packed, wire.COOKIE_OFFSET)
    return cookie, idle, hard, priority


def packed_command(packed):
    return wire.COMMAND.unpack_from(packed, wire.COMMAND_OFFSET)[0]


def flow_add_facts(entry):
    """(length, wildcards, flags) of the entry's ADD flow-mod (what Floodlight 0.9x's list shows of it)."""
    packed = pack_flow_add(entry)
    return (len(packed), wire.MATCH.unpack_from(packed, wire.MATCH_OFFSET)[0],
            wire.FLAGS.unpack_from(packed, wire.FLAGS_OFFSET)[0])


def with_command(packed, command):
    """The same flow-mod bytes with another command (MODIFY_STRICT and DELETE_STRICT of an entry's ADD)."""
    if command == packed_command(packed):
        return packed
    return packed[:wire.COMMAND_OFFSET] + wire.COMMAND.pack(command) + packed[wire.COMMAND_OFFSET + wire.COMMAND.size:]


def flow_delete_strict_installed(flow):
    """DELETE_STRICT of a flow seen in the switch's table (an InstalledFlow) that no entry accounts for."""
    return RawMessage(flow_mod_bytes(flow.match_values, flow.cookie, wire.OFPFC_DELETE_STRICT, 0, 0, flow.priority, 0))


_VERSION_AT, _TYPE_AT = 0, 1  # of the header (wire.HEADER)
_ONE_MESSAGE = (0,)  # the offsets of a RawMessage of one message


class RawMessage(_MsgBase):
    """OpenFlow messages already in wire form (xid 0), one or several back to back (`offsets`: where each
    message starts). serialize() only writes the xid the session assigned into each message's header."""

    def __init__(self, data, offsets=_ONE_MESSAGE, msg_types=None):
        # MsgBase.__init__ is wrapped by Ryu's attribute bookkeeping, which costs more than this whole class
        self.datapath = None
        self.xid = None
        self.version = data[_VERSION_AT]
        self.msg_type = msg_type = data[_TYPE_AT]
        self.msg_len = len(data)
        self.buf = data
        self.offsets = offsets
        # What the session counts it as (controller.metrics.SessionCounts.sent_raw): one message, its type number;
        # several, the type of each (bytes; a builder of several knows them).
        if msg_types is None:
            msg_types = msg_type if offsets is _ONE_MESSAGE else bytes([data[offset + _TYPE_AT] for offset in offsets])
        self.msg_types = msg_types

    def serialize(self):
        buf = bytearray(self.buf)
        xid = self.xid or 0
        for offset in self.offsets:
            wire.XID.pack_into(buf, offset + wire.XID_OFFSET, xid)
        self.buf = buf

    def __str__(self):
        return 'RawMessage(type=%d, len=%d, xid=%s)' % (self.msg_type, self.msg_len, self.xid)


class PackedFlowMod:
    """A static flow entry's flow-mod on its way to a switch: the stored bytes, the entry's name (the glue ties
    the switch's answer to it by xid) and the xid the session sets. __slots__ and no copy of the bytes until
    serialize(): a reconnect queues one per entry (100,000 when 100 switches connect at once).
    tests/lib/of10_oracle.parse reads one back with Ryu's parser.
    """
    __slots__ = ('buf', 'entry_name', 'xid', 'datapath')
    version = wire.OFP_VERSION
    msg_type = cls_msg_type = wire.OFPT_FLOW_MOD

    def __init__(self, packed, entry_name, command=wire.OFPFC_ADD):
        self.buf = packed if command == wire.OFPFC_ADD else with_command(packed, command)
        self.entry_name = entry_name
        self.xid = None
        self.datapath = None

    @property
    def command(self):
        return packed_command(self.buf)

    def set_xid(self, xid):
        assert self.xid is None
        self.xid = xid

    def serialize(self):
        buf = bytearray(self.buf)
        wire.XID.pack_into(buf, wire.XID_OFFSET, self.xid or 0)
        self.buf = buf

    def __str__(self):
        return 'PackedFlowMod(%r, command=%d, len=%d, xid=%s)' % (
            self.entry_name, self.command, len(self.buf), self.xid)

    def entry_names(self):
        return [self.entry_name]

    def sent_entries(self):
        """[(entry name, xid)] of what went out (nothing when the message was dropped before an xid was set)."""
        return [] if self.xid is None else [(self.entry_name, self.xid)]


def packed_flow_mod(packed, entry_name, command=wire.OFPFC_ADD):
    return PackedFlowMod(packed, entry_name, command)


class PackedFlowModBatch:
    """Consecutive static flow-mods for one switch as one message for the session: written back to back, each
    with its own xid (consecutive ones: set_xid takes them from the session's counter).

    A reconnect push of 100,000 entries (100 switches at once) queued as many PackedFlowMods, and those objects,
    freed while the statuses' xids were being made, kept the allocator's pages resident (docs/performance.md,
    memory); a batch holds two lists, of the stored bytes and of the names.
    """
    __slots__ = ('bufs', 'names', 'buf', 'xid', 'datapath')
    version = wire.OFP_VERSION
    msg_type = cls_msg_type = wire.OFPT_FLOW_MOD

    def __init__(self, bufs, names):
        self.bufs = bufs
        self.names = names
        self.buf = None
        self.xid = None
        self.datapath = None

    def set_xid(self, xid):
        """The first flow-mod's xid; the others take the next ones. Ryu's Datapath.set_xid counts one per
        message, so the session's counter is moved past the ones this batch uses."""
        assert self.xid is None
        self.xid = xid
        counter_owner = self.datapath
        if counter_owner is not None and isinstance(getattr(counter_owner, 'xid', None), int):
            counter_owner.xid = (xid + len(self.bufs) - 1) & wire.XID_MASK

    def xids(self):
        return [(self.xid + i) & wire.XID_MASK for i in range(len(self.bufs))]

    def serialize(self):
        buf = bytearray(b''.join(self.bufs))
        offset = 0
        for packed, xid in zip(self.bufs, self.xids()):
            wire.XID.pack_into(buf, offset + wire.XID_OFFSET, xid)
            offset += len(packed)
        self.buf = buf

    def entry_names(self):
        return self.names

    def sent_entries(self):
        return [] if self.xid is None else list(zip(self.names, self.xids()))

    def __str__(self):
        return 'PackedFlowModBatch(%d flow-mods, xid=%s)' % (len(self.bufs), self.xid)


def count_sent(counts, msg):
    """Add the message `msg` put on the wire to `counts` (a list indexed by OFPT_*, controller.metrics): a
    RawMessage holding several (forwarding's flow-mod and packet-out) counts each, a PackedFlowModBatch each of
    its flow-mods. (Session.put counts a RawMessage itself, as here, without the call.)"""
    cls = type(msg)
    if cls is RawMessage:
        if msg.offsets is _ONE_MESSAGE:
            counts[msg.msg_type] += 1
        else:
            for sent_type in msg.msg_types:
                counts[sent_type] += 1
    elif cls is PackedFlowModBatch:
        counts[wire.OFPT_FLOW_MOD] += len(msg.bufs)
    else:
        counts[msg_type(msg)] += 1


ENTRY_MESSAGES = (PackedFlowMod, PackedFlowModBatch)  # messages whose xids the entry status follows
FLOW_MOD_BATCH = 256  # at most this many flow-mods in one write: other green threads run between batches


def batch_flow_mods(msgs, size=FLOW_MOD_BATCH):
    """msgs with each run of consecutive PackedFlowMods longer than one turned into PackedFlowModBatches of at
    most `size`; every other message, and the order, as they were."""
    out, run = [], []

    def flush():
        for start in range(0, len(run), size):
            part = run[start:start + size]
            out.append(part[0] if len(part) == 1 else
                       PackedFlowModBatch([m.buf for m in part], [m.entry_name for m in part]))
        run.clear()

    for msg in msgs:
        if type(msg) is PackedFlowMod:
            run.append(msg)
        else:
            flush()
            out.append(msg)
    flush()
    return out


# --- the packet-in hot path's messages (forwarding, link discovery) ---------------------------------------------
# One struct.pack per message from a fixed layout, nothing parsed back; the session writes the xid. They use the
# names imported from wire rather than `wire.X`: they run once or twice per packet-in.

FORWARDING_APP_ID = 2  # Floodlight's Forwarding module (routing/ForwardingBase.java FORWARDING_APP_ID)
FORWARDING_COOKIE = FORWARDING_APP_ID << 52
FORWARDING_WILDCARDS = wire.OFPFW_ALL & ~(wire.OFPFW_IN_PORT | wire.OFPFW_DL_VLAN | wire.OFPFW_DL_SRC
                                          | wire.OFPFW_DL_DST)
NO_BUFFER = wire.OFP_NO_BUFFER

# A forwarding flow-mod: header, ofp_match (wildcards, in_port, dl_src, dl_dst, dl_vlan, then the wildcarded
# fields' zeros), its fields, one output action; then, for _AND_PACKET_OUT, the packet-out's head and its action.
_FORWARDING_FLOW_MOD = struct.Struct(FLOW_MOD.format + ACTION_OUTPUT.format[1:])
_FORWARDING_FLOW_MOD_AND_PACKET_OUT = struct.Struct(
    _FORWARDING_FLOW_MOD.format + PACKET_OUT.format[1:] + ACTION_OUTPUT.format[1:])
_FORWARDING_FLOW_MOD_SIZE = _FORWARDING_FLOW_MOD.size
_FLOW_MOD_AND_PACKET_OUT_OFFSETS = (0, _FORWARDING_FLOW_MOD_SIZE)
_FLOW_MOD_AND_PACKET_OUT_TYPES = bytes((OFPT_FLOW_MOD, OFPT_PACKET_OUT))
_PACKET_OUT_ONE_ACTION_SIZE = PACKET_OUT.size + ACTION_OUTPUT.size
_OUTPUT_SIZE = ACTION_OUTPUT.size
_UNSET = 0


def _forwarding_flow_mod(length, in_port, vlan, src, dst, command, idle_timeout, priority, flags, cookie,
                         buffer_id=NO_BUFFER):
    """The values of a forwarding flow-mod's header, match and fields, for one of the structs above."""
    return (OFP_VERSION, OFPT_FLOW_MOD, length, 0,
            FORWARDING_WILDCARDS, in_port, src, dst, vlan, _UNSET, _UNSET, _UNSET, _UNSET, _UNSET, _UNSET, _UNSET,
            _UNSET, cookie, command, idle_timeout, 0, priority, buffer_id, OFPP_NONE, flags)


def forwarding_flow_add(in_port, vlan, src, dst, out_port, idle_timeout, priority, cookie=FORWARDING_COOKIE,
                        buffer_id=NO_BUFFER):
    """The reactive forwarding flow: in_port, dl_vlan, dl_src, dl_dst (6-byte strings) -> output:out_port.

    Asks for FLOW_REMOVED so the forwarding state knows which flows still exist (to delete them on a topology
    change). An output to the packet's own in_port is written as OFPP_IN_PORT, as OpenFlow 1.0 requires.
    With the buffer_id of a packet the switch buffered, the switch applies the new flow to that packet too: one
    message answers the packet-in, as Floodlight's does.
    """
    if out_port == in_port:
        out_port = OFPP_IN_PORT
    return RawMessage(_FORWARDING_FLOW_MOD.pack(
        *_forwarding_flow_mod(_FORWARDING_FLOW_MOD_SIZE, in_port, vlan, src, dst, OFPFC_ADD, idle_timeout,
                              priority, OFPFF_SEND_FLOW_REM, cookie, buffer_id),
        OFPAT_OUTPUT, _OUTPUT_SIZE, out_port, 0))


def forwarding_flow_add_and_packet_out(in_port, vlan, src, dst, out_port, idle_timeout, priority, data,
                                       cookie=FORWARDING_COOKIE):
    """forwarding_flow_add(...) followed by packet_out_port(in_port, out_port, data) for the same switch, packed
    at once into one RawMessage (one xid, one send-queue slot, one socket write)."""
    if out_port == in_port:
        out_port = OFPP_IN_PORT
    return RawMessage(_FORWARDING_FLOW_MOD_AND_PACKET_OUT.pack(
        *_forwarding_flow_mod(_FORWARDING_FLOW_MOD_SIZE, in_port, vlan, src, dst, OFPFC_ADD, idle_timeout,
                              priority, OFPFF_SEND_FLOW_REM, cookie),
        OFPAT_OUTPUT, _OUTPUT_SIZE, out_port, 0,
        OFP_VERSION, OFPT_PACKET_OUT, _PACKET_OUT_ONE_ACTION_SIZE + len(data), 0, NO_BUFFER, in_port,
        _OUTPUT_SIZE, OFPAT_OUTPUT, _OUTPUT_SIZE, out_port, 0) + data, _FLOW_MOD_AND_PACKET_OUT_OFFSETS,
        _FLOW_MOD_AND_PACKET_OUT_TYPES)


def forwarding_flow_delete(in_port, vlan, src, dst, priority, cookie=FORWARDING_COOKIE):
    """DELETE_STRICT of one reactive forwarding flow (same match and priority; nothing else is touched)."""
    return RawMessage(FLOW_MOD.pack(*_forwarding_flow_mod(FLOW_MOD_SIZE, in_port, vlan, src, dst,
                                                          OFPFC_DELETE_STRICT, 0, priority, 0, cookie)))


def output_actions(ports):
    """Packed output actions (bytes), for packet_out."""
    return b''.join(ACTION_OUTPUT.pack(OFPAT_OUTPUT, _OUTPUT_SIZE, port, 0) for port in ports)


def packet_out(in_port, actions, data, buffer_id=NO_BUFFER):
    """PACKET_OUT carrying the packet (OVS buffers nothing), or naming the buffer a switch that buffers keeps it
    in (then without the data). `actions`: bytes from output_actions()."""
    if buffer_id != NO_BUFFER:
        data = b''
    return RawMessage(PACKET_OUT.pack(OFP_VERSION, OFPT_PACKET_OUT, PACKET_OUT.size + len(actions) + len(data), 0,
                                      buffer_id, in_port, len(actions)) + actions + data)


def packet_out_port(in_port, out_port, data):
    """PACKET_OUT with one output action; an output to in_port is OFPP_IN_PORT."""
    if out_port == in_port:
        out_port = OFPP_IN_PORT
    return RawMessage(PACKET_OUT.pack(OFP_VERSION, OFPT_PACKET_OUT, _PACKET_OUT_ONE_ACTION_SIZE + len(data), 0,
                                      NO_BUFFER, in_port, _OUTPUT_SIZE)
                      + ACTION_OUTPUT.pack(OFPAT_OUTPUT, _OUTPUT_SIZE, out_port, 0) + data)
