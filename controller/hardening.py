"""Ryu glue that keeps one bad peer from hurting anyone else. Installed by controller.ryu_compat.apply_all().

OpenFlow side (each connection is checked by controller.ofguard before Ryu parses a message):
- garbage, a wrong version, a truncated, oversized or unknown message: the peer is disconnected with one
  warning line; Ryu 4.34 alone logs tracebacks, and keeps reading or lets the message reach 1.0 handlers;
- a peer that does not finish the handshake within --ofp-handshake-timeout seconds is disconnected (Ryu has no
  such limit: a silent TCP client held a socket and two green threads forever);
- Datapath.close() shuts the socket down in both directions, so a session the controller gives up on (echo
  keepalive failed, replaced by a newer session for its DPID) ends even when the peer never closes its side;
- TLS (--ctl-privkey, --ctl-cert, --ca-certs): Ryu 4.34 pops its SSL arguments on the first connection and
  every later TLS switch fails; here one SSLContext serves all, and a failed handshake is one log line.

REST side: ryu's WSGI server is started through rest.guard.RestGuard (body limit, bearer token, catch-all 500)
and, with --rest-cert and --rest-key, over HTTPS.
"""
import contextlib
import ipaddress
import json
import logging
import socket
import ssl
import types
import weakref

import greenlet

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
    original_close = ryu_controller.Datapath.close

    def close(self):
        original_close(self)
        _shutdown(self.socket)
    ryu_controller.Datapath.close = close
    ryu_wsgi.start_service = _start_rest_service


def _shutdown(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


# --- OpenFlow -----------------------------------------------------------------------------------------------

# Ryu's receive loop calls header(buf) as soon as 8 bytes are in, with no reference to its Datapath: the check
# of each connection is found through the green thread that serves it (one per connection).
_CHECKS = weakref.WeakKeyDictionary()


def _guarded_header(buf):
    from ryu.ofproto import ofproto_parser

    check = _CHECKS.get(greenlet.getcurrent())
    if check is not None:
        check.check(bytes(buf[:8]))
    return ofproto_parser.header(buf)


def _guarded_msg(datapath, version, msg_type, msg_len, xid, buf):
    from ryu.ofproto import ofproto_parser

    from controller.ofguard import ProtocolViolation

    check = _CHECKS.get(greenlet.getcurrent())
    if check is not None:
        check.received()
    parser = ofproto_parser._MSG_PARSERS.get(version)
    try:
        return parser(datapath, version, msg_type, msg_len, xid, buf)
    except Exception as error:  # whatever a malformed body makes Ryu's parser raise
        raise ProtocolViolation('malformed message of type %d, %d bytes (%s: %s)'
                                % (msg_type, msg_len, type(error).__name__, error)) from None


def _describe(datapath):
    from ryu.lib.dpid import dpid_to_str

    address = '%s:%s' % tuple(datapath.address[:2]) if datapath.address else '?'
    return address if datapath.id is None else 'switch %s at %s' % (dpid_to_str(datapath.id), address)


def _connection_factory(sock, address):
    from ryu import cfg
    from ryu.controller import controller as ryu_controller
    from ryu.controller.handler import DEAD_DISPATCHER, MAIN_DISPATCHER
    from ryu.lib import hub

    from controller.ofguard import ProtocolViolation

    from controller.ofguard import PeerCheck

    _CHECKS[greenlet.getcurrent()] = PeerCheck()
    datapath = ryu_controller.Datapath(sock, address)
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
    """ryu.app.wsgi.start_service, with RestGuard around the application and optional HTTPS."""
    from ryu import cfg
    from ryu.app import wsgi as ryu_wsgi

    from rest.guard import RestGuard, read_token_file

    conf = cfg.CONF
    for instance in app_mgr.contexts.values():
        if instance.__class__ == ryu_wsgi.WSGIApplication:
            break
    else:
        return None
    try:
        token = read_token_file(conf.rest_token_file) if conf.rest_token_file else None
    except ValueError as error:
        LOG.error('%s; not starting', error)
        raise SystemExit(2) from None
    if bool(conf.rest_cert) != bool(conf.rest_key):
        LOG.error('HTTPS needs both --rest-cert and --rest-key; not starting')
        raise SystemExit(2)
    server = _rest_server_class()(RestGuard(instance, max_body=conf.rest_max_body, token=token))
    scheme = 'http'
    if conf.rest_cert or conf.rest_key:
        import eventlet

        try:
            server.server = eventlet.wrap_ssl(server.server, certfile=conf.rest_cert, keyfile=conf.rest_key,
                                              server_side=True)
        except (OSError, ValueError) as error:
            LOG.error('cannot serve HTTPS with %s and %s: %s; not starting', conf.rest_cert, conf.rest_key, error)
            raise SystemExit(2) from None
        scheme = 'https'
    LOG.info('REST on %s://%s:%s (bodies up to %d bytes%s)', scheme, conf.wsapi_host, conf.wsapi_port,
             conf.rest_max_body, ', bearer token required' if token else '')
    if token is not None and scheme == 'http' and not _is_loopback(conf.wsapi_host):
        LOG.warning('REST bearer token sent over plain HTTP on %s:%s can be read off the network; add '
                    '--rest-cert and --rest-key', conf.wsapi_host, conf.wsapi_port)
    if token is None and not _is_loopback(conf.wsapi_host):
        LOG.warning('REST API open without authentication on %s:%s: anyone who reaches this address can change '
                    'flows; set --rest-token-file (and --rest-cert/--rest-key) or --wsapi-host 127.0.0.1',
                    conf.wsapi_host, conf.wsapi_port)
    return server


def _rest_server_class():
    """Ryu's WSGIServer, serving with a protocol that turns a client's TLS failure into one log line (eventlet
    logs a traceback) and drops connections idle for REST_IDLE_TIMEOUT seconds."""
    import eventlet.wsgi
    from ryu.app import wsgi as ryu_wsgi
    from ryu.lib import hub

    class TolerantHttpProtocol(eventlet.wsgi.HttpProtocol):
        def send_error(self, code, message=None, explain=None):
            """Requests that never reach the application (a malformed request line, an HTTP version other than
            1.x): a JSON 4xx like every other refusal, instead of http.server's HTML page (505 becomes 400)."""
            reason = message or self.responses.get(code, ('bad request',))[0]
            code = 400 if code >= 500 else code
            body = json.dumps({'status': 'Error! ' + reason, 'reason': reason}).encode()
            self.log_error('code %d, message %s', code, reason)
            self.request_version = 'HTTP/1.0'  # still HTTP/0.9 (no status line) when the request line was garbage
            self.send_response(code)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.send_header('Connection', 'close')
            self.end_headers()
            if getattr(self, 'command', None) != 'HEAD':
                self.wfile.write(body)
            self.close_connection = True

        def handle_one_request(self):
            try:
                super().handle_one_request()
            except (ssl.SSLError, ConnectionError) as error:
                LOG.warning('REST connection from %s:%s dropped: %s', self.client_address[0],
                            self.client_address[1], error)
                self.close_connection = 1

        def finish(self):
            try:
                super().finish()
            except (ssl.SSLError, ConnectionError):
                pass

    class RestServer(ryu_wsgi.WSGIServer):
        def serve_forever(self):
            self.logger = hub.LoggingWrapper()
            eventlet.wsgi.server(self.server, self.handle, self.logger, protocol=TolerantHttpProtocol,
                                 socket_timeout=REST_IDLE_TIMEOUT)
    reason = b'the request line is longer than 8192 bytes'
    body = b'{"status":"Error! %s","reason":"%s"}' % (reason, reason)
    eventlet.wsgi.RESPONSE_414 = (b'HTTP/1.0 414 Request URI Too Long\r\nContent-Type: application/json\r\n'
                                  b'Connection: close\r\nContent-Length: %d\r\n\r\n%s' % (len(body), body))
    return RestServer


REST_IDLE_TIMEOUT = 60.0
