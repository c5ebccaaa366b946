"""Floodlight 1.2's bandwidth statistics on Mininet and a userspace Open vSwitch: collection enabled over REST,
a 5 Mbit/s UDP stream from h1 to h2 (iperf) shows in /wm/statistics/bandwidth as bits per second received on h1's
port and sent on h2's, and the figures fall back to about zero once the stream stops.

Its own network (switch fbw1, DPID f5e1:..:0b:01) against its own controller, as tests/e2e/test_forwarding.py.
"""
import json
import subprocess
import time

import pytest

from tests.e2e.conftest import poll
from tests.e2e.test_forwarding import ARGS, Topo, colon, dpid_of, network  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings('ignore:distutils Version classes are deprecated:DeprecationWarning'),
]

BANDWIDTH = Topo('fbw', 0x0b, [1], [(1, 1, 1), (2, 1, 2)], [])
DPID = colon(dpid_of(0x0b, 1))
INTERVAL = 1                 # --statistics-interval: a figure is the counter difference over one second
STREAM_BPS = 5 * 10 ** 6     # iperf's UDP rate
IDLE_BPS = 100 * 1000        # "about zero": LLDP every 15 s and an ARP now and then are far below this
URL = '/wm/statistics/bandwidth/%s/%d/json'


def rate(net, port):
    """(rx, tx) bits per second of the port's last figure, or None while there is none."""
    figures = net.get(URL % (DPID, port))
    if not figures:
        return None
    (figure,) = figures
    assert figure['dpid'] == DPID and figure['port'] == str(port), figure
    return int(figure['bits-per-second-rx']), int(figure['bits-per-second-tx'])


def idle(net, port):
    figure = rate(net, port)
    return figure is not None and max(figure) < IDLE_BPS and figure


def test_bandwidth_shows_a_udp_stream_and_falls_back_when_it_stops(network):  # noqa: F811
    net = network(BANDWIDTH, extra_args=ARGS + ('--statistics-interval', str(INTERVAL)))
    net.assert_pingall()  # forwarding flows and host tables in place before the stream
    assert net.get(URL % (DPID, 1)) == []  # off by default, as in Floodlight 1.2
    status, text, _ = net.controller.post('/wm/statistics/config/enable/json', '')
    assert (status, json.loads(text)) == (200, {'statistics-collection': 'enabled'})

    # idle: both hosts' ports show figures close to zero
    for port in (1, 2):
        poll(lambda: idle(net, port), 10, 'an idle figure for port %d' % port,
             explain=lambda: 'figures: %s' % net.get('/wm/statistics/bandwidth/all/all/json'))

    server = net.hosts[2].popen(['iperf', '-s', '-u', '-p', '5202'], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
    client = None
    try:
        time.sleep(0.5)  # iperf has no readiness signal; UDP datagrams before it binds are only lost
        client = net.hosts[1].popen(['iperf', '-c', BANDWIDTH.ip(2), '-u', '-p', '5202', '-b', str(STREAM_BPS),
                                     '-t', '15'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # h1 -> switch port 1 (received there), switch port 2 -> h2 (sent there); headers add a few percent
        low, high = STREAM_BPS * 0.6, STREAM_BPS * 1.6

        def streaming():
            one, two = rate(net, 1), rate(net, 2)
            return one and two and low < one[0] < high and low < two[1] < high and (one, two)
        (rx1, tx1), (rx2, tx2) = poll(streaming, 12, 'port 1 receiving and port 2 sending about %d bit/s'
                                      % STREAM_BPS, interval=0.5,
                                      explain=lambda: 'figures: %s' % net.get('/wm/statistics/bandwidth/all/all/json'))
        # the stream is one way: nothing comparable goes back
        assert tx1 < low and rx2 < low, ((rx1, tx1), (rx2, tx2))
        ports = {f['port'] for f in net.get('/wm/statistics/bandwidth/all/all/json')}
        assert {'1', '2'} <= ports, ports
    finally:
        for proc in (client, server):
            if proc is not None:
                proc.kill()
                proc.communicate()

    # stopped: the figures fall back to about zero within a few polls
    for port in (1, 2):
        poll(lambda: idle(net, port), 10, 'port %d idle again' % port,
             explain=lambda: 'figures: %s' % net.get('/wm/statistics/bandwidth/all/all/json'))

    status, text, _ = net.controller.request('PUT', '/wm/statistics/config/disable/json', '')
    assert (status, json.loads(text)) == (200, {'statistics-collection': 'disabled'})
    assert net.get('/wm/statistics/bandwidth/all/all/json') == []
