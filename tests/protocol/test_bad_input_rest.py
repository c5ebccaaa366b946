"""Bad REST input: every request in tests/protocol/bad_inputs.py gets its 4xx with a JSON reason; afterwards the
store, the entry status and the switch's flow table are what they were, and the controller still serves."""
import http.client
import json
import socket

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.protocol import bad_inputs
from tests.protocol.helpers import push_ok

pytestmark = pytest.mark.protocol

MAX_BODY = 65536
DPID = 0x0bad
BASELINE = {'switch': bad_inputs.SWITCH, 'name': 'baseline', 'priority': '7', 'eth_dst': '52:54:00:00:0b:02',
            'actions': 'output=1'}


def snapshot(controller):
    """Everything a bad request could have changed, as the REST API shows it."""
    out = {}
    for family in bad_inputs.FAMILIES:
        for what in ('list', 'status'):
            status, text, _ = controller.get('/wm/%s/%s/all/json' % (family, what))
            assert status == 200, (family, what, status, text)
            out[(family, what)] = json.loads(text)
    for item in out[('staticflowpusher', 'status')].values():
        for entry in item.values():
            entry.pop('since', None)
    return out


def raw_request(controller, head, body=b''):
    """Send bytes as they are; -> (status, body text)."""
    with socket.create_connection(('127.0.0.1', controller.rest_port), timeout=10) as sock:
        sock.sendall(head + body)
        connection = http.client.HTTPResponse(sock)
        connection.begin()
        return connection.status, connection.read().decode()


def check_json_reason(status, text, what):
    try:
        reply = json.loads(text)
    except ValueError:
        raise AssertionError('%s: %d reply is not JSON: %r' % (what, status, text[:200])) from None
    assert isinstance(reply, dict) and reply.get('reason'), (what, status, reply)



def assert_refused(controller, cases):
    """Each (kind, method, path, body, expected status, request headers or None) gets its status, a JSON reason
    (a 405 also its Allow header); every miss is listed at once."""
    wrong = []
    for kind, method, path, body, expected, request_headers in cases:
        status, text, headers = controller.request(method, path, body, headers=request_headers)
        what = '%s: %s %s %r' % (kind, method, path[:60], (body or b'')[:60])
        if status != expected:
            wrong.append('%s -> %d %s' % (what, status, text[:120]))
            continue
        check_json_reason(status, text, what)
        if status == 405:
            assert headers.get('Allow'), what
    assert not wrong, '%d of %d bad requests got another status:\n%s' % (len(wrong), len(cases), '\n'.join(wrong))

def test_every_bad_request_gets_a_json_4xx_and_changes_nothing(start_controller, connect_peer):
    controller = start_controller(extra_args=['--rest-max-body', str(MAX_BODY)])
    push_ok(controller, BASELINE)
    peer = connect_peer(controller, DPID)
    flows_before = peer.flow_table()
    assert [fm.priority for fm in flows_before.values()] == [7]
    before = snapshot(controller)
    mark = peer.mark()

    assert_refused(controller, [case + (None,) for case in bad_inputs.cases(MAX_BODY)])

    # The same limits at the HTTP layer: a body announced too large is refused before it is read, a chunked one
    # as soon as it passes the limit, a Content-Length that is not a number is a 400.
    status, text = raw_request(controller, b'POST /wm/staticflowpusher/json HTTP/1.1\r\nHost: x\r\n'
                                           b'Content-Length: 1000000000\r\n\r\n')
    assert status == 413, text
    check_json_reason(status, text, 'announced 1 GB')
    chunk = b'x' * 40000
    chunked = b''.join(b'%x\r\n%s\r\n' % (len(chunk), chunk) for _ in range(3)) + b'0\r\n\r\n'
    status, text = raw_request(controller, b'POST /wm/staticflowpusher/json HTTP/1.1\r\nHost: x\r\n'
                                           b'Transfer-Encoding: chunked\r\n\r\n', chunked)
    assert status == 413, text
    small = json.dumps(dict(BASELINE, actions='output=99')).encode()
    status, text = raw_request(controller, b'POST /wm/staticflowpusher/json HTTP/1.1\r\nHost: x\r\n'
                                           b'Content-Length: 12abc\r\n\r\n', small)
    assert 400 <= status < 500, text

    # Requests that never reach the application: malformed request lines, other HTTP versions, TLS on the HTTP
    # port, a request line over eventlet's 8 KiB limit. Still a JSON 4xx.
    for head in (b'GARBAGE\r\n\r\n', b'GET / HTTP/9.9\r\n\r\n', b'GET / HTTP/1.1 extra\r\n\r\n',
                 b'POST "/wm/staticflowpusher/json" HTTP/1.1\r\n\r\n',
                 b'\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03' + b'\x00' * 32 + b'\r\n\r\n',
                 b'GET /' + b'a' * 9000 + b' HTTP/1.1\r\nHost: x\r\n\r\n'):
        status, text = raw_request(controller, head)
        assert 400 <= status < 500, (head[:40], status, text)
        check_json_reason(status, text, repr(head[:40]))

    assert snapshot(controller) == before
    assert peer.flow_mods(since=mark) == [], peer.dump()
    assert peer.flow_table() == flows_before
    assert peer.connected

    # Still serving: a good push goes through to the switch.
    push_ok(controller, dict(BASELINE, name='after', priority='8', actions='output=2'))
    fm = peer.wait_for_message(ofp.OFPT_FLOW_MOD, since=mark)
    assert (fm.command, fm.priority) == (ofp.OFPFC_ADD, 8)

    # And nothing reached the store: a restart on the same database lists the two good entries only.
    controller.stop()
    again = start_controller(db_path=controller.db_path)
    status, text, _ = again.get('/wm/staticflowpusher/list/all/json')
    assert sorted(name for item in json.loads(text)[bad_inputs.SWITCH] for name in item) == ['after', 'baseline']


def test_clear_with_a_bad_dpid_clears_nothing(controller):
    push_ok(controller, BASELINE)
    for family in bad_inputs.FAMILIES:
        status, text, _ = controller.get('/wm/%s/clear/al/json' % family)
        assert status == 400, text
    status, text, _ = controller.get('/wm/staticflowpusher/list/all/json')
    assert [name for item in json.loads(text)[bad_inputs.SWITCH] for name in item] == ['baseline']


def service_snapshot(controller):
    """What the firewall, ACL, load balancer and statistics routes show (and the static entries the ACL makes)."""
    out = {}
    for path in ('/wm/firewall/rules/json', '/wm/firewall/module/status/json', '/wm/firewall/module/storageRules/json',
                 '/wm/firewall/module/subnet-mask/json', '/wm/acl/rules/json', '/quantum/v1.0/vips/',
                 '/quantum/v1.0/pools/', '/quantum/v1.0/members/', '/wm/statistics/bandwidth/all/all/json',
                 '/wm/staticflowpusher/list/all/json', '/wm/core/role/json'):
        status, text, _ = controller.get(path)
        assert status == 200, (path, status, text)
        out[path] = text
    return out


def test_bad_requests_to_the_firewall_acl_load_balancer_and_statistics_change_nothing(start_controller,
                                                                                        connect_peer):
    controller = start_controller(extra_args=['--rest-max-body', str(MAX_BODY)])
    peer = connect_peer(controller, DPID)
    for method, path, body in bad_inputs.SERVICE_BASELINE:
        status, text, _ = controller.request(method, path, json.dumps(body))
        assert status == 200, (path, status, text)
    before = service_snapshot(controller)
    mark = peer.mark()
    assert_refused(controller, bad_inputs.service_cases())
    assert service_snapshot(controller) == before
    assert peer.flow_mods(since=mark) == [], peer.dump()
    assert peer.connected
