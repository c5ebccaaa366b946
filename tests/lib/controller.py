"""Start the real `ryu-manager controller.apps` as a subprocess, as a user would, and wait until it serves."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

VENV_BIN = os.path.dirname(sys.executable)
RYU_MANAGER = os.path.join(VENV_BIN, 'ryu-manager')
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The controller prints every DeprecationWarning (once per place) into its log; assert_clean_log fails on one
# that points into our code. Python writes a warning as `FILE:LINE: CATEGORY: MESSAGE` (the message may start
# on the next line).
WARNINGS = 'default::DeprecationWarning'
OUR_WARNING = re.compile(r'^(%s/(?:controller|apps|rest|bench|tests)/\S+\.py:\d+: \w*DeprecationWarning:.*)\n(.*)'
                         % re.escape(ROOT), re.MULTILINE)


def deprecations_in_our_code(log_text):
    """The DeprecationWarning lines of a log that point into our code, less eventlet's notice that eventlet as a
    whole is deprecated (it names whichever of our modules imports eventlet first; ryu 4.34 runs on nothing
    else)."""
    return ['%s %s' % (first, after.strip()) for first, after in OUR_WARNING.findall(log_text)
            if not (first.rstrip().endswith('DeprecationWarning:') and after.startswith('Eventlet is deprecated'))]


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout, interval=0.1, what='condition'):
    """Poll `predicate` until it returns a truthy value; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %.1f s waiting for %s' % (timeout, what))
        time.sleep(interval)


def port_open(port, host='127.0.0.1'):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class ControllerProcess:
    """One controller: `ryu-manager controller.apps` on its own OpenFlow and REST ports and its own database."""

    def __init__(self, workdir, ofp_port=None, rest_port=None, db_path=None, extra_args=(), ofp_host='0.0.0.0',
                 apps=(), nofile=None):
        self.workdir = str(workdir)
        self.ofp_port = ofp_port or free_port()
        self.rest_port = rest_port or free_port()
        self.db_path = db_path or os.path.join(self.workdir, 'staticflows.sqlite3')
        self.ofp_host = ofp_host
        self.extra_args = list(extra_args)
        self.apps = list(apps)  # Ryu apps loaded beside ours (positional: before the options)
        self.nofile = nofile    # (soft, hard) descriptor limit to start under (prlimit), or None
        self.log_path = os.path.join(self.workdir, 'controller-%d.log' % self.ofp_port)
        self.proc = None

    @property
    def base_url(self):
        return 'http://127.0.0.1:%d' % self.rest_port

    def command(self):
        limit = ['prlimit', '--nofile=%d:%d' % self.nofile, '--'] if self.nofile else []
        return limit + [RYU_MANAGER, 'controller.apps'] + self.apps + [
            '--ofp-listen-host', self.ofp_host, '--ofp-tcp-listen-port', str(self.ofp_port),
            '--wsapi-host', '127.0.0.1', '--wsapi-port', str(self.rest_port),
            '--staticflow-db', self.db_path] + self.extra_args

    def start(self, timeout=20):
        log = open(self.log_path, 'ab')
        env = dict(os.environ)
        env['PYTHONWARNINGS'] = ','.join(filter(None, [env.get('PYTHONWARNINGS'), WARNINGS]))  # the last wins
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                     start_new_session=True, env=env)
        log.close()
        wait_for(lambda: self._alive() and port_open(self.rest_port) and port_open(self.ofp_port), timeout,
                 what='the controller to listen on %d and %d (log: %s)' % (self.ofp_port, self.rest_port,
                                                                           self.log_path))
        return self

    def _alive(self):
        if self.proc.poll() is not None:
            raise AssertionError('controller exited with %s:\n%s' % (self.proc.returncode, self.log()))
        return True

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout)

    def kill(self):
        self.stop(signal.SIGKILL)

    def log(self):
        with open(self.log_path, errors='replace') as handle:
            return handle.read()

    def assert_clean_log(self):
        text = self.log()
        assert 'Traceback' not in text, 'controller logged a traceback:\n' + text
        assert not deprecations_in_our_code(text), 'our code caused a DeprecationWarning:\n' + '\n'.join(
            deprecations_in_our_code(text))

    # --- REST helpers ---------------------------------------------------------------------------------

    def request(self, method, path, body=None, timeout=10, headers=None):
        """-> (status, body text, headers). `body` is bytes, str, or None."""
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read().decode(), dict(resp.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)

    def post(self, path, body):
        return self.request('POST', path, body)

    def get(self, path):
        return self.request('GET', path)
