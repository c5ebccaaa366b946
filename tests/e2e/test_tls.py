"""OpenFlow over TLS, end to end: certificates from `ovs-pki`, OVS bridges with `ssl:` controller targets.

The bridges live in a private ovs-vswitchd (tests/lib/privateovs.py): the SSL row of the Open_vSwitch table is
global, so configuring it on the system OVS would change every other bridge on the machine.
"""
import json
import socket
import ssl
import subprocess

import pytest

from tests.e2e.conftest import STATIC_ONLY_ARGS, poll
from tests.lib.controller import ControllerProcess, free_port
from tests.lib.privateovs import PrivateOVS

pytestmark = pytest.mark.e2e

BRIDGES = {'i7tls1': 0x0000000000007201, 'i7tls2': 0x0000000000007202}


def colon(dpid):
    return ':'.join('%02x' % ((dpid >> s) & 0xff) for s in range(56, -8, -8))


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    """ovs-pki's two CAs, a controller certificate and a switch certificate."""
    directory = tmp_path_factory.mktemp('pki')
    pki_dir = str(directory / 'pki')

    def run(*args):
        subprocess.run(['ovs-pki', '--dir=' + pki_dir] + list(args), cwd=str(directory), check=True,
                       capture_output=True, timeout=120)
    run('init', '--force')
    run('req+sign', 'ctl', 'controller')
    run('req+sign', 'sw', 'switch')
    return {'dir': directory, 'ctl_key': str(directory / 'ctl-privkey.pem'), 'ctl_cert': str(directory / 'ctl-cert.pem'),
            'sw_key': str(directory / 'sw-privkey.pem'), 'sw_cert': str(directory / 'sw-cert.pem'),
            'switch_ca': pki_dir + '/switchca/cacert.pem', 'controller_ca': pki_dir + '/controllerca/cacert.pem'}


def test_openflow_over_tls_with_ovs_pki_certificates(pki, tmp_path):
    port = free_port()
    controller = ControllerProcess(tmp_path, ofp_port=port, extra_args=list(STATIC_ONLY_ARGS) + [
        '--ovsdb', 'none', '--ctl-privkey', pki['ctl_key'], '--ctl-cert', pki['ctl_cert'],
        '--ca-certs', pki['switch_ca'], '--ofp-ssl-listen-port', str(port)])
    ovs = PrivateOVS(tmp_path)
    try:
        controller.start()
        ovs.start()
        ovs.vsctl('set-ssl', pki['sw_key'], pki['sw_cert'], pki['controller_ca'])
        for bridge, dpid in BRIDGES.items():
            ovs.add_bridge(bridge, dpid, 'ssl:127.0.0.1:%d' % port)

        def listed():
            status, text, _ = controller.get('/wm/core/controller/switches/json')
            return {s['switchDPID'] for s in json.loads(text)} if status == 200 else set()
        # both: Ryu 4.34 alone served only the first TLS connection of a process
        poll(lambda: listed() == {colon(d) for d in BRIDGES.values()}, 30, what='both bridges connected over TLS',
             explain=lambda: controller.log()[-2000:])
        poll(lambda: 'false' not in ovs.vsctl('--columns=is_connected', 'list', 'Controller'), 15,
             what='OVS to report both ssl: controllers connected')
        for bridge, dpid in BRIDGES.items():
            status, text, _ = controller.post('/wm/staticflowpusher/json', json.dumps({
                'switch': colon(dpid), 'name': 'tls-' + bridge, 'eth_dst': '52:54:00:00:72:01',
                'actions': 'output=2'}))
            assert status == 200, text
            poll(lambda: any('dl_dst=52:54:00:00:72:01' in f for f in ovs.flows(bridge)), 10,
                 what='the flow on ' + bridge)

        # Refused at the TLS layer, each with one log line: plain OpenFlow, no client certificate, and a client
        # certificate the switch CA did not sign (the controller's own, from the other CA).
        def handshake_fails(context):
            with socket.create_connection(('127.0.0.1', port), timeout=10) as raw:
                try:
                    with context.wrap_socket(raw) as tls:
                        tls.sendall(b'\x01\x00\x00\x08\x00\x00\x00\x01')
                        return tls.recv(100) == b''
                except (ssl.SSLError, ConnectionError):
                    return True
        no_cert = ssl.create_default_context(cafile=pki['controller_ca'])
        no_cert.check_hostname = False
        wrong_ca = ssl.create_default_context(cafile=pki['controller_ca'])
        wrong_ca.check_hostname = False
        wrong_ca.load_cert_chain(pki['ctl_cert'], pki['ctl_key'])
        before = controller.log().count('TLS handshake with')
        assert handshake_fails(no_cert)
        assert handshake_fails(wrong_ca)
        with socket.create_connection(('127.0.0.1', port), timeout=10) as plain:
            plain.sendall(b'\x01\x00\x00\x08\x00\x00\x00\x01')
            plain.settimeout(10)
            try:
                assert plain.recv(100) == b''
            except ConnectionError:
                pass
        poll(lambda: controller.log().count('TLS handshake with') >= before + 3, 10, what='three TLS log lines')
        assert listed() == {colon(d) for d in BRIDGES.values()}
    finally:
        ovs.cleanup()
        controller.stop()
    controller.assert_clean_log()
