"""One worker of `--workers N` (docs/scale-out.md, "All cores of one host"): its link to the supervisor
(apps/supervisor.py). The decisions are controller/workers.py's.

A worker is a whole controller (every app, the shared store, its own mastership leases) whose listeners are on
loopback ports of its own: the supervisor accepts on the user-facing ports and hands each connection over on the
channel, and the worker serves it through the same accept loop (rest.listener.AcceptLoop.take) as one it had
accepted. Its REST port is private (127.0.0.1, an ephemeral port): the other workers ask it for the live state
of the switches it holds (`answer`), which is how every worker's REST answer covers every switch.
"""
import array
import http.client
import json
import logging
import os
import signal
import socket
import ssl
import time

import eventlet
from eventlet.hubs import trampoline

from controller import workers
from controller.dpid import format_dpid
from rest.http import HttpError, switch_param

LOG = logging.getLogger('apps.worker')
_LINK = None  # this process's WorkerLink, once the entry app started it (apps/rest_routes.py asks `current()`)


def current():
    return _LINK


# --- the channel: datagrams, with at most one descriptor each ---------------------------------------------

def send_datagram(channel, text, fd=None):
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [fd]))] if fd is not None else []
    raw = getattr(channel, 'fd', channel)  # the green socket's own socket: eventlet wraps no sendmsg
    while True:
        try:
            return raw.sendmsg([text], ancillary)
        except BlockingIOError:
            trampoline(raw, write=True)


def receive_datagram(channel):
    """-> (bytes, descriptor or None); (b'', None) when the other end is gone."""
    raw = getattr(channel, 'fd', channel)
    while True:
        try:
            data, ancillary, _flags, _address = raw.recvmsg(256, socket.CMSG_SPACE(array.array('i').itemsize))
            break
        except BlockingIOError:
            trampoline(raw, read=True)
        except ConnectionError:  # the other process died with datagrams unread
            return b'', None
    fd = None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array('i')
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
            for extra in fds[1:]:
                os.close(extra)
            fd = fds[0] if fds else None
    return data, fd


class WorkerLink:
    """The worker's end of its channel. `openflow_loops`: its OpenFlow accept loops, in the order of
    apps.session.listen_addresses (the supervisor's `conn of I` names the I-th); `rest_server`: its
    rest.server.HttpServer; `switches`: the SwitchesApp (sessions, leases)."""

    def __init__(self, fd, openflow_loops, rest_server, switches, conf):
        global _LINK
        self.channel = socket.socket(fileno=fd)
        self.openflow_loops = openflow_loops
        self.rest_server = rest_server
        self.switches = switches
        self.conf = conf
        self.peers = {}  # pid -> private REST port of every ready worker, this one included
        self.next_shed = 0.0
        self.openflow_received = 0  # OpenFlow connections handed over, in all (the supervisor's placement)
        _LINK = self

    def start(self, spawn):
        send_datagram(self.channel, b'ready %d' % self.rest_server.port)
        spawn(self._read_loop)
        spawn(self._report_loop)
        LOG.info('worker %d: serving connections the supervisor hands over (private REST port %d)', os.getpid(),
                 self.rest_server.port)

    def _read_loop(self):
        while True:
            data, fd = receive_datagram(self.channel)
            if not data and fd is None:
                LOG.error('worker %d: the supervisor is gone; stopping', os.getpid())
                os.kill(os.getpid(), signal.SIGTERM)
                return
            verb, words = workers.parse(data)
            if verb == 'conn' and fd is not None:
                if words[:1] == [workers.OPENFLOW]:
                    self.openflow_received += 1
                self._serve(words, fd)
            elif verb == 'peers':
                self.peers = workers.parse_peers(words)
            elif fd is not None:
                os.close(fd)

    def _serve(self, words, fd):
        sock = socket.socket(fileno=fd)
        try:
            address = sock.getpeername()
        except OSError:  # the peer left while it was handed over
            sock.close()
            return
        if words[:1] == [workers.REST]:
            self.rest_server.accepting.take(sock, address)
        elif len(words) == 2 and words[0] == workers.OPENFLOW and words[1].isdigit() and \
                int(words[1]) < len(self.openflow_loops):
            self.openflow_loops[int(words[1])].take(sock, address)
        else:
            sock.close()

    def _report_loop(self):
        while True:
            eventlet.sleep(workers.LOAD_INTERVAL)
            try:
                send_datagram(self.channel, b'load %d %d' % (sum(loop.active for loop in self.openflow_loops),
                                                             self.openflow_received))
            except OSError:
                return  # the supervisor is gone: the read loop stops this worker
            try:
                self._shed(time.time())
            except Exception:  # the report must go on
                LOG.exception('balancing the switches across workers failed')

    def _shed(self, now):
        """The balancing rule (controller.workers.switches_to_shed): a worker mastering more than its share of
        the switches closes the excess sessions; each switch redials and the supervisor places it on the worker
        with the fewest. Not again for a few rounds, so that the loads reported settle first."""
        if now < self.next_shed or len(self.peers) < 2:
            return
        holders = self.switches.lease_holders()
        held = [dpid for dpid in self.switches.policy.held if self.switches.tracker.current(dpid) is not None]
        for dpid in workers.switches_to_shed(held, len(holders), len(self.peers)):
            conn = self.switches.tracker.current(dpid)
            LOG.info('switch %s: this worker masters %d of %d switches on %d workers; closing its session so that '
                     'it reconnects to a worker with fewer', format_dpid(dpid), len(held), len(holders),
                     len(self.peers))
            conn.handle.close()
            self.next_shed = now + 3 * workers.LOAD_INTERVAL + self.conf.mastership_lease

    # --- REST: the routes of controller.workers.LIVE_ROUTES ------------------------------------------------

    def owner_answer(self, switch_key, params, method, path_qs, headers):
        """A LIVE_ROUTES request about one switch (its row names the DPID parameter) that another worker holds:
        -> that worker's (status, body). None: answer here (this worker holds it, nobody does, or a list)."""
        switch = params.get(switch_key) if switch_key else None
        if switch is None or switch.lower() == 'all':
            return None
        port = self._owner_port(switch)
        return None if port is None else self._ask(port, method, path_qs, headers)

    @staticmethod
    def merges(switch_key, params):
        """Whether a LIVE_ROUTES request lists every switch (its answer is every worker's, merged)."""
        return switch_key is None or str(params.get(switch_key, '')).lower() == 'all'

    def merged(self, body, method, path_qs, headers):
        """This worker's answer to a listing with every other ready worker's (asked at once), merged."""
        bodies = [body]
        pile = eventlet.GreenPile()
        for pid, port in self.peers.items():
            if pid != os.getpid():
                pile.spawn(self._ask, port, method, path_qs, headers)
        for status, answer in pile:
            if status == 200:
                bodies.append(answer)
        return workers.merge(bodies)

    def _owner_port(self, switch):
        """The private REST port of the worker holding `switch`'s lease; None: this one, or nobody."""
        try:
            dpid = switch_param(switch)
        except HttpError:
            return None  # the local handler answers the 400
        owner = self.switches.lease_holders().get(dpid)
        pid = workers.owner_pid(owner) if owner else None
        if pid is None or pid == os.getpid():
            return None
        return self.peers.get(pid)

    def _ask(self, port, method, path_qs, headers):
        """-> (status, JSON body or None): the same request of the worker on `port`, answered from its state."""
        timeout = self.conf.stats_timeout + 2.0
        if self.rest_server.scheme == 'https':  # our own process on loopback: no certificate to check
            context = ssl._create_unverified_context()
            connection = http.client.HTTPSConnection('127.0.0.1', port, timeout=timeout, context=context)
        else:
            connection = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
        forwarded = {workers.LOCAL_HEADER: '1'}
        if headers.get('Authorization'):
            forwarded['Authorization'] = headers['Authorization']
        try:
            connection.request(method, path_qs, headers=forwarded)
            response = connection.getresponse()
            data = response.read()
            return response.status, json.loads(data) if data else None
        except (OSError, http.client.HTTPException, ValueError) as error:
            LOG.warning('worker on port %d did not answer %s %s: %s', port, method, path_qs, error)
            return 503, None
        finally:
            connection.close()
