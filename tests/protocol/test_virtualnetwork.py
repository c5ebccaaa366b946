"""The virtual network filter (--virtual-network-filter) and the performance monitor against a scripted OpenFlow
1.0 switch: REST answers, tenant networks enforced on packet-ins, bad input refused with nothing changed."""
import json
import time

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.lib.controller import wait_for
from tests.protocol.test_firewall import H1, H2, H3, IPS, answer_to, call, icmp_frame
from tests.protocol.test_forwarding import FAST, arp, get_json

pytestmark = pytest.mark.protocol

DPID = 0xf0a0000000000021
NETWORKS = '/networkService/v1.1/tenants/default/networks'
VNF_MODULE = 'net.floodlightcontroller.virtualnetwork.VirtualNetworkFilter'


def attach(controller, network, port, host):
    body = json.dumps({'attachment': {'id': port, 'mac': host.hex(':')}})
    assert call(controller, 'PUT', '%s/%s/ports/%s/attachment' % (NETWORKS, network, port), body) == \
        '{"status":"ok"}'


def forwarded(mods, outs):
    """-> [(src, dst, out port)] of the flows the controller installed for a packet-in (with its packet-out)."""
    assert len(outs) == len(mods)
    return [(m.match.dl_src, m.match.dl_dst, [a.port for a in m.actions]) for m in mods]


def test_networks_decide_what_is_forwarded(start_controller, connect_peer):
    controller = start_controller(FAST + ('--virtual-network-filter',))
    peer = connect_peer(controller, DPID)
    assert VNF_MODULE in get_json(controller, '/wm/core/module/loaded/json')
    assert get_json(controller, NETWORKS) == []
    call(controller, 'PUT', NETWORKS + '/red', '{"network": {"gateway": "10.0.0.254", "name": "red"}}')
    call(controller, 'POST', NETWORKS, '{"network": {"id": "blue", "name": "blue"}}')
    attach(controller, 'red', 'port1', H1)
    attach(controller, 'red', 'port2', H2)
    attach(controller, 'blue', 'port3', H3)
    assert get_json(controller, NETWORKS) == [
        {'name': 'red', 'guid': 'red', 'gateway': '10.0.0.254', 'portMac': [
            {'port': 'port1', 'mac': H1.hex(':')}, {'port': 'port2', 'mac': H2.hex(':')}]},
        {'name': 'blue', 'guid': 'blue', 'gateway': None, 'portMac': [{'port': 'port3', 'mac': H3.hex(':')}]}]

    time.sleep(0.3)  # the port quarantine
    mods, outs = answer_to(peer, arp(H1, IPS[H1], IPS[H2]), 1)
    assert mods == [] and [sorted(a.port for a in o.actions) for o in outs] == [[2, 3]]  # nothing seen on 3 yet
    for port, host in ((2, H2), (3, H3)):
        peer.send_packet_in(port, arp(host, IPS[host], (10, 0, 0, 9)))
    wait_for(lambda: len(get_json(controller, '/wm/device/')) == 3, 5, what='three hosts learned')
    peer.echo()  # the floods of those two ARPs are in before what answers the next one is looked at
    # now that H3 (blue) is known on port 3, red's broadcasts no longer go there
    mods, outs = answer_to(peer, arp(H1, IPS[H1], IPS[H2]), 1)
    assert [sorted(a.port for a in o.actions) for o in outs] == [[2]]

    assert forwarded(*answer_to(peer, icmp_frame(H2, H1), 1)) == [(H1, H2, [2])]
    assert answer_to(peer, icmp_frame(H3, H1), 1) == ([], [])     # red -> blue: dropped, no flow either
    assert answer_to(peer, icmp_frame(H1, H3), 3) == ([], [])

    # H2 moves to blue: the red flow H1 -> H2 is deleted, H2 and H3 talk, H1 and H2 no longer
    mark = peer.mark()
    attach(controller, 'blue', 'port2', H2)
    delete = peer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark)
    assert (delete.command, delete.match.dl_src, delete.match.dl_dst) == (ofp.OFPFC_DELETE_STRICT, H1, H2)
    assert answer_to(peer, icmp_frame(H2, H1), 1) == ([], [])
    assert forwarded(*answer_to(peer, icmp_frame(H3, H2), 2)) == [(H2, H3, [3])]

    # detached: H3 is in no network, the flow to it is deleted and its packets go nowhere
    mark = peer.mark()
    call(controller, 'DELETE', NETWORKS + '/blue/ports/port3/attachment')
    delete = peer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark)
    assert (delete.command, delete.match.dl_src, delete.match.dl_dst) == (ofp.OFPFC_DELETE_STRICT, H2, H3)
    peer.echo()  # whatever else the detach sent is in before the next packet's answer is looked at
    assert answer_to(peer, icmp_frame(H2, H3), 3) == ([], [])
    call(controller, 'DELETE', NETWORKS + '/blue')
    assert [n['guid'] for n in get_json(controller, NETWORKS)] == ['red']
    # the NoOp paths of OpenStack's plugin
    assert call(controller, 'PUT', NETWORKS + '/red/ports/port9', '{"port": {"state": "ACTIVE"}}') == \
        '{"status":"ok"}'


def test_bad_input_is_refused_and_changes_nothing(start_controller):
    controller = start_controller(FAST + ('--virtual-network-filter',))
    call(controller, 'PUT', NETWORKS + '/red', '{"network": {"name": "red"}}')
    before = get_json(controller, NETWORKS)
    for method, path, body, status in (
            ('PUT', NETWORKS + '/red', '{"network": {"gateway": "10.0.0.300"}}', 400),
            ('PUT', NETWORKS + '/red', 'nonsense', 400),
            ('PUT', NETWORKS + '/red', '{"network": "red"}', 400),
            ('POST', NETWORKS, '{"network": {"name": "no id"}}', 400),
            ('PUT', NETWORKS + '/red/ports/p1/attachment', '{"attachment": {"mac": "01:02"}}', 400),
            ('PUT', NETWORKS + '/red/ports/p1/attachment', '{"attachment": {"id": "x"}}', 400),
            ('PUT', NETWORKS + '/green/ports/p1/attachment', '{"attachment": {"mac": "00:00:00:00:00:01"}}', 404),
            ('DELETE', NETWORKS + '/red/ports/p1/attachment', None, 404),
            ('DELETE', NETWORKS + '/green', None, 404),
            ('DELETE', NETWORKS, None, 405)):
        status_got, text, _headers = controller.request(method, path, body)
        assert status_got == status, (method, path, body, status_got, text)
        assert json.loads(text)['reason'], text
    assert get_json(controller, NETWORKS) == before


def test_not_loaded_by_default_and_the_performance_monitor(start_controller, connect_peer):
    controller = start_controller(FAST)
    assert VNF_MODULE not in get_json(controller, '/wm/core/module/loaded/json')
    assert get_json(controller, '/wm/core/module/all/json')[VNF_MODULE]['loaded'] is False
    call(controller, 'GET', NETWORKS, expect=404)

    peer = connect_peer(controller, DPID)
    assert call(controller, 'GET', '/wm/performance/enable/json') == '{ "enabled" : true }'
    time.sleep(0.3)
    for port, host in ((1, H1), (2, H2)):
        peer.send_packet_in(port, arp(host, IPS[host], (10, 0, 0, 9)))
    peer.echo()
    answer_to(peer, icmp_frame(H2, H1), 1)
    data = get_json(controller, '/wm/performance/data/json')
    assert data['total-packets'] >= 3 and data['max'] >= data['average'] >= data['min'] > 0
    modules = {m['module-name']: m for m in data['modules']}
    assert VNF_MODULE not in modules
    assert modules['net.floodlightcontroller.forwarding.Forwarding']['num-packets'] >= 3
    assert call(controller, 'GET', '/wm/performance/reset/json') == '{ "enabled" : true }'
    assert get_json(controller, '/wm/performance/data/json')['total-packets'] == 0
    assert call(controller, 'GET', '/wm/performance/disable/json') == '{ "enabled" : false }'
    assert 'reason' in json.loads(call(controller, 'GET', '/wm/performance/sometimes/json', expect=400))
    call(controller, 'POST', '/wm/performance/enable/json', '{}', expect=405)
