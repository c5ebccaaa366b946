"""Peers that break OpenFlow: each is disconnected with one log line, and a healthy switch next to them keeps its
session, its keepalive and its flow-mods throughout."""
import re
import socket
import struct
import time

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.lib.controller import wait_for
from tests.protocol.helpers import colon_dpid, listed, push_ok, wait_listed, wait_unlisted
from tests.protocol.ofpeer import hello_with_version_bitmap

pytestmark = pytest.mark.protocol

HANDSHAKE_TIMEOUT = 2.0
ECHO_INTERVAL = 1.0
HEALTHY = 0x0000000000000c0c


def header(msg_type, length, version=ofp.OFP_VERSION, xid=0x1234):
    return struct.pack('!BBHI', version, msg_type, length, xid)


HELLO = header(ofp.OFPT_HELLO, 8)

# Sent from a bare TCP socket, before any handshake: (name, bytes, reason the controller logs)
BEFORE_HANDSHAKE = [
    ('http request', b'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'first message is not an OpenFlow HELLO'),
    ('zero bytes', b'\x00' * 64, 'shorter than the OpenFlow header'),
    ('features reply before hello', header(ofp.OFPT_FEATURES_REPLY, 32) + b'\x00' * 24,
     'first message is not an OpenFlow HELLO'),
    ('hello of version 0', header(ofp.OFPT_HELLO, 8, version=0), 'first message is not an OpenFlow HELLO'),
    ('length below the header', HELLO + header(ofp.OFPT_ECHO_REQUEST, 4), 'shorter than the OpenFlow header'),
    ('length zero', HELLO + header(ofp.OFPT_BARRIER_REPLY, 0), 'shorter than the OpenFlow header'),
    ('unknown type', HELLO + header(200, 8), 'message type 200'),
    ('controller-only type', HELLO + header(ofp.OFPT_FLOW_MOD, 72) + b'\x00' * 64, 'message type 14'),
    ('version 4 after hello', HELLO + header(ofp.OFPT_ECHO_REQUEST, 8, version=4), 'version 0x04 message'),
    ('version 0x63 after hello', HELLO + header(ofp.OFPT_ECHO_REQUEST, 8, version=0x63), 'version 0x63'),
    ('oversized barrier reply', HELLO + header(ofp.OFPT_BARRIER_REPLY, 0xffff) + b'\xab' * (0xffff - 8),
     'BARRIER_REPLY message of 65535 bytes'),
    ('features reply with half a port', HELLO + header(ofp.OFPT_FEATURES_REPLY, 32 + 24) + b'\x00' * 48,
     'not 32 + 48 per port'),
    ('short flow removed', HELLO + header(ofp.OFPT_FLOW_REMOVED, 40) + b'\x00' * 32, 'FLOW_REMOVED message'),
    ('error without body', HELLO + header(ofp.OFPT_ERROR, 8), 'ERROR message of 8 bytes'),
    ('stats reply of unknown type', HELLO + header(ofp.OFPT_STATS_REPLY, 16) + struct.pack('!HH', 0x7777, 0)
     + b'\x00' * 4, 'malformed message of type 17'),
    ('port status with a bad reason', HELLO + header(ofp.OFPT_PORT_STATUS, 64) + b'\x09' + b'\x00' * 55, None),
]
# Connections that say too little: dropped by the handshake deadline.
SILENT = [
    ('tcp only', b''),
    ('hello, then silence', HELLO),
    ('half a header', HELLO + b'\x01\x0a'),
    ('header promising more', HELLO + header(ofp.OFPT_PACKET_IN, 200) + b'\x00' * 20),
    ('hello without 1.0', hello_with_version_bitmap((0x04, 0x05))),
]


def closed_by_peer(sock, timeout):
    """True when the controller closes (or resets) the connection within `timeout` seconds."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return False


def disconnect_lines(controller):
    return re.findall(r'disconnecting (.*?\d+\.\d+\.\d+\.\d+:\d+): (.*)', controller.log())


@pytest.fixture
def hardened(start_controller):
    return start_controller(['--ofp-handshake-timeout', str(HANDSHAKE_TIMEOUT), '--echo-request-interval',
                             str(ECHO_INTERVAL), '--maximum-unreplied-echo-requests', '2'])


@pytest.fixture
def healthy(hardened, connect_peer):
    peer = connect_peer(hardened, HEALTHY)
    wait_listed(hardened, peer)
    return peer


def assert_healthy_untouched(controller, peer, tag):
    assert peer.connected and not peer.closed_by_controller, peer.dump()
    assert peer.echo(tag.encode()).data == tag.encode()
    mark = peer.mark()
    push_ok(controller, {'switch': colon_dpid(HEALTHY), 'name': tag, 'priority': str(100 + len(peer.flow_mods())),
                         'eth_dst': '52:54:00:00:0c:0c', 'actions': 'output=1'})
    peer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark)
    assert [s['inetAddress'] for s in listed(controller, HEALTHY)] == ['/127.0.0.1:%d' % peer.local_port]


def test_garbage_before_and_during_the_handshake_is_disconnected(hardened, healthy):
    for name, data, reason in BEFORE_HANDSHAKE:
        before = len(disconnect_lines(hardened))
        with socket.create_connection(('127.0.0.1', hardened.ofp_port)) as sock:
            sock.sendall(data)
            assert closed_by_peer(sock, 5.0), '%s: the controller kept the connection' % name
        lines = wait_for(lambda: disconnect_lines(hardened)[before:], 5.0, what='a log line for ' + name)
        assert len(lines) == 1, (name, lines)
        if reason is not None:
            assert reason in lines[0][1], (name, lines)
    assert_healthy_untouched(hardened, healthy, 'after-garbage')


def test_peers_that_stop_mid_handshake_are_dropped_at_the_deadline(hardened, healthy):
    socks = []
    for name, data in SILENT:
        sock = socket.create_connection(('127.0.0.1', hardened.ofp_port))
        sock.sendall(data)
        socks.append((name, sock))
    try:
        for name, sock in socks:
            assert closed_by_peer(sock, HANDSHAKE_TIMEOUT + 10), '%s: still connected' % name
    finally:
        for _, sock in socks:
            sock.close()
    # Ryu answers the HELLO without 1.0 itself (HELLO_FAILED, a log line, its side closed); the others wait for
    # the deadline, one line each.
    wait_for(lambda: len([line for line in disconnect_lines(hardened) if 'no OpenFlow handshake' in line[1]])
             >= len(SILENT) - 1, 5.0, what='one handshake deadline log line for each silent peer')
    assert 'unsupported version 0x5' in hardened.log()
    assert_healthy_untouched(hardened, healthy, 'after-silence')


def test_a_switch_that_breaks_the_protocol_after_the_handshake_is_dropped(hardened, healthy, connect_peer):
    cases = [
        (0x0d01, header(ofp.OFPT_ECHO_REPLY, 8, version=4), 'version 0x04 message'),
        (0x0d02, header(ofp.OFPT_BARRIER_REPLY, 0xffff) + b'\x00' * (0xffff - 8), 'BARRIER_REPLY message'),
        (0x0d03, header(ofp.OFPT_HELLO, 6), 'shorter than the OpenFlow header'),
        (0x0d04, header(99, 8), 'message type 99'),
        (0x0d05, header(ofp.OFPT_STATS_REPLY, 12) + struct.pack('!HH', ofp.OFPST_FLOW, 0) + b'\x00' * 0,
         None),  # a flow stats reply of zero flows is valid: stays connected
    ]
    for dpid, data, reason in cases:
        peer = connect_peer(hardened, dpid)
        wait_listed(hardened, peer)
        peer.send_raw(data)
        if reason is None:
            assert peer.echo(b'fine').data == b'fine'
            assert peer.connected
            continue
        assert peer.wait_closed(5.0), 'kept %s after %s:\n%s' % (colon_dpid(dpid), reason, peer.dump())
        assert peer.closed_by_controller
        wait_unlisted(hardened, dpid)
        line = [line for line in disconnect_lines(hardened) if colon_dpid(dpid) in line[0] or reason in line[1]]
        assert line and reason in line[-1][1], disconnect_lines(hardened)
    assert_healthy_untouched(hardened, healthy, 'after-violations')


def test_a_switch_stalled_mid_message_is_dropped_by_the_keepalive(hardened, healthy, connect_peer):
    """A header promising 200 bytes, 20 sent: Ryu alone waits forever; the keepalive gives up and now really
    closes the socket (Ryu only shut down its own sending side)."""
    peer = connect_peer(hardened, 0x0d10)
    wait_listed(hardened, peer)
    peer.send_raw(header(ofp.OFPT_PACKET_IN, 200) + b'\x00' * 12)
    assert peer.wait_closed(ECHO_INTERVAL * 4 + 10), peer.dump()
    wait_unlisted(hardened, peer.dpid)
    assert_healthy_untouched(hardened, healthy, 'after-stall')


def test_a_silent_peer_on_the_tls_port_is_dropped_at_the_handshake_deadline(start_controller, tmp_path):
    """The TLS handshake counts inside --ofp-handshake-timeout (the session factory wraps the socket): a peer
    that connects and never starts TLS, or stops half way, is dropped with one line like any silent peer."""
    import ssl

    from tests.protocol.test_security_rest import make_certificate

    key, cert = make_certificate(str(tmp_path))
    controller = start_controller(['--ctl-privkey', key, '--ctl-cert', cert, '--ofp-handshake-timeout', '1'])
    with socket.create_connection(('127.0.0.1', controller.ofp_port)) as silent:
        assert closed_by_peer(silent, 6.0), 'a silent TCP peer outlived the handshake deadline'
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(('127.0.0.1', controller.ofp_port)) as raw:
        with client.wrap_socket(raw) as tls:  # TLS done, then not a byte of OpenFlow
            assert closed_by_peer(tls, 6.0), 'a silent TLS peer outlived the handshake deadline'
    lines = wait_for(lambda: [line for line in controller.log().splitlines() if 'no OpenFlow handshake' in line],
                     5.0, what='the deadline log lines')
    assert len(lines) == 2, lines
