"""A real etcd cluster on loopback for the tests: N members (Debian's etcd-server 3.4, /usr/bin/etcd) on free
ports, started with Popen (no systemd; not check_output, which under a monkey-patched eventlet holds the hub for
the child's whole life), healthy in about 1-3 s. Members can be killed (SIGKILL), frozen (SIGSTOP: sockets stay
open, nothing answers), thawed and restarted on their data directory."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

ETCD = os.environ.get('ETCD_BIN', '/usr/bin/etcd')


def etcd_installed():
    return os.access(ETCD, os.X_OK)


def _free_ports(count):
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(('127.0.0.1', 0))
            socks.append(sock)
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


class EtcdCluster:
    def __init__(self, workdir, members=3, token='ofc-test'):
        self.workdir = str(workdir)
        self.size = members
        self.token = '%s-%d-%d' % (token, os.getpid(), int(time.time() * 1000))
        ports = _free_ports(2 * members)
        self.client_ports = ports[:members]
        self.peer_ports = ports[members:]
        self.procs = [None] * members

    @property
    def endpoints(self):
        return [('127.0.0.1', port) for port in self.client_ports]

    @property
    def url(self):
        """The controller's --store value."""
        return 'etcd://' + ','.join('127.0.0.1:%d' % port for port in self.client_ports)

    def _command(self, index, state):
        name = 'm%d' % index
        initial = ','.join('m%d=http://127.0.0.1:%d' % (i, port) for i, port in enumerate(self.peer_ports))
        client = 'http://127.0.0.1:%d' % self.client_ports[index]
        peer = 'http://127.0.0.1:%d' % self.peer_ports[index]
        return [ETCD, '--name', name, '--data-dir', os.path.join(self.workdir, name, 'data'),
                '--listen-client-urls', client, '--advertise-client-urls', client,
                '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
                '--initial-cluster', initial, '--initial-cluster-token', self.token,
                '--initial-cluster-state', state, '--heartbeat-interval', '100', '--election-timeout', '1000',
                '--experimental-watch-progress-notify-interval', '1s',
                '--auto-compaction-mode', 'revision', '--auto-compaction-retention', '100000',
                '--logger', 'zap', '--log-outputs', os.path.join(self.workdir, name, 'etcd.log')]

    def _spawn(self, index, state):
        os.makedirs(os.path.join(self.workdir, 'm%d' % index), exist_ok=True)
        with open(os.path.join(self.workdir, 'm%d' % index, 'stdout.log'), 'ab') as log:
            self.procs[index] = subprocess.Popen(self._command(index, state), stdout=log, stderr=subprocess.STDOUT,
                                                 start_new_session=True)

    def start(self, timeout=30):
        for index in range(self.size):
            self._spawn(index, 'new')
        self.wait_healthy(timeout)
        return self

    def member_healthy(self, index):
        try:
            with urllib.request.urlopen('http://127.0.0.1:%d/health' % self.client_ports[index], timeout=1) as resp:
                return json.loads(resp.read()).get('health') == 'true'
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def wait_healthy(self, timeout=30, members=None):
        """Until every running member (or those listed) reports health (which needs a leader)."""
        indexes = members if members is not None else [i for i, p in enumerate(self.procs) if p is not None]
        deadline = time.monotonic() + timeout
        while not all(self.member_healthy(i) for i in indexes):
            if time.monotonic() > deadline:
                raise AssertionError('etcd members %s not healthy after %g s (logs in %s)' % (indexes, timeout,
                                                                                             self.workdir))
            for i in indexes:
                if self.procs[i] is not None and self.procs[i].poll() is not None:
                    raise AssertionError('etcd member m%d exited with %s (logs in %s)' % (
                        i, self.procs[i].returncode, self.workdir))
            time.sleep(0.05)

    def leader(self):
        """Index of the member that is the leader now, or None."""
        for index, port in enumerate(self.client_ports):
            if self.procs[index] is None:
                continue
            try:
                request = urllib.request.Request('http://127.0.0.1:%d/v3/maintenance/status' % port, b'{}',
                                                 method='POST')
                with urllib.request.urlopen(request, timeout=1) as resp:
                    status = json.loads(resp.read())
            except (OSError, ValueError, urllib.error.URLError):
                continue
            if status.get('leader') and status['leader'] == status['header']['member_id']:
                return index
        return None

    def kill(self, index):
        proc = self.procs[index]
        if proc is not None:
            proc.kill()
            proc.wait()
            self.procs[index] = None

    def freeze(self, index):
        self.procs[index].send_signal(signal.SIGSTOP)

    def thaw(self, index):
        self.procs[index].send_signal(signal.SIGCONT)

    def restart(self, index):
        self.kill(index)
        self._spawn(index, 'existing')

    def stop(self):
        for index, proc in enumerate(self.procs):
            if proc is None:
                continue
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self.procs[index] = None

    def remove(self):
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
