"""controller.staticflow: which flow-mods each change needs, decided without a switch."""
import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from controller import of10
from controller.pusher import PushBatch
from controller.staticflow import StaticFlowTable
from rest import floodlight as fl
from tests.lib import of10_oracle as oracle

pytestmark = pytest.mark.unit
SW1, SW2 = 1, 2


def entry(name='e', switch='1', **doc):
    return fl.parse_entry(dict({"switch": switch, "name": name}, **doc), fl.DIALECT_V1)


def kinds(out):
    """{dpid: ['ADD', 'BARRIER', ...]} for readable assertions."""
    names = {ofp.OFPFC_ADD: 'ADD', ofp.OFPFC_MODIFY_STRICT: 'MODIFY_STRICT',
             ofp.OFPFC_DELETE_STRICT: 'DELETE_STRICT', ofp.OFPFC_DELETE: 'DELETE'}
    return {dpid: [names[oracle.parse(m).command] if of10.msg_type(m) == ofp.OFPT_FLOW_MOD
                   else type(m).__name__.replace('OFP', '').replace('Request', '').upper() for m in msgs]
            for dpid, msgs in out.items()}


def parsed(msgs):
    """The flow-mods among msgs, as Ryu's parser reads them."""
    return [oracle.parse(m) for m in msgs if of10.msg_type(m) == ofp.OFPT_FLOW_MOD]


flow_stats_of = oracle.installed  # what a switch's table reports after applying these flow-mods in order


@pytest.fixture
def table():
    t = StaticFlowTable()
    for dpid in (SW1, SW2):
        assert t.switch_connected(dpid)[dpid][0].__class__.__name__ == 'OFPFlowStatsRequest'
        t.reconcile(dpid, [])
    return t


def test_new_entry_on_connected_switch_is_added(table):
    assert kinds(table.push(entry(actions='output=3'))) == {SW1: ['ADD', 'BARRIER']}


def test_same_match_repush_modifies_in_place(table):
    table.push(entry(in_port='1', actions='output=3'))
    out = table.push(entry(in_port='1', actions='output=2'))
    assert kinds(out) == {SW1: ['MODIFY_STRICT', 'BARRIER']}
    assert parsed(out[SW1])[0].actions[0].port == 2


def test_new_match_repush_deletes_old_then_adds(table):
    table.push(entry(in_port='1', actions='output=3'))
    out = table.push(entry(in_port='2', actions='output=3'))
    assert kinds(out) == {SW1: ['DELETE_STRICT', 'ADD', 'BARRIER']}
    assert [m.match.in_port for m in parsed(out[SW1])] == [1, 2]


def test_moving_an_entry_to_another_switch_removes_it_from_the_old(table):
    table.push(entry(in_port='1'))
    assert kinds(table.push(entry(switch='2', in_port='1'))) == {SW1: ['DELETE_STRICT', 'BARRIER'],
                                                                 SW2: ['ADD', 'BARRIER']}


def test_inactive_removes_the_flow_but_keeps_the_entry(table):
    table.push(entry(in_port='1'))
    assert kinds(table.push(entry(in_port='1', active='false'))) == {SW1: ['DELETE_STRICT', 'BARRIER']}
    assert table.get('e') is not None and table.entries_by_dpid(SW1) == {SW1: []}


def test_entries_for_a_disconnected_switch_wait_for_it():
    table = StaticFlowTable()
    assert table.push(entry(priority='200')) == {}
    table.push(entry(name='low', priority='5'))
    table.switch_connected(SW1)
    out, in_place = table.reconcile(SW1, [])
    assert kinds(out) == {SW1: ['ADD', 'ADD', 'BARRIER']} and in_place == []
    assert [m.priority for m in parsed(out[SW1])] == [5, 200]  # lowest priority first, as Floodlight


def test_reconnect_after_a_flush_sends_entries_again(table):
    table.push(entry())
    table.switch_disconnected(SW1)
    assert table.push(entry(name='later', in_port='9')) == {}
    table.switch_connected(SW1)
    assert kinds(table.reconcile(SW1, [])[0]) == {SW1: ['ADD', 'ADD', 'BARRIER']}


def test_reconnect_with_flows_kept_sends_no_flow_mod(table):
    pushed = table.push(entry(name='a', in_port='1', actions='output=2'))
    pushed2 = table.push(entry(name='b', eth_type='0x800', ipv4_dst='10.0.0.7/24', ip_proto='6', tcp_dst='22',
                               idle_timeout='30', actions='set_eth_dst=00:00:00:00:00:01,output=controller'))
    kept = flow_stats_of(pushed[SW1] + pushed2[SW1])
    table.switch_disconnected(SW1)
    table.switch_connected(SW1)
    out, in_place = table.reconcile(SW1, kept)
    assert kinds(out) == {SW1: ['BARRIER']}
    assert sorted(in_place) == ['a', 'b']


def test_reconcile_fixes_only_what_differs(table):
    table.push(entry(name='same', in_port='1', actions='output=2'))
    table.push(entry(name='changed', in_port='2', actions='output=3'))
    table.push(entry(name='missing', in_port='3', actions='output=1'))
    stale = entry(name='deleted-while-away', in_port='4')
    foreign = oracle.flow_add(entry(name='x', in_port='5'))
    foreign.cookie = 0x1234  # another application's flow: never ours to touch
    switch_table = flow_stats_of([oracle.flow_add(table.get('same')),
                                  oracle.flow_add(entry(name='changed', in_port='2', actions='output=4')),
                                  oracle.flow_add(stale), foreign])
    table.switch_disconnected(SW1)
    table.switch_connected(SW1)
    out, in_place = table.reconcile(SW1, switch_table)
    assert kinds(out) == {SW1: ['DELETE_STRICT', 'ADD', 'ADD', 'BARRIER']}
    mods = parsed(out[SW1])
    assert mods[0].match.in_port == 4 and mods[0].cookie == stale.cookie
    assert sorted(m.match.in_port for m in mods[1:3]) == [2, 3]
    assert in_place == ['same']
    assert flow_stats_of([oracle.flow_add(e) for e in table.entries.values()]) and \
        kinds(table.reconcile(SW1, flow_stats_of(
            [oracle.flow_add(e) for e in table.entries.values()] + [foreign]))[0]) == {SW1: ['BARRIER']}


def test_delete_and_clear(table):
    table.push(entry(name='a'))
    table.push(entry(name='b', switch='2'))
    table.push(entry(name='c', switch='2', in_port='4'))
    assert kinds(table.delete('a')) == {SW1: ['DELETE_STRICT', 'BARRIER']}
    assert table.delete('a') == {}
    assert kinds(table.clear(SW2)) == {SW2: ['DELETE_STRICT', 'DELETE_STRICT', 'BARRIER']}
    assert table.entries == {}
    assert table.entries_by_dpid() == {SW1: [], SW2: []}  # switches stay listed with [] after a clear


def test_expired_entry_is_forgotten(table):
    e = entry(in_port='1', idle_timeout='5')
    table.push(e)
    table.push(entry(name='other', in_port='1', priority='7'))
    assert table.remove_expired(SW1, e.cookie, e.priority, of10.match_key(oracle.flow_add(e).match)) == 'e'
    assert table.get('e') is None and table.get('other') is not None


def test_same_match_and_priority_under_another_name_is_a_conflict(table):
    table.push(entry(name='a', in_port='1'))
    assert table.conflicting_entry(entry(name='b', in_port='1')) == 'a'
    assert table.conflicting_entry(entry(name='b', in_port='1', priority='7')) is None
    assert table.conflicting_entry(entry(name='a', in_port='1', actions='output=2')) is None  # a re-push
    assert table.conflicting_entry(entry(name='b', in_port='1', active='false')) is None


def test_pushes_waiting_for_a_shared_commit_are_checked_as_if_already_in_the_table(table):
    table.push(entry(name='a', in_port='1'))
    pending = PushBatch()

    def add(e):
        pending.add(e, fl.DIALECT_V1, table.flow_key_of(e))
    add(entry(name='b', in_port='2'))
    assert table.conflicting_entry(entry(name='c', in_port='2'), pending) == 'b'   # b holds in_port=2 once in
    assert table.conflicting_entry(entry(name='c', in_port='1'), pending) == 'a'   # a still holds in_port=1
    add(entry(name='a', in_port='3'))                                               # a moves to in_port=3
    assert table.conflicting_entry(entry(name='c', in_port='1'), pending) is None
    assert table.conflicting_entry(entry(name='c', in_port='3'), pending) == 'a'
    add(entry(name='b', in_port='2', active='false'))                               # b gives its flow up
    assert table.conflicting_entry(entry(name='c', in_port='2'), pending) is None
    assert table.conflicting_entry(entry(name='b', in_port='3'), pending) == 'a'
    assert [e.name for e, _ in pending.items] == ['b', 'a', 'b'] and len(pending) == 3


def test_reconcile_skips_entries_sent_after_the_table_was_read(table):
    table.switch_disconnected(SW1)
    table.switch_connected(SW1)
    table.push(entry(name='pushed-meanwhile', in_port='7'))  # its ADD went out after the flow stats request
    out, _ = table.reconcile(SW1, [], sent_since={'pushed-meanwhile'})
    assert kinds(out) == {SW1: ['BARRIER']}
