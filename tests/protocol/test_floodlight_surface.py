"""Floodlight routes of core, topology, devices and statistics (issue 14) against a running controller with an
emulated switch: the shapes Floodlight's captures show (tests/fixtures/floodlight/), and the bandwidth statistics
computed from the switch's own port counters."""
import json

import pytest

from tests.lib.controller import wait_for
from tests.protocol.golden import capture_body
from tests.protocol.helpers import colon_dpid

pytestmark = pytest.mark.protocol

DPID = 0x1


def get_json(controller, path, status=200):
    got, text, _ = controller.get(path)
    assert got == status, (path, got, text)
    return json.loads(text)


def test_core_topology_and_device_routes_answer_in_floodlights_shapes(controller, connect_peer):
    peer = connect_peer(controller, DPID)
    # the switch list serves both generations' keys: 1.x's set and 0.9x's dpid
    (switch,) = get_json(controller, '/wm/core/controller/switches/json')
    assert set(capture_body('v1.2/004_switches.txt')[0]) < set(switch) and switch['dpid'] == colon_dpid(DPID)
    # port-desc from the FEATURES_REPLY (Floodlight 1.2 gave its ERROR blob for OpenFlow 1.0: "Ports (0)")
    body = get_json(controller, '/wm/core/switch/%s/port-desc/json' % colon_dpid(DPID))
    assert [p['portNumber'] for p in body['portDesc']] == ['1', '2', '3'] and body['version'] == 'OF_10'
    assert set(body['portDesc'][0]) == set(capture_body('v1.2/009_sw1_features.txt')['portDesc'][0])
    loaded = get_json(controller, '/wm/core/module/loaded/json')
    golden = capture_body('v1.2/033_core_module_loaded_json.txt')
    assert set(loaded) <= set(get_json(controller, '/wm/core/module/all/json'))
    for name in ('net.floodlightcontroller.staticflowentry.StaticFlowEntryPusher',
                 'net.floodlightcontroller.topology.TopologyManager',
                 'net.floodlightcontroller.devicemanager.internal.DeviceManagerImpl'):
        assert set(loaded[name]) == set(golden[name]) and set(loaded[name]['provides']) == set(
            golden[name]['provides'])
    assert set(get_json(controller, '/wm/core/storage/tables/json')) <= set(
        capture_body('v1.2/034_core_storage_tables_json.txt'))
    memory = get_json(controller, '/wm/core/memory/json')
    assert 0 < memory['free'] < memory['total']
    # ports, as Floodlight 1.2 wrote them (LOCAL is not tracked here: docs/compatibility.md)
    ports = wait_for(lambda: get_json(controller, '/wm/topology/enabledports/json'), 5, what='enabled ports')
    golden_ports = [p for p in capture_body('v1.2/043_topo_enabledports_json.txt')
                    if p['switch'] == colon_dpid(DPID) and p['port']['portNumber'] > 0]
    assert ports == golden_ports
    for name in ('blockedports', 'broadcastdomainports', 'tunnellinks'):
        assert isinstance(get_json(controller, '/wm/topology/%s/json' % name), list)
    counters = get_json(controller, '/wm/core/counter/all/json')
    assert counters['core__switches-connected'] == 1
    assert get_json(controller, '/wm/core/counter/core/switches-connected/json') == {'switches-connected': 1}
    assert get_json(controller, '/wm/debugcounter/core')['counterMap']['core/switches-connected'][
        'counterValue'] == 1
    # jQuery's ?_=<timestamp> (Floodlight's web UI) is ignored, not a 400
    assert get_json(controller, '/wm/device/?_=1700000000000') == []
    assert get_json(controller, '/wm/device/debug') == []
    assert peer.connected


def test_bandwidth_from_port_counters_once_collection_is_enabled(start_controller, connect_peer):
    controller = start_controller(extra_args=['--statistics-interval', '1'])
    peer = connect_peer(controller, DPID)
    url = '/wm/statistics/bandwidth/%s/1/json' % colon_dpid(DPID)
    peer.port_counters = {1: (0, 0), 2: (0, 0)}
    assert get_json(controller, url) == capture_body('v1.2/071_stats_bw.txt') == []  # off by default
    status, text, _ = controller.post('/wm/statistics/config/enable/json', '')
    assert (status, json.loads(text)) == (200, capture_body('v1.2/070_stats_enable.txt'))
    wait_for(lambda: peer.received_stats_requests() >= 1, 5, what='a port stats poll')
    # from now on port 1 receives 125,000 bytes (1 Mbit) and sends 12,500 between two polls, about a second apart
    polls = peer.received_stats_requests()
    peer.port_counters = {1: (125000, 12500), 2: (0, 0)}
    wait_for(lambda: peer.received_stats_requests() > polls, 5, what='the next poll')
    (rate,) = wait_for(lambda: get_json(controller, url), 5, what='a bandwidth figure')
    assert set(rate) == {'dpid', 'port', 'updated', 'link-speed-bits-per-second', 'bits-per-second-rx',
                         'bits-per-second-tx'}
    assert rate['dpid'] == colon_dpid(DPID) and rate['port'] == '1'
    assert 500000 < int(rate['bits-per-second-rx']) < 2000000 and 50000 < int(rate['bits-per-second-tx']) < 200000
    assert len(get_json(controller, '/wm/statistics/bandwidth/all/all/json')) == 2
    status, text, _ = controller.request('PUT', '/wm/statistics/config/disable/json', '')
    assert (status, json.loads(text)) == (200, {'statistics-collection': 'disabled'})
    assert get_json(controller, '/wm/statistics/bandwidth/all/all/json') == []
    for bad in ('/wm/statistics/bandwidth/zz/1/json', '/wm/statistics/bandwidth/all/-1/json'):
        assert 'reason' in get_json(controller, bad, status=400)
    assert controller.get('/wm/statistics/config/enable/json')[0] == 405


def test_floodlight_api_0_9_writes_port_numbers(start_controller, connect_peer):
    controller = start_controller(extra_args=['--floodlight-api', '0.9'])
    connect_peer(controller, DPID)
    ports = wait_for(lambda: get_json(controller, '/wm/topology/enabledports/json'), 5, what='enabled ports')
    golden = [p for p in capture_body('v0.91/042_topo_enabledports_json.txt')
              if p['switch'] == colon_dpid(DPID) and p['port'] < 0xff00]
    assert ports == sorted(golden, key=lambda p: p['port'])


def test_per_switch_packet_in_and_flow_mod_counters(start_controller, connect_peer):
    controller = start_controller(extra_args=['--no-forwarding'])
    peer = connect_peer(controller, DPID)
    other = connect_peer(controller, 2)
    frame = b'\xff' * 6 + bytes.fromhex('020000000001') + b'\x08\x06' + bytes(28)
    for _ in range(5):
        peer.send_packet_in(1, frame)
    other.send_packet_in(1, frame)
    status, text, _ = controller.post('/wm/staticflowpusher/json', json.dumps({
        'switch': colon_dpid(DPID), 'name': 'counted', 'eth_dst': '52:54:00:00:00:01', 'actions': 'output=2'}))
    assert status == 200, text
    peer.wait_for(lambda msgs: peer.flow_mods(), what='the flow-mod')
    peer.echo()
    other.echo()  # the packet-ins arrived before these replies
    sent = len(peer.flow_mods())
    connection = colon_dpid(DPID) + ':0x0'
    counters = wait_for(lambda: (lambda c: c.get(connection + '/read/PACKET_IN') == 5 and c)(
        get_json(controller, '/wm/core/counter/OFSwitchManager/all/json')), 5, what='5 packet-ins counted')
    assert counters[connection + '/write/FLOW_MOD'] == sent >= 1
    assert counters[colon_dpid(2) + ':0x0/read/PACKET_IN'] == 1
    debug = get_json(controller, '/wm/debugcounter/OFSwitchManager')['counterMap']
    assert debug['OFSwitchManager/%s/read/PACKET_IN' % connection]['counterValue'] == 5
    # 0.91's forms: keyed by the switch as written, one date-stamped value
    (value,) = get_json(controller, '/wm/core/counter/1/OFPacketIn/json')['1'].values()
    assert value == 5
    (value,) = get_json(controller, '/wm/core/counter/%s/OFFlowMod/json' % colon_dpid(DPID))[
        colon_dpid(DPID)].values()
    assert value == sent
    flat = get_json(controller, '/wm/core/counter/all/json')
    assert flat[colon_dpid(DPID) + '__OFPacketIn'] == 5 and flat['controller__OFPacketIn'] == 6


def test_floodlight_api_0_9_per_switch_statistics_and_switch_list(start_controller, connect_peer):
    controller = start_controller(extra_args=['--floodlight-api', '0.9'])
    peer = connect_peer(controller, DPID)
    status, text, _ = controller.post('/wm/staticflowentrypusher/json', json.dumps({
        'switch': colon_dpid(DPID), 'name': 'v0', 'priority': '100', 'src-mac': '52:54:00:00:00:01',
        'actions': 'output=2'}))
    assert status == 200, text
    peer.wait_for(lambda msgs: peer.flow_mods(), what='the flow-mod')
    (flow,) = get_json(controller, '/wm/core/switch/1/flow/json')['1']  # keyed as the URL wrote it
    assert (flow['priority'], flow['match']['dataLayerSource'], flow['actions'][0]['port']) == (
        100, '52:54:00:00:00:01', 2)
    everyone = get_json(controller, '/wm/core/switch/all/aggregate/json')
    assert everyone == {colon_dpid(DPID): [{'packetCount': 0, 'byteCount': 0, 'flowCount': 1}]}
    features = get_json(controller, '/wm/core/switch/%s/features/json' % colon_dpid(DPID))[colon_dpid(DPID)]
    assert [p['portNumber'] for p in features['ports']] == [1, 2, 3] and features['type'] == 'FEATURES_REPLY'
    # the switch list: both generations' keys with either setting; the description arrives after the first list
    (switch,) = get_json(controller, '/wm/core/controller/switches/json')
    assert switch['dpid'] == switch['switchDPID'] == colon_dpid(DPID)
    assert [(p['portNumber'], p['name']) for p in switch['ports']] == [(1, 's1-eth1'), (2, 's1-eth2'), (3, 's1-eth3')]
    wait_for(lambda: get_json(controller, '/wm/core/controller/switches/json')[0]['description']['manufacturer']
             == 'ofpeer', 5, what='the description')
