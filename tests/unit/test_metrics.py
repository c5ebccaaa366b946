"""The metrics collector (controller/metrics.py), scraped as Prometheus would and read back with
prometheus_client's own parser: what a dashboard would show for a given controller state."""
import prometheus_client
import pytest
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from controller import of10
from controller.connections import MASTER, PRIMARY, SERVICE, SLAVE, ConnectionTracker
from controller.entrystatus import EntryStatus
from controller.forwarding import ForwardingState
from controller.metrics import Metrics, OpenFlowCounts

pytestmark = pytest.mark.unit
P = 'floodlight_ryu_'


class Handle:
    pass


class Loop:
    def __init__(self, refused):
        self.refused = refused


def scrape(metrics):
    """{(sample name, frozenset(labels)): value} of one scrape."""
    text = generate_latest(metrics.registry).decode()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples, name, **labels):
    return samples.get((P + name, frozenset(labels.items())))


def test_messages_counted_by_type_and_errors_by_type_and_code_are_named():
    metrics = Metrics()
    counts = metrics.openflow.session()
    counts.received[of10.OFPT_PACKET_IN] += 3
    for msg in [of10.forwarding_flow_add_and_packet_out(1, 0xffff, b'\x00' * 6, b'\x02' * 6, 2, 5, 1, b'frame'),
                of10.packet_out(1, of10.output_actions([2]), b'frame'), of10.barrier()]:
        of10.count_sent(counts.sent_one_by_one, msg)
    metrics.openflow.error(of10.OFPET_BAD_REQUEST, of10.OFPBRC_EPERM)
    samples = scrape(metrics)
    assert value(samples, 'openflow_messages_received_total', type='packet_in') == 3
    assert value(samples, 'openflow_messages_sent_total', type='flow_mod') == 1
    assert value(samples, 'openflow_messages_sent_total', type='packet_out') == 2  # one inside the flow-mod's
    assert value(samples, 'openflow_messages_sent_total', type='barrier_request') == 1
    assert value(samples, 'openflow_errors_total', type='OFPET_BAD_REQUEST', code='OFPBRC_EPERM') == 1


def test_a_batch_of_static_flow_mods_counts_each():
    counts = OpenFlowCounts()
    session = counts.session()
    packed = [of10.PackedFlowMod(bytes(of10.FLOW_MOD_SIZE), 'e%d' % i) for i in range(5)]
    for msg in of10.batch_flow_mods(packed, size=2):
        of10.count_sent(session.sent_one_by_one, msg)
    assert session.sent[of10.OFPT_FLOW_MOD] == counts.sent[of10.OFPT_FLOW_MOD] == 5


def test_the_totals_keep_what_ended_sessions_counted():
    counts = OpenFlowCounts()
    first, second = counts.session(), counts.session()
    first.received[of10.OFPT_PACKET_IN] += 4
    second.received[of10.OFPT_PACKET_IN] += 1
    counts.session_ended(first)
    counts.session_ended(first)  # said twice: counted once
    assert counts.received[of10.OFPT_PACKET_IN] == 5
    third = counts.session()  # the switch back: its own counts start at 0 (Floodlight's per-switch counters)
    assert third.received[of10.OFPT_PACKET_IN] == 0
    third.received[of10.OFPT_PACKET_IN] += 2
    assert counts.received[of10.OFPT_PACKET_IN] == 7


def test_sessions_switches_and_refusals_read_from_the_tracker_at_scrape_time():
    metrics = Metrics()
    tracker = metrics.sources.tracker = ConnectionTracker()
    first, second, third = Handle(), Handle(), Handle()
    tracker.connect(1, first, PRIMARY, '10.0.0.1:40000', 1.0)
    tracker.connect(1, second, SERVICE, '10.0.0.1:6654', 1.0)
    tracker.connect(2, third, PRIMARY, '10.0.0.2:40000', 1.0)
    tracker.set_role(first, MASTER, 2.0, 'role reply')
    tracker.set_role(third, MASTER, 2.0, 'role reply')
    tracker.set_role(second, SLAVE, 2.0, 'role reply')
    tracker.refuse('takeover', 3.0, '10.0.0.9:1', 1)
    metrics.sources.openflow_listeners = [Loop(2), Loop(1)]
    metrics.sources.rest_listener = Loop(4)
    samples = scrape(metrics)
    assert value(samples, 'sessions', kind='primary', role='master') == 2
    assert value(samples, 'sessions', kind='service', role='slave') == 1
    assert value(samples, 'switches_connected') == 2
    assert value(samples, 'connections_refused_total', reason='takeover') == 1
    assert value(samples, 'connections_refused_total', reason='address') == 0
    assert value(samples, 'connections_refused_total', reason='openflow_cap') == 3
    assert value(samples, 'connections_refused_total', reason='rest_cap') == 4
    tracker.disconnect(third, 4.0)  # nothing is cached: the next scrape sees the change
    assert value(scrape(metrics), 'switches_connected') == 1


def test_entries_by_state_hosts_and_links():
    metrics = Metrics()
    status = metrics.sources.entry_status = EntryStatus()
    status.flow_mod_sent('a', 1, 10, 1.0)
    status.flow_mod_sent('b', 1, 11, 1.0)
    status.seen_installed('c', 1, 1.0)
    status.barrier_reply(1, 12, 2.0)  # a and b installed
    status.flow_mod_sent('d', 1, 13, 3.0)
    state = metrics.sources.forwarding = ForwardingState()
    state.topology.links[(1, 1, 2, 1)] = 1.0
    state.topology.links[(2, 1, 1, 1)] = 1.0
    samples = scrape(metrics)
    assert value(samples, 'static_entries', state='installed') == 3
    assert value(samples, 'static_entries', state='sent') == 1
    assert value(samples, 'static_entries', state='error') == 0
    assert value(samples, 'links') == 2
    assert value(samples, 'hosts') == 0


def test_rest_requests_by_route_method_and_status_with_latency():
    metrics = Metrics()
    metrics.rest_request('/wm/staticflowpusher/json', 'POST', '200', 0.002)
    metrics.rest_request('/wm/staticflowpusher/json', 'POST', '200', 0.7)
    metrics.rest_request(None, 'BREW', '404', 0.001)
    samples = scrape(metrics)
    route = dict(route='/wm/staticflowpusher/json', method='POST', status='200')
    assert value(samples, 'rest_request_seconds_count', **route) == 2
    assert value(samples, 'rest_request_seconds_bucket', le='0.005', **route) == 1
    assert value(samples, 'rest_request_seconds_bucket', le='1.0', **route) == 2
    assert value(samples, 'rest_request_seconds_count', route='unmatched', method='other', status='404') == 1


def test_store_commit_and_reconcile_histograms():
    metrics = Metrics()
    metrics.commit_seconds.observe(0.003)
    metrics.reconcile_seconds.observe(0.2)
    samples = scrape(metrics)
    assert value(samples, 'store_commit_seconds_count') == 1
    assert value(samples, 'reconcile_seconds_bucket', le='0.25') == 1
    assert value(samples, 'reconcile_seconds_bucket', le='0.1') == 0


def test_each_controller_has_its_own_registry_and_the_global_one_is_untouched():
    first, second = Metrics(), Metrics()
    first.openflow.received[of10.OFPT_PACKET_IN] += 1
    assert value(scrape(second), 'openflow_messages_received_total', type='packet_in') is None
    assert b'floodlight_ryu_' not in generate_latest(prometheus_client.REGISTRY)


def test_raw_messages_are_counted_by_the_types_they_hold_and_kept_when_the_session_ends():
    """Session.put counts a RawMessage (forwarding's answers) with one increment of its msg_types."""
    counts = OpenFlowCounts()
    session = counts.session()
    both = of10.forwarding_flow_add_and_packet_out(1, 0xffff, b'\x00' * 6, b'\x02' * 6, 2, 5, 1, b'frame')
    for msg in (both, both, of10.forwarding_flow_add(1, 0xffff, b'\x00' * 6, b'\x02' * 6, 2, 5, 1),
                of10.packet_out(1, of10.output_actions([2]), b'frame')):
        session.sent_raw[msg.msg_types] += 1
    of10.count_sent(session.sent_one_by_one, of10.barrier())
    expected = {of10.OFPT_FLOW_MOD: 3, of10.OFPT_PACKET_OUT: 3, of10.OFPT_BARRIER_REQUEST: 1}
    assert {t: n for t, n in enumerate(session.sent) if n} == expected
    counts.session_ended(session)
    assert {t: n for t, n in enumerate(counts.sent) if n} == expected
