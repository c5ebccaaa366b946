"""Floodlight's topology URLs (1.x shapes): links, directed links, switch clusters, routes; and ours: LLDP counts."""
from controller.dpid import DpidError, format_dpid, parse_dpid
from controller.forwarding import lldp_counts
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


def _port_json(port):
    return {'portNumber': port, 'length': 4, 'shortPortNumber': port}


def route_json(topology, src, src_port, dst, dst_port):
    """Floodlight's route: every (switch, port) the path enters and leaves by, src:src_port first.

    [] when there is no path (another cluster, or a switch that is not connected)."""
    path = topology.route(src, dst)
    if path is None:
        return []
    hops = []
    port_in = src_port
    for i, switch in enumerate(path):
        port_out = dst_port if i == len(path) - 1 else topology.adjacency[switch][path[i + 1]]
        hops.append({'switch': format_dpid(switch), 'port': _port_json(port_in)})
        hops.append({'switch': format_dpid(switch), 'port': _port_json(port_out)})
        if i < len(path) - 1:
            port_in = topology.adjacency[path[i + 1]][switch]
    return hops


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


def lldp(app, request):
    """Ours: LLDP frames taken for links, and those ignored by reason (controller/lldp.py's authenticator)."""
    return lldp_counts(app.state)


def clusters(app, request):
    return clusters_json(app.state.topology)


def route(app, request, src, src_port, dst, dst_port):
    return route_json(app.state.topology, _dpid(src, 'source'), _port(src_port, 'source'),
                      _dpid(dst, 'destination'), _port(dst_port, 'destination'))


ROUTES = [
    Route(('GET',), '/wm/topology/links/json', links),
    Route(('GET',), '/wm/topology/directed-links/json', directed_links),
    Route(('GET',), '/wm/topology/external-links/json', external_links),
    Route(('GET',), '/wm/topology/switchclusters/json', clusters),
    Route(('GET',), '/wm/topology/lldp/json', lldp),
    Route(('GET',), '/wm/topology/route/{src}/{src_port}/{dst}/{dst_port}/json', route),
]
