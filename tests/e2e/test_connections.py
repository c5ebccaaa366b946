"""The connection tracker on a real Open vSwitch: fail modes with the controller gone, primary and service sessions of
one bridge, and two controller instances sharing a bridge.

What an operator checks: `ovs-ofctl dump-flows` (static flows gone or kept), `ovs-appctl bridge/dump-flows` (the
hidden fail-open NORMAL flow at priority 15790320), pings between the hosts, OVSDB's Controller rows, and the
controller's /wm/core/controller/connections REST.
"""
import json
import subprocess
import time

import pytest

from controller.flowentry import floodlight_cookie
from tests.e2e.conftest import STATIC_ONLY_ARGS, bridge_lock, dump_flows, dump_flows_text, poll, static_flows
from tests.lib.controller import ControllerProcess, free_port

pytestmark = pytest.mark.e2e

FAIL_OPEN_PRIORITY = 15790320  # 0xf0f0f0: OVS's hidden NORMAL flow while failed open
PROBE_MS = 1000                # the bridges' inactivity_probe: fail-open 3 s after the last message
CONNECT_TIMEOUT = 30


def vsctl(*args):
    return subprocess.run(['ovs-vsctl', '--timeout=10'] + list(args), check=True, capture_output=True,
                          text=True, timeout=20).stdout.strip()


def hidden_flows(bridge):
    return subprocess.run(['ovs-appctl', 'bridge/dump-flows', bridge], capture_output=True, text=True,
                          timeout=15).stdout


def failed_open(bridge):
    return 'priority=%d' % FAIL_OPEN_PRIORITY in hidden_flows(bridge)


def controller_rows(bridge):
    """[(target, role, is_connected)] of the bridge's Controller rows, from OVSDB."""
    rows = []
    for uuid in vsctl('get', 'Bridge', bridge, 'controller').strip('[]').split(','):
        uuid = uuid.strip()
        if uuid:
            target, role, connected = vsctl('--bare', 'get', 'Controller', uuid, 'target', 'role',
                                            'is_connected').splitlines()
            rows.append((target.strip('"'), role, connected))
    return rows


def set_probe(bridge, port, probe_ms=PROBE_MS):
    uuid = vsctl('--bare', '--columns=_uuid', 'find', 'Controller', 'target="tcp:127.0.0.1:%d"' % port)
    vsctl('set', 'Controller', uuid, 'inactivity_probe=%d' % probe_ms)


class Bridge:
    """A Mininet network of one userspace OVS bridge and a few hosts, with controllers given by port."""

    def __init__(self, name, dpid, fail_mode, controller_ports, listen_port=None, hosts=2):
        self.name, self.dpid, self.fail_mode = name, dpid, fail_mode
        self.controller_ports, self.listen_port, self.n_hosts = controller_ports, listen_port, hosts
        self.net = None
        self.hosts = []

    @property
    def dpid_text(self):
        return ':'.join(self.dpid[i:i + 2] for i in range(0, 16, 2))

    def start(self):
        from mininet.log import setLogLevel
        from mininet.net import Mininet
        from mininet.node import OVSSwitch, RemoteController

        setLogLevel('warning')
        vsctl('--if-exists', 'del-br', self.name)
        self.net = Mininet(topo=None, controller=None, build=False)
        for index, port in enumerate(self.controller_ports):
            self.net.addController('c%d' % index, controller=RemoteController, ip='127.0.0.1', port=port)
        switch = self.net.addSwitch(self.name, cls=OVSSwitch, dpid=self.dpid, protocols='OpenFlow10',
                                    failMode=self.fail_mode, datapath='user', listenPort=self.listen_port)
        for index in range(1, self.n_hosts + 1):
            # Host names unique to this bridge: Mininet makes their veths in the root namespace first.
            host = self.net.addHost('%sh%d' % (self.name[-3:], index), ip='10.44.0.%d/24' % index,
                                    mac='00:00:00:44:00:%02x' % index)
            self.net.addLink(host, switch, port2=index)
            self.hosts.append(host)
        self.net.build()
        self.net.start()
        for port in self.controller_ports:
            set_probe(self.name, port)
        return self

    def stop(self):
        if self.net is not None:
            self.net.stop()
        vsctl('--if-exists', 'del-br', self.name)

    def pings(self, src, dst, count=2):
        out = self.hosts[src].cmd('ping -n -q -c %d -i 0.2 -W 1 %s' % (count, self.hosts[dst].IP()))
        return ' 0% packet loss' in out

    def wait_pings(self, src, dst, what, timeout=15):
        poll(lambda: self.pings(src, dst), timeout, what, interval=0.5,
             explain=lambda: dump_flows_text(self.name)[1] + hidden_flows(self.name))


def connections(controller, dpid_text):
    try:
        status, text, _ = controller.get('/wm/core/controller/connections/json')
    except OSError:
        return []
    return [c for c in json.loads(text) if c['dpid'] == dpid_text] if status == 200 else []


def wait_session(controller, bridge, what='the bridge to connect', timeout=CONNECT_TIMEOUT, **where):
    def found():
        return [c for c in connections(controller, bridge.dpid_text) if all(c.get(k) == v for k, v in where.items())]
    return poll(found, timeout, what, interval=0.2, explain=lambda: controller.log()[-3000:])


def history(controller, bridge):
    status, text, _ = controller.get('/wm/core/controller/connections/%s/history/json' % bridge.dpid_text)
    assert status == 200, (status, text)
    return json.loads(text)


def push_pair(controller, bridge, names=('fwd', 'back')):
    """Static entries that carry everything between the bridge's ports 1 and 2 (ARP included)."""
    for name, (in_port, out_port) in zip(names, ((1, 2), (2, 1))):
        status, text, _ = controller.post('/wm/staticflowpusher/json', json.dumps({
            'switch': bridge.dpid_text, 'name': name, 'in_port': str(in_port), 'actions': 'output=%d' % out_port}))
        assert (status, text) == (200, '{"status" : "Entry pushed"}'), (status, text)
    cookies = {floodlight_cookie(name) for name in names}
    poll(lambda: {f.cookie for f in static_flows(dump_flows(bridge.name))} == cookies, 15,
         'the static flows in dump-flows', explain=lambda: dump_flows_text(bridge.name)[1])
    return cookies


@pytest.fixture
def cleanup(tmp_path):
    """Stops what a test registers (bridges first, then controllers) and checks the controller logs."""
    items = {'bridges': [], 'controllers': []}
    yield items
    try:
        for bridge in items['bridges']:
            bridge.stop()
    finally:
        for controller in items['controllers']:
            controller.stop()
    for controller in items['controllers']:
        controller.assert_clean_log()


def start_controller(cleanup, workdir, *args, static_only=True, **kwargs):
    extra = (STATIC_ONLY_ARGS if static_only else ()) + args
    controller = ControllerProcess(workdir, extra_args=extra, **kwargs).start()
    cleanup['controllers'].append(controller)
    return controller


def test_standalone_bridge_fails_open_without_its_controller_and_is_restored_after(cleanup, tmp_path):
    with bridge_lock('sfstand'):
        controller = start_controller(cleanup, tmp_path)
        bridge = Bridge('sfstand', '00000000000051a1', 'standalone', [controller.ofp_port])
        cleanup['bridges'].append(bridge)
        bridge.start()
        [session] = wait_session(controller, bridge, kind='primary', kind_confirmed=True, fail_mode='standalone')
        assert (session['bridge'], session['fail_mode_source'], session['inactivity_probe_ms']) == (
            'sfstand', 'ovsdb', PROBE_MS)
        cookies = push_pair(controller, bridge)
        bridge.wait_pings(0, 1, 'pings over the static flows')

        controller.kill()
        # 3 x inactivity_probe after the last message the bridge flushes every flow and forwards by itself.
        poll(lambda: not static_flows(dump_flows(bridge.name)) and failed_open(bridge.name), 3 * PROBE_MS / 1000 + 12,
             'the bridge to fail open: static flows flushed, hidden NORMAL flow in',
             explain=lambda: dump_flows_text(bridge.name)[1] + hidden_flows(bridge.name))
        bridge.wait_pings(0, 1, 'pings through fail-open NORMAL')

        again = start_controller(cleanup, tmp_path, ofp_port=controller.ofp_port, rest_port=controller.rest_port,
                                 db_path=controller.db_path)
        wait_session(again, bridge, 'the bridge to reconnect', kind='primary', state='connected')
        poll(lambda: {f.cookie for f in static_flows(dump_flows(bridge.name))} == cookies
             and not failed_open(bridge.name), 15, 'fail-open over and the static entries back',
             explain=lambda: dump_flows_text(bridge.name)[1] + hidden_flows(bridge.name))
        bridge.wait_pings(0, 1, 'pings over the restored static flows')
        restored = [e for e in history(again, bridge) if e['event'] == 'static_entries']
        assert restored and 'full push' in restored[0]['detail'] and restored[0]['flow_mods'] == 2, restored


@pytest.fixture
def ovsdb_tcp():
    """An OVSDB TCP listener on loopback, as an operator adds for a controller on another host
    (`ovs-vsctl set-manager ptcp:6640`); added next to whatever managers exist, removed afterwards."""
    port = free_port()
    target = 'ptcp:%d:127.0.0.1' % port
    vsctl('--', '--id=@m', 'create', 'Manager', 'target="%s"' % target, '--', 'add', 'Open_vSwitch', '.',
          'manager_options', '@m')
    try:
        yield 'tcp:127.0.0.1:%d' % port
    finally:
        uuid = vsctl('--bare', '--columns=_uuid', 'find', 'Manager', 'target="%s"' % target)
        if uuid:
            vsctl('remove', 'Open_vSwitch', '.', 'manager_options', uuid)


def test_secure_bridge_keeps_its_flows_and_a_restart_sends_no_flow_mod(cleanup, tmp_path, ovsdb_tcp):
    with bridge_lock('sfsecur'):
        # OVSDB read over TCP, as for a switch on another host.
        controller = start_controller(cleanup, tmp_path, '--ovsdb', ovsdb_tcp)
        bridge = Bridge('sfsecur', '00000000000051a2', 'secure', [controller.ofp_port], hosts=3)
        cleanup['bridges'].append(bridge)
        bridge.start()
        wait_session(controller, bridge, kind='primary', fail_mode='secure', fail_mode_source='ovsdb')
        cookies = push_pair(controller, bridge)
        controller.kill()
        killed = time.monotonic()
        # Past the time a standalone bridge would fail open, the flows are all still there...
        while time.monotonic() < killed + 3 * PROBE_MS / 1000 + 2:
            assert {f.cookie for f in static_flows(dump_flows(bridge.name))} == cookies
            assert not failed_open(bridge.name)
            time.sleep(0.5)
        # ...and only they carry traffic: host 3 has none, and a secure bridge forwards nothing by itself.
        bridge.wait_pings(0, 1, 'pings over the kept static flows')
        assert not bridge.pings(0, 2, count=1)

        again = start_controller(cleanup, tmp_path, '--ovsdb', ovsdb_tcp, ofp_port=controller.ofp_port,
                                 rest_port=controller.rest_port, db_path=controller.db_path)
        outcome = poll(lambda: [e for e in history(again, bridge) if e['event'] == 'static_entries']
                       if connections(again, bridge.dpid_text) else None, CONNECT_TIMEOUT, 'the reconcile',
                       interval=0.3)
        assert outcome[0]['flow_mods'] == 0 and outcome[0]['in_place'] == 2, outcome
        assert 'nothing sent' in outcome[0]['detail']


def test_primary_and_service_sessions_of_one_bridge(cleanup, tmp_path):
    listen_port = free_port()
    with bridge_lock('sfsvc'):
        controller = start_controller(cleanup, tmp_path, '--service-switches', '127.0.0.1:%d' % listen_port)
        bridge = Bridge('sfsvc', '00000000000051a3', 'standalone', [controller.ofp_port], listen_port=listen_port)
        cleanup['bridges'].append(bridge)
        bridge.start()
        [primary] = wait_session(controller, bridge, 'the primary session', kind='primary', kind_confirmed=True)
        [service] = wait_session(controller, bridge, 'the service session', kind='service', kind_confirmed=True)
        assert service['remote'] == '127.0.0.1:%d' % listen_port and service['state'] == 'connected'
        assert primary['role'] == 'master' and service['role'] == 'other'
        cookies = push_pair(controller, bridge)

        # The bridge drops its ptcp: listener (and with it the service session); its primary stays.
        primary_uuid = vsctl('--bare', '--columns=_uuid', 'find', 'Controller',
                             'target="tcp:127.0.0.1:%d"' % controller.ofp_port)
        vsctl('set', 'Bridge', bridge.name, 'controller=%s' % primary_uuid)
        [gone] = wait_session(controller, bridge, 'the service session to end', kind='service', state='disconnected')
        assert 'fail_open_at' not in gone
        [still] = wait_session(controller, bridge, kind='primary', state='connected')
        assert still['since'] == primary['since']
        assert {f.cookie for f in static_flows(dump_flows(bridge.name))} == cookies
        assert not failed_open(bridge.name)
        assert 'nothing' in [e for e in history(controller, bridge) if e['event'] == 'disconnected'][-1]['switch_does']

        # The listener comes back: OVS never redials a service controller, this controller does.
        vsctl('--', '--id=@listen', 'create', 'Controller', 'target="ptcp:%d"' % listen_port, '--', 'add', 'Bridge',
              bridge.name, 'controller', '@listen')
        wait_session(controller, bridge, 'the service session to be redialed', kind='service', state='connected')


def test_two_instances_on_one_bridge_one_master_and_takeover_before_fail_open(cleanup, tmp_path):
    db = str(tmp_path / 'shared.sqlite3')
    with bridge_lock('sfha'):
        # As a user runs them: forwarding and LLDP on (the standby must write nothing, LLDP included).
        first = start_controller(cleanup, tmp_path, db_path=db, static_only=False)
        second = start_controller(cleanup, tmp_path, db_path=db, static_only=False)
        bridge = Bridge('sfha', '00000000000051a4', 'standalone', [first.ofp_port, second.ofp_port])
        cleanup['bridges'].append(bridge)
        bridge.start()
        for controller in (first, second):
            wait_session(controller, bridge, kind='primary', kind_confirmed=True)

        def role(controller):
            return json.loads(controller.get('/wm/core/switch/all/role/json')[1]).get(bridge.dpid_text)

        def roles():
            return [role(first), role(second)]
        poll(lambda: sorted(roles()) == ['MASTER', 'SLAVE'], 15, 'one master and one slave', interval=0.3,
             explain=lambda: repr(roles()))
        master, standby = (first, second) if roles()[0] == 'MASTER' else (second, first)
        master_target = 'tcp:127.0.0.1:%d' % master.ofp_port
        # OVSDB agrees (its status columns lag by up to 5 s).
        poll(lambda: sorted((t == master_target, r) for t, r, _ in controller_rows(bridge.name))
             == [(False, 'slave'), (True, 'master')], 15, 'OVSDB roles', interval=0.5,
             explain=lambda: repr(controller_rows(bridge.name)))

        # Entries pushed to the standby are installed by the master.
        cookies = push_pair(standby, bridge)
        bridge.wait_pings(0, 1, 'pings over the static flows')

        master.kill()
        killed = time.monotonic()
        poll(lambda: role(standby) == 'MASTER', 15, 'the standby to become master', interval=0.2)
        # The standby's session kept the bridge from failing open: nothing was flushed, traffic never stopped.
        assert time.monotonic() - killed < 3 * PROBE_MS / 1000 * 5  # well inside the default 15 s window
        assert {f.cookie for f in static_flows(dump_flows(bridge.name))} == cookies
        assert not failed_open(bridge.name)
        bridge.wait_pings(0, 1, 'pings after the takeover')
        status, text, _ = standby.post('/wm/staticflowpusher/json', json.dumps({
            'switch': bridge.dpid_text, 'name': 'after-takeover', 'in_port': '1', 'eth_type': '0x0800',
            'ipv4_dst': '10.44.0.9', 'actions': 'output=2'}))
        assert status == 200, text
        poll(lambda: floodlight_cookie('after-takeover') in {f.cookie for f in dump_flows(bridge.name)}, 10,
             'the new master to install a new entry')
        assert 'another controller is its master' not in standby.log()  # it never mistook itself for demoted
        events = [e for e in history(standby, bridge) if e['event'] in ('mastership', 'role')]
        assert any(e['event'] == 'mastership' and e['held'] for e in events), events


def test_a_controller_that_takes_master_demotes_this_one_which_stops_writing(cleanup, tmp_path):
    """Another controller (here a raw OpenFlow client on the bridge's ptcp: listener) requests MASTER: OVS makes
    this controller SLAVE; the controller notices from OVSDB, says so and stops writing."""
    import socket
    import struct

    listen_port = free_port()
    with bridge_lock('sfdemo'):
        controller = start_controller(cleanup, tmp_path)
        bridge = Bridge('sfdemo', '00000000000051a5', 'secure', [controller.ofp_port], listen_port=listen_port)
        cleanup['bridges'].append(bridge)
        bridge.start()
        wait_session(controller, bridge, kind='primary', role='master')
        outsider = socket.create_connection(('127.0.0.1', listen_port), timeout=10)
        try:
            outsider.sendall(struct.pack('!BBHI', 1, 0, 8, 1))                              # HELLO
            outsider.sendall(struct.pack('!BBHIIII', 1, 4, 20, 2, 0x2320, 10, 1))           # NXT_ROLE_REQUEST MASTER
            reply = b''
            while len(reply) < 28:  # HELLO (8) + NXT_ROLE_REPLY (20)
                reply += outsider.recv(64)
            assert struct.unpack_from('!BBHIIII', reply, 8)[5:] == (11, 1), reply.hex()      # ROLE_REPLY, MASTER
            poll(lambda: ('tcp:127.0.0.1:%d' % controller.ofp_port, 'slave') in
                 [(t, r) for t, r, _ in controller_rows(bridge.name)], 15, 'OVSDB to show this controller as slave',
                 interval=0.5)
            # OpenFlow 1.0 tells a demoted controller nothing; it reads OVSDB's role column (which lags by up to
            # 5 s; the check waits 10 s after its own role request) ...
            wait_session(controller, bridge, 'the controller to notice its demotion from OVSDB', timeout=40,
                         kind='primary', role='slave')
            assert 'OVSDB shows role=slave for tcp:127.0.0.1:%d' % controller.ofp_port in controller.log()
            # ... and from then on writes nothing (the EPERM path is covered by tests/protocol/test_connections.py).
            status, text, _ = controller.post('/wm/staticflowpusher/json', json.dumps({
                'switch': bridge.dpid_text, 'name': 'refused', 'in_port': '1', 'actions': 'output=2'}))
            assert status == 200, text
            # The push is stored but no flow-mod went out for it (a sent one would read "sent" at once).
            entry_status = json.loads(controller.get('/wm/staticflowpusher/status/%s/json' % bridge.dpid_text)[1])
            assert entry_status[bridge.dpid_text]['refused'] is None, entry_status
            assert not static_flows(dump_flows(bridge.name))
            roles = json.loads(controller.get('/wm/core/switch/all/role/json')[1])
            assert roles == {bridge.dpid_text: 'SLAVE'}
        finally:
            outsider.close()
