"""Replies, the one HTTP error type, the one error body, and the one error-mapping decorator of REST handlers.

Every error reply of the REST API, whoever refuses (rest.server's framing checks, rest.guard's token and body
checks, a handler, the static flow push), is `{"status": "Error! <reason>", "reason": "<reason>"}` built by
`error_body`, with the status line `status_line` gives (http.HTTPStatus's phrases).
"""
import functools
import json
import logging
import typing
from http import HTTPStatus

from controller.dpid import DpidError, parse_dpid

LOG = logging.getLogger(__name__)

JSON = 'application/json'
# The WSGI environ key under which apps/rest_routes.py leaves the pattern of the route that took a request: the
# server labels its metrics with it (a pattern, never the path: one series per route, not per switch or name).
ROUTE_ENVIRON = 'floodlight.route'
JSON_UTF8 = 'application/json; charset=UTF-8'


class HttpError(Exception):
    """A refusal that is not about a flow entry's content: an http.HTTPStatus (or its number), the reason for
    the JSON body, and extra reply headers (a dict, e.g. Allow or WWW-Authenticate)."""

    def __init__(self, status, reason, headers=None):
        super().__init__(reason)
        self.status = HTTPStatus(status)
        self.reason = reason
        self.headers = headers or {}


# RFC 9110's names, which Python 3.13's HTTPStatus took: the same status line on every supported Python.
_PHRASES = {413: 'Content Too Large', 414: 'URI Too Long', 422: 'Unprocessable Content'}


def status_line(status):
    """200 -> '200 OK' (http.HTTPStatus's phrase, RFC 9110's where older Pythons still have RFC 7231's)."""
    return '%d %s' % (status, _PHRASES.get(status) or HTTPStatus(status).phrase)


def error_body(reason, key=None):
    body = {'status': 'Error! ' + reason, 'reason': reason}
    if key is not None:
        body['key'] = key
    return body


INTERNAL_ERROR = error_body('internal error, see the controller log')


def json_bytes(body):
    """-> (bytes, Content-Type) of a JSON reply. `body` is a ready JSON string (Floodlight's hand-built replies)
    or an object to serialise compactly.

    Floodlight sent its hand-built strings as `application/json; charset=UTF-8` and its serialised objects as
    plain `application/json` (0.91, 1.x); clients that compare headers see the same here.
    """
    content_type = JSON_UTF8
    if not isinstance(body, str):
        body = json.dumps(body, separators=(',', ':'), ensure_ascii=False)
        content_type = JSON
    try:
        data = body.encode('utf-8')
    except UnicodeEncodeError:  # a lone surrogate (JSON "\ud800") echoed back: send it as a JSON escape
        data = json.dumps(json.loads(body), separators=(',', ':')).encode('ascii')
    return data, content_type


def reply_parts(status, body, headers=None):
    """-> (status line, [(name, value)], body bytes): a JSON reply as rest.server and WSGI send it."""
    data, content_type = json_bytes(body)
    header_list = [('Content-Type', content_type), ('Content-Length', str(len(data)))]
    if headers:
        header_list.extend(headers.items() if isinstance(headers, dict) else headers)
    return status_line(status), header_list, data


def error_parts(status, reason, headers=None):
    """-> (status line, headers, body bytes) of one JSON error."""
    return reply_parts(status, error_body(reason), headers)


def error_reply(error):
    """A handler's exception -> (status, JSON body, headers) for the 4xx it stands for, or None (a bug: 500)."""
    # Imported here: rest.server and rest.guard use this module, and need no OpenFlow code to frame HTTP.
    from controller.staticflow import EntryConflictError
    from rest.floodlight import FlowValidationError

    if isinstance(error, FlowValidationError):
        return HTTPStatus.BAD_REQUEST, error.to_json(), None
    if isinstance(error, EntryConflictError):
        return HTTPStatus.CONFLICT, error_body(str(error)), None
    if isinstance(error, HttpError):
        return error.status, error_body(error.reason), error.headers
    return None


def exception_parts(error, what):
    """Any exception -> (status line, headers, body bytes): its 4xx, or a 500 whose traceback is logged (`what`
    names the request in the log). Call it inside the `except` block."""
    reply = error_reply(error)
    if reply is None:
        LOG.exception('REST %s failed', what)
        reply = HTTPStatus.INTERNAL_SERVER_ERROR, INTERNAL_ERROR, None
    return reply_parts(*reply)


def json_response(body, status=200, headers=None):
    """A webob Response of json_bytes(body)."""
    from webob import Response  # imported here: the pure route handlers import this module, not webob
    data, content_type = json_bytes(body)
    response = Response(status=status, body=data)
    response.headers['Content-Type'] = content_type
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def parts_response(parts):
    """(status line, headers, body bytes) -> a webob Response carrying exactly those."""
    from webob import Response
    status, headers, data = parts
    return Response(status=status, headerlist=list(headers), body=data)


def streamed_response(streamed):
    """A Streamed reply -> a webob Response whose body is its pieces, made as the server asks for them."""
    from webob import Response
    return Response(status=200, headerlist=[('Content-Type', JSON)], app_iter=streamed.pieces)


def no_content(status=204):
    from webob import Response
    return Response(status=status)


def error_response(status, reason, key=None, headers=None):
    return json_response(error_body(reason, key), status=status, headers=headers)


def switch_param(switch):
    """A `<switch>` URL part: 'all' (any case) -> None; otherwise the DPID, or HTTP 400."""
    if switch.lower() == 'all':
        return None
    try:
        return parse_dpid(switch)
    except DpidError as error:
        raise HttpError(400, 'Invalid switch DPID: %s' % error) from None


def rest_errors(handler):
    """Bad input -> 4xx with a JSON reason; a bug -> 500 with a JSON body and a logged traceback."""
    @functools.wraps(handler)
    def wrapper(self, req, **kwargs):
        try:
            return handler(self, req, **kwargs)
        except Exception as error:  # the one catch-all of the REST layer: never answer with a stack trace
            return parts_response(exception_parts(error, '%s %s' % (req.method, req.path)))
    return wrapper


# --- the pure side of a route (apps/rest_routes.py is the one adapter to Ryu's WSGIApplication) -------------

class Route(typing.NamedTuple):
    """One row of a REST module's ROUTES table.

    methods: the HTTP methods it answers, e.g. ('GET',) (another method on the path gets the JSON 405).
    path: a Routes template, '/wm/core/switch/{switch}/{stat}/json'; each {param} is passed to the handler.
    handler: handler(app, request, **params) -> the JSON body of a 200 (an object, or a ready JSON string), or a
        Reply; it raises HttpError (or FlowValidationError, EntryConflictError) for a 4xx.
    requirements: {param: regular expression} a path part must match for the row to match.
    """
    methods: tuple
    path: str
    handler: typing.Callable
    requirements: typing.Optional[dict] = None


class Request:
    """What a handler sees of an HTTP request: method, path (as sent, still %-quoted), params (the query, one
    value per name: the last), body (bytes) and content_type (the media type, without its parameters)."""
    __slots__ = ('method', 'path', 'params', 'body', 'content_type')

    def __init__(self, method, path, params=None, body=b'', content_type=''):
        self.method = method
        self.path = path
        self.params = params or {}
        self.body = body
        self.content_type = content_type


class Reply(typing.NamedTuple):
    """A handler's answer when it is not a plain 200: the status, the JSON body (as json_response takes it; None:
    no body at all, e.g. Floodlight 0.9x's 204) and extra headers."""
    status: int
    body: object
    headers: typing.Optional[dict] = None


class Streamed(typing.NamedTuple):
    """A 200 whose JSON body is made in pieces (bytes), for replies that can be large (every static entry, every
    host): whoever writes it lets other green threads run between two pieces, so that a listing of 200,000
    entries does not hold up the switches' sessions (echo replies) for seconds. streamed_object and
    streamed_list make the pieces."""
    pieces: typing.Iterable


# Items made and encoded at once in a piece: about 1-2 ms of work for static entries (docs/reliability.md).
PIECE_ITEMS = 100


def _piece(value):
    """json_bytes(value)'s bytes (without the content type)."""
    return json_bytes(value)[0]


def streamed_object(groups, build, batch=PIECE_ITEMS):
    """A Streamed JSON object whose members are made `batch` items at a time.

    groups: (group, items) pairs, items a sequence; build({group: items}) -> {key: a list or object of one value
    per item} for one group. The pieces joined are the JSON of the object that has one such member per group
    (each member's list or object split into pieces of `batch` items), so the reply is the one build would give
    for all the items at once. build may drop items (an entry deleted since the listing began)."""
    def pieces():
        yield b'{'
        separator = b''
        for group, items in groups:
            if not items:
                yield separator + _piece(build({group: items}))[1:-1]
                separator = b','
                continue
            if separator:
                yield separator
            separator = b','
            opened = written = False
            for start in range(0, len(items), batch):
                ((key, container),) = build({group: items[start:start + batch]}).items()
                data = _piece(container)
                if not opened:
                    opened = True
                    closing = data[-1:]
                    yield _piece([key])[1:-1] + b':' + data[:1]
                inner = data[1:-1]
                if inner:
                    yield b',' + inner if written else inner
                    written = True
            yield closing
        yield b'}'
    return Streamed(pieces())


def streamed_list(items, item_json, batch=PIECE_ITEMS):
    """A Streamed JSON list of item_json(item) for each of `items` (a sequence), `batch` items per piece."""
    def pieces():
        yield b'['
        separator = b''
        for start in range(0, len(items), batch):
            yield separator + _piece([item_json(item) for item in items[start:start + batch]])[1:-1]
            separator = b','
        yield b']'
    return Streamed(pieces())


def is_large(value, depth=3):
    """Whether a JSON body holds a list or object of more than PIECE_ITEMS members (looked for `depth` levels
    down): its encoding is then worth doing in pieces (streamed_json)."""
    if isinstance(value, dict):
        members = value.values()
    elif isinstance(value, list):
        members = value
    else:
        return False
    if len(members) > PIECE_ITEMS:
        return True
    return depth > 1 and any(is_large(member, depth - 1) for member in members)


def streamed_json(value):
    """A Streamed of an object already made (a handler's plain JSON body, such as every flow of every switch):
    its large lists and objects are encoded PIECE_ITEMS members at a time. The pieces joined are json_bytes(value)."""
    return Streamed(_json_pieces(value, 3))


def _json_pieces(value, depth):
    if depth == 0 or not isinstance(value, (dict, list)) or not is_large(value, depth):
        # in a list: json_bytes takes a plain str for JSON text already made, and a member's str is a value
        yield _piece([value])[1:-1]
        return
    is_dict = isinstance(value, dict)
    members = list(value.items()) if is_dict else value
    yield b'{' if is_dict else b'['
    for start in range(0, len(members), PIECE_ITEMS):
        batch = members[start:start + PIECE_ITEMS]
        if start:
            yield b','
        if not any(is_large(member[1] if is_dict else member, depth - 1) for member in batch):
            yield _piece(dict(batch) if is_dict else batch)[1:-1]
            continue
        for index, member in enumerate(batch):
            if index:
                yield b','
            if is_dict:
                yield _piece([member[0]])[1:-1] + b':'
                member = member[1]
            yield from _json_pieces(member, depth - 1)
    yield b'}' if is_dict else b']'


class Encoded(typing.NamedTuple):
    """A reply already encoded, exactly as the raw push path writes it: status line, headers, body bytes."""
    status: str
    headers: tuple
    body: bytes
