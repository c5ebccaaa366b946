"""The only module that builds OpenFlow 1.0 messages. Messages are values: datapath is bound at send time."""
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
    msg_type = getattr(msg, 'cls_msg_type', None)
    if msg_type is None:
        msg_type = msg.msg_type
    return msg_type in _WRITES


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
