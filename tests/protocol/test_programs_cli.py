"""What Floodlight's example/cli.py (the same file in v0.91 and v1.2) relies on: every command of its usage text
is one GET (urllib2.urlopen, which raises on any status but 2xx), whose body it json.loads, pretty-prints and
counts with len(). So each URL must answer 200 with a JSON list or object.

Its usage also lists `switch_stats [DPID] host`, a statistic no switch ever had (0.91 answered {} for all and
{"<dpid>": null} for one switch): answered the same here with --floodlight-api 0.9, and [] per switch with 1.x.
"""
import json

import pytest

from tests.protocol.programs import FAST, SWITCH_A, two_switches

pytestmark = pytest.mark.protocol

STATS = ('port', 'queue', 'flow', 'aggregate', 'desc', 'table', 'features', 'host')

# cli.py command -> the URL lookupPath() makes of it
COMMANDS = {
    'host': '/wm/device/',
    'host debug': '/wm/device/debug',
    'link': '/wm/topology/links/json',
    'link tunnellinks': '/wm/topology/tunnellinks/json',
    'port blocked': '/wm/topology/blockedports/json',
    'port broadcast': '/wm/topology/broadcastdomainports/json',
    'memory': '/wm/core/memory/json',
    'switch': '/wm/core/controller/switches/json',
    'switchclusters': '/wm/topology/switchclusters/json',
    'counter OFPacketIn': '/wm/core/counter/OFPacketIn/json',
    'counter %s OFPacketIn' % SWITCH_A: '/wm/core/counter/%s/OFPacketIn/json' % SWITCH_A,
}
COMMANDS.update({'switch_stats %s' % stat: '/wm/core/switch/all/%s/json' % stat for stat in STATS})
COMMANDS.update({'switch_stats %s %s' % (SWITCH_A, stat): '/wm/core/switch/%s/%s/json' % (SWITCH_A, stat)
                 for stat in STATS})


@pytest.mark.parametrize('api', ['1.x', '0.9'])
def test_every_cli_command_answers_json_it_can_count(start_controller, connect_peer, api):
    controller = start_controller(FAST + ('--floodlight-api', api))
    two_switches(controller, connect_peer)
    counts = {}
    for command, url in COMMANDS.items():
        status, text, headers = controller.get(url)
        assert status == 200, (command, url, status, text)
        assert headers['Content-Type'].startswith('application/json'), (command, headers)
        out = json.loads(text)
        assert isinstance(out, (list, dict)), (command, out)  # print "Number of items: " + str(len(out))
        counts[command] = len(out)
    # what a user of the two-switch network sees counted
    assert counts['host'] == counts['host debug'] == 2
    assert counts['switch'] == 2 and counts['link'] == 1 and counts['switchclusters'] == 1
    assert counts['switch_stats desc'] == counts['switch_stats flow'] == 2
