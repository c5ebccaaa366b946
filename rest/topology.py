"""Floodlight's topology URLs (1.x shapes): links, directed links, switch clusters, routes."""
from ryu.app.wsgi import ControllerBase

from controller.dpid import DpidError, format_dpid, parse_dpid
from rest.http import HttpError, json_response, rest_errors

APP_KEY = 'forwarding_app'


def register_routes(wsgi, app):
    wsgi.registory[FloodlightTopologyController.__name__] = {APP_KEY: app}
    for name, path, action in (
            ('links', '/wm/topology/links/json', 'links'),
            ('directed_links', '/wm/topology/directed-links/json', 'directed_links'),
            ('external_links', '/wm/topology/external-links/json', 'external_links'),
            ('clusters', '/wm/topology/switchclusters/json', 'clusters'),
            ('route', '/wm/topology/route/{src}/{src_port}/{dst}/{dst_port}/json', 'route')):
        wsgi.mapper.connect('topology_' + name, path, controller=FloodlightTopologyController, action=action,
                            conditions={'method': ['GET']})


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


class FloodlightTopologyController(ControllerBase):
    def __init__(self, req, link, data, **config):
        super().__init__(req, link, data, **config)
        self.app = data[APP_KEY]

    @rest_errors
    def links(self, req):
        return json_response(links_json(self.app.state.topology))

    @rest_errors
    def directed_links(self, req):
        return json_response(directed_links_json(self.app.state.topology))

    @rest_errors
    def external_links(self, req):
        return json_response([])  # no BDDP: every discovered link is internal

    @rest_errors
    def clusters(self, req):
        return json_response(clusters_json(self.app.state.topology))

    @rest_errors
    def route(self, req, src, src_port, dst, dst_port):
        return json_response(route_json(self.app.state.topology, _dpid(src, 'source'), _port(src_port, 'source'),
                                        _dpid(dst, 'destination'), _port(dst_port, 'destination')))
