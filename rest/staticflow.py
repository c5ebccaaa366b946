"""Static flow pusher URLs, for the three Floodlight URL families. Handlers decode, call the app, reply.

A push (POST .../json or .../json/store) has one path whichever way it comes: `push`, body bytes in, reply out.
rest.server calls it straight from the request's bytes (`raw_routes`: no WSGI environ, no routes, webob or
ControllerBase, which were a third of a push's cost, docs/performance.md); the routes below call the same
function for a request that reaches ryu's router (another WSGI server, or a test). The order "reply to the
client, then send the flow-mods" is the static flow app's: its push calls `reply` once the entry is committed
and sends the flow-mods right after, with no other green thread running in between (apps/staticflow.py).
"""
import functools
import logging

from ryu.app.wsgi import ControllerBase

from controller.dpid import format_dpid
from rest import floodlight
from rest.http import (HttpError, exception_parts, json_bytes, json_response, no_content, parts_response,
                       rest_errors, switch_param)

LOG = logging.getLogger(__name__)

# URL family (the path segment after /wm/) -> the dialect of its replies and defaults.
URL_FAMILIES = {
    'staticflowentrypusher': floodlight.DIALECT_V0,  # Floodlight 0.90, 0.91
    'staticflowpusher': floodlight.DIALECT_V1,       # Floodlight 1.0 - 1.2
    'staticentrypusher': floodlight.DIALECT_V1,      # Floodlight master
}
# Where a POST pushes an entry -> the dialect of its keys and replies.
PUSH_PATHS = {'/wm/' + family + suffix: dialect
              for family, dialect in URL_FAMILIES.items() for suffix in ('/json', '/json/store')}
APP_KEY = 'static_flow_app'

_pushed_data, _pushed_type = json_bytes(floodlight.ENTRY_PUSHED)
# The reply to every push: a tuple of headers, the same object each time (rest.server reuses its head).
PUSHED = ('200 OK', (('Content-Type', _pushed_type), ('Content-Length', str(len(_pushed_data)))), _pushed_data)


def push(app, dialect, body, respond):
    """The one static flow push: body bytes -> floodlight.decode_body -> floodlight.parse_entry ->
    app.push(entry, dialect, reply). `respond(status line, headers, body bytes)` is called once: by `reply`
    with "Entry pushed" when the app has committed the entry (the app sends its flow-mods right after), or
    with the JSON error of a refusal (400 for the entry's content, 409 for a conflict; a bug is a 500 and a
    logged traceback). A failure after the reply (sending the flow-mods) is logged: the entry is committed,
    and the client was told so."""
    replied = []

    def reply():
        replied.append(True)
        respond(*PUSHED)
    try:
        app.push(floodlight.parse_entry(floodlight.decode_body(body), dialect), dialect, reply)
    except Exception as error:
        if replied:
            LOG.exception('static flow push (%s): committed and answered, then failed', dialect.name)
            return
        respond(*exception_parts(error, 'POST push (%s)' % dialect.name))


def raw_routes(wsgi):
    """{path: handler(body, respond)}: the push URLs of every family, for rest.server to call without WSGI
    (rest.guard.RestGuard.raw_route, POST only); {} when no static flow app registered its routes on `wsgi`."""
    app = getattr(wsgi, 'registory', {}).get(StaticFlowController.__name__, {}).get(APP_KEY)
    if app is None:
        return {}
    return {path: functools.partial(push, app, dialect) for path, dialect in PUSH_PATHS.items()}


def register_routes(wsgi, app):
    """Connect every static flow URL of every family to StaticFlowController."""
    wsgi.registory[StaticFlowController.__name__] = {APP_KEY: app}
    for family in URL_FAMILIES:
        base = '/wm/' + family
        routes = [
            ('json', '/json', None, 'entry'),
            ('store', '/json/store', ['POST'], 'store'),
            ('delete', '/json/delete', ['POST'], 'delete_alias'),
            ('list', '/list/{switch}/json', ['GET'], 'list_entries'),
            ('clear', '/clear/{switch}/json', ['GET'], 'clear_entries'),
            # Ours, not Floodlight's: where each entry stands on its switch (see controller/entrystatus.py).
            ('status', '/status/{switch}/json', ['GET'], 'entry_status'),
        ]
        for name, suffix, methods, action in routes:
            conditions = {'method': methods} if methods else {}
            wsgi.mapper.connect('%s_%s' % (family, name), base + suffix, controller=StaticFlowController,
                                action=action, family=family, conditions=conditions)


class StaticFlowController(ControllerBase):
    def __init__(self, req, link, data, **config):
        super().__init__(req, link, data, **config)
        self.app = data[APP_KEY]

    @rest_errors
    def entry(self, req, family):
        dialect = URL_FAMILIES[family]
        if req.method == 'POST':
            return self._push(req, dialect)
        if req.method == 'DELETE':
            return self._delete(req)
        raise HttpError(405, 'use POST to push an entry or DELETE to remove one', {'Allow': 'POST, DELETE'})

    @rest_errors
    def store(self, req, family):
        return self._push(req, URL_FAMILIES[family])

    @rest_errors
    def delete_alias(self, req, family):
        return self._delete(req)

    def _push(self, req, dialect):
        replies = []
        push(self.app, dialect, req.body, lambda *parts: replies.append(parts))
        return parts_response(replies[0])

    def _delete(self, req):
        name = floodlight.parse_entry_name(floodlight.decode_body(req.body))
        self.app.delete(name)
        return json_response(floodlight.entry_deleted_body(name))

    @rest_errors
    def list_entries(self, req, family, switch):
        dpid = switch_param(switch)
        dialect = URL_FAMILIES[family]
        if dialect is floodlight.DIALECT_V0:
            return json_response(floodlight.v0_list(self.app.list(dpid)))
        return json_response(floodlight.v1_list(self.app.list(dpid), dialect))

    @rest_errors
    def clear_entries(self, req, family, switch):
        dpid = switch_param(switch)
        self.app.clear(dpid)
        if URL_FAMILIES[family] is floodlight.DIALECT_V0:
            return no_content()
        return json_response(floodlight.clear_body(None if dpid is None else switch))

    @rest_errors
    def entry_status(self, req, family, switch):
        dpid = switch_param(switch)
        return json_response({format_dpid(d): {name: _public_status(status) for name, status in entries.items()}
                              for d, entries in self.app.entry_status(dpid).items()})


def _public_status(status):
    if status is None:
        return None
    return {key: value for key, value in status.items() if key != 'dpid'}
