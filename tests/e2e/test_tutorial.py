"""The Floodlight static flow pusher tutorial, replayed against this controller on a real Open vSwitch.

Each test gets a fresh controller and network (fixture `tutorial` in conftest.py) and checks what a user of the
tutorial would: the REST replies, `ovs-ofctl dump-flows s1`, and whether the hosts can ping each other.
"""
import json
import subprocess

import pytest

from controller.flowentry import floodlight_cookie
from tests.e2e.conftest import BRIDGE, DPID_TEXT, H1, H2, H3, HOSTS, format_flows

pytestmark = [
    pytest.mark.e2e,
    # PyPI Mininet 2.3.0.dev6 compares OVS versions with distutils' StrictVersion.
    pytest.mark.filterwarnings('ignore:distutils Version classes are deprecated:DeprecationWarning'),
]

PUSH_PATH = '/wm/staticflowpusher/json'
ENTRY_PUSHED = '{"status" : "Entry pushed"}'


def src_mac_entry(name, src, out_port):
    return {'switch': DPID_TEXT, 'name': name, 'cookie': '0', 'priority': '32768', 'src-mac': src.mac,
            'active': 'true', 'actions': 'output=%d' % out_port}


def dst_mac_entry(name, dst, out_port):
    return {'switch': DPID_TEXT, 'name': name, 'cookie': '0', 'priority': '32768', 'dst-mac': dst.mac,
            'active': 'true', 'actions': 'output=%d' % out_port}


# The tutorial's two flows: h1 -> port 3 (h3), h3 -> port 1 (h1).
TUTORIAL_ENTRIES = (src_mac_entry('static-flow1', H1, 3), src_mac_entry('static-flow2', H3, 1))
# Plain forwarding by destination MAC: every host reachable on its own port.
DST_ENTRIES = {spec.name: dst_mac_entry('to-%s' % spec.name, spec, spec.port) for spec in HOSTS}
ALL_PAIRS = [(src, dst) for src in HOSTS for dst in HOSTS if src is not dst]


def push_all(tutorial, entries):
    for entry in entries:
        status, text = tutorial.push(entry)
        assert (status, text) == (200, ENTRY_PUSHED), 'pushing %s: %s %s' % (entry['name'], status, text)


def flows_named(flows, name):
    cookie = floodlight_cookie(name)
    return [flow for flow in flows if flow.cookie == cookie]


def matches_entry(flow, entry):
    """The installed flow is what the entry asked for: priority, one L2 match field, one output action."""
    key, field = ('src-mac', 'dl_src') if 'src-mac' in entry else ('dst-mac', 'dl_dst')
    return (flow.priority == int(entry['priority']) and flow.match == {field: entry[key]}
            and flow.actions == entry['actions'].replace('=', ':'))


def installed_exactly(entries):
    """Predicate for TutorialNetwork.wait_flows: one flow per entry, as asked, and no other static flow."""
    def check(flows):
        if len(flows) != len(entries):
            return False
        for entry in entries:
            named = flows_named(flows, entry['name'])
            if len(named) != 1 or not matches_entry(named[0], entry):
                return False
        return True
    return check


def listed_names(tutorial, switch='all'):
    listing = tutorial.get_json('/wm/staticflowpusher/list/%s/json' % switch)
    return {name for entry in listing.get(DPID_TEXT, []) for name in entry}


def test_tutorial_src_mac_flows_connect_h1_and_h3_only(tutorial):
    push_all(tutorial, TUTORIAL_ENTRIES)

    flows = tutorial.wait_flows(installed_exactly(TUTORIAL_ENTRIES), 'static-flow1 and static-flow2 in dump-flows')
    # What the tutorial shows for static-flow1, literally. ovs-ofctl prints priority only when it is not
    # 32768 (OFP_DEFAULT_PRIORITY), so parse_flow reads a missing priority as 32768 and any other value fails.
    assert floodlight_cookie('static-flow1') == 0xa00000d7014f7f
    flow1, = flows_named(flows, 'static-flow1')
    assert 'cookie=0xa00000d7014f7f' in flow1.line, flow1.line
    assert flow1.priority == 32768 and flow1.match == {'dl_src': H1.mac} and flow1.actions == 'output:3', flow1.line
    flow2, = flows_named(flows, 'static-flow2')
    assert 'cookie=0x%x' % floodlight_cookie('static-flow2') in flow2.line, flow2.line
    assert flow2.priority == 32768 and flow2.match == {'dl_src': H3.mac} and flow2.actions == 'output:1', flow2.line

    assert listed_names(tutorial) == {'static-flow1', 'static-flow2'}

    tutorial.assert_pings_succeed([(H1, H3), (H3, H1)])
    # h2's frames match no flow (the controller forwards nothing), and frames to h2 are sent to port 1 or 3.
    tutorial.assert_pings_fail([(H2, H1), (H2, H3), (H1, H2), (H3, H2)])


def test_clear_then_dst_mac_flows_connect_every_pair(tutorial):
    push_all(tutorial, TUTORIAL_ENTRIES)
    tutorial.wait_flows(installed_exactly(TUTORIAL_ENTRIES), 'the tutorial flows before the clear')

    status, text = tutorial.rest('GET', '/wm/staticflowpusher/clear/all/json')
    assert status == 200, (status, text)
    assert json.loads(text) == {'status': 'Deleted all flows.'}, text
    tutorial.wait_flows(lambda flows: not flows, 'no static flow left after clear/all')
    assert listed_names(tutorial) == set()
    tutorial.assert_pings_fail([(H1, H3), (H3, H1)])

    entries = list(DST_ENTRIES.values())
    push_all(tutorial, entries)
    flows = tutorial.wait_flows(installed_exactly(entries), 'one dst-mac flow per host')
    for spec in HOSTS:
        flow, = flows_named(flows, 'to-%s' % spec.name)
        assert flow.match == {'dl_dst': spec.mac} and flow.actions == 'output:%d' % spec.port, flow.line

    tutorial.assert_pings_succeed(ALL_PAIRS)


def test_repushing_an_entry_redirects_its_traffic(tutorial):
    entries = list(DST_ENTRIES.values())
    push_all(tutorial, entries)
    tutorial.wait_flows(installed_exactly(entries), 'one dst-mac flow per host')
    tutorial.assert_pings_succeed([(H1, H3)])

    # Same name, same match: the entry is replaced and h3's traffic now leaves on h2's port.
    redirected = dict(DST_ENTRIES['h3'], actions='output=2')
    push_all(tutorial, [redirected])
    now = [DST_ENTRIES['h1'], DST_ENTRIES['h2'], redirected]
    flows = tutorial.wait_flows(installed_exactly(now), 'to-h3 modified to output:2')
    named = flows_named(flows, 'to-h3')
    assert len(named) == 1 and named[0].actions == 'output:2' and named[0].match == {'dl_dst': H3.mac}, \
        format_flows(flows)

    wanted = 3
    capture = tutorial.capture(H2, 'icmp and src host %s and dst host %s' % (H1.ip, H3.ip), wanted)
    try:
        results = tutorial.ping_counts([(H1, H3)], count=wanted)
        lines, complete = capture.packets(timeout=10)
    finally:
        capture.stop()
    sent, received, output = results[(H1, H3)]
    assert sent == wanted and received == 0, 'h1 -> h3 should fail now:\n' + output
    echoes = [line for line in lines if '%s > %s' % (H1.mac, H3.mac) in line and 'ICMP echo request' in line]
    assert complete and len(echoes) == wanted, \
        'h2 should have received h1\'s %d echo requests for h3, tcpdump saw:\n%s' % (wanted, '\n'.join(lines))
    # The other entries are untouched: h1 and h2 still reach each other (h3 cannot get an answer any more).
    tutorial.assert_pings_succeed([(H1, H2), (H2, H1)])


def test_entries_survive_a_controller_restart(tutorial):
    entries = list(DST_ENTRIES.values())
    push_all(tutorial, entries)
    tutorial.wait_flows(installed_exactly(entries), 'one dst-mac flow per host')
    tutorial.assert_pings_succeed([(H1, H3), (H2, H1)])

    def wipe_switch():
        # In fail_mode=secure OVS keeps its flows while the controller is away; empty the table so the pings
        # below can only work if the new controller re-installs the entries it read back from SQLite.
        subprocess.run(['ovs-ofctl', '-O', 'OpenFlow10', 'del-flows', BRIDGE], check=True, timeout=15)
        tutorial.wait_flows(lambda flows: not flows, 'an empty flow table while no controller runs')
        tutorial.assert_pings_fail([(H1, H3)])

    old_pid = tutorial.controller.proc.pid
    new = tutorial.restart_controller_with_same_state(between=wipe_switch)
    assert new.proc.pid != old_pid
    tutorial.wait_switch_connected()

    assert listed_names(tutorial) == {'to-h1', 'to-h2', 'to-h3'}
    assert listed_names(tutorial, DPID_TEXT) == {'to-h1', 'to-h2', 'to-h3'}
    tutorial.wait_flows(installed_exactly(entries), 'the restored entries re-installed on reconnect')
    tutorial.assert_pings_succeed(ALL_PAIRS)
