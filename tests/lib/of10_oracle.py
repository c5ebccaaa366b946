"""Ryu's own OpenFlow 1.0 messages, as an independent reference for controller.of10 (used by tests only).

controller.of10 packs and reads bytes itself; these build the same messages with Ryu's parser classes
(OFPFlowMod, OFPMatch, OFPAction*) and read bytes back with Ryu's parser, so a test can say "of10's bytes are
Ryu's" and look at a message's fields without knowing offsets.
"""
import copy

from ryu.lib import addrconv
from ryu.ofproto import ofproto_parser
from ryu.ofproto import ofproto_v1_0 as ofp
from ryu.ofproto import ofproto_v1_0_parser as parser

from controller import of10

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
    """A FlowEntry's match -> Ryu's OFPMatch; wildcards follow from the fields present."""
    kwargs = {}
    for field, value in match_pairs:
        if field in ('nw_src', 'nw_dst'):
            kwargs[field], kwargs[field + '_mask'] = value
        else:
            kwargs[field] = value
    return parser.OFPMatch(**kwargs)


def build_actions(actions):
    return [_ACTION_BUILDERS[action[0]](action) for action in actions]


def flow_mod(entry, command=ofp.OFPFC_ADD):
    """The entry's flow-mod as Ryu builds it (what of10.pack_flow_add must serialize to)."""
    flags = ofp.OFPFF_SEND_FLOW_REM if (entry.idle_timeout or entry.hard_timeout) else 0
    return parser.OFPFlowMod(
        datapath=None, match=build_match(entry.match), cookie=entry.cookie, command=command,
        idle_timeout=entry.idle_timeout, hard_timeout=entry.hard_timeout, priority=entry.priority,
        buffer_id=0xffffffff, out_port=ofp.OFPP_NONE, flags=flags, actions=build_actions(entry.actions))


def flow_add(entry):
    return flow_mod(entry, ofp.OFPFC_ADD)


def flow_modify_strict(entry):
    return flow_mod(entry, ofp.OFPFC_MODIFY_STRICT)


def flow_delete_strict(entry):
    return flow_mod(entry, ofp.OFPFC_DELETE_STRICT)


def wire_bytes(msg, xid=0):
    """The bytes of a message to send, with `xid`, leaving the message as it was (it can still be sent)."""
    if isinstance(msg, (bytes, bytearray)):
        return bytes(msg)
    msg = copy.copy(msg)
    msg.xid = None  # a message already sent keeps its own xid; its copy is serialized with `xid`
    return of10.serialize(msg, xid)


def parse(msg_or_bytes, xid=0):
    """A message to send (or its bytes) read back by Ryu's parser: an OFPFlowMod, OFPPacketOut..."""
    data = wire_bytes(msg_or_bytes, xid)
    version, msg_type, length, xid = ofproto_parser.header(data)
    return ofproto_parser.msg(of10.NULL_DATAPATH, version, msg_type, length, xid, bytes(data))


def parse_all(data):
    """Every message of bytes holding several back to back."""
    msgs, offset = [], 0
    while offset < len(data):
        length = ofproto_parser.header(data[offset:])[2]
        msgs.append(parse(data[offset:offset + length]))
        offset += length
    return msgs


def installed(flow_mod_msgs):
    """What a switch's flow stats reply would say after applying these flow-mods in order, as InstalledFlows (a
    tiny OpenFlow 1.0 table: ADD and MODIFY_STRICT replace the flow with its match and priority, DELETE_STRICT
    removes it). Each message is one of of10's or Ryu's flow-mods; other messages are skipped."""
    table = {}
    for msg in flow_mod_msgs:
        if of10.msg_type(msg) != ofp.OFPT_FLOW_MOD:
            continue
        mod = parse(msg)
        key = (mod.priority, of10.match_key(mod.match))
        if mod.command in (ofp.OFPFC_ADD, ofp.OFPFC_MODIFY_STRICT):
            table[key] = mod
        elif mod.command == ofp.OFPFC_DELETE_STRICT:
            table.pop(key, None)
    return [of10.installed_flow(_stats_of(mod)) for mod in table.values()]


def _stats_of(mod):
    """An OFPFlowStats as a switch would report the flow this OFPFlowMod installed."""
    stats = parser.OFPFlowStats()
    stats.table_id, stats.match, stats.priority, stats.cookie = 0, mod.match, mod.priority, mod.cookie
    stats.idle_timeout, stats.hard_timeout, stats.actions = mod.idle_timeout, mod.hard_timeout, mod.actions
    stats.duration_sec = stats.duration_nsec = stats.packet_count = stats.byte_count = 0
    return stats
