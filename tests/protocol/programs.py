"""The network the tests of programs written for Floodlight (tests/protocol/test_programs_*.py) run against, and
what they check replies with.

Two emulated switches joined by a cable, a host on each, learned the way the controller learns them (its own
signed LLDP delivered across the cable, an ARP packet-in from each host):

    h1 (10.0.0.1) -- A:1   A:3 ======= B:3   B:2 -- h2 (10.0.0.2)
"""
import time

from tests.lib.controller import wait_for
from tests.protocol.helpers import colon_dpid
from tests.protocol.test_forwarding import arp, cable_both_ways, get_json

DPID_A = 0x1
DPID_B = 0x2
SWITCH_A = colon_dpid(DPID_A)
SWITCH_B = colon_dpid(DPID_B)
H1_MAC, H1_IP = '02:00:00:00:0a:01', '10.0.0.1'
H2_MAC, H2_IP = '02:00:00:00:0a:02', '10.0.0.2'
FAST = ('--port-quarantine', '0.2')


def two_switches(controller, connect_peer):
    """Connect A and B, cable A:3 to B:3 in both directions, make h1 and h2 known -> (peer A, peer B)."""
    a = connect_peer(controller, DPID_A)
    b = connect_peer(controller, DPID_B)
    cable_both_ways(a, 3, b, 3)
    wait_for(lambda: [link for link in get_json(controller, '/wm/topology/links/json')
                      if link['direction'] == 'bidirectional'], 5, what='the link A:3 - B:3')
    time.sleep(0.3)  # the 0.2 s port quarantine of FAST: a host port is listened to after it
    a.send_packet_in(1, arp(bytes.fromhex(H1_MAC.replace(':', '')), (10, 0, 0, 1), (10, 0, 0, 2)))
    b.send_packet_in(2, arp(bytes.fromhex(H2_MAC.replace(':', '')), (10, 0, 0, 2), (10, 0, 0, 1)))
    wait_for(lambda: len(get_json(controller, '/wm/device/')) == 2, 5, what='h1 and h2 to be known')
    return a, b


def assert_shape(value, shape, where='reply'):
    """`value` has every key of `shape` (a dict of key -> shape, a [shape] for a non-empty list of such items,
    or a type, or a tuple of types) with that type; keys `shape` does not name may be there too (a superset is
    what both generations' clients read)."""
    if isinstance(shape, dict):
        assert isinstance(value, dict), '%s: %r is no object' % (where, value)
        for key, inner in shape.items():
            assert key in value, '%s: no key %r in %r' % (where, key, value)
            assert_shape(value[key], inner, '%s.%s' % (where, key))
    elif isinstance(shape, list):
        assert isinstance(value, list) and value, '%s: %r is no non-empty list' % (where, value)
        for index, item in enumerate(value):
            assert_shape(item, shape[0], '%s[%d]' % (where, index))
    else:
        assert isinstance(value, shape) and not (isinstance(value, bool) and shape is int), \
            '%s: %r is no %s' % (where, value, shape)
