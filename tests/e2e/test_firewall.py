"""The firewall on Mininet and a userspace Open vSwitch: real pings blocked by a DENY rule and answered again
once it is deleted, with the drop flow visible in `ovs-ofctl dump-flows`.

Its own network (switch fwf1, DPID f5e1:..:09:01) against its own controller, as tests/e2e/test_forwarding.py.
"""
import json

import pytest

from controller.of10 import FORWARDING_COOKIE
from tests.e2e.conftest import poll
from tests.e2e.test_forwarding import Topo, network  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings('ignore:distutils Version classes are deprecated:DeprecationWarning'),
]

FIREWALLED3 = Topo('fwf', 9, [1], [(1, 1, 1), (2, 1, 2), (3, 1, 3)], [])


def call(net, method, path, body=None):
    status, text, _ = net.controller.request(method, path, body)
    assert status == 200, (method, path, status, text)
    return text


def test_deny_rule_blocks_pings_until_deleted(network):  # noqa: F811
    net = network(FIREWALLED3)
    net.assert_pingall()  # disabled at start: everything forwarded
    assert call(net, 'PUT', '/wm/firewall/module/enable/json').endswith('"firewall running"}')
    assert net.pingall_loss([(1, 2)])[0] == 100.0  # enabled with no rule: default deny
    call(net, 'POST', '/wm/firewall/rules/json', '{"action": "allow", "priority": "10"}')
    deny = json.loads(call(net, 'POST', '/wm/firewall/rules/json', json.dumps(
        {'src-ip': net.topo.ip(1) + '/32', 'dst-ip': net.topo.ip(2) + '/32', 'nw-proto': 'ICMP',
         'action': 'deny', 'priority': '1'})))
    results = net.ping_round([(1, 2), (1, 3), (3, 2)])
    assert results[(1, 2)][1] == 0 and results[(1, 3)] == (2, 2) and results[(3, 2)] == (2, 2), results
    drops = [f for f in net.dump_flows(1) if f.actions == 'drop' and f.cookie == FORWARDING_COOKIE]
    assert [f.match.get('nw_src') for f in drops] == [net.topo.ip(1)], drops
    call(net, 'DELETE', '/wm/firewall/rules/json', json.dumps({'ruleid': deny['rule-id']}))
    poll(lambda: not [f for f in net.dump_flows(1) if f.actions == 'drop'], 5, what='the drop flow deleted')
    net.assert_pingall()
    call(net, 'PUT', '/wm/firewall/module/disable/json')
    net.assert_pingall()
