"""Floodlight's load balancer REST API (LoadBalancerWebRoutable, the same in 0.91 and 1.2): /quantum/v1.0/vips/,
pools/, members/, pools/<pool>/members and health_monitors/, read and changed in the ForwardingApp's
controller.loadbalancer.LoadBalancer (apps/forwarding.py mounts ROUTES with that app).

Bodies are parsed strictly, from one table per kind (KEYS): a key Floodlight did not know, or a value it would
have dropped, thrown on, or stored as nonsense, is a 400 with a JSON reason and changes nothing
(docs/compatibility.md lists each difference). Replies have the keys and value types of Floodlight's serializers
(LBVipSerializer, LBPoolSerializer, LBMemberSerializer): numbers as strings, addresses as Java's signed int.
"""
from controller.loadbalancer import PROTOCOLS, Conflict, Invalid, NotFound
from rest.floodlight import FlowValidationError, decode_body, to_int, to_ipv4
from rest.http import HttpError, Route

BASE = '/quantum/v1.0'
MAX_TEXT = 512


def _text(value):
    """Floodlight read every value as text: ids and names may be JSON strings or integers."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError('expected a string')
    text = str(value)
    if len(text) > MAX_TEXT:
        raise ValueError('at most %d characters' % MAX_TEXT)
    return text


def _address(value):
    return bytes(int(part) for part in to_ipv4(value).split('.'))


def _protocol(value):
    if not isinstance(value, str) or value.strip().lower() not in PROTOCOLS:
        raise ValueError('expected TCP, UDP or ICMP')
    return PROTOCOLS[value.strip().lower()]


def _number(high):
    return lambda value: to_int(value, 0, high)


_ID = ('id', _text)
_NAMES = (('name', _text), ('tenant_id', _text), ('network_id', _text))
# kind -> {JSON key: converter}; 'id' and the link to the parent ('pool_id', 'vip_id') are not attributes.
KEYS = {
    'vip': dict((_ID,) + _NAMES + (('protocol', _protocol), ('address', _address), ('port', _number(0xffff)),
                                   ('pool_id', _text))),
    'pool': dict((_ID,) + _NAMES + (('lb_method', _number(0xffff)), ('protocol', _protocol), ('vip_id', _text))),
    'member': dict((_ID, ('address', _address), ('port', _number(0xffff)), ('connection_limit', _number(0x7fffffff)),
                    ('admin_state', _number(0xffff)), ('status', _number(0xffff)), ('pool_id', _text))),
}
LINK_KEYS = ('id', 'pool_id', 'vip_id')


def parse(kind, body, url_id=None):
    """A POST/PUT body -> (id or None, {attribute: value}, {link key: id}); FlowValidationError (400) naming the
    first bad key. As in Floodlight, a key whose value is "" (or null, here) counts as absent."""
    document = decode_body(body)
    table = KEYS[kind]
    fields, links = {}, {}
    for key, raw in document.items():
        convert = table.get(key)
        if convert is None:
            raise FlowValidationError('unknown key %r for a %s; known keys: %s' % (key, kind, ', '.join(table)), key)
        if raw is None or raw == '':
            continue
        try:
            value = convert(raw)
        except ValueError as error:
            raise FlowValidationError('bad %s %r: %s' % (key, raw, error), key) from None
        (links if key in LINK_KEYS else fields)[key] = value
    body_id = links.pop('id', None)
    if url_id is not None and body_id is not None and body_id != url_id:
        raise FlowValidationError('the body\'s id %r is not the URL\'s %r' % (body_id, url_id), 'id')
    return url_id if url_id is not None else body_id, fields, links


# --- replies (Floodlight's serializers) --------------------------------------------------------------------

def java_int(address):
    """Floodlight printed IPv4 addresses as the Java int holding them: 10.0.0.10 -> "167772170"."""
    value = int.from_bytes(address, 'big')
    return str(value - (1 << 32) if value >= 1 << 31 else value)


def vip_json(vip):
    return {'name': vip.name, 'id': vip.id, 'address': java_int(vip.address), 'protocol': str(vip.protocol),
            'port': str(_short(vip.port))}


def pool_json(pool):
    """LBPoolSerializer wrote one "pool" key per member (a duplicate key, of which JSON parsers keep the last):
    here "pool" is that last member's id, and "members" lists them all."""
    body = {'name': pool.name, 'id': pool.id, 'vipId': pool.vip_id, 'members': list(pool.members)}
    if pool.members:
        body['pool'] = pool.members[-1]
    return body


def member_json(lb, member):
    return {'id': member.id, 'address': java_int(member.address), 'port': str(_short(member.port)),
            'poolId': member.pool_id, 'vipId': lb.member_vip_id(member)}


def _short(port):
    """Java's short: ports above 32767 printed negative, as Floodlight stored them."""
    return port - 0x10000 if port >= 0x8000 else port


# --- handlers ------------------------------------------------------------------------------------------

def _lb(app):
    return app.state.loadbalancer


def _errors(call, *args):
    try:
        return call(*args)
    except NotFound as error:
        raise HttpError(404, str(error)) from None
    except Conflict as error:
        raise HttpError(409, str(error)) from None
    except Invalid as error:
        raise HttpError(400, str(error)) from None


# kind -> (the LoadBalancer's table, its getter, put and delete methods, the reply of one, the parent link key)
KINDS = {
    'vip': ('vips', 'vip', 'put_vip', 'delete_vip', lambda lb, vip: vip_json(vip), 'pool_id'),
    'pool': ('pools', 'pool', 'put_pool', 'delete_pool', lambda lb, pool: pool_json(pool), 'vip_id'),
    'member': ('members', 'member', 'put_member', 'delete_member', member_json, 'pool_id'),
}


def _listing(kind):
    table, _get, _put, _delete, to_json, _link = KINDS[kind]

    def handler(app, request):
        lb = _lb(app)
        return [to_json(lb, obj) for obj in getattr(lb, table).values()]
    return handler


def _one(kind):
    """GET of one: a list of one object, as Floodlight's (a 404 where Floodlight answered [null])."""
    _table, get, _put, _delete, to_json, _link = KINDS[kind]

    def handler(app, request, **params):
        lb = _lb(app)
        return [to_json(lb, _errors(getattr(lb, get), params[kind]))]
    return handler


def _put(kind):
    """POST or PUT, on the collection (create; an existing body id is replaced) or on one (create or replace)."""
    _table, _get, put, _delete, to_json, link = KINDS[kind]

    def handler(app, request, **params):
        lb = _lb(app)
        obj_id, fields, links = parse(kind, request.body, params.get(kind))
        return to_json(lb, _errors(getattr(lb, put), obj_id, fields, links.get(link)))
    return handler


def _delete(kind):
    """DELETE of one: Floodlight's 0 (a 404 where Floodlight answered -1)."""
    _table, _get, _put, delete, _json, _link = KINDS[kind]

    def handler(app, request, **params):
        _errors(getattr(_lb(app), delete), params[kind])
        return 0
    return handler


def pool_members(app, request, pool):
    lb = _lb(app)
    return [member_json(lb, lb.members[member_id]) for member_id in _errors(lb.pool, pool).members]


def list_monitors(app, request):
    """Floodlight kept no health monitor (its create answered null): neither do we, and creating one is a 405."""
    return []


def get_monitor(app, request, monitor):
    raise HttpError(404, 'no health monitor %r: none are kept' % monitor)


def _routes(kind, plural):
    one = '%s/%s/{%s}' % (BASE, plural, kind)
    return [Route(('GET',), '%s/%s/' % (BASE, plural), _listing(kind)),
            Route(('POST', 'PUT'), '%s/%s/' % (BASE, plural), _put(kind)),
            Route(('GET',), one, _one(kind)),
            Route(('POST', 'PUT'), one, _put(kind)),
            Route(('DELETE',), one, _delete(kind))]


ROUTES = _routes('vip', 'vips') + _routes('pool', 'pools') + _routes('member', 'members') + [
    Route(('GET',), BASE + '/pools/{pool}/members', pool_members),
    Route(('GET',), BASE + '/health_monitors/', list_monitors),
    Route(('GET', 'DELETE'), BASE + '/health_monitors/{monitor}', get_monitor),
]
