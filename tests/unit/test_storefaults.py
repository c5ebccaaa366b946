"""controller.storefaults and the store's side of faults of the disk (controller.entrystore), with real SQLite
errors: a full database (max_page_count), a read-only connection, a locked one, a damaged file, rows that do
not parse. The file system faults themselves (tmpfs full, read-only bind mount) are in
tests/protocol/test_disk_faults.py."""
import errno
import json
import os
import sqlite3

import pytest

from controller import storefaults
from controller.entrystore import EntryStore, recover
from controller.health import HealthBoard
from controller.storefaults import (BUSY, DAMAGED, FULL, READ_ONLY, UNAVAILABLE, FaultReport, RepeatLimiter, StoreDamaged,
                                    StoreFault, classify)
from rest import floodlight as fl
from rest.staticflow import store_refusal

pytestmark = pytest.mark.unit


def entry(name, index=0):
    return fl.parse_entry({'switch': '00:00:00:00:00:00:00:01', 'name': name, 'priority': str(index),
                           'eth_type': '0x0800', 'ipv4_dst': '10.9.%d.%d' % (index // 256, index % 256),
                           'actions': 'output=1'}, fl.DIALECT_V1)


def sqlite_error(run):
    with pytest.raises(sqlite3.Error) as caught:
        run()
    return caught.value


def test_sqlite_errors_are_classified_by_their_result_code(tmp_path):
    path = str(tmp_path / 'db')
    db = sqlite3.connect(path, isolation_level=None)
    db.execute('CREATE TABLE t (x)')
    db.execute('PRAGMA max_page_count=%d' % db.execute('PRAGMA page_count').fetchone()[0])
    assert classify(sqlite_error(lambda: db.execute('INSERT INTO t VALUES (zeroblob(100000))'))) == FULL
    read_only = sqlite3.connect('file:%s?mode=ro' % path, uri=True)
    assert classify(sqlite_error(lambda: read_only.execute('INSERT INTO t VALUES (1)'))) == READ_ONLY
    missing = str(tmp_path / 'no' / 'such' / 'dir' / 'db')
    assert classify(sqlite_error(lambda: sqlite3.connect(missing).execute('SELECT 1'))) == READ_ONLY
    db.execute('BEGIN IMMEDIATE')
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    assert classify(sqlite_error(lambda: other.execute('BEGIN IMMEDIATE'))) == BUSY
    db.execute('ROLLBACK')
    garbage = tmp_path / 'garbage'
    garbage.write_bytes(b'not a database, not at all' * 100)
    assert classify(sqlite_error(lambda: sqlite3.connect(str(garbage)).execute('SELECT * FROM sqlite_master'))) \
        == DAMAGED
    assert classify(sqlite_error(lambda: db.execute('SELECT nonsense FROM t'))) is None  # a bug, not the disk


def test_os_errors_and_a_plain_io_error_read_with_the_file_system():
    assert classify(OSError(errno.ENOSPC, 'No space left on device')) == FULL
    assert classify(OSError(errno.EROFS, 'Read-only file system')) == READ_ONLY
    assert classify(OSError(errno.EIO, 'Input/output error')) == UNAVAILABLE
    io_error = sqlite3.OperationalError('disk I/O error')
    io_error.sqlite_errorcode = 778  # SQLITE_IOERR_WRITE: what a file system remounted read-only gives
    assert classify(io_error) == UNAVAILABLE
    assert classify(io_error, read_only_fs=True) == READ_ONLY
    assert classify(io_error, free_bytes=0) == FULL
    assert classify(ValueError('x')) is None


def test_refusals_answer_507_when_full_and_503_when_read_only():
    full = store_refusal(StoreFault(FULL, '/var/db', 'database or disk is full'))
    assert full.status == 507 and 'disk is full' in full.reason and '/var/db' in full.reason
    read_only = store_refusal(StoreFault(READ_ONLY, '/var/db', 'attempt to write a readonly database'))
    assert read_only.status == 503 and 'read-only' in read_only.reason
    other = ValueError('x')
    assert store_refusal(other) is other


def test_one_log_line_per_kind_per_interval_with_the_count_of_repeats():
    limiter = RepeatLimiter(10.0)
    assert limiter.note(FULL, 0.0) == 0
    assert [limiter.note(FULL, t) for t in (1.0, 2.0, 9.9)] == [None, None, None]
    assert limiter.note(READ_ONLY, 3.0) == 0   # another kind has its own line
    assert limiter.note(FULL, 10.0) == 3
    limiter.over(FULL)
    assert limiter.note(FULL, 11.0) == 0       # a new fault is logged at once


def test_a_fault_report_keeps_the_board_and_the_log_in_step():
    lines = []

    class Log:
        def error(self, fmt, *args):
            lines.append(fmt % args)
    board = HealthBoard()
    report = FaultReport(board, 'firewall-store', Log(), 10.0)
    full = StoreFault(FULL, '/var/db', 'database or disk is full')
    assert not report.written()                       # nothing to clear: nothing said
    report.failed(full, 0.0)
    report.failed(full, 1.0)
    assert [r['component'] for r in board.reasons()] == ['firewall-store'] and len(lines) == 1
    report.failed(full, 10.5)
    assert lines[-1].endswith('(and 1 more times in the last 10 s)')
    assert report.written() and board.healthy()
    report.failed(full, 11.0)                         # a new episode is logged at once
    assert len(lines) == 3


def test_a_full_store_refuses_writes_changes_nothing_and_recovers(tmp_path):
    store = EntryStore(str(tmp_path / 'db'))
    store.save(entry('before'), '1.x')
    pages = store.db.execute('PRAGMA page_count').fetchone()[0]
    store.db.execute('PRAGMA max_page_count=%d' % pages)
    big = [(entry('big-%03d' % i, i), '1.x') for i in range(300)]
    with pytest.raises(StoreFault) as caught:
        store.save_all(big)
    assert caught.value.kind == FULL and store.fault is caught.value
    with pytest.raises(StoreFault):
        store.save_all(big)
    assert [r['name'] for _, r in store.load()] == ['before'] and not store.db.in_transaction
    store.db.execute('PRAGMA max_page_count=100000')
    store.save_all(big)
    assert store.fault is None and len(store.load()) == 301


def test_store_sync_level_full_reads_2(tmp_path):
    store = EntryStore(str(tmp_path / 'db'), power_safe=True)
    assert store.db.execute('PRAGMA synchronous').fetchone()[0] == 2


def test_rows_that_do_not_parse_are_skipped_one_line_each_never_the_rest(tmp_path):
    path = str(tmp_path / 'db')
    store = EntryStore(path)
    for i in range(4):
        store.save(entry('e%d' % i, i), '1.x')
    store.db.execute("UPDATE static_flow_entries SET request = '{\"name\": \"e1\", tru' WHERE name = 'e1'")
    store.db.execute("UPDATE static_flow_entries SET request = CAST(x'7b22ff' AS TEXT) WHERE name = 'e2'")
    skipped = []
    assert [r['name'] for _, r in store.iter_load(lambda name, error: skipped.append(name))] == ['e0', 'e3']
    assert skipped == ['e1', 'e2']


def corrupt_page_holding(path, marker):
    """Overwrite the page of `path` that holds `marker` with garbage -> its number."""
    data = bytearray(open(path, 'rb').read())
    page_size = int.from_bytes(data[16:18], 'big')
    page = data.index(marker) // page_size
    data[page * page_size:(page + 1) * page_size] = b'\xa5' * page_size
    with open(path, 'wb') as handle:
        handle.write(data)
    return page


def test_a_damaged_database_is_refused_then_recovered_row_by_row(tmp_path):
    path = str(tmp_path / 'db')
    store = EntryStore(path)
    store.save_all([(entry('e%03d' % i, i), '1.x') for i in range(400)])
    store.close()
    corrupt_page_holding(path, b'"10.9.0.200"')
    with pytest.raises(StoreDamaged) as caught:
        EntryStore(path)
    assert path in str(caught.value) and '--staticflow-db-recover' in str(caught.value)
    kept, copy = recover(path, 0.0)
    assert 350 < kept < 400 and os.path.exists(copy) and copy.startswith(path + '.damaged-')
    names = [r['name'] for _, r in EntryStore(path).load()]
    assert len(names) == kept and 'e200' not in names and names[0] == 'e000' and names[-1] == 'e399'
    with pytest.raises(StoreDamaged):
        EntryStore(copy)  # the damaged file is kept as it was


def test_reason_names_the_kind():
    assert 'full' in StoreFault(FULL, 'p', 'x').reason
    assert storefaults.WHAT[DAMAGED]
