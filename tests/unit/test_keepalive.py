import pytest

from controller.keepalive import ECHO, GONE, Keepalive

pytestmark = pytest.mark.unit


def run(keepalive, messages_at, until):
    """Drive step() as the session's loop does; -> [(time, action)] of every echo and the drop."""
    events = []
    now = 0.0
    while now <= until:
        last_received = max([t for t in messages_at if t <= now], default=0.0)
        action, check_again_at = keepalive.step(now, last_received)
        if action:
            events.append((round(now, 3), action))
        if action == GONE:
            break
        assert check_again_at > now or action == ECHO
        now = check_again_at
    return events


def test_a_switch_that_sends_anything_is_never_probed():
    traffic = [i * 0.5 for i in range(200)]  # a packet-in every half second, never an echo reply
    assert run(Keepalive(5, 3), traffic, 99) == []


def test_a_silent_switch_is_probed_once_per_interval_and_dropped_after_the_last_probe_goes_unanswered():
    assert run(Keepalive(5, 3), [0.0], 100) == [(5.0, ECHO), (10.0, ECHO), (15.0, ECHO), (20.0, ECHO),
                                               (25.0, GONE)]


def test_an_answered_probe_restarts_the_quiet_interval_from_the_answer():
    # probes at 5 and 10.1 (the answers came at 5.1 and 10.2); then silence: probes at 15.2, 20.2, 25.2, 30.2
    events = run(Keepalive(5, 3), [0.0, 5.1, 10.2], 100)
    assert events[:2] == [(5.0, ECHO), (10.1, ECHO)]
    assert events[-1] == (35.2, GONE)


def test_a_late_answer_to_an_earlier_probe_still_counts():
    # three probes unanswered, then the switch's reply to the first arrives before the drop: it stays
    keepalive = Keepalive(1, 3)
    assert [keepalive.step(t, 0.0)[0] for t in (1, 2, 3, 4)] == [ECHO] * 4
    assert keepalive.step(4.5, 4.4) == (None, 5.4)
    assert keepalive.silence(4.5, 4.4)[1] == 0
