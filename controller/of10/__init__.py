"""OpenFlow 1.0: the only package that knows its wire formats. Use it as `from controller import of10`.

- wire.py: every constant (taken once from ryu.ofproto.ofproto_v1_0), struct and offset; the readers the hot
  paths need (header_at, xid_at, type_of, packet_in_fields, flow_identity) and small decoders (port_is_up,
  is_expiry, describe_error, type_name, capability_names, action_type_names); SWITCH_MESSAGES, what a switch may
  send (controller.ofguard).
- match.py: the match-field table MATCH_FIELDS, and everything derived from it (pack_match, unpack_match,
  flow_match, key_of, flow_key, wildcards_of).
- actions.py: the action table ACTIONS (pack_actions, unpack_actions, ryu_actions, as_installed).
- build.py: the messages the controller sends (packed flow-mods of static entries, forwarding's templates,
  barrier, role and statistics requests) and the message classes the session writes (RawMessage,
  PackedFlowMod, PackedFlowModBatch).
- read.py: what the apps read out of received messages (installed_flow, match_key, role_reply_role...).

Pure: imports ryu.ofproto only, never ryu.controller, ryu.base, ryu.app or eventlet (tests/unit/test_layout.py).
Nothing outside this package imports struct or ryu.ofproto.ofproto_v1_0*, or reads message bytes at numeric
offsets (also checked there).
"""
from controller.of10.wire import (  # noqa: F401
    ACTION_TYPES, CAPABILITIES, COMMAND_OFFSET, COOKIE_OFFSET, FLOW_MOD_SIZE, HEADER, HEADER_SIZE, MATCH_OFFSET,
    OFP_NO_BUFFER, OFP_VERSION, OFP_VLAN_NONE, OFPAT_ENQUEUE, OFPAT_OUTPUT, OFPBRC_EPERM, OFPET_BAD_REQUEST,
    OFPFC_ADD, OFPFC_DELETE, OFPFC_DELETE_STRICT, OFPFC_MODIFY, OFPFC_MODIFY_STRICT, OFPFF_SEND_FLOW_REM, OFPFW_ALL,
    OFPP_ALL, OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_LOCAL, OFPP_MAX, OFPP_NONE, OFPP_NORMAL, OFPP_TABLE,
    OFPPC_PORT_DOWN, OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY, OFPPS_LINK_DOWN, OFPQ_ALL, OFPRR_DELETE,
    OFPRR_HARD_TIMEOUT, OFPRR_IDLE_TIMEOUT, OFPSF_REPLY_MORE, OFPT_BARRIER_REPLY, OFPT_BARRIER_REQUEST, OFPT_ECHO_REPLY,
    OFPT_ECHO_REQUEST, OFPT_ERROR, OFPT_FEATURES_REPLY, OFPT_FLOW_MOD, OFPT_FLOW_REMOVED, OFPT_GET_CONFIG_REPLY,
    OFPT_HELLO, OFPT_PACKET_IN, OFPT_PACKET_OUT, OFPT_PORT_STATUS, OFPT_STATS_REPLY, OFPT_VENDOR, PACKET_IN_SIZE,
    PHY_PORT_SIZE, PRIORITY_OFFSET, SWITCH_FEATURES_SIZE, SWITCH_MESSAGES, TABLE_STATS_SIZE, XID_MASK, XID_OFFSET,
    action_type_names, capability_names,
    describe_error, flow_identity, header_at, is_expiry, packet_in_fields, port_is_up, port_mac, type_name, type_of,
    xid_at)
from controller.of10.match import (  # noqa: F401
    FIELD_NAMES, MATCH_FIELDS, MatchField, flow_key, flow_match, pack_match, unpack_match, wildcards_of)
from controller.of10.actions import ACTIONS, as_installed, pack_actions, ryu_actions, unpack_actions  # noqa: F401
from controller.of10.build import (  # noqa: F401
    ENTRY_MESSAGES, FLOW_ADD, FLOW_DELETE_STRICT, FLOW_MOD_BATCH, FLOW_MODIFY_STRICT, FORWARDING_APP_ID,
    FORWARDING_COOKIE, FORWARDING_WILDCARDS, NO_BUFFER, NULL_DATAPATH, ROLE_NAMES, ROLE_NUMBERS, PackedFlowMod,
    PackedFlowModBatch, RawMessage, barrier, batch_flow_mods, count_sent, flow_add_facts, flow_delete_strict_installed,
    echo_request, flow_mod_bytes, flow_stats_request, forwarding_flow_add, forwarding_flow_add_and_packet_out,
    forwarding_flow_delete, get_config_request, is_barrier, is_write, msg_type, output_actions, pack_flow_add,
    packed_command, packed_fields, packed_flow_mod, packet_out, packet_out_port, role_request, serialize,
    stats_request, with_command)
from controller.of10.read import (  # noqa: F401
    InstalledFlow, installed_flow, is_last_stats_part, is_slave_rejection, match_key, packed_expected_flow,
    role_reply_role)
