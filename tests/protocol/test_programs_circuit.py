"""What Floodlight's circuitpusher (apps/circuitpusher/circuitpusher.py of v0.91 and v1.2) relies on, done here the
way it does it: curl calls with `-d` (a form Content-Type on a JSON body), the replies read as it reads them.

circuitpusher --add: GET /wm/device/?ipv4=<src>, then <dst>, reads [0]['attachmentPoint'][0]['switchDPID'] and
['port']; GET /wm/topology/route/<src switch>/<port>/<dst switch>/<port>/json, takes the hops two by two (in
port, out port of one switch): v1.2 reads hop['switch'] and hop['port']['shortPortNumber'], v0.91 hop['port'] as
a number (so v0.91 needs --floodlight-api 0.9, docs/compatibility.md); pushes four entries per switch (IPv4 and
ARP, both ways) named <dpid>.<circuit>.f|farp|r|rarp and ignores the replies; prints
GET /wm/core/switch/all/flow/json. circuitpusher --delete: DELETE with a JSON body {"name", "switch"} per entry.
"""
import json

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.protocol.programs import (FAST, H1_IP, H2_IP, SWITCH_A, SWITCH_B, assert_shape, get_json,
                                     two_switches)

pytestmark = pytest.mark.protocol

CURL_FORM = {'Content-Type': 'application/x-www-form-urlencoded'}  # what `curl -d` and `curl -X DELETE -d` send
CIRCUIT_PRIORITY = 32768


def attachment(controller, ip):
    devices = get_json(controller, '/wm/device/?ipv4=%s' % ip)
    # circuitpusher: parsedResult[0]['attachmentPoint'][0]['switchDPID'] and ['port']
    assert_shape(devices, [{'attachmentPoint': [{'switchDPID': str, 'port': int}]}], 'device %s' % ip)
    point = devices[0]['attachmentPoint'][0]
    return point['switchDPID'], point['port']


def hop_pairs(route, port_number):
    """[(switch, in port, out port)] from a route's hops taken two by two, as circuitpusher walks them."""
    assert len(route) % 2 == 0, route
    return [(route[i]['switch'], port_number(route[i]['port']), port_number(route[i + 1]['port']))
            for i in range(0, len(route), 2)]


def curl_d(controller, method, url, body):
    status, text, _ = controller.request(method, url, json.dumps(body), headers=CURL_FORM)
    return status, text


def circuit_flows(peer):
    """{(in_port, dl_type, nw_src, nw_dst): out port} of the circuit's flows in the switch's table."""
    flows = {}
    for flow_mod in peer.flow_table().values():
        if flow_mod.priority == CIRCUIT_PRIORITY:
            match = flow_mod.match
            wildcarded_ip = match.wildcards & ofp.OFPFW_NW_SRC_MASK == ofp.OFPFW_NW_SRC_ALL
            key = (match.in_port, match.dl_type, None if wildcarded_ip else match.nw_src,
                   None if wildcarded_ip else match.nw_dst)
            flows[key] = [action.port for action in flow_mod.actions]
    return flows


def ip_number(text):
    return int.from_bytes(bytes(int(part) for part in text.split('.')), 'big')


def run_circuit(controller, peers, family, entries, port_number, switch_flows=None):
    """The add and delete of one circuit h1 -> h2; `entries(switch, name, in_port, out_port)` -> the four
    request bodies of one switch (the generation's keys)."""
    src_switch, src_port = attachment(controller, H1_IP)
    dst_switch, dst_port = attachment(controller, H2_IP)
    assert (src_switch, src_port, dst_switch, dst_port) == (SWITCH_A, 1, SWITCH_B, 2)
    route = get_json(controller, '/wm/topology/route/%s/%s/%s/%s/json' % (src_switch, src_port, dst_switch,
                                                                       dst_port))
    pairs = hop_pairs(route, port_number)
    assert pairs == [(SWITCH_A, 1, 3), (SWITCH_B, 3, 2)]
    names = []
    for switch, in_port, out_port in pairs:
        for body in entries(switch, switch + '.c1', in_port, out_port):
            assert curl_d(controller, 'POST', '/wm/%s/json' % family, body) == (200, '{"status" : "Entry pushed"}')
            names.append((switch, body['name']))
    a, b = peers
    ip, arp = 0x800, 0x806
    for peer, in_port, out_port in ((a, 1, 3), (b, 3, 2)):
        flows = peer.wait_for(lambda msgs: len(circuit_flows(peer)) == 4 and circuit_flows(peer),
                              what='the circuit\'s four flows')
        assert flows[(in_port, ip, ip_number(H1_IP), ip_number(H2_IP))] == [out_port]
        assert flows[(out_port, ip, ip_number(H2_IP), ip_number(H1_IP))] == [in_port]
        assert [ports for key, ports in flows.items() if key[1] == arp] in ([[out_port], [in_port]],
                                                                            [[in_port], [out_port]])
    # circuitpusher prints this after every pair (through python -mjson.tool): a dict keyed by switch, each with
    # its flows in the generation's shape (1.x: {"flows": [...]}, 0.9x: the list itself)
    all_flows = get_json(controller, '/wm/core/switch/all/flow/json')
    switch_flows = switch_flows or {'flows': list}
    assert_shape(all_flows, {SWITCH_A: switch_flows, SWITCH_B: switch_flows})

    for switch, name in names:
        assert curl_d(controller, 'DELETE', '/wm/%s/json' % family, {'name': name, 'switch': switch}) == (
            200, '{"status" : "Entry %s deleted"}' % name)
    for peer in peers:
        peer.wait_for(lambda msgs: not circuit_flows(peer), what='the circuit\'s flows to go')


def test_circuitpusher_v1_2_creates_and_deletes_a_circuit(start_controller, connect_peer):
    controller = start_controller(FAST)
    peers = two_switches(controller, connect_peer)

    def entries(switch, name, in_port, out_port):
        common = {'switch': switch, 'cookie': '0', 'priority': str(CIRCUIT_PRIORITY), 'active': 'true'}
        return [dict(common, name=name + '.f', ipv4_src=H1_IP, ipv4_dst=H2_IP, eth_type='0x800',
                     in_port=str(in_port), actions='output=%d' % out_port),
                dict(common, name=name + '.farp', arp_spa=H1_IP, arp_tpa=H2_IP, eth_type='0x806',
                     in_port=str(in_port), actions='output=%d' % out_port),
                dict(common, name=name + '.r', ipv4_src=H2_IP, ipv4_dst=H1_IP, eth_type='0x800',
                     in_port=str(out_port), actions='output=%d' % in_port),
                dict(common, name=name + '.rarp', arp_spa=H2_IP, arp_tpa=H1_IP, eth_type='0x806',
                     in_port=str(out_port), actions='output=%d' % in_port)]

    # v1.2 reads a hop's port as an object: hop['port']['shortPortNumber']
    run_circuit(controller, peers, 'staticflowpusher', entries, lambda port: port['shortPortNumber'])


def test_circuitpusher_v0_91_creates_and_deletes_a_circuit(start_controller, connect_peer):
    controller = start_controller(FAST + ('--floodlight-api', '0.9'))
    peers = two_switches(controller, connect_peer)

    def entries(switch, name, in_port, out_port):
        common = {'switch': switch, 'cookie': '0', 'priority': str(CIRCUIT_PRIORITY), 'active': 'true'}
        # v0.91's ARP entries match the ether-type and port only
        return [dict(common, name=name + '.f', **{'src-ip': H1_IP, 'dst-ip': H2_IP, 'ether-type': '0x800',
                                                  'ingress-port': str(in_port), 'actions': 'output=%d' % out_port}),
                dict(common, name=name + '.farp', **{'ether-type': '0x806', 'ingress-port': str(in_port),
                                                     'actions': 'output=%d' % out_port}),
                dict(common, name=name + '.r', **{'src-ip': H2_IP, 'dst-ip': H1_IP, 'ether-type': '0x800',
                                                  'ingress-port': str(out_port), 'actions': 'output=%d' % in_port}),
                dict(common, name=name + '.rarp', **{'ether-type': '0x806', 'ingress-port': str(out_port),
                                                     'actions': 'output=%d' % in_port})]

    def port_number(port):
        # v0.91 formats hop['port'] into "ingress-port":"%s": it must be a bare number
        assert isinstance(port, int) and not isinstance(port, bool), port
        return port

    run_circuit(controller, peers, 'staticflowentrypusher', entries, port_number, switch_flows=list)
