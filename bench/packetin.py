"""Benchmarks 1 and 2: packet-ins answered per second (cbench style) and single packet-in round-trip time."""
import statistics
import time

from bench.controllers import Controller
from bench.switch import EmulatorLoop, PacketInSwitch, measure_rtt

DPID_BASE = 0x0000000000b00000


def throughput(kind, ctx, switches, per_switch, window, extra_args=(), buffered=False, timeout=None):
    """-> dict(rate=packet-ins answered per second, answered, sent, seconds, controller_cpu_s)."""
    timeout = timeout or max(60.0, switches * per_switch / 2000.0)
    loop = EmulatorLoop()
    try:
        with Controller(kind, ctx.workdir, ctx.pinning, extra_args=extra_args) as controller:
            emus = [PacketInSwitch(DPID_BASE + i + 1, per_switch, window, buffered) for i in range(switches)]
            loop.connect_many(emus, controller.ofp_port)
            for emu in emus:
                if not emu.warm.wait(30):
                    raise RuntimeError('%s never answered the warm-up packet-in of switch %#x (log: %s)'
                                       % (kind, emu.dpid, controller.log_path))
            cpu0 = controller.cpu_seconds()
            began = time.perf_counter()

            def start_all():
                for emu in emus:
                    emu.start()
            loop.run(start_all)
            stalled = _wait_all(emus, timeout)
            ended = max((e.last_answer_at or began) for e in emus)
            cpu = controller.cpu_seconds() - cpu0
            answered = sum(e.n_answered - 1 for e in emus)
            sent = sum(e.next_seq for e in emus)
            seconds = max(ended - began, 1e-9)
            for emu in emus:
                loop.run(emu.close)
            return {'rate': answered / seconds, 'answered': answered, 'sent': sent, 'seconds': seconds,
                    'unanswered': switches * per_switch - answered, 'stalled': stalled, 'controller_cpu_s': cpu}
    finally:
        loop.stop()


def _wait_all(emus, timeout, idle=5.0):
    """Wait for every switch to be done; give up after `timeout`, or after `idle` s with no new answer."""
    deadline = time.monotonic() + timeout
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        if all(e.done.is_set() for e in emus):
            return False
        total = sum(e.n_answered for e in emus)
        if total != last:
            last, last_change = total, time.monotonic()
        elif time.monotonic() - last_change > idle:
            return True
        emus[0].done.wait(0.05)
    return True


def rtt(kind, ctx, samples, extra_args=(), buffered=False):
    """One switch, one packet-in in flight -> dict(median_us, p99_us, samples)."""
    with Controller(kind, ctx.workdir, ctx.pinning, extra_args=extra_args) as controller:
        rtts = sorted(measure_rtt(controller.ofp_port, DPID_BASE + 0x100, samples, buffered))
    return {'median_us': statistics.median(rtts) * 1e6, 'p99_us': _percentile(rtts, 0.99) * 1e6,
            'samples': len(rtts)}


def _percentile(sorted_values, q):
    index = min(len(sorted_values) - 1, max(0, int(round(q * len(sorted_values))) - 1))
    return sorted_values[index]
