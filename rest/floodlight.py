"""Floodlight static flow JSON <-> FlowEntry. The one place Floodlight's keys and value formats are known.

Pure: no Ryu, no sockets. Both dialects are understood on every URL: the 0.9x keys (`ingress-port`, `src-mac`,
`set-src-mac`...) and the 1.x keys (`in_port`, `eth_src`, `set_eth_src`...). The URL family only chooses
defaults and the shape of replies (see Dialect). Every key is in a table below; anything not in a table is an
error, and so is every value that does not parse: Floodlight answered "Entry pushed" and dropped those.
"""
import functools
import ipaddress
import json
import re
from dataclasses import dataclass

from controller import of10
from controller.dpid import DpidError, format_dpid, parse_dpid
from controller.flowentry import MATCH_FIELD_ORDER, FlowEntry

ETH_TYPE_IPV4 = 0x0800
ETH_TYPE_ARP = 0x0806
IP_PROTO_ICMP = 1
IP_PROTO_TCP = 6
IP_PROTO_UDP = 17
IP_PROTO_SCTP = 132

# Floodlight's names of OpenFlow 1.0's reserved ports in output actions.
NAMED_OUTPUT_PORTS = {
    'all': of10.OFPP_ALL, 'controller': of10.OFPP_CONTROLLER, 'local': of10.OFPP_LOCAL,
    'ingress-port': of10.OFPP_IN_PORT, 'in_port': of10.OFPP_IN_PORT, 'normal': of10.OFPP_NORMAL,
    'flood': of10.OFPP_FLOOD, 'table': of10.OFPP_TABLE,
}
PORT_NAMES = {port: name for name, port in NAMED_OUTPUT_PORTS.items() if name not in ('ingress-port',)}


class FlowValidationError(ValueError):
    """A request that must not be stored. `key` names the offending JSON key (None for the whole body)."""

    def __init__(self, reason, key=None):
        super().__init__(reason)
        self.reason = reason
        self.key = key

    def to_json(self):
        body = {'status': 'Error! ' + self.reason, 'reason': self.reason}
        if self.key is not None:
            body['key'] = self.key
        return body


@dataclass(frozen=True)
class Dialect:
    """What a URL family implies: defaults on the wire and the shape of replies."""
    name: str
    default_priority: int          # on the wire when the request has no priority
    listed_default_priority: int   # what `list` shows then (1.x lists Integer.MAX_VALUE)
    output_max_len: int            # max_len of output actions (bytes sent to the controller)
    parse_error_status: str


DIALECT_V0 = Dialect('0.9x', 32767, 32767, 32767, 'Error! Could not parse flod mod, see log for details.')
DIALECT_V1 = Dialect('1.x', 65535, 2147483647, 65535, 'Error! Could not parse flow mod, see log for details.')
DIALECTS = {dialect.name: dialect for dialect in (DIALECT_V0, DIALECT_V1)}


# ---------------------------------------------------------------------------------------------------------
# Value converters: text or JSON number in, canonical Python value out; ValueError with a reason otherwise.

# Converters that a push runs on values repeating from push to push (a switch's DPID, a priority, an eth_type,
# an action string) keep their results for string input: a dict lookup costs less than parsing again. Only
# results are kept, never errors (a bad value is parsed every time, so its error is the parser's own), only
# for str (a JSON true would share a key with 1), and at most CACHE_SIZE per cache (then it starts over).
CACHE_SIZE = 1024


def _remember(cache, key, value):
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value


def _memoized(convert):
    """convert (pure, never returning None) with its results for strings kept; `.uncached` is convert."""
    cache = {}

    def memoized(value):
        if type(value) is str:
            result = cache.get(value)
            return result if result is not None else _remember(cache, value, convert(value))
        return convert(value)

    memoized.uncached = convert
    return memoized


def _number_text(value):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError('expected a number or a string holding one')
    return str(value).strip().lower()


def to_int(value, low, high):
    """Decimal or 0x-prefixed hex, as Floodlight's MatchUtils reads numbers, checked against a range."""
    text = _number_text(value)
    try:
        number = int(text[2:], 16) if text.startswith('0x') else int(text, 10)
    except ValueError:
        raise ValueError('%r is not a decimal or 0x-hex number' % value) from None
    if not low <= number <= high:
        raise ValueError('%d is out of range %d..%d' % (number, low, high))
    return number


@functools.cache  # one converter, and one cache, per range: the tables ask for 0..0xffff twenty times
def int_range(low, high):
    return _memoized(lambda value: to_int(value, low, high))


_CANONICAL_MAC = re.compile('(?:[0-9a-f]{2}:){5}[0-9a-f]{2}')
_MAC_SEPARATOR = re.compile('[:-]')
_MAC_PIECE = re.compile('[0-9a-f]{1,2}')


def to_mac(value):
    """xx:xx:xx:xx:xx:xx (or with '-'); 0.9x also allowed single-digit octets."""
    if type(value) is str and _CANONICAL_MAC.fullmatch(value):  # what _parse_mac gives back: skip splitting
        return value
    return _parse_mac(value)


def _parse_mac(value):
    if not isinstance(value, str):
        raise ValueError('a MAC address must be a string')
    pieces = _MAC_SEPARATOR.split(value.strip().lower())
    if len(pieces) != 6 or not all(_MAC_PIECE.fullmatch(p) for p in pieces):
        raise ValueError('%r is not a MAC address like 52:54:00:9b:d5:bc' % value)
    return ':'.join(p.rjust(2, '0') for p in pieces)


_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
_CANONICAL_IPV4 = re.compile(r'(?:%s\.){3}%s' % (_OCTET, _OCTET))


def to_ipv4(value):
    """a.b.c.d -> 'a.b.c.d'."""
    if not isinstance(value, str):
        raise ValueError('an IPv4 address must be a string')
    text = value.strip()
    if _CANONICAL_IPV4.fullmatch(text):  # what str(IPv4Address(text)) gives back: skip building one
        return text
    try:
        return str(ipaddress.IPv4Address(value.strip()))
    except ValueError:
        raise ValueError('%r is not an IPv4 address' % value) from None


def to_ipv4_prefix(value):
    """a.b.c.d, a.b.c.d/len or a.b.c.d/m.m.m.m -> (address, prefix_len). Host bits are kept, as OF1.0 does."""
    if type(value) is str and _CANONICAL_IPV4.fullmatch(value):  # what _parse_ipv4_prefix gives back
        return (value, 32)
    return _parse_ipv4_prefix(value)


def _parse_ipv4_prefix(value):
    if not isinstance(value, str):
        raise ValueError('an IPv4 address must be a string')
    text = value.strip()
    address, slash, mask = text.partition('/')
    address = to_ipv4(address)
    if not slash:
        return (address, 32)
    try:
        prefix = ipaddress.IPv4Network('0.0.0.0/' + mask).prefixlen
    except ValueError:
        raise ValueError('%r has a bad prefix length or netmask' % value) from None
    return (address, prefix)


def to_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ('true', 'false'):
        return value.strip().lower() == 'true'
    raise ValueError('expected true or false')


def to_name(value):
    if not isinstance(value, str) or not value.strip():
        raise ValueError('a name must be a non-empty string')
    if len(value) > 512:
        raise ValueError('a name is at most 512 characters')
    return value


@_memoized
def to_dpid(value):
    try:
        return parse_dpid(value)
    except DpidError as error:
        raise ValueError(str(error)) from None


def to_tos_dscp(value):
    """0.9x `tos-bits` and 1.x `ip_dscp`: a DSCP value (0..63), put on the wire as the ToS byte (<< 2)."""
    return to_int(value, 0, 63) << 2


def to_tos_byte(value):
    """1.x `ip_tos` and the set-tos actions: the whole ToS byte. OpenFlow 1.0 cannot touch the ECN bits."""
    tos = to_int(value, 0, 255)
    if tos & 0x03:
        raise ValueError('%d sets ECN bits (the low two); OpenFlow 1.0 matches and sets only DSCP, '
                         'use a multiple of 4 or ip_dscp' % tos)
    return tos


def to_vlan_vid(value):
    vid = to_int(value, 0, of10.OFP_VLAN_NONE)
    if vid > 4095 and vid != of10.OFP_VLAN_NONE:
        raise ValueError('%d is not a VLAN id (0..4095, or 0xffff for untagged)' % vid)
    return vid


to_match_port = int_range(0, of10.OFPP_NONE)


# ---------------------------------------------------------------------------------------------------------
# The key tables. A match key is (OF1.0 field, converter, prerequisite) where prerequisite says which
# eth_type / ip_proto the field needs: OpenFlow 1.0 switches silently ignore a field whose prerequisite
# is missing, so the flow would match more than was asked.

@dataclass(frozen=True)
class MatchKey:
    field: str
    convert: object
    needs_eth_type: tuple = ()
    needs_ip_proto: tuple = ()


_IP_TYPES = (ETH_TYPE_IPV4,)
_IP_OR_ARP = (ETH_TYPE_IPV4, ETH_TYPE_ARP)
_PORT_PROTOS = (IP_PROTO_TCP, IP_PROTO_UDP, IP_PROTO_SCTP)

MATCH_KEYS = {
    # 0.9x dialect
    'ingress-port': MatchKey('in_port', to_match_port),
    'src-mac': MatchKey('dl_src', to_mac),
    'dst-mac': MatchKey('dl_dst', to_mac),
    'vlan-id': MatchKey('dl_vlan', to_vlan_vid),
    'vlan-priority': MatchKey('dl_vlan_pcp', int_range(0, 7)),
    'ether-type': MatchKey('dl_type', int_range(0, 0xffff)),
    'tos-bits': MatchKey('nw_tos', to_tos_dscp, _IP_TYPES),
    'protocol': MatchKey('nw_proto', int_range(0, 255), _IP_OR_ARP),
    'src-ip': MatchKey('nw_src', to_ipv4_prefix, _IP_OR_ARP),
    'dst-ip': MatchKey('nw_dst', to_ipv4_prefix, _IP_OR_ARP),
    'src-port': MatchKey('tp_src', int_range(0, 0xffff), _IP_TYPES, _PORT_PROTOS + (IP_PROTO_ICMP,)),
    'dst-port': MatchKey('tp_dst', int_range(0, 0xffff), _IP_TYPES, _PORT_PROTOS + (IP_PROTO_ICMP,)),
    # 1.x dialect
    'in_port': MatchKey('in_port', to_match_port),
    'eth_src': MatchKey('dl_src', to_mac),
    'eth_dst': MatchKey('dl_dst', to_mac),
    'eth_vlan_vid': MatchKey('dl_vlan', to_vlan_vid),
    'eth_vlan_pcp': MatchKey('dl_vlan_pcp', int_range(0, 7)),
    'eth_type': MatchKey('dl_type', int_range(0, 0xffff)),
    'ip_proto': MatchKey('nw_proto', int_range(0, 255), _IP_TYPES),
    'ip_tos': MatchKey('nw_tos', to_tos_byte, _IP_TYPES),
    'ip_dscp': MatchKey('nw_tos', to_tos_dscp, _IP_TYPES),
    'ipv4_src': MatchKey('nw_src', to_ipv4_prefix, _IP_TYPES),
    'ipv4_dst': MatchKey('nw_dst', to_ipv4_prefix, _IP_TYPES),
    'tp_src': MatchKey('tp_src', int_range(0, 0xffff), _IP_TYPES, _PORT_PROTOS),
    'tp_dst': MatchKey('tp_dst', int_range(0, 0xffff), _IP_TYPES, _PORT_PROTOS),
    'tcp_src': MatchKey('tp_src', int_range(0, 0xffff), _IP_TYPES, (IP_PROTO_TCP,)),
    'tcp_dst': MatchKey('tp_dst', int_range(0, 0xffff), _IP_TYPES, (IP_PROTO_TCP,)),
    'udp_src': MatchKey('tp_src', int_range(0, 0xffff), _IP_TYPES, (IP_PROTO_UDP,)),
    'udp_dst': MatchKey('tp_dst', int_range(0, 0xffff), _IP_TYPES, (IP_PROTO_UDP,)),
    'sctp_src': MatchKey('tp_src', int_range(0, 0xffff), _IP_TYPES, (IP_PROTO_SCTP,)),
    'sctp_dst': MatchKey('tp_dst', int_range(0, 0xffff), _IP_TYPES, (IP_PROTO_SCTP,)),
    'icmpv4_type': MatchKey('tp_src', int_range(0, 255), _IP_TYPES, (IP_PROTO_ICMP,)),
    'icmpv4_code': MatchKey('tp_dst', int_range(0, 255), _IP_TYPES, (IP_PROTO_ICMP,)),
    # In OpenFlow 1.0 the ARP opcode and addresses ride in nw_proto / nw_src / nw_dst.
    'arp_opcode': MatchKey('nw_proto', int_range(0, 255), (ETH_TYPE_ARP,)),
    'arp_spa': MatchKey('nw_src', to_ipv4_prefix, (ETH_TYPE_ARP,)),
    'arp_tpa': MatchKey('nw_dst', to_ipv4_prefix, (ETH_TYPE_ARP,)),
}

# Entry attributes that are not match fields: key -> (attribute, converter).
META_KEYS = {
    'switch': ('dpid', to_dpid),
    'name': ('name', to_name),
    'priority': ('priority', int_range(0, 0xffff)),
    'active': ('active', to_bool),
    'idle_timeout': ('idle_timeout', int_range(0, 0xffff)),
    'hard_timeout': ('hard_timeout', int_range(0, 0xffff)),
    'idle-timeout': ('idle_timeout', int_range(0, 0xffff)),
    'hard-timeout': ('hard_timeout', int_range(0, 0xffff)),
    # Accepted and ignored, as by every Floodlight version: the flow carries the computed cookie.
    'cookie': (None, int_range(0, (1 << 64) - 1)),
    # OpenFlow 1.0 has one table.
    'table': (None, int_range(0, 0)),
    # 0.9x stored and ignored it: the wildcards follow from the fields given.
    'wildcards': (None, int_range(0, 0xffffffff)),
    'actions': ('actions', None),
}

# Keys Floodlight 1.x knew that OpenFlow 1.0 cannot express: named so the error says why, not "unknown".
NOT_IN_OPENFLOW_10 = {
    'ip_ecn', 'arp_sha', 'arp_tha', 'ipv6_src', 'ipv6_dst', 'ipv6_label', 'icmpv6_type', 'icmpv6_code',
    'ipv6_nd_ssl', 'ipv6_nd_ttl', 'ipv6_nd_sll', 'ipv6_nd_tll', 'ipv6_nd_target', 'mpls_label', 'mpls_tc',
    'mpls_bos', 'metadata', 'tunnel_id', 'pbb_isid', 'tcp_flags', 'ipv6_exthdr', 'actset_output',
    'packet_type', 'pbb_uca', 'instruction_apply_actions', 'instruction_write_actions',
    'instruction_clear_actions', 'instruction_goto_table', 'instruction_goto_meter',
    'instruction_write_metadata', 'instruction_experimenter', 'entry_type',
}


# ---------------------------------------------------------------------------------------------------------
# Actions. Each keyword (both spellings) -> (action kind, argument converter or None).

def _output_port(text):
    if text in NAMED_OUTPUT_PORTS:
        return NAMED_OUTPUT_PORTS[text]
    return to_int(text, 1, of10.OFPP_MAX - 1)  # physical ports are below OFPP_MAX; OVS rejects 0xff00 itself


def _enqueue(text):
    port, sep, queue = text.partition(':')
    if not sep:
        raise ValueError('expected enqueue=<port>:<queue>')
    return (to_int(port, 1, of10.OFPP_MAX - 1), to_int(queue, 0, of10.OFPQ_ALL - 1))


ACTION_KEYWORDS = {
    'output': ('output', _output_port),
    'enqueue': ('enqueue', _enqueue),
    'strip-vlan': ('strip_vlan', None),
    'strip_vlan': ('strip_vlan', None),
    'pop_vlan': ('strip_vlan', None),
    'set-vlan-id': ('set_vlan_vid', int_range(0, 4095)),
    'set_vlan_vid': ('set_vlan_vid', int_range(0, 4095)),
    'set-vlan-priority': ('set_vlan_pcp', int_range(0, 7)),
    'set_vlan_pcp': ('set_vlan_pcp', int_range(0, 7)),
    'set-src-mac': ('set_dl_src', to_mac),
    'set_eth_src': ('set_dl_src', to_mac),
    'set-dst-mac': ('set_dl_dst', to_mac),
    'set_eth_dst': ('set_dl_dst', to_mac),
    'set-tos-bits': ('set_nw_tos', to_tos_byte),
    'set_ip_tos': ('set_nw_tos', to_tos_byte),
    'set-src-ip': ('set_nw_src', to_ipv4),
    'set_ipv4_src': ('set_nw_src', to_ipv4),
    'set-dst-ip': ('set_nw_dst', to_ipv4),
    'set_ipv4_dst': ('set_nw_dst', to_ipv4),
    'set-src-port': ('set_tp_src', int_range(0, 0xffff)),
    'set_tp_src': ('set_tp_src', int_range(0, 0xffff)),
    'set-dst-port': ('set_tp_dst', int_range(0, 0xffff)),
    'set_tp_dst': ('set_tp_dst', int_range(0, 0xffff)),
}


_ACTIONS_CACHE = {}  # (text, output max_len) -> actions: most pushes repeat an action string seen before
_ACTION_PART = re.compile(r'([a-z][a-z0-9_-]*)\s*(?:[=:]\s*(.*))?')


def parse_actions(text, dialect):
    """Parse Floodlight's comma-separated action string into action tuples, in order. Empty means drop."""
    if type(text) is not str:
        return _parse_actions(text, dialect)
    key = (text, dialect.output_max_len)  # the dialect's only part in the result
    actions = _ACTIONS_CACHE.get(key)
    return actions if actions is not None else _remember(_ACTIONS_CACHE, key, _parse_actions(text, dialect))


def _parse_actions(text, dialect):
    if not isinstance(text, str):
        raise FlowValidationError('actions must be a string such as "output=3"', 'actions')
    actions = []
    for part in text.split(','):
        part = part.strip().lower()
        if not part:
            continue
        match = _ACTION_PART.fullmatch(part)
        keyword = match.group(1) if match else part
        if keyword not in ACTION_KEYWORDS:
            raise FlowValidationError('unknown action %r in actions' % part, 'actions')
        kind, convert = ACTION_KEYWORDS[keyword]
        argument = match.group(2)
        if convert is None:
            if argument:
                raise FlowValidationError('action %r takes no value' % keyword, 'actions')
            actions.append((kind,))
            continue
        if argument is None or not argument.strip():
            raise FlowValidationError('action %r needs a value' % keyword, 'actions')
        try:
            value = convert(argument.strip())
        except ValueError as error:
            raise FlowValidationError('bad value in action %r: %s' % (part, error), 'actions') from None
        if kind == 'output':
            actions.append(('output', value, dialect.output_max_len))
        elif kind == 'enqueue':
            actions.append(('enqueue',) + value)
        else:
            actions.append((kind, value))
    return tuple(actions)


# ---------------------------------------------------------------------------------------------------------
# Requests.

def decode_body(body):
    """Bytes of a POST/DELETE body -> the JSON object it holds. FlowValidationError for anything else."""
    if not body or not body.strip():
        raise FlowValidationError('the request has no body; send a JSON object')
    try:
        text = body.decode('utf-8') if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise FlowValidationError('the body is not UTF-8') from None
    try:
        document = json.loads(text)
    except RecursionError:
        raise FlowValidationError('the body is nested too deeply') from None
    except ValueError as error:
        raise FlowValidationError('the body is not valid JSON: %s' % error) from None
    if not isinstance(document, dict):
        raise FlowValidationError('the body must be a JSON object, not %s' % type(document).__name__)
    # A lone surrogate can only come from a \\u escape (the UTF-8 decode above refuses encoded ones): without
    # one in the text, the check (a second serialisation of the request) is skipped.
    try:
        if '\\u' in text:
            json.dumps(document, ensure_ascii=False).encode('utf-8')
    except UnicodeEncodeError:
        raise FlowValidationError('the body holds an unpaired UTF-16 surrogate escape such as \\ud800') from None
    return document


def _scalar(key, value):
    if isinstance(value, (dict, list)) or value is None:
        raise FlowValidationError('%s must be a string or a number, not %s' % (key, json.dumps(value)[:40]), key)
    return value


# json.dumps(document) with json's defaults, without building a new C encoder on every call (1 us of a push).
# Only for what parse_entry accepts: a flat object (no value is a list or an object), so there is nothing for
# json.dumps' circular-reference check (markers) to find.
if json.encoder.c_make_encoder is not None:
    _encode_flat = json.encoder.c_make_encoder(None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii,
                                               None, ': ', ', ', False, False, True)

    def _request_text(document):
        return ''.join(_encode_flat(document, 0))
else:
    _request_text = json.dumps


def parse_entry(document, dialect):
    """A decoded Floodlight JSON object -> FlowEntry, or FlowValidationError naming the first bad key."""
    attributes = {'active': True, 'idle_timeout': 0, 'hard_timeout': 0}
    match = {}
    match_source = {}   # of10 field -> the key that set it, for error messages
    prerequisites = []  # (key, MatchKey)
    for key, raw in document.items():
        if type(raw) is not str:  # a JSON string is a scalar
            _scalar(key, raw)
        if isinstance(raw, str) and raw == '' and key != 'actions':
            continue  # Floodlight skips fields whose text is empty
        meta = META_KEYS.get(key)
        if meta is not None:
            attribute, convert = meta
            if attribute == 'actions':
                attributes['actions'] = parse_actions(raw if isinstance(raw, str) else str(raw), dialect)
                continue
            try:
                value = convert(raw)
            except ValueError as error:
                raise FlowValidationError('bad value for %s: %s' % (key, error), key) from None
            if attribute is not None:
                attributes[attribute] = value
        elif (spec := MATCH_KEYS.get(key)) is not None:
            try:
                value = spec.convert(raw)
            except ValueError as error:
                raise FlowValidationError('bad value for %s: %s' % (key, error), key) from None
            field = spec.field
            if field in match and match[field] != value:
                raise FlowValidationError('%s and %s set the same OpenFlow 1.0 field %s to different values'
                                          % (match_source[field], key, field), key)
            match[field] = value
            match_source[field] = key
            if spec.needs_eth_type or spec.needs_ip_proto:
                prerequisites.append((key, spec))
        elif key in NOT_IN_OPENFLOW_10:
            raise FlowValidationError('%s cannot be expressed in OpenFlow 1.0' % key, key)
        else:
            raise FlowValidationError('unknown key %s' % key, key)

    for key in ('name', 'switch'):
        attribute = META_KEYS[key][0]
        if attribute not in attributes:
            raise FlowValidationError('the entry has no %s' % key, key)

    for key, spec in prerequisites:
        _check_prerequisites(key, spec, match)

    priority_given = 'priority' in attributes
    return FlowEntry(
        name=attributes['name'],
        dpid=attributes['dpid'],
        priority=attributes.get('priority', dialect.default_priority),
        priority_given=priority_given,
        match=tuple([(f, match[f]) for f in MATCH_FIELD_ORDER if f in match]),
        actions=attributes.get('actions', ()),
        active=attributes['active'],
        idle_timeout=attributes['idle_timeout'],
        hard_timeout=attributes['hard_timeout'],
        request_text=_request_text(document),
        actions_given='actions' in document,
    )


def _check_prerequisites(key, spec, match):
    if spec.needs_eth_type and match.get('dl_type') not in spec.needs_eth_type:
        wanted = ' or '.join('0x%04x' % t for t in spec.needs_eth_type)
        raise FlowValidationError('%s needs eth_type (ether-type) %s in the same entry' % (key, wanted), key)
    if spec.needs_ip_proto and match.get('nw_proto') not in spec.needs_ip_proto:
        wanted = ' or '.join(str(p) for p in spec.needs_ip_proto)
        raise FlowValidationError('%s needs ip_proto (protocol) %s in the same entry' % (key, wanted), key)


def parse_entry_name(document):
    """The `name` of a DELETE body."""
    name = document.get('name')
    if name is None or name == '':
        raise FlowValidationError('the request has no name', 'name')
    try:
        return to_name(_scalar('name', name))
    except ValueError as error:
        raise FlowValidationError('bad value for name: %s' % error, 'name') from None


# ---------------------------------------------------------------------------------------------------------
# Replies. Floodlight hand-built these strings: the spaces around the colon are part of the contract.

def status_body(message):
    return '{"status" : %s}' % json.dumps(message, ensure_ascii=False)


ENTRY_PUSHED = status_body('Entry pushed')


def entry_deleted_body(name):
    return status_body('Entry %s deleted' % name)


def clear_body(dpid_text):
    """1.x clear reply (0.9x answers 204 with no body)."""
    if dpid_text is None:
        return '{"status":"Deleted all flows."}'
    return '{"status":%s}' % json.dumps('Deleted all flows for switch %s.' % dpid_text, ensure_ascii=False)


def _signed16(value):
    return value - 0x10000 if value & 0x8000 else value


def _port_text(port):
    return PORT_NAMES.get(port, str(port))


def v1_match_json(entry):
    """The 1.x list's match object, with Floodlight's value spellings (including its "0x0x800")."""
    match = entry.match_dict()
    out = {}
    proto = match.get('nw_proto')
    dl_type = match.get('dl_type')
    if 'in_port' in match:
        out['in_port'] = str(match['in_port'])
    if 'dl_vlan' in match:
        out['eth_vlan_vid'] = '0x%x' % match['dl_vlan']
    if 'dl_src' in match:
        out['eth_src'] = match['dl_src']
    if 'dl_dst' in match:
        out['eth_dst'] = match['dl_dst']
    if dl_type is not None:
        out['eth_type'] = '0x0x%x' % dl_type
    if proto is not None:
        out['arp_opcode' if dl_type == ETH_TYPE_ARP else 'ip_proto'] = '0x%x' % proto
    prefix = {IP_PROTO_TCP: 'tcp', IP_PROTO_UDP: 'udp', IP_PROTO_SCTP: 'sctp'}.get(proto, 'tp')
    for field, suffix in (('tp_src', '_src'), ('tp_dst', '_dst')):
        if field in match:
            name = ('icmpv4_type' if field == 'tp_src' else 'icmpv4_code') if proto == IP_PROTO_ICMP \
                else prefix + suffix
            out[name] = str(match[field])
    for field, name in (('nw_src', 'src'), ('nw_dst', 'dst')):
        if field in match:
            address, length = match[field]
            key = ('arp_spa' if name == 'src' else 'arp_tpa') if dl_type == ETH_TYPE_ARP else 'ipv4_' + name
            out[key] = address if length == 32 else '%s/%d' % (address, length)
    if 'dl_vlan_pcp' in match:
        out['eth_vlan_pcp'] = '0x%x' % match['dl_vlan_pcp']
    if 'nw_tos' in match:
        out['ip_dscp'] = '0x%x' % (match['nw_tos'] >> 2)
    return out


def v1_actions_text(actions):
    parts = []
    for action in actions:
        kind = action[0]
        if kind == 'output':
            parts.append('output=' + _port_text(action[1]))
        elif kind == 'enqueue':
            parts.append('enqueue=%d:%d' % (action[1], action[2]))
        elif kind == 'strip_vlan':
            parts.append('strip_vlan')
        else:
            name = {'set_dl_src': 'set_eth_src', 'set_dl_dst': 'set_eth_dst', 'set_nw_tos': 'set_ip_tos',
                    'set_nw_src': 'set_ipv4_src', 'set_nw_dst': 'set_ipv4_dst'}.get(kind, kind)
            parts.append('%s=%s' % (name, action[1]))
    return ','.join(parts)


def v1_entry_json(entry, dialect):
    """One entry as Floodlight 1.x lists it (every number a string, priority as a signed short)."""
    listed_priority = _signed16(entry.priority) if entry.priority_given else dialect.listed_default_priority
    actions = {'actions': v1_actions_text(entry.actions)} if entry.actions else {'none': 'drop'}
    return {
        'version': 'OF_10', 'command': 'ADD', 'cookie': str(entry.cookie), 'priority': str(listed_priority),
        'idleTimeoutSec': str(entry.idle_timeout), 'hardTimeoutSec': str(entry.hard_timeout), 'outPort': 'any',
        'match': v1_match_json(entry), 'actions': actions,
    }


def v1_list(entries_by_dpid, dialect):
    """{"<dpid>":[{"<name>":{...}},...]} for the 1.x URL families."""
    return {format_dpid(dpid): [{e.name: v1_entry_json(e, dialect)} for e in entries]
            for dpid, entries in entries_by_dpid.items()}


# --- the 0.9x list shape (Floodlight 0.91's Jackson dump of OFFlowMod, field-declaration order) ----------

def _signed32(value):
    return value - (1 << 32) if value & 0x80000000 else value


def _ipv4_int(text):
    return int(ipaddress.IPv4Address(text))


_V0_ACTION_BEANS = {
    'output': lambda a: {'type': 'OUTPUT', 'length': 8, 'port': _signed16(a[1]), 'maxLength': _signed16(a[2]),
                         'lengthU': 8},
    'enqueue': lambda a: {'type': 'OPAQUE_ENQUEUE', 'length': 16, 'port': _signed16(a[1]), 'queueId': a[2],
                          'lengthU': 16},
    'strip_vlan': lambda a: {'type': 'STRIP_VLAN', 'length': 8, 'lengthU': 8},
    'set_vlan_vid': lambda a: {'type': 'SET_VLAN_ID', 'length': 8, 'virtualLanIdentifier': a[1], 'lengthU': 8},
    'set_vlan_pcp': lambda a: {'type': 'SET_VLAN_PCP', 'length': 8, 'virtualLanPriorityCodePoint': a[1],
                               'lengthU': 8},
    'set_dl_src': lambda a: {'type': 'SET_DL_SRC', 'length': 16, 'dataLayerAddress': a[1], 'lengthU': 16},
    'set_dl_dst': lambda a: {'type': 'SET_DL_DST', 'length': 16, 'dataLayerAddress': a[1], 'lengthU': 16},
    'set_nw_tos': lambda a: {'type': 'SET_NW_TOS', 'length': 8, 'networkTypeOfService': a[1], 'lengthU': 8},
    'set_nw_src': lambda a: {'type': 'SET_NW_SRC', 'length': 8, 'networkAddress': _signed32(_ipv4_int(a[1])),
                             'lengthU': 8},
    'set_nw_dst': lambda a: {'type': 'SET_NW_DST', 'length': 8, 'networkAddress': _signed32(_ipv4_int(a[1])),
                             'lengthU': 8},
    'set_tp_src': lambda a: {'type': 'SET_TP_SRC', 'length': 8, 'transportPort': _signed16(a[1]), 'lengthU': 8},
    'set_tp_dst': lambda a: {'type': 'SET_TP_DST', 'length': 8, 'transportPort': _signed16(a[1]), 'lengthU': 8},
}


def v0_actions_json(actions):
    """openflowj's action beans of parsed actions (of10.ryu_actions' tuples): the 0.9x list's and flow stats'."""
    return [_V0_ACTION_BEANS[a[0]](a) for a in actions]


def signed16(value):
    """A 16-bit field as Java's short held it (0.9x wrote priorities and ports so)."""
    return _signed16(value)


def signed64(value):
    """A 64-bit field (a cookie) as Java's long held it."""
    return value - (1 << 64) if value & (1 << 63) else value


def v0_match_json(entry, wildcards):
    match = entry.match_dict()
    nw_src, nw_src_len = match.get('nw_src', ('0.0.0.0', 0))
    nw_dst, nw_dst_len = match.get('nw_dst', ('0.0.0.0', 0))
    return {
        'dataLayerDestination': match.get('dl_dst', '00:00:00:00:00:00'),
        'dataLayerSource': match.get('dl_src', '00:00:00:00:00:00'),
        'dataLayerType': '0x%04x' % match.get('dl_type', 0),
        'dataLayerVirtualLan': _signed16(match.get('dl_vlan', of10.OFP_VLAN_NONE)),
        'dataLayerVirtualLanPriorityCodePoint': match.get('dl_vlan_pcp', 0),
        'inputPort': _signed16(match.get('in_port', 0)),
        'networkDestination': nw_dst, 'networkDestinationMaskLen': nw_dst_len,
        'networkProtocol': match.get('nw_proto', 0),
        'networkSource': nw_src, 'networkSourceMaskLen': nw_src_len,
        'networkTypeOfService': match.get('nw_tos', 0) >> 2,  # 0.9x lists the DSCP it was given
        'transportDestination': _signed16(match.get('tp_dst', 0)),
        'transportSource': _signed16(match.get('tp_src', 0)),
        'wildcards': wildcards,
    }


def v0_entry_json(entry):
    """One entry as Floodlight 0.91 lists it: the OFFlowMod bean, numbers signed as Java holds them."""
    length, wildcards, flags = of10.flow_add_facts(entry)
    has_actions = entry.actions_given
    return {
        'version': 1, 'type': 'FLOW_MOD', 'length': length, 'xid': 0,
        'match': v0_match_json(entry, wildcards), 'cookie': entry.cookie, 'command': of10.OFPFC_ADD,
        'idleTimeout': entry.idle_timeout, 'hardTimeout': entry.hard_timeout, 'priority': _signed16(entry.priority),
        'bufferId': -1, 'outPort': -1, 'flags': flags,
        'actions': v0_actions_json(entry.actions) if has_actions else None,
        'lengthU': length,
    }


def v0_list(entries_by_dpid):
    """{"<dpid>":{"<name>":{...},...}} for /wm/staticflowentrypusher/list."""
    return {format_dpid(dpid): {e.name: v0_entry_json(e) for e in entries}
            for dpid, entries in entries_by_dpid.items()}


def parse_stored_entry(dialect_name, request):
    """An entry read back from the store (the request as pushed and its dialect's name) -> FlowEntry; raises
    FlowValidationError as parse_entry does. An unknown dialect name reads as 1.x."""
    return parse_entry(request, DIALECTS.get(dialect_name, DIALECT_V1))
