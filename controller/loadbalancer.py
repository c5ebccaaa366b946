"""Floodlight's load balancer (net.floodlightcontroller.loadbalancer): VIPs, pools, members, and what a packet-in
to a VIP sends, as pure functions.

The model is Floodlight's (OpenStack Quantum's LBaaS proposal): a VIP (an IPv4 address answered by ARP with the VIP
MAC 12:34:56:78:90:12) has pools, the first of which serves it; a pool has members (IPv4 address, port), chosen
round robin, one per new client connection. The forwarding packet-in path (controller/forwarding.py) hands every
packet to `handle_packet_in` once the VIP table is not empty, after learning its source host:

* an ARP request for a VIP is answered with a packet-out of the reply on the asking port; an ARP reply to a VIP
  (a member answering our probe, below) is taken: the member was learned from it;
* an IPv4 packet to a VIP gets a member (the one already serving this client connection, else the next in round
  robin) and flows both ways on the shortest path between the packet-in switch and the member's attachment point:
  client -> VIP has its destination MAC and IPv4 rewritten to the member's on the first switch, member -> client
  its source rewritten back to the VIP's on the last; the packet itself then goes out through the new flows
  (packet-out to OFPP_TABLE), as Floodlight does;
* a member whose host is not known yet (no packet from it seen) is asked for by an ARP request from the VIP,
  flooded from the packet-in switch; the client's packet is dropped (its retransmission finds the member).

Hosts come from the forwarding state's device table (DeviceTable.get and query); paths from its
topology. Errors (`NotFound`, `Conflict`, `Invalid`) are raised for the REST layer to map to 404, 409, 400.
"""
import random
from collections import OrderedDict

from controller import of10

VIP_MAC = bytes.fromhex('123456789012')   # LBVip.LB_PROXY_MAC: every VIP answers ARP with it
VIP_MAC_TEXT = of10.match.mac_to_text(VIP_MAC)
LB_PRIORITY = 32768                       # LoadBalancer.LB_PRIORITY
LOADBALANCER_APP_ID = 3                   # ours (Floodlight pushed through the static flow pusher): not 2, not 10
LOADBALANCER_COOKIE = LOADBALANCER_APP_ID << 52
PROTOCOLS = {'tcp': 6, 'udp': 17, 'icmp': 1}
_PORT_PROTOCOLS = (PROTOCOLS['tcp'], PROTOCOLS['udp'])
MAX_CONNECTIONS = 65536    # client connections remembered (for a repeated packet-in to reach the same member)
ID_SPACE = 10000           # Floodlight's ids: String.valueOf((int) (Math.random() * 10000))

ETH_TYPE_ARP = 0x0806
ETH_TYPE_IPV4 = 0x0800
ARP_REQUEST, ARP_REPLY = 1, 2
_ARP_HEAD = bytes.fromhex('000108000604')  # hardware Ethernet, protocol IPv4, address lengths 6 and 4
_VLAN_TPID = bytes.fromhex('8100')
_ETH_ARP = bytes.fromhex('0806')
# Offsets in the Ethernet header, and in the ARP and IPv4 headers (from the start of the L3 header).
ETH_SRC, ETH_SRC_END = 6, 12
ARP_OPCODE = 7              # its low byte
ARP_SENDER_IP, ARP_SENDER_IP_END, ARP_TARGET_IP, ARP_END = 14, 18, 24, 28
IPV4_PROTO = 9
IPV4_SRC, IPV4_DST, IPV4_MIN_HEADER = 12, 16, 20
TRANSPORT_PORT_SIZE = 2
_NOTHING = ()


class NotFound(LookupError):
    pass


class Conflict(ValueError):
    pass


class Invalid(ValueError):
    pass


class Vip:
    __slots__ = ('id', 'name', 'tenant_id', 'network_id', 'address', 'protocol', 'port', 'pools')

    def __init__(self, vip_id):
        self.id = vip_id
        self.name = self.tenant_id = self.network_id = None
        self.address = None     # 4 bytes
        self.protocol = 0       # IP protocol number, 0: not given
        self.port = 0
        self.pools = []         # pool ids, the first serves


class Pool:
    __slots__ = ('id', 'name', 'tenant_id', 'network_id', 'lb_method', 'protocol', 'vip_id', 'members',
                 'previous')

    def __init__(self, pool_id):
        self.id = pool_id
        self.name = self.tenant_id = self.network_id = self.vip_id = None
        self.lb_method = 0
        self.protocol = 0
        self.members = []       # member ids in creation order: the round robin's order
        self.previous = -1      # index of the member chosen last


class Member:
    __slots__ = ('id', 'address', 'port', 'connection_limit', 'admin_state', 'status', 'pool_id')

    def __init__(self, member_id):
        self.id = member_id
        self.address = None     # 4 bytes
        self.port = 0
        self.connection_limit = self.admin_state = self.status = 0
        self.pool_id = None


# Which attributes a REST body may set on each kind (rest/loadbalancer.py parses the values).
VIP_FIELDS = ('name', 'tenant_id', 'network_id', 'address', 'protocol', 'port')
POOL_FIELDS = ('name', 'tenant_id', 'network_id', 'lb_method', 'protocol')
MEMBER_FIELDS = ('address', 'port', 'connection_limit', 'admin_state', 'status')


class LoadBalancer:
    def __init__(self, rng=None):
        self.vips = {}          # id -> Vip, in creation order
        self.pools = {}
        self.members = {}
        self.vip_by_address = {}   # 4-byte address -> Vip: what the packet-in path looks at
        self.connections = OrderedDict()  # (client ip, proto, client port, vip address) -> member id
        self.member_macs = {}      # member address -> MAC of the host last found with it
        self._random = rng or random.Random()

    # --- the REST side ----------------------------------------------------------------------------------

    def new_id(self, table):
        """A free id like Floodlight's (a random number below 10000), wider when those run out."""
        space = ID_SPACE
        while True:
            for _ in range(64):
                candidate = str(self._random.randrange(space))
                if candidate not in table:
                    return candidate
            space *= 10

    def put_vip(self, vip_id, fields, pool_id=None):
        """Create, or replace the attributes of, VIP vip_id (None: a new id). fields: {VIP_FIELDS name: value};
        pool_id: a pool to serve the VIP (Floodlight's `pool_id` key). -> the Vip."""
        if 'address' not in fields:
            raise Invalid('a VIP needs an "address" (its IPv4 address)')
        if pool_id is not None and pool_id not in self.pools:
            raise NotFound('no pool %r' % pool_id)
        other = self.vip_by_address.get(fields['address'])
        if other is not None and other.id != vip_id:
            raise Conflict('VIP %r already has address %s' % (other.id, of10.match.ipv4_to_text(
                int.from_bytes(fields['address'], 'big'))))
        vip = self.vips.get(vip_id)
        if vip is not None:
            del self.vip_by_address[vip.address]
        vip = self._upsert(self.vips, Vip, vip_id, VIP_FIELDS, fields)
        self.vip_by_address[vip.address] = vip
        if pool_id is not None:
            self._attach_pool(self.pools[pool_id], vip)
        return vip

    def put_pool(self, pool_id, fields, vip_id=None):
        """Create or replace pool pool_id; vip_id: the VIP it serves (None: none yet)."""
        if vip_id is not None and vip_id not in self.vips:
            raise NotFound('no VIP %r' % vip_id)
        pool = self._upsert(self.pools, Pool, pool_id, POOL_FIELDS, fields)
        self._attach_pool(pool, self.vips[vip_id] if vip_id is not None else None)
        return pool

    def _upsert(self, table, cls, key, names, fields):
        """The object `key` of `table` (a new one, under a new id when key is None), its attributes `names` set from
        fields. Floodlight built a new object from every body: what the body does not name is back to its default
        (the links between VIPs, pools and members are kept)."""
        obj = table.get(key)
        if obj is None:
            obj = cls(self.new_id(table) if key is None else key)
            table[obj.id] = obj
        blank = cls(obj.id)
        for name in names:
            setattr(obj, name, fields[name] if name in fields else getattr(blank, name))
        return obj

    def _attach_pool(self, pool, vip):
        old = self.vips.get(pool.vip_id)
        if old is not None and old is not vip:
            old.pools.remove(pool.id)
        pool.vip_id = vip.id if vip is not None else None
        if vip is not None and pool.id not in vip.pools:
            vip.pools.append(pool.id)

    def put_member(self, member_id, fields, pool_id):
        """Create or replace member member_id of pool pool_id."""
        if 'address' not in fields:
            raise Invalid('a member needs an "address" (its IPv4 address)')
        if pool_id is None:
            raise Invalid('a member needs a "pool_id"')
        pool = self.pools.get(pool_id)
        if pool is None:
            raise NotFound('no pool %r' % pool_id)
        member = self._upsert(self.members, Member, member_id, MEMBER_FIELDS, fields)
        old = self.pools.get(member.pool_id)
        if old is not None and old is not pool:
            old.members.remove(member.id)
            old.previous = -1
        member.pool_id = pool.id
        if member.id not in pool.members:
            pool.members.append(member.id)
        return member

    def delete_vip(self, vip_id):
        vip = self._get(self.vips, vip_id, 'VIP')
        del self.vips[vip_id]
        del self.vip_by_address[vip.address]
        for pool_id in vip.pools:
            self.pools[pool_id].vip_id = None

    def delete_pool(self, pool_id):
        pool = self._get(self.pools, pool_id, 'pool')
        self._attach_pool(pool, None)
        for member_id in pool.members:
            self.members[member_id].pool_id = None
        del self.pools[pool_id]

    def delete_member(self, member_id):
        member = self._get(self.members, member_id, 'member')
        pool = self.pools.get(member.pool_id)
        if pool is not None:
            pool.members.remove(member_id)
            pool.previous = -1
        del self.members[member_id]

    def vip(self, vip_id):
        return self._get(self.vips, vip_id, 'VIP')

    def pool(self, pool_id):
        return self._get(self.pools, pool_id, 'pool')

    def member(self, member_id):
        return self._get(self.members, member_id, 'member')

    def member_vip_id(self, member):
        pool = self.pools.get(member.pool_id)
        return pool.vip_id if pool is not None else None

    @staticmethod
    def _get(table, key, what):
        found = table.get(key)
        if found is None:
            raise NotFound('no %s %r' % (what, key))
        return found

    # --- choosing a member ---------------------------------------------------------------------------------

    def pick_member(self, vip):
        """The next member, round robin, of the VIP's first pool (LBVip.pickPool, LBPool.pickMember)."""
        if not vip.pools:
            return None
        pool = self.pools[vip.pools[0]]
        if not pool.members:
            return None
        pool.previous = (pool.previous + 1) % len(pool.members)
        return self.members[pool.members[pool.previous]]

    def member_for(self, vip, connection):
        """The member serving a client connection: the one chosen before while it is still in the VIP's pool (a
        packet-in of the same connection after its flows expired), else the next in round robin."""
        connections = self.connections
        member = self.members.get(connections.get(connection))
        if member is not None and vip.pools and member.pool_id == vip.pools[0]:
            connections.move_to_end(connection)
            return member
        member = self.pick_member(vip)
        if member is not None:
            connections[connection] = member.id
            if len(connections) > MAX_CONNECTIONS:
                connections.popitem(last=False)
        return member


# --- the packet-in path -------------------------------------------------------------------------------------

def handle_packet_in(state, dpid, in_port, vlan, eth_type, l3, data, now, buffer_id):
    """A packet-in the forwarding path has learned from -> [(dpid, msg)] when it is the load balancer's (an ARP
    for or to a VIP, an IPv4 packet to a VIP), or None to forward it as usual. state: the ForwardingState."""
    lb = state.loadbalancer
    if eth_type == ETH_TYPE_ARP:
        if len(data) < l3 + ARP_END:
            return None
        vip = lb.vip_by_address.get(data[l3 + ARP_TARGET_IP:l3 + ARP_END])
        if vip is None:
            return None
        if data[l3 + ARP_OPCODE] == ARP_REQUEST:
            reply = arp_frame(ARP_REPLY, VIP_MAC, vip.address, data[ETH_SRC:ETH_SRC_END],
                              data[l3 + ARP_SENDER_IP:l3 + ARP_SENDER_IP_END], vlan)
            return [(dpid, of10.packet_out_port(of10.OFPP_NONE, in_port, reply))]
        return _NOTHING
    if eth_type != ETH_TYPE_IPV4 or data[0] & 1 or len(data) < l3 + IPV4_MIN_HEADER:
        return None
    vip = lb.vip_by_address.get(data[l3 + IPV4_DST:l3 + IPV4_MIN_HEADER])
    if vip is None:
        return None
    client_ip = data[l3 + IPV4_SRC:l3 + IPV4_DST]
    proto = data[l3 + IPV4_PROTO]
    client_port = transport_source(data, l3, proto)
    member = lb.member_for(vip, (client_ip, proto, client_port, vip.address))
    if member is None:
        return _NOTHING  # a VIP without members: dropped (Floodlight forwarded it to nowhere)
    host = member_host(lb, state.devices, member.address)
    if host is None:
        return _probe(state, dpid, in_port, vip, member, now)
    path = _path(state.topology, dpid, host.dpid)
    if path is None:
        return _NOTHING
    out = vip_flows(state.topology.adjacency, path, in_port, host.port, vip, member, host.mac, client_ip, proto,
                    client_port, state.idle_timeout)
    out.append((dpid, of10.packet_out(in_port, of10.output_actions((of10.OFPP_TABLE,)), data, buffer_id)))
    return out


def transport_source(data, l3, proto):
    """The client's TCP or UDP source port, None for other protocols (ICMP)."""
    if proto not in _PORT_PROTOCOLS:
        return None
    start = l3 + (data[l3] & 0xf) * 4
    end = start + TRANSPORT_PORT_SIZE
    if len(data) < end:
        return None
    return int.from_bytes(data[start:end], 'big')


def member_host(lb, devices, address):
    """The learned host holding IPv4 `address` (a controller.devices.Device; its MAC remembered, so that only a
    miss walks the table)."""
    device = devices.get(lb.member_macs.get(address))
    if device is not None and address in device.ipv4:
        return device
    found = devices.query(ipv4=address)
    if found:
        device = max(found, key=lambda host: host.last_seen_ms)  # the most recently seen
        lb.member_macs[address] = device.mac
        return device
    lb.member_macs.pop(address, None)
    return None


def _path(topology, src, dst):
    if src == dst:
        return (src,)
    return topology.route(src, dst)


def _probe(state, dpid, in_port, vip, member, now):
    """Ask for a member not seen yet: an ARP request from the VIP, flooded from the packet-in switch."""
    ports = state.topology.flood_ports(dpid, in_port, now)
    if not ports:
        return _NOTHING
    frame = arp_frame(ARP_REQUEST, VIP_MAC, vip.address, b'\xff' * 6, member.address, of10.OFP_VLAN_NONE,
                      target_mac=bytes(6))
    return [(dpid, of10.packet_out(of10.OFPP_NONE, of10.output_actions(ports), frame))]


def vip_flows(adjacency, path, client_port_no, member_port_no, vip, member, member_mac, client_ip, proto,
              client_port, idle_timeout):
    """The flow-mods of one client connection, [(dpid, msg)]: path is the switches from the client's (path[0],
    entered by client_port_no) to the member's (left by member_port_no). Inbound, last switch first, so that the
    packet finds its way installed; the first switch rewrites to the member. Outbound (member -> client), the
    client's switch rewrites back to the VIP."""
    hops = []  # (switch, port towards the client, port towards the member)
    toward_client = client_port_no
    for i, switch in enumerate(path):
        toward_member = member_port_no if i == len(path) - 1 else adjacency[switch][path[i + 1]]
        hops.append((switch, toward_client, toward_member))
        if i < len(path) - 1:
            toward_client = adjacency[path[i + 1]][switch]
    client_text = _ipv4_text(client_ip)
    member_text = _ipv4_text(member.address)
    vip_text = _ipv4_text(vip.address)
    ports_in = (('tp_src', client_port),) if client_port is not None else ()
    ports_out = (('tp_dst', client_port),) if client_port is not None else ()
    out = []
    for i in range(len(hops) - 1, -1, -1):
        switch, toward_client, toward_member = hops[i]
        inbound = (('in_port', toward_client), ('dl_type', ETH_TYPE_IPV4), ('nw_proto', proto),
                   ('nw_src', (client_text, 32)), ('nw_dst', (vip_text if i == 0 else member_text, 32))) + ports_in
        actions = (('output', _out(toward_member, toward_client), 0),)
        if i == 0:
            actions = (('set_dl_dst', of10.match.mac_to_text(member_mac)), ('set_nw_dst', member_text)) + actions
        out.append((switch, _flow_add(inbound, actions, idle_timeout)))
    for i in range(len(hops)):
        switch, toward_client, toward_member = hops[i]
        outbound = (('in_port', toward_member), ('dl_type', ETH_TYPE_IPV4), ('nw_proto', proto),
                    ('nw_src', (member_text, 32)), ('nw_dst', (client_text, 32))) + ports_out
        actions = (('output', _out(toward_client, toward_member), 0),)
        if i == 0:
            actions = (('set_dl_src', VIP_MAC_TEXT), ('set_nw_src', vip_text)) + actions
        out.append((switch, _flow_add(outbound, actions, idle_timeout)))
    return out


def _out(port, in_port):
    return of10.OFPP_IN_PORT if port == in_port else port


def _flow_add(match, actions, idle_timeout):
    match = tuple(sorted(match, key=lambda pair: of10.FIELD_NAMES.index(pair[0])))
    return of10.RawMessage(of10.flow_mod_bytes(of10.pack_match(match), LOADBALANCER_COOKIE, of10.OFPFC_ADD,
                                               idle_timeout, 0, LB_PRIORITY, 0, of10.pack_actions(actions)))


def _ipv4_text(address):
    return of10.match.ipv4_to_text(int.from_bytes(address, 'big'))


def arp_frame(opcode, sender_mac, sender_ip, dst_mac, target_ip, vlan, target_mac=None):
    """An Ethernet ARP frame (tagged with `vlan` unless it is OFP_VLAN_NONE); target_mac defaults to dst_mac."""
    tag = b'' if vlan == of10.OFP_VLAN_NONE else _VLAN_TPID + vlan.to_bytes(2, 'big')
    return (dst_mac + sender_mac + tag + _ETH_ARP + _ARP_HEAD + bytes((0, opcode)) + sender_mac + sender_ip
            + (dst_mac if target_mac is None else target_mac) + target_ip)
