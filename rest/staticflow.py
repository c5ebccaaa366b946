"""Static flow pusher URLs, for the three Floodlight URL families. Handlers decode, call the app, reply."""
import logging

from ryu.app.wsgi import ControllerBase
from webob.util import status_reasons

from controller.dpid import format_dpid
from rest import floodlight
from rest.http import (INTERNAL_ERROR, HttpError, error_reply, json_bytes, json_response, no_content, rest_errors,
                       switch_param)

LOG = logging.getLogger(__name__)

# URL family (the path segment after /wm/) -> the dialect of its replies and defaults.
URL_FAMILIES = {
    'staticflowentrypusher': floodlight.DIALECT_V0,  # Floodlight 0.90, 0.91
    'staticflowpusher': floodlight.DIALECT_V1,       # Floodlight 1.0 - 1.2
    'staticentrypusher': floodlight.DIALECT_V1,      # Floodlight master
}
APP_KEY = 'static_flow_app'


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
    # rest.guard.RestGuard serves these POSTs itself, after its checks, without routes, webob and ryu's
    # ControllerBase: those were a third of a push's cost (docs/performance.md). Same replies as the routes above.
    fast = getattr(wsgi, 'fast_posts', None)
    if fast is None:
        fast = wsgi.fast_posts = {}
    for family, dialect in URL_FAMILIES.items():
        push = _fast_push(app, dialect)
        base = '/wm/' + family
        fast[base + '/json'] = push
        fast[base + '/json/store'] = push


def _fast_push(app, dialect):
    """A WSGI app for one family's push URLs: what StaticFlowController._push answers, byte for byte. Its `raw`
    attribute is the same push for rest.server, body bytes in, (status line, headers, body, then) out, no environ:
    `then` (None after an error) sends the entry's flow-mods, and the server calls it right after writing the
    reply, so the client has its answer (the entry is committed) while the flow-mods go out."""
    pushed, pushed_type = json_bytes(floodlight.ENTRY_PUSHED)
    pushed_headers = (('Content-Type', pushed_type), ('Content-Length', str(len(pushed))))
    parse_entry, decode_body = floodlight.parse_entry, floodlight.decode_body
    commit_push, send = app.commit_push, app.send_pushed

    def raw(body):
        try:
            msgs = commit_push(parse_entry(decode_body(body), dialect), dialect)
            return '200 OK', pushed_headers, pushed, lambda: send(msgs)
        except Exception as error:
            status, reply, headers = error_reply(error) or (500, INTERNAL_ERROR, None)
            if status == 500:
                LOG.exception('REST POST push (%s) failed', dialect.name)
        data, content_type = json_bytes(reply)
        header_list = [('Content-Type', content_type), ('Content-Length', str(len(data)))]
        header_list.extend((headers or {}).items())
        return '%d %s' % (status, status_reasons[status]), header_list, data, None

    def push(environ, start_response):
        length = environ.get('CONTENT_LENGTH')  # RestGuard checked it is a number within the body limit
        body = environ['wsgi.input'].read(int(length)) if length else b''
        status, headers, data, then = raw(body)
        if then is not None:
            then()
        start_response(status, list(headers))
        return [data]
    push.raw = raw
    return push


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
        entry = floodlight.parse_entry(floodlight.decode_body(req.body), dialect)
        self.app.push(entry, dialect)
        return json_response(floodlight.ENTRY_PUSHED)

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
