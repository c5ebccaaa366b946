"""What an operator sees of a running controller's logs (controller/logformat.py), and a Floodlight .properties
file's ports used (controller/floodlight_properties.py)."""
import json
import re

import pytest

from tests.lib.controller import ControllerProcess, free_port
from tests.protocol.helpers import colon_dpid, wait_listed

pytestmark = pytest.mark.protocol

DPID = 0x00000000000000b7
TEXT_LINE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: \S')
# Before Ryu imports controller.apps (which installs the format) only Ryu's own "loading app controller.apps" is
# logged; the rest of what precedes it are Python's warnings and eventlet's notices, which are not log lines.
FORMATTED_FROM = 'loading app controller.apps\n'


def log_lines(controller):
    text = controller.log()
    assert FORMATTED_FROM in text, text
    return text.split(FORMATTED_FROM, 1)[1].splitlines()


def run_a_switch(controller, connect_peer):
    peer = connect_peer(controller, DPID)
    wait_listed(controller, peer)
    peer.close()
    controller.stop()


def test_text_lines_have_iso_time_level_and_module(start_controller, connect_peer):
    controller = start_controller()
    run_a_switch(controller, connect_peer)
    lines = log_lines(controller)
    assert [line for line in lines if not TEXT_LINE.match(line)] == []
    assert any(re.search(r' INFO apps\.switches: switch %s connected from ' % colon_dpid(DPID), line)
               for line in lines), lines


def test_json_lines_parse_and_carry_the_dpid(start_controller, connect_peer):
    controller = start_controller(extra_args=['--log-format', 'json'])
    run_a_switch(controller, connect_peer)
    records = [json.loads(line) for line in log_lines(controller)]
    assert all({'time', 'level', 'module', 'message'} <= set(r) for r in records)
    connected = [r for r in records if r['message'].startswith('switch %s connected' % colon_dpid(DPID))]
    assert connected and connected[0]['dpid'] == colon_dpid(DPID) and connected[0]['module'] == 'apps.switches'
    assert any(r['module'].startswith('ryu.') for r in records)  # Ryu's own lines take the format too


class PropertiesController(ControllerProcess):
    """A controller whose OpenFlow and REST ports come from a properties file, not from flags."""

    def __init__(self, workdir, properties, **options):
        super().__init__(workdir, **options)
        self.properties = properties

    def command(self):
        command = super().command()
        for flag in ('--ofp-tcp-listen-port', '--wsapi-port'):
            at = command.index(flag)
            del command[at:at + 2]
        return command + ['--floodlight-properties', self.properties]


def test_a_floodlight_properties_files_ports_are_used(tmp_path, connect_peer):
    ofp_port, rest_port = free_port(), free_port()
    path = tmp_path / 'floodlight.properties'
    path.write_text('# as Floodlight 1.2 reads it\n'
                    'floodlight.modules=net.floodlightcontroller.staticflowentry.StaticFlowEntryPusher,\\\n'
                    '    net.floodlightcontroller.restserver.RestApiServer\n'
                    'net.floodlightcontroller.core.internal.FloodlightProvider.openFlowPort=%d\n'
                    'net.floodlightcontroller.restserver.RestApiServer.httpPort: %d\n'
                    'net.floodlightcontroller.core.internal.FloodlightProvider.role=ACTIVE\n' % (ofp_port, rest_port))
    controller = PropertiesController(tmp_path, str(path), ofp_port=ofp_port, rest_port=rest_port)
    try:
        controller.start()
        peer = connect_peer(controller, DPID)
        wait_listed(controller, peer)
        assert controller.get('/wm/firewall/module/status/json')[0] == 404  # Firewall not in floodlight.modules
    finally:
        controller.stop()
    controller.assert_clean_log()
    log = controller.log()
    assert 'ignored 1 keys (net.floodlightcontroller.core.internal.FloodlightProvider.role)' in log
    assert 'forwarding=False' in log


def test_a_wrong_value_stops_the_start_with_one_line(tmp_path):
    path = tmp_path / 'floodlight.properties'
    path.write_text('net.floodlightcontroller.restserver.RestApiServer.httpPort=80a\n')
    controller = PropertiesController(tmp_path, str(path))
    with pytest.raises(AssertionError, match='exited with 2'):
        controller.start(timeout=10)
    log = controller.log()
    assert 'ryu-manager: net.floodlightcontroller.restserver.RestApiServer.httpPort=80a in the Floodlight ' \
           'properties file: not a port number\n' in log
    assert 'Traceback' not in log
