"""Benchmark 4: a switch with many stored entries connects; time until all are confirmed installed.

Ours, fresh: entries already in SQLite, the switch's table empty (a new switch, or a standalone bridge that
flushed in fail-open). Timed from the start of the TCP connect to the moment the controller's status endpoint
shows every entry `installed` (polled every 20 ms once the switch answered the last barrier).
Ours, unchanged secure mode: the same switch reconnects with every flow still in its table; the controller
reads the table and should send zero flow-mods. Timed the same way, flow-mods counted at the switch.
Peer: Ryu keeps no entries, so its nearest equivalent is a script that re-pushes every entry through
ryu.app.ofctl_rest when the switch connects (one keep-alive client); timed from the connect until the switch
holds them all. It sends every flow-mod again whether or not the switch kept them.
"""
import time

from bench import rest
from bench.controllers import Controller
from bench.switch import EmulatorLoop, Switch
from controller.entrystore import EntryStore
from rest import floodlight

DPID = 0x0000000000d00001


def preload(db_path, dpids, per_switch):
    """Write per_switch entries for each dpid straight into the store, in one transaction."""
    import json
    store = EntryStore(db_path)
    store.db.execute('BEGIN')
    for dpid in dpids:
        for i in range(per_switch):
            entry = floodlight.parse_entry(json.loads(rest.ours_body(i, dpid, prefix='s%x' % dpid)),
                                           floodlight.DIALECT_V1)
            store.save(entry, floodlight.DIALECT_V1.name)
    store.db.execute('COMMIT')
    store.close()


def wait_installed(controller, dpid, count, timeout, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        n = rest.installed_count(controller, dpid)
        if n == count:
            return time.perf_counter()
        if time.monotonic() > deadline:
            raise RuntimeError('%d of %d entries installed after %s s' % (n, count, timeout))
        time.sleep(interval)


def run_ours(ctx, count, extra_args=()):
    db_path = ctx.tmp('reconnect-%d.sqlite3' % count)
    preload(db_path, [DPID], count)
    loop = EmulatorLoop()
    try:
        with Controller('ours', ctx.workdir, ctx.pinning, db_path=db_path, extra_args=extra_args) as controller:
            timeout = max(60.0, count / 200.0)
            switch = Switch(DPID)
            switch.reset_counters(count)
            began = loop.connect(switch, controller.ofp_port)
            if not switch.confirmed.wait(timeout):
                raise RuntimeError('switch got %d of %d flow-mods' % (switch.flow_mods, count))
            fresh = wait_installed(controller, DPID, count, timeout) - began
            fresh_switch = switch.confirmed_at - began
            fresh_flow_mods = switch.flow_mods

            loop.disconnect(switch)  # keeps its flows, as a secure-mode bridge does
            wait_installed(controller, DPID, 0, timeout)  # the controller has seen it go
            loop.run(switch.reset_counters, None)
            began = loop.connect(switch, controller.ofp_port)
            if not switch.synced.wait(timeout):
                raise RuntimeError('no barrier after the flow table was read')
            unchanged = wait_installed(controller, DPID, count, timeout) - began
            unchanged_flow_mods = switch.flow_mods
            loop.disconnect(switch)
    finally:
        loop.stop()
    return {'fresh_s': fresh, 'fresh_switch_s': fresh_switch, 'fresh_flow_mods': fresh_flow_mods,
            'unchanged_s': unchanged, 'unchanged_flow_mods': unchanged_flow_mods}


def run_peer(ctx, count):
    loop = EmulatorLoop()
    try:
        with Controller('ofctl_rest', ctx.workdir, ctx.pinning) as controller:
            switch = Switch(DPID)
            switch.reset_counters(count)
            began = loop.connect(switch, controller.ofp_port)
            rest.wait_known('ofctl_rest', controller, DPID)  # the script learns the switch is there
            rest.push_all(controller.rest_port, rest.PEER_URL, [rest.peer_body(i, DPID) for i in range(count)], 1)
            deadline = time.monotonic() + 60
            while switch.reached_at is None:
                if time.monotonic() > deadline:
                    raise RuntimeError('switch got %d of %d flow-mods' % (switch.flow_mods, count))
                time.sleep(0.002)
            seconds = switch.reached_at - began
            loop.disconnect(switch)
    finally:
        loop.stop()
    return {'repush_s': seconds, 'flow_mods': count}
