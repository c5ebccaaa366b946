"""Durable static flow entries in an embedded SQLite database.

Floodlight kept entries in memory only. Here an entry is committed before "Entry pushed" is answered, and
every entry is read back at start-up.

Durability: WAL with synchronous=NORMAL by default. A commit is in the WAL file (the OS has it) before the REST
reply, so a controller that crashes or is SIGKILLed loses nothing; only an OS crash or power cut can lose the
last commits. synchronous=FULL (`EntryStore(path, power_safe=True)`) adds an fsync to every commit: on the shared
benchmark machine that fsync was 55% of the controller's CPU profile and halved the REST push rate
(docs/performance.md). The request JSON is stored as received, so a later version of the
parser can read old databases. Side effects only; the logic is in controller.staticflow.
"""
import json
import os
import sqlite3

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
    def __init__(self, path, power_safe=False):
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        # isolation_level=None: each statement is its own transaction, committed when execute returns.
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # A new database gets 1 KiB pages (SQLite's default is 4 KiB): a push's commit writes a leaf page of
        # the table and of its name index to the WAL, and a quarter of the bytes made that commit about a
        # quarter cheaper (docs/performance.md). Ignored for an existing file, which keeps its page size.
        self.db.execute('PRAGMA page_size=1024')
        self.db.execute('PRAGMA journal_mode=WAL')
        self.db.execute('PRAGMA synchronous=%s' % ('FULL' if power_safe else 'NORMAL'))
        self.db.execute(SCHEMA)
        # Taken before anything is loaded: a commit by another instance after this point is seen by
        # changed_elsewhere(), even one that lands before the first check.
        self._data_version = self.db.execute('PRAGMA data_version').fetchone()[0]

    def save(self, entry, dialect_name):
        self.db.execute(INSERT, _row(entry, dialect_name))

    def save_all(self, entries):
        """save() of every (entry, dialect_name), in order, in one transaction: one WAL commit for the pushes
        that arrive together (group commit). All or none: an error rolls every one of them back."""
        if len(entries) == 1:
            return self.save(*entries[0])
        self.db.execute('BEGIN IMMEDIATE')
        try:
            self.db.executemany(INSERT, [_row(entry, dialect_name) for entry, dialect_name in entries])
            self.db.execute('COMMIT')
        except BaseException:
            if self.db.in_transaction:
                self.db.execute('ROLLBACK')
            raise

    def delete(self, name):
        self.db.execute('DELETE FROM static_flow_entries WHERE name = ?', (name,))

    def clear(self, dpid=None):
        if dpid is None:
            self.db.execute('DELETE FROM static_flow_entries')
        else:
            self.db.execute('DELETE FROM static_flow_entries WHERE dpid = ?', (_signed64(dpid),))

    def load(self):
        """[(dialect_name, request_dict)] in insertion order."""
        return list(self.iter_load())

    def iter_load(self):
        """load(), one row at a time: start-up reads 100,000 entries this way, so that every decoded request
        never exists at once (a peak the allocator would keep as resident memory after start-up)."""
        rows = self.db.execute('SELECT dialect, request FROM static_flow_entries ORDER BY rowid')
        return ((dialect, json.loads(request)) for dialect, request in rows)

    def changed_elsewhere(self):
        """True when another connection (another controller instance sharing the file) committed since the
        last call. SQLite's data_version ignores this connection's own commits."""
        version = self.db.execute('PRAGMA data_version').fetchone()[0]
        changed = version != self._data_version
        self._data_version = version
        return changed

    def close(self):
        self.db.close()


def _row(entry, dialect_name):
    # dpid is stored as signed 64-bit (SQLite's integer); load() does not need it back.
    return entry.name, _signed64(entry.dpid), dialect_name, entry.request_text


def _signed64(value):
    return value - (1 << 64) if value >= 1 << 63 else value
