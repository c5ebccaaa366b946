"""The only module that builds OpenFlow 1.0 messages. Messages are values: datapath is bound at send time."""
import re
from collections import namedtuple

from ryu.lib import addrconv
from ryu.ofproto import nicira_ext
from ryu.ofproto import ofproto_v1_0 as ofp
from ryu.ofproto import ofproto_v1_0_parser as parser
from ryu.ofproto.ofproto_protocol import ProtocolDesc

from controller.flowentry import MATCH_FIELD_ORDER

OFP_VERSION = ofp.OFP_VERSION
NULL_DATAPATH = ProtocolDesc(ofp.OFP_VERSION)  # enough for serialize(): tests check messages without a switch

_ACTION_BUILDERS = {
    'output': lambda a: parser.OFPActionOutput(a[1], a[2]),
    'enqueue': lambda a: parser.OFPActionEnqueue(a[1], a[2]),
    'strip_vlan': lambda a: parser.OFPActionStripVlan(),
    'set_vlan_vid': lambda a: parser.OFPActionVlanVid(a[1]),
    'set_vlan_pcp': lambda a: parser.OFPActionVlanPcp(a[1]),
    'set_dl_src': lambda a: parser.OFPActionSetDlSrc(addrconv.mac.text_to_bin(a[1])),
    'set_dl_dst': lambda a: parser.OFPActionSetDlDst(addrconv.mac.text_to_bin(a[1])),
    'set_nw_tos': lambda a: parser.OFPActionSetNwTos(a[1]),
    'set_nw_src': lambda a: parser.OFPActionSetNwSrc(a[1]),
    'set_nw_dst': lambda a: parser.OFPActionSetNwDst(a[1]),
    'set_tp_src': lambda a: parser.OFPActionSetTpSrc(a[1]),
    'set_tp_dst': lambda a: parser.OFPActionSetTpDst(a[1]),
}


def build_match(match_pairs):
    """(field, value) pairs of a FlowEntry -> OFPMatch; wildcards follow from the fields present."""
    kwargs = {}
    for field, value in match_pairs:
        if field in ('nw_src', 'nw_dst'):
            kwargs[field], kwargs[field + '_mask'] = value
        else:
            kwargs[field] = value
    return parser.OFPMatch(**kwargs)


def build_actions(actions):
    return [_ACTION_BUILDERS[action[0]](action) for action in actions]


def _flow_mod(entry, command):
    # Ask for FLOW_REMOVED only when the flow can expire: the static flow pusher then forgets the entry
    # (Floodlight 1.1+). Asking for it always would make every clear echo one message per flow.
    flags = ofp.OFPFF_SEND_FLOW_REM if (entry.idle_timeout or entry.hard_timeout) else 0
    msg = parser.OFPFlowMod(
        datapath=None, match=build_match(entry.match), cookie=entry.cookie, command=command,
        idle_timeout=entry.idle_timeout, hard_timeout=entry.hard_timeout, priority=entry.priority,
        buffer_id=0xffffffff, out_port=ofp.OFPP_NONE, flags=flags, actions=build_actions(entry.actions))
    msg.entry_name = entry.name  # lets the glue tie the switch's answer (by xid) back to the entry
    return msg


def flow_add(entry):
    return _flow_mod(entry, ofp.OFPFC_ADD)


def flow_modify_strict(entry):
    return _flow_mod(entry, ofp.OFPFC_MODIFY_STRICT)


def flow_delete_strict(entry):
    return _flow_mod(entry, ofp.OFPFC_DELETE_STRICT)


def flow_delete_strict_installed(flow):
    """Delete a flow seen in the switch's table (an InstalledFlow) that no entry accounts for."""
    return parser.OFPFlowMod(
        datapath=None, match=flow.ofp_match, cookie=flow.cookie, command=ofp.OFPFC_DELETE_STRICT,
        idle_timeout=0, hard_timeout=0, priority=flow.priority, buffer_id=0xffffffff, out_port=ofp.OFPP_NONE,
        flags=0, actions=[])


def flow_stats_request():
    """Every flow of every table: what reconciliation compares the stored entries against."""
    return parser.OFPFlowStatsRequest(None, 0, parser.OFPMatch(), 0xff, ofp.OFPP_NONE)


def is_last_stats_part(msg):
    return not msg.flags & ofp.OFPSF_REPLY_MORE


# --- Reading flows back -----------------------------------------------------------------------------------
# A flow as the switch reports it and a flow as an entry would install it are reduced to the same key, so
# reconciliation compares like with like whatever normalisation the switch applied (zeroed wildcarded
# fields, host bits of a CIDR cleared, max_len dropped on non-controller outputs).

InstalledFlow = namedtuple('InstalledFlow', 'cookie priority match actions idle_timeout hard_timeout ofp_match')


def match_key(ofp_match):
    pairs = []
    for field in MATCH_FIELD_ORDER:
        if field in ('nw_src', 'nw_dst'):
            prefix = ofp_match[field + '_mask']
            if prefix:
                mask = (0xffffffff << (32 - prefix)) & 0xffffffff
                pairs.append((field, getattr(ofp_match, field) & mask, prefix))
            continue
        try:
            pairs.append((field, ofp_match[field]))
        except KeyError:
            pass
    return tuple(pairs)


def _action_key(action):
    if isinstance(action, parser.OFPActionOutput):
        return ('output', action.port, action.max_len if action.port == ofp.OFPP_CONTROLLER else None)
    return (type(action).__name__,) + tuple(sorted((k, str(v)) for k, v in vars(action).items()
                                                   if k not in ('type', 'len')))


def installed_flow(flow_stats):
    """An OFPFlowStats from a flow stats reply -> InstalledFlow."""
    return InstalledFlow(flow_stats.cookie, flow_stats.priority, match_key(flow_stats.match),
                         tuple(_action_key(a) for a in flow_stats.actions), flow_stats.idle_timeout,
                         flow_stats.hard_timeout, flow_stats.match)


def expected_flow(entry, add=None):
    """The InstalledFlow an entry's ADD (`add`: flow_add(entry), when the caller has it) would leave in the
    switch's table. Without its OFPMatch (ofp_match None): only flows read from a switch are deleted by it, and
    a kept OFPMatch per stored entry was the largest part of the table's memory."""
    msg = add if add is not None else flow_add(entry)
    return InstalledFlow(msg.cookie, msg.priority, match_key(msg.match), tuple(_action_key(a) for a in msg.actions),
                         msg.idle_timeout, msg.hard_timeout, None)


def barrier():
    return parser.OFPBarrierRequest(None)


def is_barrier(msg):
    return _msg_type(msg) == ofp.OFPT_BARRIER_REQUEST


def get_config_request():
    """Its reply's miss_send_len tells a primary session (128) from a service one (0)."""
    return parser.OFPGetConfigRequest(None)


# Nicira role extension (OpenFlow 1.0): NX_ROLE_OTHER/MASTER/SLAVE, named as the connection tracker names them.
ROLE_NUMBERS = {'other': nicira_ext.NX_ROLE_OTHER, 'master': nicira_ext.NX_ROLE_MASTER,
                'slave': nicira_ext.NX_ROLE_SLAVE}
ROLE_NAMES = {number: name for name, number in ROLE_NUMBERS.items()}


def role_request(role):
    """NXT_ROLE_REQUEST for 'other', 'master' or 'slave'."""
    return parser.NXTRoleRequest(None, ROLE_NUMBERS[role])


def role_reply_role(vendor_msg):
    """The role number of a received NXT_ROLE_REPLY (ryu parses it into an OFPVendor's data), else None."""
    data = getattr(vendor_msg, 'data', None)
    return data.role if isinstance(data, parser.NXTRoleReply) else None


def is_slave_rejection(error_type, error_code):
    """The error a switch answers a SLAVE connection's flow-mod or packet-out with (OFPBRC_EPERM)."""
    return error_type == ofp.OFPET_BAD_REQUEST and error_code == ofp.OFPBRC_EPERM


_WRITES = (ofp.OFPT_FLOW_MOD, ofp.OFPT_PACKET_OUT, ofp.OFPT_PORT_MOD)


def is_write(msg):
    """Messages that change the switch: a SLAVE controller must not send them. A RawMessage (forwarding's
    packed flow-mod + packet-out, LLDP packet-outs) is judged by the type of the message it starts with."""
    return _msg_type(msg) in _WRITES


def _msg_type(msg):
    """OFPT_* of a message to send: ryu's classes know theirs before serialize(), a RawMessage from its bytes."""
    msg_type = getattr(msg, 'cls_msg_type', None)
    return msg.msg_type if msg_type is None else msg_type


def serialize(msg, xid=0):
    """Bytes of a message, without a switch (used by tests and to check a message before sending)."""
    msg.datapath = NULL_DATAPATH
    msg.set_xid(xid)
    msg.serialize()
    return bytes(msg.buf)


def describe_error(error_type, error_code):
    """OpenFlow 1.0 error numbers -> names, e.g. (2, 4) -> ('OFPET_BAD_ACTION', 'OFPBAC_BAD_OUT_PORT')."""
    type_name = _ERROR_TYPE_NAMES.get(error_type, str(error_type))
    prefix = _ERROR_CODE_PREFIXES.get(error_type)
    code_name = str(error_code)
    if prefix is not None:
        names = [n for n in dir(ofp) if n.startswith(prefix) and getattr(ofp, n) == error_code]
        code_name = names[0] if names else code_name
    return type_name, code_name


_ERROR_TYPE_NAMES = {getattr(ofp, n): n for n in dir(ofp) if n.startswith('OFPET_')}
_ERROR_CODE_PREFIXES = {ofp.OFPET_HELLO_FAILED: 'OFPHFC_', ofp.OFPET_BAD_REQUEST: 'OFPBRC_',
                        ofp.OFPET_BAD_ACTION: 'OFPBAC_', ofp.OFPET_FLOW_MOD_FAILED: 'OFPFMFC_',
                        ofp.OFPET_PORT_MOD_FAILED: 'OFPPMFC_', ofp.OFPET_QUEUE_OP_FAILED: 'OFPQOFC_'}


# --- Prebuilt messages for the packet-in hot path (forwarding, link discovery) ---------------------------
# Packed with struct from fixed layouts instead of ryu's parser classes: one pack per message, nothing parsed
# back. RawMessage carries the bytes through SwitchesApp.send / ryu's Datapath.send_msg, which set the xid.

import struct as _struct  # noqa: E402

from ryu.ofproto.ofproto_parser import MsgBase as _MsgBase  # noqa: E402

FORWARDING_APP_ID = 2  # Floodlight's Forwarding module (routing/ForwardingBase.java FORWARDING_APP_ID)
FORWARDING_COOKIE = FORWARDING_APP_ID << 52
FORWARDING_WILDCARDS = ofp.OFPFW_ALL & ~(ofp.OFPFW_IN_PORT | ofp.OFPFW_DL_VLAN | ofp.OFPFW_DL_SRC | ofp.OFPFW_DL_DST)
NO_BUFFER = 0xffffffff

_HEADER = _struct.Struct('!BBHI')
# header, ofp_match (in_port, dl_vlan, dl_src, dl_dst set), cookie..flags, one output action
_FWD_FLOW_MOD = _struct.Struct('!BBHI' 'IH6s6sHBxHBB2xIIHH' 'QHHHHIHH' 'HHHH')
_FWD_FLOW_DELETE = _struct.Struct('!BBHI' 'IH6s6sHBxHBB2xIIHH' 'QHHHHIHH')
_PACKET_OUT_HEAD = _struct.Struct('!BBHIIHH')
_OUTPUT = _struct.Struct('!HHHH')
_XID = _struct.Struct('!I')


class RawMessage(_MsgBase):
    """OpenFlow messages already in wire form (xid 0), one or several back to back (`offsets`: where each
    message starts).

    serialize() only writes the xid ryu assigned into each message's header.
    """

    def __init__(self, data, offsets=(0,)):
        # MsgBase.__init__ is wrapped by ryu's attribute bookkeeping, which costs more than this whole class
        self.datapath = None
        self.xid = None
        self.version = data[0]
        self.msg_type = data[1]
        self.msg_len = len(data)
        self.buf = data
        self.offsets = offsets

    def serialize(self):
        buf = bytearray(self.buf)
        xid = self.xid or 0
        for offset in self.offsets:
            _XID.pack_into(buf, offset + 4, xid)
        self.buf = buf

    def __str__(self):
        return 'RawMessage(type=%d, len=%d, xid=%s)' % (self.msg_type, self.msg_len, self.xid)


def forwarding_flow_add(in_port, vlan, src, dst, out_port, idle_timeout, priority, cookie=FORWARDING_COOKIE):
    """The reactive forwarding flow: in_port, dl_vlan, dl_src, dl_dst (6-byte strings) -> output:out_port.

    Asks for FLOW_REMOVED so the forwarding state knows which flows still exist (to delete them on a topology
    change). An output to the packet's own in_port is written as OFPP_IN_PORT, as OpenFlow 1.0 requires.
    """
    if out_port == in_port:
        out_port = ofp.OFPP_IN_PORT
    return RawMessage(_FWD_FLOW_MOD.pack(
        1, ofp.OFPT_FLOW_MOD, 80, 0,
        FORWARDING_WILDCARDS, in_port, src, dst, vlan, 0, 0, 0, 0, 0, 0, 0, 0,
        cookie, ofp.OFPFC_ADD, idle_timeout, 0, priority, NO_BUFFER, ofp.OFPP_NONE, ofp.OFPFF_SEND_FLOW_REM,
        ofp.OFPAT_OUTPUT, 8, out_port, 0))


_FWD_FLOW_MOD_AND_PACKET_OUT = _struct.Struct(_FWD_FLOW_MOD.format + 'BBHIIHH' 'HHHH')


def forwarding_flow_add_and_packet_out(in_port, vlan, src, dst, out_port, idle_timeout, priority, data,
                                       cookie=FORWARDING_COOKIE):
    """forwarding_flow_add(...) followed by packet_out_port(in_port, out_port, data) for the same switch, packed
    at once into one RawMessage (one xid, one send-queue slot, one socket write)."""
    if out_port == in_port:
        out_port = ofp.OFPP_IN_PORT
    return RawMessage(_FWD_FLOW_MOD_AND_PACKET_OUT.pack(
        1, ofp.OFPT_FLOW_MOD, 80, 0,
        FORWARDING_WILDCARDS, in_port, src, dst, vlan, 0, 0, 0, 0, 0, 0, 0, 0,
        cookie, ofp.OFPFC_ADD, idle_timeout, 0, priority, NO_BUFFER, ofp.OFPP_NONE, ofp.OFPFF_SEND_FLOW_REM,
        ofp.OFPAT_OUTPUT, 8, out_port, 0,
        1, ofp.OFPT_PACKET_OUT, 24 + len(data), 0, NO_BUFFER, in_port, 8,
        ofp.OFPAT_OUTPUT, 8, out_port, 0) + data, (0, 80))


def forwarding_flow_delete(in_port, vlan, src, dst, priority, cookie=FORWARDING_COOKIE):
    """DELETE_STRICT of one reactive forwarding flow (same match and priority; nothing else is touched)."""
    return RawMessage(_FWD_FLOW_DELETE.pack(
        1, ofp.OFPT_FLOW_MOD, 72, 0,
        FORWARDING_WILDCARDS, in_port, src, dst, vlan, 0, 0, 0, 0, 0, 0, 0, 0,
        cookie, ofp.OFPFC_DELETE_STRICT, 0, 0, priority, NO_BUFFER, ofp.OFPP_NONE, 0))


def output_actions(ports):
    """Packed OFPActionOutput list (bytes), for packet_out."""
    return b''.join(_OUTPUT.pack(ofp.OFPAT_OUTPUT, 8, port, 0) for port in ports)


def packet_out(in_port, actions, data):
    """PACKET_OUT carrying the packet (OVS buffers nothing). `actions`: bytes from output_actions()."""
    return RawMessage(_PACKET_OUT_HEAD.pack(1, ofp.OFPT_PACKET_OUT, 16 + len(actions) + len(data), 0, NO_BUFFER,
                                            in_port, len(actions)) + actions + data)


def packet_out_port(in_port, out_port, data):
    """PACKET_OUT with one output action; an output to in_port is OFPP_IN_PORT."""
    if out_port == in_port:
        out_port = ofp.OFPP_IN_PORT
    return RawMessage(_PACKET_OUT_HEAD.pack(1, ofp.OFPT_PACKET_OUT, 24 + len(data), 0, NO_BUFFER, in_port, 8)
                      + _OUTPUT.pack(ofp.OFPAT_OUTPUT, 8, out_port, 0) + data)


# --- Statistics requests (REST /wm/core/switch/<dpid>/<stat>/json) -------------------------------------

def stats_request(stat):
    """The OpenFlow 1.0 request behind one Floodlight statistics name (features is a FEATURES_REQUEST)."""
    if stat == 'flow':
        return parser.OFPFlowStatsRequest(None, 0, parser.OFPMatch(), 0xff, ofp.OFPP_NONE)
    if stat == 'aggregate':
        return parser.OFPAggregateStatsRequest(None, 0, parser.OFPMatch(), 0xff, ofp.OFPP_NONE)
    if stat == 'port':
        return parser.OFPPortStatsRequest(None, 0, ofp.OFPP_NONE)
    if stat == 'desc':
        return parser.OFPDescStatsRequest(None, 0)
    if stat == 'table':
        return parser.OFPTableStatsRequest(None, 0)
    if stat == 'queue':
        return parser.OFPQueueStatsRequest(None, 0, ofp.OFPP_ALL, ofp.OFPQ_ALL)
    if stat == 'features':
        return parser.OFPFeaturesRequest(None)
    raise ValueError('no such statistics request: %r' % (stat,))


# --- Static flow entries as packed bytes ------------------------------------------------------------------
# The static flow table keeps each entry's ADD flow-mod as bytes (xid 0) instead of match and action tuples
# and an expected-flow record: with 100,000 entries those objects were most of the controller's memory
# (docs/performance.md, memory). MODIFY_STRICT and DELETE_STRICT are the same bytes with another command, as
# ryu built them; reconnect pushes queue PackedFlowMods that point at the stored bytes instead of 100,000
# OFPFlowMod objects. The layout is ryu's (OFPFlowMod.serialize), byte for byte: tests/unit check both.

_MATCH = _struct.Struct('!IH6s6sHBxHBB2xIIHH')
_FLOW_MOD_HEAD = _struct.Struct('!BBHI' + _MATCH.format[1:] + 'QHHHHIHH')
_COMMAND = _struct.Struct('!H')
_COMMAND_OFFSET = 56  # header (8) + ofp_match (40) + cookie (8)
_ENTRY_FIELDS = _struct.Struct('!QHHHH')  # cookie, command, idle_timeout, hard_timeout, priority at offset 48
_SIMPLE_FIELD_BITS = (('in_port', ofp.OFPFW_IN_PORT), ('dl_src', ofp.OFPFW_DL_SRC), ('dl_dst', ofp.OFPFW_DL_DST),
                      ('dl_vlan', ofp.OFPFW_DL_VLAN), ('dl_vlan_pcp', ofp.OFPFW_DL_VLAN_PCP),
                      ('dl_type', ofp.OFPFW_DL_TYPE), ('nw_tos', ofp.OFPFW_NW_TOS),
                      ('nw_proto', ofp.OFPFW_NW_PROTO), ('tp_src', ofp.OFPFW_TP_SRC), ('tp_dst', ofp.OFPFW_TP_DST))
_FIELD_BIT = dict(_SIMPLE_FIELD_BITS)
_NO_MAC = b'\x00' * 6
# A FlowEntry's MAC addresses are in the form floodlight.to_mac gives them (lower-case, two digits a piece).
# ryu's addrconv.mac goes through a netaddr EUI object (3 to 4 us each way): the canonical form is converted
# directly, anything else still goes through addrconv.
_CANONICAL_MAC = re.compile('(?:[0-9a-f]{2}:){5}[0-9a-f]{2}')


def _mac_to_bin(text):
    """addrconv.mac.text_to_bin(text)."""
    if type(text) is str and _CANONICAL_MAC.fullmatch(text):
        return bytes.fromhex(text.replace(':', ''))
    return addrconv.mac.text_to_bin(text)


def _mac_to_text(data):
    """addrconv.mac.bin_to_text(data) of 6 bytes (netaddr's '%.2x' pieces joined with ':')."""
    return data.hex(':')


_PACK_ACTION = {
    'output': lambda a: _struct.pack('!HHHH', ofp.OFPAT_OUTPUT, 8, a[1], a[2]),
    'enqueue': lambda a: _struct.pack('!HHH6xI', ofp.OFPAT_ENQUEUE, 16, a[1], a[2]),
    'strip_vlan': lambda a: _struct.pack('!HH4x', ofp.OFPAT_STRIP_VLAN, 8),
    'set_vlan_vid': lambda a: _struct.pack('!HHH2x', ofp.OFPAT_SET_VLAN_VID, 8, a[1]),
    'set_vlan_pcp': lambda a: _struct.pack('!HHB3x', ofp.OFPAT_SET_VLAN_PCP, 8, a[1]),
    'set_dl_src': lambda a: _struct.pack('!HH6s6x', ofp.OFPAT_SET_DL_SRC, 16, _mac_to_bin(a[1])),
    'set_dl_dst': lambda a: _struct.pack('!HH6s6x', ofp.OFPAT_SET_DL_DST, 16, _mac_to_bin(a[1])),
    'set_nw_src': lambda a: _struct.pack('!HHI', ofp.OFPAT_SET_NW_SRC, 8, _ipv4_int(a[1])),
    'set_nw_dst': lambda a: _struct.pack('!HHI', ofp.OFPAT_SET_NW_DST, 8, _ipv4_int(a[1])),
    'set_nw_tos': lambda a: _struct.pack('!HHB3x', ofp.OFPAT_SET_NW_TOS, 8, a[1]),
    'set_tp_src': lambda a: _struct.pack('!HHH2x', ofp.OFPAT_SET_TP_SRC, 8, a[1]),
    'set_tp_dst': lambda a: _struct.pack('!HHH2x', ofp.OFPAT_SET_TP_DST, 8, a[1]),
}

# action type -> (struct, kind, how the FlowEntry's action tuple is read back from the unpacked values)
_UNPACK_ACTION = {
    ofp.OFPAT_OUTPUT: (_struct.Struct('!HHHH'), lambda v: ('output', v[2], v[3])),
    ofp.OFPAT_ENQUEUE: (_struct.Struct('!HHH6xI'), lambda v: ('enqueue', v[2], v[3])),
    ofp.OFPAT_STRIP_VLAN: (_struct.Struct('!HH4x'), lambda v: ('strip_vlan',)),
    ofp.OFPAT_SET_VLAN_VID: (_struct.Struct('!HHH2x'), lambda v: ('set_vlan_vid', v[2])),
    ofp.OFPAT_SET_VLAN_PCP: (_struct.Struct('!HHB3x'), lambda v: ('set_vlan_pcp', v[2])),
    ofp.OFPAT_SET_DL_SRC: (_struct.Struct('!HH6s6x'), lambda v: ('set_dl_src', _mac_to_text(v[2]))),
    ofp.OFPAT_SET_DL_DST: (_struct.Struct('!HH6s6x'), lambda v: ('set_dl_dst', _mac_to_text(v[2]))),
    ofp.OFPAT_SET_NW_SRC: (_struct.Struct('!HHI'), lambda v: ('set_nw_src', _ipv4_text(v[2]))),
    ofp.OFPAT_SET_NW_DST: (_struct.Struct('!HHI'), lambda v: ('set_nw_dst', _ipv4_text(v[2]))),
    ofp.OFPAT_SET_NW_TOS: (_struct.Struct('!HHB3x'), lambda v: ('set_nw_tos', v[2])),
    ofp.OFPAT_SET_TP_SRC: (_struct.Struct('!HHH2x'), lambda v: ('set_tp_src', v[2])),
    ofp.OFPAT_SET_TP_DST: (_struct.Struct('!HHH2x'), lambda v: ('set_tp_dst', v[2])),
}


def _ipv4_int(text):
    a, b, c, d = text.split('.')
    return (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)


def _ipv4_text(value):
    return '%d.%d.%d.%d' % (value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff)


# _MATCH's values after the wildcards are the fields in MATCH_FIELD_ORDER: a field's value is at its index + 1.
_MATCH_SLOT = {field: index + 1 for index, field in enumerate(MATCH_FIELD_ORDER)}
_NO_MATCH = (ofp.OFPFW_ALL, 0, _NO_MAC, _NO_MAC, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def _pack_match(match_pairs):
    """ofp_match values (_MATCH) of a FlowEntry's match, as ryu's OFPMatch(**build_match kwargs).serialize
    writes them."""
    values = list(_NO_MATCH)
    wildcards = ofp.OFPFW_ALL
    for field, value in match_pairs:
        if field == 'nw_src' or field == 'nw_dst':
            address, prefix = value
            shift, mask = ((ofp.OFPFW_NW_SRC_SHIFT, ofp.OFPFW_NW_SRC_MASK) if field == 'nw_src'
                           else (ofp.OFPFW_NW_DST_SHIFT, ofp.OFPFW_NW_DST_MASK))
            wildcards &= (32 - prefix) << shift | ~mask
            values[_MATCH_SLOT[field]] = _ipv4_int(address)
        else:
            wildcards &= ~_FIELD_BIT[field]
            values[_MATCH_SLOT[field]] = _mac_to_bin(value) if field == 'dl_src' or field == 'dl_dst' else value
    values[0] = wildcards
    return values


def pack_flow_add(entry):
    """The entry's ADD flow-mod as bytes (xid 0): what flow_add(entry) serializes to."""
    actions = b''.join([_PACK_ACTION[action[0]](action) for action in entry.actions])
    flags = ofp.OFPFF_SEND_FLOW_REM if (entry.idle_timeout or entry.hard_timeout) else 0
    return _FLOW_MOD_HEAD.pack(
        ofp.OFP_VERSION, ofp.OFPT_FLOW_MOD, _FLOW_MOD_HEAD.size + len(actions), 0, *_pack_match(entry.match),
        entry.cookie, ofp.OFPFC_ADD, entry.idle_timeout, entry.hard_timeout, entry.priority, NO_BUFFER,
        ofp.OFPP_NONE, flags) + actions


def packed_fields(packed):
    """(cookie, idle_timeout, hard_timeout, priority) of packed flow-mod bytes."""
    cookie, _, idle, hard, priority = _ENTRY_FIELDS.unpack_from(packed, 48)
    return cookie, idle, hard, priority


def _unpack_packed_match(packed):
    """The ofp_match of packed flow-mod bytes: (wildcards, nw_src, nw_dst, {other field: value})."""
    (wildcards, in_port, dl_src, dl_dst, dl_vlan, pcp, dl_type, tos, proto, nw_src, nw_dst, tp_src,
     tp_dst) = _MATCH.unpack_from(packed, 8)
    return wildcards, nw_src, nw_dst, {
        'in_port': in_port, 'dl_src': dl_src, 'dl_dst': dl_dst, 'dl_vlan': dl_vlan, 'dl_vlan_pcp': pcp,
        'dl_type': dl_type, 'nw_tos': tos, 'nw_proto': proto, 'tp_src': tp_src, 'tp_dst': tp_dst}


def unpack_match(packed):
    """A FlowEntry's match tuple back from packed flow-mod bytes (the inverse of _pack_match).

    A field is present when its wildcard bit is clear; nw_src/nw_dst when their wildcard count is at most 32
    (a /0 prefix is 32, an absent address ryu's OFPFW_ALL value 63), so even a /0 entry reads back as given.
    """
    wildcards, nw_src, nw_dst, values = _unpack_packed_match(packed)
    pairs = []
    for field in MATCH_FIELD_ORDER:
        if field == 'nw_src' or field == 'nw_dst':
            shift, address = ((ofp.OFPFW_NW_SRC_SHIFT, nw_src) if field == 'nw_src'
                              else (ofp.OFPFW_NW_DST_SHIFT, nw_dst))
            count = (wildcards >> shift) & 0x3f
            if count <= 32:
                pairs.append((field, (_ipv4_text(address), 32 - count)))
        elif not wildcards & _FIELD_BIT[field]:
            value = values[field]
            pairs.append((field, _mac_to_text(value) if field in ('dl_src', 'dl_dst') else value))
    return tuple(pairs)


def unpack_actions(packed):
    """A FlowEntry's action tuples back from packed flow-mod bytes."""
    actions = []
    offset = _FLOW_MOD_HEAD.size
    while offset < len(packed):
        action_type, length = _struct.unpack_from('!HH', packed, offset)
        layout, read = _UNPACK_ACTION[action_type]
        actions.append(read(layout.unpack_from(packed, offset)))
        offset += length
    return tuple(actions)


_KEY_HEAD = _struct.Struct('!QH')
_KEY_FIELD_INDEX = {field: index for index, field in enumerate(MATCH_FIELD_ORDER)}


def flow_key(dpid, priority, packed=None, match_key=None):
    """A compact, hashable key of the flow a switch holds for (dpid, priority, match): bytes, equal for the
    same flow whether taken from an entry's packed flow-mod or from a match_key() tuple (a FLOW_REMOVED's or a
    flow read back from the switch). Normalised as match_key is: wildcarded fields and host bits dropped.
    Bytes rather than the tuple: the static flow table keeps one per active entry."""
    if packed is not None:
        return _packed_flow_key(dpid, priority, packed)
    parts = [_KEY_HEAD.pack(dpid, priority)]
    for pair in match_key:
        field = pair[0]
        parts.append(bytes((_KEY_FIELD_INDEX[field],)))
        if field == 'dl_src' or field == 'dl_dst':
            parts.append(addrconv.mac.text_to_bin(pair[1]))
        elif field == 'nw_src' or field == 'nw_dst':
            parts.append(_struct.pack('!IB', pair[1], pair[2]))
        else:
            parts.append(_struct.pack('!H', pair[1]))
    return b''.join(parts)


_KEY_ADDRESS = _struct.Struct('!BIB')  # field index, masked address, prefix length
_KEY_NUMBER = _struct.Struct('!BH')    # field index, value
# Per field in MATCH_FIELD_ORDER: (index, its wildcard bit or None for an address, the shift of an address's
# wildcard count, the key's tag byte for a MAC address or None).
_KEY_LAYOUT = tuple(
    (index, _FIELD_BIT.get(field), {'nw_src': ofp.OFPFW_NW_SRC_SHIFT, 'nw_dst': ofp.OFPFW_NW_DST_SHIFT}.get(field),
     bytes((index,)) if field in ('dl_src', 'dl_dst') else None)
    for index, field in enumerate(MATCH_FIELD_ORDER))


def _packed_flow_key(dpid, priority, packed):
    """flow_key(dpid, priority, match_key=_packed_match_key(packed)), the same bytes, read straight from the
    packed match: MAC addresses stay bytes instead of going to text and back (every push asks for one)."""
    values = _MATCH.unpack_from(packed, 8)  # wildcards, then the fields in MATCH_FIELD_ORDER
    wildcards = values[0]
    parts = [_KEY_HEAD.pack(dpid, priority)]
    for index, bit, shift, mac_tag in _KEY_LAYOUT:
        if bit is None:  # nw_src / nw_dst: present when fewer than 32 address bits are wildcarded
            prefix = 32 - ((wildcards & (0x3f << shift)) >> shift)
            if prefix > 0:
                mask = (0xffffffff << (32 - prefix)) & 0xffffffff
                parts.append(_KEY_ADDRESS.pack(index, values[index + 1] & mask, prefix))
        elif not wildcards & bit:
            parts.append(_KEY_NUMBER.pack(index, values[index + 1]) if mac_tag is None
                         else mac_tag + values[index + 1])
    return b''.join(parts)


def _packed_match_key(packed):
    """match_key() of the OFPMatch in packed flow-mod bytes, without building the OFPMatch."""
    wildcards, nw_src, nw_dst, values = _unpack_packed_match(packed)
    pairs = []
    for field in MATCH_FIELD_ORDER:
        if field == 'nw_src' or field == 'nw_dst':
            shift, address = ((ofp.OFPFW_NW_SRC_SHIFT, nw_src) if field == 'nw_src'
                              else (ofp.OFPFW_NW_DST_SHIFT, nw_dst))
            prefix = 32 - ((wildcards & (0x3f << shift)) >> shift)
            if prefix > 0:
                pairs.append((field, address & ((0xffffffff << (32 - prefix)) & 0xffffffff), prefix))
        elif not wildcards & _FIELD_BIT[field]:
            value = values[field]
            pairs.append((field, _mac_to_text(value) if field in ('dl_src', 'dl_dst') else value))
    return tuple(pairs)


def packed_expected_flow(packed):
    """The InstalledFlow (without OFPMatch) packed ADD bytes leave in a switch's table: expected_flow(entry)."""
    msg = parser.OFPFlowMod.parser(None, packed[0], packed[1], len(packed), 0, packed)
    return InstalledFlow(msg.cookie, msg.priority, _packed_match_key(packed),
                         tuple(_action_key(a) for a in msg.actions), msg.idle_timeout, msg.hard_timeout, None)


class PackedFlowMod:
    """A static flow entry's flow-mod on its way to a switch: the stored bytes, the entry's name (the glue ties
    the switch's answer to it by xid) and the xid the Outbox sets. __slots__ and no copy of the bytes until
    serialize(): a reconnect queues one per entry (100,000 when 100 switches connect at once).

    Other attributes (command, match, actions, priority...) are read from the bytes by ryu's parser on demand,
    for tests and logs; nothing on the send path asks for them.
    """
    __slots__ = ('buf', 'entry_name', 'xid', 'datapath')
    version = ofp.OFP_VERSION
    msg_type = cls_msg_type = ofp.OFPT_FLOW_MOD

    def __init__(self, packed, entry_name, command=ofp.OFPFC_ADD):
        if command != ofp.OFPFC_ADD:
            packed = packed[:_COMMAND_OFFSET] + _COMMAND.pack(command) + packed[_COMMAND_OFFSET + 2:]
        self.buf = packed
        self.entry_name = entry_name
        self.xid = None
        self.datapath = None

    def set_xid(self, xid):
        assert self.xid is None
        self.xid = xid

    def serialize(self):
        buf = bytearray(self.buf)
        _XID.pack_into(buf, 4, self.xid or 0)
        self.buf = buf

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        msg = parser.OFPFlowMod.parser(None, self.buf[0], self.buf[1], len(self.buf), self.xid, bytes(self.buf))
        try:
            return getattr(msg, name)
        except AttributeError:
            raise AttributeError(name) from None

    def __str__(self):
        return 'PackedFlowMod(%r, command=%d, len=%d, xid=%s)' % (self.entry_name, self.command, len(self.buf),
                                                                   self.xid)


    def entry_names(self):
        return [self.entry_name]

    def sent_entries(self):
        """[(entry name, xid)] of what went out (nothing when the message was dropped before an xid was set)."""
        return [] if self.xid is None else [(self.entry_name, self.xid)]


def packed_flow_mod(packed, entry_name, command=ofp.OFPFC_ADD):
    return PackedFlowMod(packed, entry_name, command)


class PackedFlowModBatch:
    """Consecutive static flow-mods for one switch as one message for the session's Outbox: written back to
    back, each with its own xid (consecutive ones: set_xid takes them from the session's counter).

    A reconnect push of 100,000 entries (100 switches at once) queued as many PackedFlowMods, and those
    objects, freed while the statuses' xids were being made, kept the allocator's pages resident
    (docs/performance.md, memory); a batch holds two lists, of the stored bytes and of the names.
    """
    __slots__ = ('bufs', 'names', 'buf', 'xid', 'datapath')
    version = ofp.OFP_VERSION
    msg_type = cls_msg_type = ofp.OFPT_FLOW_MOD

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
            counter_owner.xid = (xid + len(self.bufs) - 1) & 0xffffffff

    def xids(self):
        return [(self.xid + i) & 0xffffffff for i in range(len(self.bufs))]

    def serialize(self):
        buf = bytearray(b''.join(self.bufs))
        offset = 0
        for packed, xid in zip(self.bufs, self.xids()):
            _XID.pack_into(buf, offset + 4, xid)
            offset += len(packed)
        self.buf = buf

    def entry_names(self):
        return self.names

    def sent_entries(self):
        return [] if self.xid is None else list(zip(self.names, self.xids()))

    def __str__(self):
        return 'PackedFlowModBatch(%d flow-mods, xid=%s)' % (len(self.bufs), self.xid)


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


FLOW_ADD, FLOW_MODIFY_STRICT, FLOW_DELETE_STRICT = ofp.OFPFC_ADD, ofp.OFPFC_MODIFY_STRICT, ofp.OFPFC_DELETE_STRICT
