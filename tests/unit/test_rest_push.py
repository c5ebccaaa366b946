"""rest.staticflow.push, the one way a static flow push goes (rest.server's raw route and ryu's router alike):
body bytes in, the app's push called with the parsed entry, one reply out; the app replies between its commit
and its flow-mods. Also rest.service.build_rest_server's settings checks."""
import json
import logging
import types

import pytest

from controller.staticflow import EntryConflictError
from rest import floodlight as fl
from rest import staticflow

pytestmark = pytest.mark.unit

BODY = json.dumps({'switch': '00:00:00:00:00:00:00:01', 'name': 'e', 'in_port': '1', 'actions': 'output=2'}).encode()


class App:
    """StaticFlowApp.push's contract: commit, reply(), then send; or raise before reply()."""

    def __init__(self, fail=None, fail_after_reply=False):
        self.events = []
        self.fail = fail
        self.fail_after_reply = fail_after_reply

    def push(self, entry, dialect, reply):
        self.events.append(('commit', entry.name, dialect.name))
        if self.fail is not None:
            raise self.fail
        reply()
        self.events.append(('send', entry.name))
        if self.fail_after_reply:
            raise RuntimeError('the switch send failed')


def push(app, body, dialect=fl.DIALECT_V1):
    replies = []

    def respond(status, headers, data):
        app.events.append(('reply', status))
        replies.append((status, dict(headers), data))
    staticflow.push(app, dialect, body, respond)
    assert len(replies) == 1
    return replies[0]


def test_a_push_is_answered_after_its_commit_and_before_its_flow_mods():
    app = App()
    status, headers, data = push(app, BODY)
    assert (status, data) == ('200 OK', b'{"status" : "Entry pushed"}')
    assert headers == {'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': str(len(data))}
    assert app.events == [('commit', 'e', fl.DIALECT_V1.name), ('reply', '200 OK'), ('send', 'e')]


@pytest.mark.parametrize('body, key', [(b'', None), (b'[1]', None), (b'{"name": "e"}', 'switch'),
                                       (BODY.replace(b'"in_port": "1"', b'"in_port": "x"'), 'in_port')])
def test_a_bad_body_is_400_and_never_reaches_the_app(body, key):
    app = App()
    status, headers, data = push(app, body)
    reply = json.loads(data)
    assert status == '400 Bad Request' and headers['Content-Type'].startswith('application/json')
    assert reply['status'].startswith('Error') and reply.get('key') == key
    assert app.events == [('reply', '400 Bad Request')]


def test_a_conflict_is_409_and_a_bug_500_with_a_logged_traceback(caplog):
    status, _, data = push(App(fail=EntryConflictError('entry a already has this match')), BODY)
    assert status == '409 Conflict' and json.loads(data)['reason'] == 'entry a already has this match'
    with caplog.at_level(logging.ERROR):
        status, _, data = push(App(fail=KeyError('bug')), BODY)
    assert status == '500 Internal Server Error' and 'Traceback' not in data.decode()
    assert json.loads(data)['reason'] == 'internal error, see the controller log'
    assert 'KeyError' in caplog.text


def test_a_failure_after_the_reply_is_logged_and_not_answered_twice(caplog):
    app = App(fail_after_reply=True)
    with caplog.at_level(logging.ERROR):
        status, _, _ = push(app, BODY)
    assert status == '200 OK' and 'committed and answered, then failed' in caplog.text


def test_the_dialect_follows_the_url_family():
    app = App()
    routes = staticflow.raw_routes(app)
    assert sorted(routes) == sorted('/wm/%s/json%s' % (family, suffix) for family in
                                    ('staticflowentrypusher', 'staticflowpusher', 'staticentrypusher')
                                    for suffix in ('', '/store'))
    replies = []
    v0_body = json.dumps({'switch': '00:00:00:00:00:00:00:01', 'name': 'f', 'ingress-port': '1'}).encode()
    routes['/wm/staticflowentrypusher/json'](v0_body, lambda *parts: replies.append(parts))
    routes['/wm/staticentrypusher/json/store'](BODY, lambda *parts: replies.append(parts))
    assert [r[0] for r in replies] == ['200 OK', '200 OK']
    assert [e[2] for e in app.events if e[0] == 'commit'] == [fl.DIALECT_V0.name, fl.DIALECT_V1.name]


def test_the_routed_push_answers_through_the_same_function():
    """What a request that reaches ryu's router (another WSGI server) gets."""
    from apps import ryu_compat
    ryu_compat.apply_all()  # ryu.app.wsgi needs the eventlet shim
    from ryu.app.wsgi import WSGIApplication
    from webob import Request

    from apps.rest_routes import mount, mount_fallback

    app = App()
    wsgi = WSGIApplication()
    mount(wsgi, staticflow.ROUTES, app)
    mount_fallback(wsgi)
    response = Request.blank('/wm/staticflowpusher/json', method='POST', body=BODY).get_response(wsgi)
    assert (response.status, response.body) == ('200 OK', b'{"status" : "Entry pushed"}')
    assert response.headers['Content-Type'] == 'application/json; charset=UTF-8'
    response = Request.blank('/wm/staticflowpusher/json/store?x=1', method='POST', body=b'{').get_response(wsgi)
    assert response.status_int == 400 and json.loads(response.body)['status'].startswith('Error')
    response = Request.blank('/wm/staticflowpusher/json', method='PUT', body=BODY).get_response(wsgi)
    assert response.status_int == 405 and response.headers['Allow'] == 'POST, DELETE'  # as Floodlight
    assert [e[0] for e in app.events] == ['commit', 'send']


def conf(**settings):
    values = dict(wsapi_host='127.0.0.1', wsapi_port=0, rest_max_body=100, rest_token_file=None, rest_cert=None,
                  rest_key=None, rest_max_connections=3, rest_request_timeout=0.5, rest_cors_origins=[])
    values.update(settings)
    return types.SimpleNamespace(**values)


def test_build_rest_server_refuses_settings_it_cannot_serve_with(tmp_path):
    from rest.service import RestConfigError, build_rest_server

    empty = tmp_path / 'token'
    empty.write_text('\n')
    with pytest.raises(RestConfigError, match='is empty'):
        build_rest_server(None, conf(rest_token_file=str(empty)))
    with pytest.raises(RestConfigError, match='cannot read the REST token file'):
        build_rest_server(None, conf(rest_token_file=str(tmp_path / 'missing')))
    with pytest.raises(RestConfigError, match='needs both --rest-cert and --rest-key'):
        build_rest_server(None, conf(rest_cert=str(empty)))
    with pytest.raises(RestConfigError, match='cannot serve HTTPS'):
        build_rest_server(None, conf(rest_cert=str(empty), rest_key=str(empty)))


def test_build_rest_server_applies_the_settings(tmp_path):
    from rest.service import build_rest_server

    token = tmp_path / 'token'
    token.write_text('s3cret\n')
    app = App()
    server = build_rest_server(None, conf(rest_token_file=str(token)), staticflow.raw_routes(app))
    try:
        assert (server.max_connections, server.request_timeout, server.guard.max_body) == (3, 0.5, 100)
        assert server.guard.token == b's3cret' and server.port > 0 and server.scheme == 'http'
        assert server.guard.raw_route('POST', '/wm/staticflowpusher/json') is not None
    finally:
        server.listener.close()
