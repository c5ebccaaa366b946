"""One switch connection: our Datapath subclass, the project's one extension point into Ryu.

`SwitchesApp` installs `SessionFactory` as `ryu.controller.controller.datapath_connection_factory`, the hook Ryu
calls for every connection it dials (and would call for every one it accepted). The OpenFlow ports are listened
on by our own accept loop (rest/listener.py, the REST server's too: it outlives running out of descriptors, caps
connections, reports to health, and a taken port stops the start), which hands every accepted socket to the same
factory. Ryu's listener, which cannot be told not to listen, is pointed by its own options at a Unix socket
whose path is removed at once (see `install`: the one alternative to patching OpenFlowController, and the only
Ryu option override besides TLS's). Nothing else of Ryu is replaced: OFPHandler (HELLO, FEATURES, echo replies),
event dispatch and every other app in the process stay Ryu's, and other apps see a `Session` as the Datapath it
is.

What a Session does differently from Ryu 4.34's Datapath, and why:
- the receive loop takes whatever the kernel holds (one recv per chunk, up to RECV_SIZE) and checks every header
  with controller.ofguard.PeerCheck before anything parses it: garbage, a wrong version, a truncated, oversized or
  unknown message ends the session with one warning line (Ryu logs tracebacks and reads on);
- a message type with a registered fast handler (PACKET_IN for forwarding, BARRIER_REPLY for static flow
  confirmations) goes straight to it in MAIN state: no message object, no event, no thread switch;
- writes never block the sender (Ryu's block once 16 messages are queued) and what a receive chunk produces leaves
  in one socket write (`Writer`);
- `put(msgs)` sets xids in order and writes small batches at once; large ones drain in slices (other switches
  and the REST API go on meanwhile);
- close() shuts the socket down both ways, so a session given up on ends even when the peer never closes;
- the switch must finish HELLO and FEATURES within --ofp-handshake-timeout (Ryu has no limit), TLS handshake
  included: TLS is done here with one SSLContext for every switch (Ryu 4.34's listener serves one TLS switch, then
  calls the ssl.wrap_socket that Python 3.12 removed);
- the keepalive counts any message from the switch, not only echo replies, and probes only an idle line
  (controller.keepalive; Ryu's dropped switches too busy to answer echoes in time);
- `last_received` is when the switch last sent a whole message (a standalone bridge fails open 3 x inactivity_probe
  after the last message it received), and `service_target` marks sessions the controller dialed.
"""
import atexit
import collections
import contextlib
import glob
import logging
import os
import shutil
import socket
import ssl
import tempfile
import time

from ryu.base import app_manager  # noqa: F401  imported first: ryu.controller.controller needs it loaded
from ryu.controller import controller as ryu_controller
from ryu.controller import ofp_event
from ryu.controller.handler import DEAD_DISPATCHER, MAIN_DISPATCHER
from eventlet.patcher import original
from ryu.lib import hub
from ryu.ofproto import get_ofp_modules, ofproto_common

from controller import of10
from controller.dpid import format_dpid
from controller.keepalive import ECHO, GONE, Keepalive
from controller.metrics import OpenFlowCounts
from controller.ofguard import PeerCheck, ProtocolViolation
from rest.listener import AcceptLoop, bind

LOG = logging.getLogger(__name__)
RECV_SIZE = 256 * 1024
RYU_LISTENER_PREFIX = 'ryu-ofp-unused-'  # the private directories of Ryu's diverted listeners (see install)
# The OS's write, not the one ryu's monkey-patching installs: eventlet's green os.write waits for the descriptor
# to be writable (and fails on a closed socket's -1), where the writer wants what the kernel takes now.
os_write = original('os').write
count_sent = of10.count_sent  # module globals: put() reads them for every message it sends
RawMessage = of10.RawMessage
XID_MASK = of10.XID_MASK
YIELD_EVERY = 2048  # messages handled in one burst before other green threads get a turn (as Ryu does)
# Each version's message parser, as Ryu's loop picks it by the message's version: a HELLO of another version must
# reach Ryu's OFPHandler, which answers HELLO_FAILED. Called directly: ofproto_parser.msg logs a traceback where
# a malformed message ends the session with one line here.
MSG_PARSERS = {version: parser.msg_parser for version, (_ofproto, parser) in get_ofp_modules().items()}


def _shutdown(sock, how=socket.SHUT_RDWR):
    """Shut the connection down (both ways unless told), so whatever waits on it (the receive loop, a TLS
    handshake) ends.
    Through a duplicate of the descriptor: a TLS socket's own shutdown() also drops its SSL object, and the green
    thread still inside recv or do_handshake would then fail with an AttributeError instead of seeing the end."""
    try:
        with socket.fromfd(sock.fileno(), socket.AF_INET, socket.SOCK_STREAM) as duplicate:
            duplicate.shutdown(how)
    except OSError:
        pass


class Writer:
    """Everything one session writes, in the order it was sent, without blocking the sender.

    A write goes straight to the socket's descriptor with one non-blocking os.write when nothing waits before it
    (eventlet keeps every green socket's descriptor non-blocking). The descriptor is asked of the socket at each
    write, never kept: once the session's socket is closed its number may already belong to another connection
    (a REST client's), and a closed socket answers -1. What the kernel does not take, and anything
    written meanwhile, waits in `pending` for the session's send thread, which writes it with one sendall. While
    the receive loop handles a chunk the writer is corked: the replies to the chunk's messages leave together.
    TLS sockets always go through the thread (their bytes must pass through the SSL object).
    """
    __slots__ = ('sock', 'fileno', 'pending', 'corked', 'busy', 'close_after', 'wake')

    def __init__(self, sock):
        self.sock = sock
        self.fileno = None if isinstance(sock, ssl.SSLSocket) else sock.fileno
        self.pending = []
        self.corked = False
        self.busy = False          # the send thread is in sendall: only it may touch the socket
        self.close_after = False
        self.wake = hub.Event()

    def write(self, data):
        if self.pending or self.corked or self.busy or self.fileno is None:
            self.pending.append(data)
            if not self.corked:
                self.wake.set()
            return
        try:
            sent = os_write(self.fileno(), data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            sent = 0  # the send thread's sendall meets the same error and ends the session as Ryu's does
        if sent < len(data):
            self.pending.append(data[sent:] if sent else data)
            self.wake.set()

    def uncork(self):
        self.corked = False
        pending = self.pending
        if pending and not self.busy:
            data = pending[0] if len(pending) == 1 else b''.join(pending)
            pending.clear()
            self.write(data)


class Session(ryu_controller.Datapath):
    """A switch session (see the module docstring). `fast_handlers` is the SwitchesApp's registry:
    {message type: handler(session, buf, offset, msg_len) -> True when it took the message}."""
    DIRECT_LIMIT = 64    # a batch this small is written at once by put(); a larger one drains in slices
    DRAIN_SLICE = 256

    def __init__(self, sock, address, fast_handlers, service_target=None, counts=None):
        super().__init__(sock, address)
        # This session's messages by type: /metrics totals them (controller.metrics.OpenFlowCounts), Floodlight's
        # per-switch counters (rest.core) read PACKET_IN received and FLOW_MOD sent.
        self.counts = (counts if counts is not None else OpenFlowCounts()).session()
        self.sent_counts = self.counts.sent_one_by_one
        self.sent_raw = self.counts.sent_raw
        self.peer_check = PeerCheck(note=self._note_quirk)
        self.writer = Writer(sock)
        self.fast_handlers = fast_handlers
        self.service_target = service_target
        self.last_received = time.time()
        self._queue = collections.deque()
        self._drainer = None

    def describe(self):
        address = '%s:%s' % tuple(self.address[:2]) if self.address else '?'
        return address if self.id is None else 'switch %s at %s' % (format_dpid(self.id), address)

    # --- receiving -----------------------------------------------------------------------------------------

    def _recv_loop(self):
        try:
            self._receive()
        finally:
            try:
                self.socket.close()
            except OSError:
                pass

    def _receive(self):
        recv = self.socket.recv
        check = self.peer_check
        header_at = of10.header_at
        HEADER_SIZE = of10.HEADER_SIZE  # noqa: N806  a local: read on every message
        fast_handler = self.fast_handlers.get
        writer = self.writer
        received = self.counts.received
        buf = b''
        count = 0
        while self.state != DEAD_DISPATCHER:
            try:
                data = recv(RECV_SIZE)
            except (socket.timeout, ssl.SSLError):
                continue  # Ryu's socket timeout, or eventlet's TLS read timeout: keep reading, as Ryu does
            except (EOFError, OSError):
                break
            if not data:
                break
            received_at = time.time()
            buf = buf + data if buf else data
            end = len(buf)
            offset = 0
            writer.corked = True
            try:
                while end - offset >= HEADER_SIZE:
                    version, msg_type, msg_len, xid = header_at(buf, offset)
                    # as soon as the header is in: a bogus length ends it now
                    msg_len = check.check(buf[offset:offset + HEADER_SIZE])
                    if end - offset < msg_len:
                        break
                    check.received()
                    received[msg_type] += 1
                    handler = fast_handler(msg_type)
                    if not (handler is not None and self.state == MAIN_DISPATCHER
                            and handler(self, buf, offset, msg_len)):
                        self._dispatch(version, msg_type, msg_len, xid, bytearray(buf[offset:offset + msg_len]))
                    offset += msg_len
                    count += 1
                    if count > YIELD_EVERY:
                        count = 0
                        hub.sleep(0)
            finally:
                writer.uncork()
            if offset:  # whole messages only: a peer stalled mid-message is not alive (the keepalive reads this)
                self.last_received = received_at
            buf = buf[offset:]

    def _note_quirk(self, quirk):
        LOG.info('%s: %s (as cbench\'s fake switch sends it), read as OpenFlow 1.0 says; not Open vSwitch, so its '
                 'GET_CONFIG does not decide whether the session is primary or service', self.describe(), quirk)

    def _dispatch(self, version, msg_type, msg_len, xid, body):
        """What Ryu's loop does with a message: an event to the apps, and Ryu's own handlers called at once."""
        try:
            msg = MSG_PARSERS[version](self, version, msg_type, msg_len, xid, body)
        except Exception as error:  # whatever a malformed body makes Ryu's parser raise
            raise ProtocolViolation('malformed message of type %d, %d bytes (%s: %s)'
                                    % (msg_type, msg_len, type(error).__name__, error)) from None
        if not msg:
            return
        ev = ofp_event.ofp_msg_to_ev(msg)
        state = self.state
        brick = self.ofp_brick
        brick.send_event_to_observers(ev, state)
        for handler in brick.get_handlers(ev):
            if state in handler.callers[ev.__class__].dispatchers:
                handler(ev)

    # --- keepalive ----------------------------------------------------------------------------------------

    def _echo_request_loop(self):
        """Ryu's serve() spawns this for the session's life. Any message from the switch counts as alive
        (controller.keepalive); Ryu's own loop counted echo replies alone and dropped busy switches."""
        if not self.max_unreplied_echo_requests:
            return  # Ryu's meaning of 0: no keepalive
        keepalive = Keepalive(self.echo_request_interval, self.max_unreplied_echo_requests)
        while self.send_q is not None:
            now = time.time()
            action, check_again_at = keepalive.step(now, self.last_received)
            if action == GONE:
                quiet, probes = keepalive.silence(now, self.last_received)
                LOG.warning('disconnecting %s: nothing received for %.1f s, %d echo requests unanswered',
                            self.describe(), quiet, probes)
                break
            if action == ECHO:
                self.put([of10.echo_request()])
            hub.sleep(max(0.0, check_again_at - time.time()))
        self.close()

    # --- sending -------------------------------------------------------------------------------------------

    def send(self, buf, close_socket=False):
        """Never blocks; False once the session is over, as Ryu's. `buf` is kept, not copied, until written (as
        Ryu's queue keeps it): every serialize() makes a new buffer."""
        if self.send_q is None:
            return False
        self.writer.write(buf)
        if close_socket:
            self.writer.close_after = True
            self.writer.wake.set()
        return True

    def _send_loop(self):
        """Spawned by Ryu's serve(): writes what the writer could not write at once."""
        writer = self.writer
        try:
            while self.state != DEAD_DISPATCHER:
                writer.wake.wait()
                writer.wake.clear()
                pending = writer.pending
                writer.busy = True
                try:
                    while pending:
                        data = pending[0] if len(pending) == 1 else b''.join(pending)
                        pending.clear()
                        self.socket.sendall(data)
                finally:
                    writer.busy = False
                if writer.close_after:
                    break
        except socket.timeout:
            LOG.debug('socket timed out while sending to %s', self.describe())
        except OSError as error:
            LOG.debug('socket error while sending to %s: %s', self.describe(), error)
        finally:
            self.send_q = None  # Ryu's sign that the session takes no more messages (the echo loop reads it)
            writer.pending.clear()
            self._close_write()

    def set_xid(self, msg):
        """Ryu's, without its per-call lookup of the protocol module's MAX_XID: put() runs it per message."""
        xid = self.xid = (self.xid + 1) & XID_MASK
        msg.set_xid(xid)
        return xid

    def send_msg(self, msg, close_socket=False):
        """Ryu's (OFPHandler's HELLO and echo replies, other Ryu apps' messages), counted as put() counts."""
        count_sent(self.sent_counts, msg)
        return super().send_msg(msg, close_socket)

    def put(self, msgs):
        """Queue messages in order; xids are set on return (the caller learns them at once). Each is counted as
        sent here (/metrics, per-switch counters), when it is handed to the session: a session that ends before
        writing it (a closed one drops it at once) has counted it all the same."""
        sent_raw = self.sent_raw
        for msg in msgs:
            msg.datapath = self
            self.set_xid(msg)
            if type(msg) is RawMessage:  # the packet-in path's answers: one dict increment (SessionCounts)
                sent_raw[msg.msg_types] += 1
            else:
                count_sent(self.sent_counts, msg)
        if self._drainer is None and len(msgs) <= self.DIRECT_LIMIT:
            if self.is_active and msgs:
                for msg in msgs:
                    msg.serialize()
                # One write (one syscall) for the batch: a push's flow-mod and barrier leave together.
                self.send(msgs[0].buf if len(msgs) == 1 else b''.join([msg.buf for msg in msgs]))
            return
        self._queue.extend(msgs)
        if self._drainer is None:
            self._drainer = hub.spawn(self._drain)

    def _drain(self):
        queue = self._queue
        try:
            while queue and self.is_active:
                for _ in range(min(len(queue), self.DRAIN_SLICE)):
                    msg = queue.popleft()
                    msg.serialize()
                    self.send(msg.buf)
                hub.sleep(0)
        finally:
            self._drainer = None
        if not self.is_active:
            queue.clear()

    def _close_write(self):
        """Ryu's shuts the socket object down: a TLS socket's own shutdown() would drop its SSL object under
        the receive loop (see _shutdown)."""
        _shutdown(self.socket, socket.SHUT_WR)

    def close(self):
        super().close()
        _shutdown(self.socket)


class SessionFactory:
    """Ryu's datapath_connection_factory(sock, address): runs one Session to its end in the calling green thread.

    `tls` (an ssl.SSLContext or None) wraps accepted sockets here, inside the handshake deadline.
    """
    admit = None  # SwitchesApp's admit(address, service_target) -> False to close a connection before any byte

    def __init__(self, fast_handlers, handshake_timeout, tls=None, counts=None):
        self.fast_handlers = fast_handlers
        self.handshake_timeout = handshake_timeout
        self.tls = tls
        self.counts = counts if counts is not None else OpenFlowCounts()  # every session's messages, for /metrics

    def __call__(self, sock, address, service_target=None):
        if self.admit is not None and not self.admit(address, service_target):
            sock.close()
            return
        handshake = _Handshake(sock, address)
        watchdog = hub.spawn(self._deadline, handshake) if self.handshake_timeout else None
        try:
            if self.tls is not None and service_target is None:
                # The TLS socket owns the descriptor from the wrap on (the deadline shuts it down; a failed
                # handshake closes it here, not the garbage collector whenever the traceback is gone).
                sock = handshake.sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                try:
                    sock.do_handshake()
                except (OSError, ValueError) as error:
                    if not handshake.expired:  # else the deadline has said why
                        LOG.warning('TLS handshake with %s:%s failed: %s', address[0], address[1], error)
                    sock.close()
                    return
            session = handshake.session = Session(sock, address, self.fast_handlers, service_target,
                                                                self.counts)
            with contextlib.closing(session):
                try:
                    session.serve()
                except ProtocolViolation as error:
                    LOG.warning('disconnecting %s: %s', session.describe(), error)
                except Exception:  # a bug, not the peer's fault: keep the traceback, keep the controller
                    LOG.exception('error in the session of %s; disconnected', session.describe())
                finally:
                    self.counts.session_ended(session.counts)
        finally:
            if watchdog is not None:
                hub.kill(watchdog)

    def _deadline(self, handshake):
        hub.sleep(self.handshake_timeout)
        session = handshake.session
        if session is None or session.state not in (MAIN_DISPATCHER, DEAD_DISPATCHER):
            who = session.describe() if session is not None else '%s:%s' % tuple(handshake.address[:2])
            LOG.warning('disconnecting %s: no OpenFlow handshake within %g s', who, self.handshake_timeout)
            handshake.expired = True
            _shutdown(handshake.sock)  # also ends a TLS handshake still in progress


class _Handshake:
    """What the deadline looks at: the accepted socket, and the session once TLS (if any) is through."""
    __slots__ = ('sock', 'address', 'session', 'expired')

    def __init__(self, sock, address):
        self.sock = sock
        self.address = address
        self.session = None
        self.expired = False


def tls_context(conf):
    """One server SSLContext from Ryu's --ctl-privkey, --ctl-cert and --ca-certs (None without them)."""
    if conf.ctl_privkey is None or conf.ctl_cert is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(conf.ctl_cert, conf.ctl_privkey)
    if conf.ca_certs is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(conf.ca_certs)
    return context


class ListenError(Exception):
    """An OpenFlow port that cannot be listened on (taken by another process, or an address not ours)."""


def listen_addresses(conf):
    """[(host, port, tls)]: where Ryu's OpenFlowController would listen with these options. TLS (--ctl-privkey
    and --ctl-cert) on --ofp-ssl-listen-port, else plain on --ofp-tcp-listen-port; with neither port option set,
    6653 and the old 6633, both TLS when TLS is configured (Ryu with only the other port option set would not
    listen at all: here that port serves)."""
    tls = conf.ctl_privkey is not None and conf.ctl_cert is not None
    if not conf.ofp_tcp_listen_port and not conf.ofp_ssl_listen_port:
        ports = [ofproto_common.OFP_TCP_PORT, ofproto_common.OFP_TCP_PORT_OLD]
    elif tls:
        ports = [conf.ofp_ssl_listen_port or conf.ofp_tcp_listen_port]
    else:
        ports = [conf.ofp_tcp_listen_port or ofproto_common.OFP_TCP_PORT]
    return [(conf.ofp_listen_host, port, tls) for port in ports]


def install(factory, conf, health=None):
    """The extension point: every accepted and dialed OpenFlow connection goes to `factory`. -> our OpenFlow
    listeners (rest.listener.AcceptLoop, bound and not yet accepting: run each one's serve_forever in a green
    thread), reporting to `health`. Raises ListenError when a port cannot be bound: nothing is listening then.

    The listeners are ours (rest/listener.py, the REST server's accept loop: it outlives EMFILE, caps
    connections at --ofp-max-connections and tells health when it cannot accept), not Ryu's StreamServer, whose
    loop died on the first EMFILE and which, on a taken port, only lost its green thread. Ryu's OFPHandler still
    starts its OpenFlowController (its HELLO, FEATURES and echo handling are needed), and no Ryu class is patched:
    its listen options are overridden instead, once read here, so that it listens on a Unix socket in a private
    directory of its own (Ryu's StreamServer takes a host whose directory exists for a Unix socket path), on one
    port so that one listener is made, without TLS (the factory does TLS). The socket's path is removed as soon
    as it exists, so nothing can ever dial it (a controller stopped before that leaves its directory to the next
    start, which removes it). Ryu's dialing of --ofp-switch-address-list and our service
    switches (apps/switches.py) call the factory as before.
    """
    addresses = listen_addresses(conf)
    tls = addresses[0][2]
    loops = []
    try:
        for host, port, _tls in addresses:
            if getattr(conf, 'worker_channel', None) is not None:
                host, port = '127.0.0.1', 0  # a --workers worker: its supervisor accepts and hands connections over
            name = 'OpenFlow%s listener %s:%s' % (' over TLS' if tls else '', host, port)
            try:
                sock = bind(host, port)
            except OSError as error:
                raise ListenError('cannot listen for OpenFlow on %s:%s: %s' % (host, port, error.strerror or error)) \
                    from None
            loops.append(AcceptLoop(sock, name, factory, conf.ofp_max_connections, '--ofp-max-connections',
                                    health=health))
    except ListenError:
        for loop in loops:
            loop.close()
        raise
    LOG.info('OpenFlow%s on %s:%s (at most %d connections each)%s', ' over TLS' if tls else '', conf.ofp_listen_host,
             ' and '.join(str(loop.port) for loop in loops), conf.ofp_max_connections,
             ', switch certificates checked against %s' % conf.ca_certs if tls and conf.ca_certs else '')
    _divert_ryu_listener(conf)
    ryu_controller.datapath_connection_factory = factory
    return loops


def _divert_ryu_listener(conf):
    """Ryu's OpenFlowController listens on a Unix socket nothing can dial (see install), in a private directory
    named after the process: one left behind by a controller stopped before it removed it is removed here."""
    _remove_stale_directories()
    directory = tempfile.mkdtemp(prefix='%s%d-' % (RYU_LISTENER_PREFIX, os.getpid()))
    path = os.path.join(directory, 'ofp.sock')
    conf.set_override('ofp_listen_host', path)
    conf.set_override('ofp_tcp_listen_port', ofproto_common.OFP_TCP_PORT)  # any port: one server loop, not two
    conf.set_override('ctl_privkey', None)
    conf.set_override('ctl_cert', None)

    def remove(wait=0.0):
        deadline = time.monotonic() + wait
        while not os.path.exists(path) and time.monotonic() < deadline:
            hub.sleep(0.05)
        shutil.rmtree(directory, ignore_errors=True)  # the listening socket stays, with no path to reach it

    hub.spawn(remove, 30.0)
    atexit.register(remove)  # when the process ends before Ryu's listener started (a REST port taken)


def _remove_stale_directories():
    for directory in glob.glob(os.path.join(tempfile.gettempdir(), RYU_LISTENER_PREFIX + '*-*')):
        pid = os.path.basename(directory)[len(RYU_LISTENER_PREFIX):].partition('-')[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(directory, ignore_errors=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True
