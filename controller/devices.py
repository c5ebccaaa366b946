"""Hosts learned from packet-ins: MAC, VLAN, IPv4 addresses, attachment point, last seen (pure).

Like Floodlight's DeviceManager with its default entity class: a device is its MAC address; it is attached
where its packets last entered the network from a port that does not face another switch. As there, a device not
seen for ENTITY_TIMEOUT is forgotten (`expire`, run every ENTITY_CLEANUP_INTERVAL by the forwarding timer): the
table holds the hosts seen in the last one to two hours, not every MAC that ever sent a packet.

Unlike Floodlight's, the table is bounded (docs/reliability.md): at most `max_per_port` hosts per attachment
point and `max_hosts` in all; past either bound the least recently seen host goes (of that port, or of all). A
flood of random source MACs on one port thus keeps at most `max_per_port` of them, and pushes out no host
elsewhere while the total is not reached. Both orders are kept by OrderedDicts moved on every sighting (O(1); the packet-in path does it
itself for a host seen where it is known, controller/forwarding.py); an evicted MAC is remembered in
`evicted` until the forwarding timer has deleted the flows to and from it (controller/forwarding.py).
"""
import ipaddress
from collections import OrderedDict

from controller.of10 import OFP_VLAN_NONE

VLAN_NONE = OFP_VLAN_NONE   # OpenFlow 1.0's dl_vlan of an untagged frame
MAX_IPV4_PER_DEVICE = 8
# Floodlight DeviceManagerImpl: ENTITY_TIMEOUT 60 min, ENTITY_CLEANUP_INTERVAL 60 min.
ENTITY_TIMEOUT = 3600.0
ENTITY_CLEANUP_INTERVAL = 3600.0
# About 450-600 bytes per host (tracemalloc: 447 with one IPv4 address; a MAC flood of 65,000 took +36 MB of
# RSS): 100,000 hosts is 45-60 MB.
DEFAULT_MAX_HOSTS = 100000
DEFAULT_MAX_HOSTS_PER_PORT = 1000
WARNING_INTERVAL = 60.0  # one line per port (and one for the total) per this many seconds while hosts are evicted


class Device:
    __slots__ = ('mac', 'vlan', 'ipv4', 'dpid', 'port', 'last_seen', 'neighbours')

    def __init__(self, mac, vlan, dpid, port, now, neighbours):
        self.mac = mac          # 6 bytes
        self.vlan = vlan        # VLAN id, or VLAN_NONE
        self.ipv4 = []          # 4-byte strings, oldest first
        self.dpid = dpid
        self.port = port
        self.last_seen = now
        self.neighbours = neighbours  # the OrderedDict of the hosts at (dpid, port), this one included

    def add_ipv4(self, address):
        if address in self.ipv4:
            return
        self.ipv4.append(address)
        if len(self.ipv4) > MAX_IPV4_PER_DEVICE:
            del self.ipv4[0]


class DeviceTable:
    def __init__(self, max_hosts=DEFAULT_MAX_HOSTS, max_per_port=DEFAULT_MAX_HOSTS_PER_PORT):
        self.max_hosts = max_hosts
        self.max_per_port = max_per_port
        self.by_mac = OrderedDict()  # mac -> Device, least recently seen first
        self.by_port = {}            # (dpid, port) -> OrderedDict mac -> Device, least recently seen first
        self.evicted = set()         # MACs evicted since the forwarding timer last deleted their flows
        self.port_evictions = {}     # (dpid, port) -> hosts evicted for the per-port bound, not yet warned of
        self.total_evictions = 0     # hosts evicted for the total bound, not yet warned of
        self.next_warning = {}       # (dpid, port) or None (the total) -> when the next warning may be logged

    def learn(self, mac, vlan, dpid, port, now):
        """Record that `mac` was seen entering at dpid:port; -> (device, moved). A MAC evicted earlier whose flows
        may still be installed comes back as moved, so that they are deleted (it may be somewhere else now)."""
        device = self.by_mac.get(mac)
        if device is None:
            moved = mac in self.evicted
            if moved:
                self.evicted.discard(mac)
            device = self.by_mac[mac] = Device(mac, vlan, dpid, port, now, None)
            self._attach(device)
            if len(self.by_mac) > self.max_hosts:
                self.total_evictions += 1
                self._evict(next(iter(self.by_mac)))
            return device, moved
        moved = (device.dpid, device.port) != (dpid, port)
        if moved:
            self._detach(device)
            device.dpid, device.port = dpid, port
            self._attach(device)
        else:
            device.neighbours.move_to_end(mac)
        device.vlan, device.last_seen = vlan, now
        self.by_mac.move_to_end(mac)
        return device, moved

    def _attach(self, device):
        key = (device.dpid, device.port)
        neighbours = self.by_port.get(key)
        if neighbours is None:
            neighbours = self.by_port[key] = OrderedDict()
        neighbours[device.mac] = device
        device.neighbours = neighbours
        if len(neighbours) > self.max_per_port:
            self.port_evictions[key] = self.port_evictions.get(key, 0) + 1
            self._evict(next(iter(neighbours)))

    def _detach(self, device):
        neighbours = device.neighbours
        del neighbours[device.mac]
        if not neighbours:
            del self.by_port[(device.dpid, device.port)]

    def _evict(self, mac):
        self._remove(mac)
        self.evicted.add(mac)

    def _remove(self, mac):
        self._detach(self.by_mac.pop(mac))

    def expire(self, now, timeout=ENTITY_TIMEOUT):
        """Forget devices not seen for `timeout` seconds; -> how many."""
        limit = now - timeout
        gone = 0
        for mac, device in list(self.by_mac.items()):
            if device.last_seen >= limit:
                break  # least recently seen first: the rest are younger
            self._remove(mac)
            gone += 1
        return gone

    def forget_attached(self, is_gone):
        """Drop devices whose attachment point (dpid, port) satisfies is_gone; -> how many."""
        gone = [mac for (dpid, port), neighbours in self.by_port.items() if is_gone(dpid, port) for mac in neighbours]
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

    def query(self, mac=None, ipv4=None, vlan=None, dpid=None, port=None, startswith=None):
        """Devices matching every given filter (values already parsed: mac 6 bytes, ipv4 4 bytes, ints);
        startswith: {'mac': text, 'ipv4': text, 'dpid': text} prefix filters on the printed forms."""
        out = []
        for device in self.by_mac.values():
            if mac is not None and device.mac != mac:
                continue
            if ipv4 is not None and ipv4 not in device.ipv4:
                continue
            if vlan is not None and device.vlan != vlan:
                continue
            if dpid is not None and device.dpid != dpid:
                continue
            if port is not None and device.port != port:
                continue
            if startswith and not all(_startswith(device, key, prefix) for key, prefix in startswith.items()):
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
