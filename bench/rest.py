"""Benchmark 3: static flow pushes over REST, counted only once the switch has them.

Ours: POST /wm/staticflowpusher/json; an entry counts when the emulated switch has answered the barrier that
follows its flow-mod (the controller sends one after every push), i.e. when the controller itself can know.
Peer: ryu.app.ofctl_rest's POST /stats/flowentry/add, which sends the flow-mod and no barrier; its entries
count as soon as the switch has received all the flow-mods (a barrier round trip sooner than ours).
"""
import json
import threading
import time

from bench.controllers import Controller
from bench.httpclient import KeepAliveClient
from bench.switch import EmulatorLoop, Switch

DPID = 0x0000000000c00001
OURS_URL = '/wm/staticflowpusher/json'
PEER_URL = '/stats/flowentry/add'


def colon_dpid(dpid):
    return ':'.join('%02x' % ((dpid >> shift) & 0xff) for shift in range(56, -8, -8))


def ipv4(i):
    return '10.%d.%d.%d' % ((i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)


def ours_body(i, dpid=DPID, prefix='bench'):
    return json.dumps({'switch': colon_dpid(dpid), 'name': '%s-%07d' % (prefix, i), 'priority': '32768',
                       'eth_type': '0x800', 'ipv4_dst': ipv4(i), 'actions': 'output=2'}).encode()


def peer_body(i, dpid=DPID):
    return json.dumps({'dpid': dpid, 'priority': 32768, 'match': {'dl_type': 2048, 'nw_dst': ipv4(i)},
                       'actions': [{'type': 'OUTPUT', 'port': 2}]}).encode()


def push_all(port, url, bodies, clients):
    """POST every body over `clients` keep-alive connections (each takes every clients-th body)."""
    errors = []

    def worker(part):
        client = KeepAliveClient(port)
        try:
            for body in part:
                status, text = client.request('POST', url, body)
                if status != 200:
                    errors.append((status, text[:300]))
                    return
        except Exception as error:  # reported below, with the others
            errors.append(repr(error))
        finally:
            client.close()
    threads = [threading.Thread(target=worker, args=(bodies[k::clients],)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError('REST push failed: %r' % errors[:3])


def run(kind, ctx, count, clients_cases=(1, 8), extra_args=()):
    """-> {clients: dict(rate=entries confirmed per second, seconds, count)} for one controller."""
    loop = EmulatorLoop()
    results = {}
    try:
        with Controller(kind, ctx.workdir, ctx.pinning, extra_args=extra_args) as controller:
            switch = Switch(DPID)
            loop.connect(switch, controller.ofp_port)
            if kind == 'ours':
                switch.synced.wait(10)  # the connect-time reconcile is over
            wait_known(kind, controller, DPID)
            offset = 0
            for clients in clients_cases:
                make = ours_body if kind == 'ours' else peer_body
                bodies = [make(offset + i) for i in range(count)]
                loop.run(switch.reset_counters, count)
                cpu_before = controller.cpu_seconds()
                began = time.perf_counter()
                push_all(controller.rest_port, OURS_URL if kind == 'ours' else PEER_URL, bodies, clients)
                replied = time.perf_counter()
                event = switch.confirmed if kind == 'ours' else None
                done_at = _wait_done(switch, event, timeout=60)
                # The controller's CPU time per entry (user + system): steadier than the rate on a shared machine.
                cpu_us = (controller.cpu_seconds() - cpu_before) / count * 1e6
                results[clients] = {'rate': count / (done_at - began), 'seconds': done_at - began, 'count': count,
                                    'replies_seconds': replied - began, 'controller_cpu_us_per_entry': cpu_us}
                offset += count
                if kind == 'ours':  # not timed: the controller's own view agrees with the switch's
                    results[clients]['installed'] = _wait_installed(controller, offset)
            loop.disconnect(switch)
    finally:
        loop.stop()
    return results


def floor(ctx, count, clients_cases=(1, 8)):
    """The REST floor: the same client against bench.nullrest (our HTTP server answering every push at once).
    -> {clients: dict(rate=replies per second, seconds, count, server_cpu_us_per_request)}."""
    results = {}
    with Controller('null_rest', ctx.workdir, ctx.pinning) as server:
        for clients in clients_cases:
            bodies = [ours_body(i) for i in range(count)]
            cpu_before = server.cpu_seconds()
            began = time.perf_counter()
            push_all(server.rest_port, OURS_URL, bodies, clients)
            seconds = time.perf_counter() - began
            results[clients] = {'rate': count / seconds, 'seconds': seconds, 'count': count,
                                'server_cpu_us_per_request': (server.cpu_seconds() - cpu_before) / count * 1e6}
    return results


def wait_known(kind, controller, dpid, timeout=30.0):
    """Until the controller accepts entries for the switch (ofctl_rest answers 404 for a dpid it does not know
    yet; ours is ready once its connect-time reconcile is over, which the switch sees as a barrier)."""
    deadline = time.monotonic() + timeout
    client = KeepAliveClient(controller.rest_port)
    try:
        while time.monotonic() < deadline:
            if kind == 'ours':
                path = '/wm/core/controller/switches/json'
                status, body = client.request('GET', path)
                if status == 200 and colon_dpid(dpid).encode() in body:
                    return
            else:
                status, body = client.request('GET', '/stats/switches')
                if status == 200 and dpid in json.loads(body):
                    return
            time.sleep(0.005)
    finally:
        client.close()
    raise RuntimeError('%s does not list switch %#x after %s s' % (kind, dpid, timeout))


def _wait_done(switch, event, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if event is not None:
            if event.wait(0.01):
                return switch.confirmed_at
        elif switch.reached_at is not None:
            return switch.reached_at
        else:
            time.sleep(0.002)
    raise RuntimeError('switch has %d of %d flow-mods after %s s' % (switch.flow_mods, switch.flow_mod_target,
                                                                     timeout))


def _wait_installed(controller, count, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        n = installed_count(controller, DPID)
        if n == count or time.monotonic() > deadline:
            return n
        time.sleep(0.05)


def installed_count(controller, dpid):
    client = KeepAliveClient(controller.rest_port)
    try:
        status, body = client.request('GET', '/wm/staticflowpusher/status/%s/json' % colon_dpid(dpid))
    finally:
        client.close()
    if status != 200:
        raise RuntimeError('status endpoint answered %s' % status)
    return sum(1 for s in json.loads(body).get(colon_dpid(dpid), {}).values() if s and s['state'] == 'installed')
