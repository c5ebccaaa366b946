"""Floodlight's load balancer against a real controller and a scripted OpenFlow 1.0 switch: the /quantum/v1.0
REST API as Floodlight's users drive it (its documentation's curl sequence), bad input refused without change,
the VIP answered by ARP, and two clients' connections to the VIP sent to member 1, then member 2."""
import json
import time

import pytest
from ryu.lib.packet import arp, ethernet, ipv4, packet, tcp
from ryu.ofproto import ofproto_v1_0 as ofp

pytestmark = pytest.mark.protocol

DPID = 0xf0b0000000000001
BASE = '/quantum/v1.0'
VIP_MAC = '12:34:56:78:90:12'
CLIENT1, CLIENT2 = ('02:00:00:00:0b:01', '10.0.0.1'), ('02:00:00:00:0b:04', '10.0.0.4')
MEMBER1, MEMBER2 = ('02:00:00:00:0b:02', '10.0.0.2'), ('02:00:00:00:0b:03', '10.0.0.3')
PORTS = {CLIENT1: 1, MEMBER1: 2, MEMBER2: 3, CLIENT2: 4}


def call(controller, method, path, body=None, expect=200):
    status, text, _headers = controller.request(method, BASE + path,
                                                None if body is None else json.dumps(body))
    assert status == expect, (method, path, status, text)
    return json.loads(text) if text else None


def frame(*protocols):
    pkt = packet.Packet()
    for protocol in protocols:
        pkt.add_protocol(protocol)
    pkt.serialize()
    return bytes(pkt.data)


def arp_request(host, target_ip):
    return frame(ethernet.ethernet(dst='ff:ff:ff:ff:ff:ff', src=host[0], ethertype=0x0806),
                 arp.arp(opcode=1, src_mac=host[0], src_ip=host[1], dst_ip=target_ip))


def syn_to_vip(host, src_port):
    return frame(ethernet.ethernet(dst=VIP_MAC, src=host[0], ethertype=0x0800),
                 ipv4.ipv4(src=host[1], dst='10.0.0.100', proto=6),
                 tcp.tcp(src_port=src_port, dst_port=80, bits=tcp.TCP_SYN))


def test_rest_api_as_floodlights_documentation_drives_it(controller):
    vip = call(controller, 'POST', '/vips/', {'id': '1', 'name': 'vip1', 'protocol': 'tcp',
                                               'address': '10.0.0.100', 'port': '80'})
    assert vip == {'name': 'vip1', 'id': '1', 'address': '167772260', 'protocol': '6', 'port': '80'}
    pool = call(controller, 'POST', '/pools/', {'id': '1', 'name': 'pool1', 'protocol': 'tcp', 'vip_id': '1'})
    assert pool == {'name': 'pool1', 'id': '1', 'vipId': '1', 'members': []}
    member = call(controller, 'POST', '/members/', {'address': '10.0.0.2', 'port': '80', 'pool_id': '1'})
    assert member['id'].isdigit() and member['poolId'] == '1' and member['vipId'] == '1'
    assert member['address'] == '167772162' and member['port'] == '80'
    assert call(controller, 'GET', '/vips/') == [vip]
    assert call(controller, 'GET', '/vips/1') == [vip]
    assert call(controller, 'GET', '/pools/1')[0]['members'] == [member['id']]
    assert call(controller, 'GET', '/pools/1/members') == [member]
    assert call(controller, 'GET', '/members/%s' % member['id']) == [member]
    assert call(controller, 'GET', '/members/') == [member]
    # PUT on one replaces it
    renamed = call(controller, 'PUT', '/vips/1', {'name': 'web', 'protocol': 'tcp', 'address': '10.0.0.100',
                                                  'port': 8080})
    assert (renamed['name'], renamed['port']) == ('web', '8080')
    assert call(controller, 'GET', '/health_monitors/') == []
    # deletes answer Floodlight's 0; the pool's member list follows
    assert call(controller, 'DELETE', '/members/%s' % member['id']) == 0
    assert call(controller, 'GET', '/pools/1/members') == []
    assert call(controller, 'DELETE', '/pools/1') == 0
    assert call(controller, 'DELETE', '/vips/1') == 0
    assert call(controller, 'GET', '/vips/') == []


BAD_REQUESTS = [
    ('POST', '/vips/', b'{"address": "10.0.0.100", "protocol": "sctp"}', 400),
    ('POST', '/vips/', b'{"address": "10.0.0.256"}', 400),
    ('POST', '/vips/', b'{"address": "10.0.0.100", "port": "99999"}', 400),
    ('POST', '/vips/', b'{"address": "10.0.0.100", "colour": "red"}', 400),
    ('POST', '/vips/', b'{"name": "no address"}', 400),
    ('POST', '/vips/', b'{"address": "10.0.0.9", "pool_id": "404"}', 404),
    ('POST', '/vips/', b'{"address": "10.0.0.50"}', 409),        # vip 'keep' has it
    ('POST', '/vips/', b'not json', 400),
    ('POST', '/vips/', b'[]', 400),
    ('PUT', '/vips/keep', b'{"id": "other", "address": "10.0.0.50"}', 400),
    ('POST', '/pools/', b'{"vip_id": "404"}', 404),
    ('POST', '/pools/', b'{"lb_method": "fastest"}', 400),
    ('POST', '/members/', b'{"address": "10.0.0.2"}', 400),       # no pool
    ('POST', '/members/', b'{"address": "10.0.0.2", "pool_id": "404"}', 404),
    ('POST', '/members/', b'{"address": "10.0.0.2", "pool_id": "keep", "weight": 3}', 400),
    ('GET', '/vips/404', None, 404),
    ('DELETE', '/vips/404', None, 404),
    ('DELETE', '/vips/', None, 405),
    ('POST', '/health_monitors/', b'{"monitor": {"id": "1"}}', 405),
    ('DELETE', '/health_monitors/1', None, 404),
]


def test_an_id_beyond_ascii_is_found_by_its_percent_encoded_url(controller):
    """Ids are any string (Floodlight's too): one made in a JSON body is reached at its UTF-8 percent-encoded URL
    (WSGI hands paths over as Latin-1: it used to be looked up as 'Ã©quipe' and never found)."""
    call(controller, 'POST', '/vips/', {'id': 'équipe', 'address': '10.0.0.77'})
    assert call(controller, 'GET', '/vips/%C3%A9quipe')[0]['id'] == 'équipe'
    call(controller, 'DELETE', '/vips/%C3%A9quipe')
    assert call(controller, 'GET', '/vips/') == []


def test_bad_input_gets_a_json_reason_and_changes_nothing(controller):
    call(controller, 'POST', '/vips/', {'id': 'keep', 'address': '10.0.0.50'})
    call(controller, 'POST', '/pools/', {'id': 'keep', 'vip_id': 'keep'})
    before = [call(controller, 'GET', path) for path in ('/vips/', '/pools/', '/members/')]
    for method, path, body, expect in BAD_REQUESTS:
        status, text, headers = controller.request(method, BASE + path, body)
        assert status == expect, (method, path, body, status, text)
        assert json.loads(text)['reason'], text
        assert headers['Content-Type'].startswith('application/json')
    assert [call(controller, 'GET', path) for path in ('/vips/', '/pools/', '/members/')] == before


def test_vip_answered_by_arp_and_connections_reach_each_member_in_turn(start_controller, connect_peer):
    controller = start_controller(('--port-quarantine', '0.2'))
    peer = connect_peer(controller, DPID, ports=(1, 2, 3, 4))
    call(controller, 'POST', '/vips/', {'id': 'v', 'protocol': 'tcp', 'address': '10.0.0.100', 'port': '80'})
    call(controller, 'POST', '/pools/', {'id': 'p', 'protocol': 'tcp', 'vip_id': 'v'})
    for member_id, host in (('m1', MEMBER1), ('m2', MEMBER2)):
        call(controller, 'POST', '/members/', {'id': member_id, 'address': host[1], 'port': '80', 'pool_id': 'p'})
    time.sleep(0.3)  # past the port quarantine
    for host in (MEMBER1, MEMBER2):   # members are learned from their traffic, as in Floodlight
        peer.send_packet_in(PORTS[host], arp_request(host, '10.0.0.254'))

    mark = peer.mark()
    peer.send_packet_in(1, arp_request(CLIENT1, '10.0.0.100'))
    out = peer.wait_for_message(ofp.OFPT_PACKET_OUT, since=mark, where=lambda m: m.data and m.data[12:14] == b'\x08\x06'
                                and packet.Packet(m.data).get_protocol(arp.arp).opcode == 2)
    answer = packet.Packet(out.data).get_protocol(arp.arp)
    assert (answer.src_mac, answer.src_ip, answer.dst_mac, answer.dst_ip) == (VIP_MAC, '10.0.0.100', CLIENT1[0],
                                                                              CLIENT1[1])
    assert [a.port for a in out.actions] == [1]

    for client, src_port, member in ((CLIENT1, 40001, MEMBER1), (CLIENT2, 40002, MEMBER2)):
        peer.send_packet_in(PORTS[client], arp_request(client, '10.0.0.254'))  # the client is known too
        mark = peer.mark()
        syn = syn_to_vip(client, src_port)
        peer.send_packet_in(PORTS[client], syn)
        inbound, outbound = peer.wait_for_messages(ofp.OFPT_FLOW_MOD, 2, since=mark)
        assert (inbound.match.nw_src, inbound.match.tp_src) == (_int(client[1]), src_port)
        assert [type(a).__name__ for a in inbound.actions] == ['OFPActionSetDlDst', 'OFPActionSetNwDst',
                                                                'OFPActionOutput']
        assert (_mac(inbound.actions[0].dl_addr), inbound.actions[1].nw_addr, inbound.actions[2].port) == (
            member[0], _int(member[1]), PORTS[member])
        assert (outbound.match.in_port, outbound.match.nw_src, outbound.match.nw_dst, outbound.match.tp_dst) == (
            PORTS[member], _int(member[1]), _int(client[1]), src_port)
        assert (_mac(outbound.actions[0].dl_addr), outbound.actions[1].nw_addr, outbound.actions[2].port) == (
            VIP_MAC, _int('10.0.0.100'), PORTS[client])
        out = peer.wait_for_message(ofp.OFPT_PACKET_OUT, since=mark, where=lambda m: m.data == syn)
        assert [a.port for a in out.actions] == [ofp.OFPP_TABLE]
    controller.assert_clean_log()


def _int(address):
    a, b, c, d = (int(x) for x in address.split('.'))
    return a << 24 | b << 16 | c << 8 | d


def _mac(data):
    return data.hex(':') if isinstance(data, bytes) else data
