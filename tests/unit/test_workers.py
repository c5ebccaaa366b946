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
