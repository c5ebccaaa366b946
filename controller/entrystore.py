"""Durable static flow entries in an embedded SQLite database.

Floodlight kept entries in memory only. Here an entry is committed before "Entry pushed" is answered, and
every entry is read back at start-up.

Durability: WAL with synchronous=NORMAL by default. A commit is in the WAL file (the OS has it) before the REST
reply, so a controller that crashes or is SIGKILLed loses nothing; only an OS crash or power cut can lose the
last commits. synchronous=FULL (`--durability full`, `EntryStore(path, power_safe=True)`) adds an fsync to every
commit: on the shared benchmark machine that fsync was 55% of the controller's CPU profile and halved the REST push
rate (docs/performance.md). The request JSON is stored as received, so a later version of the parser can read old
databases. Faults of the disk (full, read-only, damaged) are controller.storefaults' kinds. Side effects only; the
logic is in controller.staticflow.
"""
import json
import os
import sqlite3
import time
import urllib.parse

from controller import storefaults
from controller.storefaults import StoreDamaged, StoreFault

SCHEMA = """
CREATE TABLE IF NOT EXISTS static_flow_entries (
    name     TEXT PRIMARY KEY,
    dpid     INTEGER NOT NULL,
    dialect  TEXT NOT NULL,
    request  TEXT NOT NULL
)
"""


INSERT = 'INSERT OR REPLACE INTO static_flow_entries (name, dpid, dialect, request) VALUES (?,?,?,?)'


class EntryStore:
    """The entries' SQLite file. A file that cannot be written at start (a read-only file system, a full disk
    for a new file) is opened read-only: its entries are loaded and installed, writes raise StoreFault until
    `recheck` finds it writable again. A damaged file raises StoreDamaged (controller.storefaults)."""

    def __init__(self, path, power_safe=False):
        self.path = path
        self.power_safe = power_safe
        self.writable = True
        self.fault = None  # the StoreFault of the last failed write, until a write succeeds again
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self.db = self._open_writable()
        except (sqlite3.Error, OSError) as error:
            fault = self._fault(error)
            if not isinstance(fault, StoreFault):
                raise fault from None
            self.writable = False
            self.db = self._open_read_only()
        try:
            self._quick_check()
        except StoreDamaged:
            self.db.close()
            raise
        # Taken before anything is loaded: a commit by another instance after this point is seen by
        # changed_elsewhere(), even one that lands before the first check.
        self._data_version = self.db.execute('PRAGMA data_version').fetchone()[0]

    def _open_writable(self):
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            # A new database gets 1 KiB pages (SQLite's default is 4 KiB): a push's commit writes a leaf page of
            # the table and of its name index to the WAL, and a quarter of the bytes made that commit about a
            # quarter cheaper (docs/performance.md). Ignored for an existing file, which keeps its page size.
            db.execute('PRAGMA page_size=1024')
            db.execute('PRAGMA journal_mode=WAL')
            db.execute('PRAGMA synchronous=%s' % ('FULL' if self.power_safe else 'NORMAL'))
            db.execute(SCHEMA)
            # SQLite falls back to a read-only descriptor when the file cannot be opened for writing, and says so
            # only at the first write: take the write lock once, writing nothing.
            db.execute('BEGIN IMMEDIATE')
            db.execute('ROLLBACK')
        except BaseException:
            db.close()
            raise
        return db

    def _open_read_only(self):
        """The entries as they are, for a file that cannot be written. A WAL database opens read-only only with
        its -shm file (there after a crash, with the -wal holding the last commits), or as immutable (after a
        clean stop, when the -wal is gone); no file at all reads as an empty store."""
        for mode in ('mode=ro', 'immutable=1'):
            try:
                db = _connect_read_only(self.path, mode)
            except sqlite3.OperationalError:
                continue
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'static_flow_entries'").fetchone():
                return db
            db.close()
            break
        else:
            if os.path.exists(self.path):
                raise self.fault
        return _empty()

    def _quick_check(self):
        try:
            problems = [row[0] for row in self.db.execute('PRAGMA quick_check')]
        except sqlite3.DatabaseError as error:
            problems = [str(error)]
        if problems != ['ok']:
            raise StoreDamaged(self.path, '; '.join(problems[:3]) + (' ...' if len(problems) > 3 else ''))

    def _fault(self, error):
        """A failed open or write -> the StoreFault it is (recorded; a read-only one also means the connection is
        to be opened again), StoreDamaged, or `error` itself when it is not the disk's."""
        facts = filesystem_facts(self.path)
        kind = storefaults.classify(error, *facts)
        if kind == storefaults.DAMAGED:
            return StoreDamaged(self.path, str(error))
        if kind is None:
            return error
        self.fault = StoreFault(kind, self.path, str(error))
        if kind == storefaults.READ_ONLY:
            self.writable = False
        return self.fault

    def recheck(self):
        """While a fault lasts: can the store be written again? Opens the file for writing again when it was
        read-only, and commits one small write (the header's user_version). -> None once it can (the fault is
        over); raises the StoreFault otherwise."""
        if not self.writable:
            # The read-only connection goes first: SQLite shares a file's -shm among the connections of a
            # process, and one opened read-only would keep the new connection read-only too.
            self.db.close()
            try:
                self.db = self._open_writable()
            except (sqlite3.Error, OSError) as error:
                fault = self._fault(error)
                try:
                    self.db = self._open_read_only()
                except (sqlite3.Error, StoreFault):
                    self.db = _empty()  # the entries are in memory already; only other instances' commits wait
                raise fault from None
            self.writable = True
            self._data_version = self.db.execute('PRAGMA data_version').fetchone()[0]
        try:
            self.db.execute('PRAGMA user_version=%d' % (int(time.time()) & 0x7fffffff))
        except sqlite3.DatabaseError as error:
            raise self._fault(error) from None
        self.fault = None

    # --- writes: all or nothing; a fault of the disk raises StoreFault -----------------------------------------

    def save(self, entry, dialect_name):
        if not self.writable:
            raise self.fault
        try:
            self.db.execute(INSERT, _row(entry, dialect_name))
        except sqlite3.DatabaseError as error:
            raise self._fault(error) from None
        self.fault = None

    def save_all(self, entries):
        """save() of every (entry, dialect_name), in order, in one transaction: one WAL commit for the pushes
        that arrive together (group commit). All or none: an error rolls every one of them back."""
        if len(entries) == 1:
            return self.save(*entries[0])
        if not self.writable:
            raise self.fault
        try:
            self.db.execute('BEGIN IMMEDIATE')
            try:
                self.db.executemany(INSERT, [_row(entry, dialect_name) for entry, dialect_name in entries])
                self.db.execute('COMMIT')
            except BaseException:
                if self.db.in_transaction:  # SQLite has rolled back itself after SQLITE_FULL
                    self.db.execute('ROLLBACK')
                raise
        except sqlite3.DatabaseError as error:
            raise self._fault(error) from None
        self.fault = None

    def delete(self, name, guard=None):
        """guard: the etcd store's fencing token (controller.etcdstore); SQLite's instances share one host and
        its locks, and have none."""
        self._write('DELETE FROM static_flow_entries WHERE name = ?', (name,))

    def clear(self, dpid=None):
        if dpid is None:
            self._write('DELETE FROM static_flow_entries')
        else:
            self._write('DELETE FROM static_flow_entries WHERE dpid = ?', (_signed64(dpid),))

    def _write(self, statement, parameters=()):
        if not self.writable:
            raise self.fault
        try:
            self.db.execute(statement, parameters)
        except sqlite3.DatabaseError as error:
            raise self._fault(error) from None
        self.fault = None

    # --- reads ------------------------------------------------------------------------------------------------

    def load(self, unreadable=None):
        """[(dialect_name, request_dict)] in insertion order."""
        return list(self.iter_load(unreadable))

    def iter_load(self, unreadable=None):
        """load(), one row at a time: start-up reads 100,000 entries this way, so that every decoded request
        never exists at once (a peak the allocator would keep as resident memory after start-up).

        A row whose request is not a JSON object (damaged text) is left out, after unreadable(name, error): the
        rows after it are still read. The columns are read as bytes, so that bytes that are not UTF-8 spoil
        their row only, not the query."""
        rows = self.db.execute('SELECT CAST(name AS BLOB), dialect, CAST(request AS BLOB) FROM static_flow_entries '
                               'ORDER BY rowid')
        for name, dialect, request in rows:
            try:
                request = json.loads(request)
                if not isinstance(request, dict):
                    raise ValueError('the stored request is %s, not a JSON object' % type(request).__name__)
            except ValueError as error:  # UnicodeDecodeError and JSONDecodeError too
                if unreadable is not None:
                    unreadable(name.decode('utf-8', 'replace'), 'stored JSON unreadable: %s' % error)
                continue
            yield dialect, request

    def changed_elsewhere(self):
        """True when another connection (another controller instance sharing the file) committed since the
        last call. SQLite's data_version ignores this connection's own commits."""
        version = self.db.execute('PRAGMA data_version').fetchone()[0]
        changed = version != self._data_version
        self._data_version = version
        return changed

    def close(self):
        self.db.close()


def _empty():
    db = sqlite3.connect(':memory:', isolation_level=None, check_same_thread=False)
    db.execute(SCHEMA)
    return db


def _connect_read_only(path, mode):
    db = sqlite3.connect('file:%s?%s' % (urllib.parse.quote(os.path.abspath(path)), mode), uri=True,
                         isolation_level=None, check_same_thread=False)
    try:
        db.execute('SELECT count(*) FROM sqlite_master').fetchone()  # opening reads nothing yet
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


# --- --staticflow-db-recover ---------------------------------------------------------------------------------

LAST_ROWID = (1 << 63) - 1


def recover(path, now):
    """Keep the rows of a damaged database that can still be read: they go into a fresh file at `path`, and the
    damaged file (with its -wal and -shm) is kept beside it as `<path>.damaged-<time>`. -> (rows kept, the
    damaged copy's path). Nothing is removed: a failure midway leaves the damaged file where it was."""
    rows = list(salvage(path))
    fresh = path + '.recovering'
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(fresh + suffix):
            os.remove(fresh + suffix)
    store = EntryStore(fresh, power_safe=True)
    store.db.execute('BEGIN IMMEDIATE')
    store.db.executemany(INSERT, rows)
    store.db.execute('COMMIT')
    store.close()  # the last connection: its WAL is checkpointed and removed
    damaged = '%s.damaged-%s' % (path, time.strftime('%Y%m%dT%H%M%S', time.localtime(now)))
    for suffix in ('', '-wal', '-shm'):  # a -wal left beside the fresh file would be replayed into it
        if os.path.exists(path + suffix):
            os.rename(path + suffix, damaged + suffix)
    os.rename(fresh, path)
    return len(rows), damaged


def salvage(path):
    """(name, dpid, dialect, request) of every row of `path`'s table that SQLite can still read, in rowid order.
    A row at a time from a rowid on: where a damaged page makes the read fail, the smallest rowid bound past it
    that reads again is searched (doubling, then bisecting), so the rows on good pages after it are kept. A row
    whose text is not UTF-8 is left out."""
    try:
        db = _connect_read_only(path, 'mode=ro')
    except sqlite3.DatabaseError:
        db = _connect_read_only(path, 'immutable=1')
    db.text_factory = bytes

    def first_after(bound):
        return db.execute('SELECT rowid, name, dpid, dialect, request FROM static_flow_entries WHERE rowid > ? '
                          'ORDER BY rowid LIMIT 1', (bound,)).fetchone()

    def readable(bound):
        try:
            return True, first_after(bound)
        except sqlite3.DatabaseError:
            return False, None

    bound = -LAST_ROWID - 1
    try:
        while True:
            ok, row = readable(bound)
            if not ok:
                bound, row = _past_damage(readable, bound)
                if bound is None:
                    return
            if row is None:
                return
            bound = row[0]
            try:
                yield row[1].decode(), row[2], row[3].decode(), row[4].decode()
            except (UnicodeDecodeError, AttributeError):
                continue
    finally:
        db.close()


def _past_damage(readable, bad):
    """readable(bound) fails at `bad` -> (the smallest bound after it that reads, its first row), or (None, None)
    when nothing after it reads."""
    step = 1
    while True:
        good = min(bad + step, LAST_ROWID)
        ok, row = readable(good)
        if ok:
            break
        if good == LAST_ROWID:
            return None, None
        step *= 2
    while good - bad > 1:
        middle = (bad + good) // 2
        ok, middle_row = readable(middle)
        if ok:
            good, row = middle, middle_row
        else:
            bad = middle
    return good, row


def filesystem_facts(path):
    """(read-only, free bytes) of the file system holding `path`, for storefaults.classify; (False, None) when
    it cannot be asked."""
    try:
        stat = os.statvfs(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return False, None
    return bool(stat.f_flag & os.ST_RDONLY), stat.f_bavail * stat.f_frsize


def _row(entry, dialect_name):
    # dpid is stored as signed 64-bit (SQLite's integer); load() does not need it back.
    return entry.name, _signed64(entry.dpid), dialect_name, entry.request_text


def _signed64(value):
    return value - (1 << 64) if value >= 1 << 63 else value
