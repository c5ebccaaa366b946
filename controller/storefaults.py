"""What a failure of the disk under the SQLite files means, apart from any I/O: which kind of fault an error is
(full, read-only, damaged, busy, or another failure of the disk), the exceptions the store raises for them, and
how often a fault that repeats is logged. controller.entrystore raises; apps/staticflow.py and apps/switches.py
report on the health board; rest/staticflow.py answers 507 (full) or 503 (the others). docs/reliability.md,
"Faults of the disk".
"""
import errno

FULL = 'full'              # SQLITE_FULL, ENOSPC, EDQUOT: HTTP 507
READ_ONLY = 'read-only'    # SQLITE_READONLY, EROFS, a file that cannot be opened for writing: HTTP 503
DAMAGED = 'damaged'        # SQLITE_CORRUPT, SQLITE_NOTADB, a failed quick_check
BUSY = 'busy'              # another instance holds the write lock: retried, not a fault
UNAVAILABLE = 'unavailable'  # any other I/O failure: HTTP 503

# SQLite's primary result codes (an extended code's low byte is its primary code).
_SQLITE_KINDS = {13: FULL, 8: READ_ONLY, 14: READ_ONLY, 3: READ_ONLY, 11: DAMAGED, 26: DAMAGED,
                 5: BUSY, 6: BUSY, 10: UNAVAILABLE}
_ERRNO_KINDS = {errno.ENOSPC: FULL, errno.EDQUOT: FULL, errno.EROFS: READ_ONLY, errno.EACCES: READ_ONLY,
                errno.EPERM: READ_ONLY}

WHAT = {FULL: 'the disk is full', READ_ONLY: 'the file system is read-only or the file cannot be written',
        DAMAGED: 'the database file is damaged', BUSY: 'another instance holds the write lock',
        UNAVAILABLE: 'the disk failed a write'}


class StoreFault(Exception):
    """A write the store could not make: `kind` (FULL, READ_ONLY, UNAVAILABLE), `path`, and SQLite's or the OS's
    words for it. Nothing was written."""

    def __init__(self, kind, path, detail):
        self.kind = kind
        self.path = path
        self.detail = detail
        super().__init__(self.reason)

    @property
    def reason(self):
        return 'the entry store %s cannot be written: %s (%s); nothing was changed' % (self.path, WHAT[self.kind],
                                                                                       self.detail)


class StoreDamaged(Exception):
    """The database file failed SQLite's quick check, or is no database: the start stops here unless
    --staticflow-db-recover."""

    def __init__(self, path, detail):
        self.path = path
        self.detail = detail
        super().__init__('static flow database %s is damaged (%s). Entries would be missing: not starting. Start '
                         'once with --staticflow-db-recover to keep the rows that can still be read (the damaged '
                         'file is kept as %s.damaged-<time>), or restore the file from a backup'
                         % (path, detail, path))


def classify(error, read_only_fs=False, free_bytes=None):
    """An exception from sqlite3 or the OS -> FULL, READ_ONLY, DAMAGED, BUSY, UNAVAILABLE, or None (not a fault of
    the disk: a bug). read_only_fs and free_bytes describe the file system of the file, for SQLite's plain
    "disk I/O error", which says no more (a file system remounted read-only under an open file gives that)."""
    if isinstance(error, OSError):
        return _ERRNO_KINDS.get(error.errno, UNAVAILABLE)
    code = getattr(error, 'sqlite_errorcode', None)
    if code is None:
        return None
    kind = _SQLITE_KINDS.get(code & 0xff)
    if kind in (UNAVAILABLE, READ_ONLY) and read_only_fs:
        return READ_ONLY
    if kind == UNAVAILABLE and free_bytes == 0:
        return FULL
    return kind


class RepeatLimiter:
    """One log line per kind of fault per `interval` seconds: `note(kind, now)` -> None to stay quiet, or the
    number of repeats kept quiet since the last line (0 for the first)."""

    def __init__(self, interval):
        self.interval = interval
        self._last = {}  # kind -> [time of the last line, repeats since]

    def note(self, kind, now):
        last = self._last.get(kind)
        if last is not None and now - last[0] < self.interval:
            last[1] += 1
            return None
        repeats = last[1] if last is not None else 0
        self._last[kind] = [now, 0]
        return repeats

    def over(self, kind):
        """The fault is over: the next one is logged at once."""
        self._last.pop(kind, None)


class FaultReport:
    """A store's faults on the health board while they last, logged one line per kind per `interval` seconds
    (repeats counted in the next line). `failed(fault, now)` on every failed write, `written()` on every write
    that succeeded -> True when that ended a fault (the caller says so once)."""

    def __init__(self, health, component, log, interval):
        self.health = health
        self.component = component
        self._log = log
        self._limiter = RepeatLimiter(interval)

    def failed(self, fault, now):
        self.health.fault(self.component, fault.reason, now)
        repeats = self._limiter.note(fault.kind, now)
        if repeats is not None:
            self._log.error('%s%s', fault.reason, ' (and %d more times in the last %g s)' % (
                repeats, self._limiter.interval) if repeats else '')

    def still_failing(self, fault, now):
        """A recheck that failed again: health keeps the newest reason, the log has the fault already."""
        self.health.fault(self.component, fault.reason, now)

    def written(self):
        if not self.health.clear(self.component):
            return False
        for kind in (FULL, READ_ONLY, UNAVAILABLE):
            self._limiter.over(kind)
        return True
