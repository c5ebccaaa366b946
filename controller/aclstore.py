"""The ACL's rules kept across restarts: one row (a JSON document of controller.acl.AclState) in a table of
the static flow entries' SQLite file (--staticflow-db), so that one file holds the ACL and the entries it made.

Floodlight's ACL kept its rules in memory only. Here the state is committed before the REST reply, in one
transaction, all or nothing. A file that cannot be written raises controller.storefaults.StoreFault (the glue
answers 507 or 503 and changes nothing). No connection stays open between two calls: SQLite shares a file's
-shm among a process's connections, and one left open read-only (a read-only file system at start) would keep
the entry store's own reopening read-only after the file system is writable again.
Side effects only; the logic is in controller.acl.
"""
import json
import sqlite3

from controller.entrystore import _connect_read_only, filesystem_facts
from controller.storefaults import DAMAGED, StoreFault, classify

SCHEMA = 'CREATE TABLE IF NOT EXISTS acl_state (name TEXT PRIMARY KEY, document TEXT NOT NULL)'
ROW = 'acl'


class AclStore:
    def __init__(self, path, power_safe=False):
        self.path = path
        self.power_safe = power_safe
        self._text = None  # the document as last loaded or saved here

    def _read(self):
        """The stored document's text, or None (no file, no table, no row)."""
        for mode in ('mode=ro', 'immutable=1'):  # immutable: a read-only file system after a clean stop
            try:
                db = _connect_read_only(self.path, mode)
            except sqlite3.Error:
                continue
            try:
                row = db.execute('SELECT document FROM acl_state WHERE name = ?', (ROW,)).fetchone()
            except sqlite3.OperationalError:  # a file made before the ACL existed
                return None
            finally:
                db.close()
            return None if row is None else row[0]
        return None

    def load(self):
        """The stored document (a dict), or None when nothing is stored."""
        self._text = self._read()
        return None if self._text is None else json.loads(self._text)

    def save(self, document):
        text = json.dumps(document, separators=(',', ':'))
        db = None
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute('PRAGMA journal_mode=WAL')
            db.execute('PRAGMA synchronous=%s' % ('FULL' if self.power_safe else 'NORMAL'))
            db.execute(SCHEMA)
            db.execute('INSERT OR REPLACE INTO acl_state (name, document) VALUES (?, ?)', (ROW, text))
        except sqlite3.Error as error:
            kind = classify(error, *filesystem_facts(self.path))
            if kind is None or kind == DAMAGED:
                raise
            raise StoreFault(kind, self.path, str(error)) from None
        finally:
            if db is not None:
                db.close()
        self._text = text

    def changed_elsewhere(self):
        """True when another instance sharing the file stored another ACL since the last load or save: the glue
        loads it, so that instances sharing the file share the ACL."""
        return self._read() != self._text
