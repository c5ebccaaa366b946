"""The pure guards: controller.ofguard (what a switch may send) and rest.guard (body limit, bearer token, 500)."""
import io
import json
import re
import struct

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from controller.ofguard import PeerCheck, ProtocolViolation
from rest.guard import RestGuard, TokenFileError, read_token_file

pytestmark = pytest.mark.unit


def header(msg_type, length, version=1):
    return struct.pack('!BBHI', version, msg_type, length, 7)


def checked(*headers):
    check = PeerCheck()
    for data in headers:
        check.check(data)
        check.received()
    return check


def test_a_normal_session_passes():
    checked(header(ofp.OFPT_ECHO_REQUEST, 8), header(ofp.OFPT_HELLO, 8), header(ofp.OFPT_FEATURES_REPLY, 32 + 48 * 3),
            header(ofp.OFPT_BARRIER_REPLY, 8), header(ofp.OFPT_STATS_REPLY, 12 + 1056),
            header(ofp.OFPT_PORT_STATUS, 64), header(ofp.OFPT_FLOW_REMOVED, 88), header(ofp.OFPT_ERROR, 76),
            header(ofp.OFPT_PACKET_IN, 18 + 60), header(ofp.OFPT_VENDOR, 24))


def test_cbench_host_order_config_length_is_read_as_12_and_noted_once():
    noted = []
    check = PeerCheck(note=noted.append)
    check.check(header(ofp.OFPT_HELLO, 8))
    check.received()
    for _ in range(2):
        assert check.check(header(ofp.OFPT_GET_CONFIG_REPLY, 0x0c00)) == 12
        check.received()
    assert noted == ['GET_CONFIG_REPLY length in host byte order'] and check.quirks == set(noted)
    assert check.check(header(ofp.OFPT_PACKET_IN, 78)) == 78
    check.received()
    for length in (0x0d00, 13):  # any other wrong length still ends the session
        with pytest.raises(ProtocolViolation):
            check.check(header(ofp.OFPT_GET_CONFIG_REPLY, length))


def test_a_hello_of_a_newer_version_is_left_to_negotiation():
    checked(header(ofp.OFPT_HELLO, 16, version=4))


@pytest.mark.parametrize('sequence, reason', [
    ([header(ofp.OFPT_FEATURES_REPLY, 32)], 'first message is not an OpenFlow HELLO'),
    ([header(ofp.OFPT_HELLO, 8, version=0)], 'first message is not an OpenFlow HELLO'),
    ([b'GET / HT'], 'first message is not an OpenFlow HELLO'),
    ([header(ofp.OFPT_HELLO, 4)], 'shorter than the OpenFlow header'),
    ([header(ofp.OFPT_HELLO, 8), header(ofp.OFPT_ECHO_REPLY, 8, version=4)], 'version 0x04 message'),
    ([header(ofp.OFPT_HELLO, 8), header(ofp.OFPT_FLOW_MOD, 72)], 'message type 14'),
    ([header(ofp.OFPT_HELLO, 8), header(200, 8)], 'message type 200'),
    ([header(ofp.OFPT_HELLO, 8), header(ofp.OFPT_BARRIER_REPLY, 9)], 'BARRIER_REPLY message of 9 bytes'),
    ([header(ofp.OFPT_HELLO, 8), header(ofp.OFPT_GET_CONFIG_REPLY, 0xffff)], 'GET_CONFIG_REPLY'),
    ([header(ofp.OFPT_HELLO, 8), header(ofp.OFPT_FEATURES_REPLY, 33)], 'not 32 + 48 per port'),
    ([header(ofp.OFPT_HELLO, 8), header(ofp.OFPT_PACKET_IN, 17)], 'PACKET_IN message of 17 bytes'),
    ([header(ofp.OFPT_HELLO, 8), b'\x01\x0a'], 'truncated header'),
])
def test_violations(sequence, reason):
    with pytest.raises(ProtocolViolation, match=re.escape(reason)):
        checked(*sequence)


def test_a_header_looked_at_again_while_its_body_arrives_is_checked_once():
    check = PeerCheck()
    hello = header(ofp.OFPT_HELLO, 16, version=5)  # passes only as the first message
    check.check(hello)
    check.check(hello)  # Ryu's receive loop re-reads the header after each partial read
    check.received()
    with pytest.raises(ProtocolViolation):
        check.check(hello)  # a second HELLO of version 5 is another message


# --- rest.guard -------------------------------------------------------------------------------------------

def call(guard, method='GET', path='/x', body=b'', headers=None, chunked=False):
    environ = {'REQUEST_METHOD': method, 'PATH_INFO': path, 'wsgi.input': io.BytesIO(body)}
    if chunked:
        environ['HTTP_TRANSFER_ENCODING'] = 'chunked'
    elif body:
        environ['CONTENT_LENGTH'] = str(len(body))
    for name, value in (headers or {}).items():
        environ['HTTP_' + name.upper().replace('-', '_')] = value
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen['status'] = int(status.split()[0])
        seen['headers'] = dict(response_headers)
    payload = b''.join(guard(environ, start_response))
    return seen['status'], payload, seen['headers'], environ


def echo_app(environ, start_response):
    data = environ['wsgi.input'].read(int(environ.get('CONTENT_LENGTH') or 0))
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [json.dumps({'got': len(data)}).encode()]


def test_body_limit():
    guard = RestGuard(echo_app, max_body=10)
    assert call(guard, 'POST', body=b'x' * 10)[:2] == (200, b'{"got": 10}')
    status, payload, _, _ = call(guard, 'POST', body=b'x' * 11)
    assert status == 413 and json.loads(payload)['reason'].startswith('the request body is limited to 10 bytes')
    assert call(guard, 'POST', body=b'x' * 10, chunked=True)[:2] == (200, b'{"got": 10}')
    assert call(guard, 'POST', body=b'x' * 11, chunked=True)[0] == 413
    environ = {'REQUEST_METHOD': 'POST', 'PATH_INFO': '/x', 'wsgi.input': io.BytesIO(b''), 'CONTENT_LENGTH': 'abc'}
    seen = {}
    payload = b''.join(guard(environ, lambda status, headers, exc=None: seen.update(status=int(status[:3]))))
    assert seen['status'] == 400 and b'Content-Length' in payload


def test_bearer_token():
    guard = RestGuard(echo_app, token='t0ken')
    assert call(guard)[0] == 401
    assert call(guard, headers={'Authorization': 'Bearer t0ken'})[0] == 200
    assert call(guard, headers={'Authorization': 'bearer  t0ken '})[0] == 200
    for header_value in ('Bearer t0ken2', 'Bearer t0ke', 'Basic t0ken', 't0ken', 'Bearer', 'Bearer \u00e9'):
        status, payload, headers, _ = call(guard, headers={'Authorization': header_value})
        assert status == 401 and headers['WWW-Authenticate'] == 'Bearer', header_value
        assert json.loads(payload)['reason']
    assert call(guard, path='/wm/core/health/json')[0] == 200
    assert call(guard, path='/wm/core/health/json/')[0] == 401


def test_a_crashing_application_gets_a_json_500():
    def broken(environ, start_response):
        raise RuntimeError('bug')
    status, payload, _, _ = call(RestGuard(broken))
    assert status == 500 and json.loads(payload)['reason'] == 'internal error, see the controller log'


@pytest.mark.parametrize('content, error', [('secret\n', None), ('', 'is empty'), (' \n', 'is empty'),
                                            ('two words', 'printable ASCII'), ('caf\u00e9', 'printable ASCII')])
def test_token_file(tmp_path, content, error):
    path = tmp_path / 'token'
    path.write_text(content)
    if error is None:
        assert read_token_file(str(path)) == 'secret'
    else:
        with pytest.raises(TokenFileError, match=error):
            read_token_file(str(path))
    with pytest.raises(TokenFileError, match='cannot read'):
        read_token_file(str(tmp_path / 'missing'))


@pytest.mark.parametrize('module', ['controller.ofguard', 'rest.guard'])
def test_guards_are_pure(module):
    import subprocess
    import sys
    code = ('import sys, %s; bad = [m for m in sys.modules if m.startswith(("ryu.controller", "ryu.base", '
            '"ryu.app", "eventlet"))]; print(bad); sys.exit(1 if bad else 0)' % module)
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cors_headers_only_for_allowed_origins():
    """floodlight-webui served by another web server calls the API from its own origin (--rest-cors-origins)."""
    closed = RestGuard(echo_app)
    assert closed.cors_headers('http://ui.example:8000') == ()
    assert closed.preflight('OPTIONS', 'http://ui.example:8000', 'POST') is None  # routed as before: 405
    named = RestGuard(echo_app, cors_origins=['http://ui.example:8000/'])  # a trailing slash is no other origin
    assert named.cors_headers('http://ui.example:8000') == (
        ('Access-Control-Allow-Origin', 'http://ui.example:8000'), ('Vary', 'Origin'))
    for other in ('http://ui.example:8001', 'https://ui.example:8000', 'null', '', None):
        assert named.cors_headers(other) == (), other
    anyone = RestGuard(echo_app, cors_origins=['*'])
    assert anyone.cors_headers('http://elsewhere:1') == (
        ('Access-Control-Allow-Origin', 'http://elsewhere:1'), ('Vary', 'Origin'))  # echoed, not *


def test_cors_preflight():
    guard = RestGuard(echo_app, token='t0ken', cors_origins=['http://ui.example:8000'])
    status, headers, body = guard.preflight('OPTIONS', 'http://ui.example:8000', 'POST')
    assert (status, body) == ('204 No Content', b'')
    assert dict(headers) == {'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE',
                             'Access-Control-Allow-Headers': 'Content-Type, Accept, Authorization, X-Requested-With',
                             'Access-Control-Max-Age': '600'}
    status, headers, body = guard.preflight('OPTIONS', 'http://evil.example', 'DELETE')
    assert status == '403 Forbidden' and 'http://evil.example' in json.loads(body)['reason']
    # not a preflight: no Origin, no requested method, or another method
    assert guard.preflight('OPTIONS', None, 'POST') is None
    assert guard.preflight('OPTIONS', 'http://ui.example:8000', None) is None
    assert guard.preflight('GET', 'http://ui.example:8000', 'POST') is None


def test_requests_from_another_sites_pages_are_refused_unless_its_origin_is_allowed():
    """Without a token, a page elsewhere could make its visitor's browser push or clear entries: a form POST
    (text/plain, no preflight), or a link to Floodlight's GET .../clear/all/json. Browsers say where a request
    comes from (Sec-Fetch-Site; older ones only Origin); curl and scripts say nothing and pass."""
    guard = RestGuard(echo_app)
    clear = '/wm/staticflowpusher/clear/all/json'
    evil = {'Origin': 'http://evil.example', 'Sec-Fetch-Site': 'cross-site'}

    def both(method, path, headers, host='ctl:8080'):
        """The WSGI check and the HTTP server's head check agree -> the status."""
        headers = dict(headers, Host=host)
        status, payload, _, _ = call(guard, method, path, b'{}' if method == 'POST' else b'', headers)
        head = guard.head_refusal(path, None, headers.get('Origin'), headers.get('Sec-Fetch-Site'), host)
        assert (head is None) == (status == 200), (method, path, headers, head, status)
        if status == 403:
            assert json.loads(payload)['reason'].startswith('this controller does not take requests from the pages '
                                                            'of another site')
        return status

    assert both('POST', '/wm/staticflowpusher/json', {}) == 200                  # curl
    assert both('POST', '/wm/staticflowpusher/json', evil) == 403
    assert both('GET', clear, evil) == 403                                      # a link, an <img>
    assert both('GET', clear, {'Sec-Fetch-Site': 'cross-site'}) == 403          # a navigation sends no Origin
    assert both('GET', clear, {'Sec-Fetch-Site': 'same-site', 'Origin': 'http://ctl:3000'}) == 403  # another port
    # the API's own UI, the address bar, a bookmark; a proxy may rewrite Host: the browser's word is taken
    assert both('POST', '/wm/staticflowpusher/json', {'Sec-Fetch-Site': 'same-origin',
                                                      'Origin': 'https://proxy.example'}) == 200
    assert both('GET', clear, {'Sec-Fetch-Site': 'none'}) == 200
    # a link to the web UI or to health still opens
    assert both('GET', '/ui/index.html', evil) == 200 and both('GET', '/', evil) == 200
    assert both('GET', '/wm/core/health/json', evil) == 200
    # a browser without Sec-Fetch-Site: its Origin against the Host it asked (default ports may be left out)
    assert both('POST', '/x', {'Origin': 'http://ctl:8080'}) == 200
    assert both('POST', '/x', {'Origin': 'HTTP://CTL:8080'}) == 200
    assert both('POST', '/x', {'Origin': 'http://ctl'}, host='ctl:80') == 200
    assert both('POST', '/x', {'Origin': 'https://ctl:443'}, host='ctl') == 200
    for origin in ('http://ctl:8081', 'http://ctl.evil.example:8080', 'http://evil.example', 'null', 'ctl:8080'):
        assert both('POST', '/x', {'Origin': origin}) == 403, origin
    # --rest-cors-origins: the origins allowed to use the API from their pages
    guard = RestGuard(echo_app, cors_origins=['http://ui.example:8000'])
    assert both('POST', '/x', {'Origin': 'http://ui.example:8000', 'Sec-Fetch-Site': 'cross-site'}) == 200
    assert both('POST', '/x', evil) == 403
    guard = RestGuard(echo_app, cors_origins=['*'])
    assert both('GET', clear, {'Sec-Fetch-Site': 'cross-site'}) == 200 and both('POST', '/x', evil) == 200
