"""Benchmark: the etcd store (`--store etcd://...`, docs/scale-out.md) against the default SQLite store, on a
3-member etcd cluster on loopback (tests/lib/etcdcluster.py; skipped when etcd-server is not installed).

- REST push rate, confirmed by the switch as in bench/rest.py, 1 and 8 clients: etcd against SQLite;
- REST push latency (one client, one push at a time: request sent -> "Entry pushed"), p50 and p99;
- takeover: 3 instances, every emulated switch connected to each; the master of every switch SIGKILLed -> the
  time until another instance holds every switch's claim; and the store's load while nothing happens (etcd
  revisions written and members' CPU per second: keepalives only).
"""
import json
import os
import statistics
import time
import urllib.request

from bench import rest
from bench.controllers import Controller
from bench.httpclient import KeepAliveClient
from bench.switch import EmulatorLoop, Switch
from controller.etcd_client import EtcdClient
from tests.lib.controller import wait_for
from tests.lib.etcdcluster import EtcdCluster, etcd_installed

TAKEOVER_LEASE = 2  # seconds: --mastership-lease of the takeover run (the default, 3, takes a second more)


def run(ctx, args, results):
    if not etcd_installed():
        print('    etcd-server is not installed (make system-deps): skipped', flush=True)
        return
    cluster = EtcdCluster(ctx.tmp('etcd')).start()
    try:
        _rates(ctx, args, results, cluster)
        _latency(ctx, args, results, cluster)
        _takeover(ctx, args, results, cluster)
    finally:
        cluster.remove()


def _rates(ctx, args, results, cluster):
    n = args.rest_entries
    sqlite = rest.run('ours', ctx, n)
    print('    SQLite %s' % sqlite, flush=True)
    etcd = rest.run('ours', ctx, n, extra_args=['--store', cluster.url + '/bench-rate'])
    print('    etcd %s' % etcd, flush=True)
    for clients in (1, 8):
        results.add('REST static flow pushes confirmed/s on etcd (3 members), %d client%s'
                    % (clients, '' if clients == 1 else 's'), 'entries/s', etcd[clients]['rate'],
                    sqlite[clients]['rate'], 'higher',
                    {'entries': n, 'clients': clients, 'ours_detail': etcd[clients], 'peer_detail': sqlite[clients]},
                    peer_name='ours on SQLite', target='- (a quorum commit with an fsync per member per push batch)')


def push_latencies(controller, count, prefix):
    client = KeepAliveClient(controller.rest_port)
    out = []
    try:
        for i in range(count):
            body = rest.ours_body(i, prefix=prefix)
            began = time.perf_counter()
            status, text = client.request('POST', rest.OURS_URL, body)
            out.append(time.perf_counter() - began)
            if status != 200:
                raise RuntimeError('push answered %d: %r' % (status, text[:300]))
    finally:
        client.close()
    return out


def _latency(ctx, args, results, cluster):
    samples = max(20, args.rest_entries // 10)
    measured = {}
    for label, extra in (('sqlite', []), ('etcd', ['--store', cluster.url + '/bench-latency'])):
        loop = EmulatorLoop()
        try:
            with Controller('ours', ctx.workdir, ctx.pinning, extra_args=extra) as controller:
                switch = Switch(rest.DPID)
                loop.connect(switch, controller.ofp_port)
                rest.wait_known('ours', controller, rest.DPID)
                latencies = sorted(push_latencies(controller, samples, 'lat'))
                measured[label] = {'p50_ms': statistics.median(latencies) * 1e3,
                                   'p99_ms': latencies[int(len(latencies) * 0.99) - 1] * 1e3}
                loop.disconnect(switch)
        finally:
            loop.stop()
    print('    push latency %s' % measured, flush=True)
    for key, label in (('p50_ms', 'p50'), ('p99_ms', 'p99')):
        results.add('REST push latency %s on etcd, one client' % label, 'ms', measured['etcd'][key],
                    measured['sqlite'][key], 'lower', {'samples': samples, 'detail': measured},
                    peer_name='ours on SQLite', target='- (request sent -> "Entry pushed")')


def _member_cpu(cluster):
    total = 0.0
    for proc in cluster.procs:
        if proc is not None:
            with open('/proc/%d/stat' % proc.pid) as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    return total


def _holders(controller):
    # urllib: a large answer comes in chunks, which the bench's keep-alive client does not take apart
    try:
        with urllib.request.urlopen(controller.base_url + '/wm/core/role/json', timeout=10) as resp:
            doc = json.loads(resp.read())
    except (OSError, ValueError):
        return None, {}
    return doc.get('instance'), doc.get('masters', {})


def _takeover(ctx, args, results, cluster):
    count = args.scaleout_switches
    url = cluster.url + '/bench-takeover'
    extra = ['--store', url, '--mastership-lease', str(TAKEOVER_LEASE)]
    loop = EmulatorLoop()
    instances = [Controller('ours', ctx.workdir, ctx.pinning, extra_args=extra).start() for _ in range(3)]
    try:
        dpids = [0xbe0000 + i for i in range(count)]
        first = [Switch(dpid) for dpid in dpids]
        loop.connect_many(first, instances[0].ofp_port)  # the first instance connected first: it claims all
        master_id = wait_for(lambda: _all_held_by(instances[0], dpids), 30, interval=0.01,
                             what='the first instance to claim every switch')
        for controller in instances[1:]:
            loop.connect_many([Switch(dpid) for dpid in dpids], controller.ofp_port)
        time.sleep(2.0)  # the standbys' sessions settle
        revision_before, cpu_before, idle_began = _revision(cluster), _member_cpu(cluster), time.monotonic()
        time.sleep(5.0)
        idle = time.monotonic() - idle_began
        load = {'revisions_per_s': (_revision(cluster) - revision_before) / idle,
                'member_cpu_percent': (_member_cpu(cluster) - cpu_before) / idle * 100}
        instances[0].proc.kill()
        killed = time.monotonic()
        wait_for(lambda: _none_held_by(instances[1], dpids, master_id), 30, interval=0.01,
                 what='another instance to claim every switch')
        took = time.monotonic() - killed
        print('    %d switches: takeover %.2f s (lease %d s); idle store load %s' % (count, took, TAKEOVER_LEASE,
                                                                                   load), flush=True)
        results.add('takeover on etcd, %d switches x 3 instances: SIGKILL -> every switch claimed again'
                    % count, 's', took, TAKEOVER_LEASE, 'lower',
                    {'switches': count, 'instances': 3, 'lease_s': TAKEOVER_LEASE, 'idle_store_load': load},
                    peer_name='the lease TTL', target='< 3 s', met=took < 3.0,
                    miss=None if took < 3.0 else '+%.2f s' % (took - 3.0))
        results.add('etcd members\' CPU while idle, %d switches x 3 instances' % count, '%',
                    load['member_cpu_percent'], 0, 'lower', {'revisions_per_s': load['revisions_per_s']},
                    peer_name='nothing', target='- (keepalives only: no revision is written while idle)')
    finally:
        for controller in instances:
            controller.stop()
        loop.stop()


def _all_held_by(controller, dpids):
    instance, masters = _holders(controller)
    return instance if len(masters) == len(dpids) and set(masters.values()) == {instance} else None


def _none_held_by(controller, dpids, gone):
    _, masters = _holders(controller)
    return len(masters) == len(dpids) and gone not in masters.values()


def _revision(cluster):
    return EtcdClient(cluster.endpoints).range('/', limit=1)[1]
