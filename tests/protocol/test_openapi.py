"""docs/openapi.yaml against a live controller: schemathesis generates requests for every operation it describes
(valid and invalid path parameters, query strings and bodies) and checks each response: no 5xx, only documented
status codes and content types, bodies that match the schemas. A switch is connected and entries exist, so the
statistics and list operations answer with real data."""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from tests.protocol.helpers import colon_dpid, push_ok

pytestmark = pytest.mark.protocol

SPEC = os.path.join(os.path.dirname(__file__), '..', '..', 'docs', 'openapi.yaml')
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)
EXAMPLES_PER_OPERATION = 12
DPID = 0x0000000000000a0a


@pytest.fixture
def controller(start_controller):
    """With the virtual network filter loaded (it is off by default), so that its routes are checked too."""
    return start_controller(('--virtual-network-filter',))


def routed_paths():
    """Every path template the controller's REST modules connect (the catch-all 404 aside)."""
    import re
    here = os.path.join(os.path.dirname(__file__), '..', '..', 'rest')
    found = set()
    for name in os.listdir(here):
        if name.endswith('.py'):
            with open(os.path.join(here, name)) as handle:
                found.update(re.findall(r"'(/wm/[^']*)'", handle.read()))
    # a Routes template's {name:regex} is the OpenAPI path's {name}
    return {re.sub(r'{(\w+):[^}]*}', r'{\1}', path) for path in found}


def test_openapi_describes_every_route():
    from apps.ryu_compat import restore_eventlet_sentinel
    restore_eventlet_sentinel()  # rest.staticflow imports ryu.app.wsgi
    from rest.staticflow import URL_FAMILIES
    described = {op.ok().path for op in schemathesis.from_path(SPEC).get_all_operations()}
    expected = {path for path in routed_paths() if path != '/wm/'}
    expected |= {'/wm/%s%s' % (family, suffix) for family in URL_FAMILIES for suffix in (
        '/json', '/json/store', '/json/delete', '/list/{switch}/json', '/clear/{switch}/json', '/status/{switch}/json')}
    assert expected - described == set(), 'add these routes to docs/openapi.yaml (the whole REST API is described there)'


def test_live_controller_conforms_to_openapi(controller, connect_peer):
    peer = connect_peer(controller, DPID)
    push_ok(controller, {'switch': colon_dpid(DPID), 'name': 'api', 'eth_dst': '52:54:00:00:0a:0a',
                         'actions': 'output=1'})
    schema = schemathesis.from_path(SPEC, base_url=controller.base_url)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    for operation in operations:
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call(timeout=10)
            try:
                case.validate_response(response, checks=CHECKS)
            except AssertionError as error:
                failures.append('%s %s -> %d %s\n%s' % (case.method, case.formatted_path, response.status_code,
                                                        response.text[:200], str(error)[:400]))
        run()
    assert not failures, '%d non-conforming responses:\n%s' % (len(failures), '\n\n'.join(failures[:10]))
    assert peer.connected
