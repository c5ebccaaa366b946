"""The REST API's one adapter to Ryu: route tables (rest.http.Route rows) on Ryu's WSGIApplication.

Handlers are plain functions, handler(app, request, **path params) -> a JSON body or a rest.http.Reply, declared in
each REST module's ROUTES. mount(wsgi, routes, app) connects the rows on the WSGIApplication's mapper, which any
Ryu app loaded beside ours (ryu.app.ofctl_rest) shares; a matching request reaches FloodlightRestRoutes, which
builds the handler's rest.http.Request, calls it through rest.http.rest_errors (the REST layer's one error
mapping: 4xx JSON, a bug -> 500 JSON and a logged traceback) and turns its answer into the reply.
mount_fallback(wsgi), connected after every app's routes, answers every other path with rest.core.not_found.
"""
from ryu.app.wsgi import ControllerBase

from apps import worker
from controller.workers import LIVE_ROUTES, LOCAL_HEADER
from rest import core
from rest.http import (ROUTE_ENVIRON, Encoded, Reply, Request, Streamed, is_large, json_response, no_content,
                       parts_response, rest_errors, streamed_json, streamed_response)

ROUTE_KEY = 'floodlight_route'  # the mapper hands the matched row's _Mounted to the controller under this name
FALLBACK_ACTION = 'not_found'


class _Mounted:
    """A row's handler bound to its app: the value Routes keeps with the route (Routes keeps callables as they
    are; any other default it would turn into a string)."""
    __slots__ = ('handler', 'app', 'route', 'live')

    def __init__(self, handler, app, route=None):
        self.handler = handler
        self.app = app
        self.route = route  # the row's path pattern (None: the fallback), for the REST metrics
        self.live = route in LIVE_ROUTES  # the live state of switches: with --workers, every worker's (see dispatch)

    def __call__(self, request, params):
        return self.handler(self.app, request, **params)


def mount(wsgi, routes, app):
    """Connect every rest.http.Route in `routes` on wsgi.mapper; a match calls route.handler(app, request, ...)."""
    for route in routes:
        wsgi.mapper.connect(None, route.path, controller=FloodlightRestRoutes, action='dispatch',
                            conditions={'method': list(route.methods)}, requirements=route.requirements or {},
                            **{ROUTE_KEY: _Mounted(route.handler, app, route.path)})


RAW_ROUTES_KEY = 'FloodlightRawRoutes'


def mount_raw(wsgi, raw_routes):
    """{path: handler(body, respond)} the HTTP server calls for a POST without WSGI (rest.staticflow.raw_routes);
    kept in the WSGIApplication's registory, Ryu's place for what apps hand their REST handlers."""
    wsgi.registory.setdefault(RAW_ROUTES_KEY, {}).update(raw_routes)


def raw_routes(wsgi):
    return dict(wsgi.registory.get(RAW_ROUTES_KEY, {}))


def mount_fallback(wsgi):
    """Connect last: any path no app claimed gets rest.core.not_found's JSON 404 (405 when another method has a
    route there) instead of webob's HTML page."""
    wsgi.mapper.connect(None, r'/{path:[\s\S]*}', controller=FloodlightRestRoutes, action=FALLBACK_ACTION,
                        **{ROUTE_KEY: _Mounted(core.not_found, _RoutedMethods(wsgi.mapper))})


class _RoutedMethods:
    """What rest.core.not_found asks of the mapper."""

    def __init__(self, mapper):
        self.mapper = mapper

    def routed(self, path, method):
        match = self.mapper.match(path, environ={'REQUEST_METHOD': method})
        return match is not None and match.get('action') != FALLBACK_ACTION


def _utf8(value):
    """A URL variable as the client meant it: WSGI hands the path over decoded as Latin-1 (PEP 3333), so
    /quantum/v1.0/vips/%C3%AE arrives as 'Ã®'; its bytes are UTF-8 (what the JSON bodies that made the id were).
    Bytes that are no UTF-8 stay as they came (they name nothing: 404)."""
    if not isinstance(value, str) or value.isascii():
        return value
    try:
        return value.encode('latin-1').decode('utf-8')
    except UnicodeError:
        return value


class FloodlightRestRoutes(ControllerBase):
    """Ryu's WSGIApplication builds one per request and calls the action the route names with its URL
    variables (ControllerBase.__call__): `dispatch`, or `not_found` for the fallback."""

    @rest_errors
    def dispatch(self, req, **params):
        mounted = params.pop(ROUTE_KEY)
        params = {name: _utf8(value) for name, value in params.items()}
        if mounted.route is not None:
            req.environ[ROUTE_ENVIRON] = mounted.route
        request = Request(req.method, req.path, dict(req.GET), req.body, req.content_type)
        link = worker.current() if mounted.live and LOCAL_HEADER not in req.headers else None
        switch_key = LIVE_ROUTES.get(mounted.route)
        if link is not None:  # --workers: one switch's state is its owner's answer; a list merges every worker's
            owned_elsewhere = link.owner_answer(switch_key, params, req.method, req.path_qs, req.headers)
            if owned_elsewhere is not None:
                return json_response(owned_elsewhere[1], status=owned_elsewhere[0])
        result = mounted(request, params)
        if link is not None and link.merges(switch_key, params) and isinstance(result, (list, dict)):
            result = link.merged(result, req.method, req.path_qs, req.headers)
        if isinstance(result, Encoded):
            return parts_response(result)
        if isinstance(result, Streamed):  # the server writes it piece by piece (rest.server.Connection.call_wsgi)
            return streamed_response(result)
        if isinstance(result, Reply):
            if result.body is None:
                return no_content(result.status)
            return json_response(result.body, status=result.status, headers=result.headers)
        if is_large(result):  # e.g. every flow of every switch: encoded and sent in pieces too
            return streamed_response(streamed_json(result))
        return json_response(result)

    not_found = dispatch
