import sqlite3

import pytest

from controller.entrystore import EntryStore
from controller.connections import PRIMARY, ConnectionTracker
from rest import floodlight as fl

pytestmark = pytest.mark.unit


def entry(name, switch='00:00:00:00:00:00:00:01', **doc):
    return fl.parse_entry(dict({"switch": switch, "name": name}, **doc), fl.DIALECT_V1)


def test_store_keeps_requests_across_reopen(tmp_path):
    path = str(tmp_path / 'db' / 'flows.sqlite3')
    store = EntryStore(path)
    store.save(entry('a', actions='output=1'), '1.x')
    store.save(entry('b', switch='ff:ff:ff:ff:ff:ff:ff:ff'), '0.9x')
    store.save(entry('a', actions='output=2'), '1.x')     # replace
    store.close()
    store = EntryStore(path)
    assert sorted((d, r['name'], r.get('actions')) for d, r in store.load()) == [
        ('0.9x', 'b', None), ('1.x', 'a', 'output=2')]
    store.clear(0xffffffffffffffff)
    store.delete('a')
    assert store.load() == []


def test_store_saves_pushes_that_arrive_together_in_one_transaction(tmp_path):
    path = str(tmp_path / 'flows.sqlite3')
    store = EntryStore(path)
    store.save_all([(entry('a', actions='output=1'), '1.x'), (entry('b'), '1.x'), (entry('a', actions='output=2'), '1.x')])
    with pytest.raises(sqlite3.ProgrammingError):  # a row SQLite cannot bind: nothing of the batch is kept
        store.save_all([(entry('c'), '1.x'), (entry('d'), object())])
    assert not store.db.in_transaction
    store.close()
    store = EntryStore(path)
    assert [(r['name'], r.get('actions')) for _, r in store.load()] == [('b', None), ('a', 'output=2')]


@pytest.mark.parametrize('power_safe, level', [(False, 1), (True, 2)])  # SQLite: 1 = NORMAL, 2 = FULL
def test_store_sync_level(tmp_path, power_safe, level):
    store = EntryStore(str(tmp_path / 'flows.sqlite3'), power_safe=power_safe)
    assert store.db.execute('PRAGMA journal_mode').fetchone()[0] == 'wal'
    assert store.db.execute('PRAGMA synchronous').fetchone()[0] == level
    store.close()


class Handle:
    pass


def test_tracker_newer_session_replaces_older():
    tracker = ConnectionTracker()
    first, second = Handle(), Handle()
    assert tracker.connect(1, first, PRIMARY, '127.0.0.1:1000', 10.0) is None
    replaced = tracker.connect(1, second, PRIMARY, '127.0.0.1:2000', 11.0)
    assert replaced.handle is first
    assert tracker.disconnect(first, 11.5) is None     # the replaced session's end changes nothing
    assert tracker.current(1).remote == '127.0.0.1:2000'
    assert tracker.disconnect(second, 12.0) is not None
    assert tracker.dpids() == []


def test_entry_status_follows_xids_barriers_and_errors():
    from controller.entrystatus import EntryStatus
    status = EntryStatus()
    a = entry('a', in_port='1')
    status.stored(a, connected=False, now=1.0)
    assert status.get('a')['state'] == 'waiting'
    status.flow_mod_sent('a', 1, 100, 2.0)
    status.flow_mod_sent('b', 1, 101, 2.0)
    assert status.error(1, 101, {'type': 2, 'code': 4}, 2.5) == 'b'
    assert status.error(1, 555, {'type': 2, 'code': 4}, 2.5) is None
    status.barrier_reply(1, 102, 3.0)
    assert status.get('a')['state'] == 'installed' and status.get('b')['state'] == 'error'
    status.switch_gone(1, 4.0)
    assert status.get('a')['state'] == 'waiting'
    status.stored(entry('c', active='false'), connected=True, now=5.0)
    status.flow_mod_sent('c', 1, 103, 5.0)  # the delete that took its flow away
    assert status.get('c')['state'] == 'inactive'


def test_barrier_reply_confirms_flow_mods_across_the_xid_wrap():
    from controller.entrystatus import EntryStatus, xid_before
    assert xid_before(0xfffffffe, 0x00000001) and not xid_before(0x00000001, 0xfffffffe)
    assert xid_before(5, 6) and not xid_before(6, 6)
    status = EntryStatus()
    for name, xid in (('a', 0xfffffffe), ('b', 0xffffffff), ('c', 0x00000000)):
        status.stored(entry(name, in_port='1'), connected=True, now=1.0)
        status.flow_mod_sent(name, 1, xid, 2.0)
    status.barrier_reply(1, 0x00000001, 3.0)  # the barrier after all three, its xid past the wrap
    assert [status.get(n)['state'] for n in 'abc'] == ['installed'] * 3
