"""controller.virtualnetwork and rest.virtualnetwork: tenant networks, the verdict on packet-ins through
forwarding's packet-in path, the flood scope, and the REST handlers' answers and refusals."""
import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller import forwarding, virtualnetwork
from controller.virtualnetwork import VirtualNetworks
from rest import virtualnetwork as vn_rest
from rest.http import HttpError, Request
from rest.floodlight import FlowValidationError
from tests.unit.test_forwarding import BCAST, arp_request, connect, flat, frame, mac

pytestmark = pytest.mark.unit

DPID = 1
IP = {n: (10, 0, 0, n) for n in range(1, 10)}
GATEWAY = 9       # mac(9) sends from 10.0.0.9


def ipv4_frame(dst, src, proto=1, ports=b''):
    header = bytes((0x45, 0, 0, 20 + len(ports), 0, 0, 0, 0, 64, proto)) + bytes(2) + bytes(IP[src[5]]) + \
        bytes(IP[dst[5]] if dst[5] in IP else (10, 0, 0, 99))
    return frame(dst, src, 0x0800, header + ports)


def udp(dst, src, sport, dport):
    return ipv4_frame(dst, src, 17, struct.pack('!HHHH', sport, dport, 8, 0))


class Net:
    """One switch with hosts mac(n) on port n, the filter hooked into the forwarding state."""

    def __init__(self, hosts=(1, 2, 3, 4, GATEWAY)):
        self.state = forwarding.ForwardingState(quarantine=0, link_discovery=False)
        connect(self.state, ({DPID: 9}, []))
        self.vn = VirtualNetworks()
        virtualnetwork.set_filter(self.vn, self.state,
                                  lambda *a: virtualnetwork.filter_packet(self.vn, *a),
                                  lambda *a: virtualnetwork.flood_scope(self.vn, *a))
        for n in hosts:   # every host has been seen (an ARP for an address nobody has)
            self.packet_in(n, arp_request(mac(n), IP[n], (10, 0, 0, 200)))

    def packet_in(self, port, data):
        return flat(forwarding.handle_packet_in(self.state, DPID, port, data, 1.0))

    def outputs(self, port, data):
        """-> (flows installed as (src, dst, out ports), packet-outs' ports): a forwarded packet is both."""
        flows, outs = [], []
        for _dpid, msg in self.packet_in(port, data):
            if isinstance(msg, tuple):
                outs.append(sorted(msg[2]))
            else:
                flows.append((msg.match.dl_src, msg.match.dl_dst, [a.port for a in msg.actions]))
        return flows, outs


def two_networks(net, gateway=None):
    virtualnetwork.put_network(net.vn, 'red', 'Red', gateway)
    virtualnetwork.put_network(net.vn, 'blue', 'Blue', gateway)
    virtualnetwork.attach(net.vn, 'red', 'p1', mac(1))
    virtualnetwork.attach(net.vn, 'red', 'p2', mac(2))
    virtualnetwork.attach(net.vn, 'blue', 'p3', mac(3))
    virtualnetwork.attach(net.vn, 'blue', 'p4', mac(4))


def test_same_network_is_forwarded_other_networks_and_unattached_hosts_are_dropped():
    net = Net()
    two_networks(net)
    assert net.outputs(1, ipv4_frame(mac(2), mac(1))) == ([(mac(1), mac(2), [2])], [[2]])
    assert net.outputs(1, ipv4_frame(mac(3), mac(1))) == ([], [])
    assert net.outputs(3, ipv4_frame(mac(1), mac(3))) == ([], [])
    assert net.outputs(4, ipv4_frame(mac(3), mac(4))) == ([(mac(4), mac(3), [3])], [[3]])
    assert net.outputs(5, ipv4_frame(mac(1), mac(5))) == ([], [])   # mac(5): in no network
    assert net.outputs(1, ipv4_frame(mac(5), mac(1))) == ([], [])
    assert (net.vn.dropped, net.vn.allowed) == (4, 2 + 5)   # 5 ARPs of the hosts were broadcasts: allowed


def test_broadcasts_reach_only_ports_without_hosts_of_other_networks():
    net = Net()
    two_networks(net)
    # red's ARP: not to 3 and 4 (blue); 5..8 have seen no host; 9 has a host of no network
    assert net.outputs(1, arp_request(mac(1), IP[1], IP[2])) == ([], [[2, 5, 6, 7, 8, 9]])
    assert net.outputs(3, arp_request(mac(3), IP[3], IP[4])) == ([], [[4, 5, 6, 7, 8, 9]])
    # a host of no network reaches only the ports where no network's host is known
    assert net.outputs(9, arp_request(mac(9), IP[9], IP[1])) == ([], [[5, 6, 7, 8]])
    # DHCP broadcasts go everywhere, as in Floodlight
    dhcp = udp(BCAST, mac(3), 68, 67)
    assert net.outputs(3, dhcp) == ([], [[1, 2, 4, 5, 6, 7, 8, 9]])


def test_gateway_is_reachable_from_its_networks_and_reaches_them():
    net = Net()
    two_networks(net)
    virtualnetwork.put_network(net.vn, 'red', 'Red', int.from_bytes(bytes(IP[GATEWAY]), 'big'))
    gw = mac(GATEWAY)
    assert net.outputs(1, ipv4_frame(gw, mac(1))) == ([(mac(1), gw, [GATEWAY])], [[GATEWAY]])
    assert net.outputs(3, ipv4_frame(gw, mac(3))) == ([], [])   # blue's gateway is another
    assert net.outputs(GATEWAY, ipv4_frame(mac(3), gw)) == ([(gw, mac(3), [3])], [[3]])   # Floodlight: from a gateway
    # the gateway's broadcasts reach red's ports and the empty ones; red's reach the gateway's port
    assert net.outputs(GATEWAY, arp_request(gw, IP[GATEWAY], IP[1])) == ([], [[1, 2, 5, 6, 7, 8]])
    assert net.outputs(1, arp_request(mac(1), IP[1], IP[GATEWAY])) == ([], [[2, 5, 6, 7, 8, 9]])
    # a rename without a gateway keeps it
    virtualnetwork.put_network(net.vn, 'red', 'Crimson', None)
    assert virtualnetwork.network_json(net.vn.networks['red'])['gateway'] == '10.0.0.9'


def test_dhcp_between_networks_is_passed_on_alone():
    net = Net()
    two_networks(net)
    assert net.outputs(3, udp(mac(1), mac(3), 67, 68)) == ([], [[1]])   # no flow: the next packet is asked again
    assert net.outputs(3, udp(mac(1), mac(3), 5000, 5001)) == ([], [])


def test_changes_delete_the_forwarding_flows():
    net = Net()
    two_networks(net)
    net.outputs(1, ipv4_frame(mac(2), mac(1)))
    assert net.state.flow_count() == 1
    virtualnetwork.attach(net.vn, 'blue', 'p2', mac(2))   # moved to blue: the port's old MAC goes, red loses it
    deletes = flat(virtualnetwork.networks_changed(net.state))
    assert [(m.match.dl_src, m.match.dl_dst) for _dpid, m in deletes] == [(mac(1), mac(2))]
    assert net.outputs(1, ipv4_frame(mac(2), mac(1))) == ([], [])
    assert net.outputs(3, ipv4_frame(mac(2), mac(3))) == ([(mac(3), mac(2), [2])], [[2]])


def test_attachments_keep_one_network_per_mac_and_one_mac_per_port():
    vn = VirtualNetworks()
    virtualnetwork.put_network(vn, 'a', 'A', None)
    virtualnetwork.put_network(vn, 'b', 'B', None)
    virtualnetwork.attach(vn, 'a', 'p1', mac(1))
    virtualnetwork.attach(vn, 'b', 'p9', mac(1))       # the MAC moves
    virtualnetwork.attach(vn, 'b', 'p9', mac(2))       # the port gets another MAC
    assert [virtualnetwork.network_json(n) for n in vn.networks.values()] == [
        {'name': 'A', 'guid': 'a', 'gateway': None, 'portMac': []},
        {'name': 'B', 'guid': 'b', 'gateway': None, 'portMac': [{'port': 'p9', 'mac': '00:00:00:00:00:02'}]}]
    assert vn.network_of == {mac(2): 'b'}
    with pytest.raises(virtualnetwork.UnknownNetworkError):
        virtualnetwork.attach(vn, 'c', 'p1', mac(3))
    assert virtualnetwork.detach(vn, 'p9') == mac(2) and virtualnetwork.detach(vn, 'p9') is None
    virtualnetwork.attach(vn, 'a', 'p1', mac(1))
    virtualnetwork.delete_network(vn, 'a')
    assert vn.network_of == {} and vn.port_of == {} and list(vn.networks) == ['b']
    with pytest.raises(virtualnetwork.UnknownNetworkError):
        virtualnetwork.delete_network(vn, 'a')


# --- REST --------------------------------------------------------------------------------------------------

class App:
    """The handlers' view of apps/virtualnetwork.VirtualNetworkApp, without a controller."""

    def __init__(self):
        self.vn = VirtualNetworks()
        self.changes = 0

    def put_network(self, guid, name, gateway):
        virtualnetwork.put_network(self.vn, guid, name, gateway)
        self.changes += 1

    def delete_network(self, guid):
        virtualnetwork.delete_network(self.vn, guid)
        self.changes += 1

    def attach(self, guid, port, mac_address):
        virtualnetwork.attach(self.vn, guid, port, mac_address)
        self.changes += 1

    def detach(self, port):
        virtualnetwork.detach(self.vn, port)
        self.changes += 1


def request(method, body=None):
    return Request(method, '/networkService/v1.1/x', body=b'' if body is None else json.dumps(body).encode())


def test_rest_networks_and_attachments():
    app = App()
    assert vn_rest.put_network(app, request('PUT', {'network': {'gateway': '10.0.0.9', 'name': 'red'}}),
                               tenant='t', network='net1') == '{"status":"ok"}'
    # POST without a network in the URL takes the body's id; unknown keys inside are ignored, as Floodlight did
    vn_rest.create_network(app, request('POST', {'network': {'id': 'net2', 'name': 'blue', 'tenant_id': 't'}}),
                           tenant='t')
    assert vn_rest.attach_host(app, request('PUT', {'attachment': {'id': 'a1', 'mac': '00:00:00:00:00:01'}}),
                               tenant='t', network='net1', port='port1') == '{"status":"ok"}'
    assert vn_rest.list_networks(app, request('GET'), tenant='anything') == [
        {'name': 'red', 'guid': 'net1', 'gateway': '10.0.0.9',
         'portMac': [{'port': 'port1', 'mac': '00:00:00:00:00:01'}]},
        {'name': 'blue', 'guid': 'net2', 'gateway': None, 'portMac': []}]
    assert vn_rest.detach_host(app, request('DELETE'), tenant='t', network='net1', port='port1') == '{"status":"ok"}'
    assert vn_rest.delete_network(app, request('DELETE'), tenant='t', network='net2') == '{"status":"ok"}'
    assert [n['guid'] for n in vn_rest.list_networks_at(app, request('GET'), tenant='t', network='x')] == ['net1']
    assert vn_rest.no_op(app, request('PUT', {'port': {}}), rest='tenants/t/networks/net1/ports/p1') == \
        '{"status":"ok"}'


@pytest.mark.parametrize('body,key', [
    (None, None),
    ([], None),
    ({'network': 'red'}, 'network'),
    ({'network': {'name': 'red'}, 'extra': 1}, 'extra'),
    ({'network': {'gateway': '10.0.0.300'}}, 'gateway'),
    ({'network': {'gateway': 10}}, 'gateway'),
    ({'network': {'name': ['red']}}, 'name'),
])
def test_rest_bad_network_bodies_change_nothing(body, key):
    app = App()
    with pytest.raises(FlowValidationError) as raised:
        vn_rest.put_network(app, request('PUT', body), tenant='t', network='n')
    assert raised.value.key == key and raised.value.reason
    with pytest.raises(FlowValidationError):
        vn_rest.create_network(app, request('POST', {'network': {'name': 'no id'}}), tenant='t')
    assert app.changes == 0 and app.vn.networks == {}


@pytest.mark.parametrize('body', [
    {'attachment': {'id': 'a'}}, {'attachment': {'mac': '00:00:00:00:01'}}, {'attachment': {'mac': 5}},
    {'attach': {'mac': '00:00:00:00:00:01'}}, 'text'])
def test_rest_bad_attachments_and_unknown_networks_change_nothing(body):
    app = App()
    app.put_network('n', 'N', None)
    with pytest.raises(FlowValidationError):
        vn_rest.attach_host(app, request('PUT', body), tenant='t', network='n', port='p')
    good = request('PUT', {'attachment': {'id': 'a', 'mac': '00:00:00:00:00:01'}})
    for call in (lambda: vn_rest.attach_host(app, good, tenant='t', network='other', port='p'),
                 lambda: vn_rest.detach_host(app, request('DELETE'), tenant='t', network='n', port='p'),
                 lambda: vn_rest.delete_network(app, request('DELETE'), tenant='t', network='other')):
        with pytest.raises(HttpError) as raised:
            call()
        assert raised.value.status == 404
    assert app.changes == 1 and app.vn.network_of == {}


def test_no_op_row_leaves_the_module_paths_to_their_rows():
    import re
    pattern = re.compile(vn_rest._OTHER_PATHS)
    for path in ('tenants/t/networks', 'tenants/t/networks/n', 'tenants/t/networks/n/ports/p/attachment'):
        assert not pattern.fullmatch(path), path
    for path in ('tenants/t/networks/n/ports/p', 'tenants/t/ports', 'health'):
        assert pattern.fullmatch(path), path


# --- properties ----------------------------------------------------------------------------------------------

def consistent(vn):
    """Each attached MAC is in exactly one network at one port, and the indexes say so."""
    attached = [(mac_address, n.guid, port) for n in vn.networks.values() for port, mac_address in n.ports.items()]
    assert len({m for m, _g, _p in attached}) == len(attached) == len(vn.network_of) == len(vn.port_of)
    assert all(vn.network_of[m] == guid and vn.port_of[m] == port for m, guid, port in attached)
    gateways = {}
    for n in vn.networks.values():
        if n.gateway is not None:
            gateways.setdefault(n.gateway, set()).add(n.guid)
    assert vn.gateways == gateways


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=3), max_leaves=8)
operations = st.lists(st.tuples(st.sampled_from(['put', 'attach', 'detach', 'delete']), st.sampled_from('abc'),
                                st.sampled_from(['p1', 'p2', 'p3']), st.integers(1, 4)), max_size=25)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_any_sequence_of_changes_keeps_one_network_per_mac(steps):
    app = App()
    for operation, guid, port, host in steps:
        try:
            if operation == 'put':
                vn_rest.put_network(app, request('PUT', {'network': {'name': guid, 'gateway': '10.0.0.%d' % host}}),
                                    tenant='t', network=guid)
            elif operation == 'attach':
                vn_rest.attach_host(app, request('PUT', {'attachment': {'mac': mac(host).hex(':')}}), tenant='t',
                                    network=guid, port=port)
            elif operation == 'detach':
                vn_rest.detach_host(app, request('DELETE'), tenant='t', network=guid, port=port)
            else:
                vn_rest.delete_network(app, request('DELETE'), tenant='t', network=guid)
        except HttpError as error:
            assert error.status == 404
        consistent(app.vn)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, st.fixed_dictionaries({'network': json_values}),
                 st.fixed_dictionaries({'attachment': json_values})))
def test_any_body_is_taken_whole_or_refused_with_nothing_changed(body):
    app = App()
    app.put_network('n', 'N', None)
    before = [virtualnetwork.network_json(n) for n in app.vn.networks.values()]
    for handler, params in ((vn_rest.put_network, {'network': 'n'}),
                            (vn_rest.attach_host, {'network': 'n', 'port': 'p'})):
        try:
            assert handler(app, request('PUT', body), tenant='t', **params) == '{"status":"ok"}'
        except FlowValidationError as error:
            assert error.reason
            assert [virtualnetwork.network_json(n) for n in app.vn.networks.values()] == before
        before = [virtualnetwork.network_json(n) for n in app.vn.networks.values()]
        consistent(app.vn)
