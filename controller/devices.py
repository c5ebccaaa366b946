"""Hosts learned from packet-ins: MAC, VLAN, IPv4 addresses, attachment point, last seen (pure).

Like Floodlight's DeviceManager with its default entity class: a device is its MAC address; it is attached
where its packets last entered the network from a port that does not face another switch. As there, a device not
seen for ENTITY_TIMEOUT is forgotten (`expire`, run every ENTITY_CLEANUP_INTERVAL by the forwarding timer): the
table holds the hosts seen in the last one to two hours, not every MAC that ever sent a packet.
"""
import ipaddress

from controller.of10 import OFP_VLAN_NONE

VLAN_NONE = OFP_VLAN_NONE   # OpenFlow 1.0's dl_vlan of an untagged frame
MAX_IPV4_PER_DEVICE = 8
# Floodlight DeviceManagerImpl: ENTITY_TIMEOUT 60 min, ENTITY_CLEANUP_INTERVAL 60 min.
ENTITY_TIMEOUT = 3600.0
ENTITY_CLEANUP_INTERVAL = 3600.0


class Device:
    __slots__ = ('mac', 'vlan', 'ipv4', 'dpid', 'port', 'last_seen')

    def __init__(self, mac, vlan, dpid, port, now):
        self.mac = mac          # 6 bytes
        self.vlan = vlan        # VLAN id, or VLAN_NONE
        self.ipv4 = []          # 4-byte strings, oldest first
        self.dpid = dpid
        self.port = port
        self.last_seen = now

    def add_ipv4(self, address):
        if address in self.ipv4:
            return
        self.ipv4.append(address)
        if len(self.ipv4) > MAX_IPV4_PER_DEVICE:
            del self.ipv4[0]


class DeviceTable:
    def __init__(self):
        self.by_mac = {}

    def learn(self, mac, vlan, dpid, port, now):
        """Record that `mac` was seen entering at dpid:port; -> (device, moved)."""
        device = self.by_mac.get(mac)
        if device is None:
            device = self.by_mac[mac] = Device(mac, vlan, dpid, port, now)
            return device, False
        moved = (device.dpid, device.port) != (dpid, port)
        device.dpid, device.port, device.vlan, device.last_seen = dpid, port, vlan, now
        return device, moved

    def expire(self, now, timeout=ENTITY_TIMEOUT):
        """Forget devices not seen for `timeout` seconds; -> how many."""
        limit = now - timeout
        gone = [mac for mac, d in self.by_mac.items() if d.last_seen < limit]
        for mac in gone:
            del self.by_mac[mac]
        return len(gone)

    def forget_attached(self, is_gone):
        """Drop devices whose attachment point (dpid, port) satisfies is_gone; -> how many."""
        gone = [mac for mac, d in self.by_mac.items() if is_gone(d.dpid, d.port)]
        for mac in gone:
            del self.by_mac[mac]
        return len(gone)

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
