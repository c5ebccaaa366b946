"""GET /metrics on a running controller with an emulated switch: the numbers move as the switch and REST clients
act, read with prometheus_client's own parser (what Prometheus itself would store)."""
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ryu.ofproto import ofproto_v1_0 as ofp
from tests.lib.controller import wait_for
from tests.protocol.helpers import colon_dpid, push_ok

pytestmark = pytest.mark.protocol

P = 'floodlight_ryu_'
DPID = 0x00000000000000a1
# A broadcast from a host the controller has not seen, as a switch sends it up in a PACKET_IN.
FRAME = bytes.fromhex('ffffffffffff' '020000000001' '0800') + bytes(46)


def scrape(controller, headers=None):
    status, text, reply_headers = controller.request('GET', '/metrics', headers=headers)
    assert status == 200, (status, text)
    assert reply_headers['Content-Type'].startswith('text/plain; version=0.0.4')
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples, name, **labels):
    return samples.get((P + name, frozenset(labels.items())), 0)


def test_packet_ins_entries_sessions_and_rest_requests_are_counted(controller, connect_peer):
    before = scrape(controller)
    assert value(before, 'switches_connected') == 0
    peer = connect_peer(controller, DPID)
    for _ in range(5):
        peer.send_packet_in(1, FRAME)
    wait_for(lambda: value(scrape(controller), 'openflow_messages_received_total', type='packet_in') >= 5, 5,
             what='five packet-ins counted')

    push_ok(controller, {'switch': colon_dpid(DPID), 'name': 'metered', 'priority': '100', 'eth_type': '0x0800',
                         'actions': 'output=2'})
    samples = wait_for(lambda: (lambda s: s if value(s, 'static_entries', state='installed') == 1 else None)(
        scrape(controller)), 5, what='the pushed entry counted as installed')
    assert value(samples, 'static_entries', state='sent') == 0
    assert value(samples, 'openflow_messages_sent_total', type='flow_mod') >= 1
    assert value(samples, 'openflow_messages_sent_total', type='barrier_request') >= 1
    assert value(samples, 'switches_connected') == 1
    assert value(samples, 'sessions', kind='primary', role='master') == 1
    assert value(samples, 'reconcile_seconds_count') == 1
    assert value(samples, 'store_commit_seconds_count') >= 1

    # The push (a raw route), a listing (a route with a parameter: labelled by its pattern) and a 404.
    status, _, _ = controller.get('/wm/staticflowpusher/list/%s/json' % colon_dpid(DPID))
    assert status == 200
    assert controller.get('/no/such/thing')[0] == 404
    samples = scrape(controller)
    push = dict(route='/wm/staticflowpusher/json', method='POST', status='200')
    assert value(samples, 'rest_request_seconds_count', **push) == 1
    assert value(samples, 'rest_request_seconds_bucket', le='+Inf', **push) == 1
    assert value(samples, 'rest_request_seconds_count', route='/wm/staticflowpusher/list/{switch}/json',
                 method='GET', status='200') == 1
    assert value(samples, 'rest_request_seconds_count', route='unmatched', method='GET', status='404') == 1
    # Every earlier scrape was counted too, under its own route.
    assert value(samples, 'rest_request_seconds_count', route='/metrics', method='GET', status='200') >= 3

    peer.close()
    wait_for(lambda: value(scrape(controller), 'switches_connected') == 0, 5, what='the switch gone from metrics')
    assert value(scrape(controller), 'static_entries', state='waiting') == 1


def test_metrics_need_the_rest_token_when_one_is_set(start_controller, tmp_path):
    token_file = tmp_path / 'token'
    token_file.write_text('s3cret-token\n')
    controller = start_controller(extra_args=['--rest-token-file', str(token_file)])
    status, _, headers = controller.request('GET', '/metrics')
    assert status == 401 and headers['WWW-Authenticate'] == 'Bearer'
    samples = scrape(controller, headers={'Authorization': 'Bearer s3cret-token'})
    assert value(samples, 'rest_request_seconds_count', route='unmatched', method='GET', status='401') == 1


def test_every_message_the_switch_receives_is_counted_once(start_controller, connect_peer):
    """The sent counts against what the switch got, type by type: Ryu's handshake (FEATURES_REQUEST, echo
    replies: Ryu's send_msg; not HELLO, which the test harness's port probes got too), a flood (a packet-out
    alone), an answer to an unbuffered packet (flow-mod and packet-out in one write) and to a buffered one (one
    flow-mod naming the buffer)."""
    controller = start_controller(extra_args=['--no-link-discovery', '--port-quarantine', '0'])
    peer = connect_peer(controller, DPID)
    host_a, host_b = bytes.fromhex('020000000001'), bytes.fromhex('020000000002')
    arp = bytes.fromhex('0806') + bytes(46)
    peer.send_packet_in(1, b'\xff' * 6 + host_a + arp)        # A's broadcast: flooded
    peer.wait_for_message(ofp.OFPT_PACKET_OUT)  # the flood
    peer.send_packet_in(2, host_a + host_b + arp)              # B -> A: flow-mod and the packet
    peer.send_packet_in(1, host_b + host_a + arp, buffer_id=7)  # A -> B, buffered: the flow-mod releases it
    peer.wait_for(lambda msgs: len(peer.flow_mods()) >= 2, what='both answers')
    peer.echo()

    def counted():
        samples = scrape(controller)
        got = {name: len(peer.received(msg_type)) for name, msg_type in (
            ('features_request', ofp.OFPT_FEATURES_REQUEST), ('stats_request', ofp.OFPT_STATS_REQUEST),
            ('echo_reply', ofp.OFPT_ECHO_REPLY), ('flow_mod', ofp.OFPT_FLOW_MOD),
            ('packet_out', ofp.OFPT_PACKET_OUT), ('barrier_request', ofp.OFPT_BARRIER_REQUEST))}
        sent = {name: value(samples, 'openflow_messages_sent_total', type=name) for name in got}
        return (got, sent) if got == sent else None
    got, _ = wait_for(counted, 5, what='every message the switch received counted once')
    assert got['packet_out'] >= 2 and got['flow_mod'] >= 2 and got['echo_reply'] == 1
