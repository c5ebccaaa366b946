"""The one REST adapter (apps/rest_routes.py): route rows on Ryu's WSGIApplication, driven in-process with webob."""
import logging

import pytest

from apps import ryu_compat

ryu_compat.apply_all()

from ryu.app.wsgi import WSGIApplication  # noqa: E402
from webob import Request as WebRequest  # noqa: E402

from apps.rest_routes import mount, mount_fallback  # noqa: E402
from rest.floodlight import FlowValidationError  # noqa: E402
from rest.http import HttpError, Reply, Route  # noqa: E402

pytestmark = pytest.mark.unit


def echo(app, request, name):
    return {'app': app, 'name': name, 'method': request.method, 'path': request.path, 'params': request.params,
            'body': request.body.decode(), 'type': request.content_type}


def created(app, request):
    return Reply(201, '{"ready":"string"}', {'X-Entry': 'e1'})


def refuse(app, request):
    raise HttpError(409, 'taken', {'Retry-After': '1'})


def invalid(app, request):
    raise FlowValidationError('bad', key='priority')


def bug(app, request):
    return {}['missing']


ROUTES = [
    Route(('GET', 'PUT'), '/t/echo/{name}', echo, {'name': '[a-z]+'}),
    Route(('POST',), '/t/created', created),
    Route(('GET',), '/t/refuse', refuse),
    Route(('GET',), '/t/invalid', invalid),
    Route(('GET',), '/t/bug', bug),
]


@pytest.fixture(scope='module')
def wsgi():
    application = WSGIApplication()
    mount(application, ROUTES, 'the-app')
    mount_fallback(application)
    return application


def call(wsgi, method, path, body=None, content_type=None):
    request = WebRequest.blank(path, method=method)
    if body is not None:
        request.body = body
        request.content_type = content_type
    response = request.get_response(wsgi)
    return response.status_int, dict(response.headers), response.body


def test_a_handlers_object_is_the_compact_json_body_of_a_200(wsgi):
    status, headers, body = call(wsgi, 'PUT', '/t/echo/abc?x=1&x=2&y=%C3%A9', b'{"k":1}',
                                 'application/json; charset=utf-8')
    assert status == 200 and headers['Content-Type'] == 'application/json'
    assert body == (b'{"app":"the-app","name":"abc","method":"PUT","path":"/t/echo/abc","params":{"x":"2","y":"\xc3\xa9"},'
                    b'"body":"{\\"k\\":1}","type":"application/json"}')


def test_a_reply_sets_status_and_headers_and_a_ready_string_keeps_its_charset(wsgi):
    status, headers, body = call(wsgi, 'POST', '/t/created')
    assert status == 201 and body == b'{"ready":"string"}'
    assert headers['Content-Type'] == 'application/json; charset=UTF-8' and headers['X-Entry'] == 'e1'


def test_errors_go_through_the_one_error_mapping(wsgi, caplog):
    status, headers, body = call(wsgi, 'GET', '/t/refuse')
    assert (status, headers['Retry-After'], body) == (409, '1', b'{"status":"Error! taken","reason":"taken"}')
    status, _headers, body = call(wsgi, 'GET', '/t/invalid')
    assert status == 400 and b'priority' in body
    with caplog.at_level(logging.ERROR):
        status, _headers, body = call(wsgi, 'GET', '/t/bug')
    assert status == 500 and body == (b'{"status":"Error! internal error, see the controller log",'
                                      b'"reason":"internal error, see the controller log"}')
    assert 'REST GET /t/bug failed' in caplog.text and 'KeyError' in caplog.text


def test_requirements_methods_and_the_json_fallback(wsgi):
    status, headers, body = call(wsgi, 'DELETE', '/t/echo/abc')
    assert status == 405 and headers['Allow'] == 'GET, PUT'
    assert body == (b'{"status":"Error! DELETE is not allowed on /t/echo/abc; use GET, PUT",'
                    b'"reason":"DELETE is not allowed on /t/echo/abc; use GET, PUT"}')
    status, headers, body = call(wsgi, 'GET', '/t/echo/ABC')  # the requirement does not match: no route
    assert status == 404 and 'Allow' not in headers
    assert body == b'{"status":"Error! no such resource: GET /t/echo/ABC","reason":"no such resource: GET /t/echo/ABC"}'
