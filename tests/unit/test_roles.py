"""controller.roles: who writes to which switch and which Nicira role each session asks for, without a switch,
a lease store or a green thread."""
import pytest

from controller.connections import MASTER, OTHER, PRIMARY, SERVICE, SLAVE, BridgeFacts, ConnectionTracker
from controller.roles import RolePolicy, announces_ready

pytestmark = pytest.mark.unit


def tracker_with(*sessions):
    """sessions: (dpid, handle, kind) connected at t=1."""
    tracker = ConnectionTracker()
    for dpid, handle, kind in sessions:
        tracker.connect(dpid, handle, kind, '10.0.0.%d:6633' % dpid, 1.0)
    return tracker


def test_the_lease_holder_writes_and_asks_for_master_the_others_for_slave():
    tracker = tracker_with((1, 'a', PRIMARY), (2, 'b', PRIMARY), (2, 'c', SERVICE))
    policy = RolePolicy('me', 'master', 0.0)
    policy.leases_renewed(tracker, {1: 5.0}, 2.0)
    assert policy.may_write(1) and not policy.may_write(2)
    asked = [(conn.handle, role) for conn, role in policy.role_requests(tracker, 2.0)]
    assert sorted(asked) == [('a', MASTER), ('b', SLAVE)]  # never a service session
    assert policy.role_requests(tracker, 2.5) == []  # asked once until the wanted role changes


def test_equal_writes_everywhere_and_asks_for_other():
    policy = RolePolicy('me', 'equal', 0.0)
    assert policy.may_write(7) and policy.desired_role(7) == OTHER
    assert policy.wanted_leases([7]) == (set(), set())  # equal takes part in no election


def test_a_demotion_is_news_once_releases_the_lease_and_ends_with_a_new_primary_session():
    tracker = tracker_with((1, 'a', PRIMARY))
    policy = RolePolicy('me', 'master', 0.0)
    policy.leases_renewed(tracker, {1: 5.0}, 1.0)
    assert policy.demote(tracker, 1, 2.0, 'EPERM') is True
    assert policy.demote(tracker, 1, 2.1, 'EPERM') is False
    assert not policy.may_write(1) and tracker.current(1).role == SLAVE
    assert policy.wanted_leases([1]) == (set(), {1})
    policy.session_connected(tracker.current(1))
    assert policy.wanted_leases([1]) == ({1}, set())  # wanted again


def test_lease_gains_are_takeovers_only_for_switches_already_connected():
    tracker = tracker_with((1, 'a', PRIMARY), (2, 'b', PRIMARY))
    policy = RolePolicy('me', 'master', 0.0)
    gained, lost, takeovers = policy.leases_renewed(tracker, {1: 5.0, 2: 5.0, 3: 5.0}, 1.0, connecting=2)
    assert (gained, lost, takeovers) == ([1, 2, 3], [], [1])
    assert policy.leases_renewed(tracker, {1: 6.0}, 2.0) == ([], [2, 3], [])
    assert [e['held'] for e in tracker.timeline(2) if e['event'] == 'mastership'] == [True, False]


def test_a_busy_store_keeps_only_running_wanted_leases():
    policy = RolePolicy('me', 'master', 0.0)
    policy.held = {1: 5.0, 2: 1.0, 3: 9.0}
    assert policy.store_busy({1, 2}, 2.0) == {1: 5.0}


def test_alone_a_store_that_cannot_be_written_demotes_nobody():
    """A full or read-only disk under the only instance: every wanted switch stays held (a newly connected one
    too), however long the fault lasts; the switch keeps being asked for MASTER."""
    tracker = tracker_with((1, 'a', PRIMARY), (2, 'b', PRIMARY))
    policy = RolePolicy('me', 'master', 0.0)
    policy.leases_renewed(tracker, {1: 3.0}, 0.0)
    for now in (10.0, 100.0, 1000.0):
        held, alone = policy.store_failed({1, 2}, now, 3.0)
        assert alone and held == {1: now + 3.0, 2: now + 3.0}
        policy.leases_renewed(tracker, held, now)
        assert policy.may_write(1) and policy.may_write(2)
    assert sorted((c.handle, r) for c, r in policy.role_requests(tracker, 1000.0)) == [('a', MASTER), ('b', MASTER)]


def test_with_another_instance_seen_a_store_fault_lets_the_leases_run_out():
    policy = RolePolicy('me', 'master', 0.0)
    policy.saw_instances(set())
    assert policy.store_failed({1}, 1.0, 3.0) == ({1: 4.0}, True)
    policy.saw_instances({'host:2:other'})
    policy.held = {1: 4.0}
    assert policy.store_failed({1}, 2.0, 3.0) == ({1: 4.0}, False)  # still running: kept until it expires
    assert policy.store_failed({1}, 4.5, 3.0) == ({}, False)        # then this instance stands down
    policy.saw_instances(set())                                      # gone from the store: still not alone
    assert policy.store_failed({1}, 5.0, 3.0) == ({}, False)


def test_ovsdb_role_slave_demotes_only_after_the_lag_and_only_for_our_port():
    tracker = tracker_with((1, 'a', PRIMARY))
    conn = tracker.current(1)
    conn.role, conn.role_requested_at = MASTER, 100.0
    rows = [{'target': 'tcp:10.0.0.9:6634', 'primary': True, 'role': 'slave'},
            {'target': 'tcp:10.0.0.9:6633', 'primary': True, 'role': 'slave'}]
    facts = {1: BridgeFacts('br0', 'secure', 5000, rows)}
    policy = RolePolicy('me', 'master', 0.0)
    assert policy.ovsdb_demotions(tracker, facts, {6633}, 105.0) == []  # OVSDB may still show the old role
    assert policy.ovsdb_demotions(tracker, facts, {6633}, 111.0) == [(1, 'OVSDB shows role=slave for '
                                                                       'tcp:10.0.0.9:6633')]
    assert policy.ovsdb_demotions(tracker, facts, {6653}, 111.0) == []


def test_configure_forgets_demotions_and_refuses_unknown_roles():
    tracker = tracker_with((1, 'a', PRIMARY))
    policy = RolePolicy('me', 'master', 0.0)
    policy.demote(tracker, 1, 1.0, 'EPERM')
    policy.configure('slave', 2.0, 'Set by REST.')
    assert policy.demoted == set() and policy.changed == (2.0, 'Set by REST.')
    with pytest.raises(ValueError):
        policy.configure('boss', 3.0, 'x')


def test_a_service_session_announces_the_switch_only_when_alone():
    assert announces_ready(PRIMARY, ['service session'])
    assert announces_ready(SERVICE, [])
    assert not announces_ready(SERVICE, ['primary session'])
