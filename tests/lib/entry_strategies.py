"""Hypothesis strategies for Floodlight static flow requests: mostly well-formed values with the edge cases of
each field, mixed with junk, so that the parser is driven down both its accepting and its rejecting paths.

Used by the unit (parser, action grammar), protocol (live REST) and end-to-end (OVS accepts what the parser
accepts) property tests.
"""
import json

from hypothesis import strategies as st

from rest import floodlight

PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7e)
ANY_TEXT = st.text(max_size=12)

numbers = st.one_of(
    st.integers(min_value=-2, max_value=70000),
    st.sampled_from([0, 1, 7, 8, 63, 64, 255, 256, 4095, 4096, 0xfeff, 0xff00, 0xfff8, 0xfffe, 0xffff, 0x10000,
                     2 ** 32 - 1, 2 ** 32, 2 ** 64 - 1, 2 ** 64]),
)
number_text = st.one_of(numbers.map(str), numbers.filter(lambda n: n >= 0).map(hex),
                        st.sampled_from(['', ' ', '0x', '1.5', '1e3', '-0', '+1', ' 12 ', '0X1f', 'ten']))
mac = st.one_of(
    st.lists(st.integers(0, 255), min_size=6, max_size=6).map(lambda b: ':'.join('%02x' % x for x in b)),
    st.lists(st.integers(0, 255), min_size=6, max_size=6).map(lambda b: '-'.join('%X' % x for x in b)),
    st.sampled_from(['52:54:00:9b:d5', 'zz:00:00:00:00:00', '52:54:00:9b:d5:bc:aa', '', 'ff:ff:ff:ff:ff:ff',
                     '01:00:00:00:00:00']),
    ANY_TEXT,
)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: '%d.%d.%d.%d' % t)
cidr = st.one_of(
    ipv4,
    st.tuples(ipv4, st.integers(-1, 33)).map(lambda t: '%s/%d' % t),
    st.tuples(ipv4, ipv4).map(lambda t: '%s/%s' % t),
    st.sampled_from(['10.0.0.256', '10.0.0', '::1', '10.0.0.0/', '0.0.0.0/0', '255.255.255.255/32']),
    ANY_TEXT,
)
dpid = st.one_of(
    st.integers(0, 2 ** 64 - 1).map(lambda n: ':'.join('%02x' % ((n >> s) & 0xff) for s in range(56, -8, -8))),
    st.integers(0, 2 ** 64 - 1).map(lambda n: '%x' % n),
    st.integers(-1, 2 ** 64),
    st.sampled_from(['00:00:00:00:00:00:00:00:01', 'g', '0x1', '', 'all']),
)

# Per key: the values worth trying.
_KEY_VALUES = {
    'in_port': number_text, 'ingress-port': number_text,
    'eth_src': mac, 'eth_dst': mac, 'src-mac': mac, 'dst-mac': mac,
    'eth_vlan_vid': number_text, 'vlan-id': number_text, 'eth_vlan_pcp': number_text, 'vlan-priority': number_text,
    'eth_type': st.sampled_from(['0x0800', '0x0806', '2048', '0x86dd', '0x88cc', '0', '0x8100']) | number_text,
    'ether-type': st.sampled_from(['0x0800', '0x0806', '2048']),
    'ip_proto': st.sampled_from(['1', '6', '17', '132', '0', '255']) | number_text,
    'protocol': st.sampled_from(['1', '6', '17']),
    'ip_tos': number_text, 'ip_dscp': number_text, 'tos-bits': number_text,
    'ipv4_src': cidr, 'ipv4_dst': cidr, 'src-ip': cidr, 'dst-ip': cidr, 'arp_spa': cidr, 'arp_tpa': cidr,
    'tp_src': number_text, 'tp_dst': number_text, 'src-port': number_text, 'dst-port': number_text,
    'tcp_src': number_text, 'udp_dst': number_text, 'sctp_src': number_text,
    'icmpv4_type': number_text, 'icmpv4_code': number_text, 'arp_opcode': number_text,
    'priority': number_text, 'idle_timeout': number_text, 'hard_timeout': number_text,
    'active': st.sampled_from(['true', 'false', 'True', 'yes', '1']) | st.booleans(),
    'cookie': number_text, 'table': number_text, 'wildcards': number_text,
}

_OUTPUT_NAMES = sorted(floodlight.NAMED_OUTPUT_PORTS)
_ACTION_VALUES = {
    'output': st.one_of(number_text, st.sampled_from(_OUTPUT_NAMES)),
    'enqueue': st.tuples(number_text, number_text).map(lambda t: '%s:%s' % t) | number_text,
    'set_vlan_vid': number_text, 'set-vlan-id': number_text,
    'set_vlan_pcp': number_text, 'set-vlan-priority': number_text,
    'set_eth_src': mac, 'set-src-mac': mac, 'set_eth_dst': mac, 'set-dst-mac': mac,
    'set_ip_tos': number_text, 'set-tos-bits': number_text,
    'set_ipv4_src': ipv4 | cidr, 'set-src-ip': ipv4, 'set_ipv4_dst': ipv4 | cidr, 'set-dst-ip': ipv4,
    'set_tp_src': number_text, 'set-src-port': number_text, 'set_tp_dst': number_text, 'set-dst-port': number_text,
    'strip_vlan': st.just(''), 'strip-vlan': st.just(''), 'pop_vlan': st.sampled_from(['', '1']),
}


@st.composite
def action(draw):
    keyword = draw(st.sampled_from(sorted(_ACTION_VALUES)) | st.sampled_from(['foo', 'drop', 'goto_table', '']))
    value = draw(_ACTION_VALUES.get(keyword, ANY_TEXT))
    separator = draw(st.sampled_from(['=', '=', ':', ' = ', '']))
    return keyword if value == '' and separator != '' and draw(st.booleans()) else keyword + separator + value


@st.composite
def actions_text(draw):
    parts = draw(st.lists(action(), max_size=4))
    joiner = draw(st.sampled_from([',', ',', ', ', ',,', ';']))
    return joiner.join(parts)


@st.composite
def entry_document(draw, name=None, switch=None):
    """A JSON object as a client would POST it: usually a switch, a name, a few match keys and actions."""
    doc = {}
    if draw(st.integers(0, 20)) > 0:
        doc['switch'] = switch if switch is not None else draw(dpid)
    if draw(st.integers(0, 20)) > 0:
        doc['name'] = name if name is not None else draw(st.text(PRINTABLE, min_size=1, max_size=16) | ANY_TEXT)
    keys = draw(st.lists(st.sampled_from(sorted(_KEY_VALUES)), max_size=6, unique=True))
    for key in keys:
        doc[key] = draw(_KEY_VALUES[key])
    # help the IP and transport fields past their prerequisites often enough
    if draw(st.booleans()):
        doc.setdefault('eth_type', draw(st.sampled_from(['0x0800', '0x0806'])))
        if draw(st.booleans()):
            doc.setdefault('ip_proto', draw(st.sampled_from(['1', '6', '17', '132'])))
    if draw(st.integers(0, 5)) > 0:
        doc['actions'] = draw(actions_text())
    if draw(st.integers(0, 30)) == 0:
        doc[draw(ANY_TEXT)] = draw(st.one_of(ANY_TEXT, st.integers(), st.none(), st.lists(st.integers(), max_size=2)))
    return doc


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
                           max_leaves=8)

# Bodies: documents as JSON, arbitrary JSON, and raw bytes.
bodies = st.one_of(
    entry_document().map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
)
