"""rest.server's request parser: bytes in, a Request, None (more bytes needed) or an HttpError out."""
import json

import pytest

from rest.http import HttpError, error_parts
from rest.server import MAX_HEAD, MAX_HEADERS, MAX_REQUEST_LINE, decode_chunked, parse_head, response_bytes

PUSH = b'POST /wm/staticflowpusher/json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'


def refused(buf):
    with pytest.raises(HttpError) as error:
        parse_head(buf)
    return error.value.status


def test_a_push_head():
    buf = PUSH + b'Content-Length: 12\r\nAuthorization: Bearer t\r\n\r\n{"name":"x"}'
    request = parse_head(buf)
    assert (request.method, request.path, request.query, request.version) == (
        'POST', '/wm/staticflowpusher/json', '', 'HTTP/1.1')
    assert request.length == 12 and not request.chunked and request.keep_alive and not request.expect_continue
    assert request.headers['authorization'] == 'Bearer t' and request.headers['host'] == 'x'
    assert buf[request.end:] == b'{"name":"x"}'


def test_incomplete_heads_need_more_bytes():
    full = PUSH + b'Content-Length: 2\r\n\r\n'
    for cut in range(1, len(full)):
        assert parse_head(full[:cut]) is None, full[:cut]


def test_query_absolute_form_bare_lf_and_repeated_headers():
    request = parse_head(b'GET http://h:8080/wm/x/json?a=1&b=2 HTTP/1.0\nX-A: 1\nx-a:  2 \n\n')
    assert (request.path, request.query, request.version) == ('/wm/x/json', 'a=1&b=2', 'HTTP/1.0')
    assert request.headers['x-a'] == '1,2' and request.end == len(b'GET http://h:8080/wm/x/json?a=1&b=2 HTTP/1.0'
                                                                 b'\nX-A: 1\nx-a:  2 \n\n')
    assert parse_head(b'GET / HTTP/1.1\r\nH: \xe9\r\n\r\n').headers['h'] == '\u00e9'  # latin-1, as WSGI wants


@pytest.mark.parametrize('version, connection, keep', [
    (b'HTTP/1.1', None, True), (b'HTTP/1.1', b'close', False), (b'HTTP/1.1', b'Keep-Alive, Close', False),
    (b'HTTP/1.0', None, False), (b'HTTP/1.0', b'keep-alive', True), (b'HTTP/1.0', b'Keep-Alive', True)])
def test_keep_alive(version, connection, keep):
    head = b'GET / ' + version + b'\r\n' + (b'Connection: ' + connection + b'\r\n' if connection else b'') + b'\r\n'
    assert parse_head(head).keep_alive is keep


@pytest.mark.parametrize('head', [
    b'GARBAGE\r\n\r\n', b'GET / HTTP/1.1 extra\r\n\r\n', b'GET  / HTTP/1.1\r\n\r\n', b'GET /\r\n\r\n',
    b'G(T / HTTP/1.1\r\n\r\n', b'GET / http/1.1\r\n\r\n', b'GET / HTTP/9.9\r\n\r\n', b'GET / HTTP/2.0\r\n\r\n',
    b'GET / HTTP/1.1\r\nNo colon\r\n\r\n', b'GET / HTTP/1.1\r\nName : v\r\n\r\n', b'GET / HTTP/1.1\r\n: v\r\n\r\n',
    b'GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n', b'GET /\x00 HTTP/1.1\r\n\r\n', b'GET /\xff HTTP/1.1\r\n\r\n',
    b'POST / HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n', b'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n',
    b'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    b'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n',
    b'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n',
    b' GET / HTTP/1.1\r\n\r\n', b'\r\n\r\n'])
def test_bad_heads_are_400(head):
    assert refused(head) == 400


def test_tls_on_the_plain_port_is_refused_without_a_line_end():
    assert refused(b'\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03') == 400
    assert refused(b'\x80') == 400


def test_size_limits():
    assert refused(b'GET /' + b'a' * MAX_REQUEST_LINE + b' HTTP/1.1\r\n\r\n') == 414
    assert refused(b'GET /' + b'a' * MAX_REQUEST_LINE) == 414  # no line end yet: refused already
    assert parse_head(b'GET /' + b'a' * 4000 + b' HTTP/1.1\r\n\r\n').path == '/' + 'a' * 4000
    assert refused(b'GET / HTTP/1.1\r\nX: ' + b'a' * 8200 + b'\r\n\r\n') == 431
    many = b''.join(b'X-%d: 1\r\n' % i for i in range(MAX_HEADERS + 1))
    assert refused(b'GET / HTTP/1.1\r\n' + many + b'\r\n') == 431
    assert parse_head(b'GET / HTTP/1.1\r\n' + many[:many.rindex(b'X-')] + b'\r\n') is not None
    assert refused(b'GET / HTTP/1.1\r\n' + b'X: 1234567\r\n' * (MAX_HEAD // 12 + 1)) == 431  # no end in sight


def test_expect_continue_and_chunked_flags():
    request = parse_head(b'POST / HTTP/1.1\r\nExpect: 100-Continue\r\nTransfer-Encoding: Chunked\r\n\r\n')
    assert request.expect_continue and request.chunked and request.length is None


def test_decode_chunked():
    body = b'5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT'
    assert decode_chunked(body, 0, 100) == (b'hello world', len(body) - 4)
    for cut in range(len(body) - 4):
        assert decode_chunked(body[:cut], 0, 100) is None, body[:cut]
    assert decode_chunked(b'0\n\n', 0, 0) == (b'', 3)
    for bad in (b'zz\r\n', b'-1\r\nx\r\n', b'5\r\nhelloXX0\r\n\r\n', b'0x5\r\nhello\r\n0\r\n\r\n'):
        with pytest.raises(HttpError) as error:
            decode_chunked(bad, 0, 100)
        assert error.value.status == 400, bad
    with pytest.raises(HttpError) as error:
        decode_chunked(b'ffffffff\r\n', 0, 100)  # refused from the size line, before the data
    assert error.value.status == 413


def test_responses():
    reply = response_bytes('HTTP/1.1', '200 OK', [('Content-Type', 'application/json')], b'{}', True)
    head, _, body = reply.partition(b'\r\n\r\n')
    lines = head.split(b'\r\n')
    assert lines[0] == b'HTTP/1.1 200 OK' and body == b'{}'
    assert b'Content-Length: 2' in lines and any(line.startswith(b'Date: ') for line in lines)
    assert not any(line.startswith(b'Connection') for line in lines)
    closing = response_bytes('HTTP/1.1', '404 Not Found', [('Content-Length', '2')], b'{}', False)
    assert b'Connection: close\r\n' in closing and closing.count(b'Content-Length') == 1
    assert b'Connection: keep-alive\r\n' in response_bytes('HTTP/1.0', '200 OK', [], b'', True)
    assert b'Content-Length' not in response_bytes('HTTP/1.1', '204 No Content', [], b'', True)
    assert response_bytes('HTTP/1.1', '200 OK', [], b'{}', True, head_only=True).endswith(b'\r\n\r\n')
    status, headers, body = error_parts(413, 'bad "x"', {'Retry-After': '1'})
    assert status == '413 Content Too Large' and json.loads(body) == {'status': 'Error! bad "x"',
                                                                             'reason': 'bad "x"'}
    assert headers == [('Content-Type', 'application/json'), ('Content-Length', str(len(body))), ('Retry-After', '1')]


def test_guard_head_checks_and_raw_routes():
    from rest.guard import RestGuard

    def app(environ, start_response):
        start_response('200 OK', [])
        return [b'']

    def push(body, respond):
        respond('200 OK', (), body)
    open_guard = RestGuard(app, raw_routes={'/push': push})
    assert open_guard.head_refusal('/x', None) is None
    status, headers, body = open_guard.head_refusal('*', None)
    assert status.startswith('404') and json.loads(body)['reason']
    guard = RestGuard(app, token='t0ken')
    assert guard.head_refusal('/x', 'Bearer t0ken') is None and guard.head_refusal('/x', ' bearer  t0ken ') is None
    for value in (None, '', 'Bearer t0ke', 'Basic t0ken', 't0ken'):
        status, headers, body = guard.head_refusal('/x', value)
        assert status == '401 Unauthorized' and ('WWW-Authenticate', 'Bearer') in headers, value
    assert guard.head_refusal('/wm/core/health/json', None) is None
    assert open_guard.raw_route('POST', '/push') is push
    assert open_guard.raw_route('GET', '/push') is None and open_guard.raw_route('POST', '/other') is None
    assert guard.raw_route('POST', '/push') is None


def test_a_cached_head_is_the_head():
    headers = (('Content-Type', 'application/json'), ('Content-Length', '2'))
    first = response_bytes('HTTP/1.1', '200 OK', headers, b'{}', True)
    assert response_bytes('HTTP/1.1', '200 OK', headers, b'{}', True) == first
    assert response_bytes('HTTP/1.1', '200 OK', list(headers), b'{}', True) == first
    assert response_bytes('HTTP/1.1', '200 OK', headers, b'{}', False).count(b'Connection: close') == 1


def test_the_access_log_keeps_reads_that_worked_at_debug():
    """A polling web UI must not bury pushes and errors at INFO (rest.server.access_level)."""
    import logging

    from rest.server import access_level
    assert access_level('GET', '200 OK') == access_level('HEAD', '304 Not Modified') == logging.DEBUG
    assert access_level('OPTIONS', '204 No Content') == logging.DEBUG
    for method, status in (('POST', '200 OK'), ('DELETE', '200 OK'), ('PUT', '204 No Content'),
                           ('GET', '404 Not Found'), ('GET', '401 Unauthorized'), ('GET', '500 Internal Server Error')):
        assert access_level(method, status) == logging.INFO, (method, status)
