"""The accept loop of every listener of the controller: the REST server's (rest/server.py) and the OpenFlow
ports' (apps/session.py). Eventlet only, no Ryu, no HTTP.

What it guarantees, whatever the peers do:
- it never stops accepting while its socket is open. When accept fails because the process or the system is out
  of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) it logs one warning, retries every ACCEPT_BACKOFF
  seconds, and logs once more when it accepts again (Ryu's StreamServer and eventlet's accept loops died on the
  first EMFILE: the port stayed closed until a restart);
- at most `max_connections` connections are served at once; a connection past the cap is handed to `turn_away`
  (the REST server answers 503; by default it is closed at once), counted in `refused`, with one warning per
  CAP_LOG_INTERVAL however many arrive;
- health (`health`: a controller.health.HealthBoard, or anything with its fault/clear): a fault under the
  listener's name while accept has failed for longer than one backoff, or once its socket is closed or the loop
  ended on an error; cleared as soon as it accepts again.
"""
import errno
import logging
import socket
import time

import eventlet

LOG = logging.getLogger('rest.listener')

ACCEPT_BACKOFF = 0.1      # seconds between accepts while the process is out of file descriptors
CAP_LOG_INTERVAL = 60.0   # seconds between two warnings about connections refused past the cap
LISTENING_CHECK = 5.0     # seconds without a connection after which the loop checks its socket still listens
BACKLOG = 128

# accept() errors that say the process or the system is out of something: wait, then accept again.
EXHAUSTED = frozenset([errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM])
# accept() errors that say the listening socket itself is gone.
CLOSED = frozenset([errno.EBADF, errno.EINVAL, errno.ENOTSOCK])


def bind(host, port):
    """A listening green TCP socket on host:port (IPv6 when the host has a colon). Without SO_REUSEPORT
    (eventlet.listen sets it by default): with it, a second controller started on the same port would bind too
    and the kernel would share the peers between the two. Raises OSError (EADDRINUSE: the port is taken)."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    return eventlet.listen((host, port), family, backlog=BACKLOG, reuse_port=False)


def _close(sock, address=None):
    try:
        sock.close()
    except OSError:
        pass


class AcceptLoop:
    """Accepts on `listener` (a listening green socket) and runs `handle(sock, address)` in a green thread of
    its own for every connection; `handle` owns the socket (closes it) and the connection counts against the
    cap until it returns. `name` starts every log line and is the health component ("REST listener
    127.0.0.1:8080"); `cap_option` is the flag that sets `max_connections`, named in the warning; `refusal` says
    what happens to a connection past the cap ("get 503"), and `turn_away(sock, address)` does it (it owns the
    socket; the default closes it at once)."""

    def __init__(self, listener, name, handle, max_connections, cap_option, refusal='are closed at once',
                 turn_away=None, health=None):
        self.listener = listener
        self.name = name
        self.handle = handle
        self.max_connections = max_connections
        self.cap_option = cap_option
        self.refusal = refusal
        self.turn_away = turn_away or _close
        self.health = health
        self.active = 0             # connections being handled
        self.refused = 0            # connections turned away past the cap, since start
        self._cap_logged_at = None  # time.monotonic() of the last warning about the cap
        self._refused_logged = 0    # `refused` as that warning said it
        self._failing_since = None  # time.monotonic() of the first failed accept of the episode (out of descriptors)
        self._reported = False      # that episode is reported to health

    @property
    def port(self):
        return self.listener.getsockname()[1]

    def serve_forever(self):
        try:
            self._accept_forever()
        except Exception as error:  # a bug: the listener is down, and health says so
            self._fault('the accept loop ended: %s: %s' % (type(error).__name__, error))
            raise

    def _accept_forever(self):
        listener = self.listener
        accept = listener.accept
        listener.settimeout(LISTENING_CHECK)
        while True:
            try:
                sock, address = accept()
            except socket.timeout:  # no connection came (accepted sockets do not inherit the timeout)
                if self._failing_since is not None:
                    self._recovered()  # accept waited instead of failing: there are descriptors again
                elif not self._listening():
                    self._closed()
                    return
                continue
            except OSError as error:
                if error.errno in CLOSED:
                    self._closed()
                    return
                if error.errno in EXHAUSTED:
                    # Linux takes the new descriptor before it looks for a connection: an idle listener fails
                    # too, and finds out it can accept again when accept waits (times out) instead.
                    self._exhausted(error)
                    eventlet.sleep(ACCEPT_BACKOFF)
                # else a connection that went away before accept took it (ECONNABORTED...): the next one
                continue
            if self._failing_since is not None:
                self._recovered()
            self.take(sock, address)

    def take(self, sock, address):
        """Serve a connection accepted here or elsewhere (a --workers supervisor hands its accepted ones over,
        apps/worker.py): within the cap, in a green thread of its own."""
        if self.active < self.max_connections:
            self.active += 1
            eventlet.spawn(self._serve, sock, address)
        else:
            self._refuse(sock, address)

    def _exhausted(self, error):
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
            self.listener.settimeout(ACCEPT_BACKOFF)
            LOG.warning('%s accept failed: %s; retrying every %g s, still listening', self.name, error,
                        ACCEPT_BACKOFF)
        elif not self._reported and now - self._failing_since >= ACCEPT_BACKOFF:
            self._reported = True
            self._fault('accept fails: %s' % (error.strerror or error))

    def _recovered(self):
        LOG.warning('%s accepts connections again', self.name)
        self._failing_since = None
        self.listener.settimeout(LISTENING_CHECK)
        if self._reported:
            self._reported = False
            if self.health is not None:
                self.health.clear(self.name)

    def _closed(self):
        LOG.warning('%s closed: no longer accepting', self.name)
        self._fault('not listening: its socket was closed')

    def _listening(self):
        """Whether the socket still listens: a descriptor closed under the loop (a stale number closed twice
        elsewhere) wakes no accept, and may even be another socket's by now."""
        try:
            return self.listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
        except OSError:
            return False

    def _serve(self, sock, address):
        try:
            self.handle(sock, address)
        except Exception:  # a bug in the handler: one traceback, the listener goes on
            LOG.exception('%s: the connection from %s failed', self.name, _address(address))
            _close(sock)
        finally:
            self.active -= 1

    def _refuse(self, sock, address):
        self.refused += 1
        now = time.monotonic()
        if self._cap_logged_at is None or now - self._cap_logged_at >= CAP_LOG_INTERVAL:
            LOG.warning('%s at %d connections (%s): new ones %s until some close (%d refused since the last '
                        'warning, %d in all)', self.name, self.max_connections, self.cap_option, self.refusal,
                        self.refused - self._refused_logged, self.refused)
            self._cap_logged_at = now
            self._refused_logged = self.refused
        self.turn_away(sock, address)

    def _fault(self, reason):
        if self.health is not None:
            self.health.fault(self.name, reason, time.time())

    def close(self):
        """Stop listening. A running loop (which the close does not wake) ends within LISTENING_CHECK seconds and
        reports the listener down."""
        _close(self.listener)


def _address(address):
    return '%s:%s' % tuple(address[:2]) if isinstance(address, tuple) and len(address) >= 2 else str(address)
