"""docs/openapi.yaml describes every route the REST modules serve, method by method, and nothing they do not:
the ROUTES tables of rest/*.py (and the summary and counter tables) against the spec's paths and operations.
A row that only answers 405 (the static flow pusher's other methods) is not an operation."""
import importlib
import pathlib
import re

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC = ROOT / 'docs' / 'openapi.yaml'
METHODS = ('get', 'post', 'put', 'delete', 'patch', 'head', 'options')
# rest/ui.py's pages and files (and the redirect of / to them) are the web UI, not the API the spec describes.
WEB_UI_HANDLERS = ('to_ui', 'static_file')


def rest_modules():
    return sorted(path.stem for path in (ROOT / 'rest').glob('*.py') if path.stem != '__init__')


def routed_operations():
    """{(METHOD, OpenAPI path): the row's regular expression for a path} of every row of every rest module's
    route tables."""
    from apps.ryu_compat import restore_eventlet_sentinel
    restore_eventlet_sentinel()  # rest.staticflow imports ryu.app.wsgi
    found = {}
    for name in rest_modules():
        module = importlib.import_module('rest.' + name)
        for table in [value for attr, value in vars(module).items() if attr.endswith('ROUTES')]:
            for route in table:
                if route.handler.__name__ == 'not_allowed' or route.handler.__name__ in WEB_UI_HANDLERS:
                    continue
                path = re.sub(r'{(\w+):[^}]*}', r'{\1}', route.path)  # a Routes {name:regex} is OpenAPI's {name}
                found.update({(method, path): _path_regex(route) for method in route.methods})
    return found


def _path_regex(route):
    requirements = route.requirements or {}

    def part(match):
        return '(?:%s)' % requirements.get(match.group(1), match.group(2) or '[^/]+')
    pieces = re.split(r'({\w+(?::[^}]*)?})', route.path)
    return re.compile('^' + ''.join(part(re.match(r'{(\w+)(?::([^}]*))?}', piece)) if piece.startswith('{')
                                    else re.escape(piece) for piece in pieces) + '$')


def described_operations():
    spec = yaml.safe_load(SPEC.read_text())
    return {(method.upper(), path) for path, item in spec['paths'].items() for method in item if method in METHODS}


def _sample(path):
    """A described path with each {parameter} filled in, to try a row's regular expression on."""
    return re.sub(r'{\w+}', 'x1', path)


def test_openapi_describes_every_routed_operation_and_no_other():
    """A row whose parameter takes a whole sub-path (the virtual network filter's NoOp, the debug counters) is
    described by the paths of the spec it matches."""
    routed = routed_operations()
    described = described_operations()
    assert len(routed) > 100
    undescribed = sorted(op for op, regex in routed.items() if op not in described and not any(
        method == op[0] and regex.match(_sample(path)) for method, path in described))
    assert undescribed == [], 'add these operations to docs/openapi.yaml'
    unrouted = sorted(op for op in described if op not in routed and not any(
        method == op[0] and regex.match(_sample(op[1])) for (method, _path), regex in routed.items()))
    assert unrouted == [], 'docs/openapi.yaml describes operations no rest module routes'
