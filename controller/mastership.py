"""Which controller instance is MASTER of a switch: a lease per DPID in SQLite, next to the shared entry store.

The rule (docs/architecture.md, "Several controllers"): every instance that wants mastership (configured role
MASTER, the default) renews, every `renew` seconds, a lease of `lease` seconds on each switch it has a live
session to. A lease held by another instance and not yet expired cannot be taken. The holder requests the
MASTER role from the switch and is the only instance that sends flow-mods; the others request SLAVE. When the
holder dies or loses its session, its lease runs out and another instance takes it on its next renewal, so a
takeover happens within lease + renew seconds (within renew seconds when the holder was a process on the same
host that is gone): far inside a bridge's fail-open window (3 x inactivity_probe,
15 s by default), and the bridge never fails open anyway while the standby's session stays up.

The leases live in their own file (`<entry store>-mastership`): their renewals every second must not look like
entry changes to the instances watching the entry store.

Limits: the instances must share one SQLite file on one host (SQLite locking is not safe on network file
systems) and one clock; an instance that stalls for longer than the lease can briefly overlap with its
successor (OpenFlow 1.0's role messages carry no generation id to fence it).
"""
import os
import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS mastership (
    dpid     INTEGER PRIMARY KEY,
    owner    TEXT NOT NULL,
    expires  REAL NOT NULL
)
"""
# The instances renewing at all, leases or not (docs/scale-out.md, the balancing rule): an instance that started
# after another took every switch holds no lease, and must still count in everybody's fair share.
MEMBERS_SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    owner    TEXT PRIMARY KEY,
    expires  REAL NOT NULL
)
"""
MEMBER_FORGOTTEN = 3600.0  # seconds after which the row of an instance that stopped renewing is deleted


def may_claim(row, owner, now, is_dead=lambda owner: False):
    """A lease row (owner, expires) or None: may `owner` take or renew it at `now`?

    is_dead(other_owner) lets an instance take a lease at once from a holder known to be gone.
    """
    return row is None or row[0] == owner or row[1] <= now or is_dead(row[0])


def owner_id(host, pid, nonce):
    return '%s:%d:%s' % (host, pid, nonce)


def dead_on_this_host(host):
    """is_dead for may_claim: a holder on this host whose process no longer exists (SIGKILLed, crashed)."""
    def is_dead(owner):
        owner_host, _, rest = owner.partition(':')
        pid_text = rest.partition(':')[0]
        if owner_host != host or not pid_text.isdigit():
            return False
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return is_dead


class MastershipLeases:
    def __init__(self, path, owner, is_dead=lambda owner: False):
        self.path = path
        self.owner = owner
        self.is_dead = is_dead
        self.db = None
        try:
            self._connect()
        except sqlite3.Error:
            pass  # a read-only or full disk at start: renew() raises, and tries again every round

    def _connect(self):
        # A short busy timeout: a renewal that meets the other instance's write lock is simply retried on the
        # next round instead of stalling the event loop.
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0.2)
        try:
            db.execute('PRAGMA journal_mode=WAL')
            db.execute(SCHEMA)
            db.execute(MEMBERS_SCHEMA)
        except BaseException:
            db.close()
            raise
        self.db = db

    def renew(self, wanted, released, now, lease):
        """Take or renew the leases of `wanted` dpids, give up those of `released`.

        Returns {dpid: expiry} of the leases held after the call, for every dpid in `wanted`. Raises
        sqlite3.Error when the database is busy or cannot be written (the caller decides: controller.roles); a
        connection that failed is opened again on the next call, so that a file system remounted read-write is
        written again.
        """
        if self.db is None:
            self._connect()
        try:
            return self._renew(wanted, released, now, lease)
        except sqlite3.Error as error:
            if getattr(error, 'sqlite_errorcode', 5) & 0xff not in (5, 6):  # not busy or locked: start afresh
                self.db.close()
                self.db = None
            raise

    def _renew(self, wanted, released, now, lease):
        held = {}
        self.db.execute('BEGIN IMMEDIATE')
        try:
            self.db.execute('INSERT OR REPLACE INTO instances (owner, expires) VALUES (?, ?)',
                            (self.owner, now + lease))
            self.db.execute('DELETE FROM instances WHERE expires < ?', (now - MEMBER_FORGOTTEN,))
            for dpid in released:
                self.db.execute('DELETE FROM mastership WHERE dpid = ? AND owner = ?', (_signed64(dpid), self.owner))
            for dpid in wanted:
                row = self.db.execute('SELECT owner, expires FROM mastership WHERE dpid = ?',
                                      (_signed64(dpid),)).fetchone()
                if may_claim(row, self.owner, now, self.is_dead):
                    self.db.execute('INSERT OR REPLACE INTO mastership (dpid, owner, expires) VALUES (?, ?, ?)',
                                    (_signed64(dpid), self.owner, now + lease))
                    held[dpid] = now + lease
            self.db.execute('COMMIT')
        except BaseException:
            if self.db.in_transaction:  # SQLite has rolled back itself after SQLITE_FULL
                self.db.execute('ROLLBACK')
            raise
        return held

    def other_instances(self, now):
        """The other instances holding a lease at `now`, less those known dead (controller.roles: alone or
        not). Raises sqlite3.Error as renew() does."""
        if self.db is None:
            self._connect()
        rows = self.db.execute('SELECT DISTINCT owner FROM mastership WHERE owner != ? AND expires > ?',
                               (self.owner, now))
        return {owner for (owner,) in rows if not self.is_dead(owner)}

    def live_instances(self, now):
        """Every instance (this one included) that renewed within its lease, holding switches or not, less those
        known dead: the balancing rule's count. Raises sqlite3.Error as renew() does."""
        if self.db is None:
            self._connect()
        rows = self.db.execute('SELECT owner FROM instances WHERE expires > ?', (now,))
        return {owner for (owner,) in rows if owner == self.owner or not self.is_dead(owner)}

    def holders(self, now):
        """{dpid: owner} of every unexpired lease (what REST shows); {} while the file cannot be opened."""
        try:
            if self.db is None:
                self._connect()
            rows = self.db.execute('SELECT dpid, owner FROM mastership WHERE expires > ?', (now,)).fetchall()
        except sqlite3.Error:
            return {}
        return {dpid % (1 << 64): owner for dpid, owner in rows}

    def guard(self, dpid):
        """No generation to fence store writes with here (see the module's limits); etcd's has one."""
        return None

    def close(self):
        if self.db is not None:
            self.db.close()


def _signed64(value):
    return value - (1 << 64) if value >= 1 << 63 else value
