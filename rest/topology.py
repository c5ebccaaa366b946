"""Floodlight's topology URLs: links, directed and external links, switch clusters, routes, the port lists
(enabled, blocked, broadcast domain) and tunnel links; and ours: LLDP counts.

Where a port appears (route, port lists), Floodlight 0.9x wrote its number and 1.x an object; --floodlight-api
picks (rest.core.api_generation).
"""
import time

from controller.dpid import DpidError, format_dpid, parse_dpid
from controller.forwarding import lldp_counts
from controller.of10 import OFPP_LOCAL
from rest.core import API_0_9, api_generation
from rest.http import HttpError, Route


def links_json(topology):
    """One object per cable: "bidirectional" once LLDP crossed it both ways, else "unidirectional"."""
    return [{'src-switch': format_dpid(a), 'src-port': pa, 'dst-switch': format_dpid(b), 'dst-port': pb,
             'type': 'internal', 'direction': 'bidirectional' if both else 'unidirectional'}
            for a, pa, b, pb, both in topology.undirected_links()]


def directed_links_json(topology):
    return [{'src-switch': format_dpid(a), 'src-port': pa, 'dst-switch': format_dpid(b), 'dst-port': pb,
             'type': 'internal', 'direction': 'unidirectional'} for a, pa, b, pb in sorted(topology.links)]


def clusters_json(topology):
    return {format_dpid(root): [format_dpid(d) for d in members] for root, members in topology.clusters().items()}


def _port_json(port, generation):
    """0.9x: the port number; 1.x: Floodlight 1.x's OFPort object (LOCAL as -2 with its name, as Java's signed
    short showed it)."""
    if generation == API_0_9:
        return port
    if port == OFPP_LOCAL:
        return {'portNumber': -2, 'name': 'local', 'length': 4, 'shortPortNumber': -2}
    return {'portNumber': port, 'length': 4, 'shortPortNumber': port}


def _switch_ports_json(pairs, generation):
    return [{'switch': format_dpid(dpid), 'port': _port_json(port, generation)} for dpid, port in sorted(pairs)]


def route_json(topology, src, src_port, dst, dst_port, generation=None):
    """Floodlight's route: every (switch, port) the path enters and leaves by, src:src_port first.

    [] when there is no path (another cluster, or a switch that is not connected)."""
    path = topology.route(src, dst)
    if path is None:
        return []
    hops = []
    port_in = src_port
    for i, switch in enumerate(path):
        port_out = dst_port if i == len(path) - 1 else topology.adjacency[switch][path[i + 1]]
        hops.append({'switch': format_dpid(switch), 'port': _port_json(port_in, generation)})
        hops.append({'switch': format_dpid(switch), 'port': _port_json(port_out, generation)})
        if i < len(path) - 1:
            port_in = topology.adjacency[path[i + 1]][switch]
    return hops


def enabled_ports_json(topology, generation=None):
    """Every port that is up on a connected switch (LOCAL is not tracked, so not listed: docs/compatibility.md)."""
    return _switch_ports_json([(dpid, port) for dpid, ports in topology.ports.items() for port in ports], generation)


def blocked_ports_json(topology, now, generation=None):
    """Ports that neither flood nor are listened to: those still in their quarantine after the switch connected
    or the port came up (controller.topology)."""
    return _switch_ports_json([key for key, until in topology.quarantined.items() if until > now], generation)


def _dpid(text, what):
    try:
        return parse_dpid(text)
    except DpidError as error:
        raise HttpError(400, 'bad %s switch: %s' % (what, error)) from None


def _port(text, what):
    try:
        port = int(text, 0)
    except ValueError:
        port = -1
    if not 0 <= port <= 0xffff:
        raise HttpError(400, 'bad %s port %r: expected an OpenFlow port number 0-65535' % (what, text))
    return port


# Every handler reads the ForwardingApp's topology (apps/forwarding.py mounts ROUTES with it).

def links(app, request):
    return links_json(app.state.topology)


def directed_links(app, request):
    return directed_links_json(app.state.topology)


def external_links(app, request):
    return []  # no BDDP: every discovered link is internal


def no_links_or_ports(app, request):
    """Tunnel links and broadcast domain ports: none here (no tunnel ports are tracked, and without BDDP no
    link through a non-OpenFlow segment is found), as Floodlight answered on an OVS network."""
    return []


def enabled_ports(app, request):
    return enabled_ports_json(app.state.topology, api_generation())


def blocked_ports(app, request):
    return blocked_ports_json(app.state.topology, time.time(), api_generation())


def lldp(app, request):
    """Ours: LLDP frames taken for links, and those ignored by reason (controller/lldp.py's authenticator)."""
    return lldp_counts(app.state)


def clusters(app, request):
    return clusters_json(app.state.topology)


def route(app, request, src, src_port, dst, dst_port):
    return route_json(app.state.topology, _dpid(src, 'source'), _port(src_port, 'source'),
                      _dpid(dst, 'destination'), _port(dst_port, 'destination'), api_generation())


ROUTES = [
    Route(('GET',), '/wm/topology/links/json', links),
    Route(('GET',), '/wm/topology/directed-links/json', directed_links),
    Route(('GET',), '/wm/topology/external-links/json', external_links),
    Route(('GET',), '/wm/topology/tunnellinks/json', no_links_or_ports),
    Route(('GET',), '/wm/topology/broadcastdomainports/json', no_links_or_ports),
    Route(('GET',), '/wm/topology/enabledports/json', enabled_ports),
    Route(('GET',), '/wm/topology/blockedports/json', blocked_ports),
    Route(('GET',), '/wm/topology/switchclusters/json', clusters),
    Route(('GET',), '/wm/topology/lldp/json', lldp),
    Route(('GET',), '/wm/topology/route/{src}/{src_port}/{dst}/{dst_port}/json', route),
]
