"""The OpenFlow 1.0 match (ofp_match), driven by one table: MATCH_FIELDS.

Every function below reads the table: packing an entry's match, reading it back from packed bytes or from a
match a switch reported (Ryu's OFPMatch), the key that says two flows are the same flow, and the wildcards.
A FlowEntry's match (controller.flowentry) is a tuple of (field, value) pairs in table order: an integer, a MAC
address as text ('52:54:00:9b:d5:bc', the canonical form rest.floodlight.to_mac gives), or for an IPv4 field an
(address text, prefix length) pair.

Adding a match field: one row in MATCH_FIELDS (its name, its struct code, in ofp_match's order, its wildcard and
its kind), and its cases in tests/unit/test_of10.py; rest.floodlight names it for REST (MATCH_KEYS).
"""
import re
import struct
from collections import namedtuple

from controller.of10 import wire

INT, MAC, IPV4 = 'int', 'mac', 'ipv4'

# name: the OpenFlow 1.0 field (and Ryu's OFPMatch attribute); code: its struct format in ofp_match, padding
# included; wildcard: its OFPFW_* bit, or for an IPV4 field the shift of its 6-bit wildcarded-bits count.
MatchField = namedtuple('MatchField', 'name code wildcard kind')

MATCH_FIELDS = (
    MatchField('in_port', 'H', wire.OFPFW_IN_PORT, INT),
    MatchField('dl_src', '6s', wire.OFPFW_DL_SRC, MAC),
    MatchField('dl_dst', '6s', wire.OFPFW_DL_DST, MAC),
    MatchField('dl_vlan', 'H', wire.OFPFW_DL_VLAN, INT),
    MatchField('dl_vlan_pcp', 'Bx', wire.OFPFW_DL_VLAN_PCP, INT),
    MatchField('dl_type', 'H', wire.OFPFW_DL_TYPE, INT),
    MatchField('nw_tos', 'B', wire.OFPFW_NW_TOS, INT),
    MatchField('nw_proto', 'B2x', wire.OFPFW_NW_PROTO, INT),
    MatchField('nw_src', 'I', wire.OFPFW_NW_SRC_SHIFT, IPV4),
    MatchField('nw_dst', 'I', wire.OFPFW_NW_DST_SHIFT, IPV4),
    MatchField('tp_src', 'H', wire.OFPFW_TP_SRC, INT),
    MatchField('tp_dst', 'H', wire.OFPFW_TP_DST, INT),
)
# The table is ofp_match as Ryu lays it out, field by field (wildcards first).
assert '!I' + ''.join(f.code for f in MATCH_FIELDS) == wire.MATCH.format, 'MATCH_FIELDS is not ofp_match'

FIELD_NAMES = tuple(f.name for f in MATCH_FIELDS)  # the order of a FlowEntry's match
_ADDRESS_BITS = 0x3f   # an IPv4 field's wildcard count: 6 bits, 32 or more means wholly wildcarded
_NO_ADDRESS = 0xffffffff
_BY_NAME = {f.name: (index + 1, f) for index, f in enumerate(MATCH_FIELDS)}  # value slot: after the wildcards
_EMPTY = {INT: 0, MAC: b'\x00' * 6, IPV4: 0}
NO_MATCH = (wire.OFPFW_ALL,) + tuple(_EMPTY[f.kind] for f in MATCH_FIELDS)  # the values of a match-everything


# --- values: MAC and IPv4 text <-> wire ------------------------------------------------------------------------

_CANONICAL_MAC = re.compile('(?:[0-9a-f]{2}:){5}[0-9a-f]{2}')


def mac_to_bin(text):
    """'52:54:00:9b:d5:bc' -> 6 bytes. Only the canonical form a FlowEntry holds (lower case, two digits a
    piece: rest.floodlight.to_mac's); anything else is a ValueError."""
    if type(text) is not str or not _CANONICAL_MAC.fullmatch(text):
        raise ValueError('%r is not a MAC address in canonical form (52:54:00:9b:d5:bc)' % (text,))
    return bytes.fromhex(text.replace(':', ''))


def mac_to_text(data):
    """6 bytes -> '52:54:00:9b:d5:bc'."""
    return data.hex(':')


def ipv4_to_int(text):
    a, b, c, d = text.split('.')
    return (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)


def ipv4_to_text(value):
    return '%d.%d.%d.%d' % (value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff)


_TO_WIRE = {INT: lambda v: v, MAC: mac_to_bin}
_FROM_WIRE = {INT: lambda v: v, MAC: mac_to_text}


# --- a FlowEntry's match <-> ofp_match values ------------------------------------------------------------------

def pack_match(match_pairs):
    """A FlowEntry's match -> ofp_match values (wildcards first, then one value per field), as Ryu's
    OFPMatch(...).serialize writes them: wildcards cleared for the fields present, an IPv4 field's wildcard
    count set to 32 - prefix length."""
    values = list(NO_MATCH)
    wildcards = wire.OFPFW_ALL
    for name, value in match_pairs:
        slot, field = _BY_NAME[name]
        if field.kind == IPV4:
            address, prefix = value
            wildcards &= (32 - prefix) << field.wildcard | ~(_ADDRESS_BITS << field.wildcard)
            values[slot] = ipv4_to_int(address)
        else:
            wildcards &= ~field.wildcard
            values[slot] = _TO_WIRE[field.kind](value)
    values[0] = wildcards
    return values


def wildcards_of(match_pairs):
    """The ofp_match wildcards of a FlowEntry's match."""
    return pack_match(match_pairs)[0]


def match_pairs(values, keep_zero_prefix=True):
    """ofp_match values -> a FlowEntry's match. A field is present when its wildcard bit is clear; an IPv4 field
    when at most 32 of its bits are wildcarded. keep_zero_prefix: a /0 (32 wildcarded bits) reads back as given,
    for an entry's own bytes; False drops it, for a match a switch reports (its /0 means no address)."""
    wildcards = values[0]
    pairs = []
    for slot, field in enumerate(MATCH_FIELDS, 1):
        if field.kind == IPV4:
            count = (wildcards >> field.wildcard) & _ADDRESS_BITS
            if count < 32 or (count == 32 and keep_zero_prefix):
                pairs.append((field.name, (ipv4_to_text(values[slot]), 32 - count)))
        elif not wildcards & field.wildcard:
            pairs.append((field.name, _FROM_WIRE[field.kind](values[slot])))
    return tuple(pairs)


def unpack_match(packed):
    """A FlowEntry's match back from packed flow-mod bytes (the inverse of pack_match)."""
    return match_pairs(wire.MATCH.unpack_from(packed, wire.MATCH_OFFSET))


def ryu_match_values(ofp_match):
    """The ofp_match values of a match Ryu parsed (an OFPMatch from a flow stats reply or a FLOW_REMOVED)."""
    buf = bytearray()
    ofp_match.serialize(buf, 0)
    return wire.MATCH.unpack_from(buf)


def flow_match(ofp_match):
    """A match a switch reported, as a FlowEntry's match (REST shows flows read from switches this way)."""
    return match_pairs(ryu_match_values(ofp_match), keep_zero_prefix=False)


# --- the flow's key ---------------------------------------------------------------------------------------------
# Two flows on a switch are the same flow when their priority and match are: a switch normalises a match (fields
# under a wildcard zeroed, host bits of an IPv4 prefix cleared), so the key does too. Bytes: the static flow
# table keeps one per active entry.

_KEY_NUMBER = struct.Struct('!BH')    # field index, value
_KEY_ADDRESS = struct.Struct('!BIB')  # field index, masked address, prefix length
_KEY_HEAD = struct.Struct('!QH')      # dpid, priority
# Per field: (value slot, its wildcard bit (None for IPv4), its IPv4 wildcard shift, its MAC tag byte or None)
_KEY_LAYOUT = tuple(
    (index, index + 1, None if f.kind == IPV4 else f.wildcard, f.wildcard if f.kind == IPV4 else None,
     bytes((index,)) if f.kind == MAC else None)
    for index, f in enumerate(MATCH_FIELDS))


def key_of(values):
    """The normalised match of ofp_match values, as bytes: the match part of flow_key."""
    wildcards = values[0]
    parts = []
    for index, slot, bit, shift, mac_tag in _KEY_LAYOUT:
        if bit is None:  # IPv4: present when fewer than 32 address bits are wildcarded
            prefix = 32 - ((wildcards >> shift) & _ADDRESS_BITS)
            if prefix > 0:
                parts.append(_KEY_ADDRESS.pack(index, values[slot] & (_NO_ADDRESS << (32 - prefix)) & _NO_ADDRESS,
                                               prefix))
        elif not wildcards & bit:
            parts.append(mac_tag + values[slot] if mac_tag is not None else _KEY_NUMBER.pack(index, values[slot]))
    return b''.join(parts)


def packed_match_key(packed):
    """key_of the match of packed flow-mod bytes."""
    return key_of(wire.MATCH.unpack_from(packed, wire.MATCH_OFFSET))


def ryu_match_key(ofp_match):
    """key_of a match Ryu parsed (a FLOW_REMOVED's, a flow stats reply's)."""
    return key_of(ryu_match_values(ofp_match))


def flow_key(dpid, priority, packed=None, match_key=None):
    """A compact, hashable key of the flow a switch holds for (dpid, priority, match): from an entry's packed
    flow-mod, or from a match key (ryu_match_key of a FLOW_REMOVED's match, InstalledFlow.match)."""
    return _KEY_HEAD.pack(dpid, priority) + (packed_match_key(packed) if match_key is None else match_key)
