"""OpenFlow 1.0 actions, driven by one table: ACTIONS.

A FlowEntry's actions are tuples: ('output', port, max_len), ('enqueue', port, queue_id), ('strip_vlan',),
('set_vlan_vid', vid), ('set_vlan_pcp', pcp), ('set_dl_src'|'set_dl_dst', MAC text), ('set_nw_src'|'set_nw_dst',
IPv4 text), ('set_nw_tos', tos), ('set_tp_src'|'set_tp_dst', port). Packing them, reading them back from
packed bytes, and reading the actions a switch reported (Ryu's action objects) all go through the table.
"""
from collections import namedtuple

from controller.of10 import wire
from controller.of10.match import ipv4_to_int, ipv4_to_text, mac_to_bin, mac_to_text

# kind: the FlowEntry's name; type: OFPAT_*; layout: its struct (type, len, then the arguments); to_wire: the
# tuple's arguments -> the layout's; from_wire: the layout's arguments -> the tuple's.
ActionKind = namedtuple('ActionKind', 'kind type layout to_wire from_wire')


def _same(*args):
    return args


ACTIONS = (
    ActionKind('output', wire.OFPAT_OUTPUT, wire.ACTION_OUTPUT, _same, _same),
    ActionKind('enqueue', wire.OFPAT_ENQUEUE, wire.ACTION_ENQUEUE, _same, _same),
    ActionKind('strip_vlan', wire.OFPAT_STRIP_VLAN, wire.ACTION_NO_ARGUMENT, _same, _same),
    ActionKind('set_vlan_vid', wire.OFPAT_SET_VLAN_VID, wire.ACTION_VLAN_VID, _same, _same),
    ActionKind('set_vlan_pcp', wire.OFPAT_SET_VLAN_PCP, wire.ACTION_VLAN_PCP, _same, _same),
    ActionKind('set_dl_src', wire.OFPAT_SET_DL_SRC, wire.ACTION_DL_ADDR, lambda mac: (mac_to_bin(mac),),
               lambda data: (mac_to_text(data),)),
    ActionKind('set_dl_dst', wire.OFPAT_SET_DL_DST, wire.ACTION_DL_ADDR, lambda mac: (mac_to_bin(mac),),
               lambda data: (mac_to_text(data),)),
    ActionKind('set_nw_src', wire.OFPAT_SET_NW_SRC, wire.ACTION_NW_ADDR, lambda ip: (ipv4_to_int(ip),),
               lambda value: (ipv4_to_text(value),)),
    ActionKind('set_nw_dst', wire.OFPAT_SET_NW_DST, wire.ACTION_NW_ADDR, lambda ip: (ipv4_to_int(ip),),
               lambda value: (ipv4_to_text(value),)),
    ActionKind('set_nw_tos', wire.OFPAT_SET_NW_TOS, wire.ACTION_NW_TOS, _same, _same),
    ActionKind('set_tp_src', wire.OFPAT_SET_TP_SRC, wire.ACTION_TP_PORT, _same, _same),
    ActionKind('set_tp_dst', wire.OFPAT_SET_TP_DST, wire.ACTION_TP_PORT, _same, _same),
)
_BY_KIND = {a.kind: a for a in ACTIONS}
_BY_TYPE = {a.type: a for a in ACTIONS}


def pack_actions(actions):
    """A FlowEntry's action tuples -> the actions of a flow-mod, as bytes."""
    parts = []
    for action in actions:
        spec = _BY_KIND[action[0]]
        layout = spec.layout
        parts.append(layout.pack(spec.type, layout.size, *spec.to_wire(*action[1:])))
    return b''.join(parts)


def unpack_actions(buf, offset=wire.FLOW_MOD_SIZE, end=None):
    """Action tuples back from packed actions (by default those of packed flow-mod bytes). An action this table
    does not know reads as ('OFPAT', its type number)."""
    actions = []
    end = len(buf) if end is None else end
    while offset < end:
        action_type, length = wire.ACTION_HEADER.unpack_from(buf, offset)
        spec = _BY_TYPE.get(action_type)
        if spec is None:
            actions.append(('OFPAT', action_type))
        else:
            actions.append((spec.kind,) + spec.from_wire(*spec.layout.unpack_from(buf, offset)[2:]))
        if length < wire.ACTION_HEADER.size:
            break  # malformed: a zero length would never end
        offset += length
    return tuple(actions)


def ryu_actions(actions):
    """Action tuples of the actions Ryu parsed (a flow stats reply's)."""
    buf = bytearray()
    for action in actions:
        action.serialize(buf, len(buf))
    return unpack_actions(buf, 0)


def as_installed(actions):
    """Action tuples as a switch holds them: an output's max_len only matters (and is only kept by OVS) on an
    output to the controller."""
    return tuple(('output', a[1], a[2] if a[1] == wire.OFPP_CONTROLLER else None) if a[0] == 'output' else a
                 for a in actions)
