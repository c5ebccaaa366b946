"""Floodlight's VirtualNetworkFilter: MAC-based tenant networks, and the verdict on a packet-in (pure).

Networks, their gateways and the MACs attached to them are kept in memory, as Floodlight kept them (REST:
rest/virtualnetwork.py; glue: apps/virtualnetwork.py, loaded with --virtual-network-filter). A MAC belongs to at
most one network. The verdict on a frame, as Floodlight's processPacketIn (v0.91 and v1.2) decides it:

* from a gateway (a host whose learned IPv4 address is some network's gateway): allowed;
* to the gateway of the sender's network: allowed;
* DHCP (UDP port 67 or 68 at either end): allowed, whoever sends it to whom;
* from a MAC attached to no network: dropped;
* between two MACs of one network: allowed; between networks (or to a MAC of no network): dropped.

Differences from Floodlight (docs/compatibility.md):

* Floodlight let every broadcast and multicast through to every port. Here they are flooded only to the ports
  where no host of another network is known: a host of network A never receives the ARP of a host of network B
  once it has been seen (a port where nothing has been seen yet still gets them, or a silent host could never be
  found). DHCP broadcasts still reach every port, as Floodlight's did (a DHCP server may be in no network).
* A DHCP packet between networks is passed on alone, without a flow: a flow would carry any traffic between the
  two MACs. Allowed unicast installs forwarding's MAC-pair flows (the verdict depends on the MACs only).
* A change of networks or attachments deletes the forwarding flows, so that a host moved to another network is
  cut off at once (Floodlight's flows lived on until they were idle for 5 s).
"""
import ipaddress

from controller import firewall, forwarding

IP_PROTO_UDP = firewall.IP_PROTO_UDP
DHCP_PORTS = (67, 68)

ALLOW = 'allow'
DROP = 'drop'
ONCE = 'once'      # allowed, without a flow: the next packet is asked about again


class Network:
    __slots__ = ('guid', 'name', 'gateway', 'ports')

    def __init__(self, guid, name):
        self.guid = guid
        self.name = name
        self.gateway = None    # IPv4 address as an int, or None
        self.ports = {}        # logical port name -> MAC (6 bytes), in the order they were attached


class VirtualNetworks:
    def __init__(self):
        self.networks = {}     # guid -> Network, in the order they were created
        self.network_of = {}   # MAC -> guid
        self.port_of = {}      # MAC -> the logical port name it is attached at
        self.gateways = {}     # gateway IPv4 address (int) -> the guids of the networks it is the gateway of
        self.dropped = 0       # packet-ins dropped since start
        self.allowed = 0


class UnknownNetworkError(KeyError):
    pass


# --- networks and attachments --------------------------------------------------------------------------------

def put_network(vn, guid, name, gateway):
    """Create a network, or rename it / give it another gateway (Floodlight's createNetwork: a gateway of None
    keeps the one it has). gateway: an IPv4 address as an int, or None."""
    network = vn.networks.get(guid)
    if network is None:
        network = vn.networks[guid] = Network(guid, name)
    else:
        network.name = name
    if gateway:
        network.gateway = gateway
    _index_gateways(vn)


def _index_gateways(vn):
    vn.gateways = {}
    for network in vn.networks.values():
        if network.gateway is not None:
            vn.gateways.setdefault(network.gateway, set()).add(network.guid)


def delete_network(vn, guid):
    """Delete a network and its attachments; UnknownNetworkError when there is none of that id."""
    network = vn.networks.pop(guid, None)
    if network is None:
        raise UnknownNetworkError(guid)
    for mac in network.ports.values():
        del vn.network_of[mac]
        del vn.port_of[mac]
    _index_gateways(vn)


def attach(vn, guid, port, mac):
    """Attach `mac` at logical port `port` of network `guid`. What was attached at that port before, and the
    MAC's attachment elsewhere, are detached first: a MAC is in one network, a port holds one MAC."""
    network = vn.networks.get(guid)
    if network is None:
        raise UnknownNetworkError(guid)
    detach(vn, port)
    if mac in vn.network_of:
        detach(vn, vn.port_of[mac])
    network.ports[port] = mac
    vn.network_of[mac] = guid
    vn.port_of[mac] = port


def detach(vn, port):
    """Detach whatever MAC is attached at logical port `port` (of any network, as Floodlight's deleteHost);
    -> the MAC, or None when nothing was."""
    for network in vn.networks.values():
        mac = network.ports.pop(port, None)
        if mac is not None:
            del vn.network_of[mac]
            del vn.port_of[mac]
            return mac
    return None


def network_json(network):
    """Floodlight's VirtualNetworkSerializer: name, guid, gateway (dotted text or null) and portMac."""
    return {'name': network.name, 'guid': network.guid,
            'gateway': None if network.gateway is None else str(ipaddress.IPv4Address(network.gateway)),
            'portMac': [{'port': port, 'mac': mac.hex(':')} for port, mac in network.ports.items()]}


# --- the verdict -------------------------------------------------------------------------------------------

def _addresses(devices, mac):
    """The IPv4 addresses (ints) the host table learned for mac."""
    device = devices.get(mac)
    return () if device is None else [int.from_bytes(a, 'big') for a in device.ipv4]


def _gateway_networks(vn, devices, mac):
    """The networks whose gateway is the host `mac` (a gateway is known by the address it sends from)."""
    if not vn.gateways:
        return set()
    found = set()
    for address in _addresses(devices, mac):
        found |= vn.gateways.get(address, set())
    return found


def is_dhcp(data, vlan, eth_type, l3):
    """UDP from or to port 67 or 68 (Floodlight's decoder took those as DHCP) in unfragmented IPv4."""
    packet = firewall.packet_fields(data, vlan, eth_type, l3)
    return packet.nw_proto == IP_PROTO_UDP and (packet.tp_src in DHCP_PORTS or packet.tp_dst in DHCP_PORTS)


def unicast_verdict(vn, devices, src, dst, data, vlan, eth_type, l3):
    """ALLOW, ONCE or DROP for a unicast frame from MAC src to MAC dst (see the module's docstring)."""
    network_of = vn.network_of
    src_network = network_of.get(src)
    if src_network is not None and network_of.get(dst) == src_network:
        return ALLOW
    if vn.gateways:
        if _gateway_networks(vn, devices, src):
            return ALLOW
        if src_network is not None and src_network in _gateway_networks(vn, devices, dst):
            return ALLOW
    if is_dhcp(data, vlan, eth_type, l3):
        return ONCE
    return DROP


def audience(vn, devices, src):
    """The networks a broadcast from src may reach: its own; a gateway's, those it is the gateway of; an empty
    set for a host of no network (it reaches only ports where no host of a network is known)."""
    guid = vn.network_of.get(src)
    if guid is not None:
        return {guid}
    return _gateway_networks(vn, devices, src)


def flood_scope(vn, state, dpid, data, ports):
    """The flood ports (forwarding's, for a broadcast, multicast or unknown destination) a frame may leave by:
    a port is left out when hosts of other networks are known there and none of the sender's audience is."""
    if is_dhcp_frame(data):
        return ports
    devices = state.devices
    src = bytes(data[6:12])
    networks = audience(vn, devices, src)
    by_port = devices.by_port
    network_of = vn.network_of
    kept = []
    for port in ports:
        where = by_port.get((dpid, port))
        if where is not None:
            members = {network_of.get(mac) for mac in where.hosts} - {None}
            if members and not members & networks and not _serves(vn, devices, where.hosts, networks):
                continue
        kept.append(port)
    return tuple(kept)


def _serves(vn, devices, hosts, networks):
    """Whether a gateway of one of `networks` is among `hosts`."""
    return vn.gateways and networks and any(_gateway_networks(vn, devices, mac) & networks for mac in hosts)


def is_dhcp_frame(data):
    """is_dhcp for a whole frame (its Ethernet header and one VLAN tag read here)."""
    if len(data) < 18:
        return False
    eth_type, vlan, l3 = data[12] << 8 | data[13], None, 14
    if eth_type == 0x8100:
        eth_type, vlan, l3 = data[16] << 8 | data[17], (data[14] << 8 | data[15]) & 0xfff, 18
    return is_dhcp(data, vlan, eth_type, l3)


def filter_packet(vn, state, dpid, in_port, vlan, eth_type, l3, data, now, buffer_id):
    """The forwarding state's network_filter (controller.forwarding calls it for a packet-in it would forward).
    -> None: allowed, forward as usual (broadcasts are flooded within flood_scope); else the messages to send
    instead: nothing for a dropped packet, the packet alone for ONCE."""
    if data[0] & 1:
        vn.allowed += 1
        return None
    verdict = unicast_verdict(vn, state.devices, bytes(data[6:12]), bytes(data[0:6]), data, vlan, eth_type, l3)
    if verdict == DROP:
        vn.dropped += 1
        return ()
    vn.allowed += 1
    if verdict == ONCE:
        return forwarding.forward_once(state, dpid, in_port, data, now, buffer_id)
    return None


def set_filter(vn, state, network_filter, scope):
    """Put the filter into the forwarding state's packet-in path (network_filter: filter_packet bound to vn;
    scope: flood_scope bound to vn)."""
    state.network_filter = network_filter
    state.flood_scope = scope


def networks_changed(state):
    """After networks or attachments changed: the forwarding flows decided under the old ones go -> [(dpid, msg)]."""
    return forwarding.forget_all_flows(state)
