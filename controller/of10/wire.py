"""OpenFlow 1.0 on the wire: every constant, struct, offset and fixed table the controller uses, and the few
readers the hot paths need (a message's header, xid, a PACKET_IN's fields, a flow-mod's identity).

Constants and struct formats are taken once from ryu.ofproto.ofproto_v1_0 where it has them; what it lacks (the
offsets of fields inside a message, the lengths a switch's messages may have) is derived here from its formats.
Nothing outside controller/of10 reads message bytes at a numeric offset (tests/unit/test_layout.py).
"""
import struct

from ryu.ofproto import nicira_ext
from ryu.ofproto import ofproto_v1_0 as _ofp

OFP_VERSION = _ofp.OFP_VERSION

# --- message types (ofp_type) ---------------------------------------------------------------------------------
OFPT_HELLO = _ofp.OFPT_HELLO
OFPT_ERROR = _ofp.OFPT_ERROR
OFPT_ECHO_REQUEST = _ofp.OFPT_ECHO_REQUEST
OFPT_ECHO_REPLY = _ofp.OFPT_ECHO_REPLY
OFPT_VENDOR = _ofp.OFPT_VENDOR
OFPT_FEATURES_REQUEST = _ofp.OFPT_FEATURES_REQUEST
OFPT_FEATURES_REPLY = _ofp.OFPT_FEATURES_REPLY
OFPT_GET_CONFIG_REQUEST = _ofp.OFPT_GET_CONFIG_REQUEST
OFPT_GET_CONFIG_REPLY = _ofp.OFPT_GET_CONFIG_REPLY
OFPT_PACKET_IN = _ofp.OFPT_PACKET_IN
OFPT_FLOW_REMOVED = _ofp.OFPT_FLOW_REMOVED
OFPT_PORT_STATUS = _ofp.OFPT_PORT_STATUS
OFPT_PACKET_OUT = _ofp.OFPT_PACKET_OUT
OFPT_FLOW_MOD = _ofp.OFPT_FLOW_MOD
OFPT_PORT_MOD = _ofp.OFPT_PORT_MOD
OFPT_STATS_REQUEST = _ofp.OFPT_STATS_REQUEST
OFPT_STATS_REPLY = _ofp.OFPT_STATS_REPLY
OFPT_BARRIER_REQUEST = _ofp.OFPT_BARRIER_REQUEST
OFPT_BARRIER_REPLY = _ofp.OFPT_BARRIER_REPLY
OFPT_QUEUE_GET_CONFIG_REPLY = _ofp.OFPT_QUEUE_GET_CONFIG_REPLY

# --- ports (ofp_port), VLAN, queues, buffers ------------------------------------------------------------------
OFPP_MAX = _ofp.OFPP_MAX            # physical ports are below it
OFPP_IN_PORT = _ofp.OFPP_IN_PORT
OFPP_TABLE = _ofp.OFPP_TABLE
OFPP_NORMAL = _ofp.OFPP_NORMAL
OFPP_FLOOD = _ofp.OFPP_FLOOD
OFPP_ALL = _ofp.OFPP_ALL
OFPP_CONTROLLER = _ofp.OFPP_CONTROLLER
OFPP_LOCAL = _ofp.OFPP_LOCAL
OFPP_NONE = _ofp.OFPP_NONE
OFP_VLAN_NONE = _ofp.OFP_VLAN_NONE  # dl_vlan of an untagged frame
OFPQ_ALL = _ofp.OFPQ_ALL
OFP_NO_BUFFER = _ofp.OFP_NO_BUFFER

# --- port status: config, state, reason -----------------------------------------------------------------------
OFPPC_PORT_DOWN = _ofp.OFPPC_PORT_DOWN
OFPPS_LINK_DOWN = _ofp.OFPPS_LINK_DOWN
OFPPR_ADD = _ofp.OFPPR_ADD
OFPPR_DELETE = _ofp.OFPPR_DELETE
OFPPR_MODIFY = _ofp.OFPPR_MODIFY

# --- flow-mods, flow removed, stats ---------------------------------------------------------------------------
OFPFC_ADD = _ofp.OFPFC_ADD
OFPFC_MODIFY = _ofp.OFPFC_MODIFY
OFPFC_MODIFY_STRICT = _ofp.OFPFC_MODIFY_STRICT
OFPFC_DELETE = _ofp.OFPFC_DELETE
OFPFC_DELETE_STRICT = _ofp.OFPFC_DELETE_STRICT
OFPFF_SEND_FLOW_REM = _ofp.OFPFF_SEND_FLOW_REM
OFPRR_IDLE_TIMEOUT = _ofp.OFPRR_IDLE_TIMEOUT
OFPRR_HARD_TIMEOUT = _ofp.OFPRR_HARD_TIMEOUT
OFPRR_DELETE = _ofp.OFPRR_DELETE
OFPSF_REPLY_MORE = _ofp.OFPSF_REPLY_MORE

# --- match wildcards (ofp_flow_wildcards) ---------------------------------------------------------------------
OFPFW_IN_PORT = _ofp.OFPFW_IN_PORT
OFPFW_DL_VLAN = _ofp.OFPFW_DL_VLAN
OFPFW_DL_SRC = _ofp.OFPFW_DL_SRC
OFPFW_DL_DST = _ofp.OFPFW_DL_DST
OFPFW_DL_TYPE = _ofp.OFPFW_DL_TYPE
OFPFW_NW_PROTO = _ofp.OFPFW_NW_PROTO
OFPFW_TP_SRC = _ofp.OFPFW_TP_SRC
OFPFW_TP_DST = _ofp.OFPFW_TP_DST
OFPFW_NW_SRC_SHIFT = _ofp.OFPFW_NW_SRC_SHIFT
OFPFW_NW_SRC_MASK = _ofp.OFPFW_NW_SRC_MASK
OFPFW_NW_DST_SHIFT = _ofp.OFPFW_NW_DST_SHIFT
OFPFW_NW_DST_MASK = _ofp.OFPFW_NW_DST_MASK
OFPFW_DL_VLAN_PCP = _ofp.OFPFW_DL_VLAN_PCP
OFPFW_NW_TOS = _ofp.OFPFW_NW_TOS
OFPFW_ALL = _ofp.OFPFW_ALL

# --- actions (ofp_action_type) --------------------------------------------------------------------------------
OFPAT_OUTPUT = _ofp.OFPAT_OUTPUT
OFPAT_SET_VLAN_VID = _ofp.OFPAT_SET_VLAN_VID
OFPAT_SET_VLAN_PCP = _ofp.OFPAT_SET_VLAN_PCP
OFPAT_STRIP_VLAN = _ofp.OFPAT_STRIP_VLAN
OFPAT_SET_DL_SRC = _ofp.OFPAT_SET_DL_SRC
OFPAT_SET_DL_DST = _ofp.OFPAT_SET_DL_DST
OFPAT_SET_NW_SRC = _ofp.OFPAT_SET_NW_SRC
OFPAT_SET_NW_DST = _ofp.OFPAT_SET_NW_DST
OFPAT_SET_NW_TOS = _ofp.OFPAT_SET_NW_TOS
OFPAT_SET_TP_SRC = _ofp.OFPAT_SET_TP_SRC
OFPAT_SET_TP_DST = _ofp.OFPAT_SET_TP_DST
OFPAT_ENQUEUE = _ofp.OFPAT_ENQUEUE

# --- errors ---------------------------------------------------------------------------------------------------
OFPET_BAD_REQUEST = _ofp.OFPET_BAD_REQUEST
OFPBRC_EPERM = _ofp.OFPBRC_EPERM

# --- Nicira role extension (OpenFlow 1.0 has no roles of its own) ----------------------------------------------
NX_ROLE_OTHER = nicira_ext.NX_ROLE_OTHER
NX_ROLE_MASTER = nicira_ext.NX_ROLE_MASTER
NX_ROLE_SLAVE = nicira_ext.NX_ROLE_SLAVE


def _fields(pack_str):
    """A Ryu pack string without its byte-order mark, to be joined into a longer layout."""
    return pack_str[1:]


# --- structs and offsets --------------------------------------------------------------------------------------
HEADER = struct.Struct(_ofp.OFP_HEADER_PACK_STR)       # version, type, length, xid
HEADER_SIZE = HEADER.size
XID = struct.Struct('!I')
XID_OFFSET = 4
XID_MASK = (1 << 8 * XID.size) - 1                    # xids are 32-bit and wrap
assert struct.calcsize('!BBH') == XID_OFFSET

MATCH = struct.Struct(_ofp.OFP_MATCH_PACK_STR)  # ofp_match: wildcards, then the fields (controller.of10.match)
MATCH_OFFSET = HEADER_SIZE                     # where ofp_match starts in a flow-mod (and a flow removed)
# A flow-mod before its actions: header, ofp_match, cookie, command, idle and hard timeouts, priority, buffer_id,
# out_port, flags.
FLOW_MOD = struct.Struct(_ofp.OFP_HEADER_PACK_STR + _fields(_ofp.OFP_FLOW_MOD_PACK_STR))
FLOW_MOD_SIZE = FLOW_MOD.size
assert FLOW_MOD_SIZE == _ofp.OFP_FLOW_MOD_SIZE
COOKIE_OFFSET = MATCH_OFFSET + MATCH.size
COMMAND_OFFSET = COOKIE_OFFSET + struct.calcsize('!Q')
PRIORITY_OFFSET = COMMAND_OFFSET + struct.calcsize('!HHH')
COMMAND = struct.Struct('!H')
FLOW_MOD_ENTRY_FIELDS = struct.Struct('!QHHHH')       # cookie, command, idle_timeout, hard_timeout, priority
FLAGS_OFFSET = FLOW_MOD_SIZE - struct.calcsize('!H')
FLAGS = struct.Struct('!H')

PACKET_IN = struct.Struct(_ofp.OFP_PACKET_IN_PACK_STR)  # after the header: buffer_id, total_len, in_port, reason
PACKET_IN_SIZE = _ofp.OFP_PACKET_IN_SIZE                # where the frame starts
assert HEADER_SIZE + PACKET_IN.size == PACKET_IN_SIZE

# header, buffer_id, in_port, actions_len; then the actions and the frame
PACKET_OUT = struct.Struct(_ofp.OFP_HEADER_PACK_STR + _fields(_ofp.OFP_PACKET_OUT_PACK_STR))
ACTION_HEADER = struct.Struct('!HH')                  # type, len: what every action starts with
# Each action's layout: type, len, then its arguments (controller.of10.actions says which action has which)
ACTION_OUTPUT = struct.Struct(_ofp.OFP_ACTION_OUTPUT_PACK_STR)      # port, max_len
ACTION_ENQUEUE = struct.Struct(_ofp.OFP_ACTION_ENQUEUE_PACK_STR)    # port, queue_id
ACTION_NO_ARGUMENT = struct.Struct(_ofp.OFP_ACTION_HEADER_PACK_STR)
ACTION_VLAN_VID = struct.Struct(_ofp.OFP_ACTION_VLAN_VID_PACK_STR)
ACTION_VLAN_PCP = struct.Struct(_ofp.OFP_ACTION_VLAN_PCP_PACK_STR)
ACTION_DL_ADDR = struct.Struct(_ofp.OFP_ACTION_DL_ADDR_PACK_STR)
ACTION_NW_ADDR = struct.Struct(_ofp.OFP_ACTION_NW_ADDR_PACK_STR)
ACTION_NW_TOS = struct.Struct(_ofp.OFP_ACTION_NW_TOS_PACK_STR)
ACTION_TP_PORT = struct.Struct(_ofp.OFP_ACTION_TP_PORT_PACK_STR)
PHY_PORT_SIZE = _ofp.OFP_PHY_PORT_SIZE
SWITCH_FEATURES_SIZE = _ofp.OFP_SWITCH_FEATURES_SIZE  # without its ports
TABLE_STATS_SIZE = _ofp.OFP_TABLE_STATS_SIZE

# Switch-to-controller messages of OpenFlow 1.0, with the smallest length each may have and, for fixed-size ones,
# the only length (None: variable). Anything else a switch sends is a protocol violation (controller.ofguard).
SWITCH_MESSAGES = {
    OFPT_HELLO: (HEADER_SIZE, None),
    OFPT_ERROR: (_ofp.OFP_ERROR_MSG_SIZE, None),
    OFPT_ECHO_REQUEST: (HEADER_SIZE, None),
    OFPT_ECHO_REPLY: (HEADER_SIZE, None),
    OFPT_VENDOR: (_ofp.OFP_VENDOR_HEADER_SIZE, None),
    OFPT_FEATURES_REPLY: (_ofp.OFP_SWITCH_FEATURES_SIZE, None),
    OFPT_GET_CONFIG_REPLY: (_ofp.OFP_SWITCH_CONFIG_SIZE, _ofp.OFP_SWITCH_CONFIG_SIZE),
    OFPT_PACKET_IN: (PACKET_IN_SIZE, None),
    OFPT_FLOW_REMOVED: (_ofp.OFP_FLOW_REMOVED_SIZE, _ofp.OFP_FLOW_REMOVED_SIZE),
    OFPT_PORT_STATUS: (_ofp.OFP_PORT_STATUS_SIZE, _ofp.OFP_PORT_STATUS_SIZE),
    OFPT_STATS_REPLY: (_ofp.OFP_STATS_MSG_SIZE, None),
    OFPT_BARRIER_REPLY: (HEADER_SIZE, HEADER_SIZE),
    OFPT_QUEUE_GET_CONFIG_REPLY: (_ofp.OFP_QUEUE_GET_CONFIG_REPLY_SIZE, None),
}

# --- readers the hot paths need -------------------------------------------------------------------------------

header_at = HEADER.unpack_from  # header_at(buf, offset=0) -> (version, type, length, xid)


def xid_at(buf, offset=0):
    """The xid of the message at buf[offset:]."""
    return XID.unpack_from(buf, offset + XID_OFFSET)[0]


def type_of(buf, offset=0):
    """The type (OFPT_*) of the message at buf[offset:]."""
    return buf[offset + _TYPE_OFFSET]


_TYPE_OFFSET = struct.calcsize('!B')
_PACKET_IN_HEAD = struct.Struct('!IHH')  # buffer_id, total_len, in_port


def packet_in_fields(buf, offset, msg_len):
    """The PACKET_IN at buf[offset:offset + msg_len] -> (in_port, start, end, buffer_id): the frame (or its
    first miss_send_len bytes, when the switch buffered the packet) is buf[start:end].

    total_len shorter than what the message carries means padding after the frame, which Ryu's parser drops too.
    """
    buffer_id, total_len, in_port = _PACKET_IN_HEAD.unpack_from(buf, offset + HEADER_SIZE)
    start = offset + PACKET_IN_SIZE
    end = offset + msg_len
    if total_len < end - start:
        end = start + total_len
    return in_port, start, end, buffer_id


def flow_identity(packed):
    """What must be equal for MODIFY_STRICT to replace a flow in place: the match as given (host bits included),
    the cookie and the priority of packed flow-mod bytes."""
    return packed[MATCH_OFFSET:COMMAND_OFFSET], packed[PRIORITY_OFFSET:PRIORITY_OFFSET + _PRIORITY_SIZE]


_PRIORITY_SIZE = struct.calcsize('!H')


def port_is_up(port):
    """A port (Ryu's OFPPhyPort, or anything with `config` and `state`) that is not administratively down and
    has its link up."""
    return not (port.config & OFPPC_PORT_DOWN or port.state & OFPPS_LINK_DOWN)


def port_mac(port):
    """A port's (Ryu's OFPPhyPort) hardware address as 6 bytes, whether Ryu gave it as text or bytes."""
    if isinstance(port.hw_addr, str):
        return bytes.fromhex(port.hw_addr.replace(':', ''))
    return bytes(port.hw_addr)


def is_expiry(reason):
    """A FLOW_REMOVED reason that means the flow timed out (idle or hard), not that it was deleted."""
    return reason in (OFPRR_IDLE_TIMEOUT, OFPRR_HARD_TIMEOUT)


def type_name(msg_type):
    """'PACKET_IN' for 10; 'type 99' for a number OpenFlow 1.0 does not name."""
    return _TYPE_NAMES.get(msg_type, 'type %d' % msg_type)


_TYPE_NAMES = {getattr(_ofp, n): n[len('OFPT_'):] for n in dir(_ofp) if n.startswith('OFPT_')}


def describe_error(error_type, error_code):
    """OpenFlow 1.0 error numbers -> names, e.g. (2, 4) -> ('OFPET_BAD_ACTION', 'OFPBAC_BAD_OUT_PORT')."""
    type_name_ = _ERROR_TYPE_NAMES.get(error_type, str(error_type))
    prefix = _ERROR_CODE_PREFIXES.get(error_type)
    code_name = str(error_code)
    if prefix is not None:
        names = [n for n in dir(_ofp) if n.startswith(prefix) and getattr(_ofp, n) == error_code]
        code_name = names[0] if names else code_name
    return type_name_, code_name


_ERROR_TYPE_NAMES = {getattr(_ofp, n): n for n in dir(_ofp) if n.startswith('OFPET_')}
_ERROR_CODE_PREFIXES = {_ofp.OFPET_HELLO_FAILED: 'OFPHFC_', _ofp.OFPET_BAD_REQUEST: 'OFPBRC_',
                        _ofp.OFPET_BAD_ACTION: 'OFPBAC_', _ofp.OFPET_FLOW_MOD_FAILED: 'OFPFMFC_',
                        _ofp.OFPET_PORT_MOD_FAILED: 'OFPPMFC_', _ofp.OFPET_QUEUE_OP_FAILED: 'OFPQOFC_'}


def _bit_names(prefix, names):
    return tuple((getattr(_ofp, prefix + name), name) for name in names)


# A FEATURES_REPLY's capabilities (OFPC_*) and supported actions (a bit per OFPAT_* number), by name, bit order.
CAPABILITIES = _bit_names('OFPC_', ('FLOW_STATS', 'TABLE_STATS', 'PORT_STATS', 'STP', 'RESERVED', 'IP_REASM',
                                    'QUEUE_STATS', 'ARP_MATCH_IP'))
ACTION_TYPES = tuple((1 << number, name) for number, name in sorted(
    (getattr(_ofp, n), n[len('OFPAT_'):]) for n in dir(_ofp) if n.startswith('OFPAT_') and n != 'OFPAT_VENDOR'))


def capability_names(bits):
    """Names of the OFPC_* capabilities set in a FEATURES_REPLY's `capabilities`, in bit order."""
    return [name for bit, name in CAPABILITIES if bits & bit]


def action_type_names(bits):
    """Names of the OFPAT_* action types set in a FEATURES_REPLY's `actions`, in bit order."""
    return [name for bit, name in ACTION_TYPES if bits & bit]
