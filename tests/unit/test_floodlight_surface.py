"""Floodlight routes of core, topology, devices and statistics that issue 14 added: each handler called with a fake
app, as in test_rest_handlers.py; the bandwidth computation (controller.bandwidth) on its own."""
import json
import time
import types

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp
from ryu.ofproto import ofproto_v1_0_parser as parser

from controller import bandwidth, of10
from controller.metrics import SessionCounts
from rest import core, devices, stats, topology
from rest.http import Request
from tests.protocol.golden import assert_same_shape, capture_body
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


def _session(packet_ins, flow_mods):
    """A session with its message counts (apps/session.py: controller.metrics.SessionCounts)."""
    counts = SessionCounts()
    counts.received[of10.OFPT_PACKET_IN] = packet_ins
    counts.sent_one_by_one[of10.OFPT_FLOW_MOD] = flow_mods
    return types.SimpleNamespace(counts=counts)


def _counter_app(accepted=5, rejected=2):
    state = types.SimpleNamespace(
        lldp_accepted=accepted, lldp_rejected={'unsigned': rejected, 'replayed': 0}, flow_count=lambda: 7,
        devices=types.SimpleNamespace(by_mac={b'a': None, b'b': None}))
    sessions = [types.SimpleNamespace(dpid=1, handle=_session(packet_ins=4, flow_mods=9)),
                types.SimpleNamespace(dpid=2, handle=_session(packet_ins=1, flow_mods=0))]
    tracker = types.SimpleNamespace(current_sessions=lambda: sessions,
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
    # per switch, the session's PACKET_IN and flow-mod counts: 0.91's {"<switch as written>": {"<date>": n}}
    (when, count), = core.counter_two(app, get(), first=DPID1, second='OFPacketIn')[DPID1].items()
    assert count == 4 and time.strptime(when, '%a %b %d %H:%M:%S UTC %Y')
    assert list(core.counter_two(app, get(), first='2', second='OFFlowMod')['2'].values()) == [0]
    assert core.counter_two(app, get(), first=DPID1, second='all') == {}  # as 0.91 answered (capture 033)
    assert core.counter_two(app, get(), first='00:00:00:00:00:00:00:09', second='OFPacketIn') == {}
    assert flat[DPID1 + '__OFPacketIn'] == 4 and flat[DPID1 + '__OFFlowMod'] == 9
    assert flat['controller__OFPacketIn'] == 5 and flat['controller__OFFlowMod'] == 9
    # 1.x: Floodlight's OFSwitchManager connection counters
    assert core.counter_two(app, get(), first='OFSwitchManager', second='all') == {
        DPID1 + ':0x0/read/PACKET_IN': 4, DPID1 + ':0x0/write/FLOW_MOD': 9,
        DPID2 + ':0x0/read/PACKET_IN': 1, DPID2 + ':0x0/write/FLOW_MOD': 0}
    counter_map = core.debugcounter(app, get(), params='OFSwitchManager')['counterMap']
    assert counter_map['OFSwitchManager/' + DPID2 + ':0x0/read/PACKET_IN']['counterValue'] == 1
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


# --- Floodlight 0.91's shapes (--floodlight-api 0.9) against its captures -------------------------------------

def _v0_replies():
    match = parser.OFPMatch(wildcards=ofp.OFPFW_ALL & ~ofp.OFPFW_IN_PORT, in_port=1)
    flow = parser.OFPFlowStats()
    (flow.table_id, flow.match, flow.duration_sec, flow.duration_nsec, flow.priority, flow.idle_timeout,
     flow.hard_timeout, flow.cookie, flow.packet_count, flow.byte_count, flow.actions) = (
        0, match, 2, 377500772, 0x8000, 0, 0, 45035997351236006, 0, 0, [parser.OFPActionOutput(2, 0x7fff)])
    port = parser.OFPPortStats(1, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0)
    desc = parser.OFPDescStats(b'Nicira, Inc.', b'Open vSwitch', b'2.0.2', b'None', b'None')
    aggregate = parser.OFPAggregateStats(0, 0, 0)
    table = parser.OFPTableStats(0, b'classifier', ofp.OFPFW_ALL, 1000000, 0, 10, 5)
    return {'flow': [[flow]], 'port': [[port]], 'desc': [desc], 'aggregate': [[aggregate]], 'table': [[table]],
            'queue': [[]], 'features': [_features_reply()]}


@pytest.mark.parametrize('stat, capture', [
    ('flow', '084_sw1_flow_after.txt'), ('port', '007_sw1_port.txt'), ('desc', '009_sw1_desc.txt'),
    ('aggregate', '011_sw1_aggregate.txt'), ('table', '015_sw1_table.txt'), ('queue', '017_sw1_queue.txt'),
    ('features', '013_sw1_features.txt')])
def test_v0_switch_statistics_have_floodlight_091s_keys_and_types(stat, capture):
    golden = capture_body('v0.91/' + capture)[DPID1]
    ours = stats.stat_json(stat, _v0_replies()[stat], core.API_0_9)
    assert_same_shape(ours, golden)
    if stat == 'flow':
        assert ours[0]['priority'] == -32768 and ours[0]['actions'] == [
            {'type': 'OUTPUT', 'length': 8, 'port': 2, 'maxLength': 32767, 'lengthU': 8}]
        assert ours[0]['match']['inputPort'] == 1 and ours[0]['match']['wildcards'] == golden[0]['match'][
            'wildcards']
    if stat == 'features':
        assert (ours['tables'], ours['length'], [p['portNumber'] for p in ours['ports']]) == (-2, 128, [1, 65534])
    if stat in ('desc', 'aggregate', 'table', 'port'):
        assert ours == golden[:1]  # the same values give the same body


def test_v0_switch_stat_is_keyed_by_the_switch_as_written(monkeypatch):
    app = types.SimpleNamespace(query=lambda dpids, stat: {1: [{'flowCount': 0}]})
    monkeypatch.setattr(core, 'api_generation', lambda: core.API_0_9)
    assert stats.switch_stat(app, get(), switch='1', stat='aggregate') == {'1': [{'flowCount': 0}]}
    assert stats.switch_stat(app, get(), switch='all', stat='aggregate') == {DPID1: [{'flowCount': 0}]}
    monkeypatch.setattr(core, 'api_generation', lambda: core.API_1_X)
    assert stats.switch_stat(app, get(), switch='1', stat='aggregate') == [{'flowCount': 0}]


def test_switch_list_is_a_superset_of_both_generations():
    desc = parser.OFPDescStats(b'Nicira, Inc.', b'Open vSwitch', b'2.0.2', b'None', b'None')
    features = _features_reply()
    conn = types.SimpleNamespace(dpid=1, remote='127.0.0.1:51770', since=1795650735.35, roles_unsupported=True,
                                 handle=types.SimpleNamespace(ports=features.ports))
    tracker = types.SimpleNamespace(current_sessions=lambda: [conn])
    policy = types.SimpleNamespace(switch_roles=lambda tracker: {1: 'MASTER'})
    asked = []
    app = types.SimpleNamespace(switches=types.SimpleNamespace(tracker=tracker, policy=policy),
                                features={1: features}, descriptions={1: desc}, describe=asked.append)
    (ours,) = stats.switches(app, get())
    v0 = capture_body('v0.91/004_switches.txt')[0]
    v1 = capture_body('v1.2/004_switches.txt')[0]
    assert set(ours) == set(v0) | set(v1)
    assert_same_shape({k: ours[k] for k in v0}, v0)
    assert_same_shape({k: ours[k] for k in v1}, v1)
    assert ours['description'] == v0['description'] and ours['attributes']['supportsNxRole'] is False
    assert [(p['portNumber'], p['name']) for p in ours['ports']] == [(1, 's1-eth1'), (65534, 's1')]
    # before the switch's description arrived: the keys with empty values
    app.descriptions = {}
    assert set(stats.switches(app, get())[0]['description']) == set(v0['description'])
    assert asked == [[1], [1]]  # the app asks once per connection (apps/stats.py StatsApp.describe)
