"""Floodlight's core URLs: the connected switches list; and the JSON 404 for every unknown path."""
from ryu.app.wsgi import ControllerBase

from controller.dpid import format_dpid
from rest.http import error_response, json_response, rest_errors

APP_KEY = 'switches_app'


def register_routes(wsgi, switches_app):
    wsgi.registory[FloodlightCoreController.__name__] = {APP_KEY: switches_app}
    wsgi.mapper.connect('core_switches', '/wm/core/controller/switches/json', controller=FloodlightCoreController,
                        action='switches', conditions={'method': ['GET']})


def switches_json(sessions):
    """Floodlight 1.x's shape: [{"inetAddress":"/127.0.0.1:42380","connectedSince":ms,"switchDPID":"00:.."}]."""
    return [{'inetAddress': '/' + s.remote, 'connectedSince': int(s.since * 1000), 'switchDPID': format_dpid(s.dpid)}
            for s in sessions]


class FloodlightCoreController(ControllerBase):
    def __init__(self, req, link, data, **config):
        super().__init__(req, link, data, **config)
        self.switches_app = data[APP_KEY]

    @rest_errors
    def switches(self, req):
        return json_response(switches_json(self.switches_app.sessions()))


def register_fallback(wsgi):
    """Connect last: any path no app claimed gets a JSON 404 (405 when another method has a route there)
    instead of webob's HTML page."""
    wsgi.registory[FloodlightNotFoundController.__name__] = {'mapper': wsgi.mapper}
    wsgi.mapper.connect('not_found', '/{path:.*}', controller=FloodlightNotFoundController, action='not_found')


PROBED_METHODS = ('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS')


class FloodlightNotFoundController(ControllerBase):
    def __init__(self, req, link, data, **config):
        super().__init__(req, link, data, **config)
        self.mapper = data['mapper']

    def not_found(self, req, path):
        allowed = [method for method in PROBED_METHODS if method != req.method and self._routed(req.path, method)]
        if allowed:
            return error_response(405, '%s is not allowed on %s; use %s' % (req.method, req.path, ', '.join(allowed)),
                                  headers={'Allow': ', '.join(allowed)})
        return error_response(404, 'no such resource: %s %s' % (req.method, req.path))

    def _routed(self, path, method):
        match = self.mapper.match(path, environ={'REQUEST_METHOD': method})
        return match is not None and match.get('action') != 'not_found'
