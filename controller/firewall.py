"""Floodlight's firewall: rules, their order, the verdict on a packet-in, and the flows that carry it out.

Pure: no Ryu, no sockets, no SQLite (controller/firewallstore.py keeps the rules, apps/firewall.py is the glue,
rest/firewall.py the JSON). Behaviour as Floodlight's Firewall module (v0.91 and v1.2, firewall/Firewall.java):

* disabled at start; once enabled, a packet no rule matches is denied (default deny);
* rules are kept sorted by `priority`, ascending: the lowest number is looked at first and the first rule that
  matches decides. A new rule goes before the rules of its own priority (Floodlight's addRule);
* an Ethernet broadcast is allowed without looking at the rules, unless it carries IPv4 to an address that is not
  a broadcast address under the subnet mask (REST `subnet-mask`, 255.255.255.0 at start): denied;
* a rule's dl_type ARP matches ARP only, IPv4 matches IPv4 only; its addresses and nw_proto are checked only then,
  and its transport ports only for TCP and UDP (a 0 port is any).

How the verdict reaches the switch differs from Floodlight, whose forwarding flows (and drop flows) outlived rule
changes (its issue #854). While the firewall is on, reactive forwarding installs no L2 flows (they would let every
protocol between two hosts through); the firewall installs, on the switch that asked, a flow for the packet's
exact L2/L3/L4 fields: output to the next hop when allowed, no action (drop) when denied. They carry the
forwarding cookie, priority and idle timeout, as Floodlight's drop flows do, and every one is remembered, so that
enabling, disabling or changing the rules deletes them (and the L2 forwarding flows) and new packets meet the
new rules. Broadcasts, multicasts and unknown destinations that are allowed are flooded by forwarding as usual.
"""
from dataclasses import dataclass, fields, replace
import zlib

from controller import forwarding, of10

ALLOW = 'ALLOW'
DENY = 'DENY'
ETH_TYPE_IPV4 = 0x0800
ETH_TYPE_ARP = 0x0806
IP_PROTO_ICMP = 1
IP_PROTO_TCP = 6
IP_PROTO_UDP = 17
DEFAULT_SUBNET_MASK = 0xffffff00  # Floodlight's 255.255.255.0
BROADCAST_MAC = b'\xff' * 6
_PORT_PROTOCOLS = (IP_PROTO_TCP, IP_PROTO_UDP)


@dataclass(frozen=True)
class Rule:
    """One rule. A field that is None matches anything (Floodlight's any_* / wildcard_* flag set)."""
    ruleid: int = 0
    dpid: int = None
    in_port: int = None
    dl_src: str = None        # canonical MAC text
    dl_dst: str = None
    dl_type: int = None
    nw_src: tuple = None      # (address as int, prefix length)
    nw_dst: tuple = None
    nw_proto: int = None
    tp_src: int = None
    tp_dst: int = None
    priority: int = 0
    action: str = ALLOW

    def same_as(self, other):
        """Floodlight's isSameAs: every field and the action alike; the id and the priority are not compared."""
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(self)
                   if f.name not in ('ruleid', 'priority'))


RULE_FIELDS = tuple(f.name for f in fields(Rule))


class FirewallState:
    def __init__(self):
        self.enabled = False
        self.rules = []                    # sorted by priority, ascending: the order rules are looked at
        self.subnet_mask = DEFAULT_SUBNET_MASK
        self.flows = {}                    # dpid -> {match pairs: priority} of the flows the firewall installed
        self.denied = 0                    # packet-ins denied since start
        self.allowed = 0


class DuplicateRuleError(ValueError):
    pass


# --- rules ------------------------------------------------------------------------------------------------

def new_rule_id(rule, taken):
    """A rule's id: a positive 31-bit number derived from its content (Floodlight used its Java hashCode), the
    next free one when taken."""
    ruleid = zlib.crc32(repr(replace(rule, ruleid=0)).encode()) & 0x7fffffff or 1
    while ruleid in taken:
        ruleid = ruleid % 0x7fffffff + 1
    return ruleid


def new_rule(fw, rule):
    """A parsed rule -> the rule to store, with its id. DuplicateRuleError when a rule alike (Floodlight's
    isSameAs) exists. Nothing changes until insert_rule."""
    if any(rule.same_as(r) for r in fw.rules):
        raise DuplicateRuleError('A similar firewall rule already exists.')
    return replace(rule, ruleid=new_rule_id(rule, {r.ruleid for r in fw.rules}))


def insert_rule(fw, rule):
    """Put a rule with its id in its place: before the first rule of the same or a higher priority number."""
    index = next((i for i, r in enumerate(fw.rules) if r.priority >= rule.priority), len(fw.rules))
    fw.rules.insert(index, rule)


def find_rule(fw, ruleid):
    return next((r for r in fw.rules if r.ruleid == ruleid), None)


def remove_rule(fw, ruleid):
    fw.rules = [r for r in fw.rules if r.ruleid != ruleid]


# --- the packet and the verdict -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Packet:
    """The fields of a frame the rules look at. nw_* and tp_* are None when the frame does not carry them."""
    dl_src: bytes
    dl_dst: bytes
    vlan: int
    dl_type: int
    nw_src: int = None
    nw_dst: int = None
    nw_proto: int = None
    tp_src: int = None
    tp_dst: int = None


def packet_fields(data, vlan, eth_type, l3):
    """A frame (forwarding has read its Ethernet and VLAN headers: l3 is where the payload starts) -> Packet."""
    nw_src = nw_dst = nw_proto = tp_src = tp_dst = None
    if eth_type == ETH_TYPE_IPV4 and len(data) >= l3 + 20:
        nw_proto = data[l3 + 9]
        nw_src = int.from_bytes(data[l3 + 12:l3 + 16], 'big')
        nw_dst = int.from_bytes(data[l3 + 16:l3 + 20], 'big')
        l4 = l3 + (data[l3] & 0x0f) * 4
        fragment_offset = (data[l3 + 6] & 0x1f) << 8 | data[l3 + 7]
        if nw_proto in _PORT_PROTOCOLS and not fragment_offset and len(data) >= l4 + 4:
            tp_src = data[l4] << 8 | data[l4 + 1]
            tp_dst = data[l4 + 2] << 8 | data[l4 + 3]
    return Packet(bytes(data[6:12]), bytes(data[0:6]), vlan, eth_type, nw_src, nw_dst, nw_proto, tp_src, tp_dst)


def _in_prefix(address, prefix):
    if address is None:
        return False
    network, length = prefix
    mask = (0xffffffff << (32 - length)) & 0xffffffff
    return address & mask == network & mask


def rule_matches(rule, dpid, in_port, packet):
    """Floodlight's FirewallRule.matchesThisPacket, without its wildcard bookkeeping."""
    if rule.dpid is not None and rule.dpid != dpid:
        return False
    if rule.in_port is not None and rule.in_port != in_port:
        return False
    if rule.dl_src is not None and rule.dl_src != packet.dl_src.hex(':'):
        return False
    if rule.dl_dst is not None and rule.dl_dst != packet.dl_dst.hex(':'):
        return False
    if rule.dl_type is None:
        return True
    if rule.dl_type != packet.dl_type:
        return False
    if rule.dl_type != ETH_TYPE_IPV4:
        return True
    if rule.nw_src is not None and not _in_prefix(packet.nw_src, rule.nw_src):
        return False
    if rule.nw_dst is not None and not _in_prefix(packet.nw_dst, rule.nw_dst):
        return False
    if rule.nw_proto is None:
        return True
    if rule.nw_proto != packet.nw_proto:
        return False
    if packet.nw_proto in _PORT_PROTOCOLS and packet.tp_src is not None:
        if rule.tp_src and rule.tp_src != packet.tp_src:
            return False
        if rule.tp_dst and rule.tp_dst != packet.tp_dst:
            return False
    return True


def is_ip_broadcast(fw, address):
    host_bits = ~fw.subnet_mask & 0xffffffff
    return address & host_bits == host_bits


def verdict(fw, dpid, in_port, packet):
    """-> (allowed, the deciding rule or None)."""
    if packet.dl_dst == BROADCAST_MAC:
        if packet.dl_type == ETH_TYPE_IPV4 and packet.nw_dst is not None and not is_ip_broadcast(fw, packet.nw_dst):
            return False, None  # Ethernet broadcast carrying IPv4 unicast: Floodlight's "malformed broadcast"
        return True, None
    for rule in fw.rules:
        if rule_matches(rule, dpid, in_port, packet):
            return rule.action == ALLOW, rule
    return False, None


# --- flows --------------------------------------------------------------------------------------------------

def _ipv4_text(value):
    return '%d.%d.%d.%d' % (value >> 24, value >> 16 & 0xff, value >> 8 & 0xff, value & 0xff)


def exact_match(in_port, packet):
    """The flow match of one packet's L2, L3 and L4 fields: match pairs in of10.FIELD_NAMES order, as
    of10.flow_match reads a FLOW_REMOVED's match back."""
    pairs = [('in_port', in_port), ('dl_src', packet.dl_src.hex(':')), ('dl_dst', packet.dl_dst.hex(':')),
             ('dl_vlan', packet.vlan), ('dl_type', packet.dl_type)]
    if packet.nw_proto is not None:
        pairs.append(('nw_proto', packet.nw_proto))
        pairs.append(('nw_src', (_ipv4_text(packet.nw_src), 32)))
        pairs.append(('nw_dst', (_ipv4_text(packet.nw_dst), 32)))
        if packet.tp_src is not None:
            pairs.append(('tp_src', packet.tp_src))
            pairs.append(('tp_dst', packet.tp_dst))
    return tuple(pairs)


def _flow_add(match, actions, idle_timeout, priority):
    return of10.RawMessage(of10.flow_mod_bytes(of10.pack_match(match), of10.FORWARDING_COOKIE, of10.OFPFC_ADD,
                                               idle_timeout, 0, priority, of10.OFPFF_SEND_FLOW_REM, actions))


def _flow_delete(match, priority):
    return of10.RawMessage(of10.flow_mod_bytes(of10.pack_match(match), of10.FORWARDING_COOKIE,
                                               of10.OFPFC_DELETE_STRICT, 0, 0, priority, 0))


def _remember(fw, dpid, match, priority):
    flows = fw.flows.get(dpid)
    if flows is None:
        flows = fw.flows[dpid] = {}
    flows[match] = priority


def filter_packet(fw, state, dpid, in_port, vlan, eth_type, l3, data, now, buffer_id):
    """The forwarding state's packet_filter while the firewall is enabled (controller.forwarding calls it for a
    packet-in it would forward). -> the messages that carry out the verdict, or None: allowed, forward as usual
    (a broadcast, multicast or unknown destination, which forwarding floods without installing a flow)."""
    packet = packet_fields(data, vlan, eth_type, l3)
    allowed, _rule = verdict(fw, dpid, in_port, packet)
    idle, priority = state.idle_timeout, state.priority
    if not allowed:
        fw.denied += 1
        match = exact_match(in_port, packet)
        _remember(fw, dpid, match, priority)
        return [(dpid, _flow_add(match, b'', idle, priority))]
    fw.allowed += 1
    if data[0] & 1:
        return None
    device = state.devices.by_mac.get(packet.dl_dst)
    if device is None:
        return None
    if device.dpid == dpid:
        if device.port == in_port:
            return ()
        out_port = device.port
    else:
        path = state.topology.route(dpid, device.dpid)
        if path is None:
            return None
        out_port = state.topology.adjacency[dpid][path[1]]
    match = exact_match(in_port, packet)
    _remember(fw, dpid, match, priority)
    actions = of10.output_actions((of10.OFPP_IN_PORT if out_port == in_port else out_port,))
    return [(dpid, _flow_add(match, actions, idle, priority)),
            (dpid, of10.packet_out(in_port, actions, data, buffer_id))]


def flow_removed(fw, dpid, match):
    """A flow the firewall installed expired (FLOW_REMOVED with the forwarding cookie; match as of10.flow_match)."""
    flows = fw.flows.get(dpid)
    if flows is not None:
        flows.pop(match, None)


def forget_flows(fw):
    """Delete every flow the firewall installed -> [(dpid, msg)]."""
    out = [(dpid, _flow_delete(match, priority)) for dpid, flows in fw.flows.items()
           for match, priority in flows.items()]
    fw.flows = {}
    return out


def switch_gone(fw, dpid):
    """A switch disconnected: its flows are its own business now (it may come back with an empty table)."""
    fw.flows.pop(dpid, None)


def rules_changed(fw, state):
    """After a rule was added or deleted: flows decided under the old rules are deleted -> [(dpid, msg)]."""
    return forget_flows(fw) + forwarding.forget_all_flows(state)


def set_enabled(fw, state, enabled, packet_filter):
    """Enable or disable -> [(dpid, msg)]: the flows decided without (or with) the firewall are deleted.
    packet_filter: the callable the forwarding state calls while enabled (filter_packet bound to fw)."""
    fw.enabled = enabled
    state.packet_filter = packet_filter if enabled else None
    return forget_flows(fw) + forwarding.forget_all_flows(state)
