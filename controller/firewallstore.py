"""The firewall's rules in the SQLite file of --staticflow-db (table firewall_rules), read back at start.

Floodlight kept them in its storage table controller_firewallrules, in memory, so they were gone after a restart;
here a rule is committed before "Rule added" (or "Rule deleted") is answered. A write the disk refuses raises
controller.storefaults.StoreFault and changes nothing (the REST reply is then 507 or 503). Side effects only;
the rules' logic is in controller.firewall.
"""
import json
import logging
import os
import sqlite3

from controller import storefaults
from controller.firewall import RULE_FIELDS, Rule
from controller.storefaults import StoreFault

LOG = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS firewall_rules (
    ruleid   INTEGER PRIMARY KEY,
    rule     TEXT NOT NULL
)
"""


class FirewallStore:
    """Opened for each read or write and closed again: rules change seldom, and a connection kept open would
    share the file's locks with the static flow store for the controller's whole life (a read-only start
    would keep a read-only connection after the file system is writable again)."""

    def __init__(self, path, power_safe=False):
        self.path = path
        self.power_safe = power_safe

    def _connect(self, schema=True):
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        try:
            db.execute('PRAGMA synchronous=%s' % ('FULL' if self.power_safe else 'NORMAL'))
            if schema:  # not at start: the static flow store makes a new file first, with its page size
                db.execute(SCHEMA)
        except BaseException:
            db.close()
            raise
        return db

    def load(self):
        """Every stored rule; a row that no longer reads as a rule is logged and left out. A file that cannot be
        read gives no rules, logged: the firewall starts disabled anyway."""
        try:
            db = self._connect(schema=False)
            try:
                if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'firewall_rules'").fetchall():
                    return []
                rows = db.execute('SELECT ruleid, rule FROM firewall_rules ORDER BY ruleid').fetchall()
            finally:
                db.close()
        except sqlite3.Error as error:
            LOG.error('firewall rules in %s cannot be read (%s): starting with none', self.path, error)
            rows = []
        rules = []
        for ruleid, text in rows:
            try:
                values = json.loads(text)
                values = {name: tuple(v) if isinstance(v, list) else v for name, v in values.items()
                          if name in RULE_FIELDS}
                rules.append(Rule(**dict(values, ruleid=ruleid)))
            except (ValueError, TypeError) as error:
                LOG.error('firewall rule %d in %s cannot be read (%s): left out', ruleid, self.path, error)
        return rules

    def add(self, rule):
        values = {name: getattr(rule, name) for name in RULE_FIELDS if name != 'ruleid'}
        self._write('INSERT OR REPLACE INTO firewall_rules (ruleid, rule) VALUES (?, ?)',
                    (rule.ruleid, json.dumps(values, sort_keys=True)))

    def delete(self, ruleid):
        self._write('DELETE FROM firewall_rules WHERE ruleid = ?', (ruleid,))

    def _write(self, sql, args):
        try:
            db = self._connect()
            try:
                db.execute(sql, args)
            finally:
                db.close()
        except (sqlite3.Error, OSError) as error:
            kind = storefaults.classify(error)
            if kind in (storefaults.FULL, storefaults.READ_ONLY, storefaults.UNAVAILABLE):
                raise StoreFault(kind, self.path, str(error)) from None
            raise
