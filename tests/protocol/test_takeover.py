"""Nobody takes over a switch: a second connection claiming the DPID of a live session is refused while the live
one answers an echo, and replaces it when it does not (a rebooted switch); only the session that holds a switch
deletes stored entries; --ofp-allow keeps other addresses out; over TLS a certificate speaks only for the DPIDs
bound to it in --ofp-switch-certs (docs/reliability.md, "Who may speak for a switch")."""
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import time

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp
from ryu.ofproto import ofproto_v1_0_parser as parser

from tests.lib.controller import ControllerProcess, wait_for
from tests.protocol.helpers import colon_dpid, list_entries, listed, push_ok, wait_listed, wait_synced
from tests.protocol.ofpeer import DATAPATH, HANDSHAKE_TYPES, OFPeer
from tests.protocol.test_security_rest import make_certificate

pytestmark = pytest.mark.protocol

DPID = 0x00000000000013a1
REFUSED_URL = '/wm/core/controller/connections/refused/json'


def entry(name, priority, **fields):
    return dict({'switch': colon_dpid(DPID), 'name': name, 'priority': str(priority), 'in_port': '1',
                 'actions': 'output=2'}, **{k: str(v) for k, v in fields.items()})


def refusals(controller):
    status, text, _ = controller.get(REFUSED_URL)
    assert status == 200, (status, text)
    return json.loads(text)


def log_lines(controller, pattern):
    return [line for line in controller.log().splitlines() if re.search(pattern, line)]


def beyond_handshake(peer):
    return [m for m in peer.received() if m.msg_type not in HANDSHAKE_TYPES]


def address(peer):
    return '%s:%d' % peer.local_address


def test_a_second_switch_claiming_a_live_dpid_is_refused(controller, connect_peer):
    push_ok(controller, entry('held', 100))
    first = connect_peer(controller, DPID)
    wait_listed(controller, first)

    second = connect_peer(controller, DPID, wait=None)
    second.wait_handshake()
    assert second.wait_closed(5.0) and second.closed_by_controller, second.dump()
    print('the second switch was refused %.3f s after its FEATURES_REPLY'
          % (second.closed_at - second.features_replied_at))
    # nothing but the handshake reached the refused one: no barrier, no flow table read, no static entry
    assert beyond_handshake(second) == [], second.dump()

    assert first.connected and not first.closed_by_controller, first.dump()
    assert first.echo(b'still-mine').data == b'still-mine'
    mark = first.mark()
    push_ok(controller, entry('after', 101))
    assert first.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark).priority == 101
    assert [s['inetAddress'] for s in listed(controller, DPID)] == ['/%s' % address(first)]

    seen = refusals(controller)
    assert seen['refused'] == {'takeover': 1, 'address': 0, 'certificate': 0}, seen
    assert [(r['reason'], r['dpid'], r['remote'], r['held_by']) for r in seen['recent']] == [
        ('takeover', colon_dpid(DPID), address(second), address(first))]
    lines = log_lines(controller, 'refused a second session')
    assert len(lines) == 1, lines
    assert colon_dpid(DPID) in lines[0] and address(second) in lines[0] and address(first) in lines[0], lines


def test_a_switch_that_stopped_answering_is_replaced_within_a_second(controller, connect_peer):
    push_ok(controller, entry('kept', 100))
    dead = connect_peer(controller, DPID, answer_echo=False)  # its session is open, nobody answers on it
    wait_listed(controller, dead)

    back = connect_peer(controller, DPID, wait=None)
    first_after_handshake = back.wait_ready(5.0)
    waited = first_after_handshake.received_at - back.features_replied_at
    assert 0.4 <= waited <= 1.2, 'the rebooted switch got in after %.2f s (probe deadline 0.5 s)' % waited
    print('a switch whose old session stopped answering was back in %.3f s after its FEATURES_REPLY' % waited)
    adds = [fm for fm in wait_synced(back) if fm.msg_type == ofp.OFPT_FLOW_MOD]
    assert [(fm.command, fm.priority) for fm in adds] == [(ofp.OFPFC_ADD, 100)], back.dump()
    assert dead.wait_closed(5.0) and dead.closed_by_controller, dead.dump()
    wait_listed(controller, back)
    assert refusals(controller)['refused']['takeover'] == 0
    lines = log_lines(controller, 'did not answer an echo within')
    assert len(lines) == 1 and address(dead) in lines[0] and address(back) in lines[0], lines


def test_a_flow_removed_from_a_session_that_does_not_hold_the_switch_deletes_nothing(start_controller,
                                                                                       connect_peer):
    controller = start_controller(['--takeover-probe-timeout', '2'])  # a wide window for the held newcomer
    push_ok(controller, entry('expiring', 100, idle_timeout=30))
    holder = connect_peer(controller, DPID)
    (flow,) = holder.flow_mods(command=ofp.OFPFC_ADD)
    assert flow.flags == ofp.OFPFF_SEND_FLOW_REM

    forger = connect_peer(controller, DPID, wait=None)
    forger.wait_handshake()
    forger.send_flow_removed(flow, reason=ofp.OFPRR_IDLE_TIMEOUT, duration_sec=30)  # while it is held
    assert forger.wait_closed(5.0) and forger.closed_by_controller, forger.dump()
    time.sleep(0.3)
    assert list(list_entries(controller)[colon_dpid(DPID)][0]) == ['expiring']
    assert not log_lines(controller, 'expired; entry removed')

    # the same notice from the session that holds the switch does delete it
    holder.send_flow_removed(flow, reason=ofp.OFPRR_IDLE_TIMEOUT, duration_sec=30)
    wait_for(lambda: not list_entries(controller).get(colon_dpid(DPID)), 5.0, what='the entry to be removed')


def test_ofp_allow_refuses_addresses_outside_its_ranges(tmp_path, connect_peer):
    """Listening on :: (dual stack): 127.0.0.1 is allowed, ::1 is not."""
    controller = ControllerProcess(tmp_path, ofp_host='::', extra_args=['--ofp-allow', '127.0.0.0/8'])
    try:
        controller.start()
        push_ok(controller, entry('v4', 100))
        for _ in range(21):  # closed at once without a byte, each time; a peer that hammers is logged once
            with socket.create_connection(('::1', controller.ofp_port), timeout=5) as sock:
                sock.settimeout(5)
                assert sock.recv(100) == b'', 'not even a HELLO goes to a refused address'
        allowed = connect_peer(controller, DPID)  # 127.0.0.1
        assert [fm.priority for fm in allowed.flow_mods(command=ofp.OFPFC_ADD)] == [100]

        seen = refusals(controller)
        assert seen['refused'] == {'takeover': 0, 'address': 21, 'certificate': 0}, seen
        assert seen['recent'][0]['remote'].startswith('::1:')
        lines = log_lines(controller, 'refused an OpenFlow connection from')
        assert len(lines) == 1 and '::1' in lines[0] and 'not in --ofp-allow' in lines[0], lines
    finally:
        controller.stop()
    controller.assert_clean_log()


def test_ofp_allow_that_is_no_address_range_stops_the_controller(tmp_path):
    controller = ControllerProcess(tmp_path, extra_args=['--ofp-allow', '10.0.0.0/33'])
    with pytest.raises(AssertionError, match='controller exited with 2'):
        controller.start()
    assert "--ofp-allow: '10.0.0.0/33' is not an address range" in controller.log()
    assert 'Traceback' not in controller.log()


# --- TLS: certificates bound to DPIDs -----------------------------------------------------------------------

DPID_A, DPID_B, DPID_UNBOUND = 0x0000000000007a01, 0x0000000000007b02, 0x0000000000007c03


def openssl(*args, cwd):
    return subprocess.run(['openssl'] + list(args), cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def switch_pki(tmp_path):
    """A CA, switch certificates A (CN switch-a) and B (CN switch-b) it signed, and the controller's own."""
    directory = str(tmp_path)
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout',
            'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test switch CA', cwd=directory)
    for name in ('a', 'b'):
        openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout',
                name + '.key', '-out', name + '.csr', '-subj', '/O=Open vSwitch/CN=switch-' + name, cwd=directory)
        openssl('x509', '-req', '-in', name + '.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
                '-out', name + '.crt', '-days', '2', cwd=directory)
    ctl_key, ctl_cert = make_certificate(directory)
    return {'dir': directory, 'ca': os.path.join(directory, 'ca.crt'), 'ctl_key': ctl_key, 'ctl_cert': ctl_cert}


class SharedTLS:
    """A TLS socket the emulated switch's reader thread and its senders can share: OpenSSL lets one thread at a
    time use an SSL object, so each recv and sendall holds a lock, and recv gives it up every 50 ms."""

    def __init__(self, tls):
        self.tls = tls
        self.lock = threading.Lock()

    def recv(self, size):
        while True:
            with self.lock:
                self.tls.settimeout(0.05)
                try:
                    return self.tls.recv(size)
                except socket.timeout:
                    pass

    def sendall(self, data):
        with self.lock:
            self.tls.settimeout(None)
            self.tls.sendall(data)

    def __getattr__(self, name):
        return getattr(self.tls, name)


def tls_peer(controller, dpid, pki, name):
    """An emulated switch speaking OpenFlow over TLS with certificate `name` (a or b)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.load_cert_chain(os.path.join(pki['dir'], name + '.crt'), os.path.join(pki['dir'], name + '.key'))
    peer = OFPeer(controller.ofp_port, dpid, name='tls-%s-%x' % (name, dpid))
    raw = socket.create_connection(('127.0.0.1', controller.ofp_port), timeout=5)
    return peer._start(SharedTLS(context.wrap_socket(raw)))


def test_a_switch_certificate_speaks_only_for_the_dpid_bound_to_it(start_controller, switch_pki):
    # the fingerprint line as `openssl x509 -noout -fingerprint -sha256` prints it (docs/security.md)
    printed = openssl('x509', '-noout', '-fingerprint', '-sha256', '-in', 'a.crt', cwd=switch_pki['dir']).strip()
    bindings = os.path.join(switch_pki['dir'], 'switch-certs')
    with open(bindings, 'w') as handle:
        handle.write('# DPID  certificate\n%s  %s\n%s  CN=switch-b\n' % (colon_dpid(DPID_A), printed,
                                                                      colon_dpid(DPID_B)))
    controller = start_controller(['--ctl-privkey', switch_pki['ctl_key'], '--ctl-cert', switch_pki['ctl_cert'],
                                   '--ca-certs', switch_pki['ca'], '--ofp-switch-certs', bindings])
    push_ok(controller, {'switch': colon_dpid(DPID_B), 'name': 'on-b', 'priority': '300', 'in_port': '1',
                         'actions': 'output=2'})

    impostor = tls_peer(controller, DPID_B, switch_pki, 'a')  # A's valid certificate, B's DPID
    impostor.wait_handshake()
    assert impostor.wait_closed(5.0) and impostor.closed_by_controller, impostor.dump()
    assert beyond_handshake(impostor) == [], impostor.dump()
    unbound = tls_peer(controller, DPID_UNBOUND, switch_pki, 'a')
    assert unbound.wait_closed(5.0) and unbound.closed_by_controller, unbound.dump()

    with tls_peer(controller, DPID_A, switch_pki, 'a') as switch_a, \
            tls_peer(controller, DPID_B, switch_pki, 'b') as switch_b:
        switch_a.wait_ready()
        wait_synced(switch_b)
        assert [fm.priority for fm in switch_b.flow_mods(command=ofp.OFPFC_ADD)] == [300]
        assert {s['switchDPID'] for s in json.loads(controller.get('/wm/core/controller/switches/json')[1])} == {
            colon_dpid(DPID_A), colon_dpid(DPID_B)}

    seen = refusals(controller)
    assert seen['refused'] == {'takeover': 0, 'address': 0, 'certificate': 2}, seen
    assert [r['dpid'] for r in seen['recent']] == [colon_dpid(DPID_B), colon_dpid(DPID_UNBOUND)]
    lines = log_lines(controller, 'refused the session from')
    assert len(lines) == 2, lines
    assert colon_dpid(DPID_B) in lines[0] and 'CN=switch-a' in lines[0] and 'is not the one bound' in lines[0]
    assert 'no certificate is bound to DPID %s' % colon_dpid(DPID_UNBOUND) in lines[1]
    impostor.close()
    unbound.close()


def test_switch_certs_without_tls_stops_the_controller(tmp_path):
    bindings = tmp_path / 'switch-certs'
    bindings.write_text('7a01 CN=switch-a\n')
    controller = ControllerProcess(tmp_path, extra_args=['--ofp-switch-certs', str(bindings)])
    with pytest.raises(AssertionError, match='controller exited with 2'):
        controller.start()
    assert '--ofp-switch-certs binds certificates of switches: it needs OpenFlow over TLS' in controller.log()


def test_an_error_or_barrier_reply_from_a_held_session_changes_no_entry_status(start_controller, connect_peer):
    """Entry status is the holding session's word: a held newcomer answering the xid of the holder's flow-mod
    (an error) or barrier (a reply) neither marks the entry failed nor installed."""
    controller = start_controller(['--takeover-probe-timeout', '2'])
    holder = connect_peer(controller, DPID, answer_barrier=False)
    mark = holder.mark()
    push_ok(controller, entry('guarded', 100))
    flow = holder.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark)
    barrier = holder.wait_for_message(ofp.OFPT_BARRIER_REQUEST, since=mark)

    def state():
        status, text, _ = controller.get('/wm/staticflowpusher/status/%s/json' % colon_dpid(DPID))
        assert status == 200, (status, text)
        return json.loads(text)[colon_dpid(DPID)]['guarded']['state']
    assert state() == 'sent'

    forger = connect_peer(controller, DPID, wait=None)
    forger.wait_handshake()
    forger.send(parser.OFPErrorMsg(DATAPATH, ofp.OFPET_BAD_ACTION, ofp.OFPBAC_BAD_OUT_PORT, bytes(flow.buf[:64])),
                xid=flow.xid)
    forger.send(parser.OFPBarrierReply(DATAPATH), xid=barrier.xid)
    assert forger.wait_closed(5.0) and forger.closed_by_controller, forger.dump()
    time.sleep(0.3)
    assert state() == 'sent'
    assert not log_lines(controller, 'rejected')

    holder.send(parser.OFPBarrierReply(DATAPATH), xid=barrier.xid)  # the holder's own answer does count
    wait_for(lambda: state() == 'installed', 5.0, what='the entry to be installed')
