"""Benchmark 5: resident memory with many switches and entries, and its growth over reconnects.

Ours: switches x entries stored, every switch connected and every entry confirmed (barrier answered at the
switch), then RSS (VmRSS of the ryu-manager process). Then `reconnects` times one switch after another drops
its connection, comes back with an empty table and gets its entries again; RSS growth is measured over those.
Peer: ryu.app.ofctl_rest with the same switches connected and reconnected. It keeps no flow entries, so it is
a floor (what Ryu and eventlet cost per connected switch), not a like-for-like store.
"""
import time

from bench.controllers import Controller
from bench.reconnect import preload
from bench.switch import EmulatorLoop, Switch

DPID_BASE = 0x0000000000e00000


def run(kind, ctx, switches, per_switch, reconnects):
    dpids = [DPID_BASE + i + 1 for i in range(switches)]
    db_path = None
    if kind == 'ours':
        db_path = ctx.tmp('memory-%dx%d.sqlite3' % (switches, per_switch))
        preload(db_path, dpids, per_switch)
    target = per_switch if kind == 'ours' else None
    timeout = max(120.0, switches * per_switch / 500.0)
    loop = EmulatorLoop()
    try:
        with Controller(kind, ctx.workdir, ctx.pinning, db_path=db_path) as controller:
            idle_kib = controller.rss_kib()
            emus = [Switch(dpid) for dpid in dpids]
            for emu in emus:
                emu.reset_counters(target)
            loop.connect_many(emus, controller.ofp_port, timeout=timeout)
            _wait_confirmed(emus, kind, timeout)
            _settle()
            loaded_kib = controller.rss_kib()
            for r in range(reconnects):
                emu = emus[r % switches]
                loop.disconnect(emu)
                emu.flows.clear()  # came back with an empty table: everything is sent again
                emu.reset_counters(target)
                loop.connect(emu, controller.ofp_port)
                _wait_confirmed([emu], kind, timeout)
            _settle()
            after_kib = controller.rss_kib()
            for emu in emus:
                loop.run(emu.close)
    finally:
        loop.stop()
    return {'idle_mb': idle_kib / 1024.0, 'loaded_mb': loaded_kib / 1024.0, 'after_reconnects_mb': after_kib / 1024.0,
            'growth_mb': (after_kib - loaded_kib) / 1024.0}


def _wait_confirmed(emus, kind, timeout):
    deadline = time.monotonic() + timeout
    for emu in emus:
        if kind == 'ours':
            if not emu.confirmed.wait(max(0.0, deadline - time.monotonic())):
                raise RuntimeError('switch %#x got %d of %d flow-mods' % (emu.dpid, emu.flow_mods,
                                                                           emu.flow_mod_target))
        elif not emu.ready.wait(max(0.0, deadline - time.monotonic())):
            raise RuntimeError('switch %#x: no handshake' % emu.dpid)


def _settle():
    """Let the controller finish what it queued (status updates, logging) before RSS is read."""
    time.sleep(1.0)
