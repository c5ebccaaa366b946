"""A private Open vSwitch (ovsdb-server + ovs-vswitchd) that tests may restart, kill and reconfigure at will.

The system OVS is shared with every other test run on the machine, so nothing here touches it: the database,
pid files, unixctl and `<bridge>.mgmt` sockets live under one temporary directory (OVS_RUNDIR, OVS_DBDIR,
OVS_LOGDIR), ovs-vswitchd runs with --disable-system (never enumerates or deletes kernel datapaths) and
--enable-dummy, and bridges use datapath_type=dummy: OVS's own test datapath, the userspace dpif-netdev with
dummy ports instead of taps, so two vswitchds on one host never fight over `ovs-netdev` or tap names and no
network namespace is needed. Everything above the datapath (OpenFlow, controller connections, fail modes, the
flow table, SSL) is the real ovs-vswitchd. Packets are injected with `ovs-appctl netdev-dummy/receive`.

`restart()` is what `ovs-ctl restart` does: stop ovs-vswitchd and ovsdb-server, start both again on the same
database; bridges, controllers and fail modes come back from the database, flows do not.
"""
import os
import shutil
import signal
import subprocess
import time

SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema'


class PrivateOVS:
    def __init__(self, workdir):
        self.dir = os.path.join(str(workdir), 'ovs')
        os.makedirs(self.dir, exist_ok=True)
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_DBDIR=self.dir, OVS_LOGDIR=self.dir,
                        OVS_SYSCONFDIR=self.dir, OVS_PKGDATADIR='/usr/share/openvswitch')
        self.db = os.path.join(self.dir, 'conf.db')
        self.sock = os.path.join(self.dir, 'db.sock')
        self.started = False

    # --- processes ----------------------------------------------------------------------------------------

    def start(self):
        if not os.path.exists(self.db):
            self._run(['ovsdb-tool', 'create', self.db, SCHEMA])
        self._run(['ovsdb-server', self.db, '--remote=punix:' + self.sock,
                   '--remote=db:Open_vSwitch,Open_vSwitch,manager_options',
                   '--private-key=db:Open_vSwitch,SSL,private_key', '--certificate=db:Open_vSwitch,SSL,certificate',
                   '--bootstrap-ca-cert=db:Open_vSwitch,SSL,ca_cert',
                   '--pidfile=' + self._pidfile('ovsdb-server'), '--unixctl=' + self.ctl('ovsdb-server'),
                   '--log-file=' + os.path.join(self.dir, 'ovsdb-server.log'), '--detach'])
        self.vsctl('--no-wait', 'init')
        self._run(['ovs-vswitchd', 'unix:' + self.sock, '--disable-system', '--enable-dummy', '--no-chdir',
                   '--pidfile=' + self._pidfile('ovs-vswitchd'), '--unixctl=' + self.ctl('ovs-vswitchd'),
                   '--log-file=' + os.path.join(self.dir, 'ovs-vswitchd.log'), '--detach'])
        self.started = True
        return self

    def stop(self):
        """Both daemons gone (exit --cleanup for vswitchd, as a clean shutdown; SIGKILL if that hangs)."""
        for daemon in ('ovs-vswitchd', 'ovsdb-server'):
            pid = self.pid(daemon)
            if pid is None:
                continue
            try:
                subprocess.run(['ovs-appctl', '-t', self.ctl(daemon), 'exit'] + (
                    ['--cleanup'] if daemon == 'ovs-vswitchd' else []), env=self.env, timeout=10,
                    capture_output=True)
            except subprocess.TimeoutExpired:
                pass
            self._wait_gone(pid)
        self.started = False

    def kill_vswitchd(self):
        """SIGKILL ovs-vswitchd, as a crash."""
        pid = self.pid('ovs-vswitchd')
        os.kill(pid, signal.SIGKILL)
        self._wait_gone(pid)

    def restart(self):
        self.stop()
        return self.start()

    def pid(self, daemon):
        try:
            with open(self._pidfile(daemon)) as handle:
                pid = int(handle.read().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except OSError:
            return None
        return pid

    def _wait_gone(self, pid, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except OSError:
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- commands -----------------------------------------------------------------------------------------

    def ctl(self, daemon):
        return os.path.join(self.dir, daemon + '.ctl')

    def _pidfile(self, daemon):
        return os.path.join(self.dir, daemon + '.pid')

    def _run(self, argv, timeout=30):
        result = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError('%s failed (%d): %s%s' % (' '.join(argv), result.returncode, result.stdout,
                                                          result.stderr))
        return result.stdout

    def vsctl(self, *args):
        return self._run(['ovs-vsctl', '--db=unix:' + self.sock, '--timeout=10'] + list(args))

    def ofctl(self, *args):
        """ovs-ofctl on this instance: bridge names resolve to its own <bridge>.mgmt sockets (OVS_RUNDIR)."""
        return self._run(['ovs-ofctl'] + list(args))

    def appctl(self, *args):
        return self._run(['ovs-appctl', '-t', self.ctl('ovs-vswitchd')] + list(args))

    def add_bridge(self, name, dpid, controller, ports=(1, 2, 3), fail_mode='secure'):
        """A dummy-datapath OpenFlow 1.0 bridge with ports p1.. at the given OpenFlow port numbers."""
        args = ['--', 'add-br', name, '--', 'set', 'bridge', name, 'datapath_type=dummy',
                'other-config:datapath-id=%016x' % dpid, 'protocols=OpenFlow10', 'fail_mode=' + fail_mode,
                'other-config:disable-in-band=true']
        for port in ports:
            intf = '%s-p%d' % (name, port)
            args += ['--', 'add-port', name, intf, '--', 'set', 'interface', intf, 'type=dummy',
                     'ofport_request=%d' % port]
        if controller:
            args += ['--', 'set-controller', name, controller]
        self.vsctl(*args)

    def mgmt(self, bridge):
        return os.path.join(self.dir, bridge + '.mgmt')

    def flows(self, bridge):
        """`ovs-ofctl dump-flows` lines without the counters that change (duration, n_packets, n_bytes)."""
        out = self.ofctl('-O', 'OpenFlow10', 'dump-flows', '--no-stats', bridge)
        return sorted(line.strip() for line in out.splitlines() if 'actions=' in line)

    def controller_connected(self, bridge):
        out = self.vsctl('--columns=is_connected', 'list', 'Controller')
        return 'true' in out
