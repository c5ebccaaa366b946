"""`ryu-manager controller.apps --workers N` (docs/scale-out.md, "All cores of one host"): the supervisor.

It loads no Ryu app. It binds the user-facing ports itself (the OpenFlow ports of apps.session.listen_addresses
and --wsapi-host:--wsapi-port; a taken port: exit status 2 before any worker starts), starts N workers (this
same command, each with a channel to the supervisor, apps/worker.py), and hands every accepted connection over
to one of them with SCM_RIGHTS: an OpenFlow one to the worker with the fewest sessions, a REST one to each worker
in turn (controller/workers.py decides). A worker that dies is started again after a delay that grows with its
recent deaths; its switches redial (OVS does by itself) and land on the live workers meanwhile. Its accept loops
are rest.listener.AcceptLoop, as every listener of the controller (they outlive EMFILE).

Why the supervisor accepts rather than SO_REUSEPORT shared by the workers: the kernel spreads SO_REUSEPORT
connections by a hash of their addresses, not by load, so a few switches often land on one worker, and a
restarted worker would get nothing until switches reconnect; a connection queued in a dead worker's accept queue
is reset. Handing over costs one sendmsg per connection, nothing per message: the supervisor never touches an
OpenFlow or HTTP byte.
"""
import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import time

import eventlet

from apps.worker import receive_datagram, send_datagram
from controller import workers
from rest.listener import AcceptLoop, bind

LOG = logging.getLogger('apps.supervisor')
HANDOVER_WAIT = 30.0   # seconds an accepted connection waits for a ready worker before it is closed
STOP_GRACE = 5.0       # seconds workers have to stop on SIGTERM before SIGKILL
START_WAIT = 60.0      # seconds the supervisor waits for every worker to be ready before it accepts anyway


def wanted(conf):
    return conf.workers > 1 and conf.worker_channel is None


class Worker:
    def __init__(self, number):
        self.number = number
        self.proc = None
        self.channel = None
        self.rest_port = None  # its private REST port, once it said `ready`
        self.deaths = []


class Supervisor:
    def __init__(self, conf, argv):
        from apps.session import listen_addresses

        self.conf = conf
        self.argv = list(argv)
        self.workers = [Worker(number) for number in range(conf.workers)]
        self.placement = workers.Placement()
        self.rest_turns = workers.RoundRobin()
        self.stopping = False
        self.exit_status = 0
        self.loops = []
        try:
            for index, (host, port, tls) in enumerate(listen_addresses(conf)):
                name = 'OpenFlow%s listener %s:%s' % (' over TLS' if tls else '', host, port)
                self.loops.append(AcceptLoop(bind(host, port), name, functools.partial(self._hand_openflow, index),
                                             conf.ofp_max_connections * conf.workers, '--ofp-max-connections'))
            name = 'REST listener %s:%s' % (conf.wsapi_host, conf.wsapi_port)
            self.loops.append(AcceptLoop(bind(conf.wsapi_host, conf.wsapi_port), name, self._hand_rest,
                                         conf.rest_max_connections * conf.workers, '--rest-max-connections'))
        except OSError as error:
            for loop in self.loops:
                loop.close()
            LOG.error('cannot listen: %s; not starting', error.strerror or error)
            raise SystemExit(2) from None

    # --- workers --------------------------------------------------------------------------------------------

    def _start(self, worker):
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, '-m', 'apps.manager'] + self.argv + [
            '--worker-channel', str(theirs.fileno()), '--wsapi-host', '127.0.0.1', '--wsapi-port', '0',
            '--pid-file', '']  # --pid-file names the supervisor
        worker.proc = subprocess.Popen(command, pass_fds=[theirs.fileno()])
        theirs.close()
        worker.channel = mine
        worker.rest_port = None
        LOG.info('worker %d started (pid %d)', worker.number, worker.proc.pid)
        eventlet.spawn(self._listen_to, worker, worker.channel, worker.proc)

    def _listen_to(self, worker, channel, proc):
        while True:
            data, fd = receive_datagram(channel)
            if fd is not None:
                os.close(fd)
            if not data:
                break
            verb, words = workers.parse(data)
            if verb == 'ready' and words and words[0].isdigit():
                worker.rest_port = int(words[0])
                self.placement.ready(worker.number)
                LOG.info('worker %d (pid %d) ready', worker.number, proc.pid)
                self._tell_peers()
            elif verb == 'load' and len(words) == 2 and all(word.isdigit() for word in words):
                self.placement.report(worker.number, int(words[0]), int(words[1]))
        channel.close()
        was_ready = worker.rest_port is not None
        self.placement.gone(worker.number)
        worker.rest_port = None
        self._tell_peers()
        status = proc.wait()
        if self.stopping:
            return
        if status == 2 and not was_ready:  # a setting it cannot start with (it said why): so will the next one
            LOG.error('worker %d (pid %d) could not start (exit status 2); stopping', worker.number, proc.pid)
            self.exit_status = 2
            self.stopping = True
            return
        now = time.time()
        worker.deaths.append(now)
        worker.deaths = [when for when in worker.deaths if now - when < workers.RESTART_WINDOW]
        delay = workers.restart_delay(worker.deaths, now)
        LOG.error('worker %d (pid %d) ended with status %s; its switches reconnect to the other workers; starting '
                  'it again in %g s', worker.number, proc.pid, status, delay)
        eventlet.sleep(delay)
        if not self.stopping:
            self._start(worker)

    def _ready(self):
        return {worker.number: worker for worker in self.workers if worker.rest_port is not None}

    def _tell_peers(self):
        ready = self._ready()
        message = workers.peers_message({worker.proc.pid: worker.rest_port for worker in ready.values()})
        for worker in ready.values():
            try:
                send_datagram(worker.channel, message)
            except OSError:
                pass  # it is dying: its reader finds out

    # --- connections ----------------------------------------------------------------------------------------

    def _hand_openflow(self, index, sock, address):
        self._hand(sock, address, self.placement.choose, workers.handover(workers.OPENFLOW, index), True)

    def _hand_rest(self, sock, address):
        self._hand(sock, address, lambda: self.rest_turns.choose(self._ready()), workers.handover(workers.REST),
                   False)

    def _hand(self, sock, address, choose, message, counted):
        deadline = time.monotonic() + HANDOVER_WAIT
        try:
            while not self.stopping:
                number = choose()
                if number is None:
                    if time.monotonic() > deadline:
                        LOG.warning('no worker ready for %s:%s within %g s: closed', address[0], address[1],
                                    HANDOVER_WAIT)
                        return
                    eventlet.sleep(0.05)
                    continue
                try:
                    send_datagram(self.workers[number].channel, message, sock.fileno())
                except OSError:  # the worker is going: its reader takes it out; try another
                    self.placement.gone(number)
                    continue
                if counted:
                    self.placement.handed_to(number)
                    LOG.debug('OpenFlow connection from %s:%s to worker %d (loads %s)', address[0], address[1],
                              number, {n: self.placement.load(n) for n in self.placement.active})
                return
        finally:
            sock.close()

    # --- the whole ----------------------------------------------------------------------------------------

    def run(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        if self.conf.pid_file:
            with open(self.conf.pid_file, 'w') as pid_file:
                pid_file.write(str(os.getpid()))
        LOG.info('supervisor %d: %d workers; OpenFlow on %s, REST on %s:%s', os.getpid(), len(self.workers),
                 ' and '.join(str(loop.port) for loop in self.loops[:-1]), self.conf.wsapi_host,
                 self.loops[-1].port)
        for worker in self.workers:
            self._start(worker)
        # Accepting starts once every worker is ready (or after START_WAIT): switches that dial a fresh start all
        # at once would otherwise all go to the worker that happened to be ready first. Until then they wait in
        # the listen backlog.
        deadline = time.monotonic() + START_WAIT
        while len(self._ready()) < len(self.workers) and time.monotonic() < deadline and not self.stopping:
            eventlet.sleep(0.05)
        for loop in self.loops:
            eventlet.spawn(loop.serve_forever)
        while not self.stopping:
            eventlet.sleep(0.2)
        for loop in self.loops:
            loop.close()
        procs = [worker.proc for worker in self.workers if worker.proc is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for proc in procs:
            while proc.poll() is None and time.monotonic() < deadline:
                eventlet.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        LOG.info('supervisor %d: stopped', os.getpid())
        return self.exit_status

    def _stop(self, signum, frame):
        self.stopping = True


def main(conf, argv):
    """Run the supervisor of `conf.workers` workers started with `argv` (ryu-manager's arguments, as given)."""
    return Supervisor(conf, argv).run()
