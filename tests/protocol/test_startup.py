"""`ryu-manager` as a user types it: the project's script, on Python 3.11, 3.12 or 3.13 with PyPI's ryu 4.34."""
import os
import subprocess
import sys

import pytest

from tests.lib.controller import RYU_MANAGER, ControllerProcess

pytestmark = pytest.mark.protocol


class AsTyped(ControllerProcess):
    """Only the flags a user needs to pick free ports: no host flags, no --staticflow-db (default var/...)."""

    def command(self):
        return [RYU_MANAGER, 'controller.apps', '--ofp-tcp-listen-port', str(self.ofp_port),
                '--wsapi-port', str(self.rest_port)]


def test_version():
    result = subprocess.run([RYU_MANAGER, '--version'], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert 'ryu-manager 4.34' in result.stdout + result.stderr
    assert 'Traceback' not in result.stdout + result.stderr


def test_ryu_manager_in_the_venv_is_the_projects():
    with open(RYU_MANAGER) as script:
        text = script.read()
    # pip writes either a direct import (wheels) or an entry-point lookup by distribution name (develop installs)
    assert 'apps.manager' in text or "'floodlight-ryu', 'console_scripts', 'ryu-manager'" in text, (
        'ryu\'s own ryu-manager replaced ours (pip install -e . restores it):\n' + text)


def test_starts_and_serves_rest_as_typed(tmp_path):
    # The condition the wrapper exists for: this eventlet has no ALREADY_HANDLED, which ryu.app.wsgi imports.
    code = 'import eventlet.wsgi; print(hasattr(eventlet.wsgi, "ALREADY_HANDLED"))'
    probe = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=30)
    assert probe.stdout.strip() == 'False', 'eventlet has ALREADY_HANDLED again: this test no longer exercises the fix'

    controller = AsTyped(tmp_path)
    try:
        controller.start()
        status, text, headers = controller.get('/wm/core/controller/switches/json')
        assert (status, text) == (200, '[]')
        assert headers['Content-Type'].startswith('application/json')
    finally:
        controller.stop()
    log = controller.log()
    for line in ('loading app controller.apps', 'loading app apps.staticflow',
                 'instantiating app apps.staticflow of StaticFlowApp', 'of SwitchesApp',
                 'static flow entries restored from var/staticflows.sqlite3', 'wsgi starting up on'):
        assert line in log, 'missing %r in the log:\n%s' % (line, log)
    assert 'Traceback' not in log, log
    assert os.path.exists(tmp_path / 'var' / 'staticflows.sqlite3')


def test_ctrl_c_stops_the_controller(tmp_path):
    """Ctrl-C (SIGINT) ends ryu-manager: it reaches ryu's main loop, and no app's background loop keeps it
    waiting."""
    import signal

    from tests.lib.controller import free_port, port_open, wait_for

    import socket

    rest_port, ofp_port = free_port(), free_port()
    proc = subprocess.Popen([RYU_MANAGER, 'controller.apps', '--ofp-tcp-listen-port', str(ofp_port),
                             '--wsapi-host', '127.0.0.1', '--wsapi-port', str(rest_port)], cwd=str(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            # as in a terminal, whatever this test runner does with SIGINT
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        wait_for(lambda: port_open(rest_port), 20, what='the controller to serve REST')
        # Switches arriving as Ctrl-C lands: the signal must still reach ryu's main loop, not a session's thread.
        peers = [socket.create_connection(('127.0.0.1', ofp_port), 2) for _ in range(5)]
        proc.send_signal(signal.SIGINT)
        for peer in peers:
            peer.close()
        output, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output.decode(errors='replace')[-2000:]
    assert b'Traceback' not in output


def test_a_taken_rest_port_stops_the_controller_with_one_clear_line(tmp_path):
    """Another controller already serves REST on the port: ours says so and exits 2. (eventlet.listen would set
    SO_REUSEPORT and share the port's clients between the two.)"""
    import socket

    from tests.lib.controller import free_port

    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        rest_port = taken.getsockname()[1]
        result = subprocess.run([RYU_MANAGER, 'controller.apps', '--ofp-tcp-listen-port', str(free_port()),
                                 '--wsapi-host', '127.0.0.1', '--wsapi-port', str(rest_port), '--ovsdb', 'none'],
                                cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-2000:]
    assert 'cannot serve REST on 127.0.0.1:%d: Address already in use; not starting' % rest_port in output
    assert 'Traceback' not in output
