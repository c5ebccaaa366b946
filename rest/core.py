"""Floodlight's core URLs: the connected switches list; and the JSON 404 (or 405) for every unknown path.

apps/entry.py mounts ROUTES with the SwitchesApp, and not_found last of all (apps/rest_routes.mount_fallback).
"""
from controller.dpid import format_dpid
from rest.http import HttpError, Route


def switches_json(sessions):
    """Floodlight 1.x's shape: [{"inetAddress":"/127.0.0.1:42380","connectedSince":ms,"switchDPID":"00:.."}]."""
    return [{'inetAddress': '/' + s.remote, 'connectedSince': int(s.since * 1000), 'switchDPID': format_dpid(s.dpid)}
            for s in sessions]


def switches(app, request):
    return switches_json(app.tracker.current_sessions())


ROUTES = [
    Route(('GET',), '/wm/core/controller/switches/json', switches),
]

PROBED_METHODS = ('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS')


def not_found(routes, request, path):
    """The answer for a path no route claims: a JSON 404, or a 405 with `Allow` when other methods are routed
    there. routes.routed(path, method): does a route other than this one take `method` on `path`?"""
    allowed = [method for method in PROBED_METHODS if method != request.method and routes.routed(request.path, method)]
    if allowed:
        raise HttpError(405, '%s is not allowed on %s; use %s' % (request.method, request.path, ', '.join(allowed)),
                        {'Allow': ', '.join(allowed)})
    raise HttpError(404, 'no such resource: %s %s' % (request.method, request.path))
