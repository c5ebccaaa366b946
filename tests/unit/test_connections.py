"""The connection tracker's pure parts: fail-mode arithmetic, sessions and timelines, OVSDB replies, leases."""
import pytest

from controller import failmode, mastership, ovsdb
from controller.connections import PRIMARY, SERVICE, BridgeFacts, ConnectionTracker, classify_miss_send_len

pytestmark = pytest.mark.unit


class Handle:
    pass


def test_fail_open_is_three_probes_after_the_last_message_and_never_in_secure_mode():
    assert failmode.fail_open_at(failmode.STANDALONE, 100.0, 5000) == 115.0
    assert failmode.fail_open_at(failmode.STANDALONE, 100.0, 2000) == 106.0   # the configured value counts
    assert failmode.fail_open_at(failmode.STANDALONE, 100.0, 300) == 103.0    # sub-second becomes 1 s
    assert failmode.fail_open_at(failmode.UNKNOWN, 100.0, None) == 115.0      # assume OVS's default mode
    assert failmode.fail_open_at(failmode.SECURE, 100.0, 5000) is None


def test_fail_open_fake_packet_in_is_recognised():
    rarp = bytes.fromhex('ffffffffffff' '002320a1b2c3' '8035') + bytes(28)
    assert failmode.is_fail_open_packet_in(0xfffe, rarp)
    assert not failmode.is_fail_open_packet_in(1, rarp)                          # a real port
    assert not failmode.is_fail_open_packet_in(0xfffe, rarp[:12] + b'\x08\x06' + rarp[14:])   # ARP, not RARP
    assert not failmode.is_fail_open_packet_in(0xfffe, bytes.fromhex('ffffffffffff' '525400000001' '8035'))


def test_ovsdb_fail_mode_empty_means_standalone():
    assert failmode.normalize_fail_mode(['set', []]) == 'standalone'
    assert failmode.normalize_fail_mode('secure') == 'secure'
    assert failmode.normalize_fail_mode('bogus') == 'unknown'


def test_miss_send_len_classifies():
    assert classify_miss_send_len(128) == PRIMARY
    assert classify_miss_send_len(0) == SERVICE


def test_primary_and_service_live_side_by_side_and_primary_is_preferred():
    tracker = ConnectionTracker()
    primary, service = Handle(), Handle()
    assert tracker.connect(1, service, SERVICE, '127.0.0.1:6654', 10.0) is None
    assert tracker.current(1).handle is service
    assert tracker.connect(1, primary, PRIMARY, '127.0.0.1:40000', 11.0) is None
    assert tracker.current(1).handle is primary
    assert len(tracker.sessions(1)) == 2
    tracker.disconnect(primary, 12.0)
    assert tracker.current(1).handle is service


def test_disconnected_standalone_primary_shows_when_the_bridge_fails_open():
    tracker = ConnectionTracker(default_fail_mode='unknown')
    handle = Handle()
    tracker.connect(7, handle, PRIMARY, '10.0.0.5:41000', 100.0)
    tracker.update_bridges({7: BridgeFacts('br0', 'standalone', 1000)}, 100.5)
    tracker.disconnect(handle, 104.0, last_received=103.0)
    [item] = tracker.view(104.5)
    assert item['state'] == 'disconnected' and item['since'] == 104.0
    assert item['fail_mode'] == 'standalone' and item['fail_mode_source'] == 'ovsdb'
    assert item['inactivity_probe_ms'] == 1000
    assert item['fail_open_at'] == 106.0 and item['failed_open'] is False
    assert tracker.view(106.0)[0]['failed_open'] is True
    # Past that time the history shows the fail-open OVS reports to nobody, marked as predicted.
    assert tracker.timeline(7, now=105.0)[-1]['event'] == 'disconnected'
    assert tracker.timeline(7, now=107.0)[-1] == {'time': 106.0, 'event': 'fail_open', 'predicted': True,
                                                  'switch_does': tracker.timeline(7, 107.0)[-1]['switch_does']}
    events = [e['event'] for e in tracker.timeline(7)]
    assert events == ['connected', 'fail_mode', 'disconnected']
    assert 'learning switch' in tracker.timeline(7)[-1]['switch_does']
    # It comes back after the fail-open time: the timeline says the flows were flushed meanwhile.
    tracker.connect(7, Handle(), PRIMARY, '10.0.0.5:41002', 110.0)
    assert 'flows flushed' in tracker.timeline(7)[-1]['while_away']


def test_ovsdb_controller_row_changes_go_into_the_timeline():
    tracker = ConnectionTracker()
    tracker.connect(8, Handle(), PRIMARY, 'a:1', 1.0)
    row = {'target': 'tcp:10.0.0.1:6633', 'type': 'primary', 'primary': True, 'is_connected': True,
           'role': 'master', 'state': 'ACTIVE', 'inactivity_probe_ms': None, 'max_backoff_ms': None}
    tracker.update_bridges({8: BridgeFacts('br8', 'secure', 5000, [row]),
                            9: BridgeFacts('other', 'secure', 5000, [row])}, 2.0)
    tracker.update_bridges({8: BridgeFacts('br8', 'secure', 5000, [row])}, 4.0)   # unchanged: nothing new
    tracker.update_bridges({8: BridgeFacts('br8', 'secure', 5000, [dict(row, is_connected=False,
                                                                        state='BACKOFF')])}, 6.0)
    rows = [(e['time'], e['is_connected'], e['state']) for e in tracker.timeline(8) if e['event'] == 'ovsdb_controller']
    assert rows == [(2.0, True, 'ACTIVE'), (6.0, False, 'BACKOFF')]
    assert not tracker.knows(9)   # bridges this controller never talked to get no timeline
    [item] = tracker.view(7.0)
    assert item['ovsdb_controllers'][0]['state'] == 'BACKOFF' and item['bridge'] == 'br8'


def test_secure_bridge_has_no_fail_open_time_and_service_loss_changes_nothing():
    tracker = ConnectionTracker(default_fail_mode='secure')
    primary, service = Handle(), Handle()
    tracker.connect(2, primary, PRIMARY, 'a:1', 1.0)
    tracker.connect(2, service, SERVICE, 'b:2', 1.0)
    tracker.disconnect(service, 2.0)
    assert tracker.timeline(2)[-1]['switch_does'].startswith('nothing')
    tracker.disconnect(primary, 3.0)
    primary_item = [i for i in tracker.view(4.0) if i['kind'] == PRIMARY][0]
    assert primary_item['fail_open_at'] is None and primary_item['fail_mode_source'] == 'default'
    service_item = [i for i in tracker.view(4.0) if i['kind'] == SERVICE][0]
    assert 'fail_open_at' not in service_item


def test_one_primary_left_keeps_the_bridge_from_failing_open():
    tracker = ConnectionTracker(default_fail_mode='standalone')
    first, second = Handle(), Handle()
    tracker.connect(3, first, PRIMARY, 'a:1', 1.0)
    # A second primary session of the same DPID replaces the first (newer wins); its end predicts nothing.
    assert tracker.connect(3, second, PRIMARY, 'a:2', 2.0).handle is first
    assert tracker.disconnect(first, 3.0) is None
    assert [e['event'] for e in tracker.timeline(3)] == ['connected', 'connected', 'replaced']


def test_reclassify_moves_a_session_to_its_real_kind():
    tracker = ConnectionTracker()
    handle = Handle()
    tracker.connect(4, handle, PRIMARY, 'a:1', 1.0)
    assert tracker.reclassify(handle, SERVICE, 2.0, 'GET_CONFIG miss_send_len=0') is None
    [item] = tracker.view(3.0)
    assert item['kind'] == SERVICE and item['kind_confirmed'] is True
    assert tracker.timeline(4)[-1]['event'] == 'reclassified'


def test_role_changes_are_in_the_timeline():
    tracker = ConnectionTracker()
    handle = Handle()
    tracker.connect(5, handle, PRIMARY, 'a:1', 1.0)
    tracker.set_role(handle, 'master', 1.5, 'role reply')
    tracker.set_role(handle, 'master', 1.6, 'role reply')  # no change, no event
    tracker.set_role(handle, 'slave', 2.0, 'EPERM')
    roles = [(e['was'], e['role']) for e in tracker.timeline(5) if e['event'] == 'role']
    assert roles == [('other', 'master'), ('master', 'slave')]


OVSDB_REPLY = {'id': 0, 'error': None, 'result': [
    {'rows': [
        {'name': 'br0', 'datapath_id': '0000a296ffdd5645', 'fail_mode': ['set', []],
         'controller': ['set', [['uuid', 'c1'], ['uuid', 'c2']]]},
        {'name': 'br1', 'datapath_id': '0000000000000002', 'fail_mode': 'secure', 'controller': ['uuid', 'c3']},
        {'name': 'new', 'datapath_id': ['set', []], 'fail_mode': ['set', []], 'controller': ['set', []]},
    ]},
    {'rows': [
        {'_uuid': ['uuid', 'c1'], 'target': 'tcp:10.0.0.1:6633', 'type': ['set', []], 'inactivity_probe': 2000,
         'max_backoff': ['set', []], 'is_connected': True, 'role': 'master',
         'status': ['map', [['state', 'ACTIVE'], ['sec_since_connect', '3']]]},
        {'_uuid': ['uuid', 'c2'], 'target': 'ptcp:6654', 'type': ['set', []], 'inactivity_probe': ['set', []],
         'max_backoff': ['set', []], 'is_connected': False, 'role': ['set', []], 'status': ['map', []]},
        {'_uuid': ['uuid', 'c3'], 'target': 'ptcp:6655', 'type': 'primary', 'inactivity_probe': ['set', []],
         'max_backoff': 1000, 'is_connected': False, 'role': ['set', []], 'status': ['map', []]},
    ]},
]}


def test_ovsdb_reply_becomes_bridge_facts_by_dpid():
    facts = ovsdb.parse_reply(OVSDB_REPLY)
    assert set(facts) == {0xa296ffdd5645, 2}           # a bridge without a datapath_id yet is skipped
    br0 = facts[0xa296ffdd5645]
    assert (br0.name, br0.fail_mode, br0.inactivity_probe_ms) == ('br0', 'standalone', 2000)
    assert [(c['target'], c['type'], c['role'], c['state']) for c in br0.controllers] == [
        ('ptcp:6654', 'service', None, None), ('tcp:10.0.0.1:6633', 'primary', 'master', 'ACTIVE')]
    br1 = facts[2]
    # A passive target typed primary never makes the bridge fail open: only active primaries count.
    assert (br1.fail_mode, br1.inactivity_probe_ms) == ('secure', None)
    assert br1.controllers[0]['primary'] is True


def test_ovsdb_errors_and_addresses():
    with pytest.raises(ovsdb.OvsdbError):
        ovsdb.parse_reply({'id': 0, 'error': 'unknown database', 'result': None})
    with pytest.raises(ovsdb.OvsdbError):
        ovsdb.parse_reply({'id': 0, 'error': None, 'result': [{'error': 'constraint violation'}, {'rows': []}]})
    assert ovsdb.parse_address('tcp:192.0.2.1:6640')[1] == ('192.0.2.1', 6640)
    assert ovsdb.parse_address('unix:/run/db.sock')[1] == '/run/db.sock'
    for bad in ('ptcp:6640', 'tcp:host', '/run/db.sock'):
        with pytest.raises(ValueError):
            ovsdb.parse_address(bad)


def test_lease_is_exclusive_until_it_expires_or_its_holder_dies(tmp_path):
    path = str(tmp_path / 'store.sqlite3')
    dead = set()
    a = mastership.MastershipLeases(path, 'host:1:a', is_dead=lambda owner: owner in dead)
    b = mastership.MastershipLeases(path, 'host:2:b', is_dead=lambda owner: owner in dead)
    assert a.renew({1, 2}, set(), now=100.0, lease=3.0) == {1: 103.0, 2: 103.0}
    assert b.renew({1, 2, 3}, set(), now=101.0, lease=3.0) == {3: 104.0}      # 1 and 2 are a's
    assert a.renew({1, 2}, set(), now=102.0, lease=3.0) == {1: 105.0, 2: 105.0}  # renewal
    assert b.renew({1}, set(), now=105.5, lease=3.0) == {1: 108.5}            # a stopped renewing 1: expired
    a.renew(set(), {2}, now=105.6, lease=3.0)                                # a gives 2 up
    assert b.renew({2}, set(), now=105.7, lease=3.0) == {2: 108.7}
    dead.add('host:2:b')
    assert a.renew({1, 2, 3}, set(), now=106.0, lease=3.0) == {1: 109.0, 2: 109.0, 3: 109.0}
    assert a.holders(106.5) == {1: 'host:1:a', 2: 'host:1:a', 3: 'host:1:a'}


def test_dead_on_this_host_only_judges_local_processes():
    import os
    is_dead = mastership.dead_on_this_host('here')
    assert not is_dead(mastership.owner_id('here', os.getpid(), 'x'))
    assert not is_dead(mastership.owner_id('elsewhere', 999999999, 'x'))
    assert is_dead(mastership.owner_id('here', 999999999, 'x'))


def test_packed_forwarding_messages_count_as_writes():
    from controller import of10
    assert of10.is_write(of10.packet_out_port(1, 2, bytes(60)))
    assert of10.is_write(of10.forwarding_flow_add_and_packet_out(1, 0xffff, b'\x02' * 6, b'\x04' * 6, 2, 5, 1,
                                                                 bytes(60)))
    assert not of10.is_write(of10.barrier()) and not of10.is_write(of10.role_request('slave'))
