"""Property (hypothesis) against a live controller, for the firewall, ACL and load balancer routes: a JSON object
made of their own keys (and some others) with any values is either accepted (200: it is listed, and deleting it
brings the listing back) or refused with a 4xx and a JSON reason, and then every listing is what it was. Never a
5xx. The enumerated bad requests are in tests/protocol/bad_inputs.py (test_bad_input_rest.py)."""
import json
import urllib.parse

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.protocol

LISTINGS = ('/wm/firewall/rules/json', '/wm/acl/rules/json', '/quantum/v1.0/vips/', '/quantum/v1.0/pools/',
            '/quantum/v1.0/members/', '/wm/staticflowpusher/list/all/json')

FIREWALL_KEYS = ('ruleid', 'switchid', 'src-inport', 'src-mac', 'dst-mac', 'dl-type', 'src-ip', 'dst-ip', 'nw-proto',
                 'tp-src', 'tp-dst', 'priority', 'action')
ACL_KEYS = ('src-ip', 'dst-ip', 'nw-proto', 'tp-dst', 'action')
VIP_KEYS = ('id', 'name', 'tenant_id', 'network_id', 'protocol', 'address', 'port', 'pool_id')
POOL_KEYS = ('id', 'name', 'tenant_id', 'network_id', 'lb_method', 'protocol', 'vip_id')
MEMBER_KEYS = ('id', 'address', 'port', 'connection_limit', 'admin_state', 'status', 'pool_id')

# Values near the valid ones and far from them.
values = st.one_of(
    st.sampled_from(['10.0.0.5', '10.0.0.5/32', '10.0.0.0/8', '10.0.0.256', '0.0.0.0/0', '52:54:00:00:00:05',
                     '00:00:00:00:00:00:00:01', 'TCP', 'udp', 'ICMP', 'ALLOW', 'DENY', 'allow', 'deny', 'drop',
                     '0x0800', 'ipv4', 'ARP', '80', '-1', '65536', '0', '1', '', ' ', 'all', 'null', 'p1', 'v1']),
    st.integers(min_value=-2 ** 33, max_value=2 ** 33), st.text(max_size=12), st.none(), st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1))


def documents(keys, valid):
    """Any object of the route's keys (and a few others), or a valid one with up to two keys changed or dropped."""
    changes = st.dictionaries(st.sampled_from(keys + ('nonsense', 'ACTION', 'Src-IP')), values, max_size=2)
    drops = st.sets(st.sampled_from(sorted(valid)), max_size=1)
    edited = st.builds(lambda change, drop: {k: v for k, v in dict(valid, **change).items() if k not in drop},
                       changes, drops)
    return st.one_of(st.dictionaries(st.sampled_from(keys + ('nonsense', 'ACTION', 'Src-IP')), values, max_size=6),
                     edited)


requests = st.one_of(
    st.tuples(st.just('/wm/firewall/rules/json'), documents(FIREWALL_KEYS, {
        'src-ip': '10.0.0.5/32', 'dst-ip': '10.0.0.6/32', 'nw-proto': 'TCP', 'tp-dst': '80', 'action': 'DENY',
        'priority': '3'})),
    st.tuples(st.just('/wm/acl/rules/json'), documents(ACL_KEYS, {
        'src-ip': '10.0.0.5/32', 'dst-ip': '10.0.0.6/32', 'nw-proto': 'UDP', 'tp-dst': '53', 'action': 'deny'})),
    st.tuples(st.just('/quantum/v1.0/vips/'), documents(VIP_KEYS, {
        'id': 'v2', 'name': 'web', 'address': '10.0.0.200', 'protocol': 'tcp', 'port': '80'})),
    st.tuples(st.just('/quantum/v1.0/pools/'), documents(POOL_KEYS, {'id': 'p2', 'protocol': 'tcp', 'vip_id': 'v1'})),
    st.tuples(st.just('/quantum/v1.0/members/'), documents(MEMBER_KEYS, {
        'id': 'm2', 'address': '10.0.0.7', 'port': '80', 'pool_id': 'p1'})))


def listings(controller):
    out = {}
    for path in LISTINGS:
        status, text, _ = controller.get(path)
        assert status == 200, (path, status, text)
        out[path] = json.loads(text)
    return out


def undo(controller, path, before, after):
    """Delete what an accepted request added (the listing's new items), so that every example starts alike."""
    old = json.dumps(before[path], sort_keys=True)
    for item in after[path]:
        if json.dumps(item, sort_keys=True) in old:
            continue
        if path == '/wm/firewall/rules/json':
            status, text, _ = controller.request('DELETE', path, json.dumps({'ruleid': item['ruleid']}))
        elif path == '/wm/acl/rules/json':
            status, text, _ = controller.request('DELETE', path, json.dumps({'ruleid': str(item['id'])}))
        else:
            # any string is an id (Floodlight's too): percent-encoded in the URL, as a client must
            status, text, _ = controller.request('DELETE', path + urllib.parse.quote(item['id'], safe=''))
        assert status == 200, (path, item, status, text)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(request=requests)
def test_service_requests_are_accepted_whole_or_change_nothing(controller, request):
    path, document = request
    if not hasattr(controller, 'service_baseline'):
        for url, body in (('/quantum/v1.0/vips/', {'id': 'v1', 'address': '10.0.0.100', 'protocol': 'tcp'}),
                          ('/quantum/v1.0/pools/', {'id': 'p1', 'vip_id': 'v1'})):
            assert controller.post(url, json.dumps(body))[0] == 200
        controller.service_baseline = listings(controller)
    before = controller.service_baseline
    status, text, _ = controller.post(path, json.dumps(document))
    assert status < 500, (status, text)
    reply = json.loads(text)
    after = listings(controller)
    event('%s %s' % (path, 'accepted' if status == 200 else status))
    if status == 200:
        undo(controller, path, before, after)
        # a VIP, pool or member that replaced one of the baseline's changed it: put the baseline back
        if listings(controller) != before:
            for url, body in (('/quantum/v1.0/vips/', {'id': 'v1', 'address': '10.0.0.100', 'protocol': 'tcp'}),
                              ('/quantum/v1.0/pools/', {'id': 'p1', 'vip_id': 'v1'})):
                controller.request('PUT', url + body['id'], json.dumps(body))
            controller.service_baseline = listings(controller)
        return
    assert 400 <= status < 500 and isinstance(reply, dict) and reply.get('reason'), (status, text)
    assert after == before, (path, document, status, text)
