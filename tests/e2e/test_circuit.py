"""A circuit the way Floodlight's circuitpusher makes one (apps/circuitpusher, v1.2), on Mininet and userspace Open
vSwitch: the hosts' attachment points from /wm/device/, the path from /wm/topology/route/..., four static entries
per switch on it (IPv4 and ARP, both ways), ping over them, then the entries deleted and the flows gone.

The controller runs with --no-forwarding: a ping that crosses the three switches does so only over the circuit.
Switch names fwc*, DPIDs f5e1:...:05xx (shared with no other test).
"""
import json

import pytest

from tests.e2e.conftest import format_flows, poll, static_flows
from tests.e2e.test_forwarding import Topo, colon, dpid_of, network  # noqa: F401 (network: the fixture)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings('ignore:distutils Version classes are deprecated:DeprecationWarning'),
]

# h1 on s1:1, h2 on s3:1; s1:2 - s2:3, s2:2 - s3:3
LINE3 = Topo('fwc', 5, [1, 2, 3], [(1, 1, 1), (2, 3, 1)], [(1, 2, 2, 3), (2, 2, 3, 3)])
ARGS = ('--port-quarantine', '1', '--no-forwarding')
PRIORITY = '32768'


def attachment(net, ip):
    devices = net.get('/wm/device/?ipv4=%s' % ip)
    point = devices[0]['attachmentPoint'][0] if devices and devices[0]['attachmentPoint'] else None
    return (point['switchDPID'], point['port']) if point else None


def circuit_entries(switch, name, in_port, out_port, src_ip, dst_ip):
    common = {'switch': switch, 'priority': PRIORITY, 'active': 'true'}
    forward = {'in_port': str(in_port), 'actions': 'output=%d' % out_port}
    reverse = {'in_port': str(out_port), 'actions': 'output=%d' % in_port}
    return [dict(common, name=name + '.f', eth_type='0x800', ipv4_src=src_ip, ipv4_dst=dst_ip, **forward),
            dict(common, name=name + '.farp', eth_type='0x806', arp_spa=src_ip, arp_tpa=dst_ip, **forward),
            dict(common, name=name + '.r', eth_type='0x800', ipv4_src=dst_ip, ipv4_dst=src_ip, **reverse),
            dict(common, name=name + '.rarp', eth_type='0x806', arp_spa=dst_ip, arp_tpa=src_ip, **reverse)]


def static_flows_of(net, n):
    return static_flows(net.dump_flows(n))


def test_circuit_pushed_along_the_route_carries_ping_and_goes_when_deleted(network):
    net = network(LINE3, ARGS)
    h1_ip, h2_ip = LINE3.ip(1), LINE3.ip(2)
    # hosts become known by sending: their ARP requests reach the controller (nothing forwards them yet)
    net.ping_round([(1, 2), (2, 1)], count=1, wait=1)
    poll(lambda: attachment(net, h1_ip) and attachment(net, h2_ip), 15, 'both hosts known', interval=0.3,
         explain=net.explain)
    src, dst = attachment(net, h1_ip), attachment(net, h2_ip)
    assert src == (colon(dpid_of(5, 1)), 1) and dst == (colon(dpid_of(5, 3)), 1)

    route = net.get('/wm/topology/route/%s/%d/%s/%d/json' % (src + dst))
    hops = [(route[i]['switch'], route[i]['port']['shortPortNumber'], route[i + 1]['port']['shortPortNumber'])
            for i in range(0, len(route), 2)]
    assert hops == [(colon(dpid_of(5, 1)), 1, 2), (colon(dpid_of(5, 2)), 3, 2), (colon(dpid_of(5, 3)), 3, 1)]
    names = []
    for switch, in_port, out_port in hops:
        for entry in circuit_entries(switch, switch + '.circuit', in_port, out_port, h1_ip, h2_ip):
            status, text, _ = net.controller.post('/wm/staticflowpusher/json', json.dumps(entry))
            assert (status, text) == (200, '{"status" : "Entry pushed"}'), (entry, text)
            names.append((switch, entry['name']))
    for n in LINE3.switches:
        poll(lambda: len(static_flows_of(net, n)) == 4, 10, 'four circuit flows on fwc%d' % n, interval=0.3,
             explain=lambda: format_flows(net.dump_flows(n)))
    net.assert_pingall([(1, 2), (2, 1)])

    for switch, name in names:
        status, text, _ = net.controller.request('DELETE', '/wm/staticflowpusher/json',
                                                 json.dumps({'name': name, 'switch': switch}))
        assert (status, text) == (200, '{"status" : "Entry %s deleted"}' % name)
    for n in LINE3.switches:
        poll(lambda: static_flows_of(net, n) == [], 10, 'the circuit flows gone from fwc%d' % n, interval=0.3,
             explain=lambda: format_flows(net.dump_flows(n)))
    assert net.ping_round([(1, 2)], count=2, wait=1)[(1, 2)][1] == 0
