"""controller/workers.py: where the supervisor puts a connection, when it restarts a worker, what a worker sheds,
how REST answers of several workers become one, and the channel's messages."""
from controller import workers


def test_a_connection_goes_to_the_worker_with_the_fewest_counting_handovers_not_yet_reported():
    placement = workers.Placement()
    assert placement.choose() is None  # none ready: the supervisor waits
    placement.ready(0)
    placement.ready(1)
    chosen = []
    for _ in range(4):  # four switches arrive before any report
        worker = placement.choose()
        placement.handed_to(worker)
        chosen.append(worker)
    assert chosen == [0, 1, 0, 1]
    # Worker 1's report crosses one handover: it has received one of the two sent, so one is still in flight.
    placement.report(1, 1, 1)
    assert placement.load(1) == 2
    placement.report(0, 0, 2)  # both of worker 0's switches went away
    assert placement.choose() == 0


def test_a_restarted_worker_gets_the_new_connections_until_it_catches_up():
    placement = workers.Placement()
    placement.ready(0)
    placement.report(0, 5, 5)
    placement.ready(1)  # started again after a death: empty
    assert [placement.choose() for _ in range(1)] == [1]
    for _ in range(5):
        placement.handed_to(placement.choose())
    assert placement.load(1) == 5 and placement.choose() == 0
    placement.gone(1)
    assert placement.choose() == 0


def test_rest_connections_take_turns_over_ready_workers():
    turns = workers.RoundRobin()
    assert turns.choose({}) is None
    assert [turns.choose({0: 'a', 1: 'b'}) for _ in range(4)] == [0, 1, 0, 1]
    assert [turns.choose({1: 'b'}) for _ in range(2)] == [1, 1]


def test_restart_delay_doubles_with_recent_deaths_up_to_a_bound():
    assert workers.restart_delay([100.0], 100.0) == workers.RESTART_DELAY_MIN
    assert workers.restart_delay([90.0, 100.0], 100.0) == 2 * workers.RESTART_DELAY_MIN
    assert workers.restart_delay([10.0, 100.0], 100.0) == workers.RESTART_DELAY_MIN  # an old death is forgotten
    assert workers.restart_delay([100.0 - n for n in range(20)], 100.0) == workers.RESTART_DELAY_MAX


def test_an_instance_past_its_fair_share_sheds_the_excess_highest_dpids_first():
    assert workers.switches_to_shed([1, 2, 3, 4], 4, 2) == [3, 4]
    assert workers.switches_to_shed([1, 2, 3], 5, 2) == []          # 3 of 5 on 2: ceil(5/2) is 3
    assert workers.switches_to_shed([5, 1, 9, 7], 5, 2) == [9]
    assert workers.switches_to_shed([1, 2, 3, 4], 4, 1) == []        # alone: everything is its share
    assert workers.fair_share(256, 3) == 86


def test_answers_of_several_workers_merge_into_one():
    assert workers.merge([[{'dpid': 1}], [], [{'dpid': 2}]]) == [{'dpid': 1}, {'dpid': 2}]
    assert workers.merge([{'00:01': 'MASTER'}, {'00:02': 'MASTER'}]) == {'00:01': 'MASTER', '00:02': 'MASTER'}
    assert workers.merge([[1], {'a': 1}]) == [1]  # shapes that do not merge: the first worker's


def test_channel_messages_read_back():
    assert workers.parse(workers.handover(workers.OPENFLOW, 1)) == ('conn', ['of', '1'])
    assert workers.parse(workers.handover(workers.REST)) == ('conn', ['rest'])
    verb, words = workers.parse(workers.peers_message({300: 41000, 200: 42000}))
    assert verb == 'peers' and workers.parse_peers(words) == {200: 42000, 300: 41000}
    assert workers.parse_peers(['12:x', 'y:3', '5:6']) == {5: 6}
    assert workers.parse(b'\xff\xfe') == ('', []) and workers.parse(b'') == ('', [])
    assert workers.owner_pid('host:1234:abcd') == 1234 and workers.owner_pid('nonsense') is None


def test_every_renewing_instance_counts_as_live_leases_or_not(tmp_path):
    from controller.mastership import MastershipLeases

    path = str(tmp_path / 'leases')
    first, second = MastershipLeases(path, 'h:1:a'), MastershipLeases(path, 'h:2:b')
    try:
        assert first.renew({1, 2}, set(), 100.0, 3.0) == {1: 103.0, 2: 103.0}
        assert second.renew({1, 2}, set(), 100.5, 3.0) == {}  # holds nothing: the first has both
        assert first.live_instances(101.0) == {'h:1:a', 'h:2:b'}
        assert first.other_instances(101.0) == set()  # the lease holders' view is unchanged
        assert first.live_instances(103.6) == set()   # neither renewed within its lease
    finally:
        first.close()
        second.close()


def test_an_instance_gives_up_its_excess_waits_out_the_hold_off_and_keeps_what_came_back():
    from controller.roles import BALANCE_HOLD_OFF, BALANCE_RESHED, RolePolicy

    policy = RolePolicy('me', 'master', 0.0)
    policy.held = {dpid: 103.0 for dpid in (1, 2, 3, 4)}
    assert policy.balance(4, 1, 100.0, 3.0) == []          # alone: all of them are its share
    assert policy.balance(4, 2, 100.0, 3.0) == [3, 4]
    assert policy.wanted_leases([1, 2, 3, 4], 100.0) == ({1, 2}, {3, 4})
    later = 100.0 + BALANCE_HOLD_OFF * 3.0
    assert policy.wanted_leases([1, 2, 3, 4], later) == ({1, 2, 3, 4}, set())  # nobody took them: claimed again
    policy.held = {dpid: later + 3.0 for dpid in (1, 2, 3, 4)}
    # 3 and 4 came back (no other instance reaches them) and are not given up again for a while: 1 and 2 are tried
    assert policy.balance(4, 2, later, 3.0) == [1, 2]
    policy.held = {dpid: later + 9.0 for dpid in (1, 2, 3, 4)}
    assert policy.balance(4, 2, later + 6.0, 3.0) == []  # they came back too: each is tried once per BALANCE_RESHED
    assert policy.balance(4, 2, 100.0 + BALANCE_RESHED, 3.0) == [3, 4]
