"""controller.staticflow: which flow-mods each change needs, decided without a switch."""
import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from controller.staticflow import StaticFlowTable
from rest import floodlight as fl

pytestmark = pytest.mark.unit
SW1, SW2 = 1, 2


def entry(name='e', switch='1', **doc):
    return fl.parse_entry(dict({"switch": switch, "name": name}, **doc), fl.DIALECT_V1)


def kinds(out):
    """{dpid: ['ADD', 'BARRIER', ...]} for readable assertions."""
    names = {ofp.OFPFC_ADD: 'ADD', ofp.OFPFC_MODIFY_STRICT: 'MODIFY_STRICT',
             ofp.OFPFC_DELETE_STRICT: 'DELETE_STRICT', ofp.OFPFC_DELETE: 'DELETE'}
    return {dpid: [names[m.command] if hasattr(m, 'command') else 'BARRIER' for m in msgs]
            for dpid, msgs in out.items()}


@pytest.fixture
def table():
    t = StaticFlowTable()
    t.switch_connected(SW1)
    t.switch_connected(SW2)
    return t


def test_new_entry_on_connected_switch_is_added(table):
    assert kinds(table.push(entry(actions='output=3'))) == {SW1: ['ADD', 'BARRIER']}


def test_same_match_repush_modifies_in_place(table):
    table.push(entry(in_port='1', actions='output=3'))
    out = table.push(entry(in_port='1', actions='output=2'))
    assert kinds(out) == {SW1: ['MODIFY_STRICT', 'BARRIER']}
    assert out[SW1][0].actions[0].port == 2


def test_new_match_repush_deletes_old_then_adds(table):
    table.push(entry(in_port='1', actions='output=3'))
    out = table.push(entry(in_port='2', actions='output=3'))
    assert kinds(out) == {SW1: ['DELETE_STRICT', 'ADD', 'BARRIER']}
    assert out[SW1][0].match.in_port == 1 and out[SW1][1].match.in_port == 2


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
    out = table.switch_connected(SW1)
    assert kinds(out) == {SW1: ['ADD', 'ADD', 'BARRIER']}
    assert [m.priority for m in out[SW1][:2]] == [5, 200]  # lowest priority first, as Floodlight


def test_reconnect_sends_entries_again(table):
    table.push(entry())
    table.switch_disconnected(SW1)
    assert table.push(entry(name='later')) == {}
    assert kinds(table.switch_connected(SW1)) == {SW1: ['ADD', 'ADD', 'BARRIER']}


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
    assert table.remove_expired(SW1, e.cookie, e.priority, e.match) == 'e'
    assert table.get('e') is None and table.get('other') is not None
