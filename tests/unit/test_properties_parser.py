"""Property-based tests (hypothesis) of the Floodlight parser and the action grammar.

- Whatever the body, decode + parse either returns an entry or raises FlowValidationError with a JSON reason:
  no other exception, so the REST layer's 400 path is the only one bad input takes.
- An accepted entry is stable: its stored request parses back to the same entry (restart restores it as it was),
  and it builds a well-formed OpenFlow 1.0 flow-mod whose match and actions say what the entry says.
- A rejected request leaves the static flow table and the SQLite store as they were.
(That OVS accepts every flow-mod the parser accepts is tests/e2e/test_properties_ovs.py.)
"""
import json
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ryu.ofproto import ofproto_v1_0 as ofp

from controller import of10
from controller.entrystore import EntryStore
from controller.staticflow import StaticFlowTable
from rest import floodlight
from tests.lib import entry_strategies as strat
from tests.lib import of10_oracle as oracle

pytestmark = pytest.mark.unit

DIALECTS = st.sampled_from([floodlight.DIALECT_V0, floodlight.DIALECT_V1])
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_body(body, dialect):
    """The REST push path without the app: -> FlowEntry, or the FlowValidationError."""
    try:
        return floodlight.parse_entry(floodlight.decode_body(body), dialect)
    except floodlight.FlowValidationError as error:
        return error


@SETTINGS
@given(strat.bodies, DIALECTS)
def test_any_body_is_an_entry_or_a_validation_error(body, dialect):
    result = parse_body(body, dialect)
    if isinstance(result, floodlight.FlowValidationError):
        reply = result.to_json()
        assert reply['reason'] and reply['status'].startswith('Error! ')
        json.dumps(reply)  # serialisable as the 400 body
    else:
        assert isinstance(result, floodlight.FlowEntry)


@SETTINGS
@given(strat.entry_document(), DIALECTS)
def test_accepted_entries_reparse_identically_and_build_a_wellformed_flow_mod(document, dialect):
    result = parse_body(json.dumps(document).encode(), dialect)
    if isinstance(result, floodlight.FlowValidationError):
        return
    entry = result
    again = floodlight.parse_entry(json.loads(json.dumps(entry.request)), dialect)
    assert again == entry
    data = of10.pack_flow_add(entry)
    version, msg_type, length, _ = struct.unpack_from('!BBHI', data)
    assert (version, msg_type, length) == (ofp.OFP_VERSION, ofp.OFPT_FLOW_MOD, len(data))
    assert len(data) == ofp.OFP_FLOW_MOD_SIZE + sum(action_size(a) for a in entry.actions)
    match = oracle.parse(data).match
    for field, value in entry.match:
        if field in ('nw_src', 'nw_dst'):
            assert match.wildcards >> getattr(ofp, 'OFPFW_%s_SHIFT' % field.upper()) & 0x3f == 32 - value[1]
        else:
            assert not match.wildcards & getattr(ofp, 'OFPFW_' + field.upper())
    assert len(oracle.parse(data).actions) == len(entry.actions)


def action_size(action):
    return 16 if action[0] in ('set_dl_src', 'set_dl_dst', 'enqueue') else 8


@SETTINGS
@given(strat.actions_text(), DIALECTS)
def test_action_grammar_accepts_or_names_actions(text, dialect):
    try:
        actions = floodlight.parse_actions(text, dialect)
    except floodlight.FlowValidationError as error:
        assert error.key == 'actions' and error.reason
        return
    nonempty = [part for part in text.split(',') if part.strip()]
    assert len(actions) == len(nonempty)
    for action in actions:
        if action[0] == 'output':
            assert 1 <= action[1] < 0xff00 or action[1] in floodlight.NAMED_OUTPUT_PORTS.values()
        elif action[0] == 'set_vlan_vid':
            assert 0 <= action[1] <= 4095
        elif action[0] == 'set_nw_tos':
            assert action[1] & 3 == 0 and action[1] <= 255
    entry = floodlight.FlowEntry(name='a', dpid=1, priority=1, match=(), actions=actions)
    data = of10.pack_flow_add(entry)
    assert data == of10.serialize(oracle.flow_add(entry))
    assert len(data) == ofp.OFP_FLOW_MOD_SIZE + sum(action_size(a) for a in actions)
    assert of10.unpack_actions(data) == actions


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(strat.bodies, min_size=1, max_size=5))
def test_rejected_requests_change_neither_table_nor_store(tmp_path, bodies):
    """The app's push order (apps/staticflow.py): parse, conflict check, commit, then table. A body the parser
    or the conflict check refuses must leave both as they were."""
    store_path = tmp_path / 'store.sqlite3'
    store_path.unlink(missing_ok=True)
    store = EntryStore(str(store_path))
    table = StaticFlowTable()
    seed = floodlight.parse_entry({'switch': '1', 'name': 'seed', 'eth_dst': '52:54:00:00:00:01',
                                   'actions': 'output=1'}, floodlight.DIALECT_V1)
    store.save(seed, '1.x')
    table.push(seed)
    try:
        for body in bodies:
            before = (sorted(store.load(), key=repr), dict(table.entries))
            result = parse_body(body, floodlight.DIALECT_V1)
            if isinstance(result, floodlight.FlowValidationError):
                assert (sorted(store.load(), key=repr), dict(table.entries)) == before
                continue
            if table.conflicting_entry(result) is not None:
                continue  # the app answers 409 before committing anything
            store.save(result, '1.x')
            table.push(result)
            assert result.name in table.entries
    finally:
        store.close()
