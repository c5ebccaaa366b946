"""The web UI's routes: its static files at /ui/ (package data in rest/ui_static/), `/` and `/ui` redirecting
there, and /wm/core/version/json for its dashboard. Mounted by the entry app, so the UI is served by the REST
server on the REST port, with its HTTPS settings.

The files need no token (rest.guard.OPEN_PREFIXES): a browser cannot put an Authorization header on a page load,
and the files hold no data. Every data call the page makes goes to the REST API and carries the token
(docs/security.md). Only the files found under rest/ui_static/ when the first request arrives are served: a path
is a key of that table, never joined to a directory, so `..` or an absolute path finds nothing (404).
"""
import os
import sys

from rest.http import Encoded, HttpError, Route

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ui_static')
UI_ROOT = '/ui/'
INDEX = 'index.html'

CONTENT_TYPES = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.svg': 'image/svg+xml',
    '.png': 'image/png',
    '.txt': 'text/plain; charset=utf-8',
}

# Scripts and styles from this origin only (no inline script: an injected string cannot run), data calls to this
# origin only, no framing (clickjacking), no form posts anywhere (the UI sends JSON with fetch).
SECURITY_HEADERS = (
    ('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
    ('X-Content-Type-Options', 'nosniff'),
    ('X-Frame-Options', 'DENY'),
    ('Referrer-Policy', 'no-referrer'),
    # Revalidated on every load: an upgraded controller's UI is never mixed with an old cached module.
    ('Cache-Control', 'no-cache'),
)


def read_static_files(directory=STATIC_DIR):
    """{relative path with '/': (content type, bytes)} of every file under `directory` whose type is known."""
    files = {}
    for root, _dirs, names in os.walk(directory):
        for name in names:
            content_type = CONTENT_TYPES.get(os.path.splitext(name)[1].lower())
            if name == 'LICENSE':
                content_type = CONTENT_TYPES['.txt']
            if content_type is None:
                continue
            path = os.path.join(root, name)
            with open(path, 'rb') as handle:
                files[os.path.relpath(path, directory).replace(os.sep, '/')] = (content_type, handle.read())
    return files


class StaticFiles:
    """The files, read once (at the first request: a controller that never serves the UI never reads them)."""

    def __init__(self, directory=STATIC_DIR):
        self.directory = directory
        self._files = None

    def get(self, path):
        if self._files is None:
            self._files = read_static_files(self.directory)
        return self._files.get(path)


STATIC = StaticFiles()


def _redirect(location):
    return Encoded('302 Found', (('Location', location), ('Content-Length', '0'), ('Cache-Control', 'no-cache')),
                   b'')


def to_ui(app, request):
    """`/` and `/ui` -> 302 to /ui/ (the page's relative module paths need the trailing slash)."""
    return _redirect(UI_ROOT)


def static_file(app, request, path=INDEX):
    found = STATIC.get(path or INDEX)
    if found is None:
        raise HttpError(404, 'no such UI file: %s' % path[:100])
    content_type, data = found
    return Encoded('200 OK', (('Content-Type', content_type), ('Content-Length', str(len(data))))
                   + SECURITY_HEADERS, data)


def _distribution_version(name):
    from importlib import metadata
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return 'unknown'


def version(app, request):
    """The controller's version (the installed distribution's), and Ryu's and Python's."""
    return {'name': 'floodlight-ryu', 'version': _distribution_version('floodlight-ryu'),
            'ryu': _distribution_version('ryu'), 'python': '%d.%d.%d' % sys.version_info[:3]}


ROUTES = [
    Route(('GET', 'HEAD'), '/', to_ui),
    Route(('GET', 'HEAD'), '/ui', to_ui),
    Route(('GET', 'HEAD'), UI_ROOT, static_file),
    Route(('GET', 'HEAD'), UI_ROOT + '{path}', static_file, {'path': '.+'}),
    Route(('GET',), '/wm/core/version/json', version),
]
