"""The ACL's rules kept across restarts: one row (a JSON document of controller.acl.AclState) in a table of
the static flow entries' SQLite file (--staticflow-db), so that one file holds the ACL and the entries it made.

Floodlight's ACL kept its rules in memory only. Here the state is committed before the REST reply, in one
transaction, all or nothing. A file that cannot be written raises controller.storefaults.StoreFault (the glue
answers 507 or 503 and changes nothing); one that cannot be opened for writing at start is read as it is.
Side effects only; the logic is in controller.acl.
"""
import json
import os
import sqlite3
import urllib.parse

from controller.entrystore import filesystem_facts
from controller.storefaults import DAMAGED, StoreFault, classify

SCHEMA = 'CREATE TABLE IF NOT EXISTS acl_state (name TEXT PRIMARY KEY, document TEXT NOT NULL)'
ROW = 'acl'


class AclStore:
    def __init__(self, path, power_safe=False):
        self.path = path
        self.power_safe = power_safe
        self.db = None
        self.fault = None
        self._data_version = None
        self._text = None  # the document as last loaded or saved here
        self.reopen()

    def reopen(self):
        """(Re)open the file for writing -> None, or the StoreFault why it cannot be (then it is read only)."""
        if self.db is not None:
            self.db.close()
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute('PRAGMA journal_mode=WAL')
            self.db.execute('PRAGMA synchronous=%s' % ('FULL' if self.power_safe else 'NORMAL'))
            self.db.execute(SCHEMA)
            self.fault = None
        except sqlite3.Error as error:
            self.fault = self._fault(error)
            try:
                self.db = sqlite3.connect('file:%s?mode=ro' % urllib.parse.quote(os.path.abspath(self.path)),
                                          uri=True, isolation_level=None, check_same_thread=False)
                self.db.execute('PRAGMA data_version').fetchone()
            except sqlite3.Error:  # no file to read: nothing stored
                self.db = sqlite3.connect(':memory:', isolation_level=None, check_same_thread=False)
        return self.fault

    def _fault(self, error):
        kind = classify(error, *filesystem_facts(self.path))
        if kind is None or kind == DAMAGED:
            raise error
        return StoreFault(kind, self.path, str(error))

    def _read(self):
        try:
            row = self.db.execute('SELECT document FROM acl_state WHERE name = ?', (ROW,)).fetchone()
        except sqlite3.OperationalError:  # a read-only file made before the ACL existed: no table
            return None
        return None if row is None else row[0]

    def load(self):
        """The stored document (a dict), or None when nothing is stored."""
        self._data_version = self.db.execute('PRAGMA data_version').fetchone()[0]
        self._text = self._read()
        return None if self._text is None else json.loads(self._text)

    def save(self, document):
        if self.fault is not None:
            raise self.fault
        text = json.dumps(document, separators=(',', ':'))
        try:
            self.db.execute('INSERT OR REPLACE INTO acl_state (name, document) VALUES (?, ?)', (ROW, text))
        except sqlite3.Error as error:
            raise self._fault(error) from None
        self._text = text

    def changed_elsewhere(self):
        """True when another instance sharing the file stored another ACL since the last load or save: the glue
        loads it, so that instances sharing the file share the ACL. Commits of static entries (by any
        connection) change SQLite's data_version too: only a different document counts."""
        version = self.db.execute('PRAGMA data_version').fetchone()[0]
        if version == self._data_version:
            return False
        self._data_version = version
        return self._read() != self._text

    def close(self):
        self.db.close()
