"""Static flow pusher URLs, for the three Floodlight URL families: a route table (rest.http.Route rows, mounted by
apps/rest_routes.py) of pure handlers that decode, call the app, reply.

A push (POST .../json or .../json/store) has one path whichever way it comes: `push`, body bytes in, reply out.
rest.server calls it straight from the request's bytes (`raw_routes`: no WSGI environ, no routes, webob or
ControllerBase, which were a third of a push's cost, docs/performance.md); the routes below call the same
function for a request that reaches ryu's router (another WSGI server, or a test). The order "reply to the
client, then send the flow-mods" is the static flow app's: its push calls `reply` once the entry is committed
and sends the flow-mods right after, with no other green thread running in between (apps/staticflow.py).
"""
import functools
import logging

from controller import storefaults
from controller.dpid import format_dpid
from controller.pusher import EntryLimitError
from controller.storefaults import StoreFault
from rest import floodlight
from rest.http import (Encoded, HttpError, Reply, Route, exception_parts, json_bytes, streamed_object,
                       switch_param)

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

_pushed_data, _pushed_type = json_bytes(floodlight.ENTRY_PUSHED)
# The reply to every push: a tuple of headers, the same object each time (rest.server reuses its head).
PUSHED = ('200 OK', (('Content-Type', _pushed_type), ('Content-Length', str(len(_pushed_data)))), _pushed_data)


def push(app, dialect, body, respond):
    """The one static flow push: body bytes -> floodlight.decode_body -> floodlight.parse_entry ->
    app.push(entry, dialect, reply). `respond(status line, headers, body bytes)` is called once: by `reply`
    with "Entry pushed" when the app has committed the entry (the app sends its flow-mods right after), or
    with the JSON error of a refusal (400 for the entry's content, 409 for a conflict, 507 for a full disk or
    --max-entries, 503 for a store that cannot be written; a bug is a 500 and a logged traceback). A failure
    after the reply (sending the flow-mods) is logged: the entry is committed, and the client was told so."""
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
        respond(*exception_parts(store_refusal(error), 'POST push (%s)' % dialect.name))


# A fault of the disk -> the HTTP status of the refusal (rest.http.HttpError): 507 Insufficient Storage when the
# disk is full, 503 Service Unavailable while it cannot be written (read-only, I/O errors).
STORE_FAULT_STATUS = {storefaults.FULL: 507, storefaults.READ_ONLY: 503, storefaults.UNAVAILABLE: 503,
                      storefaults.NO_QUORUM: 503}


def store_refusal(error):
    """An app's exception -> the HttpError it is for the client when the store refused the change (a fault of
    the disk, --max-entries); any other exception as it is."""
    if isinstance(error, StoreFault):
        return HttpError(STORE_FAULT_STATUS[error.kind], error.reason)
    if isinstance(error, EntryLimitError):
        return HttpError(507, str(error))
    return error


def _store_call(method, *args):
    try:
        return method(*args)
    except (StoreFault, EntryLimitError) as error:
        raise store_refusal(error) from None


def raw_routes(app):
    """{path: handler(body, respond)}: the push URLs of every family, for rest.server to call without WSGI
    (rest.guard.RestGuard.raw_route, POST only)."""
    return {path: functools.partial(push, app, dialect) for path, dialect in PUSH_PATHS.items()}


def _encoded_push(app, dialect, body):
    replies = []
    push(app, dialect, body, lambda *parts: replies.append(parts))
    return Encoded(*replies[0])


def _delete(app, request):
    name = floodlight.parse_entry_name(floodlight.decode_body(request.body))
    _store_call(app.delete, name)
    return floodlight.entry_deleted_body(name)


def _public_status(status):
    if status is None:
        return None
    return {key: value for key, value in status.items() if key != 'dpid'}


def entry_status(app, request, switch):
    """Ours, not Floodlight's: where each entry stands on its switch (see controller/entrystatus.py)."""
    return {format_dpid(d): {name: _public_status(status) for name, status in entries.items()}
            for d, entries in app.entry_status(switch_param(switch)).items()}


def family_routes(family, dialect):
    """The rows of one URL family (/wm/<family>/...), whose replies and defaults follow `dialect`."""
    def entry(app, request):
        if request.method == 'POST':
            return _encoded_push(app, dialect, request.body)
        return _delete(app, request)

    def store(app, request):
        return _encoded_push(app, dialect, request.body)

    def list_entries(app, request, switch):
        """Every active entry of one switch or all, made and sent 100 at a time (rest.http.Streamed:
        a listing of 200,000 entries holds up no switch session). Each batch is read from the table when it is
        made: an entry deleted meanwhile is left out, one pushed meanwhile may or may not be in."""
        table = app.table

        def build(names_by_dpid):
            entries = {d: table.active_entries(names) for d, names in names_by_dpid.items()}
            if dialect is floodlight.DIALECT_V0:
                return floodlight.v0_list(entries)
            return floodlight.v1_list(entries, dialect)
        return streamed_object(table.listed_names(switch_param(switch)), build)

    def clear_entries(app, request, switch):
        dpid = switch_param(switch)
        _store_call(app.clear, dpid)
        if dialect is floodlight.DIALECT_V0:
            return Reply(204, None)
        return floodlight.clear_body(None if dpid is None else switch)

    def not_allowed(app, request):
        raise HttpError(405, 'use POST to push an entry or DELETE to remove one', {'Allow': 'POST, DELETE'})

    base = '/wm/' + family
    return [
        Route(('POST', 'DELETE'), base + '/json', entry),
        Route(('GET', 'PUT', 'PATCH', 'HEAD', 'OPTIONS'), base + '/json', not_allowed),
        Route(('POST',), base + '/json/store', store),
        Route(('POST',), base + '/json/delete', _delete),
        Route(('GET',), base + '/list/{switch}/json', list_entries),
        Route(('GET',), base + '/clear/{switch}/json', clear_entries),
        Route(('GET',), base + '/status/{switch}/json', entry_status),
    ]


ROUTES = [route for family, dialect in URL_FAMILIES.items() for route in family_routes(family, dialect)]
