"""Floodlight's performance monitor (PktInProcessingTime, /wm/performance): how long packet-ins take (pure).

Off by default, as in Floodlight: the forwarding state's `perfmon` is None and the packet-in glue checks that one
attribute. While it measures, the glue calls `timed_packet_in` instead of controller.forwarding.handle_packet_in:
it times the whole packet-in with time.perf_counter_ns and, within it, each stage Floodlight timed as a module
of its own, in Floodlight's names:

* net.floodlightcontroller.linkdiscovery.internal.LinkDiscoveryManager: an LLDP packet-in, whole;
* net.floodlightcontroller.virtualnetwork.VirtualNetworkFilter: the virtual network filter's verdict (when loaded);
* net.floodlightcontroller.firewall.Firewall: the firewall's verdict and the flows it installs (when enabled);
* net.floodlightcontroller.forwarding.Forwarding: the rest of every other packet-in: header, host learning, port
  quarantine and load balancer checks (inline in our one packet-in function, so not apart), paths and flows.

The stages that are hooks of the forwarding state (the two filters) are timed by wrapping the hook for the one
call (the packet-in path does not yield, so nothing else sees the wrapper).
"""
import datetime
import math
import time

from controller import forwarding
from controller.lldp import ETH_TYPE_LLDP

_FL = 'net.floodlightcontroller.'
LINK_DISCOVERY = _FL + 'linkdiscovery.internal.LinkDiscoveryManager'
VIRTUAL_NETWORK = _FL + 'virtualnetwork.VirtualNetworkFilter'
FIREWALL = _FL + 'firewall.Firewall'
FORWARDING = _FL + 'forwarding.Forwarding'
STAGES = (LINK_DISCOVERY, VIRTUAL_NETWORK, FIREWALL, FORWARDING)


class Times:
    """Count, sum, sum of squares, least and most of a series of durations in nanoseconds."""
    __slots__ = ('count', 'total', 'squares', 'least', 'most')

    def __init__(self):
        self.count = self.total = self.squares = 0
        self.least = self.most = None

    def add(self, ns):
        self.count += 1
        self.total += ns
        self.squares += ns * ns
        if self.least is None or ns < self.least:
            self.least = ns
        if self.most is None or ns > self.most:
            self.most = ns

    def average(self):
        return self.total // self.count if self.count else 0

    def std_dev(self):
        if not self.count:
            return 0
        variance = (self.squares - self.total * self.total / self.count) / self.count
        return int(math.sqrt(max(variance, 0.0)))


class PerfMonitor:
    """What has been measured since `started`; `stages`: the Floodlight module names measured (those loaded)."""

    def __init__(self, now, stages=STAGES):
        self.stages = {name: Times() for name in stages}
        self.reset(now)
        self.in_hooks = 0             # ns spent in wrapped hooks during the current packet-in
        self._wrapped = {}            # (stage, hook) -> its timing wrapper

    def reset(self, now):
        self.started = now            # wall-clock time measuring began (or was reset)
        self.packets = Times()        # whole packet-ins
        self.stages = {name: Times() for name in self.stages}

    def wrapped(self, stage, hook):
        """hook, timed as `stage` (one wrapper per hook: the firewall and the filter keep theirs)."""
        wrapper = self._wrapped.get((stage, hook))
        if wrapper is None and stage not in self.stages:
            return hook
        if wrapper is None:
            clock = time.perf_counter_ns

            def wrapper(*args):
                began = clock()
                try:
                    return hook(*args)
                finally:
                    spent = clock() - began
                    self.stages[stage].add(spent)
                    self.in_hooks += spent
            self._wrapped[(stage, hook)] = wrapper
        return wrapper


def is_lldp(data):
    if len(data) < 14:
        return False
    eth_type = data[12] << 8 | data[13]
    if eth_type == 0x8100 and len(data) >= 18:
        eth_type = data[16] << 8 | data[17]
    return eth_type == ETH_TYPE_LLDP


def timed_packet_in(monitor, state, dpid, in_port, data, now, buffer_id):
    """controller.forwarding.handle_packet_in, timed: -> what it returns."""
    network_filter, packet_filter = state.network_filter, state.packet_filter
    if network_filter is not None:
        state.network_filter = monitor.wrapped(VIRTUAL_NETWORK, network_filter)
    if packet_filter is not None:
        state.packet_filter = monitor.wrapped(FIREWALL, packet_filter)
    monitor.in_hooks = 0
    clock = time.perf_counter_ns
    began = clock()
    try:
        return forwarding.handle_packet_in(state, dpid, in_port, data, now, buffer_id)
    finally:
        spent = clock() - began
        state.network_filter, state.packet_filter = network_filter, packet_filter
        monitor.packets.add(spent)
        monitor.stages[LINK_DISCOVERY if is_lldp(data) else FORWARDING].add(spent - monitor.in_hooks)


# --- Floodlight's JSON (CumulativeTimeBucket and OneComponentTime) ---------------------------------------------

def timestamp_text(when):
    """Java's Timestamp.toString of a time (local time): '2026-11-25 23:52:39.37' (fraction without trailing
    zeros, at least one digit)."""
    moment = datetime.datetime.fromtimestamp(when)
    fraction = ('%03d' % (moment.microsecond // 1000)).rstrip('0') or '0'
    return moment.strftime('%Y-%m-%d %H:%M:%S.') + fraction


def _stage_json(name, times):
    return {'module-name': name, 'num-packets': times.count, 'max': times.most or 0, 'min': times.least or 0,
            'average': times.average(), 'std-dev': times.std_dev(), 'total': times.total,
            'average-squared': times.squares}


def data_json(monitor, now):
    """Floodlight's /wm/performance/data/json: totals over every packet-in, then each stage measured; times in
    nanoseconds. Where Floodlight showed Long.MIN_VALUE and MAX_VALUE as the most and least of a stage that saw no
    packet, 0 is shown; "average-squared" is, as there, the sum of the squares."""
    packets = monitor.packets
    return {'start-time': timestamp_text(monitor.started), 'current-time': timestamp_text(now),
            'total-packets': packets.count, 'average': packets.average(), 'min': packets.least or 0,
            'max': packets.most or 0, 'std-dev': packets.std_dev(),
            'modules': [_stage_json(name, times) for name, times in monitor.stages.items()]}
