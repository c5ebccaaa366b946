"""Floodlight 1.2's access control list (net.floodlightcontroller.accesscontrollist), apart from Ryu, SQLite
and HTTP: rule parsing, the overlap check, and which static flow entries (drop flows, and the allow exceptions
above them) go on which switch. Pure: apps/acl.py stores the state (controller.aclstore), pushes the entries
through the static flow pusher and reports what failed.

How Floodlight's ACL behaves, and so this one:
- rules are numbered from 1 in the order they are added; a new rule whose scope lies inside an earlier rule's
  (same or wider addresses, protocol and port; either action) would never take effect and is refused;
- a DENY rule is enforced proactively: on the switch of every known host whose IPv4 address falls in the rule's
  src-ip (its dst-ip when it has no src-ip), as a static flow entry named ACLRule_<id>_<dpid> with no actions
  (drop); the earlier ALLOW rules inside its scope go on the same switch first, at higher priorities, as entries
  sending to the controller (so that forwarding handles that traffic);
- priorities are handed out per switch from 30000 down, one per entry, and start again at 30000 after a clear;
- a host seen later gets the entries of every DENY rule covering its address on its switch then;
- ALLOW rules alone install nothing.
Differences (docs/compatibility.md): UDP is protocol 17 (Floodlight wrote 11); tp-dst needs TCP or UDP in the
same rule whatever the key order (Floodlight dropped it silently); a host seen later also gets the allow
exceptions (Floodlight gave it the drop flow only); bad input is refused with a reason, not stored.
"""
import ipaddress
import json
from dataclasses import dataclass

from controller.dpid import format_dpid

DEFAULT_PRIORITY = 30000  # Floodlight's ACL.DEFAULT_PRIORITY: the first entry on a switch
LOWEST_PRIORITY = 2       # above reactive forwarding's (1): a drop flow below it would not drop
ALLOW, DENY = 'ALLOW', 'DENY'
ENTRY_PREFIX = 'ACLRule_'  # every static flow entry the ACL owns is named ACLRule_<rule id>_<dpid>
PROTOCOL_NAMES = {'tcp': 6, 'udp': 17, 'icmp': 1}
PORT_PROTOCOLS = (6, 17)  # tp-dst is a TCP or UDP port
ETH_TYPE_IPV4 = '0x0800'


class AclRuleError(ValueError):
    """A rule (or a delete request) that must not be taken: the reason, and the JSON key at fault (or None)."""

    def __init__(self, reason, key=None):
        super().__init__(reason)
        self.reason = reason
        self.key = key


class AclConflict(ValueError):
    """A new rule inside an existing rule's scope (HTTP 409): it would never take effect."""


class AclFull(ValueError):
    """A switch has no ACL priority left above reactive forwarding (HTTP 507)."""


@dataclass(frozen=True)
class Cidr:
    address: int  # the address as given (Floodlight keeps the host bits), unsigned
    bits: int

    @property
    def text(self):
        return '%s/%d' % (ipaddress.IPv4Address(self.address), self.bits)

    def _masked(self, value, bits):
        shift = 32 - bits
        return value >> shift << shift if shift < 32 else 0

    def contains(self, address):
        return self._masked(self.address, self.bits) == self._masked(address, self.bits)

    def within(self, other):
        """Floodlight's IPAddressUtil.isSubnet: this range is `other` or inside it (None: every address)."""
        if other is None:
            return True
        bits = min(self.bits, other.bits)
        return self.bits >= other.bits and self._masked(self.address, bits) == self._masked(other.address, bits)


def _within(cidr, other):
    if other is None:
        return True
    return cidr is not None and cidr.within(other)


@dataclass(frozen=True)
class AclRule:
    id: int
    src: Cidr = None
    dst: Cidr = None
    nw_proto: int = 0  # 0: any
    tp_dst: int = 0    # 0: any
    action: str = DENY

    def covered_by(self, other):
        """Floodlight's ACLRule.match: every packet this rule concerns, `other` concerns too."""
        return ((self.tp_dst == other.tp_dst or other.tp_dst == 0)
                and (self.nw_proto == other.nw_proto or other.nw_proto == 0)
                and _within(self.src, other.src) and _within(self.dst, other.dst))

    def scope(self):
        """The range whose hosts get the rule's entries: src-ip, or dst-ip for a rule without one."""
        return self.src if self.src is not None else self.dst

    def to_json(self):
        """The rule as Floodlight 1.2's GET /wm/acl/rules/json lists it (prefixes as Java ints: signed)."""
        def prefix(cidr):
            return 0 if cidr is None else _signed32(cidr.address)
        return {'id': self.id, 'nw_src': self.src and self.src.text, 'nw_dst': self.dst and self.dst.text,
                'nw_src_prefix': prefix(self.src), 'nw_src_maskbits': self.src.bits if self.src else 0,
                'nw_dst_prefix': prefix(self.dst), 'nw_dst_maskbits': self.dst.bits if self.dst else 0,
                'nw_proto': self.nw_proto, 'tp_dst': self.tp_dst, 'action': self.action}

    def request(self):
        """The rule as a POST body that parses back to it (what the store keeps)."""
        out = {'action': self.action.lower()}
        for key, value in (('src-ip', self.src and self.src.text), ('dst-ip', self.dst and self.dst.text),
                           ('nw-proto', self.nw_proto), ('tp-dst', self.tp_dst)):
            if value:
                out[key] = value
        return out


def _signed32(value):
    return value - (1 << 32) if value & 0x80000000 else value


# --- parsing: one row per key of a POST (or DELETE) body ----------------------------------------------------

def _text(value):
    return value.strip() if isinstance(value, str) else str(value)


def parse_cidr(value):
    """'10.0.0.0/8' -> Cidr; the mask bits are required, as in Floodlight."""
    text = _text(value)
    address, slash, bits = text.partition('/')
    if not slash:
        raise ValueError('CIDR mask bits must be specified: write %s/32 for one address' % text)
    try:
        parsed = int(ipaddress.IPv4Address(address.strip()))
    except ValueError:
        raise ValueError('%r is not a dotted IPv4 address' % address.strip()) from None
    bits = bits.strip()
    if not bits.isdigit() or not 0 <= int(bits) <= 32:
        raise ValueError('CIDR mask bits must be a number from 0 to 32, not %r' % bits)
    return Cidr(parsed, int(bits))


def parse_protocol(value):
    """TCP, UDP, ICMP (any case) or an IP protocol number 0-255 (0: any)."""
    text = _text(value)
    if text.lower() in PROTOCOL_NAMES:
        return PROTOCOL_NAMES[text.lower()]
    if text.isdigit() and int(text) <= 255:
        return int(text)
    raise ValueError('nw-proto must be TCP, UDP, ICMP or a protocol number 0-255, not %r' % text)


def parse_port(value):
    text = _text(value)
    if text.isdigit() and int(text) <= 0xffff:
        return int(text)
    raise ValueError('tp-dst must be a port number 0-65535 (0: any), not %r' % text)


def parse_action(value):
    text = _text(value).upper()
    if text in (ALLOW, DENY):
        return text
    raise ValueError('action must be allow or deny, not %r' % _text(value))


def parse_rule_id(value):
    text = _text(value)
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise ValueError('ruleid must be a rule number (1, 2, ...), not %r' % text)


# key -> (AclRule field, parser)
RULE_KEYS = {
    'src-ip': ('src', parse_cidr),
    'dst-ip': ('dst', parse_cidr),
    'nw-proto': ('nw_proto', parse_protocol),
    'tp-dst': ('tp_dst', parse_port),
    'action': ('action', parse_action),
}
DELETE_KEYS = dict(RULE_KEYS, ruleid=('id', parse_rule_id))


def _parse_fields(document, keys):
    fields = {}
    for key, raw in document.items():
        if key not in keys:
            raise AclRuleError('unknown key %s (expected %s)' % (key, ', '.join(sorted(keys))), key)
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise AclRuleError('%s must be a string or a number, not %s' % (key, json.dumps(raw)[:40]), key)
        if raw == '':
            continue  # Floodlight skips keys whose text is empty
        field, parse = keys[key]
        try:
            fields[field] = parse(raw)
        except ValueError as error:
            raise AclRuleError('bad value for %s: %s' % (key, error), key) from None
    return fields


def parse_rule(document, rule_id=0):
    """A decoded POST body -> AclRule (numbered `rule_id`), or AclRuleError."""
    fields = _parse_fields(document, RULE_KEYS)
    if 'src' not in fields and 'dst' not in fields:
        raise AclRuleError('Either src-ip or dst-ip must be specified.')
    if fields.get('tp_dst') and fields.get('nw_proto') not in PORT_PROTOCOLS:
        raise AclRuleError('tp-dst needs nw-proto TCP or UDP in the same rule', 'tp-dst')
    return AclRule(id=rule_id, **fields)


def parse_delete(document):
    """A decoded DELETE body -> the rule id it names (other rule keys are checked as for a POST, then ignored)."""
    fields = _parse_fields(document, DELETE_KEYS)
    if 'id' not in fields:
        raise AclRuleError('ruleid must be specified', 'ruleid')
    return fields['id']


# --- the ACL's state ----------------------------------------------------------------------------------------

def entry_name(rule_id, dpid):
    return '%s%d_%s' % (ENTRY_PREFIX, rule_id, format_dpid(dpid))


def is_acl_entry(name):
    return name.startswith(ENTRY_PREFIX)


class AclState:
    """The rules, and which of them have an entry on which switch at which priority. `hosts` is the latest
    (IPv4 address, dpid) of every known host (not stored: hosts are learned again after a restart)."""

    def __init__(self):
        self.rules = {}          # id -> AclRule
        self.next_id = 1
        self.flows = {}          # (rule id, dpid) -> priority
        self.next_priority = {}  # dpid -> the priority of the next entry there
        self.hosts = frozenset()

    def copy(self):
        """A copy to change (the REST handlers store it before it replaces this one)."""
        other = AclState()
        other.rules, other.next_id, other.hosts = dict(self.rules), self.next_id, self.hosts
        other.flows, other.next_priority = dict(self.flows), dict(self.next_priority)
        return other

    def listed(self):
        return [self.rules[rule_id] for rule_id in sorted(self.rules)]

    def add_rule(self, rule):
        """rule (its id is ignored) -> the rule as added, numbered; AclConflict when an existing rule covers it,
        AclFull when a switch has no priority left for its entries (nothing is changed then)."""
        rule = AclRule(self.next_id, rule.src, rule.dst, rule.nw_proto, rule.tp_dst, rule.action)
        for existing in self.listed():
            if rule.covered_by(existing):
                raise AclConflict('The new ACL rule matches an existing rule: rule %d (%s) already covers every '
                                  'packet it would match' % (existing.id, existing.action.lower()))
        self.rules[rule.id] = rule
        self.next_id += 1
        if rule.action == DENY:
            self._enforce(rule, {dpid for address, dpid in self.hosts if rule.scope().contains(address)})
        return rule

    def remove_rule(self, rule_id):
        """KeyError when there is no such rule."""
        del self.rules[rule_id]
        self.flows = {key: priority for key, priority in self.flows.items() if key[0] != rule_id}

    def clear(self):
        hosts = self.hosts
        self.__init__()
        self.hosts = hosts

    def hosts_seen(self, hosts):
        """The current (address, dpid) of every known host -> True when entries were added for hosts not seen
        there before (the DENY rules covering them, with their allow exceptions)."""
        hosts = frozenset(hosts)
        new, self.hosts = hosts - self.hosts, hosts
        before = len(self.flows)
        for address, dpid in sorted(new):
            for rule in self.listed():
                if rule.action == DENY and rule.scope().contains(address):
                    self._enforce(rule, (dpid,))
        return len(self.flows) != before

    def _enforce(self, deny, dpids):
        allows = [rule for rule in self.listed() if rule.id < deny.id and rule.action == ALLOW
                  and rule.covered_by(deny)]
        for dpid in sorted(dpids):
            for rule in allows + [deny]:
                self._allocate(rule, dpid)

    def _allocate(self, rule, dpid):
        if (rule.id, dpid) in self.flows:
            return
        priority = self.next_priority.get(dpid, DEFAULT_PRIORITY)
        if priority < LOWEST_PRIORITY:
            raise AclFull('switch %s has no ACL priority left above reactive forwarding: clear the ACL '
                          '(GET /wm/acl/clear/json) to number its entries from %d again'
                          % (format_dpid(dpid), DEFAULT_PRIORITY))
        self.next_priority[dpid] = priority - 1
        self.flows[(rule.id, dpid)] = priority

    def entries(self):
        """{entry name: static flow pusher request (Floodlight 1.x keys)} of every entry the ACL wants."""
        return {entry_name(rule_id, dpid): entry_request(self.rules[rule_id], dpid, priority)
                for (rule_id, dpid), priority in sorted(self.flows.items())}

    # --- the store's form ---

    def document(self):
        return {'next_id': self.next_id,
                'rules': [dict(rule.request(), id=rule.id) for rule in self.listed()],
                'flows': [[rule_id, dpid, priority] for (rule_id, dpid), priority in sorted(self.flows.items())],
                'next_priority': [[dpid, priority] for dpid, priority in sorted(self.next_priority.items())]}

    @classmethod
    def from_document(cls, document):
        """The stored form -> AclState; ValueError (AclRuleError) when it does not parse."""
        state = cls()
        state.next_id = int(document['next_id'])
        for item in document['rules']:
            item = dict(item)
            rule_id = int(item.pop('id'))
            state.rules[rule_id] = parse_rule(item, rule_id)
        state.flows = {(int(r), int(d)): int(p) for r, d, p in document['flows'] if int(r) in state.rules}
        state.next_priority = {int(d): int(p) for d, p in document['next_priority']}
        return state


def entry_request(rule, dpid, priority):
    """A rule's entry on one switch, as Floodlight's ACL wrote it into the static flow pusher's table."""
    request = {'switch': format_dpid(dpid), 'name': entry_name(rule.id, dpid), 'active': 'true',
               'priority': str(priority), 'eth_type': ETH_TYPE_IPV4}
    if rule.src is not None:
        request['ipv4_src'] = rule.src.text
    if rule.dst is not None:
        request['ipv4_dst'] = rule.dst.text
    if rule.nw_proto:
        request['ip_proto'] = str(rule.nw_proto)
    if rule.tp_dst:
        request['tp_dst'] = str(rule.tp_dst)
    if rule.action == ALLOW:
        request['actions'] = 'output=controller'
    return request


def plan(wanted, table, names):
    """The ACL's entries wanted ({name: request}) against the static flow table -> ([requests to push],
    [names to delete]): entries missing or pushed with another request, and the ACLRule_ entries among `names`
    (the table's names at start-up, the names wanted before since) that no rule wants any more."""
    push = [request for name, request in wanted.items() if not table.same_request(name, json.dumps(request))]
    delete = [name for name in names if is_acl_entry(name) and name not in wanted and name in table]
    return push, delete


def host_addresses(devices):
    """(IPv4 address as an int, dpid) of every host of a forwarding DeviceTable (controller.devices)."""
    return {(int.from_bytes(address, 'big'), device.dpid) for device in devices.query() for address in device.ipv4}
