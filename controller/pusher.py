"""The static flow pusher's decisions, apart from Ryu: what a push, a switch's arrival, its flow table, a barrier
reply, an expired flow or an error changes, and which OpenFlow messages follow. Pure: the methods take `now`
where time matters and return {dpid: [msgs]} (or a result object) for apps/staticflow.py to send, log and
time; no sockets, no green threads, no SQLite (the glue commits to controller.entrystore).

The pieces:
- group commit: REST pushes that arrive together share one SQLite commit. The first push opens a PushBatch
  (`join` -> leader); the glue yields once, and every push that runs meanwhile is checked against the table and
  the batch and joins it (-> follower). The leader closes the batch, commits `batch.rows()`, then `committed`
  takes every entry into the table in arrival order and returns all their flow-mods. The followers wait for
  that (the glue's hub.Event) and send nothing of their own.
- SharedBarriers: a push's barrier waits --push-barrier-delay and confirms every push to the switch meanwhile.
- FlowTableRead: a connecting switch's flow table, read before reconciling (xid of the request, flows so far,
  entries whose flow-mods went out after the request).
- `flow_removed`: an entry whose flow expired (idle or hard timeout) is forgotten, and the glue deletes it
  from the store (Floodlight 1.1+).
- `reconcile_story`: what a reconcile found, in a line for the switch's timeline.
"""
import json


from controller import of10
from controller.dpid import format_dpid
from controller.entrystatus import EntryStatus
from controller.flowentry import is_static_flow_cookie
from controller.staticflow import EntryConflictError, StaticFlowTable



class EntryLimitError(Exception):
    """A new entry past --max-entries (HTTP 507): nothing is stored."""


class PushBatch:
    """Pushes that passed the conflict check and wait for one shared commit, in arrival order, with the flows
    they will own: the next push's conflict check (StaticFlowTable.conflicting_entry) sees the table as it
    will be once these are in."""

    def __init__(self):
        self.items = []    # (entry, dialect) in arrival order
        self.new = 0       # how many of their names are not in the table yet (--max-entries counts them)
        self._key_of = {}  # name -> the flow key it will own (None when inactive)
        self._owner = {}   # flow key -> the pending name that will own it

    def add(self, entry, dialect, key, new=False):
        self.new += new
        old = self._key_of.get(entry.name)
        if old is not None and self._owner.get(old) == entry.name:
            del self._owner[old]
        key = key if entry.active else None
        self._key_of[entry.name] = key
        if key is not None:
            self._owner[key] = entry.name
        self.items.append((entry, dialect))

    def owner_of(self, key):
        return self._owner.get(key)

    def has(self, name):
        return name in self._key_of

    def rows(self):
        """[(entry, dialect name)] for EntryStore.save_all."""
        return [(entry, dialect.name) for entry, dialect in self.items]

    def __len__(self):
        return len(self.items)


class SharedBarriers:
    """One barrier per switch per `delay` seconds for pushes, instead of one per push: at thousands of pushes a
    second, a barrier and its reply per push were a sixth of the controller's work. A barrier reply confirms
    every flow-mod sent before its barrier (controller.entrystatus), so each entry still turns `installed` on the
    first reply after it, at most `delay` later. delay <= 0: every push keeps its own barrier."""

    def __init__(self, delay):
        self.delay = delay
        self.due = set()  # dpids with a barrier on its way

    def hold(self, msgs_by_dpid):
        """Takes the barriers out of a push's messages (in place) -> [dpid] whose shared barrier is to be sent
        `delay` seconds from now (call `fire` then); the others have one on its way already."""
        if self.delay <= 0:
            return []
        start = []
        for dpid, msgs in msgs_by_dpid.items():
            msgs[:] = [msg for msg in msgs if not of10.is_barrier(msg)]
            if dpid not in self.due:
                self.due.add(dpid)
                start.append(dpid)
        return start

    def fire(self, dpid):
        """The delay is over -> the shared barrier to send."""
        self.due.discard(dpid)
        return {dpid: [of10.barrier()]}


class FlowTableRead:
    """A connecting switch's flow table, being read to reconcile against: the flow stats request (its xid is
    set when it is sent), the flows of the reply parts so far, and the names of entries whose flow-mods went
    out after the request (the table read predates them: they are right on the switch already)."""
    __slots__ = ('request', 'flows', 'sent_since')

    def __init__(self, request):
        self.request = request
        self.flows = []
        self.sent_since = set()

    @property
    def xid(self):
        return self.request.xid


class Reconciled:
    """A finished reconcile: the messages to send, and what it found (for the switch's timeline and the log)."""
    __slots__ = ('dpid', 'msgs', 'flows_read', 'in_place', 'flow_mods', 'story')

    def __init__(self, dpid, msgs, flows_read, in_place, flow_mods, story):
        self.dpid = dpid
        self.msgs = msgs
        self.flows_read = flows_read
        self.in_place = in_place
        self.flow_mods = flow_mods
        self.story = story


def reconcile_story(flow_mods, installed, in_place):
    """What a connect-time reconcile found, for the switch's timeline."""
    if flow_mods == 0:
        return 'every static flow in place: nothing sent'
    if not in_place and not any(is_static_flow_cookie(flow.cookie) for flow in installed):
        return 'the switch had no static flow left (flushed by fail-open or a restart): full push'
    return 'static flows repaired'


class StaticFlowPusher:
    """Every static flow decision: the table, the entries' statuses, the open group commit, the shared
    barriers and the flow table reads in progress."""

    def __init__(self, barrier_delay=0.0, max_entries=0):
        self.max_entries = max_entries  # --max-entries: a push of a new entry past it is refused (0: no cap)
        self.table = StaticFlowTable()
        self.status = EntryStatus(records=self.table.records)  # statuses live in the table's records
        self.barriers = SharedBarriers(barrier_delay)
        self.reads = {}    # dpid -> FlowTableRead in progress
        self.batch = None  # the open PushBatch: pushes arriving now join it

    # --- entries from the store -------------------------------------------------------------------------

    def restore(self, rows, now, parse):
        """Stored rows (dialect name, request) at start-up, and parse(dialect name, request) -> FlowEntry
        (raising ValueError for one that does not parse any more) -> [(name, error)] of the rows left out.
        The others go into the table, waiting for their switches."""
        failed = []
        for dialect_name, request in rows:
            try:
                entry = parse(dialect_name, request)
            except ValueError as error:
                failed.append((request.get('name'), error))
                continue
            self.table.push(entry)
            self.status.stored(entry, False, now)
        return failed

    def sync(self, rows, now, parse):
        """The store as another instance sharing it left it (rows and parse as for `restore`) -> ({dpid: msgs},
        number of entries added or changed, [(name, error)] of rows that do not parse here). Entries gone from
        the store are deleted; new or changed ones (their request text differs) pushed."""
        stored = {request.get('name'): (dialect_name, request) for dialect_name, request in rows}
        return self.apply_changes(stored.values(), [n for n in self.table.names() if n not in stored], now, parse)

    def apply_changes(self, rows, deleted, now, parse):
        """Changes another instance made (the etcd store's watch: controller.etcdstore): rows put, names deleted
        -> as `sync`."""
        out = {}
        for name in deleted:
            if name in self.table:
                _extend(out, self.delete(name))
        changed, failed = 0, []
        for dialect_name, request in rows:
            name = request.get('name')
            # The table keeps a digest of each entry's request text (json.dumps of the request, as parse_entry
            # makes it), not the text: the same dumps of the stored request tells an unchanged entry unparsed.
            if self.table.same_request(name, json.dumps(request)):
                continue
            try:
                entry = parse(dialect_name, request)
            except ValueError as error:
                failed.append((name, error))
                continue
            _extend(out, self.table.push(entry))
            self.status.stored(entry, entry.dpid in self.table.connected, now)
            changed += 1
        return out, changed, failed

    # --- REST pushes: group commit --------------------------------------------------------------------------

    def join(self, entry, dialect):
        """A push -> (its PushBatch, True when it is the batch's leader). Raises EntryConflictError (409) when
        the entry would share its flow with another entry, in the table or pending, and EntryLimitError (507)
        when it is a new entry and --max-entries are stored or pending; nothing joins then."""
        batch = self.batch
        other = self.table.conflicting_entry(entry, batch)
        if other is not None:
            raise EntryConflictError('entry %s already has this match and priority on switch %s; OpenFlow 1.0 '
                                     'keeps one flow for both, so change the priority or delete %s first'
                                     % (other, format_dpid(entry.dpid), other))
        new = entry.name not in self.table and not (batch is not None and batch.has(entry.name))
        if new and self.max_entries and len(self.table.entries) + (batch.new if batch else 0) >= self.max_entries:
            raise EntryLimitError('%d static flow entries are stored, the most --max-entries allows: entry %s is '
                                  'not stored; delete entries first (replacing one by its name is allowed)'
                                  % (self.max_entries, entry.name))
        leader = batch is None
        if leader:
            batch = self.batch = PushBatch()
        batch.add(entry, dialect, self.table.flow_key_of(entry), new)
        return batch, leader

    def close(self, batch):
        """No more pushes join `batch` (its commit starts, or failed)."""
        if self.batch is batch:
            self.batch = None

    def committed(self, batch, now):
        """`batch` is committed to the store: its entries go into the table, in arrival order -> the
        flow-mods of all of them, {dpid: [msgs]}, for `pushed`."""
        self.close(batch)
        out = {}
        connected = self.table.connected
        for entry, _ in batch.items:
            _extend(out, self.table.push(entry))
            self.status.stored(entry, entry.dpid in connected, now)
        return out

    def pushed(self, msgs_by_dpid):
        """A push's messages -> [dpid] whose shared barrier starts now (SharedBarriers.hold; the barriers are
        taken out of msgs_by_dpid)."""
        return self.barriers.hold(msgs_by_dpid)

    # --- other REST changes and queries ---------------------------------------------------------------------

    def delete(self, name):
        self.status.forget(name)
        return self.table.delete(name)

    def clear(self, dpid):
        for name in self.table.names(dpid):
            self.status.forget(name)
        return self.table.clear(dpid)

    def entry_status(self, dpid):
        """{dpid: {name: status}} of every stored entry (inactive ones included)."""
        out = {}
        for name in sorted(self.table.names(dpid)):  # names only: no FlowEntry is rebuilt for the status
            out.setdefault(self.table.dpid_of(name), {})[name] = self.status.get(name)
        if dpid is not None:
            out.setdefault(dpid, {})
        return out

    # --- sending --------------------------------------------------------------------------------------------

    @staticmethod
    def outgoing(msgs_by_dpid):
        """What goes to the switches: runs of entry flow-mods batched (of10.batch_flow_mods)."""
        return {dpid: of10.batch_flow_mods(msgs) for dpid, msgs in msgs_by_dpid.items()}

    def sent(self, msgs_by_dpid, now):
        """The messages went out (their xids are set; a dropped one has none): each entry's flow-mod is now
        `sent`, and a flow table read in progress on its switch predates it."""
        for dpid, msgs in msgs_by_dpid.items():
            read = self.reads.get(dpid)
            for msg in msgs:
                if not isinstance(msg, of10.ENTRY_MESSAGES):
                    continue
                if read is not None:
                    read.sent_since.update(msg.entry_names())
                for name, xid in msg.sent_entries():
                    if name in self.table:
                        self.status.flow_mod_sent(name, dpid, xid, now)

    # --- switches -------------------------------------------------------------------------------------------

    def switch_ready(self, dpid):
        """A switch is ready (again): read its flow table -> ({dpid: [flow stats request]}, the FlowTableRead;
        give it to read_timed_out when the switch has not answered in time)."""
        msgs = self.table.switch_connected(dpid)
        read = self.reads[dpid] = FlowTableRead(msgs[dpid][0])
        return msgs, read

    def flow_stats_reply(self, dpid, xid, flows, last, now):
        """A part of a flow stats reply (flows: InstalledFlows) -> a Reconciled once the last part of the read
        in progress is in; None for an earlier part or a reply to anything else."""
        read = self.reads.get(dpid)
        if read is None or read.xid != xid:
            return None
        read.flows.extend(flows)
        if not last:
            return None
        del self.reads[dpid]
        return self._reconcile(dpid, read.flows, read.sent_since, now)

    def read_timed_out(self, dpid, read, now):
        """--reconcile-timeout after `read` began -> a Reconciled that sends every entry, as if the switch's
        table were empty; None when the read is over (answered, switch gone, or asked again since)."""
        if self.reads.get(dpid) is not read:
            return None
        del self.reads[dpid]
        return self._reconcile(dpid, [], read.sent_since, now,
                               'no answer to the flow table read: every entry sent')

    def _reconcile(self, dpid, installed, sent_since, now, story=None):
        msgs, in_place = self.table.reconcile(dpid, installed, sent_since=sent_since)
        for name in in_place:
            self.status.seen_installed(name, dpid, now)
        flow_mods = len(msgs.get(dpid, [])) - 1  # all but the closing barrier
        if story is None:
            story = reconcile_story(flow_mods, installed, in_place)
        return Reconciled(dpid, msgs, len(installed), len(in_place), flow_mods, story)

    def switch_gone(self, dpid, now):
        self.table.switch_disconnected(dpid)
        self.status.switch_gone(dpid, now)
        self.reads.pop(dpid, None)

    def barrier_reply(self, dpid, xid, now):
        self.status.barrier_reply(dpid, xid, now)

    def flow_removed(self, dpid, reason, cookie, priority, match_key):
        """A FLOW_REMOVED -> the name of the entry whose flow expired (idle or hard timeout), now forgotten: the
        glue deletes it from the store. None for any other removal, or a flow that is no entry's."""
        if not of10.is_expiry(reason):
            return None
        name = self.table.remove_expired(dpid, cookie, priority, match_key)
        if name is not None:
            self.status.forget(name)
        return name

    def switch_error(self, dpid, xid, error_type, error_code, now):
        """An OpenFlow error from a switch -> (the name of the entry whose flow-mod it rejected, or None; the
        error as the entry's status shows it)."""
        type_name, code_name = of10.describe_error(error_type, error_code)
        error = {'type': error_type, 'code': error_code, 'type_name': type_name, 'code_name': code_name}
        return self.status.error(dpid, xid, error, now), error


def _extend(out, msgs_by_dpid):
    for dpid, msgs in msgs_by_dpid.items():
        out.setdefault(dpid, []).extend(msgs)
