"""Floodlight 1.2's ACL on Mininet and a userspace Open vSwitch: a DENY rule's drop flow on the source host's
switch, seen in `ovs-ofctl dump-flows`, blocks real pings; deleting the rule lets them through again.

Switch names facl*, DPIDs f5e1:...:0aNN (none shared with other tests). Written with the ACL (issue 14).
"""
import json

import pytest

from controller.flowentry import is_static_flow_cookie
from tests.e2e.conftest import format_flows, poll
from tests.e2e.test_forwarding import Topo, network  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings('ignore:distutils Version classes are deprecated:DeprecationWarning'),
]

# h1 and h3 on switch 1, h2 on switch 2, one link between the switches.
ACL_TOPO = Topo('facl', 0x0a, [1, 2], [(1, 1, 1), (2, 2, 1), (3, 1, 2)], [(1, 3, 2, 3)])
RULES_URL = '/wm/acl/rules/json'


def acl_drop_flows(net, n):
    return [flow for flow in net.dump_flows(n) if is_static_flow_cookie(flow.cookie) and flow.priority == 30000]


def test_a_deny_rule_drops_pings_at_the_source_switch_until_deleted(network):
    net = network(ACL_TOPO)
    topo = net.topo
    net.assert_pingall()  # every host learned, with its IPv4 address
    status, text, _ = net.controller.request('POST', RULES_URL, json.dumps(
        {'src-ip': topo.ip(1) + '/32', 'dst-ip': topo.ip(2) + '/32', 'action': 'deny'}))
    assert (status, text) == (200, '{"status" : "Success! New rule added."}')
    flows = poll(lambda: acl_drop_flows(net, 1), 10, 'the ACL drop flow on switch 1',
                 explain=lambda: format_flows(net.dump_flows(1)))
    (flow,) = flows
    assert flow.match.get('nw_src') == topo.ip(1) and flow.match.get('nw_dst') == topo.ip(2), flow.line
    assert flow.actions == 'drop', flow.line
    assert acl_drop_flows(net, 2) == []
    loss, results = net.pingall_loss([(1, 2), (1, 3), (2, 3)])
    assert results[(1, 2)][1] == 0, results           # blocked
    assert results[(1, 3)][0] == results[(1, 3)][1], results  # h1 still reaches h3
    assert results[(2, 3)][0] == results[(2, 3)][1], results
    status, text, _ = net.controller.request('DELETE', RULES_URL, json.dumps({'ruleid': '1'}))
    assert (status, text) == (200, '{"status" : "Success! Rule deleted"}')
    poll(lambda: not acl_drop_flows(net, 1), 10, 'the drop flow removed',
         explain=lambda: format_flows(net.dump_flows(1)))
    net.assert_pingall([(1, 2)])
