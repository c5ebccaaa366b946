"""Floodlight's virtual network filter URLs (/networkService/v1.1/..., v0.91 and v1.2 alike): networks and their
attachments <-> controller.virtualnetwork, as pure handlers (mounted by apps/virtualnetwork.py when
--virtual-network-filter loads the module).

Bodies are checked before anything changes: {"network": {"name": ..., "gateway": ..., "id": ...}} and
{"attachment": {"id": ..., "mac": ...}}; a body that is no JSON object, lacks its object, or holds a value of the
wrong type, a gateway that is no IPv4 address or a MAC that is none, is a 400 with a JSON reason (Floodlight logged
those and created a network without a gateway, or failed with a 500). Other keys inside the object are ignored, as
Floodlight ignored them (OpenStack's plugins send more). A network that does not exist is a 404 where Floodlight
answered {"status":"ok"} and did nothing. The tenant in the URL is not looked at, as in Floodlight: a network id is
unique across tenants. Every other path under /networkService/v1.1/ answers {"status":"ok"} and changes nothing
(Floodlight's NoOp, which answered the port calls of OpenStack's plugin).
"""
import ipaddress

from controller import virtualnetwork
from rest import floodlight
from rest.floodlight import FlowValidationError
from rest.http import HttpError, Route

OK = '{"status":"ok"}'
BASE = '/networkService/v1.1'
NETWORKS = BASE + '/tenants/{tenant}/networks'
NETWORK = NETWORKS + '/{network}'
ATTACHMENT = NETWORK + '/ports/{port}/attachment'


def _object(request, key):
    """The body's `key` object: {"<key>": {...}} and nothing else at the top."""
    document = floodlight.decode_body(request.body)
    unknown = [k for k in document if k != key]
    if unknown:
        raise FlowValidationError('unknown key %s (send {"%s": {...}})' % (unknown[0], key), unknown[0])
    inner = document.get(key)
    if not isinstance(inner, dict):
        raise FlowValidationError('send {"%s": {...}}: the %s is a JSON object' % (key, key), key)
    return inner


def _text(inner, key, required=False):
    value = inner.get(key)
    if value is None:
        if required:
            raise FlowValidationError('%s is needed' % key, key)
        return None
    if not isinstance(value, str):
        raise FlowValidationError('%s must be a string' % key, key)
    return value


def _gateway(value):
    """Floodlight took "", null and "null" as no gateway (the network keeps the one it has)."""
    if value is None or value.strip() in ('', 'null'):
        return None
    try:
        address = ipaddress.IPv4Address(value.strip())
    except ValueError:
        raise FlowValidationError('bad value for gateway: %r is not an IPv4 address' % value, 'gateway') from None
    return int(address) or None


def parse_network(request, network=None):
    """-> (guid, name, gateway as an int or None). The id in the body wins over the URL's, as in Floodlight."""
    inner = _object(request, 'network')
    name = _text(inner, 'name')
    gateway = _gateway(_text(inner, 'gateway'))
    guid = _text(inner, 'id') or network
    if not guid or guid == 'null':
        raise FlowValidationError('the network has no id: put it in the URL or in "id"', 'id')
    return guid, name, gateway


def parse_attachment(request):
    """-> the MAC (6 bytes) of {"attachment": {"id": ..., "mac": ...}}; the attachment id is only checked."""
    inner = _object(request, 'attachment')
    _text(inner, 'id')
    mac = _text(inner, 'mac', required=True)
    try:
        return bytes.fromhex(floodlight.to_mac(mac).replace(':', ''))
    except ValueError as error:
        raise FlowValidationError('bad value for mac: %s' % error, 'mac') from None


def _no_network(guid):
    return HttpError(404, 'no network with id %s' % guid)


# --- handlers: handler(app, request, **path) -> body; `app` is apps/virtualnetwork.VirtualNetworkApp ---------

def list_networks(app, request, tenant):
    """Every network (Floodlight's NetworkResource answered all of them, whatever the tenant)."""
    return [virtualnetwork.network_json(n) for n in app.vn.networks.values()]


def list_networks_at(app, request, tenant, network):
    """The same list: Floodlight's GET did not look at the network in the URL either."""
    return list_networks(app, request, tenant)


def create_network(app, request, tenant):
    """POST or PUT on the collection: the network's id is the body's "id"."""
    app.put_network(*parse_network(request))
    return OK


def put_network(app, request, tenant, network):
    app.put_network(*parse_network(request, network))
    return OK


def delete_network(app, request, tenant, network):
    if network not in app.vn.networks:
        raise _no_network(network)
    app.delete_network(network)
    return OK


def attach_host(app, request, tenant, network, port):
    mac = parse_attachment(request)
    if network not in app.vn.networks:
        raise _no_network(network)
    app.attach(network, port, mac)
    return OK


def detach_host(app, request, tenant, network, port):
    """Floodlight's deleteHost looked at the port only, in whichever network it is."""
    if not any(port in n.ports for n in app.vn.networks.values()):
        raise HttpError(404, 'nothing is attached at port %s' % port)
    app.detach(port)
    return OK


def no_op(app, request, rest):
    return OK


# The NoOp row takes what the rows above it do not: its path part may not be one of theirs (it would answer
# their other methods with 200 instead of 405).
_OTHER_PATHS = r'(?!tenants/[^/]+/networks(/[^/]+(/ports/[^/]+/attachment)?)?/?$).*'

ROUTES = [
    Route(('GET',), NETWORKS, list_networks),
    Route(('POST', 'PUT'), NETWORKS, create_network),
    Route(('GET',), NETWORK, list_networks_at),
    Route(('PUT', 'POST'), NETWORK, put_network),
    Route(('DELETE',), NETWORK, delete_network),
    Route(('PUT',), ATTACHMENT, attach_host),
    Route(('DELETE',), ATTACHMENT, detach_host),
    Route(('GET', 'PUT', 'POST', 'DELETE'), BASE + '/{rest}', no_op, {'rest': _OTHER_PATHS}),
]
