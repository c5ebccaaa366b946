"""The controllers a benchmark runs, each a subprocess pinned to its own core: ours, Ryu's peers, the null one.

    ours          ryu-manager controller.apps (+ OURS_ARGS, e.g. forwarding on)
    simple_switch ryu-manager ryu.app.simple_switch    (stock ryu: see STOCK_RYU_MANAGER)
    ofctl_rest    ryu-manager ryu.app.ofctl_rest       (stock ryu)
    null          python -m bench.nullctl (answers each packet-in with one packet-out; the generator's ceiling)
    null_rest     python -m bench.nullrest (our HTTP server answering each push at once; the REST floor)

Every ryu-manager runs with --default-log-level 30 (WARNING): the issue compares against simple_switch "run
quietly", and ours gets the same treatment. BENCH_CODE_ROOT (or `--code DIR`) points the controllers at
another checkout of this project, e.g. `git archive HEAD` unpacked, to measure a commit while the work tree
changes under you.
"""
import os
import shutil
import signal
import subprocess
import sys

from tests.lib.controller import RYU_MANAGER, free_port, port_open, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUIET = ['--default-log-level', '30']

# The peers run on stock ryu 4.34: ryu's own manager with only the two import-time fixes it needs on Python 3.11
# (docs/ryu-manager.md), and none of this project's code. (Until the one-seam change our console script also
# installed our receive loop, writer and HTTP server into every app it ran; the peers never use it, so ratios
# against older runs stay comparable.)
STOCK_RYU_MANAGER = [sys.executable, '-c', (
    'import sys, eventlet.wsgi\n'
    'if not hasattr(eventlet.wsgi, "ALREADY_HANDLED"): eventlet.wsgi.ALREADY_HANDLED = []\n'
    'from ryu.ofproto import ofproto_v1_0\n'
    'if not hasattr(ofproto_v1_0, "OFPET_EXPERIMENTER"): ofproto_v1_0.OFPET_EXPERIMENTER = 0xffff\n'
    'from ryu.cmd.manager import main\n'
    'sys.exit(main(args=sys.argv[1:], prog="ryu-manager"))\n')]


def ours_manager(code_root):
    """Our ryu-manager as the measured checkout has it: the console script's module moved from controller/ to
    apps/ (so --code can measure commits from either side of that move)."""
    for module in ('apps.manager', 'controller.manager'):
        if os.path.exists(os.path.join(code_root, *module.split('.')) + '.py'):
            return [sys.executable, '-m', module]
    return [RYU_MANAGER]


def cpu_count():
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)


class Pinning:
    """Controller on one core, the load generator (this process) on another, when there are two."""

    def __init__(self, controller_cpu=0, generator_cpu=1):
        self.cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else []
        self.enabled = len(self.cpus) >= 2 and shutil.which('taskset') is not None
        self.controller_cpu = self.cpus[controller_cpu % len(self.cpus)] if self.enabled else None
        self.generator_cpu = self.cpus[generator_cpu % len(self.cpus)] if self.enabled else None

    def pin_self(self):
        if self.enabled:
            os.sched_setaffinity(0, {self.generator_cpu})

    def prefix(self):
        return ['taskset', '-c', str(self.controller_cpu)] if self.enabled else []

    def describe(self):
        if not self.enabled:
            return 'not pinned (%d core%s)' % (len(self.cpus) or 1, '' if len(self.cpus) == 1 else 's')
        return 'controller on cpu %d, generator and clients on cpu %d' % (self.controller_cpu, self.generator_cpu)


class WorkerPinning(Pinning):
    """`--workers N`: the workers (the supervisor's children inherit its affinity) on N cores the generator does not
    use, when the machine has N + 1; else on every core, the generator's included, which describe() says."""

    def __init__(self, workers, base):
        """base: the run's Pinning, made before the generator pinned itself (this process's affinity is one core
        by now)."""
        self.cpus = base.cpus
        self.enabled = base.enabled
        self.controller_cpu = base.controller_cpu
        self.generator_cpu = base.generator_cpu
        self.workers = workers
        others = [cpu for cpu in self.cpus if cpu != self.generator_cpu]
        self.spare = self.enabled and len(others) >= workers
        self.controller_cpus = others[:workers] if self.spare else self.cpus

    def prefix(self):
        return ['taskset', '-c', ','.join(str(cpu) for cpu in self.controller_cpus)] if self.enabled else []

    def describe(self):
        if not self.enabled:
            return super().describe()
        if self.spare:
            return '%d workers on cpus %s, generator on cpu %d' % (
                self.workers, ','.join(str(cpu) for cpu in self.controller_cpus), self.generator_cpu)
        return '%d workers on cpus %s, the generator on cpu %d among them (%d cores: none to spare)' % (
            self.workers, ','.join(str(cpu) for cpu in self.controller_cpus), self.generator_cpu, len(self.cpus))


class Controller:
    def __init__(self, kind, workdir, pinning, db_path=None, extra_args=(), code_root=None):
        self.kind = kind
        self.code_root = code_root or os.environ.get('BENCH_CODE_ROOT') or ROOT
        self.workdir = str(workdir)
        self.pinning = pinning
        self.ofp_port = free_port() if kind != 'null_rest' else None
        self.rest_port = free_port() if kind in ('ours', 'ofctl_rest', 'null_rest') else None
        self.db_path = db_path or os.path.join(self.workdir, 'bench-%d.sqlite3' % (self.ofp_port or self.rest_port))
        self.extra_args = list(extra_args)
        self.log_path = os.path.join(self.workdir, '%s-%d.log' % (kind, self.ofp_port or self.rest_port))
        self.proc = None
        self.profiler = None
        self.profile_dir = os.environ.get('BENCH_PROFILE_DIR') if kind == 'ours' else None

    @property
    def base_url(self):
        return 'http://127.0.0.1:%d' % self.rest_port

    def command(self):
        if self.kind == 'null_rest':
            return self.pinning.prefix() + [sys.executable, '-m', 'bench.nullrest', '--port', str(self.rest_port)]
        ofp = ['--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', str(self.ofp_port)]
        rest = ['--wsapi-host', '127.0.0.1', '--wsapi-port', str(self.rest_port)] if self.rest_port else []
        if self.kind == 'ours':
            cmd = ours_manager(self.code_root) + ['controller.apps'] + ofp + rest + QUIET + ['--staticflow-db',
                                                                                         self.db_path]
        elif self.kind in ('simple_switch', 'ofctl_rest'):
            cmd = STOCK_RYU_MANAGER + ['ryu.app.' + self.kind] + ofp + rest + QUIET
        elif self.kind == 'null':
            cmd = [sys.executable, '-m', 'bench.nullctl', '--port', str(self.ofp_port)]
        else:
            raise ValueError('unknown controller kind %r' % self.kind)
        return self.pinning.prefix() + cmd + self.extra_args

    def start(self, timeout=120):
        env = dict(os.environ, PYTHONPATH=self.code_root + os.pathsep + ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
        with open(self.log_path, 'ab') as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                         env=env, start_new_session=True)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError('%s exited with %s:\n%s' % (self.kind, self.proc.returncode, self.log()[-3000:]))
            return ((self.ofp_port is None or port_open(self.ofp_port))
                    and (self.rest_port is None or port_open(self.rest_port)))
        wait_for(up, timeout, interval=0.05, what='%s to listen (log: %s)' % (self.kind, self.log_path))
        if self.profile_dir:
            self._start_profiler()
        return self

    def _start_profiler(self):
        """py-spy samples the controller for its whole life (collapsed stacks, --nonblocking: never paused)."""
        os.makedirs(self.profile_dir, exist_ok=True)
        label = os.environ.get('BENCH_PROFILE_LABEL', self.kind)
        path = os.path.join(self.profile_dir, '%s-%d.txt' % (label, self.ofp_port))
        self.profiler = subprocess.Popen([shutil.which('py-spy') or os.path.join(os.path.dirname(sys.executable),
                                                                                 'py-spy'),
                                          'record', '--pid', str(self.proc.pid), '--format', 'raw', '--rate', '250',
                                          '--nonblocking', '--output', path], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
        self.profile_path = path

    def stop(self, timeout=10):
        if self.profiler is not None:
            self.profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            try:
                self.profiler.wait(timeout)
            except subprocess.TimeoutExpired:
                self.profiler.kill()
            self.profiler = None
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        with open(self.log_path, errors='replace') as handle:
            return handle.read()

    def rss_kib(self):
        """Resident set size of the controller process (taskset execs, so the pid is the controller's)."""
        with open('/proc/%d/status' % self.proc.pid) as handle:
            for line in handle:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
        raise RuntimeError('no VmRSS for pid %d' % self.proc.pid)

    def cpu_seconds(self, pid=None):
        """User + system CPU time the controller (or its process `pid`) has used so far."""
        with open('/proc/%d/stat' % (pid or self.proc.pid)) as handle:
            fields = handle.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    def cpu_seconds_with_children(self):
        """{pid: CPU seconds} of the controller and its live children (a --workers supervisor's workers)."""
        pid = self.proc.pid
        with open('/proc/%d/task/%d/children' % (pid, pid)) as handle:
            pids = [pid] + [int(child) for child in handle.read().split()]
        out = {}
        for each in pids:
            try:
                out[each] = self.cpu_seconds(each)
            except OSError:
                pass  # ended meanwhile
        return out
