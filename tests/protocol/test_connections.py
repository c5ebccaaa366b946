"""The connection tracker against scripted OpenFlow 1.0 peers: kinds, fail-mode fallbacks, timelines, Nicira roles,
service sessions the controller dials, and two instances sharing one entry store."""
import json
import socket
import time

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.lib.controller import wait_for
from tests.protocol.helpers import colon_dpid, push_ok
from tests.protocol.ofpeer import NX_VENDOR_ID, NXT_ROLE_REQUEST, OFPeer

pytestmark = pytest.mark.protocol

NO_OVSDB = ('--ovsdb', 'unix:/nonexistent/db.sock')
ROLE_NAMES = {0: 'other', 1: 'master', 2: 'slave'}


def connections(controller):
    status, text, _ = controller.get('/wm/core/controller/connections/json')
    assert status == 200, (status, text)
    return json.loads(text)


def sessions_of(controller, dpid, **where):
    return [c for c in connections(controller) if c['dpid'] == colon_dpid(dpid)
            and all(c.get(k) == v for k, v in where.items())]


def history(controller, dpid):
    status, text, _ = controller.get('/wm/core/controller/connections/%s/history/json' % colon_dpid(dpid))
    assert status == 200, (status, text)
    return json.loads(text)


def role_requests(peer):
    return [ROLE_NAMES[m.role] for m in peer.received(ofp.OFPT_VENDOR)
            if m.vendor == NX_VENDOR_ID and m.nx_subtype == NXT_ROLE_REQUEST]


def wait_role_request(peer, role, timeout=10):
    return wait_for(lambda: role_requests(peer)[-1:] == [role], timeout,
                    what='%s to be sent role %s (got %s)' % (peer, role, role_requests(peer)))


def flow_mods(peer):
    return peer.received(ofp.OFPT_FLOW_MOD)


def push_and_wait_barrier(controller, peer, entry):
    """Push, then wait for the barrier that closes the push's batch: what was not sent before it never will be."""
    before = len(peer.barrier_requests())
    push_ok(controller, entry)
    wait_for(lambda: len(peer.barrier_requests()) > before, 5, what='the barrier closing the push')


def test_a_switch_that_dials_in_is_a_confirmed_primary_and_master(start_controller, connect_peer):
    controller = start_controller(NO_OVSDB)
    peer = connect_peer(controller, 0x4001)
    [item] = wait_for(lambda: sessions_of(controller, 0x4001, kind_confirmed=True, role='master'), 5,
                      what='the session confirmed by GET_CONFIG and made master')
    assert item['kind'] == 'primary' and item['state'] == 'connected'
    assert item['remote'] == '%s:%d' % peer.local_address
    # OVSDB is unreachable: the configured default applies, and says so.
    assert (item['fail_mode'], item['fail_mode_source'], item['inactivity_probe_ms']) == ('unknown', 'default', 5000)
    assert 'fail_open_at' not in item
    assert role_requests(peer) == ['master']
    # The barrier that ends fail-open comes before anything else after the handshake.
    after_features = [m.msg_type for m in peer.received() if m.msg_type not in (ofp.OFPT_HELLO,
                                                                                  ofp.OFPT_ECHO_REQUEST)]
    assert after_features[:3] == [ofp.OFPT_FEATURES_REQUEST, ofp.OFPT_BARRIER_REQUEST, ofp.OFPT_GET_CONFIG_REQUEST]
    assert 'OVSDB at unix:/nonexistent/db.sock unreachable' in controller.log()
    status, text, _ = controller.get('/wm/core/switch/all/role/json')
    assert (status, json.loads(text)) == (200, {colon_dpid(0x4001): 'MASTER'})


def test_miss_send_len_zero_reclassifies_a_dialed_in_session_as_service(start_controller, connect_peer):
    """A ptcp: row typed primary is the mirror case; here a tcp: row typed service (miss_send_len 0)."""
    controller = start_controller(NO_OVSDB)
    connect_peer(controller, 0x4002, miss_send_len=0)
    [item] = wait_for(lambda: sessions_of(controller, 0x4002, kind='service'), 5, what='the service kind')
    assert item['kind_confirmed'] is True
    events = [e['event'] for e in history(controller, 0x4002)]
    assert events[0] == 'connected' and 'reclassified' in events


def test_disconnected_primary_shows_fail_open_time_from_its_last_message(start_controller, connect_peer):
    controller = start_controller(NO_OVSDB + ('--default-fail-mode', 'standalone'))
    peer = connect_peer(controller, 0x4003)
    peer.echo()  # the last thing the switch says
    last_said = time.time()
    peer.close()
    [item] = wait_for(lambda: sessions_of(controller, 0x4003, state='disconnected'), 5, what='the disconnect')
    assert item['fail_mode'] == 'standalone'
    assert last_said + 15 - 1 <= item['fail_open_at'] <= last_said + 15 + 0.5, (item, last_said)
    assert item['failed_open'] is False
    events = history(controller, 0x4003)
    assert [e['event'] for e in events if e['event'] in ('connected', 'disconnected')] == ['connected', 'disconnected']
    assert 'learning switch' in events[-1]['switch_does']


def test_secure_default_means_no_fail_open_and_history_survives_reconnect(start_controller, connect_peer):
    controller = start_controller(NO_OVSDB + ('--default-fail-mode', 'secure'))
    connect_peer(controller, 0x4004).close()
    [item] = wait_for(lambda: sessions_of(controller, 0x4004, state='disconnected'), 5, what='the disconnect')
    assert item['fail_open_at'] is None
    connect_peer(controller, 0x4004)
    wait_for(lambda: sessions_of(controller, 0x4004, state='connected'), 5, what='the reconnect')
    assert not sessions_of(controller, 0x4004, state='disconnected')  # the new session replaces the old record
    events = history(controller, 0x4004)
    assert [e['event'] for e in events if e['event'] in ('connected', 'disconnected')] == [
        'connected', 'disconnected', 'connected']
    assert events[-1 - [e['event'] for e in reversed(events)].index('connected')]['while_away'].startswith('secure')
    status, text, _ = controller.get('/wm/core/controller/connections/00:00:00:00:00:00:99:99/history/json')
    assert status == 404 and 'never connected' in json.loads(text)['reason']
    status, text, _ = controller.get('/wm/core/controller/connections/not-a-dpid/history/json')
    assert status == 400


def test_service_switch_is_dialed_redialed_and_never_asked_for_a_role(start_controller, connect_peer, tmp_path):
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    controller = start_controller(NO_OVSDB + ('--service-switches', '127.0.0.1:%d' % port))
    service = OFPeer(None, 0x4005, miss_send_len=0).accept(listener, timeout=10)
    try:
        service.wait_ready()
        [item] = wait_for(lambda: sessions_of(controller, 0x4005, kind_confirmed=True), 5, what='service session')
        assert item['kind'] == 'service' and item['remote'] == '127.0.0.1:%d' % port
        # The same switch dials in as well: both sessions live, the primary takes the role, the service none.
        primary = connect_peer(controller, 0x4005)
        wait_for(lambda: len(sessions_of(controller, 0x4005, state='connected')) == 2, 5, what='two sessions')
        wait_role_request(primary, 'master')
        push_ok(controller, {'switch': colon_dpid(0x4005), 'name': 'via-primary', 'in_port': '1',
                             'actions': 'output=2'})
        wait_for(lambda: flow_mods(primary), 5, what='the flow-mod on the primary session')
        assert role_requests(service) == [] and flow_mods(service) == []
        # OVS never redials a service controller: the controller does, with backoff.
        service.close()
        wait_for(lambda: sessions_of(controller, 0x4005, kind='service', state='disconnected'), 5,
                 what='the service session to end')
        assert sessions_of(controller, 0x4005, kind='primary', state='connected')
        assert 'nothing' in history(controller, 0x4005)[-1]['switch_does']
        again = OFPeer(None, 0x4005, miss_send_len=0).accept(listener, timeout=10)
        again.wait_ready()
        wait_for(lambda: sessions_of(controller, 0x4005, kind='service', state='connected'), 5, what='redial')
        again.close()
    finally:
        service.close()
        listener.close()


def test_posted_role_is_sent_to_switches_and_bad_posts_change_nothing(start_controller, connect_peer):
    controller = start_controller(NO_OVSDB)
    peer = connect_peer(controller, 0x4006)
    wait_role_request(peer, 'master')
    json_header = {'Content-Type': 'application/json'}
    status, text, _ = controller.request('POST', '/wm/core/role/json', '{"role":"SLAVE"}')
    assert status == 415, text  # as Floodlight: the role must come as JSON
    status, text, _ = controller.request('POST', '/wm/core/role/json', '{"role":"BOSS"}', headers=json_header)
    assert status == 400 and 'Invalid role value' in json.loads(text)['reason']
    assert role_requests(peer) == ['master']
    status, text, _ = controller.request('POST', '/wm/core/role/json', '{"role":"SLAVE"}', headers=json_header)
    assert status == 200 and json.loads(text)['role'] == 'SLAVE'
    wait_role_request(peer, 'slave')
    wait_for(lambda: json.loads(controller.get('/wm/core/switch/%s/role/json' % colon_dpid(0x4006))[1])
             == {colon_dpid(0x4006): 'SLAVE'}, 5, what='the switch role to read SLAVE')
    # A slave writes nothing: the entry is stored and listed, but no flow-mod goes out.
    push_and_wait_barrier(controller, peer, {'switch': colon_dpid(0x4006), 'name': 'while-slave', 'in_port': '1',
                                             'actions': 'output=2'})
    assert flow_mods(peer) == []
    controller.request('POST', '/wm/core/role/json', '{"role":"MASTER"}', headers=json_header)
    wait_role_request(peer, 'master')
    # Mastership regained: the switch's table is checked against the store and the entry goes in.
    wait_for(lambda: flow_mods(peer), 5, what='the flow-mod once master again')
    status, text, _ = controller.request('POST', '/wm/core/role/json', '{"role":"EQUAL"}', headers=json_header)
    assert status == 200
    wait_role_request(peer, 'other')


def test_eperm_from_the_switch_demotes_this_instance(start_controller, connect_peer):
    controller = start_controller(NO_OVSDB)
    peer = connect_peer(controller, 0x4007)
    wait_role_request(peer, 'master')
    peer.role = 2  # another controller took the master role: the switch now treats us as a slave
    push_ok(controller, {'switch': colon_dpid(0x4007), 'name': 'refused', 'in_port': '1', 'actions': 'output=2'})
    wait_for(lambda: sessions_of(controller, 0x4007, role='slave'), 5, what='the demotion')
    assert 'another controller is its master' in controller.log()
    sent = len(flow_mods(peer))
    push_and_wait_barrier(controller, peer, {'switch': colon_dpid(0x4007), 'name': 'later', 'in_port': '2',
                                             'actions': 'output=1'})
    assert len(flow_mods(peer)) == sent  # no more writes once demoted


def test_switch_without_role_support_is_served_as_master(start_controller, connect_peer):
    controller = start_controller(NO_OVSDB)
    peer = connect_peer(controller, 0x4008, answer_roles=False)
    push_ok(controller, {'switch': colon_dpid(0x4008), 'name': 'plain', 'in_port': '1', 'actions': 'output=2'})
    wait_for(lambda: flow_mods(peer), 5, what='the flow-mod')
    assert any('no role support' in e.get('reason', '') for e in history(controller, 0x4008))


def test_two_instances_one_store_one_master_and_takeover(start_controller, connect_peer, tmp_path):
    db = str(tmp_path / 'shared.sqlite3')
    first = start_controller(NO_OVSDB, db_path=db)
    second = start_controller(NO_OVSDB, db_path=db)
    dpid = 0x4009
    peer_first = connect_peer(first, dpid)
    wait_role_request(peer_first, 'master')
    peer_second = connect_peer(second, dpid)
    wait_role_request(peer_second, 'slave')
    # An entry pushed to the standby is stored; the master installs it.
    push_ok(second, {'switch': colon_dpid(dpid), 'name': 'via-standby', 'in_port': '1', 'actions': 'output=2'})
    wait_for(lambda: [m for m in flow_mods(peer_first) if m.command == ofp.OFPFC_ADD], 10,
             what='the master to install the entry pushed to the standby')
    assert [m for m in flow_mods(peer_second) if m.command == ofp.OFPFC_ADD] == []
    # Forwarding and LLDP are on: the standby writes nothing at all (OVS would answer EPERM, which would look
    # like a demotion and keep it from ever taking over).
    assert peer_second.received(ofp.OFPT_PACKET_OUT) == [] and peer_first.received(ofp.OFPT_PACKET_OUT)
    masters = json.loads(second.get('/wm/core/role/json')[1])['masters']
    assert list(masters) == [colon_dpid(dpid)]
    # The master dies: the standby takes the switch over and installs the entries it holds.
    first.kill()
    killed = time.monotonic()
    wait_role_request(peer_second, 'master', timeout=10)
    took = time.monotonic() - killed
    assert took < 15, 'takeover took %.1f s: longer than the default fail-open window' % took
    wait_for(lambda: [m for m in flow_mods(peer_second) if m.command == ofp.OFPFC_ADD], 10,
             what='the new master to install the stored entry')
    assert any(e['event'] == 'mastership' and e['held'] for e in history(second, dpid))
