"""Property-based tests (hypothesis) of rest.server's request framing, the hand parser kept because h11 costs
too much per request (docs/performance.md, "The HTTP parser"):

- whatever the bytes, parse_head and decode_chunked return a value, None (more bytes needed) or raise HttpError
  (a JSON 4xx): no other exception reaches the connection loop;
- a well-formed head gives back exactly what was sent (method, target, version, headers joined as WSGI joins
  them, Content-Length, where the body starts), every proper prefix of it needs more bytes, and h11, a maintained
  parser, accepts it and reads the same fields;
- any chunked encoding of a body, cut anywhere, decodes to the body once complete, and stops with 413 as soon as
  the decoded size passes the limit.
"""
import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rest.http import HttpError
from rest.server import MAX_HEAD, decode_chunked, parse_head

pytestmark = pytest.mark.unit
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
tokens = st.text(TOKEN_CHARS, min_size=1, max_size=12)
path_chars = st.text(''.join(chr(c) for c in range(0x21, 0x7f) if chr(c) not in '?#%'), max_size=40)
values = st.text(''.join(chr(c) for c in range(0x20, 0x7f)), max_size=40).map(str.strip)
FRAMING = {'content-length', 'transfer-encoding', 'connection', 'expect'}
header_names = tokens.filter(lambda name: name.lower() not in FRAMING)


@st.composite
def heads(draw):
    method = draw(st.sampled_from(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH']))
    path = '/' + draw(path_chars)
    query = draw(st.one_of(st.just(''), path_chars))
    version = draw(st.sampled_from(['HTTP/1.1', 'HTTP/1.0']))
    headers = [('Host', 'h')] + draw(st.lists(st.tuples(header_names, values), max_size=8))
    length = draw(st.one_of(st.none(), st.integers(0, 10 ** 6)))
    if length is not None:
        headers.append(('Content-Length', str(length)))
    target = path + ('?' + query if query else '')
    head = '%s %s %s\r\n%s\r\n' % (method, target, version, ''.join('%s: %s\r\n' % h for h in headers))
    return head.encode('latin-1'), method, path, query, version, headers, length


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_are_a_request_more_needed_or_an_http_error(data):
    for buf in (data, b'GET / HTTP/1.1\r\n' + data, b'POST / HTTP/1.1\r\n' + data + b'\r\n\r\n'):
        try:
            parse_head(buf)
        except HttpError as error:
            assert 400 <= error.status < 500 and error.reason


@SETTINGS
@given(heads(), st.binary(max_size=20))
def test_a_well_formed_head_gives_back_what_was_sent(head, body):
    raw, method, path, query, version, headers, length = head
    request = parse_head(raw + body)
    assert (request.method, request.path, request.query, request.version) == (method, path, query, version)
    assert request.length == length and not request.chunked and request.end == len(raw)
    joined = {}
    for name, value in headers:
        name = name.lower()
        joined[name] = joined[name] + ',' + value if name in joined else value
    assert request.headers == joined
    assert request.keep_alive == (version == 'HTTP/1.1')
    for cut in range(1, len(raw), 7):
        assert parse_head(raw[:cut]) is None
    server = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
    server.receive_data(raw)
    event = server.next_event()
    assert isinstance(event, h11.Request)
    assert (event.method.decode(), event.target.decode(), 'HTTP/' + event.http_version.decode()) == (
        method, path + ('?' + query if query else ''), version)
    assert [(n.decode(), v.decode('latin-1')) for n, v in event.headers] == [(n.lower(), v) for n, v in headers]


@st.composite
def chunked(draw):
    body = draw(st.binary(max_size=200))
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=6)))
    pieces = [body[a:b] for a, b in zip([0] + cuts, cuts + [len(body)]) if b > a]
    newline = draw(st.sampled_from([b'\r\n', b'\n']))
    out = b''
    for piece in pieces:
        size = draw(st.sampled_from(['%x', '%X', '%04x'])) % len(piece)
        extension = draw(st.sampled_from([b'', b';name=value', b' ;x']))
        out += size.encode() + extension + newline + piece + newline
    trailers = draw(st.sampled_from([b'', b'Trailer: x' + newline]))
    return body, out + b'0' + newline + trailers + newline


@SETTINGS
@given(chunked(), st.binary(max_size=10), st.integers(0, 300))
def test_any_chunked_body_decodes_once_complete(encoded, after, limit):
    body, data = encoded
    for cut in range(0, len(data), 5):
        try:
            assert decode_chunked(data[:cut], 0, 1000) is None
        except HttpError as error:  # a proper prefix may only be refused for its size line
            assert error.status == 400 and 'chunk size' in error.reason
    assert decode_chunked(b'XX' + data + after, 2, 1000) == (body, 2 + len(data))
    if len(body) > limit:
        with pytest.raises(HttpError) as error:
            decode_chunked(data, 0, limit)
        assert error.value.status == 413
    else:
        assert decode_chunked(data, 0, limit) == (body, len(data))


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_as_a_chunked_body_decode_need_more_or_are_refused(data):
    try:
        result = decode_chunked(data, 0, 100)
    except HttpError as error:
        assert error.status in (400, 413, 431)
    else:
        assert result is None or (len(result[0]) <= 100 and result[1] <= len(data))
