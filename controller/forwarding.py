"""Reactive forwarding, link discovery and host learning: every decision, as pure functions of `now`.

Each function takes the ForwardingState and returns what to send, a list of (dpid, message). The Ryu glue
(apps/forwarding.py) finds the switch, calls one of them and sends the result.

The packet-in path (`handle_packet_in`) reads only the header bytes it needs (Ethernet, one VLAN tag, the ARP
sender or IPv4 source address), logs nothing, and builds its messages from packed templates (controller.of10):

* LLDP: a link (sender switch:port -> this switch:in_port) when the frame's authenticator is valid (see
  controller/lldp.py; frames without one are counted in `lldp_rejected`, never taken); an LLDP goes back out of
  in_port when the other direction is not known yet, so both directions appear within one round trip.
* a fail-open bridge's fake RARP: ignored.
* the source is learned (MAC, VLAN, ARP sender / IPv4 source, attachment point) when in_port does not face
  another switch; a port still in quarantine teaches its hosts but nothing from it is forwarded;
* with forwarding on: a broadcast, multicast or unknown destination is flooded over the broadcast tree (edge
  ports and tree ports, never back out of in_port; dropped if it came in on a switch-facing port outside the
  tree); a known destination gets one flow per switch of the shortest path, installed from the last switch
  back to the first, then the packet itself goes out of the first switch's output port (or, when the switch
  buffered it, the first switch's flow-mod names the buffer and releases it: one message, no frame sent back).
  Before that, the virtual network filter (state.network_filter) and then the firewall (state.packet_filter), when
  set, may answer instead; state.flood_scope narrows a flood's ports to the sender's virtual network.
"""
from controller import loadbalancer, of10
from controller.devices import (ADDRESS_MASK, DEFAULT_MAX_HOSTS, DEFAULT_MAX_HOSTS_PER_PORT, ENTITY_CLEANUP_INTERVAL,
                                VLAN_NONE, DeviceTable)
from controller.dpid import format_dpid
from controller.failmode import is_fail_open_packet_in
from controller.lldp import (ETH_TYPE_BDDP, ETH_TYPE_LLDP, LOOPED, REJECT_REASONS, check_lldp, lldp_frame,
                             parse_lldp)
from controller.of10 import NO_BUFFER, OFPP_LOCAL, OFPP_NONE
from controller.topology import Topology

# Floodlight 1.x Forwarding (routing/ForwardingBase.java): FLOWMOD_DEFAULT_PRIORITY = 1, idle timeout 5 s.
DEFAULT_PRIORITY = 1
DEFAULT_IDLE_TIMEOUT = 5
# Floodlight's LinkDiscoveryManager: LLDP every 15 s, a link not seen for 35 s is gone.
DEFAULT_LLDP_INTERVAL = 15.0
DEFAULT_LINK_TIMEOUT = 35.0
DEFAULT_QUARANTINE = 2.0
LLDP_CLOCK_SKEW = 5.0       # seconds an LLDP's time may be ahead of ours (instances sharing the secret)
LLDP_WARNING_INTERVAL = 60.0

_NOTHING = ()


class ForwardingState:
    def __init__(self, forwarding=True, link_discovery=True, idle_timeout=DEFAULT_IDLE_TIMEOUT,
                 priority=DEFAULT_PRIORITY, lldp_interval=DEFAULT_LLDP_INTERVAL, link_timeout=DEFAULT_LINK_TIMEOUT,
                 quarantine=DEFAULT_QUARANTINE, lldp_secret=None, max_hosts=DEFAULT_MAX_HOSTS,
                 max_hosts_per_port=DEFAULT_MAX_HOSTS_PER_PORT):
        self.forwarding = forwarding
        self.link_discovery = link_discovery
        self.idle_timeout = idle_timeout
        self.priority = priority
        self.lldp_interval = lldp_interval
        self.link_timeout = link_timeout
        self.topology = Topology(quarantine if link_discovery else 0)
        self.devices = DeviceTable(max_hosts, max_hosts_per_port)
        self.foreign_hosts = {}  # (dpid, MAC) -> port: hosts beyond another controller's switch (_learn_foreign)
        self.loadbalancer = loadbalancer.LoadBalancer()  # VIPs, pools, members (rest/loadbalancer.py)
        # LLDP is signed and checked with this key; None (unit tests of other things) takes unsigned frames.
        self.lldp_secret = lldp_secret
        self.lldp_accepted = 0
        self.lldp_rejected = dict.fromkeys(REJECT_REASONS, 0)
        self.lldp_unwarned = 0       # rejected since the last warning line
        self.lldp_last_rejected = None  # (claimed dpid, port, arrived dpid, port, reason) of the latest
        self.next_lldp_warning = 0.0
        # Forwarding flows believed present: dpid -> {in_port << 16 | vlan: {dst + src: out_port}} (a flat
        # {(in_port, vlan, src, dst): out_port} costs twice the memory: docs/performance.md, "Host table memory").
        self.installed = {}
        # The firewall's filter_packet while it is enabled (controller/firewall.py), else None.
        self.packet_filter = None
        # The virtual network filter's filter_packet and flood_scope (controller/virtualnetwork.py) when it is
        # loaded (--virtual-network-filter), else None. The network filter is asked before the firewall.
        self.network_filter = None
        self.flood_scope = None
        # The performance monitor while it measures (controller/perfmon.py, /wm/performance), else None: the glue
        # checks it once per packet-in.
        self.perfmon = None
        self.next_lldp = 0.0     # when the next LLDP round is due
        self.next_device_cleanup = None  # when devices not seen for an hour are next forgotten
        self.started = None

    def flow_count(self):
        return sum(len(group) for flows in self.installed.values() for group in flows.values())


# --- the packet-in hot path -------------------------------------------------------------------------------

def handle_packet_in(state, dpid, in_port, data, now, buffer_id=NO_BUFFER):
    """One PACKET_IN -> [(dpid, msg)]. data is the whole frame (OVS buffers nothing), or its head when the
    switch kept the packet in buffer_id (cbench and many hardware switches): then the answer names the buffer."""
    if len(data) < 14:
        return _NOTHING
    eth_type = data[12] << 8 | data[13]
    l3 = 14
    vlan = VLAN_NONE
    if eth_type == 0x8100:
        if len(data) < 18:
            return _NOTHING
        vlan = (data[14] << 8 | data[15]) & 0xfff
        eth_type = data[16] << 8 | data[17]
        l3 = 18
    if eth_type == ETH_TYPE_LLDP:
        return _lldp_in(state, dpid, in_port, data, l3, now)
    if eth_type == ETH_TYPE_BDDP:
        return _NOTHING
    topology = state.topology
    if in_port == OFPP_LOCAL and is_fail_open_packet_in(in_port, data):
        return _NOTHING
    # A port in quarantine may face a switch whose link is not known yet: what arrives there is never flooded.
    # Its source is still learned (forgotten again if the port turns out to face a switch), so that the first
    # answer to it is unicast: cbench's one ARP per switch at connect arrives in the quarantine.
    quarantined = topology.quarantined and topology.is_quarantined(dpid, in_port, now)
    link_ports = topology.link_ports.get(dpid)
    src = data[6:12]
    moved_out = None
    if topology.foreign and (dpid, in_port) in topology.foreign and not (link_ports and in_port in link_ports):
        # beyond this port another controller's switch: its hosts are placed by that controller; here only which
        # port of this switch leads to them (hop by hop across --workers workers)
        if not data[6] & 1:
            _learn_foreign(state, dpid, src, in_port)
    elif not data[6] & 1 and not (link_ports and in_port in link_ports):
        if eth_type == 0x0806:
            at = l3 + 14   # the ARP sender's address
        elif eth_type == 0x0800:
            at = l3 + 12   # the IPv4 source address
        else:
            at = 0
        address = int.from_bytes(data[at:at + 4]) if at and len(data) >= at + 4 else 0  # big-endian
        devices = state.devices
        where = devices.by_mac.get(src)
        if where is not None and where.port == in_port and where.dpid == dpid and where.vlan == vlan \
                and devices.clock_from <= now < devices.clock_until:
            # DeviceTable.learn's first branch, inlined (a method call is a tenth of this path): seen again
            hosts = where.hosts
            stamp = hosts[src] & ADDRESS_MASK
            hosts[src] = devices.clock_bits | stamp
            if address and stamp != address:
                devices.add_ipv4(src, hosts, address)
        elif devices.learn(src, vlan, dpid, in_port, now, address):
            moved_out = _forget_flows_of(state, src)
    if quarantined:
        return moved_out or _NOTHING
    if state.loadbalancer.vip_by_address:  # a VIP's packets are the load balancer's, even without forwarding
        balanced = loadbalancer.handle_packet_in(state, dpid, in_port, vlan, eth_type, l3, data, now, buffer_id)
        if balanced is not None:
            return (moved_out or []) + list(balanced)
    if not state.forwarding:
        return moved_out or _NOTHING
    if state.network_filter is not None:
        out = state.network_filter(state, dpid, in_port, vlan, eth_type, l3, data, now, buffer_id)
        if out is not None:
            return moved_out + list(out) if moved_out else out
    if state.packet_filter is not None:
        out = state.packet_filter(state, dpid, in_port, vlan, eth_type, l3, data, now, buffer_id)
        if out is not None:
            return moved_out + list(out) if moved_out else out
    if moved_out:
        return moved_out + list(_forward(state, topology, dpid, in_port, vlan, src, data, now, buffer_id))
    return _forward(state, topology, dpid, in_port, vlan, src, data, now, buffer_id)


def _forward(state, topology, dpid, in_port, vlan, src, data, now, buffer_id):
    if data[0] & 1:
        return _flood(state, dpid, in_port, data, now, buffer_id)
    where = state.devices.by_mac.get(data[0:6])  # the destination's Attachment
    path = None
    if where is not None:
        dst_dpid, dst_port = where.dpid, where.port
        if dst_dpid == dpid:
            if dst_port == in_port:
                return _NOTHING  # both ends on one port: the switch itself delivers it, nothing to do
            path = (dpid,)
        else:
            path = topology.route(dpid, dst_dpid)
    if path is None:
        if not state.foreign_hosts:
            return _flood(state, dpid, in_port, data, now, buffer_id)
        # a host beyond another controller's switch: this switch's hop only, toward the port it was seen on
        dst_port = state.foreign_hosts.get((dpid, data[0:6]))
        if dst_port is None:
            return _flood(state, dpid, in_port, data, now, buffer_id)
        if dst_port == in_port:
            return _NOTHING
        path = (dpid,)
    return _install_path(state, path, in_port, vlan, src, data[0:6], dst_port, data, buffer_id)


def _learn_foreign(state, dpid, mac, port):
    """Which port of switch dpid leads to `mac`, a host beyond another controller's switch (bounded as the host
    table: the oldest is forgotten first)."""
    hosts = state.foreign_hosts
    key = (dpid, bytes(mac))
    if hosts.get(key) != port:
        hosts.pop(key, None)
        hosts[key] = port
        if len(hosts) > state.devices.max_hosts:
            del hosts[next(iter(hosts))]


def forward_once(state, dpid, in_port, data, now, buffer_id=NO_BUFFER):
    """The packet alone toward its destination, no flow installed (a filter lets it through, but not the
    packets after it: they are asked about again). An unknown or unreachable destination: flooded."""
    where = state.devices.by_mac.get(data[0:6])
    if where is None:
        return _flood(state, dpid, in_port, data, now, buffer_id)
    out_port = where.port
    if where.dpid != dpid:
        path = state.topology.route(dpid, where.dpid)
        if path is None:
            return _flood(state, dpid, in_port, data, now, buffer_id)
        out_port = state.topology.adjacency[dpid][path[1]]
    if out_port == in_port:
        return _NOTHING
    return ((dpid, of10.packet_out(in_port, of10.output_actions((out_port,)), data, buffer_id)),)


def _install_path(state, path, in_port, vlan, src, dst, dst_port, data, buffer_id=NO_BUFFER):
    adjacency = state.topology.adjacency
    installed = state.installed
    idle, priority = state.idle_timeout, state.priority
    out = []
    dst_src = dst + src  # one bytes object per tracked flow
    hop_in = in_port
    hops = []
    for i, switch in enumerate(path):
        hop_out = dst_port if i == len(path) - 1 else adjacency[switch][path[i + 1]]
        hops.append((switch, hop_in, hop_out))
        if i < len(path) - 1:
            hop_in = adjacency[path[i + 1]][switch]
    last = len(hops) - 1
    for i in range(last, -1, -1):
        switch, hop_in, hop_out = hops[i]
        if i:
            out.append((switch, of10.forwarding_flow_add(hop_in, vlan, src, dst, hop_out, idle, priority)))
        elif buffer_id != NO_BUFFER:  # the first switch holds the packet: its flow-mod releases it
            out.append((switch, of10.forwarding_flow_add(hop_in, vlan, src, dst, hop_out, idle, priority,
                                                         buffer_id=buffer_id)))
        else:  # the first switch's flow-mod and the packet itself leave in one write, flow-mod first
            out.append((switch, of10.forwarding_flow_add_and_packet_out(hop_in, vlan, src, dst, hop_out, idle,
                                                                        priority, data)))
        flows = installed.get(switch)
        if flows is None:
            flows = installed[switch] = {}
        port_vlan = hop_in << 16 | vlan
        group = flows.get(port_vlan)
        if group is None:
            group = flows[port_vlan] = {}
        group[dst_src] = hop_out
    return out


def _forget_flows_of(state, mac):
    """A host moved: delete the forwarding flows to or from it (they lead to its old attachment point)."""
    return _forget_flows(state, lambda port_vlan, dst_src, out_port: dst_src.startswith(mac) or
                         dst_src.endswith(mac))


def _tracked(flows):
    """(in_port, vlan, src, dst) of each of one switch's tracked flows."""
    return ((key >> 16, key & 0xffff, dst_src[6:], dst_src[:6]) for key, group in flows.items() for dst_src in group)


def _forget_flows(state, predicate, dpid=None):
    """Delete the forwarding flows (of one switch, or all) for which predicate(in_port << 16 | vlan, dst + src,
    out_port) is true; -> their flow-mods (DELETE_STRICT)."""
    out = []
    installed = state.installed
    for switch in list(installed) if dpid is None else [dpid] if dpid in installed else []:
        flows = installed[switch]
        for key, group in list(flows.items()):
            for dst_src in [d for d, out_port in group.items() if predicate(key, d, out_port)]:
                del group[dst_src]
                out.append((switch, of10.forwarding_flow_delete(key >> 16, key & 0xffff, dst_src[6:], dst_src[:6],
                                                                state.priority)))
            if not group:
                del flows[key]
        if not flows:
            del installed[switch]
    return out


def _flood(state, dpid, in_port, data, now, buffer_id=NO_BUFFER):
    ports = state.topology.flood_ports(dpid, in_port, now)
    if ports and state.flood_scope is not None:
        ports = state.flood_scope(state, dpid, data, ports)
    if not ports:
        return _NOTHING
    return ((dpid, of10.packet_out(in_port, of10.output_actions(ports), data, buffer_id)),)


# --- link discovery ---------------------------------------------------------------------------------------

def _lldp_in(state, dpid, in_port, data, l3, now):
    if not state.link_discovery:
        return _NOTHING
    if state.lldp_secret is None:
        announced, reason = parse_lldp(data, l3), None
    else:
        announced, reason = check_lldp(data, l3, state.lldp_secret, now, state.link_timeout, LLDP_CLOCK_SKEW)
    if announced is not None and announced == (dpid, in_port):
        # our own frame back in the port it left (a host reflecting it): taken, it would make a host port a link port
        announced, reason = None, LOOPED
    if announced is None:
        if reason is not None:
            _lldp_rejected(state, reason, parse_lldp(data, l3), dpid, in_port)
        return _NOTHING
    state.lldp_accepted += 1
    src_dpid, src_port = announced
    topology = state.topology
    changed, reverse_known = topology.link_seen(src_dpid, src_port, dpid, in_port, now)
    out = []
    if changed:
        out.extend(_topology_changed(state))
    if not reverse_known:
        out.extend(_lldp_out(state, dpid, in_port, now))
    return out


def _lldp_rejected(state, reason, claimed, dpid, in_port):
    state.lldp_rejected[reason] += 1
    state.lldp_unwarned += 1
    state.lldp_last_rejected = (claimed or (None, None)) + (dpid, in_port, reason)


def _lldp_out(state, dpid, port_no, now):
    mac = state.topology.ports.get(dpid, {}).get(port_no)
    if mac is None:
        return []
    frame = lldp_frame(dpid, port_no, mac, state.lldp_secret, now)
    return [(dpid, of10.packet_out_port(OFPP_NONE, port_no, frame))]


def lldp_counts(state):
    """What LLDP did: frames taken for links, and frames ignored by reason (see controller/lldp.py)."""
    return {'signed': state.lldp_secret is not None, 'accepted': state.lldp_accepted,
            'rejected': dict(state.lldp_rejected), 'rejected-total': sum(state.lldp_rejected.values())}


def _topology_changed(state):
    """Links came or went: forget hosts now seen behind switch-facing ports, and delete every forwarding flow
    so that traffic takes the new shortest paths (each flow-mod is a DELETE_STRICT of a flow we installed)."""
    link_ports = state.topology.link_ports
    state.devices.forget_attached(lambda dpid, port: port in link_ports.get(dpid, ()))
    return forget_all_flows(state)


def forget_all_flows(state):
    """Delete every forwarding flow -> [(dpid, msg)] (a topology change; the firewall enabled or its rules
    changed)."""
    out = [(dpid, of10.forwarding_flow_delete(in_port, vlan, src, dst, state.priority))
           for dpid, flows in state.installed.items() for in_port, vlan, src, dst in _tracked(flows)]
    state.installed = {}
    return out


def switch_connected(state, dpid, ports, now):
    """A switch is ready; ports: {port_no: mac (6 bytes)}. -> LLDP out of each of its ports."""
    removed = state.topology.switch_up(dpid, ports, now)
    out = _topology_changed(state) if removed else []
    if state.link_discovery:
        for port_no in sorted(state.topology.ports.get(dpid, ())):
            out.extend(_lldp_out(state, dpid, port_no, now))
    return out


def switch_disconnected(state, dpid, now):
    removed = state.topology.switch_down(dpid)
    if state.foreign_hosts:
        for key in [key for key in state.foreign_hosts if key[0] == dpid]:
            del state.foreign_hosts[key]
    return _topology_changed(state) if removed else []


def port_changed(state, dpid, port_no, mac, up, now):
    """PORT_STATUS (added, modified or deleted): up means present, not admin down and link up."""
    topology = state.topology
    if up:
        if topology.port_up(dpid, port_no, mac, now) and state.link_discovery:
            return _lldp_out(state, dpid, port_no, now)
        return []
    if port_no not in topology.ports.get(dpid, ()):
        return []
    if topology.port_down(dpid, port_no):
        return _topology_changed(state)
    # a host port went down: the flows that lead there are dead ends
    return _forget_flows(state, lambda port_vlan, dst_src, out_port: port_no in (port_vlan >> 16, out_port), dpid)


def flow_removed(state, dpid, in_port, vlan, src, dst):
    """A forwarding flow expired (FLOW_REMOVED with the forwarding cookie)."""
    flows = state.installed.get(dpid)
    group = flows and flows.get(in_port << 16 | vlan)
    if group:
        group.pop(dst + src, None)
        if not group:
            del flows[in_port << 16 | vlan]


def tick(state, now):
    """Periodic work (call about once a second): expire links and devices, delete the flows of evicted hosts,
    send the LLDP round when due."""
    out = []
    evicted = state.devices.evicted
    if evicted:
        out.extend(_forget_flows(state, lambda port_vlan, dst_src, out_port: dst_src[:6] in evicted or
                                 dst_src[6:] in evicted))
        evicted.clear()
    if state.next_device_cleanup is None:
        state.next_device_cleanup = now + ENTITY_CLEANUP_INTERVAL
    elif now >= state.next_device_cleanup:
        state.next_device_cleanup = now + ENTITY_CLEANUP_INTERVAL
        state.devices.expire(now)
    if not state.link_discovery:
        return out
    if state.topology.expire(now, state.link_timeout):
        out.extend(_topology_changed(state))
    if now >= state.next_lldp:
        state.next_lldp = now + state.lldp_interval
        topology = state.topology
        for dpid, port_no, _mac in sorted(topology.lldp_ports()):
            out.extend(_lldp_out(state, dpid, port_no, now))
    return out


def warnings(state, now):
    """Lines to log now: hosts evicted past --max-hosts-per-port (one line per port) or --max-hosts, and LLDP
    frames ignored; each at most once per minute, with the count since its previous line."""
    lines = []
    devices = state.devices
    for dpid, port, count in devices.eviction_warnings(now):
        if dpid is None:
            lines.append('more than %d hosts (--max-hosts): %d least recently seen forgotten' % (
                devices.max_hosts, count))
        else:
            lines.append('switch %s port %d has more than %d hosts (--max-hosts-per-port), a MAC flood?: %d least '
                         'recently seen forgotten' % (format_dpid(dpid), port, devices.max_per_port, count))
    if state.lldp_unwarned and now >= state.next_lldp_warning:
        claimed_dpid, claimed_port, dpid, port, reason = state.lldp_last_rejected
        claimed = 'unreadable' if claimed_dpid is None else '%s port %d' % (format_dpid(claimed_dpid), claimed_port)
        lines.append('ignored %d LLDP frame(s) that prove no link (latest: %s, claiming %s, arrived on %s port %d): '
                     'a host may be forging links, or LLDP of another controller (another --lldp-secret-file, '
                     'ryu.topology) reached this network' % (
                         state.lldp_unwarned, reason, claimed, format_dpid(dpid), port))
        state.lldp_unwarned = 0
        state.next_lldp_warning = now + LLDP_WARNING_INTERVAL
    return lines
