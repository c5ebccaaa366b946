"""The connection tracker's REST API, and Floodlight's role URLs.

GET  /wm/core/controller/connections/json                 one object per OpenFlow session (live or last ended)
GET  /wm/core/controller/connections/<dpid>/history/json  that switch's timeline
GET  /wm/core/role/json                                   this instance's configured role, per-switch roles
POST /wm/core/role/json {"role":"MASTER|SLAVE|EQUAL"}     as Floodlight 0.90 (JSON Content-Type required)
GET  /wm/core/switch/<dpid|all>/role/json                 {"<dpid>":"MASTER"} (Floodlight 1.2's shape)
"""
import json
import time
from datetime import datetime, timezone

from ryu.app.wsgi import ControllerBase

from controller.dpid import format_dpid
from rest.http import HttpError, json_response, rest_errors, switch_param

APP_KEY = 'switches_app'
ROLES = {'MASTER': 'master', 'SLAVE': 'slave', 'EQUAL': 'equal'}
DPID_OR_ALL = {'dpid': r'[^/]+'}


def register_routes(wsgi, switches_app):
    wsgi.registory[FloodlightConnectionsController.__name__] = {APP_KEY: switches_app}
    connect = wsgi.mapper.connect
    connect('connections', '/wm/core/controller/connections/json', controller=FloodlightConnectionsController,
            action='connections', conditions={'method': ['GET']})
    connect('connections_history', '/wm/core/controller/connections/{dpid}/history/json',
            controller=FloodlightConnectionsController, action='history', conditions={'method': ['GET']},
            requirements=DPID_OR_ALL)
    connect('role_get', '/wm/core/role/json', controller=FloodlightConnectionsController, action='get_role',
            conditions={'method': ['GET']})
    connect('role_set', '/wm/core/role/json', controller=FloodlightConnectionsController, action='set_role',
            conditions={'method': ['POST', 'PUT']})
    connect('switch_role', '/wm/core/switch/{dpid}/role/json', controller=FloodlightConnectionsController,
            action='switch_role', conditions={'method': ['GET']}, requirements=DPID_OR_ALL)


class FloodlightConnectionsController(ControllerBase):
    def __init__(self, req, link, data, **config):
        super().__init__(req, link, data, **config)
        self.app = data[APP_KEY]

    @rest_errors
    def connections(self, req):
        return json_response(self.app.tracker.view(time.time()))

    @rest_errors
    def history(self, req, dpid):
        number = switch_param(dpid)
        if number is None:
            raise HttpError(400, 'the history is per switch: name one DPID, not all')
        if not self.app.tracker.knows(number):
            raise HttpError(404, 'switch %s has never connected to this controller' % format_dpid(number))
        return json_response(self.app.tracker.timeline(number, time.time()))

    @rest_errors
    def get_role(self, req):
        changed_at, description = self.app.role_changed
        holders = self.app.lease_holders()
        return json_response({
            'role': self.app.configured_role.upper(),
            'change-description': description,
            'change-date-time': datetime.fromtimestamp(changed_at, timezone.utc).isoformat(timespec='milliseconds'),
            'instance': self.app.instance_id,
            'switches': {format_dpid(d): r for d, r in self.app.switch_roles().items()},
            'masters': {format_dpid(d): owner for d, owner in sorted(holders.items())},
        })

    @rest_errors
    def set_role(self, req):
        if req.content_type != 'application/json':
            raise HttpError(415, 'send the role as JSON with Content-Type: application/json')
        try:
            body = json.loads(req.body.decode('utf-8'))
        except (UnicodeDecodeError, ValueError):
            raise HttpError(400, 'Invalid role value: the body is not JSON')
        role = body.get('role') if isinstance(body, dict) else None
        if not isinstance(role, str) or role.upper() not in ROLES:
            raise HttpError(400, 'Invalid role value: expected {"role": "MASTER" | "SLAVE" | "EQUAL"}')
        self.app.set_configured_role(ROLES[role.upper()], 'Set by REST.')
        return self.get_role(req)

    @rest_errors
    def switch_role(self, req, dpid):
        roles = self.app.switch_roles()
        number = switch_param(dpid)
        if number is None:
            return json_response({format_dpid(d): r for d, r in sorted(roles.items())})
        if number not in roles:
            raise HttpError(404, 'switch %s is not connected' % format_dpid(number))
        return json_response({format_dpid(number): roles[number]})
