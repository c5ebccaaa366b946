"""The web UI's routes (rest/ui.py): what files it serves and how, the redirect, and the token's reach
(rest/guard.py: the files are open, the data is not). The pages themselves: tests/protocol/test_ui.py."""
import configparser
import glob
import os
import re

import pytest

from rest import ui
from rest.guard import RestGuard
from rest.http import Encoded, HttpError, Request

pytestmark = pytest.mark.unit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def files():
    return ui.read_static_files()


def test_index_and_every_file_it_loads_are_served_with_their_type():
    served = files()
    index = served['index.html'][1].decode()
    referenced = re.findall(r'(?:src|href)="([^"#:]+)"', index)
    assert sorted(referenced) == ['app.js', 'style.css', 'vendor/cytoscape.min.js']
    # every module imports only modules that are served (a missing one is a console error, and a blank page)
    modules = [path for path in served if path.endswith('.js') and not path.startswith('vendor/')]
    for module in modules:
        base = os.path.dirname(module)
        for imported in re.findall(r"^import [^;]* from '([^']+)';", served[module][1].decode(), re.MULTILINE):
            target = os.path.normpath(os.path.join(base, imported)).replace(os.sep, '/')
            assert target in served, '%s imports %s, which is not served' % (module, imported)
    assert served['app.js'][0] == 'text/javascript; charset=utf-8'
    assert served['style.css'][0] == 'text/css; charset=utf-8'
    assert served['vendor/cytoscape.LICENSE.txt'][0] == 'text/plain; charset=utf-8'


def test_setup_cfg_ships_every_ui_file():
    """pip installs package data by setup.cfg's glob patterns, relative to the package (setuptools globs them)."""
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, 'setup.cfg'))
    patterns = [line.strip() for line in config['options.package_data']['rest'].splitlines() if line.strip()]
    shipped = {path for pattern in patterns for path in glob.glob(pattern, root_dir=os.path.join(ROOT, 'rest'))}
    assert {'ui_static/' + path for path in files()} <= shipped


def test_a_file_reply_carries_the_page_policy():
    reply = ui.static_file(None, Request('GET', '/ui/'), '')
    assert isinstance(reply, Encoded) and reply.status == '200 OK'
    headers = dict(reply.headers)
    assert headers['Content-Type'] == 'text/html; charset=utf-8'
    assert "script-src 'self'" in headers['Content-Security-Policy']
    assert headers['X-Frame-Options'] == 'DENY' and headers['Content-Length'] == str(len(reply.body))
    assert b'<script type="module" src="app.js">' in reply.body


@pytest.mark.parametrize('path', ['../ui.py', '../../setup.cfg', '/etc/passwd', 'pages/../../guard.py', 'nothing.js',
                                  'pages', 'vendor/'])
def test_only_the_files_under_ui_static_are_served(path):
    with pytest.raises(HttpError) as refused:
        ui.static_file(None, Request('GET', '/ui/' + path), path)
    assert refused.value.status == 404


def test_root_and_ui_redirect_to_the_page():
    reply = ui.to_ui(None, Request('GET', '/'))
    assert reply.status == '302 Found' and ('Location', '/ui/') in reply.headers


def test_version_names_the_installed_distribution():
    body = ui.version(None, Request('GET', '/wm/core/version/json'))
    assert body['name'] == 'floodlight-ryu' and body['ryu'] == '4.34'
    assert re.fullmatch(r'\d+\.\d+\.\d+', body['python'])


def test_with_a_token_the_files_are_open_and_the_data_is_not():
    guard = RestGuard(app=None, token='t0ken')
    for path in ('/', '/ui', '/ui/', '/ui/app.js', '/ui/pages/topology.js'):
        assert guard.head_refusal(path, None) is None, path
    for path in ('/wm/core/version/json', '/wm/core/controller/switches/json', '/uix', '/ui.js'):
        assert guard.head_refusal(path, None)[0] == '401 Unauthorized', path
        assert guard.head_refusal(path, 'Bearer t0ken') is None
