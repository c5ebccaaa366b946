"""Fixtures: controllers as subprocesses (stopped, and their logs checked, after each test) and peers."""
import pytest

from tests.lib.controller import ControllerProcess
from tests.protocol.helpers import wait_synced
from tests.protocol.ofpeer import OFPeer


@pytest.fixture
def start_controller(tmp_path):
    """start_controller(extra_args=(), db_path=None, apps=(), **ControllerProcess options) -> a started
    ControllerProcess; all stopped at teardown.

    A controller log with a Traceback fails the test in teardown.
    """
    started = []

    def start(extra_args=(), db_path=None, apps=(), **options):
        controller = ControllerProcess(tmp_path, db_path=db_path, extra_args=extra_args, apps=apps, **options)
        started.append(controller)
        return controller.start()

    yield start
    for controller in started:
        controller.stop()
    for controller in started:
        controller.assert_clean_log()


@pytest.fixture
def controller(start_controller):
    return start_controller()


@pytest.fixture
def connect_peer():
    """connect_peer(controller, dpid, wait='synced', **OFPeer options) -> a connected OFPeer; closed at teardown.

    wait: None (just connected), 'ready' (handshake done and the controller's first message after it arrived),
    'synced' (also the controller's connect-time flow table reconciliation is over: see helpers.wait_synced).
    """
    peers = []

    def connect(controller, dpid, wait='synced', **options):
        peer = OFPeer(controller.ofp_port, dpid, **options)
        peers.append(peer)
        peer.connect()
        if wait in ('ready', 'synced'):
            peer.wait_ready()
        if wait == 'synced':
            wait_synced(peer)
        return peer

    yield connect
    for peer in peers:
        peer.close()
