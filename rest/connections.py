"""The connection tracker's REST API, and Floodlight's role URLs.

GET  /wm/core/controller/connections/json                 one object per OpenFlow session (live or last ended)
GET  /wm/core/controller/connections/<dpid>/history/json  that switch's timeline
GET  /wm/core/controller/connections/refused/json         connections refused since start, by reason (takeover,
                                                          address, certificate), and the most recent ones
GET  /wm/core/role/json                                   this instance's configured role, per-switch roles
POST /wm/core/role/json {"role":"MASTER|SLAVE|EQUAL"}     as Floodlight 0.90 (JSON Content-Type required)
GET  /wm/core/switch/<dpid|all>/role/json                 {"<dpid>":"MASTER"} (Floodlight 1.2's shape)
"""
import json
import time
from datetime import datetime, timezone

from controller.dpid import format_dpid
from rest.http import HttpError, Route, switch_param

ROLES = {'MASTER': 'master', 'SLAVE': 'slave', 'EQUAL': 'equal'}
DPID_OR_ALL = {'dpid': r'[^/]+'}


# Every handler reads the SwitchesApp (apps/entry.py mounts ROUTES with it).

def connections(app, request):
    return app.tracker.view(time.time())


def refused(app, request):
    return app.tracker.refusals_view()


def history(app, request, dpid):
    number = switch_param(dpid)
    if number is None:
        raise HttpError(400, 'the history is per switch: name one DPID, not all')
    if not app.tracker.knows(number):
        raise HttpError(404, 'switch %s has never connected to this controller' % format_dpid(number))
    return app.tracker.timeline(number, time.time())


def get_role(app, request):
    changed_at, description = app.policy.changed
    holders = app.lease_holders()
    return {
        'role': app.policy.configured_role.upper(),
        'change-description': description,
        'change-date-time': datetime.fromtimestamp(changed_at, timezone.utc).isoformat(timespec='milliseconds'),
        'instance': app.instance_id,
        'switches': {format_dpid(d): r for d, r in app.policy.switch_roles(app.tracker).items()},
        'masters': {format_dpid(d): owner for d, owner in sorted(holders.items())},
    }


def set_role(app, request):
    if request.content_type != 'application/json':
        raise HttpError(415, 'send the role as JSON with Content-Type: application/json')
    try:
        body = json.loads(request.body.decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        raise HttpError(400, 'Invalid role value: the body is not JSON')
    role = body.get('role') if isinstance(body, dict) else None
    if not isinstance(role, str) or role.upper() not in ROLES:
        raise HttpError(400, 'Invalid role value: expected {"role": "MASTER" | "SLAVE" | "EQUAL"}')
    app.set_configured_role(ROLES[role.upper()], 'Set by REST.')
    return get_role(app, request)


def switch_role(app, request, dpid):
    roles = app.policy.switch_roles(app.tracker)
    number = switch_param(dpid)
    if number is None:
        return {format_dpid(d): r for d, r in sorted(roles.items())}
    if number not in roles:
        raise HttpError(404, 'switch %s is not connected' % format_dpid(number))
    return {format_dpid(number): roles[number]}


ROUTES = [
    Route(('GET',), '/wm/core/controller/connections/json', connections),
    Route(('GET',), '/wm/core/controller/connections/refused/json', refused),
    Route(('GET',), '/wm/core/controller/connections/{dpid}/history/json', history, DPID_OR_ALL),
    Route(('GET',), '/wm/core/role/json', get_role),
    Route(('POST', 'PUT'), '/wm/core/role/json', set_role),
    Route(('GET',), '/wm/core/switch/{dpid}/role/json', switch_role, DPID_OR_ALL),
]
