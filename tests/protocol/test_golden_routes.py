"""Every request Floodlight answered in its captures (tests/fixtures/floodlight/v0.90, v0.91, v1.2) replayed, in order,
against a controller with the captures' network: two switches joined by a cable, a host on each, and what the
captures pushed. Where Floodlight answered 2xx with JSON, our reply must have its keys (more are allowed: a client
reads the keys it knows) and JSON value types (tests/protocol/golden.py; a Floodlight null takes any value); where
it answered 4xx/5xx (or an "ERROR" blob), ours must be a 4xx with a JSON reason. A capture that answers otherwise on
purpose is in DOCUMENTED with the status docs/compatibility.md gives it. The static flow pusher's replies are also
compared byte for byte (test_golden_replay.py), the firewall's and ACL's value for value
(tests/unit/test_firewall.py, test_acl.py). A capture that none of these checks, because ours or theirs had nothing
to compare (an empty list against a full one), fails test_every_captured_route_is_checked unless it is in
NOT_COMPARED with the reason.

The 0.9x sets run with --floodlight-api 0.9 (0.91's shapes; v0.90's few other keys are DOCUMENTED). Not here:
floodlight-captures/v0.90-role/rest.txt (replies without their requests: role changes,
tests/protocol/test_connections.py and the role rows of docs/compatibility.md) and the switch-wire.jsonl files (what
switches received).
"""
import json
import re
import struct
import time

import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from controller.lldp import ETH_TYPE_LLDP, parse_lldp
from tests.lib.controller import wait_for
from tests.protocol.golden import CAPTURES, shape_differences
from tests.protocol.test_golden_replay import CONFLICT_ON_PURPOSE, REJECTED_ON_PURPOSE, parse_capture

pytestmark = pytest.mark.protocol

VERSIONS = {'v0.90': ('--floodlight-api', '0.9'), 'v0.91': ('--floodlight-api', '0.9'), 'v1.2': ()}
H1, H2 = bytes.fromhex('000000000001'), bytes.fromhex('000000000002')

# Where ours answers otherwise on purpose: capture -> (our status, docs/compatibility.md's line, in short).
DOCUMENTED = {
    # a bad DPID: 400 with a JSON reason (0.9x: 500 with a stack trace; 1.x: 200 with an ERROR blob)
    **{'%s/022_sw_bad_dpid.txt' % v: (400, 'bad DPID') for v in ('v0.90', 'v0.91')},
    'v1.2/024_sw_bad_dpid.txt': (400, 'bad DPID'),
    # a switch that is not connected: 404 (0.9x: {"<dpid>":null}; 1.x: an ERROR blob)
    **{'%s/023_sw_unknown_dpid.txt' % v: (404, 'switch not connected') for v in ('v0.90', 'v0.91')},
    'v1.2/025_sw_unknown_dpid.txt': (404, 'switch not connected'),
    # statistics OpenFlow 1.0 has none of: empty (1.x: 200 and an ERROR blob); no statistic at all: 404
    'v1.2/016_sw1_bogus.txt': (404, 'no such statistic'),
    **{'v1.2/%s' % name: (200, 'none on OpenFlow 1.0: []') for name in (
        '013_sw1_group.txt', '014_sw1_meter.txt', '015_sw1_table-features.txt')},
    # table and port-desc: 1.2 answered an ERROR blob to an OpenFlow 1.0 switch; ours answers the statistic
    'v1.2/010_sw1_table.txt': (200, 'table stats in the 1.x style'),
    'v1.2/022_all_table.txt': (200, 'table stats in the 1.x style'),
    'v1.2/012_sw1_port-desc.txt': (200, 'port-desc from the FEATURES_REPLY'),
    # GET /wm/core/role/json: 1.2's HA role (ACTIVE/STANDBY); ours the 0.9x role object plus switches and masters
    'v1.2/032_core_role_json.txt': (200, 'role object'),
    # 1.2 had no 0.9x counter URLs (404); every counter URL of both generations is served here, with the counters
    # kept here (not Floodlight's StorageQuery or per-layer packet-in counts)
    'v1.2/035_core_counter_all_json.txt': (200, 'both generations\' counter URLs'),
    **{'%s/032_core_counter_all_json.txt' % v: (200, 'the counters kept here') for v in ('v0.90', 'v0.91')},
    # /switch/<dpid>/role/json: 1.2's {"<dpid>":"MASTER"} for every generation
    **{'%s/024_sw_role.txt' % v: (200, '1.2 role shape') for v in ('v0.90', 'v0.91')},
    # --floodlight-api 0.9 serves 0.91's keys: v0.90's switch list (featuresReplyFromSwitch, role, tables,
    # attributes.DescriptionData), desc beans (length) and link port states are not served
    'v0.90/003_switches_before_hosts.txt': (200, "0.91's switch list"),
    'v0.90/004_switches.txt': (200, "0.91's switch list"),
    'v0.90/009_sw1_desc.txt': (200, "0.91's desc bean"),
    'v0.90/010_all_desc.txt': (200, "0.91's desc bean"),
    'v0.90/039_topo_links_json.txt': (200, "links without v0.90's port states"),
    'v0.90/060_fw_rules.txt': (200, "0.91's rule list (string values)"),
    # a bad DPID in a static flow list: 400 (0.9x: 200 with an empty map)
    **{'%s/083_sfp_list_bad.txt' % v: (400, 'bad DPID') for v in ('v0.90', 'v0.91')},
    # 1.2 had dropped the 0.9x URL family (404); every family is served here
    'v1.2/115_sfp_old_url.txt': (200, 'every URL family'),
    # 1.2 added an allow-all rule for a body that is not JSON
    'v1.2/061_fw_add_bad.txt': (400, 'bad JSON'),
    # the firewall: GET enables too (1.2 wanted PUT)
    'v1.2/055_fw_enable_get.txt': (200, 'GET and PUT enable'),
    # static entries Floodlight said "Entry pushed" to and then dropped or mangled: 400 naming the key (or 409)
    **{key: (400, 'rejected on purpose') for key in REJECTED_ON_PURPOSE},
    **{key.replace('v0.91/', 'v0.90/'): (400, 'rejected on purpose')
       for key in REJECTED_ON_PURPOSE if key.startswith('v0.91/')},
    **{key: (409, 'one flow, two entries') for key in CONFLICT_ON_PURPOSE},
}

# Floodlight's words for a refusal it sent with HTTP 200: ours is a 4xx with a JSON reason (docs/compatibility.md).
FLOODLIGHT_REFUSALS = re.compile(r'"status" ?: ?"(Error|Warning|Failed)|Could not parse|Can\'t delete|'
                                 r'already exists|invalid operation')

# Routes of Floodlight's default modules that are not served yet: they must still answer a JSON 404 (when one is
# written, its capture leaves this list and is compared).
NOT_SERVED_YET = {
    # v0.90's event history (0.91 answered 404 itself, as here)
    'v0.90/037_core_event-history_topology-switch_5_json.txt': 'v0.90 event history',
    'v0.90/038_core_event-history_topology-link_5_json.txt': 'v0.90 event history',
}

# Captures replayed here whose shape cannot be compared, and why (each one is looked at again when it changes).
NOT_COMPARED = {
    # Floodlight's own network in these captures had no flows, queues or hosts on the asked switch; ours neither
    # (an empty list against an empty list compares nothing, the value type does: both are checked)
}


def arp(src, sender_ip, target_ip):
    body = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + src + bytes(sender_ip) + bytes(6) + bytes(target_ip)
    return b'\xff' * 6 + src + b'\x08\x06' + body


def lldp_out(peer, port):
    def found(_msgs):
        for msg in peer.received(ofp.OFPT_PACKET_OUT):
            if msg.data and msg.data[12:14] == struct.pack('!H', ETH_TYPE_LLDP) and msg.actions[0].port == port:
                return msg.data
        return None
    return peer.wait_for(found, what='LLDP out of port %d' % port)


def build_network(controller, connect_peer):
    """Switches 1 and 2 (ports 1-3), cabled 3<->3 (LLDP handed over both ways), h1 on 1/1 and h2 on 2/1."""
    s1 = connect_peer(controller, 1)
    s2 = connect_peer(controller, 2)
    for peer in (s1, s2):
        peer.port_counters = {1: (3, 4), 2: (3, 4), 3: (3, 4)}
    data = lldp_out(s1, 3)
    assert parse_lldp(data) == (1, 3)
    s2.send_packet_in(3, data)
    s1.send_packet_in(3, lldp_out(s2, 3))
    wait_for(lambda: controller.get('/wm/topology/links/json')[1] != '[]', 5, what='the link')
    time.sleep(0.3)  # the port quarantine (--port-quarantine 0.2)
    s1.send_packet_in(1, arp(H1, (10, 0, 0, 1), (10, 0, 0, 2)))
    s2.send_packet_in(1, arp(H2, (10, 0, 0, 2), (10, 0, 0, 1)))
    wait_for(lambda: len(json.loads(controller.get('/wm/device/')[1])) == 2, 5, what='two hosts')
    return s1, s2


def capture_files(version):
    return sorted(path for path in (CAPTURES / version).glob('*.txt'))


def is_floodlight_error(status, body, text):
    return status >= 400 or (isinstance(body, dict) and 'ERROR' in body) or bool(FLOODLIGHT_REFUSALS.search(text))


def names_as_data(url, body):
    """A static flow list's entry names are data: {dpid: {name: entry}} (0.9x) and {dpid: [{name: entry}]} (1.x)
    with each name made its index, so that the entries' shapes are compared, not which names were stored."""
    if '/list/' not in url or not isinstance(body, dict):
        return body
    out = {}
    for dpid, entries in body.items():
        if isinstance(entries, dict):
            out[dpid] = {str(i): entry for i, entry in enumerate(entries.values())}
        elif isinstance(entries, list):
            out[dpid] = [{'0': next(iter(item.values()))} if isinstance(item, dict) and len(item) == 1 else item
                         for item in entries]
        else:
            out[dpid] = entries
    return out


def check(key, url, status, text, captured_status, captured_text):
    """-> (compared, problem or None) for one replayed capture."""
    theirs = json.loads(captured_text) if captured_text.strip()[:1] in ('{', '[') else None
    try:
        ours = json.loads(text) if text else None
    except ValueError:
        if theirs is None and captured_text.strip() and 200 <= status < 300:  # bare text, as 0.91's subnet mask
            return bool(text.strip()), None
        return False, 'not JSON: %r' % text[:100]
    if key in NOT_SERVED_YET:
        return False, (None if status == 404 and isinstance(ours, dict) and ours.get('reason') else
                       'not served yet, so a JSON 404 was expected: %d %s' % (status, text[:100]))
    if key in DOCUMENTED:
        expected, _why = DOCUMENTED[key]
        if status != expected:
            return False, 'documented %d, got %d %s' % (expected, status, text[:100])
        if status >= 400 and not (isinstance(ours, dict) and ours.get('reason')):
            return False, 'a %d without a JSON reason' % status
        return True, None
    if is_floodlight_error(captured_status, theirs, captured_text):
        if not (400 <= status < 500 and isinstance(ours, dict) and ours.get('reason')):
            return False, 'Floodlight refused (%d); ours: %d %s' % (captured_status, status, text[:100])
        return True, None
    if not 200 <= status < 300:
        return False, 'Floodlight answered %d; ours %d %s' % (captured_status, status, text[:160])
    if theirs is None:
        return True, None
    ours, theirs = names_as_data(url, ours), names_as_data(url, theirs)
    differences = shape_differences(ours, theirs, extra_keys=True)
    if differences:
        return False, '; '.join(differences[:5])
    return compares_something(ours, theirs), None


def compares_something(ours, theirs):
    """Whether the shape check looked at what Floodlight answered: not when ours is empty and theirs is not (an
    empty answer of Floodlight's is compared by its type)."""
    return bool(ours) or not theirs


@pytest.fixture(scope='module')
def results():
    return {}


@pytest.mark.parametrize('version', sorted(VERSIONS))
def test_captured_requests_answer_in_floodlights_shapes(version, start_controller, connect_peer, results):
    controller = start_controller(extra_args=VERSIONS[version] + ('--port-quarantine', '0.2',
                                                                  '--statistics-interval', '1'))
    build_network(controller, connect_peer)
    problems = []
    for path in capture_files(version):
        key = '%s/%s' % (version, path.name)
        method, url, body, captured_status, _headers, captured_text = parse_capture(path)
        if '/wm/statistics/bandwidth/' in url:
            wait_for(lambda: controller.get(url)[1] != '[]', 15, what='a bandwidth figure')
        status, text, _ = controller.request(method, url, body)
        compared, problem = check(key, url, status, text, captured_status, captured_text)
        if problem:
            problems.append('%s: %s %s -> %s' % (key, method, url, problem))
        results[key] = 'compared' if compared else 'empty'
    assert not problems, '%d of the captured requests differ:\n%s' % (len(problems), '\n'.join(problems))


def test_every_captured_route_is_checked(results):
    """Runs after the replays: each capture's reply was compared (or is in NOT_COMPARED or NOT_SERVED_YET with the
    reason)."""
    if len(results) < sum(len(capture_files(v)) for v in VERSIONS):
        pytest.skip('the replays did not all run')
    unchecked = sorted(key for key, outcome in results.items()
                       if outcome == 'empty' and key not in NOT_COMPARED and key not in NOT_SERVED_YET)
    assert not unchecked, 'captured routes whose shape nothing compared (add data, or NOT_COMPARED with why):\n' + (
        '\n'.join(unchecked))
