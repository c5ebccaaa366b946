"""Ryu glue that keeps one bad peer from hurting anyone else. Installed by controller.ryu_compat.apply_all().

OpenFlow side (each connection is checked by controller.ofguard before Ryu parses a message):
- garbage, a wrong version, a truncated, oversized or unknown message: the peer is disconnected with one
  warning line; Ryu 4.34 alone logs tracebacks, and keeps reading or lets the message reach 1.0 handlers;
- a peer that does not finish the handshake within --ofp-handshake-timeout seconds is disconnected (Ryu has no
  such limit: a silent TCP client held a socket and two green threads forever);
- Datapath.close() shuts the socket down in both directions, so a session the controller gives up on (echo
  keepalive failed, replaced by a newer session for its DPID) ends even when the peer never closes its side;
- Ryu's receive loop and send thread are replaced (see "the receive loop and the writer" below): one recv per
  chunk, PACKET_IN handed straight to the forwarding app, writes that never block the sender and leave a chunk's
  replies in one socket write;
- TLS (--ctl-privkey, --ctl-cert, --ca-certs): Ryu 4.34 pops its SSL arguments on the first connection and
  every later TLS switch fails; here one SSLContext serves all, and a failed handshake is one log line.

REST side: ryu.app.wsgi.start_service is replaced: rest.server.HttpServer (our HTTP/1.1 server on ryu's hub,
not eventlet.wsgi) serves rest.guard.RestGuard (body limit, bearer token, catch-all 500) around ryu's
WSGIApplication, and with --rest-cert and --rest-key over HTTPS (the TLS handshake in each connection's thread).
"""
import contextlib
import ipaddress
import logging
import socket
import ssl
import struct
import types
import weakref

import greenlet
from ryu.controller import ofp_event
from ryu.controller.handler import DEAD_DISPATCHER, MAIN_DISPATCHER
from ryu.lib import hub
from ryu.ofproto import ofproto_parser as _ofproto_parser

from controller.ofguard import PeerCheck, ProtocolViolation
from rest.server import os_socket

LOG = logging.getLogger('controller.hardening')


class GuardedParser(types.SimpleNamespace):
    """Stands in for the `ofproto_parser` module inside ryu.controller.controller."""


def install():
    from ryu.app import wsgi as ryu_wsgi
    from ryu.base import app_manager  # noqa: F401  imported first: ryu.controller.controller needs it loaded
    from ryu.controller import controller as ryu_controller

    if getattr(ryu_controller, '_hardened', False):
        return
    ryu_controller._hardened = True
    ryu_controller.ofproto_parser = GuardedParser(header=_guarded_header, msg=_guarded_msg)
    ryu_controller.datapath_connection_factory = _connection_factory
    ryu_controller.OpenFlowController.server_loop = _server_loop
    datapath = ryu_controller.Datapath
    original_close = datapath.close

    def close(self):
        original_close(self)
        _shutdown(self.socket)
    datapath.close = close
    datapath._recv_loop = _recv_loop
    datapath._send_loop = _send_loop
    datapath.send = _send
    datapath.peer_check = None   # set by _connection_factory; None for a Datapath built elsewhere (tests)
    datapath.writer = None       # a Writer, made by the first send (or the send thread, if that runs first)
    ryu_wsgi.start_service = _start_rest_service


def _shutdown(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


# --- OpenFlow -----------------------------------------------------------------------------------------------

# Ryu's own receive loop (replaced below) calls header(buf) with no reference to its Datapath: the check of
# each connection is found through the green thread that serves it (one per connection). Kept for anything
# that still calls ryu_controller.ofproto_parser; the replacement loop calls the check directly.
_CHECKS = weakref.WeakKeyDictionary()


def _guarded_header(buf):
    check = _CHECKS.get(greenlet.getcurrent())
    if check is not None:
        check.check(bytes(buf[:8]))
    return _ofproto_parser.header(buf)


def _guarded_msg(datapath, version, msg_type, msg_len, xid, buf):
    check = _CHECKS.get(greenlet.getcurrent())
    if check is not None:
        check.received()
    return _parse(datapath, version, msg_type, msg_len, xid, buf)


def _parse(datapath, version, msg_type, msg_len, xid, buf):
    parser = _MSG_PARSERS.get(version)
    try:
        return parser(datapath, version, msg_type, msg_len, xid, buf)
    except Exception as error:  # whatever a malformed body makes Ryu's parser raise
        raise ProtocolViolation('malformed message of type %d, %d bytes (%s: %s)'
                                % (msg_type, msg_len, type(error).__name__, error)) from None


# --- the receive loop and the writer of every session -------------------------------------------------------
# Ryu 4.34 reads each message with two recv calls (its 8-byte header, then the body), builds a message object
# and an event for every one, and writes each reply with its own sendall from a send thread behind a 16-slot
# queue and a semaphore. Here one recv takes whatever the kernel holds (up to RECV_SIZE), every message in it is
# checked by the session's PeerCheck, a PACKET_IN goes straight to the registered packet-in handler (no
# message object, no event, no thread switch), and what the session writes while a chunk is handled leaves in
# one write when the chunk is done.

RECV_SIZE = 256 * 1024
OFPT_PACKET_IN = 10
OFPT_BARRIER_REPLY = 19
_HEADER = struct.Struct('!BBHI')
_MSG_PARSERS = _ofproto_parser._MSG_PARSERS
_fast_handlers = {}  # message type -> handler(datapath, buf, offset, msg_len), see set_packet_in_handler


def set_packet_in_handler(handler):
    """handler(datapath, buf, offset, msg_len) -> True when it took the PACKET_IN at buf[offset:offset+msg_len]
    (ignored or answered), False to let it go to Ryu's EventOFPPacketIn as usual. Called in the session's
    receive thread, for sessions in MAIN state; it must not block. None removes it."""
    _set_fast_handler(OFPT_PACKET_IN, handler)


def set_barrier_reply_handler(handler):
    """The same for BARRIER_REPLY (in place of Ryu's EventOFPBarrierReply): the static flow pusher's
    confirmations."""
    _set_fast_handler(OFPT_BARRIER_REPLY, handler)


def _set_fast_handler(msg_type, handler):
    if handler is None:
        _fast_handlers.pop(msg_type, None)
    else:
        _fast_handlers[msg_type] = handler


def _recv_loop(self):
    """Replaces Datapath._recv_loop (same exits: the socket is closed when it returns)."""
    try:
        _receive(self)
    finally:
        try:
            self.socket.close()
        except IOError:
            pass


def _receive(self):
    recv = self.socket.recv
    check = self.peer_check
    unpack_header = _HEADER.unpack_from
    fast_handler = _fast_handlers.get
    buf = b''
    count = 0
    while self.state != DEAD_DISPATCHER:
        try:
            data = recv(RECV_SIZE)
        except (socket.timeout, ssl.SSLError):
            continue  # Ryu's socket timeout, or eventlet's TLS read timeout: keep reading, as Ryu does
        except (EOFError, IOError):
            break
        if not data:
            break
        buf = buf + data if buf else data
        end = len(buf)
        offset = 0
        writer = self.writer
        if writer is not None:
            writer.corked = True
        try:
            while end - offset >= 8:
                version, msg_type, msg_len, xid = unpack_header(buf, offset)
                if check is not None:
                    check.check(buf[offset:offset + 8])  # as soon as the header is in: a bogus length ends it now
                if msg_len < 8:
                    msg_len = 8  # no check (a Datapath built elsewhere): Ryu's own fallback
                if end - offset < msg_len:
                    break
                if check is not None:
                    check.received()
                handler = fast_handler(msg_type)
                if not (handler is not None and self.state == MAIN_DISPATCHER
                        and handler(self, buf, offset, msg_len)):
                    _dispatch(self, version, msg_type, msg_len, xid, bytearray(buf[offset:offset + msg_len]))
                offset += msg_len
                count += 1
                if count > 2048:  # as Ryu does: let other sessions run during a long burst
                    count = 0
                    hub.sleep(0)
        finally:
            if writer is not None:
                writer.uncork()
        buf = buf[offset:]


def _dispatch(self, version, msg_type, msg_len, xid, body):
    """What Ryu's loop does with a message: an event to the apps, and Ryu's own handlers called at once."""
    msg = _parse(self, version, msg_type, msg_len, xid, body)
    if not msg:
        return
    ev = ofp_event.ofp_msg_to_ev(msg)
    state = self.state
    brick = self.ofp_brick
    brick.send_event_to_observers(ev, state)
    for handler in brick.get_handlers(ev):
        if state in handler.callers[ev.__class__].dispatchers:
            handler(ev)


class Writer:
    """Everything one session writes, in the order it was sent, without blocking the sender.

    A write goes straight to the socket with one non-blocking send when nothing is waiting before it; what the
    kernel does not take, and anything written meanwhile, waits in `pending` for the session's send thread,
    which writes it all with one sendall. While the receive loop handles a chunk the writer is corked: the
    replies to the chunk's messages leave together when it is done. TLS sockets always go through the thread.
    """
    __slots__ = ('sock', 'raw', 'pending', 'corked', 'busy', 'close_after', 'wake')

    def __init__(self, sock):
        self.sock = sock
        self.raw = os_socket(sock)
        self.pending = []
        self.corked = False
        self.busy = False          # the send thread is in sendall: only it may touch the socket
        self.close_after = False
        self.wake = hub.Event()

    def write(self, data):
        if self.pending or self.corked or self.busy or self.raw is None:
            self.pending.append(data)
            if not self.corked:
                self.wake.set()
            return
        try:
            sent = self.raw.send(data)
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


def _send(self, buf, close_socket=False):
    """Replaces Datapath.send: never blocks (Ryu's blocks once 16 messages are queued); False once the session
    is over, as Ryu's."""
    if self.send_q is None:
        return False
    writer = self.writer
    if writer is None:  # serve() sends its HELLO before the send thread it spawned has run
        writer = self.writer = Writer(self.socket)
    writer.write(bytes(buf))
    if close_socket:
        writer.close_after = True
        writer.wake.set()
    return True


def _send_loop(self):
    """Replaces Datapath._send_loop (spawned by serve()): writes what the writer could not write at once."""
    writer = self.writer
    if writer is None:
        writer = self.writer = Writer(self.socket)
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
        LOG.debug('socket timed out while sending to %s', self.address)
    except IOError as error:
        LOG.debug('socket error while sending to %s: %s', self.address, error)
    finally:
        self.send_q = None  # Ryu's sign that the session takes no more messages (the echo loop reads it)
        writer.pending.clear()
        self._close_write()


def _describe(datapath):
    from ryu.lib.dpid import dpid_to_str

    address = '%s:%s' % tuple(datapath.address[:2]) if datapath.address else '?'
    return address if datapath.id is None else 'switch %s at %s' % (dpid_to_str(datapath.id), address)


def _connection_factory(sock, address):
    from ryu import cfg
    from ryu.controller import controller as ryu_controller
    from ryu.lib import hub

    check = _CHECKS[greenlet.getcurrent()] = PeerCheck()
    datapath = ryu_controller.Datapath(sock, address)
    datapath.peer_check = check
    timeout = cfg.CONF.ofp_handshake_timeout

    def handshake_deadline():
        hub.sleep(timeout)
        if datapath.state not in (MAIN_DISPATCHER, DEAD_DISPATCHER):
            LOG.warning('disconnecting %s: no OpenFlow handshake within %g s', _describe(datapath), timeout)
            _shutdown(sock)

    watchdog = hub.spawn(handshake_deadline) if timeout else None
    with contextlib.closing(datapath):
        try:
            datapath.serve()
        except ProtocolViolation as error:
            LOG.warning('disconnecting %s: %s', _describe(datapath), error)
        except Exception:  # a bug, not the peer's fault: keep the traceback, keep the controller
            LOG.exception('error in the session of %s; disconnected', _describe(datapath))
        finally:
            _CHECKS.pop(greenlet.getcurrent(), None)
            if watchdog is not None:
                hub.kill(watchdog)


def _server_loop(self, ofp_tcp_listen_port, ofp_ssl_listen_port):
    """Ryu's server_loop, with one TLS context for every connection and the handshake in the session thread."""
    from ryu import cfg
    from ryu.lib import hub

    conf = cfg.CONF
    if conf.ctl_privkey is None or conf.ctl_cert is None:
        return hub.StreamServer((conf.ofp_listen_host, ofp_tcp_listen_port), _connection_factory).serve_forever()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(conf.ctl_cert, conf.ctl_privkey)
    if conf.ca_certs is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(conf.ca_certs)

    def tls_session(sock, address):
        try:
            tls = context.wrap_socket(sock, server_side=True)
        except (OSError, ValueError) as error:
            LOG.warning('TLS handshake with %s:%s failed: %s', address[0], address[1], error)
            sock.close()
            return
        _connection_factory(tls, address)
    LOG.info('OpenFlow over TLS on %s:%s%s', conf.ofp_listen_host, ofp_ssl_listen_port,
             ', switch certificates checked against %s' % conf.ca_certs if conf.ca_certs else '')
    hub.StreamServer((conf.ofp_listen_host, ofp_ssl_listen_port), tls_session).serve_forever()


# --- REST ---------------------------------------------------------------------------------------------------

def _is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == 'localhost'


def _start_rest_service(app_mgr):
    """ryu.app.wsgi.start_service: rest.service builds the server (guard, token, HTTPS, limits)."""
    from rest.service import start_service
    return start_service(app_mgr)


REST_IDLE_TIMEOUT = 60.0     # a keep-alive connection with no request in progress
REST_REQUEST_TIMEOUT = 10.0  # a request whose head or body stops arriving: 408
