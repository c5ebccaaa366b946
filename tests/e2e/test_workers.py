"""`--workers 2` on Mininet and a userspace Open vSwitch (docs/scale-out.md, "All cores of one host"): four bridges
in a line spread over two workers, pingall by hop-by-hop reactive forwarding, every bridge listed on the one REST
port, and a worker SIGKILLed: its bridges redial to the other workers and traffic flows again.

Switch names fwk*, DPIDs f5e1:...:05xx (none shared with other tests)."""
import os
import signal

import pytest

from tests.e2e.test_forwarding import ARGS, ForwardingNetwork, Topo, colon, dpid_of, network  # noqa: F401
from tests.e2e.conftest import poll

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings('ignore:distutils Version classes are deprecated:DeprecationWarning'),
]

LINE4 = Topo('fwk', 5, [1, 2, 3, 4], [(n, n, 1) for n in (1, 2, 3, 4)], [(1, 2, 2, 3), (2, 2, 3, 3), (3, 2, 4, 3)])
WORKERS = ARGS + ('--workers', '2')


def worker_pids(controller):
    with open('/proc/%d/task/%d/children' % (controller.proc.pid, controller.proc.pid)) as handle:
        return [int(pid) for pid in handle.read().split()]


def listed_switches(net):
    """The switch list, or None while a request is lost: one handed to the killed worker in the milliseconds
    before the kernel closed its end of the channel is reset (docs/scale-out.md, "Limits"); a user retries."""
    try:
        return sorted(s['switchDPID'] for s in net.get('/wm/core/controller/switches/json'))
    except OSError:
        return None


@pytest.fixture
def workers_network(network, monkeypatch):  # noqa: F811
    # Links between bridges of different workers are not discovered (each worker's LLDP sees its own bridges
    # only): the network is up once every bridge is connected.
    monkeypatch.setattr(ForwardingNetwork, 'expected_links', lambda self, without=(): self.links())
    return network


def test_line_over_two_workers_pingall_and_a_killed_worker(workers_network):
    net = workers_network(LINE4, WORKERS)
    pids = worker_pids(net.controller)
    assert len(pids) == 2
    want = sorted(colon(dpid_of(LINE4.code, n)) for n in LINE4.switches)
    assert sorted(s['switchDPID'] for s in net.get('/wm/core/controller/switches/json')) == want

    def every_bridge_has_its_hop():
        # The fixture cannot wait for the links here (which bridges share a worker, and so which links a worker
        # discovers, is the supervisor's choice): the first pings may meet ports still in their quarantine, and a
        # link found after them deletes that worker's flows. Ping until every pair answers and every bridge
        # holds its own hop from its own worker.
        return net.pingall_loss()[0] == 0 and all([f for f in net.dump_flows(n) if 'dl_dst' in f.match]
                                                   for n in LINE4.switches)
    poll(every_bridge_has_its_hop, 20, 'forwarding flows on every bridge', interval=1.0,
         explain=lambda: '\n'.join('%d: %s' % (n, net.dump_flows(n)) for n in LINE4.switches))
    victim = pids[0]
    os.kill(victim, signal.SIGKILL)
    poll(lambda: listed_switches(net) == want and victim not in worker_pids(net.controller), 30,
         'every bridge back on a live worker', interval=0.5, explain=net.explain)
    poll(lambda: net.pingall_loss()[0] == 0, 30, 'pingall again', interval=1.0, explain=net.explain)
