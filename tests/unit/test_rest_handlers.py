"""The REST handlers are plain functions: called here with a fake app and a rest.http.Request, no sockets, no Ryu."""
import inspect
import json
import re
import time
import types

import pytest

from controller.health import HealthBoard
from rest import connections, core, devices, performance, staticflow, stats, topology, virtualnetwork
from rest.http import HttpError, Request, Route

pytestmark = pytest.mark.unit

DPID1 = '00:00:00:00:00:00:00:01'
TABLES = {'core': core.ROUTES, 'connections': connections.ROUTES, 'devices': devices.ROUTES,
          'topology': topology.ROUTES, 'stats': stats.ROUTES, 'stats.summary': stats.SUMMARY_ROUTES,
          'staticflow': staticflow.ROUTES, 'performance': performance.ROUTES,
          'virtualnetwork': virtualnetwork.ROUTES}


def get(path='/', params=None):
    return Request('GET', path, params)


def raises(status, call, *args, **kwargs):
    with pytest.raises(HttpError) as caught:
        call(*args, **kwargs)
    assert caught.value.status == status, caught.value.reason
    return caught.value


@pytest.mark.parametrize('name', sorted(TABLES))
def test_every_route_row_names_methods_and_a_handler_that_takes_its_path_params(name):
    for route in TABLES[name]:
        assert isinstance(route, Route) and route.methods and all(m.isupper() for m in route.methods), route
        params = re.findall(r'{(\w+)', route.path)
        signature = list(inspect.signature(route.handler).parameters)
        assert signature == ['app', 'request'] + params, route
        assert set(route.requirements or {}) <= set(params), route


def test_core_switches_and_the_json_404_and_405():
    session = types.SimpleNamespace(remote='127.0.0.1:42380', since=12.5, dpid=1)
    assert core.switches_json([session]) == [
        {'inetAddress': '/127.0.0.1:42380', 'connectedSince': 12500, 'switchDPID': DPID1, 'dpid': DPID1}]

    class Routes:
        def __init__(self, methods):
            self.methods = methods
            self.asked = []

        def routed(self, path, method):
            self.asked.append((path, method))
            return method in self.methods

    routes = Routes({'GET', 'DELETE'})
    error = raises(405, core.not_found, routes, Request('POST', '/wm/x'), path='wm/x')
    assert error.reason == 'POST is not allowed on /wm/x; use GET, DELETE'
    assert error.headers == {'Allow': 'GET, DELETE'}
    assert ('/wm/x', 'POST') not in routes.asked  # the method asked is not probed again
    error = raises(404, core.not_found, Routes(set()), Request('GET', '/nope'), path='nope')
    assert error.reason == 'no such resource: GET /nope' and error.headers == {}


class FakePolicy:
    def __init__(self):
        self.changed = (0.0, 'Controller startup.')
        self.configured_role = 'master'
        self.roles = {2: 'SLAVE', 1: 'MASTER'}

    def switch_roles(self, tracker):
        return self.roles


class FakeSwitches:
    def __init__(self):
        self.policy = FakePolicy()
        self.instance_id = 'host:1'
        self.tracker = types.SimpleNamespace(knows=lambda dpid: dpid == 1,
                                             timeline=lambda dpid, now: [{'dpid': dpid, 'event': 'connected'}],
                                             view=lambda now: [{'now': now}])

    def lease_holders(self):
        return {1: 'host:1'}

    def set_configured_role(self, role, description):
        self.policy.configured_role = role
        self.policy.changed = (1.5, description)


def test_connection_history_is_per_known_switch():
    app = FakeSwitches()
    assert connections.history(app, get(), dpid='1') == [{'dpid': 1, 'event': 'connected'}]
    assert 'per switch' in raises(400, connections.history, app, get(), dpid='ALL').reason
    assert raises(404, connections.history, app, get(), dpid='2').reason == (
        'switch 00:00:00:00:00:00:00:02 has never connected to this controller')
    raises(400, connections.history, app, get(), dpid='zz')
    assert connections.connections(app, get())[0]['now'] == pytest.approx(time.time(), abs=5)


def test_role_get_and_set():
    app = FakeSwitches()
    assert connections.get_role(app, get()) == {
        'role': 'MASTER', 'change-description': 'Controller startup.',
        'change-date-time': '1970-01-01T00:00:00.000+00:00', 'instance': 'host:1',
        'switches': {DPID1: 'MASTER', '00:00:00:00:00:00:00:02': 'SLAVE'}, 'masters': {DPID1: 'host:1'}}

    def post(body, content_type='application/json'):
        return Request('POST', '/wm/core/role/json', None, body, content_type)

    raises(415, connections.set_role, app, post(b'{"role":"SLAVE"}', 'text/plain'))
    raises(400, connections.set_role, app, post(b'\xff'))
    raises(400, connections.set_role, app, post(b'not json'))
    raises(400, connections.set_role, app, post(b'["SLAVE"]'))
    raises(400, connections.set_role, app, post(b'{"role":"BOSS"}'))
    assert app.policy.configured_role == 'master'
    body = connections.set_role(app, post(b'{"role":"equal"}'))
    assert app.policy.configured_role == 'equal'
    assert body['role'] == 'EQUAL' and body['change-description'] == 'Set by REST.'
    assert body['change-date-time'] == '1970-01-01T00:00:01.500+00:00'


def test_switch_role_for_one_or_all():
    app = FakeSwitches()
    assert list(connections.switch_role(app, get(), dpid='all')) == [DPID1, '00:00:00:00:00:00:00:02']
    assert connections.switch_role(app, get(), dpid='2') == {'00:00:00:00:00:00:00:02': 'SLAVE'}
    raises(404, connections.switch_role, app, get(), dpid='3')


def test_devices_are_filtered_by_the_query_and_listed_oldest_first():
    asked = []

    def query(**kwargs):
        asked.append(kwargs)
        return [types.SimpleNamespace(mac=bytes(6 - i) + bytes([i]), ipv4=[], vlan=0xffff, dpid=1, port=i,
                                      last_seen_ms=10000 - i) for i in (1, 2)]

    app = types.SimpleNamespace(state=types.SimpleNamespace(devices=types.SimpleNamespace(query=query)))
    body = json.loads(b''.join(devices.devices(app, get('/wm/device/', {'port': '1', 'mac__startswith': '00:00'}))
                               .pieces))
    assert asked == [{'port': 1, 'startswith': {'mac': '00:00'}}]
    assert [d['attachmentPoint'][0]['port'] for d in body] == [2, 1]
    # jQuery's cache buster (Floodlight's web UI) and any other non-filter parameter are ignored, as Floodlight did
    devices.devices(app, get('/wm/device/', {'_': '1700000000000', 'colour': 'red'}))
    assert asked[-1] == {}
    assert raises(400, devices.devices, app, get('/wm/device/', {'_': '1', 'port': 'x'})).reason.startswith(
        "bad port 'x'")


def test_topology_route_checks_its_path_params():
    class FakeTopology:
        links = {(1, 2, 2, 1)}
        adjacency = {1: {2: 2}, 2: {1: 1}}

        def route(self, src, dst):
            return [src, dst] if {src, dst} == {1, 2} else None

        def undirected_links(self):
            return [(1, 2, 2, 1, True)]

        def clusters(self):
            return {1: [1, 2]}

    app = types.SimpleNamespace(state=types.SimpleNamespace(topology=FakeTopology()))
    hops = topology.route(app, get(), src='1', src_port='3', dst='00:00:00:00:00:00:00:02', dst_port='0x4')
    assert [(h['switch'][-1], h['port']['portNumber']) for h in hops] == [('1', 3), ('1', 2), ('2', 1), ('2', 4)]
    assert topology.route(app, get(), src='1', src_port='3', dst='9', dst_port='4') == []
    assert raises(400, topology.route, app, get(), src='x', src_port='1', dst='2', dst_port='1').reason.startswith(
        'bad source switch')
    assert raises(400, topology.route, app, get(), src='1', src_port='1', dst='2', dst_port='70000').reason == (
        "bad destination port '70000': expected an OpenFlow port number 0-65535")
    assert topology.links(app, get())[0]['direction'] == 'bidirectional'
    assert topology.directed_links(app, get()) == [{
        'src-switch': DPID1, 'src-port': 2, 'dst-switch': '00:00:00:00:00:00:00:02', 'dst-port': 1,
        'type': 'internal', 'direction': 'unidirectional'}]
    assert topology.external_links(app, get()) == []
    assert topology.clusters(app, get()) == {DPID1: [DPID1, '00:00:00:00:00:00:00:02']}


def test_switch_stats_for_one_switch_or_all():
    asked = []

    def query(dpids, stat):
        asked.append((dpids, stat))
        results = {1: {'desc': {'version': 'OF_10'}}, 2: {'ERROR': 'switch 2 did not answer within 1 s'}}
        return results if dpids is None else {d: results[d] for d in dpids if d in results}

    board = HealthBoard()
    app = types.SimpleNamespace(query=query, started=time.time() - 2, switches=types.SimpleNamespace(health=board))
    assert stats.switch_stat(app, get(), switch='all', stat='desc') == {
        DPID1: {'desc': {'version': 'OF_10'}}, '00:00:00:00:00:00:00:02': {'ERROR': 'switch 2 did not answer within 1 s'}}
    assert stats.switch_stat(app, get(), switch='1', stat='desc') == {'desc': {'version': 'OF_10'}}
    assert raises(504, stats.switch_stat, app, get(), switch='2', stat='desc').reason == (
        'switch 2 did not answer within 1 s')
    raises(404, stats.switch_stat, app, get(), switch='3', stat='desc')
    raises(400, stats.switch_stat, app, get(), switch='x', stat='desc')
    assert asked == [(None, 'desc'), ([1], 'desc'), ([2], 'desc'), ([3], 'desc')]
    assert 2000 <= stats.uptime(app, get())['systemUptimeMsec'] < 60000
    assert stats.health(app, get()) == {'healthy': True}
    board.fault('ofp-listener', 'OpenFlow listener on 0.0.0.0:6633 is down', 5.0)
    assert stats.health(app, get()) == (503, {'healthy': False, 'reasons': [
        {'component': 'ofp-listener', 'reason': 'OpenFlow listener on 0.0.0.0:6633 is down', 'since': 5000}]}, None)
    assert set(stats.memory(app, get())) == {'total', 'free'}


def test_summary_counts_the_forwarding_apps_state_and_switches():
    now = time.time()
    state = types.SimpleNamespace(
        topology=types.SimpleNamespace(links={(1, 2, 2, 1), (2, 1, 1, 2)}, quarantined={(1, 3): now + 60,
                                                                                        (1, 4): now - 1}),
        devices=types.SimpleNamespace(by_mac={b'a': None, b'b': None, b'c': None}))
    app = types.SimpleNamespace(state=state, switches=types.SimpleNamespace(
        tracker=types.SimpleNamespace(current_sessions=lambda: [1, 2])))
    body = stats.summary(app, get())
    assert json.dumps(body) == ('{"# Switches": 2, "# inter-switch links": 2, "# quarantine ports": 1, '
                                '"# hosts": 3}')
