"""The virtual network filter (--virtual-network-filter) on Mininet and a userspace Open vSwitch: real pings
answered within a tenant network and lost across networks, also after a host moves to the other network; no
forwarding flow between networks in `ovs-ofctl dump-flows`.

Its own network (switches vnf1, vnf2; DPIDs f5e1:..:0c:0n) against its own controller, as
tests/e2e/test_firewall.py.
"""
import json

import pytest

from tests.e2e.conftest import poll
from tests.e2e.test_forwarding import ARGS, Topo, network  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings('ignore:distutils Version classes are deprecated:DeprecationWarning'),
]

# h1, h2 on vnf1; h3, h4 on vnf2; one link vnf1:3 - vnf2:3
TENANTS4 = Topo('vnf', 0x0c, [1, 2], [(1, 1, 1), (2, 1, 2), (3, 2, 1), (4, 2, 2)], [(1, 3, 2, 3)])
NETWORKS = '/networkService/v1.1/tenants/e2e/networks'
WITHIN = [(1, 3), (3, 1), (2, 4), (4, 2)]
ACROSS = [(1, 2), (1, 4), (2, 3), (3, 4), (4, 1)]


def call(net, method, path, body=None):
    status, text, _ = net.controller.request(method, path, body)
    assert status == 200, (method, path, status, text)
    return text


def attach(net, network_id, host):
    call(net, 'PUT', '%s/%s/ports/port%d/attachment' % (NETWORKS, network_id, host),
         json.dumps({'attachment': {'id': 'h%d' % host, 'mac': net.topo.mac(host)}}))


def flows_between(net, switch, a, b):
    """Forwarding flows on a switch from host a to host b or back."""
    macs = {net.topo.mac(a), net.topo.mac(b)}
    return [f for f in net.dump_flows(switch) if {f.match.get('dl_src'), f.match.get('dl_dst')} == macs]


def test_pings_within_a_network_work_and_across_networks_fail(network):  # noqa: F811
    net = network(TENANTS4, ARGS + ('--virtual-network-filter',))
    for name in ('red', 'blue'):
        call(net, 'PUT', '%s/%s' % (NETWORKS, name), json.dumps({'network': {'name': name, 'gateway': None}}))
    for network_id, hosts in (('red', (1, 3)), ('blue', (2, 4))):
        for host in hosts:
            attach(net, network_id, host)
    assert [(n['guid'], len(n['portMac'])) for n in json.loads(call(net, 'GET', NETWORKS))] == [
        ('red', 2), ('blue', 2)]

    net.assert_pingall(WITHIN)
    results = net.ping_round(ACROSS)
    assert all(received == 0 for _sent, received in results.values()), results
    for switch in (1, 2):
        assert flows_between(net, switch, 1, 2) == [] and flows_between(net, switch, 3, 4) == []

    # h2 joins red: h1 and h2 talk, h2 and h4 no longer
    attach(net, 'red', 2)
    # The hosts' ARP resolutions started in the round across networks may still be running (3 probes, 1 s apart)
    # and drop what a ping queues behind them when they fail: a user would ping again.
    poll(lambda: net.pingall_loss([(1, 2), (2, 3)])[0] == 0, 15, what='h2 reaching h1 and h3 in red')
    net.assert_pingall([(1, 2), (2, 3)])
    poll(lambda: not flows_between(net, 1, 2, 4) and not flows_between(net, 2, 2, 4), 10,
         what='the flows between h2 and h4 deleted')
    assert all(received == 0 for _sent, received in net.ping_round([(2, 4), (4, 2)]).values())

    # h4 detached: in no network, it reaches nobody
    call(net, 'DELETE', '%s/blue/ports/port4/attachment' % NETWORKS)
    assert all(received == 0 for _sent, received in net.ping_round([(4, 1), (4, 3)]).values())
    call(net, 'DELETE', '%s/blue' % NETWORKS)
    assert [n['guid'] for n in json.loads(call(net, 'GET', NETWORKS))] == ['red']
