"""The WSGI layer in front of every REST handler: body limit, bearer token, and a last JSON catch-all.

Plain WSGI (no Ryu, no eventlet), so it is tested as a function; rest.service puts it around Ryu's
WSGIApplication when the REST server starts. rest.server calls `head_refusal` (path and token) before it reads
a body, enforces `max_body` itself while reading, and calls the handler `raw_route` names (the static flow
pushes, rest.staticflow.raw_routes) with the body bytes; everything else reaches __call__ as WSGI, where the
same checks run again (harmless: they pass).

- A body over `max_body` bytes gets 413 before it is read (Content-Length) or as soon as the limit is passed
  (chunked); a Content-Length that is not a number gets 400.
- With a token, every request but OPEN_PATHS and OPEN_PREFIXES (the web UI's files) needs
  `Authorization: Bearer <token>`: 401 with `WWW-Authenticate: Bearer` otherwise. Tokens are compared in constant time.
- Anything the application raises becomes a JSON 500 and a logged traceback: eventlet's own handler would
  send the traceback to the client.
- Cross-origin requests (CORS) from the origins of `cors_origins` (--rest-cors-origins; `*` for any): web UIs
  served from another address than the API's, such as floodlight-webui. rest.server adds `cors_headers` to every
  reply of the request and answers a preflight (`preflight`) before the token check, since browsers send no
  credentials with it. Without `cors_origins` nothing changes: no header, OPTIONS is routed as any method.
- A browser's request from a page of another origin (`Sec-Fetch-Site: cross-site` or `same-site`; from a browser
  without that header, an `Origin` other than the Host it asked) gets 403 unless its origin is one of
  `cors_origins`: without a token, a page anywhere on the web could otherwise make its visitor's browser push or
  clear entries (a form's POST and a link's GET need no preflight; Floodlight's `clear` is a GET). curl and
  scripts send neither header; the API's own web UI is same-origin; a link to the UI's pages or to health
  (OPEN_PATHS) still opens.
"""
import hmac
import io
import logging

from rest.http import error_parts

LOG = logging.getLogger(__name__)

OPEN_PATHS = frozenset(['/wm/core/health/json', '/', '/ui'])
# The web UI's static files (rest/ui.py): a browser cannot send a header on a page load, and the files hold no
# data; the page sends the token with every API call it makes (docs/security.md).
OPEN_PREFIXES = ('/ui/',)
TOKEN_NEEDED = 'this controller needs "Authorization: Bearer <token>" (see --rest-token-file)'
ANY_ORIGIN = '*'
# What a cross-origin page may send: every method of the API, and the request headers a UI sets (a browser asks
# in its preflight; the token header included, so that a UI can send it).
CORS_METHODS = 'GET, POST, PUT, DELETE'
CORS_ALLOWED_HEADERS = 'Content-Type, Accept, Authorization, X-Requested-With'
CORS_MAX_AGE = '600'  # seconds a browser may keep a preflight's answer
# Sec-Fetch-Site values of a request made by another origin's page ('same-site' is another port or subdomain)
OTHER_SITE = frozenset(('cross-site', 'same-site'))
DEFAULT_PORTS = {'http': '80', 'https': '443'}
CROSS_SITE = ('this controller does not take requests from the pages of another site (%s); allow that origin with '
              '--rest-cors-origins')


def same_authority(origin, host):
    """Whether an Origin header (scheme://host[:port]) names the Host header's host and port (a default port may
    be left out of either). 'null' (a sandboxed page, a file) names no host."""
    scheme, sep, authority = origin.strip().lower().partition('://')
    if not sep or not host:
        return False
    host = host.strip().lower()
    default = DEFAULT_PORTS.get(scheme)
    if default is not None:
        suffix = ':' + default
        authority = authority[:-len(suffix)] if authority.endswith(suffix) else authority
        host = host[:-len(suffix)] if host.endswith(suffix) else host
    return authority == host


class TokenFileError(ValueError):
    pass


def read_token_file(path):
    """The token is the file's content without surrounding whitespace; an empty or unreadable file is an error."""
    try:
        with open(path, 'rb') as handle:
            token = handle.read().strip()
    except OSError as error:
        raise TokenFileError('cannot read the REST token file %s: %s' % (path, error)) from None
    if not token:
        raise TokenFileError('the REST token file %s is empty' % path)
    if any(byte < 0x21 or byte > 0x7e for byte in token):
        raise TokenFileError('the REST token in %s must be printable ASCII without spaces' % path)
    return token.decode('ascii')


def error_app(status, reason, headers=None):
    """A WSGI app answering one JSON error (rest.http.error_parts)."""
    status_line, header_list, body = error_parts(status, reason, headers)

    def app(environ, start_response):
        start_response(status_line, header_list)
        return [body]
    return app


class RestGuard:
    """`raw_routes`: {path: handler(body, respond)} that rest.server calls for a POST to that path, after the
    head checks and with the body read (rest.staticflow.raw_routes)."""

    def __init__(self, app, max_body=1 << 20, token=None, open_paths=OPEN_PATHS, raw_routes=None, cors_origins=(),
                 open_prefixes=OPEN_PREFIXES):
        self.app = app
        self.max_body = max_body
        self.token = token.encode('ascii') if token else None
        self.open_paths = open_paths
        self.open_prefixes = open_prefixes
        self.raw_routes = dict(raw_routes or {})
        self.cors_origins = frozenset(origin.rstrip('/') for origin in cors_origins)

    def __call__(self, environ, start_response):
        refusal = self._refusal(environ)
        if refusal is not None:
            return refusal(environ, start_response)
        try:
            return self.app(environ, start_response)
        except Exception:  # eventlet's default would put the traceback in the response body
            LOG.exception('REST %s %s failed', environ.get('REQUEST_METHOD'), environ.get('PATH_INFO'))
            return error_app(500, 'internal error, see the controller log')(environ, start_response)

    # --- what rest.server calls before reading a body: the same checks, without a WSGI environ ---------------

    def head_refusal(self, path, authorization, origin=None, fetch_site=None, host=None):
        """The path, origin and token checks of __call__ for a request head -> None, or (status line, headers,
        body) of the refusal. rest.server calls it before it reads the body (a refused body is never read whole).
        origin, fetch_site, host: the Origin, Sec-Fetch-Site and Host headers (None when absent)."""
        cross_site = self._cross_site_reason(path, origin, fetch_site, host)
        if cross_site is not None:
            return error_parts(403, cross_site)
        if self.token is None and path[:1] == '/':
            return None
        if not path.startswith('/'):
            return error_parts(404, 'no such resource: %s' % path[:100])
        if not self._open(path) and not self._authorized(authorization or ''):
            return error_parts(401, TOKEN_NEEDED, {'WWW-Authenticate': 'Bearer'})
        return None

    def cors_headers(self, origin):
        """The CORS headers every reply to a request with this `Origin` header (None: no header) carries: none
        unless the origin is allowed. The origin is echoed (not `*`), so that a page that sends credentials
        can read the reply too; `Vary` keeps caches from serving one origin's reply to another."""
        if not origin or not self.cors_origins:
            return ()
        if ANY_ORIGIN not in self.cors_origins and origin not in self.cors_origins:
            return ()
        return (('Access-Control-Allow-Origin', origin), ('Vary', 'Origin'))

    def preflight(self, method, origin, requested_method):
        """A CORS preflight (OPTIONS with Origin and Access-Control-Request-Method) -> (status line, headers,
        body) of its answer: 204 naming what may be sent, or 403 for an origin that is not allowed. None for any
        other request, and always None without --rest-cors-origins (OPTIONS then meets the router: 405)."""
        if method != 'OPTIONS' or not self.cors_origins or not origin or not requested_method:
            return None
        if not self.cors_headers(origin):
            return error_parts(403, 'cross-origin requests from %s are not allowed (see --rest-cors-origins)'
                               % origin[:100])
        return ('204 No Content', [('Access-Control-Allow-Methods', CORS_METHODS),
                                   ('Access-Control-Allow-Headers', CORS_ALLOWED_HEADERS),
                                   ('Access-Control-Max-Age', CORS_MAX_AGE)], b'')

    def raw_route(self, method, path):
        """The handler(body, respond) of a raw route (a POST to one of `raw_routes`), or None: rest.server then
        calls this guard as a WSGI app."""
        return self.raw_routes.get(path) if method == 'POST' else None

    def _refusal(self, environ):
        path = environ.get('PATH_INFO', '')
        cross_site = self._cross_site_reason(path, environ.get('HTTP_ORIGIN'), environ.get('HTTP_SEC_FETCH_SITE'),
                                             environ.get('HTTP_HOST'))
        if cross_site is not None:
            return error_app(403, cross_site)
        if not path.startswith('/'):  # the router's JSON 404 catches '/...' only; webob would answer in HTML
            return error_app(404, 'no such resource: %s' % path[:100])
        if self.token is not None and not self._open(path):
            if not self._authorized(environ.get('HTTP_AUTHORIZATION', '')):
                return error_app(401, TOKEN_NEEDED, {'WWW-Authenticate': 'Bearer'})
        return self._body_refusal(environ)

    def _cross_site_reason(self, path, origin, fetch_site, host):
        """The 403's reason for a browser's request from another site's page to a path that is not open, or None."""
        if (origin or fetch_site) and not self._open(path) and self._from_other_site(origin, fetch_site, host):
            return CROSS_SITE % (origin or 'no Origin header')[:100]
        return None

    def _from_other_site(self, origin, fetch_site, host):
        """Whether a browser sent this request for a page of another origin that `cors_origins` does not allow.
        The browser's own Sec-Fetch-Site is believed first (it is right behind a proxy that rewrites Host too);
        without it, the Origin is compared with the Host the request was sent to."""
        if fetch_site:
            if fetch_site.strip().lower() not in OTHER_SITE:
                return False  # same-origin, or 'none': typed in the address bar, a bookmark
        elif not origin or same_authority(origin, host):
            return False
        if ANY_ORIGIN in self.cors_origins:
            return False
        return not (origin and origin.rstrip('/') in self.cors_origins)

    def _open(self, path):
        return path in self.open_paths or path.startswith(self.open_prefixes)

    def _authorized(self, header):
        scheme, _, credentials = header.strip().partition(' ')
        if scheme.lower() != 'bearer':
            return False
        return hmac.compare_digest(credentials.strip().encode('utf-8', 'replace'), self.token)

    def _body_refusal(self, environ):
        length = environ.get('CONTENT_LENGTH', '')
        if length:
            if not length.strip().isdigit():
                return error_app(400, 'Content-Length %r is not a number' % length[:20])
            if int(length) > self.max_body:
                return self._too_large(int(length))
            return None
        if 'chunked' in environ.get('HTTP_TRANSFER_ENCODING', '').lower():
            body = environ['wsgi.input'].read(self.max_body + 1)
            if len(body) > self.max_body:
                return self._too_large(None)
            environ['wsgi.input'] = io.BytesIO(body)
            environ['CONTENT_LENGTH'] = str(len(body))
            environ.pop('HTTP_TRANSFER_ENCODING', None)
        return None

    def _too_large(self, length):
        size = '%d bytes' % length if length is not None else 'more than that'
        return error_app(413, 'the request body is limited to %d bytes (--rest-max-body); this one has %s'
                         % (self.max_body, size))
