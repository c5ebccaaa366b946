"""The only module that builds OpenFlow 1.0 messages. Messages are values: datapath is bound at send time."""
from ryu.lib import addrconv
from ryu.ofproto import ofproto_v1_0 as ofp
from ryu.ofproto import ofproto_v1_0_parser as parser
from ryu.ofproto.ofproto_protocol import ProtocolDesc

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
    return parser.OFPFlowMod(
        datapath=None, match=build_match(entry.match), cookie=entry.cookie, command=command,
        idle_timeout=entry.idle_timeout, hard_timeout=entry.hard_timeout, priority=entry.priority,
        buffer_id=0xffffffff, out_port=ofp.OFPP_NONE, flags=flags, actions=build_actions(entry.actions))


def flow_add(entry):
    return _flow_mod(entry, ofp.OFPFC_ADD)


def flow_modify_strict(entry):
    return _flow_mod(entry, ofp.OFPFC_MODIFY_STRICT)


def flow_delete_strict(entry):
    return _flow_mod(entry, ofp.OFPFC_DELETE_STRICT)


def flow_delete_all():
    """Delete every flow of the table (Floodlight's handshake wipe)."""
    return parser.OFPFlowMod(
        datapath=None, match=parser.OFPMatch(), cookie=0, command=ofp.OFPFC_DELETE, idle_timeout=0,
        hard_timeout=0, priority=0, buffer_id=0xffffffff, out_port=ofp.OFPP_NONE, flags=0, actions=[])


def barrier():
    return parser.OFPBarrierRequest(None)


def serialize(msg, xid=0):
    """Bytes of a message, without a switch (used by tests and to check a message before sending)."""
    msg.datapath = NULL_DATAPATH
    msg.set_xid(xid)
    msg.serialize()
    return bytes(msg.buf)
