"""GET /metrics of a controller running a Mininet network on a userspace Open vSwitch: the switches, links and
hosts it shows, and packet-ins and flow-mods moving with real pings (docs/metrics.md).

Its own network (switches fwm1-fwm2, DPIDs f5e1:..:0c:0N), as tests/e2e/test_forwarding.py builds them.
"""
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import poll
from tests.e2e.test_forwarding import Topo, network  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings('ignore:distutils Version classes are deprecated:DeprecationWarning'),
]

METERED2 = Topo('fwm', 0x0c, [1, 2], [(1, 1, 1), (2, 2, 1)], [(1, 2, 2, 2)])


def scrape(net):
    status, text, _ = net.controller.get('/metrics')
    assert status == 200, (status, text)
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples, name, **labels):
    return samples.get(('floodlight_ryu_' + name, frozenset(labels.items())), 0)


def test_metrics_show_the_network_and_move_with_traffic(network):  # noqa: F811
    net = network(METERED2)
    before = scrape(net)
    assert value(before, 'switches_connected') == 2
    assert value(before, 'links') == 2  # one link, both directions
    assert value(before, 'sessions', kind='primary', role='master') == 2
    net.assert_pingall()
    poll(lambda: value(scrape(net), 'hosts') == 2, 10, 'both hosts in the metrics')
    after = scrape(net)
    received = 'openflow_messages_received_total'
    assert value(after, received, type='packet_in') > value(before, received, type='packet_in')
    assert value(after, 'openflow_messages_sent_total', type='flow_mod') > \
        value(before, 'openflow_messages_sent_total', type='flow_mod')
    assert value(after, 'forwarding_flows') >= 2
