"""REST lock-down: listen addresses, the open-API warning, bearer tokens, HTTPS."""
import json
import os
import socket
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.lib.controller import ControllerProcess, port_open, wait_for
from tests.protocol.helpers import STATICFLOW_URL, SWITCHES_URL

pytestmark = pytest.mark.protocol

ENTRY = json.dumps({'switch': '00:00:00:00:00:00:0c:01', 'name': 'locked', 'eth_dst': '52:54:00:00:0c:01',
                    'actions': 'output=1'})
OPEN_WARNING = 'REST API open without authentication'
HEALTH_URL = '/wm/core/health/json'


def request(url, method='GET', body=None, token=None, context=None):
    req = urllib.request.Request(url, data=body.encode() if isinstance(body, str) else body, method=method)
    if token is not None:
        req.add_header('Authorization', 'Bearer ' + token)
    try:
        with urllib.request.urlopen(req, timeout=10, context=context) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def listens_beyond_127_0_0_1(port):
    """127.0.0.2 is loopback too, but reaches only a socket bound to all interfaces (or to it)."""
    return port_open(port, host='127.0.0.2')


def test_listen_addresses_default_to_all_interfaces_with_a_warning(start_controller):
    controller = start_controller(extra_args=['--wsapi-host', '0.0.0.0'])
    assert listens_beyond_127_0_0_1(controller.rest_port)
    assert listens_beyond_127_0_0_1(controller.ofp_port)
    assert OPEN_WARNING in controller.log()


def test_listen_addresses_are_settable_and_loopback_needs_no_warning(tmp_path):
    controller = ControllerProcess(tmp_path, ofp_host='127.0.0.1')  # --wsapi-host 127.0.0.1 as well
    controller.start()
    try:
        assert not listens_beyond_127_0_0_1(controller.rest_port)
        assert not listens_beyond_127_0_0_1(controller.ofp_port)
        assert controller.get(SWITCHES_URL)[0] == 200
        assert OPEN_WARNING not in controller.log()
    finally:
        controller.stop()
    controller.assert_clean_log()


def test_bearer_token_guards_every_endpoint_but_health(start_controller, tmp_path):
    token_file = tmp_path / 'rest-token'
    token_file.write_text('s3cret-Token_42\n')
    controller = start_controller(extra_args=['--wsapi-host', '0.0.0.0', '--rest-token-file', str(token_file)])
    assert OPEN_WARNING not in controller.log()
    assert 'bearer token sent over plain HTTP' in controller.log()
    base = controller.base_url
    token = 's3cret-Token_42'
    refused = [(m, p, b) for m, p, b in [
        ('GET', SWITCHES_URL, None), ('POST', STATICFLOW_URL, ENTRY), ('DELETE', STATICFLOW_URL, '{"name":"x"}'),
        ('GET', '/wm/staticflowpusher/list/all/json', None), ('GET', '/wm/staticflowpusher/clear/all/json', None),
        ('GET', '/wm/staticentrypusher/status/all/json', None), ('GET', '/no/such/path', None),
        ('PUT', STATICFLOW_URL, '{}'), ('GET', '/wm/core/controller/connections/json', None),
    ]]
    for credentials in (None, '', 'wrong', token + 'x', token[:-1], token.upper()):
        for method, path, body in refused:
            status, text, headers = request(base + path, method, body, token=credentials)
            assert status == 401, (credentials, method, path, status, text)
            assert json.loads(text)['reason'] and {k.lower(): v for k, v in headers.items()}['www-authenticate'] == 'Bearer'
    # other schemes and malformed headers are refused too
    for header in ('Basic czNjcmV0', token, 'Bearer', 'Bearer  ', 'bearer' + token):
        req = urllib.request.Request(base + SWITCHES_URL, headers={'Authorization': header})
        with pytest.raises(urllib.error.HTTPError) as refused_error:
            urllib.request.urlopen(req, timeout=10)
        assert refused_error.value.code == 401
    assert request(base + '/wm/staticflowpusher/list/all/json', token=token)[1] == '{}'  # nothing was stored

    # health answers without a token (whatever its status while it is not implemented, never 401)
    assert request(base + HEALTH_URL)[0] != 401
    # the right token opens everything
    assert request(base + SWITCHES_URL, token=token)[0] == 200
    assert request(base + STATICFLOW_URL, 'POST', ENTRY, token=token)[:2] == (200, '{"status" : "Entry pushed"}')
    status, text, _ = request(base + '/wm/staticflowpusher/list/all/json', token=' ' + token)
    assert status == 200 and 'locked' in text
    assert request(base + '/no/such/path', token=token)[0] == 404


@pytest.mark.parametrize('content', ['', '  \n', 'two words\n'])
def test_unusable_token_file_stops_the_start(tmp_path, content):
    token_file = tmp_path / 'rest-token'
    token_file.write_text(content)
    controller = ControllerProcess(tmp_path, extra_args=['--rest-token-file', str(token_file)])
    with pytest.raises(AssertionError, match='controller exited with 2'):
        controller.start()
    assert 'Traceback' not in controller.log()
    missing = ControllerProcess(tmp_path, extra_args=['--rest-token-file', str(tmp_path / 'nonexistent')])
    with pytest.raises(AssertionError, match='cannot read the REST token file'):
        missing.start()


def make_certificate(directory):
    key, cert = os.path.join(directory, 'rest.key'), os.path.join(directory, 'rest.crt')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
                    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
                   check=True, capture_output=True)
    return key, cert


def test_https_rest(tmp_path):
    key, cert = make_certificate(str(tmp_path))
    token_file = tmp_path / 'rest-token'
    token_file.write_text('tls-token')
    controller = ControllerProcess(tmp_path, extra_args=['--rest-cert', cert, '--rest-key', key, '--wsapi-host',
                                                         '0.0.0.0', '--rest-token-file', str(token_file)])
    controller.start()
    try:
        base = 'https://127.0.0.1:%d' % controller.rest_port
        trusted = ssl.create_default_context(cafile=cert)
        assert request(base + SWITCHES_URL, token='tls-token', context=trusted)[:2] == (200, '[]')
        assert request(base + SWITCHES_URL, context=trusted)[0] == 401
        # a client that does not trust the certificate is refused by its own TLS stack
        with pytest.raises(urllib.error.URLError):
            request(base + SWITCHES_URL, token='tls-token', context=ssl.create_default_context())
        # plain HTTP, and raw garbage, on the HTTPS port: the connection fails, the server keeps serving
        with pytest.raises((urllib.error.URLError, ConnectionError, http_errors())):
            request('http://127.0.0.1:%d%s' % (controller.rest_port, SWITCHES_URL))
        with socket.create_connection(('127.0.0.1', controller.rest_port), timeout=5) as sock:
            sock.sendall(b'\x16\x03\x01\x00\x05garbage' * 10)
            sock.settimeout(5)
            try:
                sock.recv(100)
            except OSError:
                pass
        wait_for(lambda: request(base + SWITCHES_URL, token='tls-token', context=trusted)[0] == 200, 5.0,
                 what='HTTPS to keep serving')
        assert 'over plain HTTP' not in controller.log() and OPEN_WARNING not in controller.log()
        assert request(base + STATICFLOW_URL, 'POST', ENTRY, token='tls-token', context=trusted)[0] == 200
    finally:
        controller.stop()
    controller.assert_clean_log()


def http_errors():
    import http.client
    return http.client.HTTPException


def test_a_page_of_another_site_cannot_push_or_clear_entries(start_controller):
    """What a page elsewhere can make its visitor's browser send, without a token set: a form's POST (text/plain:
    no preflight) and a link to Floodlight's clear URL. Refused with a reason, nothing changed; the same requests
    from curl, and from a page of the controller's own origin, work."""
    controller = start_controller()
    form = {'Origin': 'http://evil.example', 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'text/plain'}
    status, text, _ = controller.request('POST', STATICFLOW_URL, ENTRY, headers=form)
    assert status == 403 and 'allow that origin with --rest-cors-origins' in json.loads(text)['reason']
    assert json.loads(controller.get('/wm/staticflowpusher/list/all/json')[1]) == {}
    status, text, _ = controller.request('POST', STATICFLOW_URL, ENTRY)  # curl
    assert status == 200, text
    # a link clicked on another site (a navigation: no Origin header), and one from a browser without
    # Sec-Fetch-Site (its Origin names another host than the one asked)
    for headers in ({'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate'},
                    {'Origin': 'http://evil.example'}):
        status, text, _ = controller.request('GET', '/wm/staticflowpusher/clear/all/json', headers=headers)
        assert status == 403, (headers, text)
        assert list(json.loads(controller.get('/wm/staticflowpusher/list/all/json')[1]).values()) != [[]]
    own = {'Origin': controller.base_url, 'Sec-Fetch-Site': 'same-origin'}
    status, text, _ = controller.request('GET', '/wm/staticflowpusher/clear/all/json', headers=own)
    assert status == 200, text
    listing = json.loads(controller.get('/wm/staticflowpusher/list/all/json')[1])
    assert all(not entries for entries in listing.values()), listing
