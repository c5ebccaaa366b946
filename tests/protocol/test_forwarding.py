"""Forwarding, link discovery, hosts and statistics against scripted OpenFlow 1.0 switches over TCP."""
import json
import struct
import time

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from controller.flowentry import floodlight_cookie
from controller.lldp import ETH_TYPE_LLDP, parse_lldp
from tests.lib.controller import wait_for
from tests.protocol.helpers import colon_dpid, push_ok
from tests.protocol.ofpeer import make_port

pytestmark = pytest.mark.protocol

DPID_A = 0xf0a0000000000001
DPID_B = 0xf0a0000000000002
H1 = bytes.fromhex('020000000a01')
H2 = bytes.fromhex('020000000a02')
FAST = ('--port-quarantine', '0.2')


def get_json(controller, path, expect=200):
    status, text, headers = controller.get(path)
    assert status == expect, (path, status, text)
    return json.loads(text)


def arp(src, sender_ip, target_ip):
    body = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + src + bytes(sender_ip) + bytes(6) + bytes(target_ip)
    return b'\xff' * 6 + src + b'\x08\x06' + body


def ip_frame(dst, src):
    return dst + src + b'\x08\x00' + bytes(12) + bytes((10, 0, 0, 1)) + bytes((10, 0, 0, 2)) + bytes(30)


def lldp_outs(peer, since=0):
    """{port: data} of the LLDP packet-outs the peer received."""
    out = {}
    for msg in peer.received(ofp.OFPT_PACKET_OUT, since):
        if msg.data and msg.data[12:14] == struct.pack('!H', ETH_TYPE_LLDP):
            out[msg.actions[0].port] = msg.data
    return out


def cable(a, pa, b, pb):
    """Deliver a's LLDP for port pa to b as a packet-in on pb (and wait for the reverse when asked)."""
    data = a.wait_for(lambda msgs: lldp_outs(a).get(pa), what='LLDP out of port %d' % pa)
    assert parse_lldp(data) == (a.dpid, pa)
    b.send_packet_in(pb, data)


def cable_both_ways(a, pa, b, pb):
    """cable() a:pa to b:pb, then the reverse LLDP b sends out of pb at once (it is asked for) back to a."""
    cable(a, pa, b, pb)
    back = b.wait_for(lambda msgs: [m for m in b.received(ofp.OFPT_PACKET_OUT)
                                    if m.data and parse_lldp(m.data) == (b.dpid, pb)], what='reverse LLDP')
    a.send_packet_in(pa, back[-1].data)


def test_links_hosts_and_a_path_over_two_switches(start_controller, connect_peer):
    controller = start_controller(FAST)
    a = connect_peer(controller, DPID_A)
    b = connect_peer(controller, DPID_B)
    cable_both_ways(a, 3, b, 3)
    links = wait_for(lambda: [l for l in get_json(controller, '/wm/topology/links/json')
                              if l['direction'] == 'bidirectional'], 5, what='a bidirectional link')
    assert links == [{'src-switch': colon_dpid(DPID_A), 'src-port': 3, 'dst-switch': colon_dpid(DPID_B),
                      'dst-port': 3, 'type': 'internal', 'direction': 'bidirectional'}]
    assert get_json(controller, '/wm/topology/switchclusters/json') == {
        colon_dpid(DPID_A): [colon_dpid(DPID_A), colon_dpid(DPID_B)]}
    route = get_json(controller, '/wm/topology/route/%s/1/%s/2/json' % (colon_dpid(DPID_A), colon_dpid(DPID_B)))
    assert [(h['switch'], h['port']['portNumber']) for h in route] == [
        (colon_dpid(DPID_A), 1), (colon_dpid(DPID_A), 3), (colon_dpid(DPID_B), 3), (colon_dpid(DPID_B), 2)]

    time.sleep(0.3)  # let the 0.2 s port quarantine pass
    mark_a, mark_b = a.mark(), b.mark()
    b.send_packet_in(2, arp(H2, (10, 0, 0, 2), (10, 0, 0, 1)))
    flood = b.wait_for_message(ofp.OFPT_PACKET_OUT, since=mark_b, where=lambda m: m.data and m.data[:6] == b'\xff' * 6)
    assert sorted(x.port for x in flood.actions) == [1, 3]  # every port but in_port; 3 is the tree link
    devices = wait_for(lambda: get_json(controller, '/wm/device/?mac=02:00:00:00:0a:02'), 5, what='h2 learned')
    assert devices[0]['ipv4'] == ['10.0.0.2']
    assert devices[0]['attachmentPoint'] == [{'switchDPID': colon_dpid(DPID_B), 'port': 2, 'errorStatus': None}]
    assert get_json(controller, '/wm/device/?ipv4=10.0.0.2') == devices
    assert get_json(controller, '/wm/device/?ipv4=10.9.9.9') == []
    assert 'reason' in get_json(controller, '/wm/device/?ipv4=10.0.0.300', expect=400)

    a.send_packet_in(1, arp(H1, (10, 0, 0, 1), (10, 0, 0, 2)))
    get_json(controller, '/wm/device/?mac=02:00:00:00:0a:01')
    frame = ip_frame(H2, H1)
    a.send_packet_in(1, frame)
    fm_b = b.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark_b)
    fm_a = a.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark_a)
    out = a.wait_for_message(ofp.OFPT_PACKET_OUT, since=mark_a, where=lambda m: m.data == frame)
    for fm, in_port, out_port in ((fm_a, 1, 3), (fm_b, 3, 2)):
        assert (fm.command, fm.priority, fm.idle_timeout, fm.cookie) == (ofp.OFPFC_ADD, 1, 5, 2 << 52)
        assert (fm.match.in_port, fm.match.dl_src, fm.match.dl_dst) == (in_port, H1, H2)
        assert [x.port for x in fm.actions] == [out_port]
    assert out.buffer_id == 0xffffffff and [x.port for x in out.actions] == [3]
    summary = get_json(controller, '/wm/core/controller/summary/json')
    assert summary == {'# Switches': 2, '# inter-switch links': 2, '# quarantine ports': 0, '# hosts': 2}

    # the link's port goes down: links and forwarding flows go
    mark_a = a.mark()
    a.send_port_status(ofp.OFPPR_MODIFY, make_port(3, state=ofp.OFPPS_LINK_DOWN))
    delete = a.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark_a)
    assert (delete.command, delete.priority, delete.match.in_port) == (ofp.OFPFC_DELETE_STRICT, 1, 1)
    wait_for(lambda: get_json(controller, '/wm/topology/links/json') == [], 5, what='the link to go')


def test_forwarding_off_learns_hosts_but_sends_nothing(start_controller, connect_peer):
    controller = start_controller(FAST + ('--no-forwarding',))
    a = connect_peer(controller, DPID_A)
    time.sleep(0.3)
    mark = a.mark()
    a.send_packet_in(1, arp(H1, (10, 0, 0, 1), (10, 0, 0, 2)))
    wait_for(lambda: get_json(controller, '/wm/device/'), 5, what='h1 learned')
    a.send_packet_in(1, ip_frame(H2, H1))
    a.echo()  # everything the controller sent for the packet-ins came before this reply
    assert not [m for m in a.received(since=mark) if m.msg_type in (ofp.OFPT_FLOW_MOD, ofp.OFPT_PACKET_OUT)], \
        a.dump(mark)


def test_switch_statistics_shapes_and_errors(start_controller, connect_peer):
    controller = start_controller()
    connect_peer(controller, DPID_A)
    push_ok(controller, {'switch': colon_dpid(DPID_A), 'name': 'stat-flow', 'priority': '100',
                         'eth_src': '02:00:00:00:0a:01', 'actions': 'output=2'})
    base = '/wm/core/switch/%s/' % colon_dpid(DPID_A)
    flows = wait_for(lambda: get_json(controller, base + 'flow/json')['flows'], 5, what='the flow in flow stats')
    assert flows == [{'version': 'OF_10', 'cookie': str(floodlight_cookie('stat-flow')),
                      'tableId': '0x0', 'packetCount': '0', 'byteCount': '0', 'durationSeconds': '0',
                      'durationNSeconds': '0', 'priority': '100', 'idleTimeoutSec': '0', 'hardTimeoutSec': '0',
                      'match': {'eth_src': '02:00:00:00:0a:01'}, 'actions': {'actions': 'output=2'}}]
    assert get_json(controller, base + 'aggregate/json') == {'aggregate': {
        'version': 'OF_10', 'flowCount': '1', 'packetCount': '0', 'byteCount': '0', 'flags': '0'}}
    assert get_json(controller, base + 'desc/json')['desc']['manufacturerDescription'] == 'ofpeer'
    features = get_json(controller, base + 'features/json')
    assert features['dpid'] == colon_dpid(DPID_A) and [p['portNumber'] for p in features['portDesc']] == ['1', '2', '3']
    assert get_json(controller, base + 'port/json') == {'port_reply': [{'version': 'OF_10', 'port': []}]}
    assert get_json(controller, base + 'table/json') == {'table': []}
    assert get_json(controller, base + 'queue/json') == {}
    assert get_json(controller, '/wm/core/switch/all/aggregate/json') == {
        colon_dpid(DPID_A): get_json(controller, base + 'aggregate/json')}
    assert 'reason' in get_json(controller, '/wm/core/switch/zz/flow/json', expect=400)
    assert 'reason' in get_json(controller, '/wm/core/switch/00:00:00:00:00:00:00:09/flow/json', expect=404)
    assert 'reason' in get_json(controller, base + 'bogus/json', expect=404)
    assert get_json(controller, '/wm/core/health/json') == {'healthy': True}
    assert get_json(controller, '/wm/core/system/uptime/json')['systemUptimeMsec'] > 0
    memory = get_json(controller, '/wm/core/memory/json')
    assert memory['total'] > 0 and memory['free'] > 0


def test_all_switches_are_asked_at_once_and_a_silent_one_times_out(start_controller, connect_peer):
    controller = start_controller(('--stats-timeout', '1.5'))
    fast = connect_peer(controller, DPID_A)
    slow = connect_peer(controller, DPID_B, wait='ready', hold_replies=(ofp.OFPT_STATS_REQUEST,))
    start = time.monotonic()
    body = get_json(controller, '/wm/core/switch/all/desc/json')
    elapsed = time.monotonic() - start
    assert body[colon_dpid(DPID_A)]['desc']['manufacturerDescription'] == 'ofpeer'
    assert 'did not answer' in body[colon_dpid(DPID_B)]['ERROR']
    assert 1.4 < elapsed < 3.0, elapsed
    status, text, _ = controller.get('/wm/core/switch/%s/desc/json' % colon_dpid(DPID_B))
    assert status == 504 and 'did not answer' in json.loads(text)['reason']
    assert fast.connected and slow.connected
