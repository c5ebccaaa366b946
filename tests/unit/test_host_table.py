"""controller.devices: the compact host table (docs/performance.md, "Host table memory") and its bounds."""
import pytest

from bench import hosttable
from controller import forwarding
from controller.devices import MAX_IPV4_PER_DEVICE, DeviceTable

pytestmark = pytest.mark.unit

NOW = 1_700_000_000.0
A, B = 0xa1, 0xb2


def mac(n):
    return bytes((2, 0)) + n.to_bytes(4, 'big')


def ip(n):
    return int.from_bytes(bytes((10, 0, 0, n)), 'big')


def test_a_learned_host_and_a_tracked_flow_cost_under_200_bytes_each():
    """43,700 hosts learned through the packet-in path (MAC, IPv4 address, attachment point, last seen), then one
    forwarding flow tracked per host while each is seen again: tracemalloc counts what stays. 43,700 is just past
    a resize of the table's dicts, where an entry costs the most (176 bytes a host here, 163 at 100,000)."""
    result = hosttable.memory(43700)
    assert result['hosts'] == result['flows'] == 43700
    assert result['bytes_per_host'] < 200, result
    assert result['bytes_per_flow'] < 200, result


def test_a_host_seen_again_outlives_older_ones_and_a_new_one_is_kept():
    table = DeviceTable(max_hosts=100, max_per_port=3)
    for n in range(3):
        table.learn(mac(n), 0, A, 1, NOW + n)
    table.learn(mac(0), 0, A, 1, NOW + 3)   # seen again: 1 is now the least recently seen
    table.learn(mac(2), 0, A, 1, NOW + 4)
    table.learn(mac(3), 0, A, 1, NOW + 5)
    assert set(table.by_mac) == {mac(0), mac(2), mac(3)} and table.evicted == {mac(1)}
    table.learn(mac(4), 0, A, 1, NOW + 6)   # 0 and 2 were put back at the end: 3 is the least recently seen
    assert set(table.by_mac) == {mac(0), mac(2), mac(4)}
    for n in (0, 2, 4):
        table.learn(mac(n), 0, A, 1, NOW + 7)  # all seen again: the host being learned still stays
    table.learn(mac(5), 0, A, 1, NOW + 8)
    assert mac(5) in table.by_mac and len(table.by_port[(A, 1)].hosts) == 3


def test_past_a_large_bound_a_128th_of_it_goes_at_once():
    table = DeviceTable(max_hosts=100000, max_per_port=256)
    for n in range(257):
        table.learn(mac(n), 0, A, 1, NOW + n)
    assert set(table.by_mac) == {mac(n) for n in range(2, 257)}  # 256 >> 7 = 2 least recently seen
    assert table.eviction_warnings(NOW + 300) == [(A, 1, 2)]


def test_a_host_that_moves_or_changes_vlan_keeps_its_addresses_and_is_listed_as_it_is_now():
    table = DeviceTable()
    assert table.learn(mac(1), 0xffff, A, 1, NOW, ip(1)) is False
    assert table.learn(mac(1), 5, A, 1, NOW + 1, ip(1)) is False     # another VLAN, same port: not moved
    assert table.learn(mac(1), 5, B, 3, NOW + 2.5, ip(2)) is True    # another switch: moved
    device = table.get(mac(1))
    assert (device.vlan, device.dpid, device.port, device.last_seen_ms) == (5, B, 3, int((NOW + 2.5) * 1000))
    assert device.ipv4 == [bytes((10, 0, 0, 1)), bytes((10, 0, 0, 2))]
    assert (A, 1) not in table.by_port and table.get(mac(2)) is None
    assert [d.mac for d in table.query(ipv4=bytes((10, 0, 0, 2)))] == [mac(1)]
    assert table.query(dpid=A) == []


def test_at_most_eight_ipv4_addresses_the_oldest_go_first():
    table = DeviceTable()
    for n in range(1, 12):
        table.learn(mac(1), 0xffff, A, 1, NOW + n, ip(n))
        table.learn(mac(1), 0xffff, A, 1, NOW + n, ip(1 if n < 4 else n))  # an address seen again is not added
    assert table.get(mac(1)).ipv4 == [bytes((10, 0, 0, n)) for n in range(12 - MAX_IPV4_PER_DEVICE, 12)]
    table.learn(mac(2), 0xffff, A, 1, NOW, 0)
    assert table.get(mac(2)).ipv4 == []
    assert table.expire(NOW + 3600 + 5) == 1 and set(table.by_mac) == {mac(1)}
    assert table.expire(NOW + 3600 + 20) == 1 and not table.by_mac and not table.more_ipv4 and not table.by_port


def test_expiry_forgets_exactly_the_hosts_not_seen_for_an_hour_whatever_their_order():
    table = DeviceTable()
    table.learn(mac(1), 0xffff, A, 1, NOW)
    table.learn(mac(2), 0xffff, A, 2, NOW + 10)
    table.learn(mac(1), 0xffff, A, 1, NOW + 100)   # first in the order, but seen since
    assert table.expire(NOW + 3600 + 50) == 1
    assert list(table.by_mac) == [mac(1)] and (A, 2) not in table.by_port


def test_the_packet_in_path_learns_the_same_hosts_and_flows_as_the_table_says():
    state = hosttable.new_state(50)
    hosttable.learn(state, 50)
    hosttable.send_to_server(state, 50)
    assert len(state.devices) == 51 and state.flow_count() == 50
    device = state.devices.get(hosttable.host_mac(7))
    assert (device.dpid, device.port, device.ipv4) == (hosttable.SWITCH, hosttable.port_of(7), [hosttable.host_ip(7)])
    # a flow removed by the switch is forgotten; a host moving deletes the flows from it
    forwarding.flow_removed(state, hosttable.SWITCH, hosttable.port_of(7), 0xffff, hosttable.host_mac(7),
                            hosttable.SERVER_MAC)
    assert state.flow_count() == 49
    out = forwarding.handle_packet_in(state, hosttable.SWITCH, 47, hosttable.arp_frame(hosttable.host_mac(8),
                                                                                          hosttable.host_ip(8)),
                                      NOW + 5)
    assert state.flow_count() == 48 and out
