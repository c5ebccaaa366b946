"""Every OpenFlow 1.0 match field and action the static flow pusher accepts, as Open vSwitch shows it.

A bare userspace bridge (no hosts) whose only controller is ours: each entry is pushed over REST and must
appear in `ovs-ofctl dump-flows` with Floodlight's cookie and exactly the match and actions asked for.
Both key dialects are used. Traffic-changing actions are exercised with real packets in test_actions_traffic.py.
"""
import subprocess

import pytest

from controller.flowentry import floodlight_cookie
from tests.e2e.conftest import dump_flows, format_flows, poll
from tests.lib.controller import ControllerProcess

pytestmark = pytest.mark.e2e

BRIDGE = 'sffields'
DPID = '00:00:00:00:00:00:0f:1d'

# (entry keys beyond switch/name, expected dump-flows match items, expected actions text)
CASES = {
    'in_port': ({'in_port': '1', 'actions': 'output=2'}, {'in_port': '1'}, 'output:2'),
    'ingress-port': ({'ingress-port': '3', 'actions': 'output=1'}, {'in_port': '3'}, 'output:1'),
    'eth_src': ({'eth_src': '52:54:00:9b:d5:bc', 'actions': 'output=3'}, {'dl_src': '52:54:00:9b:d5:bc'},
                'output:3'),
    'dst-mac': ({'dst-mac': '52:54:00:9b:d5:be', 'actions': 'output=3'}, {'dl_dst': '52:54:00:9b:d5:be'},
                'output:3'),
    'vlan-id': ({'vlan-id': '10', 'vlan-priority': '3', 'actions': 'strip-vlan,output=1'},
                {'dl_vlan': '10', 'dl_vlan_pcp': '3'}, 'strip_vlan,output:1'),
    'eth_type': ({'eth_type': '0x88cc', 'actions': 'output=controller'}, {'dl_type': '0x88cc'},
                 'CONTROLLER:65535'),
    'ipv4 cidr': ({'eth_type': '0x0800', 'ipv4_src': '10.0.0.1', 'ipv4_dst': '10.0.0.0/24',
                   'actions': 'set_ipv4_src=1.2.3.4,set-dst-ip=5.6.7.8,output=2'},
                  {'ip': True, 'nw_src': '10.0.0.1', 'nw_dst': '10.0.0.0/24'},
                  'mod_nw_src:1.2.3.4,mod_nw_dst:5.6.7.8,output:2'),
    'tos': ({'ether-type': '2048', 'tos-bits': '10', 'actions': 'set-tos-bits=8,output=normal'},
            {'ip': True, 'nw_tos': '40'}, 'mod_nw_tos:8,NORMAL'),
    'ip_dscp': ({'eth_type': '2048', 'ip_dscp': '46', 'actions': 'output=flood'}, {'ip': True, 'nw_tos': '184'},
                'FLOOD'),
    'tcp ports': ({'eth_type': '0x800', 'ip_proto': '6', 'tcp_src': '80', 'tcp_dst': '8080',
                   'actions': 'set-src-port=1000,set_tp_dst=2000,output=all'},
                  {'tcp': True, 'tp_src': '80', 'tp_dst': '8080'}, 'mod_tp_src:1000,mod_tp_dst:2000,ALL'),
    'udp ports': ({'ether-type': '0x800', 'protocol': '17', 'dst-port': '53', 'actions': 'output=local'},
                  {'udp': True, 'tp_dst': '53'}, 'LOCAL'),
    'icmp': ({'eth_type': '0x800', 'ip_proto': '1', 'icmpv4_type': '8', 'icmpv4_code': '0',
              'actions': 'output=in_port'}, {'icmp': True, 'icmp_type': '8', 'icmp_code': '0'}, 'IN_PORT'),
    'other ip proto': ({'eth_type': '0x800', 'ip_proto': '47', 'actions': 'enqueue=2:5'},
                       {'ip': True, 'nw_proto': '47'}, 'enqueue:2:5'),
    'arp': ({'eth_type': '0x806', 'arp_opcode': '1', 'arp_spa': '10.10.10.1', 'arp_tpa': '10.10.10.0/24',
             'actions': 'set-src-mac=00:00:00:00:00:0a,set_eth_dst=00:00:00:00:00:0b,output=1'},
            {'arp': True, 'arp_op': '1', 'arp_spa': '10.10.10.1', 'arp_tpa': '10.10.10.0/24'},
            'mod_dl_src:00:00:00:00:00:0a,mod_dl_dst:00:00:00:00:00:0b,output:1'),
    'vlan actions': ({'in_port': '2', 'actions': 'set-vlan-id=20,set_vlan_pcp=5,output=1'}, {'in_port': '2'},
                     'mod_vlan_vid:20,mod_vlan_pcp:5,output:1'),
    'drop': ({'in_port': '4'}, {'in_port': '4'}, 'drop'),
}


def ovs_vsctl(*args):
    subprocess.run(['ovs-vsctl', '--timeout=10'] + list(args), check=True, capture_output=True, text=True)


@pytest.fixture(scope='module')
def bridge(tmp_path_factory):
    controller = ControllerProcess(tmp_path_factory.mktemp('fields')).start()
    ovs_vsctl('--if-exists', 'del-br', BRIDGE)
    ovs_vsctl('add-br', BRIDGE, '--', 'set', 'bridge', BRIDGE, 'datapath_type=netdev', 'fail_mode=secure',
              'protocols=OpenFlow10', 'other-config:datapath-id=%s' % DPID.replace(':', ''),
              'other-config:disable-in-band=true', '--', 'set-controller', BRIDGE,
              'tcp:127.0.0.1:%d' % controller.ofp_port)
    try:
        poll(lambda: DPID in controller.get('/wm/core/controller/switches/json')[1], 25, 'the bridge to connect')
        yield controller
    finally:
        ovs_vsctl('--if-exists', 'del-br', BRIDGE)
        controller.stop()
    controller.assert_clean_log()


@pytest.mark.parametrize('case', sorted(CASES))
def test_field_reaches_ovs(bridge, case):
    keys, expected_match, expected_actions = CASES[case]
    name = 'field-' + case.replace(' ', '-')
    doc = dict(keys, switch=DPID, name=name, priority='1000')
    import json
    status, body, _ = bridge.post('/wm/staticflowpusher/json', json.dumps(doc))
    assert (status, body) == (200, '{"status" : "Entry pushed"}')

    def ours():
        return [f for f in dump_flows(BRIDGE) if f.cookie == floodlight_cookie(name)]

    flows = poll(ours, 10, 'entry %s in dump-flows' % name, explain=lambda: format_flows(dump_flows(BRIDGE)))
    assert len(flows) == 1
    flow = flows[0]
    assert flow.priority == 1000
    assert flow.match == expected_match, flow.line
    assert flow.actions == expected_actions, flow.line
    status, _, _ = bridge.request('DELETE', '/wm/staticflowpusher/json', json.dumps({'name': name}))
    assert status == 200
    poll(lambda: not ours(), 10, 'entry %s to leave dump-flows' % name)
