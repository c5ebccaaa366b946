"""The REST API's HTTP/1.1 server: a strict request parser (pure) and a green connection loop (glue).

Why not eventlet.wsgi (which ryu.app.wsgi uses, and this replaced): it was a third of every static flow push
(docs/performance.md): http.server's request line handling, the email package parsing headers, a formatted date
and an access log line per request, a file object per direction. Here a request is one `bytes.find` for the end of
the head, one split, a dict of headers; a reply is one write (a large body made in pieces, rest.http.Streamed,
is sent piece by piece, other green threads running in between). The static flow pushes
(POST /wm/{staticflowentrypusher,staticflowpusher,staticentrypusher}/json[/store]) skip WSGI altogether: the
guard's head checks (path, token), then the guard's raw route (rest.staticflow.push), body bytes in; it answers
through `respond`, which writes the reply at once, without yielding, when the socket takes it (the static flow
app answers between its commit and its flow-mods). Every other request goes to the WSGI app (rest.guard.RestGuard
around ryu's router) with a full environ.

No new dependency: the HTTP/1.1 subset a REST API needs (Content-Length and chunked bodies, keep-alive,
Expect: 100-continue) is smaller than adapting a general server to ryu's hub.

What it accepts, and what it refuses with a JSON 4xx and `Connection: close` (never reaching the app):
- request line `METHOD SP target SP HTTP/1.0|HTTP/1.1`, lines ended by CRLF (a bare LF is accepted, as
  http.server did); anything else is 400 (an HTTP version other than 1.x is 400, as it was: tests and clients
  expect a 4xx); TLS bytes on the plain port are 400 at once, without waiting for a line end;
- request line over 8192 bytes: 414; a header line over 8192 bytes, more than 100 headers or a head over 64 KiB:
  431 (the limits of eventlet.wsgi and http.client);
- Content-Length: decimal digits only (400 otherwise, and for two different values); over the body limit: 413
  before the body is read; a body that does not arrive within `request_timeout`: 408;
- Transfer-Encoding: chunked is decoded (413 as soon as the decoded body passes the limit); any other
  transfer coding, or chunked with a Content-Length (a request smuggling shape), is 400.
Keep-alive: HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive` (echoed back).
Each reply carries Date (computed once a second) and Content-Length.

Limits of the connection loop: a request has `request_timeout` seconds from its first byte to its last (head and
body together: a client sending one byte a second is cut off at the deadline with a 408); a keep-alive connection
may wait `idle_timeout` seconds between requests; at most `max_connections` connections are served at once, and a
connection past that gets a 503 and is closed (the server never stops accepting: eventlet.wsgi's pool stopped
accepting when full); the accept loop (rest/listener.py, shared with the OpenFlow listeners) outlives running out
of file descriptors (EMFILE, ENFILE): one warning, then a retry every ACCEPT_BACKOFF seconds until it works again.
"""
import io
import logging
import os
import socket
import ssl
import sys
import time
import urllib.parse
from email.utils import formatdate

import eventlet
from eventlet.patcher import original

from rest.http import ROUTE_ENVIRON, HttpError, error_parts, exception_parts
from rest.listener import AcceptLoop, bind

LOG = logging.getLogger('rest.server')
ACCESS_LOG = logging.getLogger('rest.access')

MAX_REQUEST_LINE = 8192
MAX_HEADER_LINE = 8192
MAX_HEADERS = 100
MAX_HEAD = 65536
RECV_SIZE = 65536
DISCARD_LIMIT = 1 << 20  # a refused request's body up to this size is read and dropped, to keep the connection
LINGER = 1.0             # seconds a closing connection reads what the client still sends (see Connection.linger)

# RFC 9110 token characters: what a method and a header name are made of.
_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_HEX = frozenset(b'0123456789abcdefABCDEF')
_VISIBLE = bytes(range(0x21, 0x7f))  # what a request target is made of
_VERSIONS = {b'HTTP/1.1': 'HTTP/1.1', b'HTTP/1.0': 'HTTP/1.0'}


def access_level(method, status_line):
    """The access log's level for a request: INFO for what changes something or failed (a POST, PUT or DELETE; a
    4xx or 5xx), DEBUG for a read that worked. The web UI and monitoring scripts poll several reads a second: at
    INFO they would bury the pushes and the errors an operator looks for."""
    if method in ('GET', 'HEAD', 'OPTIONS') and status_line[:1] in ('1', '2', '3'):
        return logging.DEBUG
    return logging.INFO


class Request:
    """One parsed request head. `headers` maps lower-case names to latin-1 values (repeated ones joined by ',',
    as WSGI does); `length` is the Content-Length (None without one); `end` is where the body starts."""
    __slots__ = ('method', 'target', 'path', 'query', 'version', 'headers', 'length', 'chunked', 'keep_alive',
                 'expect_continue', 'end')


def parse_head(buf):
    """bytes -> a Request once the whole head is in `buf`, None while more bytes are needed; raises HttpError
    for a head that can already be refused (even an incomplete one: a TLS ClientHello has no line end)."""
    first = buf[:1]
    if first and first[0] not in _TOKEN:
        if first == b'\x16':
            raise HttpError(400, 'TLS on the plain HTTP port (use http://, or start with --rest-cert/--rest-key)')
        raise HttpError(400, 'malformed request line')
    end = buf.find(b'\r\n\r\n')
    if end >= 0:
        bare = buf.find(b'\n\n', 0, end)  # a bare-LF head that happens to be followed by a CRLF one
        if bare >= 0:
            end, size = bare, 2
        else:
            size = 4
    else:
        end = buf.find(b'\n\n')
        size = 2
    if end < 0:
        line_end = buf.find(b'\n')
        if line_end < 0 and len(buf) > MAX_REQUEST_LINE or line_end > MAX_REQUEST_LINE:
            raise HttpError(414, 'the request line is longer than %d bytes' % MAX_REQUEST_LINE)
        if len(buf) > MAX_HEAD:
            raise HttpError(431, 'the request head is longer than %d bytes' % MAX_HEAD)
        return None
    head = buf[:end]
    if size == 4 and head.count(b'\n') == head.count(b'\r\n'):
        lines = head.split(b'\r\n')
    else:
        lines = [line[:-1] if line.endswith(b'\r') else line for line in head.split(b'\n')]
    if end > MAX_HEAD:
        raise HttpError(431, 'the request head is longer than %d bytes' % MAX_HEAD)
    request = _request_line(lines[0])
    request.end = end + size
    request.headers = headers = _headers(lines)
    _framing(request, headers)
    return request


def _request_line(line):
    if len(line) > MAX_REQUEST_LINE:
        raise HttpError(414, 'the request line is longer than %d bytes' % MAX_REQUEST_LINE)
    parts = line.split(b' ')
    if len(parts) != 3:
        raise HttpError(400, 'malformed request line %r' % _shown(line))
    method, target, version = parts
    if not method or not _TOKEN.issuperset(method):
        raise HttpError(400, 'malformed request method %r' % _shown(method))
    if version not in _VERSIONS:
        if version.startswith(b'HTTP/'):
            raise HttpError(400, 'HTTP version %s is not supported (HTTP/1.1 and HTTP/1.0 are)' % _shown(version))
        raise HttpError(400, 'malformed request line %r' % _shown(line))
    if not target or target.translate(None, _VISIBLE):  # something left once every visible ASCII is deleted
        raise HttpError(400, 'malformed request target %r' % _shown(target))
    request = Request()
    request.method = method.decode('ascii')
    request.version = _VERSIONS[version]
    target = target.decode('ascii')
    if target[0] != '/' and '://' in target:  # absolute form (a proxy's): the path is what follows the authority
        rest = target.partition('://')[2]
        slash = rest.find('/')
        target = rest[slash:] if slash >= 0 else '/'
    request.target = target
    path, _, query = target.partition('?')
    request.path = path
    request.query = query
    return request


def _headers(lines):
    if len(lines) - 1 > MAX_HEADERS:
        raise HttpError(431, 'more than %d header lines' % MAX_HEADERS)
    headers = {}
    for index in range(1, len(lines)):
        line = lines[index]
        if len(line) > MAX_HEADER_LINE:
            raise HttpError(431, 'a header line is longer than %d bytes' % MAX_HEADER_LINE)
        name, colon, value = line.partition(b':')
        if not colon or not name or not _TOKEN.issuperset(name):
            # also a line starting with a space (obsolete line folding) and a space before the colon (RFC 9112)
            raise HttpError(400, 'malformed header line %r' % _shown(line))
        name = name.decode('ascii').lower()
        value = value.strip(b' \t').decode('latin-1')
        if name in headers:
            value = headers[name] + ',' + value
        headers[name] = value
    return headers


def _framing(request, headers):
    """Content-Length, Transfer-Encoding, Connection and Expect."""
    length = headers.get('content-length')
    if length is not None:
        if ',' in length:  # the same header twice (joined by _headers), or a list: all must agree
            values = {value.strip() for value in length.split(',')}
            if len(values) != 1:
                raise HttpError(400, 'conflicting Content-Length values %r' % length[:40])
            length = values.pop()
        else:
            length = length.strip()
        if not length.isdigit() or not length.isascii():
            raise HttpError(400, 'Content-Length %r is not a number' % length[:20])
        length = int(length)
    request.length = length
    coding = headers.get('transfer-encoding')
    request.chunked = False
    if coding is not None:
        if coding.strip().lower() != 'chunked':
            raise HttpError(400, 'Transfer-Encoding %r is not supported (chunked is)' % coding[:40])
        if length is not None:
            raise HttpError(400, 'a request with both Content-Length and Transfer-Encoding')
        request.chunked = True
    connection = headers.get('connection')
    if connection is None:
        request.keep_alive = request.version == 'HTTP/1.1'
    else:
        tokens = connection.lower()
        if request.version == 'HTTP/1.1':
            request.keep_alive = 'close' not in tokens
        else:
            request.keep_alive = 'keep-alive' in tokens and 'close' not in tokens
    expect = headers.get('expect')
    request.expect_continue = expect is not None and expect.lower() == '100-continue'


def decode_chunked(buf, start, limit):
    """The chunked body in buf[start:] -> (body, end) once complete, None while more bytes are needed. Raises
    HttpError: 400 when malformed, 413 as soon as the decoded size passes `limit`. Trailers are dropped."""
    parts = []
    size = 0
    pos = start
    while True:
        line_end = buf.find(b'\n', pos)
        if line_end < 0:
            if len(buf) - pos > 1024:
                raise HttpError(400, 'malformed chunk size line')
            return None
        line = buf[pos:line_end].rstrip(b'\r').partition(b';')[0].strip()
        if not line or not _HEX.issuperset(line):  # int(x, 16) alone also takes '0x5', '-1', '1_0'
            raise HttpError(400, 'malformed chunk size %r' % _shown(line))
        length = int(line, 16)
        size += length
        if size > limit:
            raise HttpError(413, 'the request body is limited to %d bytes (--rest-max-body); this one has more '
                                 'than that' % limit)
        pos = line_end + 1
        if length == 0:
            while True:  # trailer lines up to an empty one
                line_end = buf.find(b'\n', pos)
                if line_end < 0:
                    if len(buf) - pos > MAX_HEAD:
                        raise HttpError(431, 'the chunked trailer is longer than %d bytes' % MAX_HEAD)
                    return None
                empty = line_end == pos or (line_end == pos + 1 and buf[pos:pos + 1] == b'\r')
                pos = line_end + 1
                if empty:
                    return b''.join(parts), pos
        if len(buf) < pos + length + 1:
            return None
        parts.append(buf[pos:pos + length])
        pos += length
        if buf[pos:pos + 2] == b'\r\n':
            pos += 2
        elif buf[pos:pos + 1] == b'\n':
            pos += 1
        elif len(buf) < pos + 2:
            return None
        else:
            raise HttpError(400, 'a chunk is longer than its size')


def _shown(data):
    return data[:60].decode('latin-1')


_date_second = 0
_date_header = b''


def date_header():
    """b'Date: ...\\r\\n', formatted once a second (eventlet.wsgi formatted it for every reply)."""
    global _date_second, _date_header
    now = int(time.time())
    if now != _date_second:
        _date_second = now
        _date_header = b'Date: ' + formatdate(now, usegmt=True).encode('ascii') + b'\r\n'
    return _date_header


_heads = {}


def response_bytes(version, status_line, headers, body, keep_alive, head_only=False):
    """The whole reply: status line, the app's headers, Content-Length (unless the app gave one, or the status
    has no body), Date, Connection when it differs from the version's default, then the body. A reply whose
    headers are a tuple (the static flow push's "Entry pushed", the same object every time) reuses its head
    for as long as the Date stays the same."""
    if type(headers) is tuple:
        key = (version, status_line, headers, keep_alive)
        date = date_header()
        cached = _heads.get(key)
        if cached is None or cached[0] is not date:
            if len(_heads) > 64:
                _heads.clear()
            cached = _heads[key] = (date, _head(version, status_line, headers, body, keep_alive))
        return cached[1] if head_only else cached[1] + body
    head = _head(version, status_line, headers, body, keep_alive)
    return head if head_only else head + body


def _head(version, status_line, headers, body, keep_alive):
    out = ['%s %s\r\n' % (version, status_line)]
    has_length = False
    for name, value in headers:
        if len(name) == 14 and name.lower() == 'content-length':
            has_length = True
        out.append('%s: %s\r\n' % (name, value))
    code = status_line[:3]
    if not has_length and code not in ('204', '304') and code[0] != '1':
        out.append('Content-Length: %d\r\n' % len(body))
    if not keep_alive:
        out.append('Connection: close\r\n')
    elif version == 'HTTP/1.0':
        out.append('Connection: keep-alive\r\n')
    return ''.join(out).encode('latin-1') + date_header() + b'\r\n'


# --- the connection loop (sockets and green threads) ------------------------------------------------------------

class Closed(Exception):
    """The peer closed the connection."""


# The OS's write, not eventlet's green one (installed by ryu's monkey-patching), which would wait for the socket
# to be writable: a reply goes out with what the kernel takes now, the rest through sendall.
os_write = original('os').write


class HttpServer:
    """Serves `guard` (a rest.guard.RestGuard: a WSGI app with `head_refusal`, `raw_route` and `max_body`) on an
    eventlet listening socket (rest.listener.bind: without SO_REUSEPORT), one green thread per connection, at
    most `max_connections` at once. The accept loop is rest.listener.AcceptLoop (`accepting`; its `health` is
    set by the app that has a health board). Only eventlet's public API (listen, spawn, sleep, Timeout): the
    server knows nothing of Ryu."""

    def __init__(self, guard, host, port, ssl_context=None, idle_timeout=60.0, request_timeout=10.0,
                 listener=None, max_connections=1024, observe=None):
        self.guard = guard
        # observe(route, method, status, seconds) after each reply (controller.metrics.Metrics.rest_request):
        # route is the pattern of the route that took it (a raw route's path), None when none of ours did
        self.observe = observe
        self.host = host
        self.ssl_context = ssl_context
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.max_connections = max_connections
        self.turning_away = 0  # connections past the cap, being answered 503
        self.scheme = 'https' if ssl_context is not None else 'http'
        self.listener = listener if listener is not None else bind(host, port)
        self.port = self.listener.getsockname()[1]
        self.accepting = AcceptLoop(self.listener, 'REST listener %s:%s' % (host, self.port), self.serve_connection,
                                    max_connections, '--rest-max-connections', refusal='get 503',
                                    turn_away=self.turn_away)

    def __call__(self):
        self.serve_forever()

    def serve_forever(self):
        LOG.info('(%d) wsgi starting up on %s://%s:%s', os.getpid(), self.scheme, self.host, self.port)
        self.accepting.serve_forever()

    def turn_away(self, sock, address):
        """A connection past the cap: a 503 and close, in a green thread of its own; as many of these at once
        as there may be connections, and past that closed at once."""
        if self.turning_away >= self.max_connections:
            sock.close()
            return
        self.turning_away += 1
        eventlet.spawn(self.serve_connection, sock, address, True)

    def serve_connection(self, sock, address, busy=False):
        try:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except (OSError, AttributeError):
                pass  # a unix socket (tests)
            if self.ssl_context is not None:
                sock = self.handshake(sock)
            connection = Connection(self, sock, address)
            if busy:
                connection.refuse(HttpError(503, 'the controller serves %d REST connections at once '
                                                 '(--rest-max-connections); try again' % self.max_connections,
                                            {'Retry-After': '1'}), 'HTTP/1.1')
            else:
                connection.run()
        except (ssl.SSLError, ConnectionError, socket.timeout, OSError) as error:
            LOG.warning('REST connection from %s dropped: %s', _address(address), error)
        except Exception:  # a bug: one traceback, the server goes on
            LOG.exception('REST connection from %s failed', _address(address))
        finally:
            try:
                sock.close()
            except OSError:
                pass
            if busy:
                self.turning_away -= 1

    def handshake(self, sock):
        """The TLS handshake, whole, within request_timeout (a client sending a byte at a time included). The TLS
        socket owns the descriptor from the wrap on: it is closed here when the handshake fails (left to the
        garbage collector, it stayed open for as long as the error's traceback was referenced)."""
        sock.settimeout(self.request_timeout)
        tls = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        try:
            with eventlet.Timeout(self.request_timeout,
                                  socket.timeout('no TLS handshake within %g s' % self.request_timeout)):
                tls.do_handshake()
        except BaseException:
            tls.close()
            raise
        return tls


def _address(address):
    return '%s:%s' % tuple(address[:2]) if isinstance(address, tuple) and len(address) >= 2 else str(address)


def _direct(sock):
    """Whether a reply can be written straight to the socket's descriptor: a plain (not TLS) socket whose
    descriptor is non-blocking, as eventlet makes every green socket's. os.write on it then writes what the
    kernel takes and never waits."""
    if isinstance(sock, ssl.SSLSocket):
        return False
    try:
        return not os.get_blocking(sock.fileno())
    except (OSError, AttributeError, ValueError):
        return False


class Connection:
    """One client connection: requests one after another (pipelined requests are answered in order too)."""

    def __init__(self, server, sock, address):
        self.server = server
        self.sock = sock
        self.address = address
        self.buf = b''
        self.direct = _direct(sock)
        self.timeout = None   # what sock.settimeout was last given
        self.deadline = None  # time.monotonic() by which the request in progress must be in whole
        self.request = None
        self.route = None     # the pattern of the route that took the request in progress (for observe)
        self.keep_alive = False
        self.replied = None   # (status line, body length) once the request in progress is answered
        self.unsent = b''     # the part of that reply the socket did not take at once
        self.cors = ()        # CORS headers every reply to the request in progress carries (rest.guard)

    def run(self):
        server = self.server
        guard = server.guard
        raw_route = guard.raw_route
        head_refusal = guard.head_refusal
        max_body = guard.max_body
        sock = self.sock
        idle = server.idle_timeout
        reads_logged = ACCESS_LOG.isEnabledFor(logging.DEBUG)  # a successful GET/HEAD: DEBUG (access_level)
        others_logged = ACCESS_LOG.isEnabledFor(logging.INFO)
        observe = server.observe
        while True:
            self.deadline = None
            buf = self.buf
            try:
                request = parse_head(buf) if buf else None
                while request is None:
                    if buf:
                        self.recv_more('head')
                    else:  # between requests: idle_timeout, then a silent close
                        if self.timeout != idle:
                            sock.settimeout(idle)
                            self.timeout = idle
                        try:
                            data = sock.recv(RECV_SIZE)
                        except socket.timeout:
                            return
                        if not data:
                            return
                        self.buf = data
                    buf = self.buf
                    request = parse_head(buf)
            except HttpError as error:
                self.refuse(error, 'HTTP/1.0')
                return
            except Closed:
                return
            self.request = request
            self.route = None
            started = time.monotonic()
            self.keep_alive = request.keep_alive
            self.replied = None
            path = request.path
            if '%' in path:  # the guard and the raw routes see PATH_INFO, as a WSGI app does
                path = urllib.parse.unquote(path, encoding='latin-1')
            headers = request.headers
            origin = headers.get('origin')
            self.cors = guard.cors_headers(origin) if origin else ()
            try:
                refusal = (guard.preflight(request.method, origin, headers.get('access-control-request-method'))
                           if request.method == 'OPTIONS' else None) \
                    or head_refusal(path, headers.get('authorization'), origin, headers.get('sec-fetch-site'),
                                    headers.get('host'))
                if refusal is None:
                    body = self.body(request, max_body)
                else:
                    self.keep_alive = self.keep_alive and self.discard(request)
            except HttpError as error:
                self.refuse(error, request.version, request)
                return
            if refusal is not None:
                self.respond(*refusal)
            else:
                handler = raw_route(request.method, path)
                if handler is not None:
                    self.route = path
                    self.call_raw(handler, body)
                else:
                    self.respond(*self.call_wsgi(request, body))
            if self.unsent:
                unsent, self.unsent = self.unsent, b''
                self.send_rest(unsent)
            if observe is not None:
                observe(self.route, request.method, self.replied[0][:3], time.monotonic() - started)
            if others_logged or reads_logged:
                level = access_level(request.method, self.replied[0])
                if (others_logged if level == logging.INFO else reads_logged):
                    ACCESS_LOG.log(level, '%s "%s %s %s" %s %d', _address(self.address), request.method,
                                   request.target, request.version, self.replied[0][:3], self.replied[1])
            if not self.keep_alive:
                self.linger()
                return

    def respond(self, status_line, headers, data):
        """The reply to the request in progress. Written at once, without giving up the green thread, as far as
        the socket takes it (almost always all of it); the rest is sent (send_rest) when the request's handler
        has returned. TLS replies are all sent then. `data` is the body's bytes, or a list of its pieces (a
        rest.http.Streamed reply): those are sent one by one after the head, never joined (a listing of 200,000
        entries is 50 MB: joining and copying it took 0.1-0.2 s without a switch to another green thread)."""
        if self.replied is not None:
            raise RuntimeError('a second reply to one request')
        if self.cors:  # a cross-origin request from an allowed origin (rest.guard.RestGuard.cors_headers)
            headers = list(headers) + list(self.cors)
        request = self.request
        head_only = request.method == 'HEAD'
        if type(data) is list:
            length = sum(map(len, data))
            head = response_bytes(request.version, status_line, list(headers) + [('Content-Length', str(length))],
                                  b'', self.keep_alive, True)
            self.replied = (status_line, length)
            self.unsent = [head] if head_only else [head] + data
            return
        reply = response_bytes(request.version, status_line, headers, data, self.keep_alive, head_only)
        self.replied = (status_line, len(data))
        sent = 0
        if self.direct:
            try:
                sent = os_write(self.sock.fileno(), reply)
            except OSError:
                sent = 0  # would block, or the connection is gone: send_rest meets it next
        self.unsent = memoryview(reply)[sent:] if sent else reply

    def send_rest(self, data):
        """Send what respond left (bytes, or a list of pieces). Not the socket's sendall: eventlet's copies the
        remaining bytes at every partial send (seconds of copying for a 50 MB reply, without a switch to another
        green thread); here memoryviews are sent on, and the other green threads run between two sends."""
        buffers = data if type(data) is list else (data,)
        first = True
        for buffer in buffers:
            view = memoryview(buffer)
            sent = 0
            while sent < len(view):
                if not first:
                    eventlet.sleep(0)
                first = False
                sent += self.sock.send(view[sent:])  # green: waits while the socket is full

    def call_raw(self, handler, body):
        """handler(body, respond): a raw route (a static flow push) answers through respond, once."""
        try:
            handler(body, self.respond)
        except Exception as error:
            if self.replied is not None:
                raise  # answered already: the connection ends with a logged traceback
            self.respond(*exception_parts(error, '%s %s' % (self.request.method, self.request.path)))
        if self.replied is None:
            LOG.error('REST %s %s: its handler returned without a reply', self.request.method, self.request.path)
            self.respond(*error_parts(500, 'internal error, see the controller log'))

    def recv_more(self, part):
        """More bytes of the request in progress, within its deadline (request_timeout from when its bytes
        first had to be waited for). Raises HttpError 408 past the deadline, Closed when the peer closed."""
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + self.server.request_timeout
        left = self.deadline - now
        if left <= 0:
            raise self.too_slow(part)
        self.sock.settimeout(left)
        self.timeout = left
        try:
            data = self.sock.recv(RECV_SIZE)
        except socket.timeout:
            raise self.too_slow(part) from None
        if not data:
            raise Closed()
        self.buf += data

    def too_slow(self, part):
        return HttpError(408, 'the request %s did not arrive within %g s (--rest-request-timeout)'
                         % (part, self.server.request_timeout))

    def body(self, request, max_body):
        """The request's body (removed from the buffer). Raises HttpError: 413 over the limit, 408 when it does
        not arrive in time, 400 when the connection closes first."""
        start = request.end
        try:
            if request.chunked:
                self.continue_if_asked(request, start)
                while True:
                    done = decode_chunked(self.buf, start, max_body)
                    if done is not None:
                        body, end = done
                        self.buf = self.buf[end:]
                        return body
                    self.recv_more('body')
            length = request.length or 0
            if length > max_body:
                raise HttpError(413, 'the request body is limited to %d bytes (--rest-max-body); this one has %d '
                                     'bytes' % (max_body, length))
            end = start + length
            if len(self.buf) < end:
                self.continue_if_asked(request, start)
                while len(self.buf) < end:
                    self.recv_more('body')
        except Closed:
            raise HttpError(400, 'the connection closed before the whole request body arrived') from None
        buf = self.buf
        body = buf[start:end]
        self.buf = buf[end:]
        return body

    def continue_if_asked(self, request, start):
        if request.expect_continue and request.version == 'HTTP/1.1' and len(self.buf) == start:
            self.sock.sendall(b'HTTP/1.1 100 Continue\r\n\r\n')

    def discard(self, request):
        """Drop the body of a request refused before it was read -> True when the connection can go on."""
        if request.chunked or (request.length or 0) > DISCARD_LIMIT or request.expect_continue:
            return False  # the client waits for our answer, or the body is too large to read for nothing
        end = request.end + (request.length or 0)
        try:
            while len(self.buf) < end:
                self.recv_more('body')
        except (HttpError, Closed):
            return False
        self.buf = self.buf[end:]
        return True

    def call_wsgi(self, request, body):
        environ = self.environ(request, body)
        reply = []

        def start_response(status, headers, exc_info=None):
            if exc_info and reply:
                raise exc_info[1].with_traceback(exc_info[2])
            reply[:] = [status, headers]
            return reply.append  # the legacy write(): its data is sent with the rest

        result = self.server.guard(environ, start_response)
        self.route = environ.get(ROUTE_ENVIRON)
        chunks = []
        try:
            for chunk in result:
                if chunks:
                    # A body made in pieces (rest.http.Streamed: a listing of every entry or host) is made while
                    # iterated: let the other green threads, the switches' sessions first, run between two pieces.
                    eventlet.sleep(0)
                chunks.append(chunk)
        except Exception as error:  # nothing is sent yet: a JSON 500 instead of a cut reply
            return exception_parts(error, '%s %s' % (request.method, request.path))
        finally:
            close = getattr(result, 'close', None)
            if close is not None:
                close()
        status, headers = reply[0], reply[1]
        pieces = reply[2:] + chunks
        return status, headers, pieces if len(pieces) > 1 else b''.join(pieces)

    def environ(self, request, body):
        server = self.server
        address = self.address if isinstance(self.address, tuple) else ('', 0)
        environ = {
            'REQUEST_METHOD': request.method,
            'SCRIPT_NAME': '',
            'RAW_PATH_INFO': request.path,
            'PATH_INFO': urllib.parse.unquote(request.path, encoding='latin-1'),
            'QUERY_STRING': request.query,
            'SERVER_NAME': server.host,
            'SERVER_PORT': str(server.port),
            'SERVER_PROTOCOL': request.version,
            'REMOTE_ADDR': address[0],
            'REMOTE_PORT': str(address[1]) if len(address) > 1 else '',
            'GATEWAY_INTERFACE': 'CGI/1.1',
            'wsgi.version': (1, 0),
            'wsgi.url_scheme': server.scheme,
            'wsgi.input': io.BytesIO(body),
            'wsgi.input_terminated': True,
            'wsgi.errors': sys.stderr,
            'wsgi.multithread': True,
            'wsgi.multiprocess': False,
            'wsgi.run_once': False,
        }
        if body or request.length is not None or request.chunked:
            environ['CONTENT_LENGTH'] = str(len(body))  # a chunked body is decoded already
        for name, value in request.headers.items():
            if name == 'content-type':
                environ['CONTENT_TYPE'] = value
            elif name not in ('content-length', 'transfer-encoding'):
                environ['HTTP_' + name.replace('-', '_').upper()] = value
        return environ

    def refuse(self, error, version, request=None):
        """A JSON error for a request the server itself refuses; the connection ends (its framing is unknown)."""
        status_line, headers, data = error_parts(error.status, error.reason, error.headers)
        LOG.info('REST request from %s refused: %d %s', _address(self.address), error.status, error.reason)
        try:
            self.sock.sendall(response_bytes(version, status_line, headers, data, False,
                                             request is not None and request.method == 'HEAD'))
        except OSError:
            return
        self.linger()

    def linger(self):
        """Close after the reply has left: stop sending, read what the client still sends for a moment (closing
        with unread bytes makes the kernel send a reset, which can destroy the reply before the client reads
        it)."""
        sock = self.sock
        try:
            sock.shutdown(socket.SHUT_WR)
        except (OSError, ValueError, AttributeError):
            return
        try:
            sock.settimeout(LINGER)
            self.timeout = LINGER
            drained = 0
            while drained < DISCARD_LIMIT:
                data = sock.recv(RECV_SIZE)
                if not data:
                    return
                drained += len(data)
        except (OSError, ValueError):
            pass
