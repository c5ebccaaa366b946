"""rest.server on the wire: keep-alive, sequential requests on one connection, HTTP/1.0, Connection: close,
chunked bodies, Expect: 100-continue, bodies shorter or longer than their Content-Length, HTTPS keep-alive.
The live controller tests use raw sockets (what the client sends is exactly what is written here); the 408 of a
stalled body runs the server in this process with a short request timeout."""
import http.client
import io
import json
import socket
import ssl

import pytest

from tests.protocol.helpers import STATICFLOW_URL, SWITCHES_URL, colon_dpid
from tests.protocol.test_security_rest import make_certificate
from tests.lib.controller import ControllerProcess, wait_for

pytestmark = pytest.mark.protocol

PUSHED = b'{"status" : "Entry pushed"}'


def entry(name, priority=100):
    return json.dumps({'switch': colon_dpid(0x0e0e), 'name': name, 'priority': str(priority),
                       'eth_dst': '52:54:00:00:0e:0e', 'actions': 'output=1'}).encode()


class Raw:
    """A raw socket and a reader of whole responses (status, headers, body)."""

    def __init__(self, port, sock=None):
        self.sock = sock or socket.create_connection(('127.0.0.1', port), timeout=10)
        self.buf = b''

    def send(self, data):
        self.sock.sendall(data)

    def response(self):
        while b'\r\n\r\n' not in self.buf:
            self._more()
        head, _, self.buf = self.buf.partition(b'\r\n\r\n')
        lines = head.decode('latin-1').split('\r\n')
        version, status = lines[0].split(' ')[:2]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(':')
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get('content-length', 0))
        while len(self.buf) < length:
            self._more()
        body, self.buf = self.buf[:length], self.buf[length:]
        return int(status), headers, body, version

    def _more(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError('closed')
        self.buf += data

    def closed(self):
        """True when the server has closed its side (nothing more to read)."""
        try:
            return self.buf == b'' and self.sock.recv(1) == b''
        except ConnectionError:
            return True

    def close(self):
        self.sock.close()


def post(path, body, extra=b'', version=b'HTTP/1.1'):
    return (b'POST %s %s\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n'
            % (path.encode(), version, len(body), extra)) + body


def get(path, extra=b'', version=b'HTTP/1.1'):
    return b'GET %s %s\r\nHost: x\r\n%s\r\n' % (path.encode(), version, extra)


def test_keep_alive_serves_sequential_requests_on_one_connection(controller):
    raw = Raw(controller.rest_port)
    try:
        for i in range(20):
            raw.send(post(STATICFLOW_URL, entry('ka-%d' % i, 100 + i)))
            status, headers, body, version = raw.response()
            assert (status, body, version) == (200, PUSHED, 'HTTP/1.1')
            assert headers['content-type'] == 'application/json; charset=UTF-8'
            assert 'connection' not in headers and headers['date'].endswith('GMT')
        raw.send(get('/wm/staticflowpusher/list/all/json'))
        status, headers, body, _ = raw.response()
        assert status == 200 and len(json.loads(body)[colon_dpid(0x0e0e)]) == 20
        raw.send(get(SWITCHES_URL))  # the WSGI path (ryu's router) on the same connection
        assert raw.response()[::2] == (200, b'[]')
        raw.send(b'GET /no/such HTTP/1.1\r\nHost: x\r\n\r\n')
        status, headers, body, _ = raw.response()
        assert status == 404 and json.loads(body)['reason']
        # two requests in one write: answered in order
        raw.send(get(SWITCHES_URL) + post(STATICFLOW_URL, entry('ka-pair', 150)))
        assert raw.response()[::2] == (200, b'[]')
        assert raw.response()[::2] == (200, PUSHED)
        raw.send(get(SWITCHES_URL, b'Connection: close\r\n'))
        status, headers, body, _ = raw.response()
        assert (status, headers['connection']) == (200, 'close')
        assert raw.closed()
    finally:
        raw.close()


def test_http_1_0(controller):
    raw = Raw(controller.rest_port)
    try:
        raw.send(get(SWITCHES_URL, version=b'HTTP/1.0'))
        status, headers, body, _ = raw.response()
        assert (status, body, headers.get('connection')) == (200, b'[]', 'close')
        assert raw.closed()
    finally:
        raw.close()
    raw = Raw(controller.rest_port)
    try:
        for i in range(3):
            raw.send(post(STATICFLOW_URL, entry('h10-%d' % i, 200 + i), b'Connection: keep-alive\r\n', b'HTTP/1.0'))
            status, headers, body, _ = raw.response()
            assert (status, body, headers['connection']) == (200, PUSHED, 'keep-alive')
    finally:
        raw.close()


def test_chunked_and_expect_continue_pushes(controller):
    raw = Raw(controller.rest_port)
    try:
        body = entry('chunked')
        chunks = b''.join(b'%x\r\n%s\r\n' % (len(body[i:i + 7]), body[i:i + 7]) for i in range(0, len(body), 7))
        raw.send(b'POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' % STATICFLOW_URL.encode()
                 + chunks + b'0\r\n\r\n')
        assert raw.response()[::2] == (200, PUSHED)
        body = entry('continued', 101)
        raw.send(b'POST %s HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n'
                 % (STATICFLOW_URL.encode(), len(body)))
        assert raw.response()[0] == 100
        raw.send(body)
        assert raw.response()[::2] == (200, PUSHED)
        raw.send(b'POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' % STATICFLOW_URL.encode())
        status, headers, text, _ = raw.response()
        assert status == 400 and json.loads(text)['reason'] and headers['connection'] == 'close'
    finally:
        raw.close()
    status, text, _ = controller.get('/wm/staticflowpusher/list/all/json')
    names = {name for item in json.loads(text)[colon_dpid(0x0e0e)] for name in item}
    assert names == {'chunked', 'continued'}


def test_bodies_that_do_not_match_their_content_length(controller):
    # longer: what follows the announced length is the next request (here not one: 400, connection closed)
    raw = Raw(controller.rest_port)
    try:
        raw.send(post(STATICFLOW_URL, entry('exact'))[:-1] + b'}GARBAGE\r\n\r\n')
        assert raw.response()[::2] == (200, PUSHED)
        status, headers, text, _ = raw.response()
        assert status == 400 and json.loads(text)['reason'] and headers['connection'] == 'close'
    finally:
        raw.close()
    # shorter, and the client stops sending: 400, nothing stored
    raw = Raw(controller.rest_port)
    try:
        raw.send(post(STATICFLOW_URL, entry('short'))[:-10])
        raw.sock.shutdown(socket.SHUT_WR)
        status, _, text, _ = raw.response()
        assert status == 400 and 'closed before the whole request body' in json.loads(text)['reason']
    finally:
        raw.close()
    status, text, _ = controller.get('/wm/staticflowpusher/list/all/json')
    assert [name for item in json.loads(text)[colon_dpid(0x0e0e)] for name in item] == ['exact']
    controller.assert_clean_log()


def test_https_keep_alive(tmp_path):
    key, cert = make_certificate(str(tmp_path))
    controller = ControllerProcess(tmp_path, extra_args=['--rest-cert', cert, '--rest-key', key])
    controller.start()
    try:
        context = ssl.create_default_context(cafile=cert)
        connection = http.client.HTTPSConnection('127.0.0.1', controller.rest_port, context=context, timeout=10)
        for i in range(5):
            connection.request('POST', STATICFLOW_URL, entry('tls-%d' % i, 300 + i))
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, PUSHED)
        connection.request('GET', SWITCHES_URL)
        assert connection.getresponse().read() == b'[]'
        connection.close()
        # plain HTTP on the HTTPS port: that connection fails, the server goes on
        plain = Raw(controller.rest_port)
        plain.send(get(SWITCHES_URL))
        with pytest.raises((ConnectionError, OSError, ValueError)):
            plain.response()
        plain.close()
        connection = http.client.HTTPSConnection('127.0.0.1', controller.rest_port, context=context, timeout=10)
        connection.request('GET', SWITCHES_URL)
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        controller.stop()
    controller.assert_clean_log()


def test_a_stalled_body_gets_408_in_process():
    """rest.server with a 0.3 s request timeout, in this process on eventlet (a real socket, no controller)."""
    import eventlet
    from eventlet.green import socket as green_socket

    from rest.guard import RestGuard
    from rest.server import HttpServer

    def echo(environ, start_response):
        data = environ['wsgi.input'].read(int(environ.get('CONTENT_LENGTH') or 0))
        start_response('200 OK', [('Content-Type', 'application/json')])
        return [json.dumps({'got': len(data), 'path': environ['PATH_INFO']}).encode()]

    listener = eventlet.listen(('127.0.0.1', 0))
    server = HttpServer(RestGuard(echo, max_body=100), '127.0.0.1', 0, listener=listener, request_timeout=0.3)
    thread = eventlet.spawn(server.serve_forever)
    try:
        raw = Raw(server.port, green_socket.create_connection(('127.0.0.1', server.port)))
        raw.send(post('/a%20b', b'12345'))
        assert raw.response()[::2] == (200, b'{"got": 5, "path": "/a b"}')
        raw.send(post('/x', b'12345')[:-2])  # 3 of 5 bytes, then nothing
        status, headers, text, _ = raw.response()
        assert status == 408 and 'did not arrive' in json.loads(text)['reason']
        assert headers['connection'] == 'close' and raw.closed()
        raw.close()
        raw = Raw(server.port, green_socket.create_connection(('127.0.0.1', server.port)))
        raw.send(post('/x', b'x' * 101))
        status, _, text, _ = raw.response()
        assert status == 413 and json.loads(text)['reason'].startswith('the request body is limited to 100 bytes')
        raw.close()
    finally:
        thread.kill()
        listener.close()


def test_wsgi_environ_in_process():
    """What ryu's router and webob get: the fields eventlet.wsgi gave them."""
    import eventlet
    from eventlet.green import socket as green_socket

    from rest.guard import RestGuard
    from rest.server import HttpServer

    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        seen['body'] = environ['wsgi.input'].read()
        start_response('200 OK', [])
        return [b'ok']

    listener = eventlet.listen(('127.0.0.1', 0))
    server = HttpServer(RestGuard(app), '127.0.0.1', 0, listener=listener)
    thread = eventlet.spawn(server.serve_forever)
    try:
        raw = Raw(server.port, green_socket.create_connection(('127.0.0.1', server.port)))
        raw.send(b'PUT /p%2Fq?x=1 HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nX-Thing: a\r\n'
                 b'Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n')
        assert raw.response()[::2] == (200, b'ok')
        raw.close()
    finally:
        thread.kill()
        listener.close()
    assert (seen['REQUEST_METHOD'], seen['PATH_INFO'], seen['QUERY_STRING'], seen['RAW_PATH_INFO']) == (
        'PUT', '/p/q', 'x=1', '/p%2Fq')
    assert (seen['CONTENT_TYPE'], seen['CONTENT_LENGTH'], seen['HTTP_X_THING'], seen['HTTP_HOST']) == (
        'text/plain', '3', 'a', 'h')
    assert seen['body'] == b'abc' and 'HTTP_TRANSFER_ENCODING' not in seen
    assert seen['wsgi.url_scheme'] == 'http' and seen['SERVER_PROTOCOL'] == 'HTTP/1.1'
    assert isinstance(seen['wsgi.input'], io.BytesIO)


def test_the_access_log_shows_pushes_and_errors_not_each_read(start_controller):
    """What an operator reads at the default level while a web UI polls: the push, the 404; not the reads."""
    controller = start_controller()
    for _ in range(5):
        assert controller.get('/wm/core/controller/switches/json')[0] == 200
    assert controller.post('/wm/staticflowpusher/json', json.dumps({
        'switch': '00:00:00:00:00:00:00:01', 'name': 'logged', 'actions': 'output=1'}))[0] == 200
    assert controller.get('/wm/no/such/json')[0] == 404
    wait_for(lambda: '"GET /wm/no/such/json HTTP/1.1" 404' in controller.log(), 5, what='the 404 logged')
    log = controller.log()
    assert '"POST /wm/staticflowpusher/json HTTP/1.1" 200' in log
    assert '/wm/core/controller/switches/json' not in log
