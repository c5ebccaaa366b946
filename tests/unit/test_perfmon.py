"""controller.perfmon and rest.performance: packet-in timing by stage, Floodlight's reply shape (its golden
captures), and the toggles."""
import json

import pytest

from controller import forwarding, perfmon
from controller.lldp import lldp_frame
from rest import performance
from rest.http import HttpError, Request
from tests.protocol.golden import capture_body
from tests.unit.test_forwarding import arp_request, connect, frame, mac

pytestmark = pytest.mark.unit


class App:
    """The handlers' view of apps/forwarding.ForwardingApp."""

    def __init__(self, stages=perfmon.STAGES):
        self.state = forwarding.ForwardingState(quarantine=0)
        self.stages = stages

    def set_perfmon(self, enabled):
        self.state.perfmon = perfmon.PerfMonitor(100.0, self.stages) if enabled else None


def get(path='/wm/performance/data/json'):
    return Request('GET', path)


def test_times_are_counted_per_stage_and_in_total():
    app = App()
    state = app.state
    connect(state, ({1: 3, 2: 3}, []))
    app.set_perfmon(True)
    monitor = state.perfmon
    hooked = []
    state.packet_filter = lambda *args: hooked.append(args) and None  # a firewall that lets everything through
    before = state.packet_filter
    for n in (1, 2):
        out = perfmon.timed_packet_in(monitor, state, 1, n, arp_request(mac(n), (10, 0, 0, n), (10, 0, 0, 9)), 1.0,
                                      forwarding.NO_BUFFER)
        assert out  # what handle_packet_in answers: the flood
    perfmon.timed_packet_in(monitor, state, 1, 1, frame(mac(2), mac(1)), 1.0, forwarding.NO_BUFFER)
    perfmon.timed_packet_in(monitor, state, 2, 3, lldp_frame(1, 3, b'\x02' * 6), 1.0, forwarding.NO_BUFFER)
    assert state.packet_filter is before and len(hooked) == 3   # the hook was timed and put back
    body = perfmon.data_json(monitor, 101.0)
    counts = {m['module-name']: m['num-packets'] for m in body['modules']}
    assert counts == {perfmon.LINK_DISCOVERY: 1, perfmon.VIRTUAL_NETWORK: 0, perfmon.FIREWALL: 3,
                      perfmon.FORWARDING: 3}
    assert body['total-packets'] == 4 and 0 < body['min'] <= body['average'] <= body['max']
    firewall = next(m for m in body['modules'] if m['module-name'] == perfmon.FIREWALL)
    assert firewall['total'] >= firewall['max'] >= firewall['min'] > 0
    assert firewall['average-squared'] >= firewall['max'] ** 2   # Floodlight's name for the sum of squares


def test_stats_of_known_durations():
    times = perfmon.Times()
    for ns in (10, 20, 30):
        times.add(ns)
    assert (times.count, times.total, times.least, times.most, times.average(), times.std_dev()) == (
        3, 60, 10, 30, 20, 8)
    assert perfmon.Times().std_dev() == 0 and perfmon.Times().average() == 0


def test_shape_is_floodlights():
    for capture in ('v0.91/063_perf.txt', 'v1.2/073_perf.txt'):
        golden = capture_body(capture)
        app = App()
        ours = performance.data(app, get())   # reading turns it on, as in 0.91 and 1.2
        assert app.state.perfmon is not None
        assert list(ours) == list(golden)
        assert {k: type(v) for k, v in ours.items()} == {k: type(v) for k, v in golden.items()}
        assert list(ours['modules'][0]) == list(golden['modules'][0])
        assert {m['module-name'] for m in ours['modules']} <= {m['module-name'] for m in golden['modules']} | {
            perfmon.VIRTUAL_NETWORK}
        assert (ours['total-packets'], ours['min'], ours['max']) == (0, 0, 0)
    assert perfmon.timestamp_text(0.37 + 86400 * 365).endswith('.37')
    assert perfmon.timestamp_text(5.0).endswith(':05.0')


def test_toggles():
    app = App(stages=(perfmon.FORWARDING,))
    assert performance.toggle(app, get(), perfmonstate='disable') == '{ "enabled" : false }'
    assert performance.toggle(app, get(), perfmonstate='ENABLE') == '{ "enabled" : true }'
    monitor = app.state.perfmon
    monitor.packets.add(5)
    assert performance.toggle(app, get(), perfmonstate='reset') == '{ "enabled" : true }'
    assert app.state.perfmon is monitor and monitor.packets.count == 0
    assert performance.toggle(app, get(), perfmonstate='false') == '{ "enabled" : false }'
    assert app.state.perfmon is None
    assert performance.toggle(app, get(), perfmonstate='reset') == '{ "enabled" : true }'
    with pytest.raises(HttpError) as raised:
        performance.toggle(app, get(), perfmonstate='maybe')
    assert raised.value.status == 400 and 'maybe' in raised.value.reason
    assert app.state.perfmon is not None
    assert [m['module-name'] for m in json.loads(json.dumps(performance.data(app, get())))['modules']] == [
        perfmon.FORWARDING]
