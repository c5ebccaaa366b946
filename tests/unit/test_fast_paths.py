"""The push path's fast paths and caches (rest.floodlight, controller.flowentry) give exactly
what the general code gives: the same value, or the same error with the same text, for the canonical spellings
they take and for the edge cases they hand on (upper-case hex, spaces, leading zeros, single-digit octets...)."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from controller.flowentry import java_string_hash
from rest import floodlight as fl
from tests.lib import entry_strategies as strat

pytestmark = pytest.mark.unit

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DIALECTS = (fl.DIALECT_V0, fl.DIALECT_V1)

MACS = ['52:54:00:9b:d5:bc', '52:54:00:9B:D5:BC', '52:54:00:9b:d5:bC', 'AB:54:00:9b:d5:bc',
        '52:54:00:9B:D5:bc', '2:4:0:9b:d5:cc', ' 52:54:00:9b:d5:bc', '52:54:00:9b:d5:bc ', '52-54-00-9b-d5-bc',
        '2:4:0:9b:d5:c', '052:54:00:9b:d5:bc', '52:54:00:9b:d5:bc\n', '52:54:00:9b:d5', '52:54:00:9b:d5:bc:',
        '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', 'zz:54:00:9b:d5:bc', '5254.009b.d5bc', '5254009bd5bc',
        '52:54:00:9b:d5:\u0660\u0661', '', ' ', 5, None, True, b'52:54:00:9b:d5:bc']
IPS = ['10.0.0.1', ' 10.0.0.1', '10.0.0.1 ', '010.0.0.1', '10.0.0.01', '10.0.0.1\n', '255.255.255.255', '0.0.0.0',
       '10.0.0.256', '10.0.0', '10.0.0.1/24', '10.0.0.1/255.255.255.0', '10.0.0.1/', '10.0.0.1/33', '::1',
       '\u0661.2.3.4', '', 5, None]
NUMBERS = ['0', '1', '7', '8', '32768', '032768', ' 32768', '32768 ', '0x800', '0X800', '0x0800', '0x', '0xffff',
           '65535', '65536', '-0', '-1', '+1', '1_000', '1.5', '1e3', 'ten', '\u0661\u0662', '\u00b2', '',
           ' ', '0b1', 0, 1, 65535, 65536, -1, True, False, 1.0, None, 2 ** 64 - 1, 2 ** 64]
DPIDS = ['00:00:00:00:00:c0:00:01', '00:00:00:00:00:C0:00:01', ' 00:00:00:00:00:c0:00:01', '0:0:0:0:0:c0:0:1',
         '00:00:00:00:00:00:00:00:01', '1', '01', '0x1', '0X1', 'c00001', 'C00001', '', 'all', 'g',
         '\u0661', 1, 0, -1, 2 ** 64, True, 1.0]
ACTIONS = ['output=2', 'OUTPUT=2', ' output = 2 ', 'output:2', 'output=02', 'output=0x2', 'output=flood',
           'output=FLOOD', 'output=in_port', 'output=0', 'output=65280', 'output=', 'output', 'strip_vlan',
           'strip_vlan=1', 'set_eth_src=52:54:00:9B:D5:BC', 'set-src-mac=2:4:0:9b:d5:c', 'enqueue=1:2', 'enqueue=1',
           'set_ipv4_src=10.0.0.1', 'set_ipv4_src=10.0.0.1/8', 'output=1,,output=2', '', ' ', ',', 'drop',
           'output=1\n', 'set_ip_tos=3', 'set_vlan_vid=4096', 3, None]


def outcome(convert, *args):
    """What a call gives: its value, or its error's type and text (and key, for a FlowValidationError)."""
    try:
        return ('value', convert(*args))
    except fl.FlowValidationError as error:
        return ('error', type(error), error.reason, error.key)
    except Exception as error:  # netaddr's AddrFormatError is not a ValueError
        return ('error', type(error), str(error))


def memoized_converters():
    """Every converter of the key and action tables that keeps results, by where it is used."""
    tables = [(key, spec.convert) for key, spec in fl.MATCH_KEYS.items()]
    tables += [(key, convert) for key, (_, convert) in fl.META_KEYS.items() if convert is not None]
    tables += [('action ' + key, convert) for key, (_, convert) in fl.ACTION_KEYWORDS.items() if convert]
    found = [(key, convert) for key, convert in tables if hasattr(convert, 'uncached')]
    assert {'priority', 'eth_type', 'in_port', 'switch', 'tp_dst'} <= {key for key, _ in found}
    return found


@pytest.mark.parametrize('value', MACS)
def test_mac_fast_path(value):
    assert outcome(fl.to_mac, value) == outcome(fl._parse_mac, value)


@pytest.mark.parametrize('value', IPS)
def test_ipv4_prefix_fast_path(value):
    assert outcome(fl.to_ipv4_prefix, value) == outcome(fl._parse_ipv4_prefix, value)


ANY_CASE_MAC = st.lists(st.text('0123456789abcdefABCDEF', min_size=1, max_size=3), min_size=5, max_size=7).map(':'.join)


@SETTINGS
@given(strat.mac | ANY_CASE_MAC, strat.cidr)
def test_mac_and_ipv4_fast_paths_on_generated_values(mac, cidr):
    assert outcome(fl.to_mac, mac) == outcome(fl._parse_mac, mac)
    assert outcome(fl.to_ipv4_prefix, cidr) == outcome(fl._parse_ipv4_prefix, cidr)


@pytest.mark.parametrize('key,convert', memoized_converters(), ids=lambda x: x if isinstance(x, str) else '')
def test_kept_results_are_the_converters_own(key, convert):
    values = DPIDS if key == 'switch' else NUMBERS
    for _ in range(2):  # the second time from the cache
        for value in values:
            assert outcome(convert, value) == outcome(convert.uncached, value), (key, value)


def test_a_full_cache_starts_over(monkeypatch):
    monkeypatch.setattr(fl, 'CACHE_SIZE', 3)
    convert = fl.int_range(0, 100)
    for round_ in range(3):
        for value in ['1', '2', '3', '4', '5', '0x10', '101']:
            assert outcome(convert, value) == outcome(convert.uncached, value), (round_, value)


@SETTINGS
@given(strat.number_text, strat.dpid)
def test_kept_results_on_generated_values(number, dpid):
    for _ in range(2):
        for _, convert in memoized_converters():
            assert outcome(convert, number) == outcome(convert.uncached, number)
        assert outcome(fl.to_dpid, dpid) == outcome(fl.to_dpid.uncached, dpid)


@pytest.mark.parametrize('text', ACTIONS)
def test_kept_action_lists_are_the_parsers_own(text):
    for _ in range(2):  # each dialect's max_len on outputs, also when the other dialect parsed the text first
        for dialect in DIALECTS:
            assert outcome(fl.parse_actions, text, dialect) == outcome(fl._parse_actions, text, dialect)


@SETTINGS
@given(strat.actions_text())
def test_kept_action_lists_on_generated_text(text):
    for _ in range(2):
        for dialect in DIALECTS:
            assert outcome(fl.parse_actions, text, dialect) == outcome(fl._parse_actions, text, dialect)


FLAT_VALUES = ['', 'a', 'caf\u00e9', '\U0001f600', '\ud800', 'quote " and \\ back', '\n\t\x00', 0, -1, 2 ** 70,
               True, False, 1.5, float('nan'), None]


def test_request_text_is_json_dumps():
    documents = [{}] + [{'k': v} for v in FLAT_VALUES]
    documents.append({'key "quoted"': '1', 'caf\u00e9': '2', 'switch': '1', 'name': 'x'})
    documents.append(dict(zip(('k%d' % i for i in range(len(FLAT_VALUES))), FLAT_VALUES)))
    for document in documents:
        assert fl._request_text(document) == json.dumps(document)


@SETTINGS
@given(strat.entry_document())
def test_request_text_of_generated_entries(document):
    document = json.loads(json.dumps(document))
    try:
        entry = fl.parse_entry(document, fl.DIALECT_V1)
    except fl.FlowValidationError:
        return
    assert entry.request_text == json.dumps(document)


def _reference_hash(text):
    """Java's String.hashCode loop as Floodlight seeds it, reduced to 32 bits at every step."""
    data = text.encode('utf-16-be', 'surrogatepass')
    value = 2311
    for i in range(0, len(data), 2):
        value = (value * 211 + int.from_bytes(data[i:i + 2], 'big')) & 0xffffffff
    return value


@pytest.mark.parametrize('length', [0, 1, 13, 63, 64, 65, 200, 512])
def test_java_hash_reduced_once_or_at_every_step(length):
    for text in ('~' * length, ''.join(chr(0x21 + i % 94) for i in range(length)), 'é' * length):
        assert java_string_hash(text) == _reference_hash(text)
