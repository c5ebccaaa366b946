"""Per-port bandwidth from periodic port counters (pure): what Floodlight 1.2's StatisticsCollector reports at
/wm/statistics/bandwidth.

Each poll gives, per switch, every port's cumulative rx/tx byte counters; the rate of a port is the difference
to the previous poll's counters over the time between the two polls, in bits per second. A counter that went
down (the switch reset it, or the port was re-added) gives no rate for that interval: the new value becomes the
base of the next one, rather than a huge or negative figure.
"""
import typing


class PortRate(typing.NamedTuple):
    dpid: int
    port: int
    updated: float        # epoch seconds of the poll that gave the rate
    rx_bps: int
    tx_bps: int
    speed_bps: int        # the port's current speed from its features (0: not advertised)


class Sample(typing.NamedTuple):
    port: int
    rx_bytes: int
    tx_bytes: int


# OpenFlow 1.0 ofp_port_features speed bits -> bits per second (the fastest bit set is the port's speed).
_SPEEDS = ((1 << 6, 10 ** 10), (1 << 5, 10 ** 9), (1 << 4, 10 ** 9), (1 << 3, 10 ** 8), (1 << 2, 10 ** 8),
           (1 << 1, 10 ** 7), (1 << 0, 10 ** 7))


def port_speed(curr_features):
    """ofp_phy_port.curr -> bits per second (0 when no speed bit is set, as for OVS's LOCAL port)."""
    for bit, speed in _SPEEDS:
        if curr_features & bit:
            return speed
    return 0


class BandwidthTable:
    """The last counters and the last computed rate of every port polled."""

    def __init__(self):
        self._last = {}   # (dpid, port) -> (time, rx_bytes, tx_bytes)
        self.rates = {}   # (dpid, port) -> PortRate

    def update(self, dpid, samples, now, speeds=None):
        """One poll of switch `dpid`: samples is an iterable of Sample; speeds {port: bits per second}.
        Ports the poll no longer lists are forgotten."""
        speeds = speeds or {}
        seen = set()
        for sample in samples:
            key = (dpid, sample.port)
            seen.add(key)
            previous = self._last.get(key)
            self._last[key] = (now, sample.rx_bytes, sample.tx_bytes)
            if previous is None:
                continue
            then, rx, tx = previous
            elapsed = now - then
            if elapsed <= 0 or sample.rx_bytes < rx or sample.tx_bytes < tx:
                self.rates.pop(key, None)
                continue
            self.rates[key] = PortRate(dpid, sample.port, now, int((sample.rx_bytes - rx) * 8 / elapsed),
                                       int((sample.tx_bytes - tx) * 8 / elapsed), speeds.get(sample.port, 0))
        for key in [k for k in self._last if k[0] == dpid and k not in seen]:
            self._last.pop(key)
            self.rates.pop(key, None)

    def switches(self):
        """The DPIDs polled so far (and not forgotten)."""
        return {dpid for dpid, _port in self._last}

    def forget(self, dpid=None):
        """A switch left (dpid), or collection was turned off (None: everything)."""
        for table in (self._last, self.rates):
            for key in [k for k in table if dpid is None or k[0] == dpid]:
                del table[key]

    def query(self, dpid=None, port=None):
        """[PortRate] for one switch or all (None), one port or all (None), in (dpid, port) order."""
        return [rate for key, rate in sorted(self.rates.items())
                if (dpid is None or key[0] == dpid) and (port is None or key[1] == port)]
