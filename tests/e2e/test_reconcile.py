"""Reconnect reconciliation against a real secure-mode bridge that keeps its flows while the controller is away.

What an operator checks: flows that were right are not touched (their duration keeps counting and their packet
counters survive), a flow deleted by hand comes back, a stale flow with our cookie is removed, and flows of
other applications are left alone.
"""
import json
import subprocess
import time

import pytest

from controller.flowentry import floodlight_cookie
from tests.e2e.conftest import dump_flows, format_flows, poll
from tests.lib.controller import ControllerProcess

pytestmark = pytest.mark.e2e

BRIDGE = 'sfrecon'
DPID = '00:00:00:00:00:00:0e:c0'
ENTRIES = {
    'keep-1': {'in_port': '1', 'actions': 'output=2'},
    'keep-2': {'eth_type': '0x800', 'ipv4_dst': '10.0.0.0/24', 'ip_proto': '6', 'tcp_dst': '22',
               'actions': 'set_eth_dst=00:00:00:00:00:01,output=controller'},
    'removed-by-hand': {'in_port': '3', 'actions': 'output=1'},
}


def ofctl(*args):
    return subprocess.run(['ovs-ofctl', '-O', 'OpenFlow10'] + list(args), check=True, capture_output=True,
                          text=True).stdout


def vsctl(*args):
    subprocess.run(['ovs-vsctl', '--timeout=10'] + list(args), check=True, capture_output=True, text=True)


def by_cookie():
    return {f.cookie: f for f in dump_flows(BRIDGE)}


def duration(flow):
    return float(flow.line.split('duration=')[1].split('s,')[0])


def all_installed(controller):
    status, body, _ = controller.get('/wm/staticflowpusher/status/%s/json' % DPID)
    states = json.loads(body).get(DPID, {}) if status == 200 else {}
    return len(states) == len(ENTRIES) and all(s and s['state'] == 'installed' for s in states.values())


@pytest.fixture
def bridge_and_controller(tmp_path):
    controller = ControllerProcess(tmp_path).start()
    vsctl('--if-exists', 'del-br', BRIDGE)
    vsctl('add-br', BRIDGE, '--', 'set', 'bridge', BRIDGE, 'datapath_type=netdev', 'fail_mode=secure',
          'protocols=OpenFlow10', 'other-config:datapath-id=%s' % DPID.replace(':', ''),
          'other-config:disable-in-band=true', '--', 'set-controller', BRIDGE,
          'tcp:127.0.0.1:%d' % controller.ofp_port)
    processes = [controller]
    try:
        yield tmp_path, processes
    finally:
        vsctl('--if-exists', 'del-br', BRIDGE)
        for process in processes:
            process.stop()
    for process in processes:
        process.assert_clean_log()


def test_restart_on_secure_bridge_touches_only_what_differs(bridge_and_controller):
    workdir, processes = bridge_and_controller
    first = processes[0]
    poll(lambda: DPID in first.get('/wm/core/controller/switches/json')[1], 25, 'the bridge to connect')
    for name, keys in ENTRIES.items():
        status, body, _ = first.post('/wm/staticflowpusher/json', json.dumps(dict(keys, switch=DPID, name=name)))
        assert (status, body) == (200, '{"status" : "Entry pushed"}')
    poll(lambda: all_installed(first), 10, 'every entry confirmed installed')
    cookies = {name: floodlight_cookie(name) for name in ENTRIES}

    first.kill()
    killed_at = time.monotonic()
    # While no controller is connected, a secure bridge keeps its flows; change the table behind our back.
    ofctl('del-flows', '--strict', BRIDGE, 'priority=65535,in_port=3')
    stale_cookie = floodlight_cookie('deleted-while-away')
    ofctl('add-flow', BRIDGE, 'cookie=%#x,priority=65535,in_port=9,actions=output:1' % stale_cookie)
    ofctl('add-flow', BRIDGE, 'cookie=0x1234,priority=5,in_port=9,actions=drop')
    before = by_cookie()
    assert cookies['keep-1'] in before and cookies['removed-by-hand'] not in before

    second = ControllerProcess(workdir, ofp_port=first.ofp_port, rest_port=first.rest_port,
                               db_path=first.db_path)
    processes.append(second)
    second.start()
    poll(lambda: all_installed(second), 30, 'every entry confirmed installed after the restart',
         explain=lambda: second.log() + format_flows(dump_flows(BRIDGE)))
    elapsed = time.monotonic() - killed_at

    after = by_cookie()
    for name in ('keep-1', 'keep-2'):
        # An ADD or MODIFY would have reset the duration: these flows were left alone.
        assert duration(after[cookies[name]]) >= elapsed - 0.5, after[cookies[name]].line
    assert cookies['removed-by-hand'] in after
    assert duration(after[cookies['removed-by-hand']]) < elapsed
    assert stale_cookie not in after, format_flows(after.values())
    assert 0x1234 in after, 'a flow of another application was touched'
    # The two flow-mods: DELETE_STRICT of the stale flow, ADD of the one removed by hand.
    assert 'reconciled: 4 flows read, 2 entries in place, 2 flow-mods sent' in second.log()


def test_restart_with_nothing_changed_sends_no_flow_mod(bridge_and_controller):
    workdir, processes = bridge_and_controller
    first = processes[0]
    poll(lambda: DPID in first.get('/wm/core/controller/switches/json')[1], 25, 'the bridge to connect')
    for name, keys in ENTRIES.items():
        first.post('/wm/staticflowpusher/json', json.dumps(dict(keys, switch=DPID, name=name)))
    poll(lambda: all_installed(first), 10, 'every entry confirmed installed')
    first.kill()
    killed_at = time.monotonic()
    second = ControllerProcess(workdir, ofp_port=first.ofp_port, rest_port=first.rest_port,
                               db_path=first.db_path)
    processes.append(second)
    second.start()
    poll(lambda: all_installed(second), 30, 'every entry confirmed installed after the restart')
    elapsed = time.monotonic() - killed_at
    for flow in dump_flows(BRIDGE):
        assert duration(flow) >= elapsed - 0.5, flow.line
    assert second.log().rstrip().count('3 entries in place, 0 flow-mods sent') == 1
