"""Floodlight's load balancer on Mininet and a userspace Open vSwitch: real TCP connections from a client to the
VIP reach each member in turn, through flows that rewrite the addresses both ways (`ovs-ofctl dump-flows`).

Its own network (switches lbx1, lbx2, DPIDs f5e1:...:1bxx) and controller, built with test_forwarding's helpers.
"""
import json

import pytest

from controller.loadbalancer import LOADBALANCER_COOKIE
from tests.e2e.conftest import format_flows, poll
from tests.e2e.test_forwarding import Topo, network  # noqa: F401 (network is the fixture)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings('ignore:distutils Version classes are deprecated:DeprecationWarning'),
]

# h1 (the client) on lbx1; the members h2 and h3 on lbx2, one link between the switches.
LB_TOPO = Topo('lbx', 0x1b, [1, 2], [(1, 1, 1), (2, 2, 1), (3, 2, 2)], [(1, 2, 2, 3)])
VIP = '10.77.27.100'
PORT = 8000
FETCH = ('python3 -c "import urllib.request; print(urllib.request.urlopen(\'http://%s:%d/\', timeout=5).read()'
         '.decode().strip())"' % (VIP, PORT))


def rest(net, method, path, body):
    status, text, _ = net.controller.request(method, '/quantum/v1.0' + path, json.dumps(body))
    assert status == 200, (method, path, status, text)
    return json.loads(text)


def test_tcp_connections_to_the_vip_reach_each_member_in_turn(network, tmp_path):
    net = network(LB_TOPO)
    rest(net, 'POST', '/vips/', {'id': 'web', 'name': 'web', 'protocol': 'tcp', 'address': VIP, 'port': PORT})
    rest(net, 'POST', '/pools/', {'id': 'web', 'name': 'web', 'protocol': 'tcp', 'vip_id': 'web'})
    for h in (2, 3):
        rest(net, 'POST', '/members/', {'id': 'h%d' % h, 'address': LB_TOPO.ip(h), 'port': PORT, 'pool_id': 'web'})
    servers = []
    try:
        for h in (2, 3):   # each member serves a page naming itself
            root = tmp_path / ('h%d' % h)
            root.mkdir()
            (root / 'index.html').write_text('member h%d\n' % h)
            servers.append(net.hosts[h].popen(['python3', '-m', 'http.server', str(PORT), '--directory', str(root)]))
        net.assert_pingall()   # every host known to the controller, the members above all
        answers = []
        for _ in range(4):
            out = net.hosts[1].cmd(FETCH).strip().splitlines()
            answers.append(out[-1] if out else '')
        assert answers in (['member h2', 'member h3'] * 2, ['member h3', 'member h2'] * 2), \
            '%s\nlbx1:\n%s\n%s' % (answers, format_flows(net.dump_flows(1)), net.explain())
    finally:
        for server in servers:
            server.kill()
            server.communicate()

    lb_flows = [f for f in net.dump_flows(1) if f.cookie == LOADBALANCER_COOKIE]
    inbound = [f for f in lb_flows if f.match.get('nw_dst') == VIP]
    outbound = [f for f in lb_flows if f.match.get('nw_dst') == LB_TOPO.ip(1)]
    assert len(inbound) >= 4 and len(outbound) >= 4, format_flows(lb_flows)   # one pair per connection
    members = {LB_TOPO.ip(2), LB_TOPO.ip(3)}
    assert {f.actions.split('mod_nw_dst:')[1].split(',')[0] for f in inbound} == members, format_flows(inbound)
    assert all('mod_dl_src:12:34:56:78:90:12' in f.actions and 'mod_nw_src:%s' % VIP in f.actions
               for f in outbound), format_flows(outbound)
    poll(lambda: not [f for f in net.dump_flows(2) if f.cookie == LOADBALANCER_COOKIE], 30,
         'the load balancer flows of lbx2 to expire (idle timeout)', interval=1)
