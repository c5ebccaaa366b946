"""The listeners never die (issue 13): more idle OpenFlow connections, or slow REST clients, than the controller
has descriptors leave it running and its ports listening, with health saying so while it lasts; a real switch
connects afterwards. --ofp-max-connections closes connections past it; a taken OpenFlow port stops the start;
the soft descriptor limit is raised to the hard one; an unreachable configured OVSDB is a health fault."""
import http.client
import json
import socket
import subprocess
import threading
import time

import pytest

from tests.lib.controller import RYU_MANAGER, free_port, wait_for
from tests.protocol.ofpeer import OFPeer, PeerClosed

pytestmark = pytest.mark.protocol

HEALTH = '/wm/core/health/json'
DESCRIPTORS = 256     # the controller's limit, soft and hard (prlimit)
CONNECTIONS = 400     # idle connections tried: more than it has descriptors for
DPID = 0x00000000000013a1


class Kept:
    """A REST connection opened while descriptors are left, kept alive to ask for health when none are."""

    def __init__(self, port):
        self.connection = http.client.HTTPConnection('127.0.0.1', port, timeout=10)

    def health(self):
        self.connection.request('GET', HEALTH)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read())

    def close(self):
        self.connection.close()


def open_many(port, count, first_bytes=b''):
    """Up to `count` connections to `port` (those the kernel completes within a short timeout: past the
    listener's backlog they are not) -> the open sockets."""
    held = []
    for _ in range(count):
        try:
            sock = socket.create_connection(('127.0.0.1', port), timeout=0.2)
        except OSError:
            continue
        if first_bytes:
            try:
                sock.sendall(first_bytes)
            except OSError:
                pass
        held.append(sock)
    return held


def close_all(held):
    for sock in held:
        sock.close()
    held.clear()


def components(health):
    return [reason['component'] for reason in health.get('reasons', [])]


@pytest.fixture
def limited(start_controller):
    """limited(extra_args) -> a controller started under a descriptor limit of DESCRIPTORS, without OVSDB."""
    return lambda extra_args=(): start_controller(['--ovsdb', 'none'] + list(extra_args),
                                                  nofile=(DESCRIPTORS, DESCRIPTORS))


def assert_a_switch_connects(controller):
    peer = OFPeer(controller.ofp_port, DPID)
    try:
        peer.connect()
        peer.wait_ready()  # HELLO, FEATURES and the controller's first message after them
        assert peer.echo(b'after').data == b'after'
    finally:
        peer.close()


def assert_one_line_per_episode(log, listener):
    """Not one per retry (ten a second): one per episode, and the connections closing at the end may take the
    descriptors back to the limit once or twice more as the backlog is accepted."""
    failed = log.count(listener + ' accept failed: [Errno 24]')
    assert 1 <= failed <= 3 and log.count(listener + ' accepts connections again') == failed, log[-3000:]


def test_idle_openflow_connections_past_the_descriptor_limit(limited):
    controller = limited(['--ofp-handshake-timeout', '0'])  # idle connections are held until they close
    kept = Kept(controller.rest_port)
    held = []
    listener = 'OpenFlow listener 0.0.0.0:%d' % controller.ofp_port
    try:
        assert kept.health() == (200, {'healthy': True})
        held = open_many(controller.ofp_port, CONNECTIONS)
        assert len(held) > DESCRIPTORS
        wait_for(lambda: listener + ' accept failed: [Errno 24]' in controller.log(), 10, what='EMFILE in the log')
        status, health = wait_for(lambda: (lambda s, h: (s, h) if s == 503 else None)(*kept.health()), 5,
                                  what='health to report the listener')
        assert listener in components(health), health
        assert controller.proc.poll() is None
        close_all(held)
        wait_for(lambda: kept.health() == (200, {'healthy': True}), 15, what='health to recover')
        assert_a_switch_connects(controller)
        assert_one_line_per_episode(controller.log(), listener)
    finally:
        close_all(held)
        kept.close()


def test_slow_rest_clients_past_the_descriptor_limit(limited):
    controller = limited(['--rest-request-timeout', '60'])  # a head that never ends holds its connection
    kept = Kept(controller.rest_port)
    held = []
    listener = 'REST listener 127.0.0.1:%d' % controller.rest_port
    try:
        assert kept.health() == (200, {'healthy': True})
        held = open_many(controller.rest_port, CONNECTIONS, first_bytes=b'GET /wm/core/controller/switches/json')
        assert len(held) > DESCRIPTORS
        wait_for(lambda: listener + ' accept failed: [Errno 24]' in controller.log(), 10, what='EMFILE in the log')
        status, health = wait_for(lambda: (lambda s, h: (s, h) if s == 503 else None)(*kept.health()), 5,
                                  what='health to report the listener')
        assert listener in components(health), health
        close_all(held)
        wait_for(lambda: kept.health() == (200, {'healthy': True}), 15, what='health to recover')
        assert controller.get(HEALTH)[0] == 200  # a new connection is served
        assert_a_switch_connects(controller)
        assert_one_line_per_episode(controller.log(), listener)
    finally:
        close_all(held)
        kept.close()


def hello_received(sock):
    """The controller's HELLO (8 bytes, type 0) -> True; the connection closed -> False."""
    data = b''
    while len(data) < 8:
        chunk = sock.recv(8 - len(data))
        if not chunk:
            return False
        data += chunk
    return data[1] == 0


def refused(sock):
    """The connection is closed by the controller without a byte."""
    try:
        return sock.recv(8) == b''
    except ConnectionResetError:
        return True


def test_connections_past_ofp_max_connections_are_closed_at_once(start_controller):
    controller = start_controller(['--ofp-max-connections', '3', '--ofp-handshake-timeout', '0', '--ovsdb', 'none'])
    listener = 'OpenFlow listener 0.0.0.0:%d' % controller.ofp_port
    time.sleep(0.5)  # the start-up check's connection counts until its session has seen it close
    idle = [socket.create_connection(('127.0.0.1', controller.ofp_port), timeout=5) for _ in range(3)]
    try:
        assert all(hello_received(sock) for sock in idle)  # each one is served: a session sent its HELLO
        for _ in range(5):
            with socket.create_connection(('127.0.0.1', controller.ofp_port), timeout=5) as extra:
                assert refused(extra)
        assert controller.log().count(listener + ' at 3 connections (--ofp-max-connections): new ones are '
                                      'closed at once') == 1  # rate-limited: one line for 5 refusals
        idle.pop().close()  # a slot frees up (once its session has seen the close): a real switch gets in

        def switch_gets_in():
            try:
                assert_a_switch_connects(controller)
                return True
            except (PeerClosed, OSError):  # closed at once: the slot is not free yet
                return False
        wait_for(switch_gets_in, 5, what='a switch to be served again after a connection closed')
        assert controller.get(HEALTH)[0] == 200  # the cap is a limit, not a fault
    finally:
        close_all(idle)


def test_a_taken_openflow_port_stops_the_controller_with_one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        rest_port = free_port()
        result = subprocess.run([RYU_MANAGER, 'controller.apps', '--ofp-listen-host', '127.0.0.1',
                                 '--ofp-tcp-listen-port', str(port), '--wsapi-host', '127.0.0.1',
                                 '--wsapi-port', str(rest_port), '--ovsdb', 'none'],
                                cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-2000:]
    assert 'cannot listen for OpenFlow on 127.0.0.1:%d: Address already in use; not starting' % port in output
    assert 'Traceback' not in output


def test_the_soft_descriptor_limit_is_raised_to_the_hard_one(start_controller):
    controller = start_controller(['--ovsdb', 'none'], nofile=(256, 4096))
    with open('/proc/%d/limits' % controller.proc.pid) as limits:
        line = next(line for line in limits if line.startswith('Max open files'))
    assert line.split()[3:5] == ['4096', '4096'], line
    assert 'file descriptor limit raised from 256 to 4096 (the hard limit)' in controller.log()


class FakeOvsdb:
    """An OVSDB server that answers every transact with no bridges, on a port of its own."""

    def __init__(self, port):
        self.listener = socket.create_server(('127.0.0.1', port))
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            with sock:
                request = json.loads(sock.recv(65536))
                sock.sendall(json.dumps({'id': request['id'], 'result': [{'rows': []}, {'rows': []}],
                                         'error': None}).encode())

    def close(self):
        self.listener.close()


def test_an_unreachable_ovsdb_makes_health_503_with_the_reason(start_controller):
    port = free_port()
    target = 'tcp:127.0.0.1:%d' % port
    controller = start_controller(['--ovsdb', target, '--ovsdb-poll-interval', '0.2'])

    def unhealthy():
        status, text, _ = controller.get(HEALTH)
        return json.loads(text) if status == 503 else None
    health = wait_for(unhealthy, 5, what='health to report OVSDB')
    assert health['healthy'] is False
    [reason] = [r for r in health['reasons'] if r['component'] == 'OVSDB']
    assert reason['reason'].startswith('unreachable at %s: ' % target), reason
    ovsdb = FakeOvsdb(port)
    try:
        wait_for(lambda: controller.get(HEALTH)[0] == 200, 5, what='health to recover once OVSDB answers')
    finally:
        ovsdb.close()


@pytest.fixture
def quick_checks(monkeypatch):
    from rest import listener as listeners

    monkeypatch.setattr(listeners, 'LISTENING_CHECK', 0.1)


def serve_in_process(board):
    import eventlet

    from rest.listener import AcceptLoop, bind

    loop = AcceptLoop(bind('127.0.0.1', 0), 'test listener', lambda sock, address: sock.close(), 10, '--cap',
                      health=board)
    thread = eventlet.spawn(loop.serve_forever)
    eventlet.sleep(0.3)
    assert board.healthy()  # idle checks of a listening socket change nothing
    return loop, thread


def assert_reported_down(board, thread):
    import eventlet

    with eventlet.Timeout(2):
        thread.wait()
    assert [(r['component'], r['reason']) for r in board.reasons()] == [
        ('test listener', 'not listening: its socket was closed')]


def test_a_listener_whose_socket_closes_is_reported_down_in_process(quick_checks, caplog):
    from controller.health import HealthBoard

    board = HealthBoard()
    loop, thread = serve_in_process(board)
    loop.close()
    assert_reported_down(board, thread)
    assert 'test listener closed: no longer accepting' in caplog.text


def test_a_listener_whose_descriptor_is_taken_under_it_is_reported_down_in_process(quick_checks):
    """A stale descriptor number closed twice elsewhere and given to another socket: no accept ever wakes up
    again; the periodic check finds out."""
    import os

    from controller.health import HealthBoard

    board = HealthBoard()
    loop, thread = serve_in_process(board)
    with socket.socket() as other:
        os.dup2(other.fileno(), loop.listener.fileno())
        assert_reported_down(board, thread)
    loop.close()


def test_ryu_diverted_listener_leaves_no_directory_behind(start_controller):
    """Ryu's own listener is moved to a Unix socket in a private directory (apps/session.py install), removed
    once the socket is bound; one left by a controller stopped before that is removed by the next start."""
    import glob
    import os
    import tempfile

    def left(pid):
        return glob.glob(os.path.join(tempfile.gettempdir(), 'ryu-ofp-unused-%d-*' % pid))
    first = start_controller(['--ovsdb', 'none'])
    first.stop()  # at once: maybe before its directory was removed
    second = start_controller(['--ovsdb', 'none'])
    wait_for(lambda: not left(first.proc.pid) and not left(second.proc.pid), 5,
             what='the directories of both controllers to be gone')
