"""Who may speak for a switch, the pure parts: a claim of a live DPID is probed and settled (controller/
connections.py), address ranges, certificate bindings and the rate limit of refusal lines (controller/identity.py)."""
import hashlib

import pytest

from controller import connections, identity
from controller.connections import ADMIT, GONE, PRIMARY, PROBE, REFUSE, SERVICE, ConnectionTracker

pytestmark = pytest.mark.unit

DPID = 0x7201


class Handle:
    pass


def second_claim(second_remote='10.0.0.2:2'):
    """A tracker where a session from 10.0.0.1:1 holds DPID and a second one claims it: (tracker, first, second)."""
    tracker = ConnectionTracker()
    first, second = Handle(), Handle()
    assert tracker.claim(DPID, first, PRIMARY, '10.0.0.1:1', 100.0).action == ADMIT
    assert tracker.claim(DPID, second, PRIMARY, second_remote, 101.0).action == PROBE
    return tracker, first, second


def test_first_session_of_a_dpid_is_admitted_and_a_second_is_held_for_a_probe():
    tracker = ConnectionTracker()
    first, second = Handle(), Handle()
    assert tracker.claim(DPID, first, PRIMARY, '10.0.0.1:1', 100.0).action == ADMIT
    claim = tracker.claim(DPID, second, PRIMARY, '10.0.0.2:2', 101.0)
    assert claim.action == PROBE and claim.incumbent.handle is first
    # held: not live, not current, not among the switch's sessions
    assert tracker.current(DPID).handle is first
    assert tracker.find(second) is None and tracker.holds(second)
    assert [c.handle for c in tracker.sessions(DPID)] == [first]


def test_an_incumbent_that_answers_keeps_the_switch_and_the_newcomer_is_refused_and_counted():
    tracker, first, second = second_claim()
    claim = tracker.settle(second, True, 101.5)
    assert claim.action == REFUSE and claim.incumbent.remote == '10.0.0.1:1'
    assert tracker.current(DPID).handle is first and not tracker.holds(second)
    view = tracker.refusals_view()
    assert view['refused'] == {'takeover': 1, 'address': 0, 'certificate': 0}
    assert view['recent'] == [{'time': 101.5, 'reason': 'takeover', 'remote': '10.0.0.2:2',
                               'dpid': '00:00:00:00:00:00:72:01', 'kind': PRIMARY, 'held_by': '10.0.0.1:1'}]
    events = [e['event'] for e in tracker.timeline(DPID)]
    assert events == ['connected', 'takeover_probe', 'refused']
    # the refused session's end changes nothing
    assert tracker.disconnect(second, 102.0) is None
    assert tracker.current(DPID).handle is first


def test_an_incumbent_that_stays_silent_is_replaced():
    tracker, first, second = second_claim('10.0.0.1:3')
    claim = tracker.settle(second, False, 101.5)
    assert claim.action == ADMIT and claim.incumbent.handle is first
    assert tracker.current(DPID).handle is second
    assert tracker.refusals_view()['refused']['takeover'] == 0
    replaced = [e for e in tracker.timeline(DPID) if e['event'] == 'replaced']
    assert replaced[0]['by'] == '10.0.0.1:3' and 'did not answer' in replaced[0]['detail']
    assert tracker.disconnect(first, 102.0) is None  # the replaced one's end leaves the newcomer in place
    assert tracker.current(DPID).handle is second


def test_an_incumbent_that_ends_during_the_probe_lets_the_newcomer_in_even_if_it_answered_first():
    tracker, first, second = second_claim('10.0.0.1:3')
    tracker.disconnect(first, 101.2)
    claim = tracker.settle(second, True, 101.3)
    assert claim.action == ADMIT and claim.incumbent is None
    assert tracker.current(DPID).handle is second


def test_a_newcomer_that_ends_while_held_is_forgotten():
    tracker, first, second = second_claim()
    assert tracker.disconnect(second, 101.1) is None
    assert tracker.settle(second, False, 101.5).action == GONE
    assert tracker.current(DPID).handle is first


def test_two_newcomers_at_once_the_second_probes_whoever_holds_the_dpid_when_its_probe_ends():
    tracker = ConnectionTracker()
    first, second, third = Handle(), Handle(), Handle()
    tracker.claim(DPID, first, PRIMARY, 'a:1', 100.0)
    tracker.claim(DPID, second, PRIMARY, 'b:2', 101.0)
    tracker.claim(DPID, third, PRIMARY, 'c:3', 101.1)
    assert tracker.settle(second, False, 101.5).action == ADMIT       # the first was dead: the second is in
    claim = tracker.settle(third, False, 101.6)                        # its probe went to the first
    assert claim.action == PROBE and claim.incumbent.handle is second  # probe the one that holds it now
    assert tracker.settle(third, True, 102.1).action == REFUSE
    assert tracker.current(DPID).handle is second


def test_a_service_and_a_primary_session_of_one_switch_are_no_takeover():
    tracker = ConnectionTracker()
    dialed, dialing = Handle(), Handle()
    assert tracker.claim(DPID, dialed, SERVICE, '10.0.0.1:6634', 100.0).action == ADMIT
    assert tracker.claim(DPID, dialing, PRIMARY, '10.0.0.1:40000', 101.0).action == ADMIT
    assert tracker.current(DPID).handle is dialing
    assert len(tracker.sessions(DPID)) == 2


def test_refusals_without_a_dpid_are_counted_but_recorded_in_no_timeline():
    tracker = ConnectionTracker()
    assert tracker.refuse(connections.REFUSED_ADDRESS, 5.0, '192.0.2.9:4000') == 1
    assert tracker.refuse(connections.REFUSED_ADDRESS, 6.0, '192.0.2.9:4001') == 2
    assert tracker.refusals_view()['refused']['address'] == 2
    assert tracker.dpids() == [] and not tracker.knows(DPID)


# --- addresses ----------------------------------------------------------------------------------------------

def test_no_ranges_allow_everyone():
    assert identity.address_allowed((), '192.0.2.1')
    assert identity.address_allowed(identity.parse_networks(['', ' ']), 'not an address')


def test_ranges_allow_their_addresses_of_either_family_only():
    networks = identity.parse_networks(['10.0.0.0/8', ' ::1 ', '192.0.2.7', 'fd00::/8'])
    assert identity.address_allowed(networks, '10.200.3.4')
    assert identity.address_allowed(networks, '192.0.2.7')
    assert not identity.address_allowed(networks, '192.0.2.8')
    assert not identity.address_allowed(networks, '127.0.0.1')
    assert identity.address_allowed(networks, '::1')
    assert identity.address_allowed(networks, 'fd12::5')
    assert not identity.address_allowed(networks, 'fe80::1%lo')
    assert identity.address_allowed(networks, '::ffff:10.1.1.1')       # IPv4 on a dual-stack listener
    assert not identity.address_allowed(networks, '::ffff:127.0.0.1')
    assert not identity.address_allowed(networks, 'garbage')


def test_host_bits_in_a_range_are_ignored_and_a_typo_is_a_clear_error():
    assert identity.parse_networks(['10.1.2.3/8']) == identity.parse_networks(['10.0.0.0/8'])
    with pytest.raises(identity.IdentityConfigError, match="--ofp-allow: '10.0.0.0/33' is not an address range"):
        identity.parse_networks(['10.0.0.0/33'])


# --- certificates -------------------------------------------------------------------------------------------

DER_A, DER_B = b'certificate A', b'certificate B'
FP_A = hashlib.sha256(DER_A).hexdigest()
SUBJECT_A = ((('organizationName', 'Open vSwitch'),), (('commonName', 'sw id:aaaa'),))
SUBJECT_B = ((('commonName', 'sw id:bbbb'),),)


def test_bindings_file_accepts_fingerprints_as_openssl_prints_them_and_common_names():
    colons = ':'.join(FP_A[i:i + 2] for i in range(0, 64, 2)).upper()
    bindings = identity.parse_switch_certs('\n'.join([
        '# DPID  certificate',
        '00:00:00:00:00:00:72:01  sha256:%s' % colons,
        '7202 sha256 Fingerprint=%s' % colons,
        '',
        '0x7203   CN=sw id:aaaa',
        '7203 sha256:%s' % FP_A,
    ]))
    assert bindings == {0x7201: {'sha256:' + FP_A}, 0x7202: {'sha256:' + FP_A},
                        0x7203: {'CN=sw id:aaaa', 'sha256:' + FP_A}}


@pytest.mark.parametrize('line, message', [
    ('7201', 'expected "DPID sha256:<fingerprint>" or "DPID CN=<common name>"'),
    ('7201 sha256:abcd', 'is not a SHA-256 fingerprint'),
    ('7201 CN=', 'expected "DPID sha256'),
    ('switch1 CN=x', 'is not a DPID'),
    ('7201 sha1:00', 'expected "DPID sha256'),
])
def test_a_bad_binding_line_names_the_file_and_line(line, message):
    with pytest.raises(identity.IdentityConfigError, match='certs.txt line 2: .*' + message):
        identity.parse_switch_certs('# header\n' + line, 'certs.txt')


def test_a_missing_bindings_file_is_a_clear_error(tmp_path):
    with pytest.raises(identity.IdentityConfigError, match='cannot read --ofp-switch-certs file'):
        identity.load_switch_certs(str(tmp_path / 'absent'))


def test_a_certificate_speaks_only_for_the_dpids_bound_to_it():
    bindings = {0x7201: frozenset({'sha256:' + FP_A}), 0x7202: frozenset({'CN=sw id:bbbb'})}
    assert identity.certificate_refusal(bindings, 0x7201, DER_A, SUBJECT_A) is None
    assert identity.certificate_refusal(bindings, 0x7202, DER_B, SUBJECT_B) is None
    assert 'is not the one bound to DPID 00:00:00:00:00:00:72:02' in identity.certificate_refusal(
        bindings, 0x7202, DER_A, SUBJECT_A)
    assert 'is not the one bound to DPID 00:00:00:00:00:00:72:01' in identity.certificate_refusal(
        bindings, 0x7201, DER_B, SUBJECT_B)
    assert 'no certificate is bound to DPID 00:00:00:00:00:00:72:03' in identity.certificate_refusal(
        bindings, 0x7203, DER_A, SUBJECT_A)
    assert identity.certificate_refusal(bindings, 0x7201, None, None) == 'it presented no certificate'


# --- the rate limit of lines --------------------------------------------------------------------------------

def test_one_line_per_key_and_interval_and_the_next_says_how_many_were_held_back():
    limiter = identity.LineLimiter(interval=10.0, max_keys=2)
    assert limiter.allow('a', 0.0) == 0
    assert limiter.allow('a', 1.0) is None
    assert limiter.allow('a', 2.0) is None
    assert limiter.allow('b', 2.0) == 0           # another key is not held back
    assert limiter.allow('a', 10.5) == 2
    assert limiter.allow('c', 11.0) == 0          # a third key: the oldest ('b') is forgotten
    assert limiter.allow('b', 11.0) == 0
