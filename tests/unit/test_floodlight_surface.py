"""Floodlight routes of core, topology, devices and statistics that issue 14 added: each handler called with a fake
app, as in test_rest_handlers.py; the bandwidth computation (controller.bandwidth) on its own."""
import json
import time
import types

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp
from ryu.ofproto import ofproto_v1_0_parser as parser

from controller import bandwidth
from rest import core, devices, stats, topology
from rest.http import Request
from tests.unit.test_rest_handlers import get, raises

pytestmark = pytest.mark.unit

DPID1 = '00:00:00:00:00:00:00:01'
DPID2 = '00:00:00:00:00:00:00:02'


# --- core: modules, storage tables, counters, memory, port-desc -------------------------------------------

def test_module_lists_have_floodlights_shape_and_loaded_filters():
    every = core.modules_all(None, get())
    loaded = core.modules_loaded(None, get())
    name = 'net.floodlightcontroller.staticflowentry.StaticFlowEntryPusher'
    assert every[name]['loaded'] is True and name in loaded
    assert every[name]['provides'] == {
        'net.floodlightcontroller.staticflowentry.IStaticFlowEntryPusherService': name}
    assert all(isinstance(v['depends'], dict) and isinstance(v['provides'], dict) for v in every.values())
    assert set(loaded) == {k for k, v in every.items() if v['loaded']}
    assert every['net.floodlightcontroller.firewall.Firewall']['loaded'] is True  # apps.firewall, acl, lb: ours too
    # --no-forwarding: Floodlight's Forwarding module is not loaded
    assert 'net.floodlightcontroller.forwarding.Forwarding' not in core.modules_json(True, forwarding=False)
    assert core.storage_tables(None, get()) == ['controller_staticflowtableentry', 'controller_firewallrules']


def _counter_app(accepted=5, rejected=2):
    state = types.SimpleNamespace(
        lldp_accepted=accepted, lldp_rejected={'unsigned': rejected, 'replayed': 0}, flow_count=lambda: 7,
        devices=types.SimpleNamespace(by_mac={b'a': None, b'b': None}))
    tracker = types.SimpleNamespace(current_sessions=lambda: [1, 2],
                                    refusals_view=lambda: {'refused': {'address': 3}, 'recent': []})
    return types.SimpleNamespace(state=state, switches=types.SimpleNamespace(tracker=tracker))


def test_counters_in_both_generations_shapes():
    app = _counter_app()
    flat = core.counter_title(app, get(), title='all')
    assert flat['linkdiscovery__lldp-accepted'] == 5 and flat['linkdiscovery__lldp-rejected__unsigned'] == 2
    assert flat['core__connections-refused__address'] == 3 and flat['forwarding__flows-installed'] == 7
    assert core.counter_title(app, get(), title='OFPacketIn') == {'OFPacketIn': 0}  # as Floodlight 0.91
    # 1.x: /counter/<module>/<title>/json; a DPID first is 0.9x's per-switch form (none kept here)
    assert core.counter_two(app, get(), first='linkdiscovery', second='all') == {
        'lldp-accepted': 5, 'lldp-rejected': 2, 'lldp-rejected/replayed': 0, 'lldp-rejected/unsigned': 2}
    assert core.counter_two(app, get(), first='linkdiscovery', second='lldp-rejected')['lldp-rejected'] == 2
    assert core.counter_two(app, get(), first='core', second='nothing') == {}
    assert core.counter_two(app, get(), first=DPID1, second='OFPacketIn') == {}
    assert core.counter_categories(app, get(), switch=DPID1, name='OFPacketIn', layer='L3') == {
        DPID1 + '__OFPacketIn.L3': []}
    raises(400, core.counter_categories, app, get(), switch='zz', name='OFPacketIn', layer='L3')
    every = core.debugcounters(app, get())
    assert every['error'] is None and every['counterMap']['core/switches-connected']['counterValue'] == 2
    one = core.debugcounter(app, get(), params='devicemanager/hosts')
    assert list(one['counterMap']) == ['devicemanager/hosts'] and one['counterMap']['devicemanager/hosts'][
        'counterValue'] == 2
    assert core.debugcounter(app, get(), params='nosuchmodule')['error'].startswith('Invalid module name')
    assert core.debugevents(app, get()) == {'eventMap': {}, 'error': None}


def test_memory_means_what_the_jvms_total_and_free_meant():
    assert stats.memory_json(resident=30, available=100) == {'total': 130, 'free': 100}
    body = stats.memory(None, get())
    assert 0 < body['free'] < body['total']  # used = total - free: this process's resident size


def _features_reply():
    port = parser.OFPPhyPort(port_no=1, hw_addr='0a:00:00:01:00:01', name=b's1-eth1\0', config=0, state=0,
                             curr=192, advertised=0, supported=0, peer=0)
    local = parser.OFPPhyPort(port_no=ofp.OFPP_LOCAL, hw_addr='0a:00:00:01:00:fe', name=b's1', config=0, state=0,
                              curr=0, advertised=0, supported=0, peer=0)
    msg = parser.OFPSwitchFeatures(None)
    msg.datapath_id, msg.n_buffers, msg.n_tables, msg.capabilities, msg.actions = 1, 256, 254, 199, 4095
    msg.ports = {1: port, ofp.OFPP_LOCAL: local}
    return msg


def test_port_desc_is_answered_from_the_features_reply():
    body = stats.stat_json('port-desc', [_features_reply()])
    assert body['version'] == 'OF_10'
    assert body['portDesc'] == stats.features_json(_features_reply())['portDesc']
    assert [(p['portNumber'], p['name'], p['currentFeatures']) for p in body['portDesc']] == [
        ('1', 's1-eth1', '192'), ('local', 's1', '0')]
    assert stats.REQUESTED['port-desc'] == 'features'


# --- statistics: bandwidth ----------------------------------------------------------------------------------

def test_bandwidth_is_the_counter_difference_over_the_poll_interval():
    table = bandwidth.BandwidthTable()
    table.update(1, [bandwidth.Sample(1, 1000, 0), bandwidth.Sample(2, 0, 0)], 100.0, {1: 10 ** 9})
    assert table.query() == []  # one poll gives no rate
    table.update(1, [bandwidth.Sample(1, 126000, 2500), bandwidth.Sample(2, 0, 0)], 110.0, {1: 10 ** 9})
    rate = table.query(1, 1)[0]
    assert (rate.rx_bps, rate.tx_bps, rate.speed_bps, rate.updated) == (100000, 2000, 10 ** 9, 110.0)
    assert [r.port for r in table.query(1)] == [1, 2] and table.query(2) == []
    # a counter that went back (reset) gives no rate for that interval, then counts from its new value
    table.update(1, [bandwidth.Sample(1, 10, 2500), bandwidth.Sample(2, 0, 0)], 120.0)
    assert table.query(1, 1) == []
    table.update(1, [bandwidth.Sample(1, 1260, 2500)], 130.0)
    assert table.query(1, 1)[0].rx_bps == 1000 and table.query(1, 2) == []  # port 2 left the poll: forgotten
    assert table.switches() == {1}
    table.forget(1)
    assert table.query() == [] and table.switches() == set()
    # 192: 10 Gb/s full duplex and copper, what OVS reports for a veth
    assert bandwidth.port_speed(192) == 10 ** 10 and bandwidth.port_speed(0) == 0 and bandwidth.port_speed(1) == 10 ** 7


def test_bandwidth_and_collection_routes():
    table = bandwidth.BandwidthTable()
    table.update(1, [bandwidth.Sample(ofp.OFPP_LOCAL, 0, 0), bandwidth.Sample(3, 0, 0)], 0.0)
    table.update(1, [bandwidth.Sample(ofp.OFPP_LOCAL, 125, 0), bandwidth.Sample(3, 0, 0)], 1.0)
    switched = []
    app = types.SimpleNamespace(bandwidth=table, collect_statistics=switched.append)
    assert stats.collection_enable(app, Request('POST', '/')) == {'statistics-collection': 'enabled'}
    assert stats.collection_disable(app, Request('PUT', '/')) == {'statistics-collection': 'disabled'}
    assert switched == [True, False]
    every = stats.bandwidth(app, get(), switch='all', port='all')
    assert every[1] == {'dpid': DPID1, 'port': 'local', 'updated': 'Thu Jan 01 00:00:01 UTC 1970',
                        'link-speed-bits-per-second': '0', 'bits-per-second-rx': '1000', 'bits-per-second-tx': '0'}
    assert [b['port'] for b in stats.bandwidth(app, get(), switch=DPID1, port='3')] == ['3']
    assert stats.bandwidth(app, get(), switch='2', port='all') == []
    raises(400, stats.bandwidth, app, get(), switch='zz', port='all')
    raises(400, stats.bandwidth, app, get(), switch='all', port='-1')
    raises(400, stats.bandwidth, app, get(), switch='all', port='0x1')


# --- topology and devices ---------------------------------------------------------------------------------

def _topology_app():
    now = time.time()
    topo = types.SimpleNamespace(ports={1: {1: b'', 2: b''}, 2: {2: b''}}, quarantined={(2, 2): now + 60,
                                                                                       (1, 1): now - 1},
                                 adjacency={1: {2: 2}, 2: {1: 2}},
                                 route=lambda src, dst: [src, dst] if {src, dst} == {1, 2} else None)
    return types.SimpleNamespace(state=types.SimpleNamespace(topology=topo))


def test_topology_port_lists_in_both_generations():
    app = _topology_app()
    assert topology.enabled_ports(app, get()) == [
        {'switch': DPID1, 'port': {'portNumber': 1, 'length': 4, 'shortPortNumber': 1}},
        {'switch': DPID1, 'port': {'portNumber': 2, 'length': 4, 'shortPortNumber': 2}},
        {'switch': DPID2, 'port': {'portNumber': 2, 'length': 4, 'shortPortNumber': 2}}]
    topo = app.state.topology
    assert topology.enabled_ports_json(topo, core.API_0_9) == [
        {'switch': DPID1, 'port': 1}, {'switch': DPID1, 'port': 2}, {'switch': DPID2, 'port': 2}]
    assert topology.blocked_ports(app, get()) == [
        {'switch': DPID2, 'port': {'portNumber': 2, 'length': 4, 'shortPortNumber': 2}}]
    assert topology.no_links_or_ports(app, get()) == []
    assert topology.route_json(topo, 1, 1, 2, 1, core.API_0_9) == [
        {'switch': DPID1, 'port': 1}, {'switch': DPID1, 'port': 2}, {'switch': DPID2, 'port': 2},
        {'switch': DPID2, 'port': 1}]
    assert topology._port_json(ofp.OFPP_LOCAL, core.API_1_X) == {
        'portNumber': -2, 'name': 'local', 'length': 4, 'shortPortNumber': -2}


def test_device_debug_lists_each_devices_entities():
    hosts = [types.SimpleNamespace(mac=bytes(5) + b'\x02', ipv4=[b'\x0a\x00\x00\x02'], vlan=0xffff, dpid=2, port=1,
                                   last_seen_ms=2000),
             types.SimpleNamespace(mac=bytes(5) + b'\x01', ipv4=[], vlan=10, dpid=1, port=1, last_seen_ms=1000)]
    app = types.SimpleNamespace(state=types.SimpleNamespace(devices=types.SimpleNamespace(
        query=lambda: list(hosts))))
    body = json.loads(b''.join(devices.devices_debug(app, get()).pieces))
    assert body == [
        [{'macAddress': '00:00:00:00:00:01', 'ipv4Address': None, 'vlan': 10, 'switchDPID': DPID1, 'switchPort': 1,
          'lastSeenTimestamp': 1000, 'activeSince': 1000}],
        [{'macAddress': '00:00:00:00:00:02', 'ipv4Address': '10.0.0.2', 'vlan': None, 'switchDPID': DPID2,
          'switchPort': 1, 'lastSeenTimestamp': 2000, 'activeSince': 2000}]]
