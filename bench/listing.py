"""Benchmark: the echo round trip of a connected switch while REST clients list every static entry.

Ours: a store of `entries` static entries (for a switch that is not connected, so nothing is sent to a switch) is
written before the controller starts. One emulated switch connects and sends an ECHO_REQUEST every 5 ms, one at a
time, on a plain blocking socket; meanwhile `clients` HTTP clients each GET /wm/staticflowpusher/list/all/json.
The figure is the longest echo round trip seen while any listing was in progress (Open vSwitch drops a bridge's
controller connection when its echo goes unanswered for its inactivity probe, 5 s by default).

The peer, Ryu's ofctl_rest, keeps no entries: the nearest listing it has is GET /stats/flow/<dpid>, here of an
emulated switch holding `entries` flows, with the same echo probe and clients.
"""
import http.client
import struct
import os
import socket
import statistics
import threading
import time

from bench import ofwire as w
from bench.controllers import Controller
from bench.switch import EmulatorLoop, Switch, read_messages

LISTED_DPID = 0x00000000000000e1
PROBE_DPID = 0x00000000000000e2
PROBE_INTERVAL = 0.005


def seed(db_path, entries):
    """Write `entries` static entries for LISTED_DPID into a new store (one transaction)."""
    from controller.entrystore import EntryStore
    from rest import floodlight
    switch = ':'.join('%02x' % b for b in LISTED_DPID.to_bytes(8, 'big'))
    store = EntryStore(db_path)
    store.save_all([(floodlight.parse_entry({'switch': switch, 'name': 'list-%06d' % i, 'eth_type': '0x800',
                                             'ipv4_dst': '10.%d.%d.%d' % (i >> 16, (i >> 8) & 255, i & 255),
                                             'actions': 'output=2'}, floodlight.DIALECT_V1),
                     floodlight.DIALECT_V1.name) for i in range(entries)])
    store.close()


class EchoProbe:
    """A switch on a blocking socket that answers what the controller asks (bench.switch.Switch.handle) and
    measures ECHO_REQUEST -> ECHO_REPLY round trips."""

    def __init__(self, port, dpid=PROBE_DPID, timeout=60.0):
        self.switch = Switch(dpid, store_flows=False)
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.replies = set()
        self.timeout = timeout
        self.sock.sendall(w.hello(1))
        deadline = time.monotonic() + timeout
        while not self.switch.ready.is_set():
            if time.monotonic() > deadline:
                raise RuntimeError('no handshake')
            self.pump(0.1)
        self.xid = 0x10000

    def pump(self, wait):
        read_messages(self.sock, self.buf, wait, self.handle)

    def handle(self, msg_type, msg, out):
        if msg_type == w.ECHO_REPLY:
            self.replies.add(w.UINT32.unpack_from(msg, 4)[0])
        else:
            self.switch.handle(msg_type, msg, out)

    def rtt(self):
        """-> seconds from an ECHO_REQUEST to its reply."""
        self.xid += 1
        xid = self.xid
        began = time.perf_counter()
        self.sock.sendall(w.message(w.ECHO_REQUEST, xid))
        deadline = time.monotonic() + self.timeout
        while xid not in self.replies:
            if time.monotonic() > deadline:
                raise RuntimeError('no echo reply within %g s' % self.timeout)
            self.pump(self.timeout)
        self.replies.discard(xid)
        return time.perf_counter() - began

    def close(self):
        self.sock.close()


def list_all(port, path, results):
    began = time.perf_counter()
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=300)
    try:
        connection.request('GET', path)
        response = connection.getresponse()
        body = response.read()
        results.append({'status': response.status, 'bytes': len(body), 'seconds': time.perf_counter() - began})
    except Exception as error:  # reported in the results, not a dead thread
        results.append({'status': None, 'error': repr(error), 'seconds': time.perf_counter() - began})
    finally:
        connection.close()


def run(ctx, entries, clients=4, code_root=None):
    """-> dict(max_ms, p99_ms, median_ms, samples, idle_median_ms, listings=[...]) for our controller (of the
    checkout `code_root`, default the benchmarked one)."""
    db_path = os.path.join(ctx.workdir, 'listing-%d-%d.sqlite3' % (entries, os.getpid()))
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(db_path + suffix):
            os.unlink(db_path + suffix)
    seed(db_path, entries)
    with Controller('ours', ctx.workdir, ctx.pinning, db_path=db_path, code_root=code_root) as controller:
        result = _measure(controller, clients, '/wm/staticflowpusher/list/all/json')
    result['entries'] = entries
    return result


def flow_mod(n):
    """An OpenFlow 1.0 ADD of a flow matching IPv4 destination n, output to port 2 (bytes)."""
    wildcards = w.OFPFW_ALL & ~(1 << 4) & ~(0x3f << 14)  # dl_type and every nw_dst bit matched
    match = struct.pack('!IH6s6sHBxHBB2xIIHH', wildcards, 0, bytes(6), bytes(6), 0, 0, 0x0800, 0, 0, 0,
                        0x0a000000 + n, 0, 0)
    body = match + w.FLOW_MOD_FIXED.pack(n, w.OFPFC_ADD, 0, 0, 100, w.NO_BUFFER, w.OFPP_NONE, 0)
    action = struct.pack('!HHHH', 0, 8, 2, 0)
    return w.message(w.FLOW_MOD, 0, body + action)


def run_peer(ctx, entries, clients=4):
    """The same measure for Ryu's ofctl_rest listing the `entries` flows of an emulated switch."""
    loop = EmulatorLoop()
    try:
        with Controller('ofctl_rest', ctx.workdir, ctx.pinning) as controller:
            mods = (flow_mod(n) for n in range(entries))
            big = Switch(LISTED_DPID, flows={(100, bytes(m[w.FLOW_MOD_MATCH])): m for m in mods})
            loop.connect_many([big], controller.ofp_port)
            result = _measure(controller, clients, '/stats/flow/%d' % LISTED_DPID)
    finally:
        loop.stop()
    result['entries'] = entries
    return result


def _measure(controller, clients, path):
    probe = EchoProbe(controller.ofp_port)
    try:
        for _ in range(20):  # the handshake's own work (flow table read, barriers) is over
            probe.rtt()
            time.sleep(0.02)
        idle = [probe.rtt() for _ in range(50)]
        listings = []
        threads = [threading.Thread(target=list_all, args=(controller.rest_port, path, listings), daemon=True)
                   for _ in range(clients)]
        for thread in threads:
            thread.start()
        busy = []
        began = time.perf_counter()
        worst = (0.0, 0.0)
        while any(thread.is_alive() for thread in threads):
            sample = probe.rtt()
            busy.append(sample)
            worst = max(worst, (sample, time.perf_counter() - began))
            time.sleep(PROBE_INTERVAL)
        for thread in threads:
            thread.join()
    finally:
        probe.close()
    busy.sort()
    return {'max_ms': busy[-1] * 1e3, 'p99_ms': busy[min(len(busy) - 1, int(len(busy) * 0.99))] * 1e3,
            'median_ms': statistics.median(busy) * 1e3, 'samples': len(busy), 'worst_at_s': worst[1],
            'idle_median_ms': statistics.median(idle) * 1e3, 'clients': clients, 'listings': listings}
