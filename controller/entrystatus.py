"""Where each static flow entry stands on its switch, tied to OpenFlow xids. Pure; the glue passes `now`.

States: `waiting` (stored; its switch is not connected), `sent` (flow-mod on the wire, no barrier reply yet),
`installed` (a barrier sent after its flow-mod was answered, with no error for it), `error` (the switch
rejected its flow-mod: OpenFlow error type and code kept), `inactive` (stored with active=false).
"""
from collections import defaultdict

from controller.of10 import XID_MASK

WAITING, SENT, INSTALLED, ERROR, INACTIVE = 'waiting', 'sent', 'installed', 'error', 'inactive'


def xid_before(earlier, later):
    """Whether xid `earlier` was handed out before `later` on one session. Xids are 32-bit and ryu starts each
    session at a random one, so they wrap: compared as serial numbers (RFC 1982), within half the space."""
    return 0 < ((later - earlier) & XID_MASK) <= XID_MASK >> 1


class State:
    """One entry's status. A __slots__ record rather than a dict: with 100,000 entries the five-key dicts
    were about 23 MB of the controller's memory (docs/performance.md); get() builds the dict on demand.
    `switch`: the DPID the status is about (shown as `dpid`). `state` None: no status yet.

    The static flow table's records are States too (controller.staticflow): EntryStatus(records=...) keeps
    each entry's status in its table record, with no State object and no dict entry of its own (about 90
    bytes an entry)."""
    __slots__ = ('state', 'since', 'switch', 'xid', 'error')

    def __init__(self, state=None, since=None, switch=None, xid=None, error=None):
        self.state = state
        self.since = since
        self.switch = switch
        self.xid = xid
        self.error = error

    def as_dict(self):
        return {'state': self.state, 'since': self.since, 'dpid': self.switch, 'xid': self.xid, 'error': self.error}

    def copy_status(self, other):
        self.state, self.since, self.switch, self.xid, self.error = (other.state, other.since, other.switch,
                                                                     other.xid, other.error)


class EntryStatus:
    def __init__(self, records=None):
        """records: name -> State of the static flow table (StaticFlowTable.records), to keep statuses in the
        table's records; the table adds and removes them, and names it does not hold get no status. Without
        it, a State of its own per name."""
        self.shared = records is not None
        self.states = records if self.shared else {}   # name -> State
        self.in_flight = defaultdict(dict)    # dpid -> {xid: name} flow-mods awaiting a barrier reply
        self._dpids = {}                      # dpid -> the one int object every State of that switch shares

    def _set(self, name, dpid, state, now, xid=None, error=None):
        dpid = self._dpids.setdefault(dpid, dpid)  # each parsed entry brings its own int: 36 bytes an entry
        record = self.states.get(name)
        if record is None:
            if not self.shared:
                self.states[name] = State(state, now, dpid, xid, error)
            return
        # Changed in place (get() hands out copies): a reconnect moves 100,000 entries through sent and
        # installed, and a new record per step, freed while other objects are made, leaves the allocator's
        # pages half used.
        record.state, record.since, record.switch, record.xid, record.error = state, now, dpid, xid, error

    def stored(self, entry, connected, now):
        """An entry was pushed or restored; before any flow-mod for it is sent."""
        if not entry.active:
            self._set(entry.name, entry.dpid, INACTIVE, now)
        elif not connected:
            self._set(entry.name, entry.dpid, WAITING, now)

    def flow_mod_sent(self, name, dpid, xid, now):
        record = self.states.get(name)
        if record is not None and record.state == INACTIVE:
            return  # the DELETE_STRICT that took an inactive entry's flow away
        self._set(name, dpid, SENT, now, xid=xid)
        self.in_flight[dpid][xid] = name

    def seen_installed(self, name, dpid, now):
        """The switch's own flow table shows the entry's flow exactly as it should be."""
        self._set(name, dpid, INSTALLED, now)

    def barrier_reply(self, dpid, xid, now):
        """Every flow-mod sent before this barrier on this switch has been processed."""
        pending = self.in_flight.get(dpid)
        if not pending:
            return
        for sent_xid in [x for x in pending if xid_before(x, xid)]:
            name = pending.pop(sent_xid)
            state = self.states.get(name)
            if state is not None and state.state == SENT and state.xid == sent_xid:
                self._set(name, dpid, INSTALLED, now, xid=sent_xid)
        if not pending:
            # A dict keeps its table after its keys are popped: after a reconnect push of thousands of
            # entries, dropping the emptied one frees that table.
            del self.in_flight[dpid]

    def error(self, dpid, xid, error, now):
        """An OpenFlow error answering one of our flow-mods (`error`: a dict describing it).

        Returns the entry's name, or None when the xid is not one of our flow-mods.
        """
        name = self.in_flight.get(dpid, {}).pop(xid, None)
        if name is None:
            return None
        self._set(name, dpid, ERROR, now, xid=xid, error=error)
        return name

    def forget(self, name):
        if not self.shared:
            self.states.pop(name, None)
        elif name in self.states:
            self.states[name].copy_status(_NO_STATUS)  # the table drops the record itself

    def switch_gone(self, dpid, now):
        self.in_flight.pop(dpid, None)
        for name, state in self.states.items():
            if state.switch == dpid and state.state in (SENT, INSTALLED):
                self._set(name, dpid, WAITING, now)

    def get(self, name):
        """{'state', 'since', 'dpid', 'xid', 'error'} of one entry, or None."""
        state = self.states.get(name)
        return None if state is None or state.state is None else state.as_dict()


_NO_STATUS = State()
