"""OpenFlow 1.0 messages the controller receives, as Ryu parsed them: what the apps read out of them.

Flows read back (a flow stats reply's, a FLOW_REMOVED's) and flows an entry would install are reduced to the same
InstalledFlow, so reconciliation compares like with like whatever the switch normalised (fields under a
wildcard zeroed, host bits of a prefix cleared, max_len dropped on outputs other than to the controller).
"""
from collections import namedtuple

from ryu.ofproto import ofproto_v1_0_parser as _parser

from controller.of10 import wire
from controller.of10.actions import as_installed, ryu_actions, unpack_actions
from controller.of10.build import packed_fields
from controller.of10.match import key_of, packed_match_key, ryu_match_key, ryu_match_values

# match: the key of the flow's match (controller.of10.match.key_of); actions: as_installed action tuples;
# match_values: the ofp_match values as the switch reported them (to delete exactly that flow), None for an
# entry's expected flow.
InstalledFlow = namedtuple('InstalledFlow', 'cookie priority match actions idle_timeout hard_timeout match_values')


def installed_flow(flow_stats):
    """An OFPFlowStats of a flow stats reply -> InstalledFlow."""
    values = ryu_match_values(flow_stats.match)
    return InstalledFlow(flow_stats.cookie, flow_stats.priority, key_of(values),
                         as_installed(ryu_actions(flow_stats.actions)), flow_stats.idle_timeout,
                         flow_stats.hard_timeout, values)


def packed_expected_flow(packed):
    """The InstalledFlow an entry's packed ADD leaves in a switch's table."""
    cookie, idle, hard, priority = packed_fields(packed)
    return InstalledFlow(cookie, priority, packed_match_key(packed), as_installed(unpack_actions(packed)), idle, hard,
                         None)


def match_key(ofp_match):
    """The key of a match Ryu parsed (a FLOW_REMOVED's), for StaticFlowTable.remove_expired."""
    return ryu_match_key(ofp_match)


def is_last_stats_part(msg):
    return not msg.flags & wire.OFPSF_REPLY_MORE


def role_reply_role(vendor_msg):
    """The role number of a received NXT_ROLE_REPLY (Ryu parses it into an OFPVendor's data), else None."""
    data = getattr(vendor_msg, 'data', None)
    return data.role if isinstance(data, _parser.NXTRoleReply) else None


def is_slave_rejection(error_type, error_code):
    """The error a switch answers a SLAVE connection's flow-mod or packet-out with (OFPBRC_EPERM)."""
    return error_type == wire.OFPET_BAD_REQUEST and error_code == wire.OFPBRC_EPERM
