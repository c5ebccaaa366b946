"""controller.pusher: group commit, shared barriers, the connect-time flow table read and reconcile, expiry and
switch errors, decided without a switch, a store or a green thread (the tests play the glue's part)."""
import pytest
from ryu.ofproto import ofproto_v1_0 as ofp

from controller import of10
from controller.entrystatus import INSTALLED, SENT, WAITING
from controller.pusher import (EntryLimitError, FlowTableRead, PushBatch, SharedBarriers, StaticFlowPusher,
                               reconcile_story)
from controller.staticflow import EntryConflictError
from rest import floodlight as fl
from tests.lib import of10_oracle as oracle
from tests.unit.test_staticflow import flow_stats_of, kinds

pytestmark = pytest.mark.unit
SW1, SW2 = 1, 2
V1 = fl.DIALECT_V1


def request(name='e', switch='1', **doc):
    return dict({'switch': switch, 'name': name}, **doc)


def entry(name='e', switch='1', **doc):
    return fl.parse_entry(request(name, switch, **doc), V1)


def parse(dialect_name, row):
    return fl.parse_entry(row, V1)


class Wire:
    """What SwitchesApp.send does to messages that matter here: each gets the next xid."""

    def __init__(self):
        self.xid = 100

    def send(self, msgs_by_dpid):
        for msgs in msgs_by_dpid.values():
            for msg in msgs:
                msg.set_xid(self.xid) if hasattr(msg, 'set_xid') else setattr(msg, 'xid', self.xid)
                self.xid += len(getattr(msg, 'bufs', [None]))
        return msgs_by_dpid


def send(pusher, wire, msgs_by_dpid, now=1.0):
    """The glue's _send: batch, send, note what went out."""
    out = wire.send(pusher.outgoing(msgs_by_dpid))
    pusher.sent(out, now)
    return out


@pytest.fixture
def wire():
    return Wire()


@pytest.fixture
def pusher(wire):
    p = StaticFlowPusher(barrier_delay=0.005)
    for dpid in (SW1, SW2):
        msgs, read = p.switch_ready(dpid)
        send(p, wire, msgs)
        assert p.flow_stats_reply(dpid, read.xid, [], True, 0.5).story == 'every static flow in place: nothing sent'
    return p


def test_a_push_alone_leads_its_batch_and_is_in_the_table_only_once_committed(pusher):
    batch, leader = pusher.join(entry(in_port='1'), V1)
    assert leader and pusher.batch is batch and len(batch) == 1
    assert batch.rows() == [(batch.items[0][0], V1.name)]
    assert 'e' not in pusher.table  # not before the commit
    pusher.close(batch)
    assert pusher.batch is None
    out = pusher.committed(batch, 2.0)
    assert kinds(out) == {SW1: ['ADD', 'BARRIER']} and 'e' in pusher.table


def test_pushes_that_arrive_together_join_one_batch_checked_against_it(pusher):
    pusher.table.push(entry('old', in_port='9'))
    batch, leader = pusher.join(entry('a', in_port='1'), V1)
    assert leader
    assert pusher.join(entry('b', in_port='2'), V1) == (batch, False)
    with pytest.raises(EntryConflictError, match='entry a already has this match and priority on switch'):
        pusher.join(entry('c', in_port='1'), V1)   # pending a holds in_port=1
    with pytest.raises(EntryConflictError, match='entry old already'):
        pusher.join(entry('c', in_port='9'), V1)   # the table's entry holds in_port=9
    assert [e.name for e, _ in batch.items] == ['a', 'b']  # a refused push joins nothing
    out = pusher.committed(batch, 2.0)
    assert kinds(out) == {SW1: ['ADD', 'BARRIER', 'ADD', 'BARRIER']}  # arrival order
    assert pusher.batch is None
    batch2, leader = pusher.join(entry('d', in_port='3'), V1)
    assert leader and batch2 is not batch


def test_a_conflict_refused_before_any_batch_opens_none(pusher):
    pusher.table.push(entry('a', in_port='1'))
    with pytest.raises(EntryConflictError):
        pusher.join(entry('b', in_port='1'), V1)
    assert pusher.batch is None


def test_a_failed_commit_closes_the_batch_and_changes_nothing(pusher):
    batch, _ = pusher.join(entry('a', in_port='1'), V1)
    pusher.close(batch)  # the glue's store.save_all raised
    assert pusher.batch is None and 'a' not in pusher.table
    assert pusher.join(entry('b', in_port='1'), V1)[1]  # in_port=1 is free: a was never in


def test_push_batch_tracks_the_flows_its_entries_will_own():
    batch = PushBatch()
    batch.add(entry('a', in_port='1'), V1, 'k1')
    batch.add(entry('a', in_port='2'), V1, 'k2')   # a moves
    batch.add(entry('b', active='false'), V1, 'k3')
    assert batch.owner_of('k1') is None and batch.owner_of('k2') == 'a' and batch.owner_of('k3') is None
    assert batch.has('b') and not batch.has('c') and len(batch) == 3


def test_shared_barriers_one_per_switch_per_delay():
    add = table_flow_add('x')[0]
    barriers = SharedBarriers(0.005)
    msgs = {SW1: [of10.barrier()], SW2: [add, of10.barrier()]}
    assert barriers.hold(msgs) == [SW1, SW2] and msgs == {SW1: [], SW2: [add]}
    again = {SW1: [add, of10.barrier()]}
    assert barriers.hold(again) == [] and again == {SW1: [add]}  # one on its way already
    assert kinds(barriers.fire(SW1)) == {SW1: ['BARRIER']}
    assert barriers.hold({SW1: [of10.barrier()]}) == [SW1]  # the next push after it starts another
    no_delay = SharedBarriers(0)
    kept = {SW1: [add, of10.barrier()]}
    assert no_delay.hold(kept) == [] and len(kept[SW1]) == 2


def test_a_pushed_entry_is_sent_then_installed_by_the_shared_barrier(pusher, wire):
    batch, _ = pusher.join(entry('a', in_port='1'), V1)
    out = pusher.committed(batch, 2.0)
    assert pusher.pushed(out) == [SW1]
    sent = send(pusher, wire, out, now=2.0)
    assert kinds(sent) == {SW1: ['ADD']}
    assert pusher.status.get('a')['state'] == SENT
    barrier = send(pusher, wire, pusher.barriers.fire(SW1), now=2.005)
    pusher.barrier_reply(SW1, barrier[SW1][0].xid, 2.01)
    assert pusher.status.get('a') == {'state': INSTALLED, 'since': 2.01, 'dpid': SW1, 'xid': sent[SW1][0].xid,
                                      'error': None}


def test_reconnect_reads_the_table_then_sends_what_is_missing(pusher, wire):
    for name, port in (('kept', '1'), ('lost', '2')):
        batch, _ = pusher.join(entry(name, in_port=port), V1)
        pusher.close(batch)
        send(pusher, wire, pusher.committed(batch, 1.0))
    kept_flow = flow_stats_of(pusher.table.push(entry('kept', in_port='1'))[SW1])
    pusher.switch_gone(SW1, 3.0)
    assert pusher.status.get('kept')['state'] == WAITING
    msgs, read = pusher.switch_ready(SW1)
    assert isinstance(read, FlowTableRead) and read.xid is None
    send(pusher, wire, msgs)
    assert read.xid == msgs[SW1][0].xid
    assert pusher.flow_stats_reply(SW1, read.xid + 1, kept_flow, True, 4.0) is None  # another request's reply
    assert pusher.flow_stats_reply(SW1, read.xid, kept_flow, False, 4.0) is None    # more parts to come
    done = pusher.flow_stats_reply(SW1, read.xid, [], True, 4.0)
    assert (done.dpid, done.flows_read, done.in_place, done.flow_mods) == (SW1, 1, 1, 1)
    assert done.story == 'static flows repaired' and kinds(done.msgs) == {SW1: ['ADD', 'BARRIER']}
    assert pusher.status.get('kept')['state'] == INSTALLED
    assert SW1 not in pusher.reads and pusher.read_timed_out(SW1, read, 20.0) is None


def test_an_unanswered_read_sends_every_entry_and_skips_those_sent_since(pusher, wire):
    batch, _ = pusher.join(entry('a', in_port='1'), V1)
    pusher.committed(batch, 1.0)
    pusher.switch_gone(SW1, 2.0)
    msgs, read = pusher.switch_ready(SW1)
    send(pusher, wire, msgs)
    batch, _ = pusher.join(entry('b', in_port='2'), V1)
    send(pusher, wire, pusher.committed(batch, 3.0))  # b's ADD goes out after the read began
    assert read.sent_since == {'b'}
    done = pusher.read_timed_out(SW1, read, 12.0)
    assert done.story == 'no answer to the flow table read: every entry sent'
    assert [m.entry_name for m in done.msgs[SW1][:-1]] == ['a'] and done.flow_mods == 1
    assert pusher.read_timed_out(SW1, read, 12.0) is None  # once
    msgs, newer = pusher.switch_ready(SW1)
    assert pusher.read_timed_out(SW1, read, 13.0) is None  # a newer read replaced it


def test_reconcile_story():
    flow = flow_stats_of(table_flow_add('x'))
    assert reconcile_story(0, [], []) == 'every static flow in place: nothing sent'
    assert reconcile_story(2, [], []).startswith('the switch had no static flow left')
    assert reconcile_story(2, flow, []) == 'static flows repaired'
    assert reconcile_story(2, [], ['x']) == 'static flows repaired'


def table_flow_add(name):
    table = StaticFlowPusher().table
    table.switch_connected(SW1)
    table.reconcile(SW1, [])
    return table.push(entry(name, in_port='4'))[SW1]


def test_an_expired_flow_forgets_its_entry_only_for_a_timeout(pusher):
    e = entry('t', in_port='1', idle_timeout='5')
    batch, _ = pusher.join(e, V1)
    pusher.committed(batch, 1.0)
    key = of10.match_key(oracle.flow_add(e).match)
    assert pusher.flow_removed(SW1, ofp.OFPRR_DELETE, e.cookie, e.priority, key) is None
    assert 't' in pusher.table
    assert pusher.flow_removed(SW1, ofp.OFPRR_IDLE_TIMEOUT, e.cookie + 1, e.priority, key) is None  # not ours
    assert pusher.flow_removed(SW1, ofp.OFPRR_IDLE_TIMEOUT, e.cookie, e.priority, key) == 't'
    assert 't' not in pusher.table and pusher.status.get('t') is None


def test_a_switch_error_marks_the_entry_it_answers(pusher, wire):
    batch, _ = pusher.join(entry('a', in_port='1'), V1)
    sent = send(pusher, wire, pusher.committed(batch, 1.0))
    xid = sent[SW1][0].xid
    name, error = pusher.switch_error(SW1, xid, ofp.OFPET_FLOW_MOD_FAILED, ofp.OFPFMFC_ALL_TABLES_FULL, 2.0)
    assert name == 'a' and error['type_name'] == 'OFPET_FLOW_MOD_FAILED'
    assert pusher.status.get('a')['state'] == 'error'
    assert pusher.switch_error(SW1, xid + 50, 1, 0, 2.0)[0] is None


def test_restore_and_sync_with_the_store(wire):
    pusher = StaticFlowPusher()
    rows = [(V1.name, request('a', in_port='1')), ('v1', request('bad', in_port='x')), ('v1', request('b', in_port='2'))]
    failed = pusher.restore(rows, 1.0, parse)
    assert [name for name, _ in failed] == ['bad'] and pusher.table.names() == ['a', 'b']
    assert pusher.status.get('a')['state'] == WAITING
    pusher.switch_ready(SW1)
    pusher.table.reconcile(SW1, [])
    changed_rows = [('v1', request('a', in_port='1')), ('v1', request('c', in_port='3')),
                    ('v1', request('nope', in_port='y'))]
    out, changed, failed = pusher.sync(changed_rows, 2.0, parse)
    assert changed == 1 and [name for name, _ in failed] == ['nope']
    assert pusher.table.names() == ['a', 'c']
    assert kinds(out) == {SW1: ['DELETE_STRICT', 'BARRIER', 'ADD', 'BARRIER']}  # b went, c came, a unchanged


def test_delete_clear_and_status(pusher):
    for name, port in (('a', '1'), ('b', '2')):
        batch, _ = pusher.join(entry(name, in_port=port), V1)
        pusher.committed(batch, 1.0)
    assert set(pusher.entry_status(SW1)[SW1]) == {'a', 'b'} and pusher.entry_status(SW2) == {SW2: {}}
    assert kinds(pusher.delete('a')) == {SW1: ['DELETE_STRICT', 'BARRIER']}
    assert kinds(pusher.clear(SW1)) == {SW1: ['DELETE_STRICT', 'BARRIER']}
    assert pusher.table.names() == [] and pusher.status.get('b') is None


def test_max_entries_refuses_a_new_entry_past_the_cap_but_replaces_by_name():
    pusher = StaticFlowPusher(max_entries=3)
    batch, _ = pusher.join(entry('a', in_port='1'), V1)
    pusher.committed(batch, 1.0)
    batch, leader = pusher.join(entry('b', in_port='2'), V1)       # two pending in one batch count too
    pusher.join(entry('c', in_port='3'), V1)
    with pytest.raises(EntryLimitError, match='--max-entries'):
        pusher.join(entry('d', in_port='4'), V1)
    pusher.join(entry('c', in_port='5'), V1)                        # pending name replaced: allowed
    pusher.committed(batch, 2.0)
    assert pusher.table.names() == ['a', 'b', 'c'] and pusher.batch is None
    with pytest.raises(EntryLimitError):
        pusher.join(entry('d', in_port='4'), V1)
    batch, _ = pusher.join(entry('a', in_port='9'), V1)             # stored name replaced: allowed
    pusher.committed(batch, 3.0)
    pusher.delete('b')
    batch, _ = pusher.join(entry('d', in_port='4'), V1)             # room again
    pusher.committed(batch, 4.0)
    assert sorted(pusher.table.names()) == ['a', 'c', 'd']
    assert StaticFlowPusher(max_entries=0).max_entries == 0         # 0: no cap


def test_restore_past_the_cap_keeps_every_stored_entry():
    pusher = StaticFlowPusher(max_entries=1)
    assert pusher.restore([(V1.name, request('a', in_port='1')), (V1.name, request('b', in_port='2'))], 1.0,
                          parse) == []
    assert pusher.table.names() == ['a', 'b']
