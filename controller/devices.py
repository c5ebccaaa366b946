"""Hosts learned from packet-ins: MAC, VLAN, IPv4 addresses, attachment point, last seen (pure).

Like Floodlight's DeviceManager with its default entity class: a device is its MAC address; it is attached
where its packets last entered the network from a port that does not face another switch. As there, a device not
seen for ENTITY_TIMEOUT is forgotten (`expire`, run every ENTITY_CLEANUP_INTERVAL by the forwarding timer): the
table holds the hosts seen in the last one to two hours, not every MAC that ever sent a packet.

Unlike Floodlight's, the table is bounded (docs/reliability.md): at most `max_per_port` hosts per attachment
point and `max_hosts` in all; past either bound the least recently seen hosts go (of that port, or of all): one,
or 1/128 of the bound when that is more (see _evict_oldest). A flood of random source MACs on one port thus keeps
at most `max_per_port` of them, and pushes out no host elsewhere while the total is not reached. An evicted MAC is
remembered in `evicted` until the forwarding timer has deleted the flows to and from it (controller/forwarding.py).

Compact (docs/performance.md, "Host table memory": under 200 bytes a host): no object per host. `by_mac` maps
a MAC to its Attachment, one object shared by every host seen at the same (switch, port, VLAN); the attachment's
`hosts` dict, shared by the port's attachments, maps the MAC to its stamp, one int: the time last seen in
milliseconds, above two bits (see below) and the first IPv4 address (0 for none). The rare host with more addresses
keeps the others in `more_ipv4`. `get` and `query` give Device snapshots.

Least recently seen, kept cheaply ("second chance", as an OS pages memory out): by_mac and each port's hosts are
plain dicts (half the size of an OrderedDict) in the order hosts were learned there, and a sighting only rewrites
the stamp, setting its SEEN bits (a dict that deletes and re-inserts on every sighting grows to twice its size).
Eviction takes the first host of the order: one seen again since it took its place goes to the end with its bit
cleared, the first one not seen again is evicted. That is the least recently seen host (every one behind it took
its place later, and was seen then or since), except among hosts put back at the end and not seen since: those
go in the order they were put back. Expiry reads every stamp (once an hour).
"""
import ipaddress
import itertools
import typing

from controller.of10 import OFP_VLAN_NONE

VLAN_NONE = OFP_VLAN_NONE   # OpenFlow 1.0's dl_vlan of an untagged frame
MAX_IPV4_PER_DEVICE = 8
# Floodlight DeviceManagerImpl: ENTITY_TIMEOUT 60 min, ENTITY_CLEANUP_INTERVAL 60 min.
ENTITY_TIMEOUT = 3600.0
ENTITY_CLEANUP_INTERVAL = 3600.0
# About 180 bytes per host with one IPv4 address (tracemalloc, python -m bench.hosttable): 100,000 hosts is 18 MB.
DEFAULT_MAX_HOSTS = 100000
DEFAULT_MAX_HOSTS_PER_PORT = 1000
WARNING_INTERVAL = 60.0  # one line per port (and one for the total) per this many seconds while hosts are evicted

# A stamp: milliseconds last seen << TIME_SHIFT | SEEN_IN_ALL | SEEN_AT_PORT | the first IPv4 address (a 32-bit
# number; 0 for none: 0.0.0.0 is never learned). The SEEN bits say the host was seen again since it took its place
# in by_mac's order and in its port's (see DeviceTable).
TIME_SHIFT = 34
SEEN_IN_ALL = 1 << 33
SEEN_AT_PORT = 1 << 32
SEEN = SEEN_IN_ALL | SEEN_AT_PORT
ADDRESS_MASK = 0xffffffff
# Past a bound, at least this share of it is evicted at once: a dict's oldest entry is found by walking over the
# slots its deletions left at the front (until it is next resized), so one eviction at a time would cost O(bound).
EVICTION_SHARE_SHIFT = 7


class Attachment:
    """Where hosts are: switch, port and VLAN; hosts is the port's {mac: stamp}, least recently seen first."""
    __slots__ = ('dpid', 'port', 'vlan', 'hosts')

    def __init__(self, dpid, port, vlan, hosts):
        self.dpid = dpid
        self.port = port
        self.vlan = vlan
        self.hosts = hosts


class _Port:
    __slots__ = ('hosts', 'attachments')

    def __init__(self):
        self.hosts = {}        # mac -> stamp, least recently seen first
        self.attachments = {}  # vlan -> Attachment


class Device(typing.NamedTuple):
    """One host as the table held it when asked (DeviceTable.get, query)."""
    mac: bytes             # 6 bytes
    vlan: int              # VLAN id, or VLAN_NONE
    dpid: int
    port: int
    ipv4: list             # 4-byte strings, oldest first
    last_seen_ms: int      # milliseconds since the epoch


class DeviceTable:
    def __init__(self, max_hosts=DEFAULT_MAX_HOSTS, max_per_port=DEFAULT_MAX_HOSTS_PER_PORT):
        self.max_hosts = max_hosts
        self.max_per_port = max_per_port
        self.by_mac = {}             # mac -> Attachment, least recently seen first
        self.by_port = {}            # (dpid, port) -> _Port
        self.more_ipv4 = {}          # mac -> tuple of IPv4 addresses (numbers) after the one in its stamp
        self.evicted = set()         # MACs evicted since the forwarding timer last deleted their flows
        self.port_evictions = {}     # (dpid, port) -> hosts evicted for the per-port bound, not yet warned of
        self.total_evictions = 0     # hosts evicted for the total bound, not yet warned of
        self.next_warning = {}       # (dpid, port) or None (the total) -> when the next warning may be logged
        # The stamp bits of the millisecond [clock_from, clock_until): made once a millisecond, not per packet.
        self.clock_from = self.clock_until = 0.0
        self.clock_bits = SEEN

    def set_clock(self, now):
        """Make clock_bits those of now's millisecond (seen again: the SEEN bits set)."""
        ms = int(now * 1000)
        self.clock_from, self.clock_until = ms / 1000, (ms + 1) / 1000
        if not self.clock_from <= now < self.clock_until:  # rounding at the millisecond's edge
            self.clock_from = self.clock_until = now
        self.clock_bits = ms << TIME_SHIFT | SEEN

    def __len__(self):
        return len(self.by_mac)

    def learn(self, mac, vlan, dpid, port, now, address=0):
        """Record that `mac` was seen entering at dpid:port (address: the IPv4 address it sent from as a number,
        0 for none); -> whether it moved. A MAC evicted earlier whose flows may still be installed comes back as
        moved, so that they are deleted (it may be somewhere else now). The packet-in path calls this for every
        packet from a host port: a host seen where it is known takes the first branch."""
        if not self.clock_from <= now < self.clock_until:
            self.set_clock(now)
        by_mac = self.by_mac
        attachment = by_mac.get(mac)
        if attachment is not None and attachment.port == port and attachment.dpid == dpid \
                and attachment.vlan == vlan:
            hosts = attachment.hosts
            stamp = hosts[mac] & ADDRESS_MASK
            hosts[mac] = self.clock_bits | stamp
            if address and stamp != address:
                self.add_ipv4(mac, hosts, address)
            return False
        if attachment is None:
            moved = mac in self.evicted
            if moved:
                self.evicted.discard(mac)
            stamp = 0
        else:  # keeps its place in by_mac, seen again; the last place at its (new) port
            moved = attachment.port != port or attachment.dpid != dpid
            stamp = self._detach(mac, attachment) & ADDRESS_MASK | SEEN_IN_ALL
        key = (dpid, port)
        where = self.by_port.get(key)
        if where is None:
            where = self.by_port[key] = _Port()
        attachment = where.attachments.get(vlan)
        if attachment is None:
            attachment = where.attachments[vlan] = Attachment(dpid, port, vlan, where.hosts)
        hosts = where.hosts
        by_mac[mac] = attachment
        hosts[mac] = self.clock_bits & ~SEEN | stamp
        if address and stamp & ADDRESS_MASK != address:
            self.add_ipv4(mac, hosts, address)
        if len(hosts) > self.max_per_port:
            self.port_evictions[key] = self.port_evictions.get(key, 0) + self._evict_oldest(
                hosts, self.max_per_port, SEEN_AT_PORT, mac)
        if len(by_mac) > self.max_hosts:
            self.total_evictions += self._evict_oldest(by_mac, self.max_hosts, SEEN_IN_ALL, mac)
        return moved

    def add_ipv4(self, mac, hosts, address):
        """Give the host mac (in hosts, its port's) the IPv4 address `address` (a number) if it has not got it."""
        stamp = hosts[mac]
        first = stamp & ADDRESS_MASK
        if not first:
            hosts[mac] = stamp | address
            return
        more = self.more_ipv4.get(mac, ())
        if first == address or address in more:
            return
        more += (address,)
        if len(more) >= MAX_IPV4_PER_DEVICE:  # the oldest goes
            hosts[mac] = stamp & ~ADDRESS_MASK | more[0]
            more = more[1:]
        self.more_ipv4[mac] = more

    def _detach(self, mac, attachment):
        """Take mac out of its port's hosts (the port goes when it has none left); -> its stamp."""
        hosts = attachment.hosts
        stamp = hosts.pop(mac)
        if not hosts:
            del self.by_port[(attachment.dpid, attachment.port)]
        return stamp

    def _evict_oldest(self, order, bound, seen_bit, keep):
        """Evict the least recently seen hosts of `order` (a port's hosts, seen_bit SEEN_AT_PORT, or by_mac,
        SEEN_IN_ALL) down to `bound`, and at least 1/128 of it, never `keep` (the host being learned); -> how
        many. A host seen again since it took its place goes to the end instead, its seen_bit cleared."""
        count = max(len(order) - bound, bound >> EVICTION_SHARE_SHIFT)
        by_mac = self.by_mac
        evicted = []
        while len(evicted) < count:
            for mac in list(itertools.islice(order, count - len(evicted))):
                hosts = by_mac[mac].hosts
                stamp = hosts[mac]
                if mac == keep or stamp & seen_bit:
                    hosts[mac] = stamp & ~seen_bit
                    order[mac] = order.pop(mac)
                else:
                    self._remove(mac)
                    evicted.append(mac)
        self.evicted.update(evicted)
        return len(evicted)

    def _remove(self, mac):
        self._detach(mac, self.by_mac.pop(mac))
        if self.more_ipv4:
            self.more_ipv4.pop(mac, None)

    def expire(self, now, timeout=ENTITY_TIMEOUT):
        """Forget devices not seen for `timeout` seconds; -> how many."""
        limit = int((now - timeout) * 1000) << TIME_SHIFT
        gone = [mac for mac, attachment in self.by_mac.items() if attachment.hosts[mac] < limit]
        for mac in gone:
            self._remove(mac)
        return len(gone)

    def forget_attached(self, is_gone):
        """Drop devices whose attachment point (dpid, port) satisfies is_gone; -> how many."""
        gone = [mac for (dpid, port), where in self.by_port.items() if is_gone(dpid, port) for mac in where.hosts]
        for mac in gone:
            self._remove(mac)
        return len(gone)

    def eviction_warnings(self, now, interval=WARNING_INTERVAL):
        """-> [(dpid, port, evicted) for the ports over their bound, (None, None, evicted) for the total] not warned
        of in the last `interval` seconds; each counts the hosts evicted since its last warning."""
        out = []
        for key, count in list(self.port_evictions.items()):
            if now >= self.next_warning.get(key, 0.0):
                out.append(key + (count,))
                del self.port_evictions[key]
                self.next_warning[key] = now + interval
        if self.total_evictions and now >= self.next_warning.get(None, 0.0):
            out.append((None, None, self.total_evictions))
            self.total_evictions = 0
            self.next_warning[None] = now + interval
        if len(self.next_warning) > len(self.port_evictions) + 1:  # forget the quiet ports' times
            for key in [k for k, until in self.next_warning.items() if until <= now and k not in self.port_evictions]:
                del self.next_warning[key]
        return out

    def get(self, mac):
        """-> the Device of mac, or None."""
        attachment = self.by_mac.get(mac)
        return None if attachment is None else self._device(mac, attachment)

    def _device(self, mac, attachment):
        stamp = attachment.hosts[mac]
        first = stamp & ADDRESS_MASK
        addresses = ((first,) + self.more_ipv4.get(mac, ())) if first else ()
        return Device(mac, attachment.vlan, attachment.dpid, attachment.port,
                      [a.to_bytes(4, 'big') for a in addresses], stamp >> TIME_SHIFT)

    def query(self, mac=None, ipv4=None, vlan=None, dpid=None, port=None, startswith=None):
        """Devices matching every given filter (values already parsed: mac 6 bytes, ipv4 4 bytes, ints), in the
        table's order (not quite the order last seen: see the module's doc); startswith: {'mac': text, 'ipv4': text, 'dpid': text} prefix filters on the printed
        forms."""
        out = []
        for key, attachment in self.by_mac.items():
            if mac is not None and key != mac:
                continue
            if vlan is not None and attachment.vlan != vlan:
                continue
            if dpid is not None and attachment.dpid != dpid:
                continue
            if port is not None and attachment.port != port:
                continue
            device = self._device(key, attachment)
            if ipv4 is not None and ipv4 not in device.ipv4:
                continue
            if startswith and not all(_startswith(device, name, prefix) for name, prefix in startswith.items()):
                continue
            out.append(device)
        return out


def format_mac(mac):
    return ':'.join('%02x' % b for b in mac)


def format_ipv4(address):
    return str(ipaddress.IPv4Address(address))


def _startswith(device, key, prefix):
    from controller.dpid import format_dpid
    if key == 'mac':
        return format_mac(device.mac).startswith(prefix.lower())
    if key == 'ipv4':
        return any(format_ipv4(a).startswith(prefix) for a in device.ipv4)
    if key == 'dpid':
        return format_dpid(device.dpid).startswith(prefix.lower())
    return False
