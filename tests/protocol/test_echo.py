"""Keepalive both ways: the controller answers our probes, and drops a switch that stops answering its own."""
import time

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from tests.protocol.helpers import listed, wait_listed, wait_unlisted
from tests.protocol.test_coexistence import frame

pytestmark = pytest.mark.protocol

INTERVAL = 1            # --echo-request-interval for the drop test
MAX_UNREPLIED = 2       # --maximum-unreplied-echo-requests for the drop test
# A silent switch is probed at t=1, 2, 3 (three unanswered) and dropped at t=4 (controller.keepalive); allow
# generous slack on a busy machine.
DROP_DEADLINE = INTERVAL * (MAX_UNREPLIED + 2) + 3.0


def test_echo_reply_carries_our_xid_and_data(controller, connect_peer):
    peer = connect_peer(controller, 0x10)

    payload = b'keepalive \x00\xff payload'
    reply = peer.echo(payload, xid=0x0badcafe)
    assert reply.xid == 0x0badcafe
    assert reply.data == payload
    # an empty echo works too, and answers are per request
    assert peer.echo(b'', xid=7).data == b''
    assert peer.connected


def test_controller_probes_switches_by_default(controller, connect_peer):
    """The controller's defaults turn ryu's keepalive on: a probe arrives without any flag."""
    peer = connect_peer(controller, 0x11)
    probe = peer.wait_for_message(ofp.OFPT_ECHO_REQUEST, timeout=6.0)
    assert probe.version == 1


# ryu 4.34 registers these two for config files only; controller.options makes them flags as well.
@pytest.mark.parametrize('given_as', ['config-file', 'flags'])
def test_switch_that_stops_answering_echo_is_dropped(start_controller, connect_peer, tmp_path, given_as):
    if given_as == 'flags':
        args = ['--echo-request-interval', str(INTERVAL), '--maximum-unreplied-echo-requests', str(MAX_UNREPLIED)]
    else:
        config = tmp_path / 'keepalive.conf'
        config.write_text('[DEFAULT]\necho_request_interval = %s\nmaximum_unreplied_echo_requests = %d\n'
                          % (INTERVAL, MAX_UNREPLIED))
        args = ['--config-file', str(config)]
    controller = start_controller(args)
    alive = connect_peer(controller, 0x21)
    silent = connect_peer(controller, 0x22, answer_echo=False)
    wait_listed(controller, alive)
    wait_listed(controller, silent)
    connected_at = time.monotonic()

    assert silent.wait_closed(DROP_DEADLINE), (
        'the controller kept a switch that answered none of its echo requests for %.1f s:\n%s'
        % (DROP_DEADLINE, silent.dump()))
    assert silent.closed_by_controller
    assert len(silent.received(ofp.OFPT_ECHO_REQUEST)) >= MAX_UNREPLIED + 1, silent.dump()
    # not before it had a fair chance to answer
    assert silent.closed_at - connected_at >= INTERVAL * MAX_UNREPLIED - 0.5
    wait_unlisted(controller, silent.dpid)

    # The switch that answers is probed just as often and stays.
    assert alive.connected
    assert len(alive.received(ofp.OFPT_ECHO_REQUEST)) >= MAX_UNREPLIED + 1, alive.dump()
    assert alive.echo(b'still there').data == b'still there'
    assert len(listed(controller, alive.dpid)) == 1


def test_a_busy_switch_that_answers_no_echo_stays_and_a_dropped_one_gets_one_warning(start_controller, connect_peer):
    """Any message proves a switch alive (as OVS's own inactivity probe counts them): a switch that sends
    packet-ins but leaves every echo unanswered, as a saturated one may, is kept well past the point where a
    silent one is dropped; the silent one's drop is one WARNING line saying why."""
    controller = start_controller(['--echo-request-interval', str(INTERVAL),
                                   '--maximum-unreplied-echo-requests', str(MAX_UNREPLIED), '--no-forwarding'])
    busy = connect_peer(controller, 0x31, answer_echo=False)
    silent = connect_peer(controller, 0x32, answer_echo=False)
    wait_listed(controller, busy)
    wait_listed(controller, silent)
    deadline = time.monotonic() + DROP_DEADLINE + 2.0
    while time.monotonic() < deadline:
        busy.send_packet_in(1, frame(bytes.fromhex('000000000301'), bytes.fromhex('000000000302')))
        time.sleep(0.2)
    assert silent.closed_by_controller, silent.dump()
    assert busy.connected, 'a switch sending packet-ins was dropped for not answering echo:\n' + busy.dump()
    assert len(listed(controller, busy.dpid)) == 1
    drops = [line for line in controller.log().splitlines() if 'echo requests unanswered' in line]
    assert len(drops) == 1 and '00:00:00:00:00:00:00:32' in drops[0], drops
