"""`--workers 2` (docs/scale-out.md, "All cores of one host"): one supervisor holding the OpenFlow and REST ports,
two worker processes sharing the store. Emulated switches connect to the one OpenFlow port; which worker serves
each one is read from /proc (the worker process holding the connection's socket)."""
import json
import os
import signal
import socket
import struct
import subprocess
import time

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.lib.controller import wait_for
from tests.protocol.helpers import colon_dpid, push_ok, wait_synced
from tests.protocol.ofpeer import OFPeer

pytestmark = pytest.mark.protocol

WORKERS = ('--workers', '2', '--port-quarantine', '0.2')
DPIDS = [0xc0de000000000001 + n for n in range(4)]
H1 = bytes.fromhex('020000000b01')
H2 = bytes.fromhex('020000000b02')


def worker_pids(controller):
    """The supervisor's live children: its workers."""
    with open('/proc/%d/task/%d/children' % (controller.proc.pid, controller.proc.pid)) as handle:
        return [int(pid) for pid in handle.read().split()]


def wait_workers_ready(controller, count=2, timeout=30):
    """Until `count` workers have said ready (the supervisor logs it)."""
    wait_for(lambda: controller.log().count(') ready') >= count, timeout, what='%d workers ready' % count)
    time.sleep(1.5)  # and their load reports no longer count the connection ControllerProcess.start probed with


def socket_inodes(pid):
    out = set()
    try:
        names = os.listdir('/proc/%d/fd' % pid)
    except FileNotFoundError:
        return out
    for name in names:
        try:
            target = os.readlink('/proc/%d/fd/%s' % (pid, name))
        except OSError:
            continue
        if target.startswith('socket:['):
            out.add(int(target[8:-1]))
    return out


def serving_pid(controller, peer):
    """The worker whose socket is the controller's end of `peer`'s connection (None: no process holds it)."""
    inode = None
    with open('/proc/net/tcp') as handle:
        for line in handle.readlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].split(':')[1], 16)
            remote_port = int(fields[2].split(':')[1], 16)
            if local_port == controller.ofp_port and remote_port == peer.local_port:
                inode = int(fields[9])
    for pid in worker_pids(controller):
        if inode in socket_inodes(pid):
            return pid
    return None


def listed_dpids(controller):
    status, text, _ = controller.get('/wm/core/controller/switches/json')
    assert status == 200, (status, text)
    return sorted(entry['switchDPID'] for entry in json.loads(text))


def connect(controller, dpid, peers, **options):
    peer = OFPeer(controller.ofp_port, dpid, **options)
    peers.append(peer)
    peer.connect()
    peer.wait_ready(timeout=10)
    wait_synced(peer, timeout=10)
    return peer


@pytest.fixture
def peers():
    made = []
    yield made
    for peer in made:
        peer.close()


def entry(name, dpid, port):
    return {'switch': colon_dpid(dpid), 'name': name, 'priority': '300', 'in_port': str(port),
            'active': 'true', 'actions': 'output=2'}


def wait_entry_flow(peer, port, since=0, timeout=5):
    return peer.wait_for(lambda msgs: [m for m in peer.flow_mods(since) if m.match.in_port == port
                                       and m.command == ofp.OFPFC_ADD and m.priority == 300],
                         timeout, what='the static entry on in_port %d' % port)


def test_switches_spread_over_workers_and_listed_on_one_port(start_controller, peers):
    controller = start_controller(WORKERS)
    wait_workers_ready(controller)
    for dpid in DPIDS:
        connect(controller, dpid, peers)
    owners = {peer.dpid: serving_pid(controller, peer) for peer in peers}
    workers = worker_pids(controller)
    assert len(workers) == 2 and set(owners.values()) == set(workers), (owners, workers)
    assert sorted(list(owners.values()).count(pid) for pid in workers) == [2, 2]  # the fewest get the next
    # Every REST connection goes to a worker in turn: each of several answers lists every switch.
    for _ in range(4):
        assert listed_dpids(controller) == sorted(colon_dpid(d) for d in DPIDS)
    # One switch's live state is its owner's answer, whichever worker the request reached.
    for _ in range(2):
        for dpid in DPIDS:
            assert role(controller, dpid) == 'MASTER'
            status, text, _ = controller.get('/wm/core/switch/%s/flow/json' % colon_dpid(dpid))
            assert status == 200 and json.loads(text) == {'flows': []}, (status, text)  # not 404 from the other
        assert roles(controller) == {colon_dpid(dpid): 'MASTER' for dpid in DPIDS}  # merged
        status, text, _ = controller.get('/wm/core/switch/all/flow/json')
        assert status == 200 and sorted(json.loads(text)) == sorted(colon_dpid(d) for d in DPIDS), (status, text)


def test_pushes_reach_switches_of_either_worker(start_controller, peers):
    controller = start_controller(WORKERS)
    wait_workers_ready(controller)
    a = connect(controller, DPIDS[0], peers)
    b = connect(controller, DPIDS[1], peers)
    assert serving_pid(controller, a) != serving_pid(controller, b)
    for round_number in range(3):  # REST connections alternate between the workers: each push meets both
        marks = a.mark(), b.mark()
        started = time.monotonic()
        push_ok(controller, entry('a%d' % round_number, a.dpid, 10 + round_number))
        push_ok(controller, entry('b%d' % round_number, b.dpid, 10 + round_number))
        wait_entry_flow(a, 10 + round_number, marks[0])
        wait_entry_flow(b, 10 + round_number, marks[1])
        assert time.monotonic() - started < 2.0  # the other worker picks a commit up within its watch interval


def redial(controller, peers):
    """Play OVS: every emulated switch the controller closed connects again (with an empty flow table, as a switch
    that restarted too). -> True when all are connected and past their handshake."""
    for index, peer in enumerate(list(peers)):
        if not peer.connected:
            again = OFPeer(controller.ofp_port, peer.dpid)
            again.connect()
            peers[index] = again
    return all(peer.connected and peer.features_sent for peer in peers)


def role(controller, dpid):
    """The switch's role as the REST answer (whichever worker the request reaches) shows it, or the status."""
    status, text, _ = controller.get('/wm/core/switch/%s/role/json' % colon_dpid(dpid))
    return json.loads(text).get(colon_dpid(dpid)) if status == 200 else status


def split(controller, peers):
    """Sorted switch counts per live worker."""
    owners = [serving_pid(controller, peer) for peer in peers]
    return sorted(owners.count(pid) for pid in worker_pids(controller))


def test_sigkill_of_a_worker_its_switches_come_back_with_their_entries_and_balance(start_controller, peers):
    controller = start_controller(WORKERS)
    wait_workers_ready(controller)
    for dpid in DPIDS:
        connect(controller, dpid, peers)
    for peer in peers:
        push_ok(controller, entry('e%x' % peer.dpid, peer.dpid, 7))
    for peer in peers:
        wait_entry_flow(peer, 7)
    victim = serving_pid(controller, peers[0])
    orphans = [peer for peer in peers if serving_pid(controller, peer) == victim]
    os.kill(victim, signal.SIGKILL)
    for peer in orphans:
        peer.wait_closed(timeout=5)
    # The switches redial and the survivor takes them; once the supervisor has started a worker again, the
    # survivor holds more than its share and closes two sessions, which redial to the new worker.
    wait_for(lambda: redial(controller, peers) and victim not in worker_pids(controller) and
             len(worker_pids(controller)) == 2 and split(controller, peers) == [2, 2], 40, interval=0.2,
             what='the switches back, two on each worker (a new one among them)')
    assert controller.log().count(') ready') == 3
    for peer in peers:  # every switch, restarted empty, has its entry again from its new master
        wait_for(lambda: [f for f in peer.flow_table().values() if f.priority == 300 and f.match.in_port == 7], 10,
                 what='the entry on %x' % peer.dpid)
        wait_for(lambda: role(controller, peer.dpid) == 'MASTER', 5, what='%x mastered' % peer.dpid)
    assert listed_dpids(controller) == sorted(colon_dpid(d) for d in DPIDS)
    status, text, _ = controller.get('/wm/staticflowpusher/list/all/json')
    assert sorted(name for per_switch in json.loads(text).values() for item in per_switch for name in item) == \
        sorted('e%x' % d for d in DPIDS)


def arp_request(src):
    body = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + src + bytes((10, 0, 0, 1)) + bytes(6) + bytes((10, 0, 0, 2))
    return b'\xff' * 6 + src + b'\x08\x06' + body


def ip_frame(dst, src):
    return dst + src + b'\x08\x00' + bytes(12) + bytes((10, 0, 0, 2)) + bytes((10, 0, 0, 1)) + bytes(30)


def packet_outs(peer, since, data):
    return [m for m in peer.received(ofp.OFPT_PACKET_OUT, since) if m.data == data]


def test_forwarding_hop_by_hop_across_workers(start_controller, peers):
    """h1 on s1:1, h2 on s2:1, the cable s1:2 - s2:2; s1 and s2 on different workers. Each worker sees the other's
    switch as what lies beyond an edge port, and installs its own switch's hop: a path over both switches ends
    with a flow on each."""
    controller = start_controller(WORKERS)
    wait_workers_ready(controller)
    s1 = connect(controller, DPIDS[0], peers)
    s2 = connect(controller, DPIDS[1], peers)
    assert serving_pid(controller, s1) != serving_pid(controller, s2)
    time.sleep(0.3)  # the ports' quarantine (0.2 s) passes
    # h1 asks for h2: s1's worker floods it; the copy out of s1:2 arrives at s2:2, whose worker floods it to h2.
    request = arp_request(H1)
    marks = s1.mark(), s2.mark()
    s1.send_packet_in(1, request)
    flood = s1.wait_for(lambda msgs: packet_outs(s1, marks[0], request), what='the flood on s1')[0]
    assert 2 in [action.port for action in flood.actions]
    s2.send_packet_in(2, request)
    flood = s2.wait_for(lambda msgs: packet_outs(s2, marks[1], request), what='the flood on s2')[0]
    assert 1 in [action.port for action in flood.actions]
    # h2 answers h1: s2's worker installs s2's hop (1 -> 2) and sends the packet on; s1's worker installs s1's.
    answer = ip_frame(H1, H2)
    s2.send_packet_in(1, answer)
    hop = s2.wait_for(lambda msgs: [m for m in s2.flow_mods(marks[1]) if m.match.dl_dst == H1], what='s2 hop')[0]
    assert (hop.match.in_port, [action.port for action in hop.actions]) == (1, [2])
    s1.send_packet_in(2, answer)
    hop = s1.wait_for(lambda msgs: [m for m in s1.flow_mods(marks[0]) if m.match.dl_dst == H1], what='s1 hop')[0]
    assert (hop.match.in_port, [action.port for action in hop.actions]) == (2, [1])


def roles(controller):
    status, text, _ = controller.get('/wm/core/switch/all/role/json')
    assert status == 200, (status, text)
    return json.loads(text)


def test_instances_sharing_a_store_split_the_switches(start_controller, tmp_path, peers):
    """Without --workers: two instances on one store, every switch connected to both (OVS with two controllers).
    The first takes every switch; once the second renews, the first holds more than ceil(4 / 2) and gives two up,
    which the second takes."""
    db = str(tmp_path / 'shared.sqlite3')
    first = start_controller(db_path=db)
    for dpid in DPIDS:
        peer = OFPeer(first.ofp_port, dpid)
        peers.append(peer)
        peer.connect()
    wait_for(lambda: sorted(roles(first).values()) == ['MASTER'] * 4, 10, what='the first instance masters all')
    second = start_controller(db_path=db)
    for dpid in DPIDS:
        peer = OFPeer(second.ofp_port, dpid)
        peers.append(peer)
        peer.connect()
    wait_for(lambda: sorted(roles(first).values()) == ['MASTER', 'MASTER', 'SLAVE', 'SLAVE'] and
             sorted(roles(second).values()) == ['MASTER', 'MASTER', 'SLAVE', 'SLAVE'], 20,
             what='two switches mastered by each instance')
    mastered = {dpid for dpid, role in roles(first).items() if role == 'MASTER'}
    assert mastered.isdisjoint(dpid for dpid, role in roles(second).items() if role == 'MASTER')
    assert 'gives up' in first.log() and 'gives up' not in second.log()
    time.sleep(3 * 3.0)  # past the hold-off (two leases): it stays that way
    assert {dpid for dpid, role in roles(first).items() if role == 'MASTER'} == mastered


def test_a_taken_port_or_a_setting_a_worker_cannot_start_with_ends_the_supervisor_with_status_2(tmp_path):
    from tests.lib.controller import ControllerProcess

    with socket.socket() as taken:
        taken.bind(('0.0.0.0', 0))
        taken.listen()
        controller = ControllerProcess(tmp_path, ofp_port=taken.getsockname()[1], extra_args=WORKERS)
        assert subprocess.run(controller.command(), cwd=str(tmp_path), capture_output=True,
                              timeout=60).returncode == 2
    bad = tmp_path / 'not-a-certificate.pem'
    bad.write_text('garbage')
    controller = ControllerProcess(tmp_path, extra_args=WORKERS + ('--rest-cert', str(bad), '--rest-key', str(bad)))
    run = subprocess.run(controller.command(), cwd=str(tmp_path), capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and 'could not start (exit status 2)' in run.stdout + run.stderr
