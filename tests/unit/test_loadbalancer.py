"""controller.loadbalancer and rest.loadbalancer: Floodlight's VIPs, pools and members, parsed strictly, chosen
round robin, answered by ARP and served by address-rewriting flows both ways; checked without a switch. Frames
and messages are read back with Ryu's packet library and OpenFlow parser, not with our own code."""
import json
import random

import pytest
from ryu.lib.packet import arp, ethernet, packet, vlan
from ryu.ofproto import ofproto_v1_0 as ofp

from controller import forwarding, loadbalancer, of10
from controller.lldp import lldp_frame
from rest import loadbalancer as lb_rest
from rest.floodlight import FlowValidationError
from tests.protocol.ofpeer import decode

pytestmark = pytest.mark.unit

BCAST = b'\xff' * 6
VIP_IP = bytes((10, 0, 0, 100))
CLIENT_MAC, M1_MAC, M2_MAC = (bytes.fromhex('0200000000%02x' % n) for n in (1, 2, 3))
CLIENT_IP, M1_IP, M2_IP = (bytes((10, 0, 0, n)) for n in (1, 2, 3))


# --- parsing --------------------------------------------------------------------------------------------

GOOD = [
    ('vip', {'id': '1', 'name': 'vip1', 'protocol': 'icmp', 'address': '10.0.0.100', 'port': '8'},
     ('1', {'name': 'vip1', 'protocol': 1, 'address': VIP_IP, 'port': 8}, {})),
    ('vip', {'id': 7, 'protocol': 'TCP', 'address': '10.0.0.100', 'port': 80, 'pool_id': '3', 'tenant_id': ''},
     ('7', {'protocol': 6, 'address': VIP_IP, 'port': 80}, {'pool_id': '3'})),
    ('pool', {'id': '1', 'name': 'pool1', 'protocol': 'udp', 'vip_id': '1', 'lb_method': '1'},
     ('1', {'name': 'pool1', 'protocol': 17, 'lb_method': 1}, {'vip_id': '1'})),
    ('member', {'address': '10.0.0.3', 'port': '8', 'pool_id': '1', 'connection_limit': None},
     (None, {'address': bytes((10, 0, 0, 3)), 'port': 8}, {'pool_id': '1'})),
]

BAD = [  # (kind, body, the key the 400 names) -- each one Floodlight accepted, threw on, or stored as nonsense
    ('vip', {'address': '10.0.0.100', 'protocol': 'sctp'}, 'protocol'),     # Floodlight: protocol 0
    ('vip', {'address': '10.0.0.300'}, 'address'),                        # Floodlight: an exception, 500
    ('vip', {'address': '10.0.0.100', 'port': '70000'}, 'port'),            # Floodlight: NumberFormatException
    ('vip', {'address': '10.0.0.100', 'port': '-1'}, 'port'),
    ('vip', {'address': '10.0.0.100', 'bogus': 1}, 'bogus'),                # Floodlight: logged, ignored
    ('vip', {'address': ['10.0.0.100']}, 'address'),
    ('vip', {'address': '10.0.0.100', 'name': True}, 'name'),
    ('pool', {'lb_method': 'roundrobin'}, 'lb_method'),
    ('pool', {'vip_id': {'id': 1}}, 'vip_id'),
    ('member', {'address': '10.0.0.3', 'pool_id': '1', 'vip_id': '1'}, 'vip_id'),  # not a member's key
    ('member', {'address': '10.0.0.3', 'pool_id': '1', 'port': 1.5}, 'port'),
    ('member', {'address': '10.0.0.3', 'pool_id': '1', 'admin_state': 'up'}, 'admin_state'),
]


@pytest.mark.parametrize('kind, body, expected', GOOD)
def test_parse_accepts_floodlights_keys(kind, body, expected):
    assert lb_rest.parse(kind, json.dumps(body).encode()) == expected


@pytest.mark.parametrize('kind, body, key', BAD)
def test_parse_refuses_what_floodlight_mangled_and_names_the_key(kind, body, key):
    with pytest.raises(FlowValidationError) as caught:
        lb_rest.parse(kind, json.dumps(body).encode())
    assert caught.value.to_json()['key'] == key


@pytest.mark.parametrize('body', [b'', b'[1]', b'{"id": ', b'"vip"'])
def test_parse_refuses_bodies_that_are_no_json_object(body):
    with pytest.raises(FlowValidationError):
        lb_rest.parse('vip', body)


def test_parse_refuses_a_body_id_other_than_the_urls():
    assert lb_rest.parse('pool', b'{"id": "4"}', '4')[0] == '4'
    with pytest.raises(FlowValidationError):
        lb_rest.parse('pool', b'{"id": "5"}', '4')


# --- the model ------------------------------------------------------------------------------------------

def balancer(members=2):
    lb = loadbalancer.LoadBalancer(random.Random(1))
    lb.put_vip('v', {'address': VIP_IP, 'protocol': 6, 'port': 80})
    lb.put_pool('p', {'protocol': 6}, 'v')
    for n in range(members):
        lb.put_member('m%d' % (n + 1), {'address': bytes((10, 0, 0, n + 2)), 'port': 80}, 'p')
    return lb


def test_round_robin_over_the_pool_in_creation_order():
    lb = balancer(3)
    vip = lb.vips['v']
    assert [lb.pick_member(vip).id for _ in range(7)] == ['m1', 'm2', 'm3', 'm1', 'm2', 'm3', 'm1']
    lb.delete_member('m2')
    assert [lb.pick_member(vip).id for _ in range(3)] == ['m1', 'm3', 'm1']


def test_a_connection_keeps_its_member_and_a_new_one_takes_the_next():
    lb = balancer()
    vip = lb.vips['v']
    first = (CLIENT_IP, 6, 40000, VIP_IP)
    assert lb.member_for(vip, first).id == 'm1'
    assert lb.member_for(vip, (CLIENT_IP, 6, 40001, VIP_IP)).id == 'm2'
    assert lb.member_for(vip, first).id == 'm1'
    assert lb.member_for(vip, (CLIENT_IP, 6, 40002, VIP_IP)).id == 'm1'


def test_links_between_vips_pools_and_members_and_their_errors():
    lb = balancer()
    assert lb.vips['v'].pools == ['p'] and lb.member_vip_id(lb.members['m1']) == 'v'
    with pytest.raises(loadbalancer.Conflict):
        lb.put_vip('other', {'address': VIP_IP})
    with pytest.raises(loadbalancer.NotFound):
        lb.put_pool(None, {}, 'nope')
    with pytest.raises(loadbalancer.NotFound):
        lb.put_member(None, {'address': M1_IP}, 'nope')
    with pytest.raises(loadbalancer.Invalid):
        lb.put_member(None, {'address': M1_IP}, None)
    with pytest.raises(loadbalancer.Invalid):
        lb.put_vip(None, {'port': 80})
    assert sorted(lb.members) == ['m1', 'm2'] and sorted(lb.vips) == ['v']   # the refusals changed nothing
    lb.put_vip('v', {'address': bytes((10, 0, 0, 200))})   # a replace moves the address, keeps the pools
    assert list(lb.vip_by_address) == [bytes((10, 0, 0, 200))] and lb.vips['v'].pools == ['p']
    assert lb.vips['v'].protocol == 0    # what the body does not name is back to its default, as in Floodlight
    lb.delete_vip('v')
    assert lb.pools['p'].vip_id is None and not lb.vip_by_address
    lb.delete_pool('p')
    assert lb.members['m1'].pool_id is None
    with pytest.raises(loadbalancer.NotFound):
        lb.delete_pool('p')


def test_generated_ids_are_floodlights_kind_and_never_reused():
    lb = loadbalancer.LoadBalancer(random.Random(3))
    ids = {lb.put_pool(None, {}).id for _ in range(200)}
    assert len(ids) == 200 and all(i.isdigit() and int(i) < 10000 for i in ids)


def test_replies_have_floodlights_keys_and_value_types():
    lb = balancer()
    assert lb_rest.vip_json(lb.vips['v']) == {'name': None, 'id': 'v', 'address': '167772260', 'protocol': '6',
                                              'port': '80'}
    assert lb_rest.pool_json(lb.pools['p']) == {'name': None, 'id': 'p', 'vipId': 'v', 'members': ['m1', 'm2'],
                                                'pool': 'm2'}
    assert lb_rest.member_json(lb, lb.members['m1']) == {'id': 'm1', 'address': '167772162', 'port': '80',
                                                         'poolId': 'p', 'vipId': 'v'}
    assert lb_rest.java_int(bytes((192, 168, 1, 1))) == '-1062731519'   # Java's signed int


# --- the packet-in path ---------------------------------------------------------------------------------

def ports(n, dpid):
    return {p: bytes((2, 0, 0, 0, dpid, p)) for p in range(1, n + 1)}


def network(links=()):
    """Switches 1 and 2 (3 ports each), cabled 1:3 <-> 2:3 when links; past the port quarantine."""
    state = forwarding.ForwardingState()
    for dpid in (1, 2):
        forwarding.switch_connected(state, dpid, ports(3, dpid), 0.0)
    for a, pa, b, pb in links:
        forwarding.handle_packet_in(state, b, pb, lldp_frame(a, pa, ports(3, a)[pa]), 0.0)
        forwarding.handle_packet_in(state, a, pa, lldp_frame(b, pb, ports(3, b)[pb]), 0.0)
    lb = state.loadbalancer
    lb.put_vip('v', {'address': VIP_IP, 'protocol': 6, 'port': 80})
    lb.put_pool('p', {}, 'v')
    lb.put_member('m1', {'address': M1_IP, 'port': 80}, 'p')
    lb.put_member('m2', {'address': M2_IP, 'port': 80}, 'p')
    return state, 10.0


def arp_frame(opcode, src_mac, src_ip, dst_mac, dst_ip, vlan_id=None):
    pkt = packet.Packet()
    eth_type = 0x8100 if vlan_id is not None else 0x0806
    pkt.add_protocol(ethernet.ethernet(dst=_text(BCAST if opcode == 1 else dst_mac), src=_text(src_mac),
                                       ethertype=eth_type))
    if vlan_id is not None:
        pkt.add_protocol(vlan.vlan(vid=vlan_id, ethertype=0x0806))
    pkt.add_protocol(arp.arp(opcode=opcode, src_mac=_text(src_mac), src_ip=_ip(src_ip),
                             dst_mac=_text(dst_mac if opcode == 2 else bytes(6)), dst_ip=_ip(dst_ip)))
    pkt.serialize()
    return bytes(pkt.data)


def tcp_frame(src_mac, src_ip, dst_mac, dst_ip, src_port, dst_port=80):
    from ryu.lib.packet import ipv4, tcp
    pkt = packet.Packet()
    pkt.add_protocol(ethernet.ethernet(dst=_text(dst_mac), src=_text(src_mac), ethertype=0x0800))
    pkt.add_protocol(ipv4.ipv4(src=_ip(src_ip), dst=_ip(dst_ip), proto=6))
    pkt.add_protocol(tcp.tcp(src_port=src_port, dst_port=dst_port, bits=tcp.TCP_SYN))
    pkt.serialize()
    return bytes(pkt.data)


def _text(mac):
    return mac.hex(':')


def _ip(address):
    return '.'.join(str(b) for b in address)


def parsed(out):
    """[(dpid, Ryu's message)] of what a call returned."""
    return [(dpid, decode(of10.serialize(msg, xid=5))) for dpid, msg in out]


def learn(state, dpid, port, mac, ip, now):
    """A host's ARP request for someone else: learned, flooded by forwarding."""
    forwarding.handle_packet_in(state, dpid, port, arp_frame(1, mac, ip, BCAST, bytes((10, 0, 0, 254))), now)


@pytest.mark.parametrize('vlan_id', [None, 5])
def test_an_arp_request_for_the_vip_is_answered_on_the_asking_port(vlan_id):
    state, now = network()
    out = parsed(forwarding.handle_packet_in(
        state, 1, 2, arp_frame(1, CLIENT_MAC, CLIENT_IP, BCAST, VIP_IP, vlan_id), now))
    assert len(out) == 1
    dpid, msg = out[0]
    assert (dpid, msg.msg_type, msg.buffer_id, msg.in_port) == (1, ofp.OFPT_PACKET_OUT, 0xffffffff, ofp.OFPP_NONE)
    assert [(a.port) for a in msg.actions] == [2]
    reply = packet.Packet(msg.data)
    eth, answer = reply.get_protocol(ethernet.ethernet), reply.get_protocol(arp.arp)
    assert (eth.dst, eth.src) == (_text(CLIENT_MAC), '12:34:56:78:90:12')
    assert (answer.opcode, answer.src_mac, answer.src_ip, answer.dst_mac, answer.dst_ip) == (
        2, '12:34:56:78:90:12', '10.0.0.100', _text(CLIENT_MAC), '10.0.0.1')
    assert (reply.get_protocol(vlan.vlan) or vlan.vlan(vid=None)).vid == vlan_id
    assert state.devices.get(CLIENT_MAC).ipv4 == [CLIENT_IP]   # the asker was learned first


def test_other_arp_and_ip_traffic_is_left_to_forwarding():
    state, now = network()
    out = parsed(forwarding.handle_packet_in(state, 1, 2, arp_frame(1, CLIENT_MAC, CLIENT_IP, BCAST, M1_IP), now))
    assert len(out) == 1 and sorted(a.port for a in out[0][1].actions) == [1, 3]   # flooded as usual


def _connection(state, now, client_port):
    frame = tcp_frame(CLIENT_MAC, CLIENT_IP, loadbalancer.VIP_MAC, VIP_IP, client_port)
    return parsed(forwarding.handle_packet_in(state, 1, 1, frame, now))


def test_connections_to_the_vip_get_rewriting_flows_to_each_member_in_turn():
    state, now = network()
    learn(state, 1, 1, CLIENT_MAC, CLIENT_IP, now)
    learn(state, 1, 2, M1_MAC, M1_IP, now)
    learn(state, 1, 3, M2_MAC, M2_IP, now)
    chosen = []
    for client_port in (40000, 40001, 40002):
        out = _connection(state, now, client_port)
        flows = [m for _, m in out if m.msg_type == ofp.OFPT_FLOW_MOD]
        assert len(flows) == 2 and out[-1][1].msg_type == ofp.OFPT_PACKET_OUT
        inbound, outbound = flows
        assert (inbound.cookie, inbound.priority, inbound.idle_timeout, inbound.command) == (
            3 << 52, 32768, forwarding.DEFAULT_IDLE_TIMEOUT, ofp.OFPFC_ADD)
        m = inbound.match
        assert (m.in_port, m.dl_type, m.nw_proto, m.nw_src, m.nw_dst, m.tp_src) == (
            1, 0x0800, 6, 0x0a000001, 0x0a000064, client_port)
        assert [type(a).__name__ for a in inbound.actions] == ['OFPActionSetDlDst', 'OFPActionSetNwDst',
                                                                'OFPActionOutput']
        set_mac, set_ip, output = inbound.actions
        member_port = output.port
        chosen.append(member_port)
        member_mac, member_ip = {2: (M1_MAC, 0x0a000002), 3: (M2_MAC, 0x0a000003)}[member_port]
        assert (set_mac.dl_addr, set_ip.nw_addr) == (member_mac, member_ip)
        m = outbound.match
        assert (m.in_port, m.nw_src, m.nw_dst, m.tp_dst) == (member_port, member_ip, 0x0a000001, client_port)
        assert [type(a).__name__ for a in outbound.actions] == ['OFPActionSetDlSrc', 'OFPActionSetNwSrc',
                                                                 'OFPActionOutput']
        assert (outbound.actions[0].dl_addr, outbound.actions[1].nw_addr, outbound.actions[2].port) == (
            loadbalancer.VIP_MAC, 0x0a000064, 1)
        packet_out = out[-1][1]
        assert [a.port for a in packet_out.actions] == [ofp.OFPP_TABLE] and packet_out.in_port == 1
    assert chosen == [2, 3, 2]


def test_a_path_over_two_switches_rewrites_on_the_clients_switch_only():
    state, now = network([(1, 3, 2, 3)])
    learn(state, 1, 1, CLIENT_MAC, CLIENT_IP, now)
    learn(state, 2, 1, M1_MAC, M1_IP, now)
    out = _connection(state, now, 40000)
    flows = [(dpid, m) for dpid, m in out if m.msg_type == ofp.OFPT_FLOW_MOD]
    # inbound from the member's switch back to the client's, then outbound from the member's switch
    assert [(dpid, m.match.in_port, [a.port for a in m.actions if hasattr(a, 'port')]) for dpid, m in flows] == [
        (2, 3, [1]), (1, 1, [3]), (1, 3, [1]), (2, 1, [3])]
    assert flows[0][1].match.nw_dst == 0x0a000002 and flows[1][1].match.nw_dst == 0x0a000064
    assert len(flows[1][1].actions) == 3 and len(flows[0][1].actions) == 1    # the rewrite: client's switch
    assert len(flows[2][1].actions) == 3 and len(flows[3][1].actions) == 1
    assert out[-1][0] == 1


def test_an_unknown_member_is_asked_for_by_arp_and_its_answer_taken():
    state, now = network()
    learn(state, 1, 1, CLIENT_MAC, CLIENT_IP, now)
    out = _connection(state, now, 40000)
    assert len(out) == 1
    probe = packet.Packet(out[0][1].data).get_protocol(arp.arp)
    assert (probe.opcode, probe.src_mac, probe.src_ip, probe.dst_ip) == (1, '12:34:56:78:90:12', '10.0.0.100',
                                                                         '10.0.0.2')
    assert sorted(a.port for a in out[0][1].actions) == [2, 3]
    answer = arp_frame(2, M1_MAC, M1_IP, loadbalancer.VIP_MAC, VIP_IP)
    assert forwarding.handle_packet_in(state, 1, 2, answer, now) == []
    assert state.devices.get(M1_MAC).ipv4 == [M1_IP]
    assert len(_connection(state, now, 40000)) == 3   # the retransmission is served (by m1, still)


def test_icmp_to_the_vip_matches_no_ports_and_a_vip_without_members_drops():
    state, now = network()
    learn(state, 1, 1, CLIENT_MAC, CLIENT_IP, now)
    learn(state, 1, 2, M1_MAC, M1_IP, now)
    from ryu.lib.packet import icmp, ipv4
    pkt = packet.Packet()
    pkt.add_protocol(ethernet.ethernet(dst=_text(loadbalancer.VIP_MAC), src=_text(CLIENT_MAC)))
    pkt.add_protocol(ipv4.ipv4(src='10.0.0.1', dst='10.0.0.100', proto=1))
    pkt.add_protocol(icmp.icmp(data=icmp.echo(id_=1, seq=1)))
    pkt.serialize()
    out = parsed(forwarding.handle_packet_in(state, 1, 1, bytes(pkt.data), now))
    inbound = out[0][1]
    assert inbound.match.nw_proto == 1 and inbound.match.wildcards & ofp.OFPFW_TP_SRC
    for member_id in ('m1', 'm2'):
        state.loadbalancer.delete_member(member_id)
    assert forwarding.handle_packet_in(state, 1, 1, bytes(pkt.data), now) == []
