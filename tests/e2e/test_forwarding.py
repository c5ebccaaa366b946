"""Floodlight out of the box, on Mininet and a userspace Open vSwitch: reactive forwarding over the discovered
topology, link discovery, host tracking and statistics, with no flow pushed by hand.

Each test builds its own network (switch names fws*, fwl*, fwt*, fwr* and DPIDs f5e1:...: none shared with
other tests) against its own controller.
"""
import json
import re
import subprocess
import time

import pytest

from controller.flowentry import is_static_flow_cookie
from controller.of10 import FORWARDING_COOKIE
from tests.e2e.conftest import bridge_lock, dump_flows, format_flows, poll
from tests.lib.controller import ControllerProcess

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings('ignore:distutils Version classes are deprecated:DeprecationWarning'),
]

CONNECT_TIMEOUT = 30
CONVERGE_TIMEOUT = 30
ARGS = ('--port-quarantine', '1')


def dpid_of(code, n):
    return 0xf5e1000000000000 | code << 8 | n


def colon(dpid):
    text = '%016x' % dpid
    return ':'.join(text[i:i + 2] for i in range(0, 16, 2))


class Topo:
    """switches: [n]; hosts: [(host n, switch n, port)]; links: [(switch a, port a, switch b, port b)]."""

    def __init__(self, prefix, code, switches, hosts, links):
        self.prefix, self.code = prefix, code
        self.switches, self.hosts, self.links = switches, hosts, links

    def switch_name(self, n):
        return '%s%d' % (self.prefix, n)

    def host_name(self, n):
        return '%sh%d' % (self.prefix, n)

    def mac(self, n):
        return '02:f5:e1:%02x:00:%02x' % (self.code, n)

    def ip(self, n):
        return '10.77.%d.%d' % (self.code, n)


SINGLE3 = Topo('fws', 1, [1], [(1, 1, 1), (2, 1, 2), (3, 1, 3)], [])
LINEAR4 = Topo('fwl', 2, [1, 2, 3, 4], [(n, n, 1) for n in (1, 2, 3, 4)],
               [(1, 2, 2, 3), (2, 2, 3, 3), (3, 2, 4, 3)])
TREE22 = Topo('fwt', 3, [1, 2, 3], [(1, 2, 1), (2, 2, 2), (3, 3, 1), (4, 3, 2)], [(1, 1, 2, 3), (1, 2, 3, 3)])
RING4 = Topo('fwr', 4, [1, 2, 3, 4], [(n, n, 1) for n in (1, 2, 3, 4)],
             [(1, 2, 2, 3), (2, 2, 3, 3), (3, 2, 4, 3), (4, 2, 1, 3)])


class ForwardingNetwork:
    def __init__(self, topo, workdir, extra_args=ARGS):
        self.topo = topo
        self.controller = ControllerProcess(workdir, extra_args=extra_args)
        self.net = None
        self.hosts = {}

    def start(self):
        from mininet.log import setLogLevel
        from mininet.net import Mininet
        from mininet.node import OVSSwitch, RemoteController

        setLogLevel('warning')
        self.controller.start()
        topo = self.topo
        for n in topo.switches:  # leftovers of a crashed run of this test (the names are this module's)
            subprocess.run(['ovs-vsctl', '--timeout=10', '--if-exists', 'del-br', topo.switch_name(n)],
                           check=True, timeout=20)
        net = Mininet(topo=None, controller=None, build=False)
        self.net = net
        net.addController('c0', controller=RemoteController, ip='127.0.0.1', port=self.controller.ofp_port)
        switches = {n: net.addSwitch(topo.switch_name(n), cls=OVSSwitch, dpid='%016x' % dpid_of(topo.code, n),
                                     protocols='OpenFlow10', failMode='secure', datapath='user')
                    for n in topo.switches}
        for h, s, port in topo.hosts:
            self.hosts[h] = net.addHost(topo.host_name(h), ip='%s/24' % topo.ip(h), mac=topo.mac(h))
            net.addLink(self.hosts[h], switches[s], port2=port)
        for a, pa, b, pb in topo.links:
            net.addLink(switches[a], switches[b], port1=pa, port2=pb)
        net.build()
        net.start()
        for h, host in self.hosts.items():
            out = host.cmd('ethtool -K %s-eth0 tx off >/dev/null 2>&1; echo rc=$?' % topo.host_name(h))
            assert 'rc=0' in out, out
        want = sorted(colon(dpid_of(topo.code, n)) for n in topo.switches)
        poll(lambda: sorted(s['switchDPID'] for s in self.get('/wm/core/controller/switches/json')) == want,
             CONNECT_TIMEOUT, 'switches %s connected' % want, interval=0.3, explain=self.explain)
        poll(lambda: self.links() == self.expected_links(), CONVERGE_TIMEOUT, 'every link discovered',
             interval=0.3, explain=lambda: 'links: %s\nexpected: %s' % (self.links(), self.expected_links()))
        return self

    def stop(self):
        try:
            if self.net is not None:
                self.net.stop()
        finally:
            self.controller.stop()

    def explain(self):
        return 'controller log (tail):\n' + '\n'.join(self.controller.log().splitlines()[-40:])

    # --- REST ------------------------------------------------------------------------------------------

    def get(self, path, expect=200):
        status, text, _ = self.controller.get(path)
        assert status == expect, (path, status, text)
        return json.loads(text)

    def links(self):
        return sorted((l['src-switch'], l['src-port'], l['dst-switch'], l['dst-port'], l['direction'])
                      for l in self.get('/wm/topology/links/json'))

    def expected_links(self, without=()):
        out = []
        for a, pa, b, pb in self.topo.links:
            if (a, b) in without or (b, a) in without:
                continue
            ends = sorted([(colon(dpid_of(self.topo.code, a)), pa), (colon(dpid_of(self.topo.code, b)), pb)])
            out.append(ends[0] + ends[1] + ('bidirectional',))
        return sorted(out)

    # --- traffic ---------------------------------------------------------------------------------------

    def ping_round(self, pairs, count=2, wait=2):
        procs = [(src, dst, self.hosts[src].popen(['ping', '-n', '-q', '-c', str(count), '-i', '0.3', '-W',
                                                    str(wait), self.topo.ip(dst)], stdout=subprocess.PIPE,
                                                   stderr=subprocess.STDOUT)) for src, dst in pairs]
        results = {}
        for src, dst, proc in procs:
            try:
                out, _ = proc.communicate(timeout=count * 0.3 + wait + 20)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            found = re.search(r'(\d+) packets transmitted, (\d+) (?:packets )?received', out.decode())
            results[(src, dst)] = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
        return results

    def all_pairs(self):
        return [(a, b) for a in self.hosts for b in self.hosts if a != b]

    def pingall_loss(self, pairs=None):
        results = self.ping_round(pairs or self.all_pairs())
        sent = sum(r[0] for r in results.values())
        lost = sum(r[0] - r[1] for r in results.values())
        return (100.0 * lost / sent if sent else 100.0), results

    def assert_pingall(self, pairs=None):
        loss, results = self.pingall_loss(pairs)
        assert loss == 0, 'pingall lost %.0f%%: %s\n%s' % (loss, {k: v for k, v in results.items() if v[0] != v[1]},
                                                         self.explain())

    def dump_flows(self, n):
        return dump_flows(self.topo.switch_name(n))


@pytest.fixture
def network(request, tmp_path):
    made = []

    def build(topo, extra_args=ARGS):
        net = ForwardingNetwork(topo, tmp_path, extra_args)
        made.append(net)
        return net.start()

    with bridge_lock('fwd-e2e'):
        try:
            yield build
        finally:
            for net in made:
                net.stop()
    for net in made:
        net.controller.assert_clean_log()


def assert_devices_at_attachment_points(net):
    devices = net.get('/wm/device/')
    seen = {d['mac'][0]: (d['attachmentPoint'], d['ipv4']) for d in devices}
    for h, s, port in net.topo.hosts:
        assert seen.get(net.topo.mac(h)) == (
            [{'switchDPID': colon(dpid_of(net.topo.code, s)), 'port': port, 'errorStatus': None}], [net.topo.ip(h)]), \
            (h, seen)
    one = net.get('/wm/device/?mac=%s' % net.topo.mac(1))
    assert [d['mac'] for d in one] == [[net.topo.mac(1)]]
    assert [d['mac'] for d in net.get('/wm/device/?ipv4=%s' % net.topo.ip(2))] == [[net.topo.mac(2)]]


def assert_only_forwarding_flows(net):
    for n in net.topo.switches:
        flows = net.dump_flows(n)
        assert not [f for f in flows if is_static_flow_cookie(f.cookie)], format_flows(flows)
        assert all(f.cookie == FORWARDING_COOKIE and f.priority == 1 for f in flows), format_flows(flows)


# ---------------------------------------------------------------------------------------------------------

def test_single_switch_pingall_and_a_static_drop_wins(network):
    net = network(SINGLE3)
    net.assert_pingall()
    flows = net.dump_flows(1)
    assert flows and all(f.cookie == FORWARDING_COOKIE and f.priority == 1 and 'idle_timeout=5' in f.line
                         for f in flows), format_flows(flows)
    assert_devices_at_attachment_points(net)

    entry = {'switch': colon(dpid_of(1, 1)), 'name': 'drop-h1', 'priority': '100', 'eth_src': SINGLE3.mac(1)}
    status, text, _ = net.controller.post('/wm/staticflowpusher/json', json.dumps(entry))
    assert status == 200, text
    # "Entry pushed" means stored and sent; the ping waits until OVS has the flow (as a user checks dump-flows)
    poll(lambda: [f for f in net.dump_flows(1) if is_static_flow_cookie(f.cookie) and f.priority == 100], 10,
         'the drop entry in dump-flows')
    # the forwarding flows of h1 may still be installed: the static entry outranks them at once
    loss, results = net.pingall_loss([(1, 2), (1, 3)])
    assert loss == 100, results
    net.assert_pingall([(2, 3), (3, 2)])
    status, text, _ = net.controller.request('DELETE', '/wm/staticflowpusher/json', json.dumps({'name': 'drop-h1'}))
    assert status == 200, text
    poll(lambda: net.pingall_loss([(1, 2), (1, 3)])[0] == 0, 15, 'h1 reaching the others again')


def test_linear4_pingall_tcp_devices_and_statistics(network):
    net = network(LINEAR4)
    net.assert_pingall()
    assert_only_forwarding_flows(net)
    assert_devices_at_attachment_points(net)
    assert net.get('/wm/topology/switchclusters/json') == {
        colon(dpid_of(2, 1)): [colon(dpid_of(2, n)) for n in (1, 2, 3, 4)]}
    route = net.get('/wm/topology/route/%s/1/%s/1/json' % (colon(dpid_of(2, 1)), colon(dpid_of(2, 4))))
    assert [(h['switch'], h['port']['portNumber']) for h in route] == [
        (colon(dpid_of(2, 1)), 1), (colon(dpid_of(2, 1)), 2), (colon(dpid_of(2, 2)), 3), (colon(dpid_of(2, 2)), 2),
        (colon(dpid_of(2, 3)), 3), (colon(dpid_of(2, 3)), 2), (colon(dpid_of(2, 4)), 3), (colon(dpid_of(2, 4)), 1)]

    # TCP end to end, h1 -> h4 across the four switches
    server = net.hosts[4].popen(['iperf', '-s', '-p', '5201'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(0.5)  # iperf has no readiness signal; the client retries below anyway
        deadline = time.monotonic() + 30
        while True:
            out = net.hosts[1].cmd('timeout 20 iperf -c %s -p 5201 -n 2M -y C' % LINEAR4.ip(4)).strip()
            fields = out.splitlines()[-1].split(',') if out else []
            if len(fields) >= 8 and int(fields[7]) >= 2 * 1024 * 1024:
                break
            assert time.monotonic() < deadline, 'iperf h1 -> h4 failed: %s' % out
    finally:
        server.kill()
        server.communicate()

    # statistics against ovs-ofctl: a static entry's counters, forwarding flows, port counters
    dpid = colon(dpid_of(2, 2))
    entry = {'switch': dpid, 'name': 'stats-probe', 'priority': '200', 'eth_type': '0x9999', 'actions': ''}
    assert net.controller.post('/wm/staticflowpusher/json', json.dumps(entry))[0] == 200
    poll(lambda: [f for f in net.dump_flows(2) if is_static_flow_cookie(f.cookie)], 10, 'the probe entry')
    before = net.dump_flows(2)
    flows = net.get('/wm/core/switch/%s/flow/json' % dpid)['flows']
    after = net.dump_flows(2)
    probe = [f for f in flows if is_static_flow_cookie(int(f['cookie']))]
    ovs_probe = [f for f in after if is_static_flow_cookie(f.cookie)]
    assert len(probe) == 1 and len(ovs_probe) == 1
    assert (int(probe[0]['cookie']), int(probe[0]['priority']), probe[0]['match'], probe[0]['actions']) == (
        ovs_probe[0].cookie, 200, {'eth_type': '0x0x9999'}, {'none': 'drop'})
    ovs_keys = {(f.cookie, f.priority, f.match.get('in_port'), f.match.get('dl_src'), f.match.get('dl_dst'))
                for f in before + after}
    for flow in flows:
        if int(flow['cookie']) == FORWARDING_COOKIE:
            key = (FORWARDING_COOKIE, 1, flow['match'].get('in_port'), flow['match'].get('eth_src'),
                   flow['match'].get('eth_dst'))
            assert key in ovs_keys, (flow, format_flows(before))
    assert any(int(f['cookie']) == FORWARDING_COOKIE for f in flows)

    ports_before = dump_ports(LINEAR4.switch_name(2))
    reply = net.get('/wm/core/switch/%s/port/json' % dpid)['port_reply'][0]['port']
    ports_after = dump_ports(LINEAR4.switch_name(2))
    assert sorted(p['portNumber'] for p in reply) == sorted(ports_after)
    for p in reply:
        for key, ovs_key in (('receivePackets', 'rx_pkts'), ('transmitPackets', 'tx_pkts'),
                             ('receiveBytes', 'rx_bytes'), ('transmitBytes', 'tx_bytes')):
            assert ports_before[p['portNumber']][ovs_key] <= int(p[key]) <= ports_after[p['portNumber']][ovs_key], \
                (p, ports_before, ports_after)
    desc = net.get('/wm/core/switch/%s/desc/json' % dpid)['desc']
    assert (desc['manufacturerDescription'], desc['hardwareDescription']) == ('Nicira, Inc.', 'Open vSwitch')
    everyone = net.get('/wm/core/switch/all/aggregate/json')
    assert sorted(everyone) == [colon(dpid_of(2, n)) for n in (1, 2, 3, 4)]
    summary = net.get('/wm/core/controller/summary/json')
    assert summary['# Switches'] == 4 and summary['# inter-switch links'] == 6 and summary['# hosts'] == 4


def dump_ports(bridge):
    """{port name as Floodlight prints it: {rx_pkts, tx_pkts, rx_bytes, tx_bytes}} from ovs-ofctl dump-ports."""
    text = subprocess.run(['ovs-ofctl', '-O', 'OpenFlow10', 'dump-ports', bridge], capture_output=True, text=True,
                          timeout=15, check=True).stdout
    out = {}
    for block in re.split(r'\n\s*(?=port\s)', text):
        found = re.match(r'\s*port\s+"?(\w+)"?:\s*rx pkts=(\d+), bytes=(\d+).*?tx pkts=(\d+), bytes=(\d+)', block, re.S)
        if found:
            out[found.group(1).lower()] = {'rx_pkts': int(found.group(2)), 'rx_bytes': int(found.group(3)),
                                           'tx_pkts': int(found.group(4)), 'tx_bytes': int(found.group(5))}
    return out


def test_tree_depth2_fanout2_pingall_and_devices(network):
    net = network(TREE22)
    net.assert_pingall()
    assert_only_forwarding_flows(net)
    assert_devices_at_attachment_points(net)


def test_ring4_pingall_and_reroute_when_a_link_goes_down(network):
    net = network(RING4)
    net.assert_pingall()
    assert_devices_at_attachment_points(net)
    route = net.get('/wm/topology/route/%s/1/%s/1/json' % (colon(dpid_of(4, 1)), colon(dpid_of(4, 3))))
    assert [h['switch'] for h in route][2:4] == [colon(dpid_of(4, 2))] * 2   # s1 - s2 - s3 (lower DPID first)

    net.net.configLinkStatus(RING4.switch_name(1), RING4.switch_name(2), 'down')
    poll(lambda: net.links() == net.expected_links(without=[(1, 2)]), 15, 'the s1-s2 link to leave the list',
         explain=lambda: str(net.links()))
    route = net.get('/wm/topology/route/%s/1/%s/1/json' % (colon(dpid_of(4, 1)), colon(dpid_of(4, 3))))
    assert [h['switch'] for h in route][2:4] == [colon(dpid_of(4, 4))] * 2   # the other side of the ring
    poll(lambda: net.pingall_loss([(1, 3), (3, 1), (1, 2), (2, 1)])[0] == 0, 20, 'pings over the other side')
    net.assert_pingall()
    assert not [f for f in net.dump_flows(1) if f.actions == 'output:2'], format_flows(net.dump_flows(1))

    net.net.configLinkStatus(RING4.switch_name(1), RING4.switch_name(2), 'up')
    poll(lambda: net.links() == net.expected_links(), 20, 'the s1-s2 link to come back',
         explain=lambda: str(net.links()))
    poll(lambda: net.pingall_loss()[0] == 0, 20, 'pingall with the ring whole again')
