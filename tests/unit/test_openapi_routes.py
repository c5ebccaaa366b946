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


def rest_modules():
    return sorted(path.stem for path in (ROOT / 'rest').glob('*.py') if path.stem != '__init__')


def routed_operations():
    """{(METHOD, OpenAPI path)} of every row of every rest module's route tables."""
    from apps.ryu_compat import restore_eventlet_sentinel
    restore_eventlet_sentinel()  # rest.staticflow imports ryu.app.wsgi
    found = set()
    for name in rest_modules():
        module = importlib.import_module('rest.' + name)
        for table in [value for attr, value in vars(module).items() if attr.endswith('ROUTES')]:
            for route in table:
                if route.handler.__name__ == 'not_allowed':
                    continue
                path = re.sub(r'{(\w+):[^}]*}', r'{\1}', route.path)  # a Routes {name:regex} is OpenAPI's {name}
                found.update((method, path) for method in route.methods)
    return found


def described_operations():
    spec = yaml.safe_load(SPEC.read_text())
    return {(method.upper(), path) for path, item in spec['paths'].items() for method in item if method in METHODS}


def test_openapi_describes_every_routed_operation_and_no_other():
    routed = routed_operations()
    described = described_operations()
    assert len(routed) > 100
    assert sorted(routed - described) == [], 'add these operations to docs/openapi.yaml'
    assert sorted(described - routed) == [], 'docs/openapi.yaml describes operations no rest module routes'
