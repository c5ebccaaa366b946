"""controller.forwarding, topology, devices and lldp: every forwarding decision, without a switch."""
import struct

import pytest
from ryu.ofproto import ofproto_parser
from ryu.ofproto import ofproto_v1_0 as ofp

from controller import forwarding, of10
from controller.flowentry import is_static_flow_cookie
from controller.lldp import lldp_frame, parse_lldp

pytestmark = pytest.mark.unit

BCAST = b'\xff' * 6


def mac(n):
    return bytes((0, 0, 0, 0, 0, n))


def frame(dst, src, eth_type=0x0800, payload=b'', vlan=None):
    tag = struct.pack('!HH', 0x8100, vlan) if vlan is not None else b''
    return dst + src + tag + struct.pack('!H', eth_type) + payload


def ipv4(src_ip, dst_ip):
    return frame(mac(2), mac(1), 0x0800, bytes(12) + bytes(src_ip) + bytes(dst_ip))


def arp_request(src, sender_ip, target_ip):
    body = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + src + bytes(sender_ip) + bytes(6) + bytes(target_ip)
    return frame(BCAST, src, 0x0806, body)


def decode(msg):
    data = of10.serialize(msg, xid=9)
    version, msg_type, length, xid = ofproto_parser.header(data)
    assert length == len(data) and version == 1
    if msg_type == ofp.OFPT_PACKET_OUT:
        buffer_id, in_port, actions_len = struct.unpack_from('!IHH', data, 8)
        ports = [struct.unpack_from('!HHHH', data, 16 + i)[2] for i in range(0, actions_len, 8)]
        return ('packet_out', in_port, ports, data[16 + actions_len:], buffer_id)
    parsed = ofproto_parser.msg(of10.NULL_DATAPATH, version, msg_type, length, xid, data)
    return parsed


def flat(out):
    """[(dpid, decoded message)], batches (several messages in one write) split in order."""
    result = []
    for dpid, msg in out:
        data = of10.serialize(msg, xid=9)
        while data:
            length = struct.unpack_from('!H', data, 2)[0]
            result.append((dpid, decode(of10.RawMessage(data[:length]))))
            data = data[length:]
    return result


def ports(n, dpid=0):
    return {p: bytes((2, 0, 0, 0, dpid, p)) for p in range(1, n + 1)}


def connect(state, topology, now=0.0):
    """topology: {dpid: nports}; links: list of (a, pa, b, pb). Returns after LLDP exchanged both ways."""
    switches, links = topology
    for dpid, n in switches.items():
        forwarding.switch_connected(state, dpid, ports(n, dpid), now)
    for a, pa, b, pb in links:
        lldp = lldp_frame(a, pa, ports(switches[a], a)[pa])
        forwarding.handle_packet_in(state, b, pb, lldp, now)
        lldp = lldp_frame(b, pb, ports(switches[b], b)[pb])
        forwarding.handle_packet_in(state, a, pa, lldp, now)
    return now + 10  # past the quarantine


LINEAR3 = ({1: 2, 2: 3, 3: 2}, [(1, 2, 2, 2), (2, 3, 3, 2)])        # hosts on port 1 of s1, s2, s3
RING4 = ({1: 3, 2: 3, 3: 3, 4: 3}, [(1, 2, 2, 3), (2, 2, 3, 3), (3, 2, 4, 3), (4, 2, 1, 3)])


def test_ryu_topology_reads_our_lldp_frames():
    """ryu.topology, loaded beside us, parses every LLDP packet-in; on Floodlight's 2-byte Port ID it raised a
    TypeError (its own error message formats the bytes with %d)."""
    from apps import ryu_compat
    ryu_compat.apply_all()  # ryu.topology imports ryu.app.wsgi
    from ryu.topology.switches import LLDPPacket

    assert LLDPPacket.lldp_parse(lldp_frame(0xa296ffdd5645, 7, mac(9))) == (0xa296ffdd5645, 7)
    assert parse_lldp(LLDPPacket.lldp_packet(0xa296ffdd5645, 7, '00:00:00:00:00:09', 120)) == (0xa296ffdd5645, 7)


def test_lldp_frame_round_trip_and_garbage():
    data = lldp_frame(0xa296ffdd5645, 7, mac(9))
    assert data[:6] == bytes.fromhex('0180c200000e') and data[12:14] == b'\x88\xcc'
    assert parse_lldp(data) == (0xa296ffdd5645, 7)
    assert parse_lldp(data[:20]) is None
    assert parse_lldp(data[:14] + b'\xff' * 40) is None


def test_single_switch_learns_floods_then_installs_flow_and_packet_out():
    state = forwarding.ForwardingState()
    now = connect(state, ({1: 3}, []))
    out = forwarding.handle_packet_in(state, 1, 1, arp_request(mac(1), (10, 0, 0, 1), (10, 0, 0, 2)), now)
    decoded = decode(out[0][1])
    assert len(out) == 1 and out[0][0] == 1 and decoded[:3] == ('packet_out', 1, [2, 3])
    assert decoded[4] == 0xffffffff   # OVS buffers nothing: the data travels in the packet-out
    device = state.devices.get(mac(1))
    assert (device.dpid, device.port, device.ipv4) == (1, 1, [bytes((10, 0, 0, 1))])
    reply = frame(mac(1), mac(2), 0x0806, bytes(28))
    out = flat(forwarding.handle_packet_in(state, 1, 2, reply, now))
    assert len(out) == 2
    fm = out[0][1]
    assert fm.command == ofp.OFPFC_ADD and fm.priority == 1 and fm.idle_timeout == 5
    assert fm.cookie == of10.FORWARDING_COOKIE and not is_static_flow_cookie(fm.cookie)
    assert (fm.match.in_port, fm.match.dl_src, fm.match.dl_dst, fm.match.dl_vlan) == (2, mac(2), mac(1), 0xffff)
    assert [a.port for a in fm.actions] == [1]
    assert out[1][1][:4] == ('packet_out', 2, [1], reply)


def test_a_buffered_packet_in_is_answered_with_one_message_naming_the_buffer():
    """cbench and many hardware switches keep the packet and send its head: the flood is a packet-out naming the
    buffer (no frame sent back), a known destination one flow-mod that releases the buffered packet."""
    state = forwarding.ForwardingState()
    now = connect(state, ({1: 3}, []))
    head = frame(BCAST, mac(1))
    [(dpid, flood)] = forwarding.handle_packet_in(state, 1, 1, head, now, buffer_id=77)
    assert decode(flood) == ('packet_out', 1, [2, 3], b'', 77)
    out = forwarding.handle_packet_in(state, 1, 2, frame(mac(1), mac(2)), now, buffer_id=78)
    [(dpid, fm)] = flat(out)
    assert len(out) == 1 and dpid == 1 and fm.buffer_id == 78 and [a.port for a in fm.actions] == [1]
    assert (fm.match.in_port, fm.match.dl_src, fm.match.dl_dst) == (2, mac(2), mac(1))


def test_linear_path_installs_every_switch_last_first():
    state = forwarding.ForwardingState()
    now = connect(state, LINEAR3)
    forwarding.handle_packet_in(state, 3, 1, frame(BCAST, mac(3)), now)
    out = forwarding.handle_packet_in(state, 1, 1, frame(mac(3), mac(1)), now)
    hops = flat(out)
    assert [(d, m.match.in_port, m.actions[0].port) for d, m in hops[:3]] == [(3, 2, 1), (2, 2, 3), (1, 1, 2)]
    assert hops[3][0] == 1 and hops[3][1][:3] == ('packet_out', 1, [2])
    assert state.flow_count() == 3


def test_ring_floods_over_a_tree_and_drops_off_tree_copies():
    state = forwarding.ForwardingState()
    now = connect(state, RING4)
    topo = state.topology
    assert topo.clusters() == {1: [1, 2, 3, 4]}
    tree_links = [(a, pa, b, pb) for a, pa, b, pb in RING4[1] if (a, pa) in topo.tree_ports]
    assert len(tree_links) == 3  # 4 switches: a spanning tree has 3 cables
    blocked = [(a, pa, b, pb) for a, pa, b, pb in RING4[1] if (a, pa) not in topo.tree_ports]
    a, pa, b, pb = blocked[0]
    assert forwarding.handle_packet_in(state, b, pb, frame(BCAST, mac(7)), now) == ()
    out = forwarding.handle_packet_in(state, 1, 1, frame(BCAST, mac(1)), now)
    flooded = decode(out[0][1])[2]
    assert 1 not in flooded and all(p == 1 or (1, p) in topo.tree_ports for p in flooded)
    # following the broadcast hop by hop reaches every switch exactly once
    seen, frontier = {1}, [(1, p) for p in flooded if p != 1]
    by_port = {}
    for x, px, y, py in RING4[1]:
        by_port[(x, px)] = (y, py)
        by_port[(y, py)] = (x, px)
    while frontier:
        nxt = []
        for sw, port in frontier:
            peer, peer_port = by_port[(sw, port)]
            out = forwarding.handle_packet_in(state, peer, peer_port, frame(BCAST, mac(1)), now)
            if not out:
                continue
            assert peer not in seen
            seen.add(peer)
            nxt += [(peer, p) for p in decode(out[0][1])[2] if (peer, p) in by_port]
        frontier = nxt
    assert seen == {1, 2, 3, 4}


def test_link_down_deletes_forwarding_flows_and_reroutes():
    state = forwarding.ForwardingState()
    now = connect(state, RING4)
    forwarding.handle_packet_in(state, 2, 1, frame(BCAST, mac(2)), now)
    out = flat(forwarding.handle_packet_in(state, 1, 1, frame(mac(2), mac(1)), now))
    assert [d for d, _ in out] == [2, 1, 1]   # s1 - s2 directly
    out = forwarding.port_changed(state, 1, 2, ports(3, 1)[2], False, now)
    deletes = [(d, decode(m)) for d, m in out]
    assert sorted((d, m.command, m.match.in_port) for d, m in deletes) == [
        (1, ofp.OFPFC_DELETE_STRICT, 1), (2, ofp.OFPFC_DELETE_STRICT, 3)]
    assert all(m.priority == 1 for _, m in deletes)
    out = flat(forwarding.handle_packet_in(state, 1, 1, frame(mac(2), mac(1)), now))
    assert [d for d, _ in out] == [2, 3, 4, 1, 1]  # the other way round


def test_quarantine_fail_open_and_forwarding_off():
    state = forwarding.ForwardingState()
    forwarding.switch_connected(state, 1, ports(3), 100.0)
    # nothing from a quarantined port is forwarded, but its source is learned: the answer to it is unicast
    assert forwarding.handle_packet_in(state, 1, 1, frame(BCAST, mac(1)), 100.5) == ()
    assert state.devices.get(mac(1)).port == 1
    out = flat(forwarding.handle_packet_in(state, 1, 2, frame(mac(1), mac(2)), 103.0))
    assert [fm.actions[0].port for _, fm in out[:1]] == [1] and out[1][1][:3] == ('packet_out', 2, [1])
    fake = frame(BCAST, b'\x00\x23\x20\x00\x00\x01', 0x8035)
    assert forwarding.handle_packet_in(state, 1, 0xfffe, fake, 200.0) == ()
    off = forwarding.ForwardingState(forwarding=False)
    now = connect(off, ({1: 3}, []))
    assert forwarding.handle_packet_in(off, 1, 1, frame(BCAST, mac(1)), now) == ()
    assert off.devices.get(mac(1)).port == 1


def test_vlan_tagged_source_and_ipv4_learning():
    state = forwarding.ForwardingState()
    now = connect(state, ({1: 2}, []))
    data = frame(mac(2), mac(1), 0x0800, bytes(12) + bytes((10, 1, 1, 1)) + bytes(4), vlan=5)
    forwarding.handle_packet_in(state, 1, 1, data, now)
    device = state.devices.get(mac(1))
    assert device.vlan == 5 and device.ipv4 == [bytes((10, 1, 1, 1))]


def test_link_timeout_and_lldp_rounds():
    state = forwarding.ForwardingState(lldp_interval=15, link_timeout=35)
    connect(state, LINEAR3, now=0.0)
    assert len(state.topology.links) == 4
    out = forwarding.tick(state, 1.0)
    assert len(out) == 7  # every port of every switch
    assert forwarding.tick(state, 2.0) == []
    forwarding.tick(state, 36.0)
    assert state.topology.links == {}


def test_unknown_destination_floods_and_same_port_is_dropped():
    state = forwarding.ForwardingState()
    now = connect(state, ({1: 3}, []))
    out = forwarding.handle_packet_in(state, 1, 1, frame(mac(9), mac(1)), now)
    assert decode(out[0][1])[2] == [2, 3]
    forwarding.handle_packet_in(state, 1, 1, frame(BCAST, mac(2)), now)  # mac 2 also behind port 1
    assert forwarding.handle_packet_in(state, 1, 1, frame(mac(2), mac(1)), now) == ()


def test_a_host_that_moves_loses_its_old_flows():
    state = forwarding.ForwardingState()
    now = connect(state, ({1: 3}, []))
    forwarding.handle_packet_in(state, 1, 2, frame(BCAST, mac(2)), now)
    forwarding.handle_packet_in(state, 1, 1, frame(mac(2), mac(1)), now)
    assert state.flow_count() == 1
    out = forwarding.handle_packet_in(state, 1, 3, frame(BCAST, mac(2)), now)  # h2 now behind port 3
    deleted = [decode(m) for _, m in out if m.msg_type == ofp.OFPT_FLOW_MOD]
    assert [(m.command, m.match.dl_dst) for m in deleted] == [(ofp.OFPFC_DELETE_STRICT, mac(2))]
    assert state.flow_count() == 0
    out = flat(forwarding.handle_packet_in(state, 1, 1, frame(mac(2), mac(1)), now))
    assert [a.port for a in out[0][1].actions] == [3]


def test_topology_replaces_contradicted_links_and_splits_clusters():
    from controller.topology import Topology
    topo = Topology(quarantine=0)
    for dpid in (1, 2, 3):
        topo.switch_up(dpid, ports(3, dpid), 0.0)
    assert topo.link_seen(1, 2, 2, 2, 0.0) == (True, False)
    assert topo.link_seen(2, 2, 1, 2, 0.0) == (True, True)
    assert topo.link_seen(9, 1, 1, 1, 0.0) == (False, True)   # an unknown switch's LLDP is ignored
    assert topo.clusters() == {1: [1, 2], 3: [3]}
    assert topo.route(1, 3) is None and topo.route(1, 2) == [1, 2]
    topo.link_seen(3, 1, 2, 2, 1.0)   # 2:2 is now cabled to 3:1: the old 1:2 -> 2:2 goes
    assert (1, 2, 2, 2) not in topo.links and (2, 2, 1, 2) not in topo.links
    assert topo.clusters() == {1: [1], 2: [2, 3]}
    assert topo.switch_down(3) == [(3, 1, 2, 2)]
    assert topo.links == {} and topo.clusters() == {1: [1], 2: [2]}


def test_rest_bodies_for_topology_devices_and_flow_stats():
    from ryu.ofproto import ofproto_v1_0_parser as parser

    from rest import devices as devices_rest
    from rest import stats as stats_rest
    from rest import topology as topology_rest
    from rest.http import HttpError

    state = forwarding.ForwardingState()
    now = connect(state, LINEAR3)
    assert topology_rest.links_json(state.topology)[0] == {
        'src-switch': '00:00:00:00:00:00:00:01', 'src-port': 2, 'dst-switch': '00:00:00:00:00:00:00:02',
        'dst-port': 2, 'type': 'internal', 'direction': 'bidirectional'}
    route = topology_rest.route_json(state.topology, 1, 1, 3, 1)
    assert [(h['switch'][-2:], h['port']['portNumber']) for h in route] == [
        ('01', 1), ('01', 2), ('02', 2), ('02', 3), ('03', 2), ('03', 1)]
    forwarding.handle_packet_in(state, 1, 1, arp_request(mac(1), (10, 0, 0, 1), (10, 0, 0, 2)), now)
    device = state.devices.get(mac(1))
    assert devices_rest.device_json(device) == {
        'entityClass': 'DefaultEntityClass', 'mac': ['00:00:00:00:00:01'], 'ipv4': ['10.0.0.1'], 'ipv6': [],
        'vlan': ['0x0'], 'attachmentPoint': [{'switchDPID': '00:00:00:00:00:00:00:01', 'port': 1,
                                              'errorStatus': None}], 'lastSeen': int(now * 1000)}
    assert devices_rest.parse_filters({'mac': '00:00:00:00:00:01', 'ipv4': '10.0.0.1'}) == {
        'mac': mac(1), 'ipv4': bytes((10, 0, 0, 1))}
    for bad in ({'mac': '00:00'}, {'ipv4': 'x'}, {'vlan': '5000'}, {'dpid': 'zz'}, {'port': '-1'}):
        with pytest.raises(HttpError) as caught:
            devices_rest.parse_filters(bad)
        assert caught.value.status == 400
    assert devices_rest.parse_filters({'foo': '1', '_': '1700000000000'}) == {}  # not a filter: ignored

    match = parser.OFPMatch(in_port=1, dl_src=mac(1), dl_type=0x800, nw_proto=6, nw_src=0x0a000001, nw_src_mask=24,
                            tp_dst=22)
    flow = parser.OFPFlowStats()
    for name, value in dict(table_id=0, match=match, duration_sec=3, duration_nsec=4, priority=100, idle_timeout=0,
                            hard_timeout=0, cookie=7, packet_count=5, byte_count=6,
                            actions=[parser.OFPActionSetDlDst(mac(2)), parser.OFPActionOutput(2, 0)]).items():
        setattr(flow, name, value)
    assert stats_rest.flow_json([flow]) == {'flows': [{
        'version': 'OF_10', 'cookie': '7', 'tableId': '0x0', 'packetCount': '5', 'byteCount': '6',
        'durationSeconds': '3', 'durationNSeconds': '4', 'priority': '100', 'idleTimeoutSec': '0',
        'hardTimeoutSec': '0', 'match': {'in_port': '1', 'eth_src': '00:00:00:00:00:01', 'eth_type': '0x0x800',
                                         'ip_proto': '0x6', 'tcp_dst': '22', 'ipv4_src': '10.0.0.1/24'},
        'actions': {'actions': 'set_eth_dst=00:00:00:00:00:02,output=2'}}]}


def test_flow_mod_and_packet_out_share_one_write_and_its_xid():
    msg = of10.forwarding_flow_add_and_packet_out(2, 0xffff, mac(2), mac(1), 1, 5, 1, b'frame-bytes')
    data = of10.serialize(msg, xid=0x1234)
    first = struct.unpack_from('!BBHI', data, 0)
    second = struct.unpack_from('!BBHI', data, first[2])
    assert first == (1, ofp.OFPT_FLOW_MOD, 80, 0x1234)
    assert second == (1, ofp.OFPT_PACKET_OUT, 24 + len(b'frame-bytes'), 0x1234)
    assert first[2] + second[2] == len(data) and data.endswith(b'frame-bytes')


def test_hosts_beyond_another_controllers_switches_are_reached_hop_by_hop():
    """A worker holds s1 and s3 of the line s1 - s2 - s3 (s2 is another worker's): s1:2 and s3:2 hear s2's signed
    LLDP, so they face another controller. A host beyond them is not placed in this worker's host table (it
    would move between s1:2 and s3:2 at every packet, losing its flows each time); each switch learns which of
    its ports leads to it and gets its own hop."""
    state = forwarding.ForwardingState()
    now = connect(state, ({1: 2, 3: 2}, []))
    for dpid in (1, 3):
        assert forwarding.handle_packet_in(state, dpid, 2, lldp_frame(2, dpid, ports(3, 2)[dpid]), now) == []
    assert state.topology.foreign == {(1, 2): now, (3, 2): now}
    h2 = mac(2)
    # h2 (on s2) is seen at both edges; h1 on s1:1, h3 on s3:1
    forwarding.handle_packet_in(state, 1, 2, frame(BCAST, h2), now)
    forwarding.handle_packet_in(state, 3, 2, frame(BCAST, h2), now)
    assert state.devices.get(h2) is None
    out = flat(forwarding.handle_packet_in(state, 1, 1, frame(h2, mac(1)), now))
    assert [(dpid, msg.match.dl_dst, [a.port for a in msg.actions]) for dpid, msg in out
            if getattr(msg, 'msg_type', None) == ofp.OFPT_FLOW_MOD] == [(1, h2, [2])]
    out = flat(forwarding.handle_packet_in(state, 3, 1, frame(h2, mac(3)), now))
    assert [(dpid, [a.port for a in msg.actions]) for dpid, msg in out
            if getattr(msg, 'msg_type', None) == ofp.OFPT_FLOW_MOD] == [(3, [2])]
    assert state.flow_count() == 2  # nothing deleted on the way: h2 never "moved"
    # s2 connects here after all (its worker died): the port faces a known switch again
    forwarding.switch_connected(state, 2, ports(3, 2), now)
    forwarding.handle_packet_in(state, 1, 2, lldp_frame(2, 1, ports(3, 2)[1]), now)
    assert (1, 2) not in state.topology.foreign
    forwarding.switch_disconnected(state, 1, now)
    assert not [key for key in state.foreign_hosts if key[0] == 1]
