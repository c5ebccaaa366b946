"""Static flow pusher glue: Ryu events, REST calls and timers in, calls of controller.pusher.StaticFlowPusher
(with `now`) out, and what it returns sent; entries committed to SQLite (controller.entrystore)."""
import logging
import time

from ryu import cfg
from ryu.app.wsgi import WSGIApplication
from ryu.base import app_manager
from ryu.controller import ofp_event
from ryu.controller.handler import MAIN_DISPATCHER, set_ev_cls
from ryu.lib import hub

from apps import config
from apps.background import BackgroundLoops
from apps.events import EventSwitchGone, EventSwitchReady
from apps.rest_routes import mount, mount_raw
from apps.switches import SwitchesApp
from controller import entrystore, etcdstore, of10
from controller.dpid import format_dpid
from controller.entrystore import EntryStore
from controller.pusher import StaticFlowPusher
from controller.storefaults import FaultReport, StoreDamaged, StoreFault
from rest import floodlight
from rest import staticflow as staticflow_rest

LOG = logging.getLogger(__name__)
# Seconds between checks for commits by another instance (or --workers worker) sharing the store: a check is one
# `PRAGMA data_version` (microseconds), so a push answered by another worker reaches the switch's master within
# about this (it was 1 s: 0.5 s on average). What a commit found costs (reading every entry again) is paced apart:
# the next reading waits at least STORE_RELOAD_PACE times as long as the last one took, so a large store read
# again and again by a stream of pushes to the other instance takes at most 1/STORE_RELOAD_PACE of this worker.
# Alone on the store (SwitchesApp.store_shared false: no other live instance at the last lease renewal, not a
# worker), every STORE_WATCH_ALONE_INTERVAL: 50 wake-ups a second cost 1.5% of the packet-in rate.
STORE_WATCH_INTERVAL = 0.02
STORE_WATCH_ALONE_INTERVAL = 1.0
STORE_RELOAD_PACE = 10
STORE_RECHECK_INTERVAL = 1.0  # seconds between tries to write a store that failed (full or read-only disk)
STORE = 'store'  # the entry store's component on the health board
STORE_FAULT_LOG_INTERVAL = 10.0  # seconds: one log line per kind of store fault (full, read-only) per interval


class _Commit:
    """What the pushes that joined a leader's batch wait on: its commit done, or why it failed."""
    __slots__ = ('done', 'error')

    def __init__(self):
        self.done = hub.Event()
        self.error = None


class StaticFlowApp(BackgroundLoops, app_manager.RyuApp):
    OFP_VERSIONS = [of10.OFP_VERSION]
    _CONTEXTS = {'wsgi': WSGIApplication, 'switches': SwitchesApp}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config.register()
        self.switches = kwargs['switches']
        self.health = self.switches.health
        self.pusher = StaticFlowPusher(barrier_delay=cfg.CONF.push_barrier_delay, max_entries=cfg.CONF.max_entries)
        self.table = self.pusher.table
        self.metrics = self.switches.metrics
        self.metrics.sources.entry_status = self.pusher.status
        self._reconcile_started = {}  # dpid -> time.monotonic() it was ready, for the reconcile duration
        if self.switches.etcd is not None:
            self.store = etcdstore.EtcdEntryStore(*self.switches.etcd)
        else:
            self.store = open_store(cfg.CONF.staticflow_db, cfg.CONF.durability == 'full',
                                    cfg.CONF.staticflow_db_recover)
        self._faults = FaultReport(self.health, STORE, LOG, STORE_FAULT_LOG_INTERVAL)
        self._commits = {}  # PushBatch -> _Commit, made by the first push that joins it
        for name, error in self.pusher.restore(self._stored_rows(), time.time(), parse_stored):
            LOG.error('stored entry %r no longer parses (%s); left in %s', name, error, self.store.path)
        LOG.info('%d static flow entries restored from %s (durability %s)', len(self.table.entries),
                 self.store.path, 'etcd quorum' if self.switches.etcd is not None else cfg.CONF.durability)
        if self.store.fault is not None:
            self._store_failed(self.store.fault)
        wsgi = kwargs['wsgi']
        mount(wsgi, staticflow_rest.ROUTES, self)
        mount_raw(wsgi, staticflow_rest.raw_routes(self))

    def _stored_rows(self):
        if not isinstance(self.store, etcdstore.EtcdEntryStore):
            return self.store.iter_load(self._unreadable_row)
        try:
            return self.store.load(self._unreadable_row)
        except StoreFault as fault:
            # Starting with no entries would delete every static flow from the switches (reconcile): not starting
            LOG.error('%s: cannot read the static flow entries at start; not starting', fault.reason)
            raise SystemExit(2) from None

    def start(self):
        thread = super().start()
        self.spawn_loop(self._watch_store)
        if isinstance(self.store, etcdstore.EtcdEntryStore):
            self.spawn_loop(self._watch_etcd)
        # Barrier replies (one per push, shared) skip Ryu's message object, event and the switch to this app's
        # thread when this app is the event's one observer (see fast_barrier_reply for the order of events).
        self.switches.take_messages(self, ofp_event.EventOFPBarrierReply, of10.OFPT_BARRIER_REPLY,
                                    self.fast_barrier_reply)
        return thread

    def stop(self):
        self.switches.release_messages(of10.OFPT_BARRIER_REPLY, self.fast_barrier_reply)
        super().stop()

    def _watch_store(self):
        """Another controller instance sharing the SQLite file may change entries (a REST push to the standby):
        pick its commits up, so the master installs what either instance acknowledged."""
        pause = self._store_watch_interval()
        next_recheck = 0.0
        while True:
            hub.sleep(pause)
            pause = self._store_watch_interval()
            try:
                if self.health.faulty(STORE) and time.monotonic() >= next_recheck:
                    next_recheck = time.monotonic() + STORE_RECHECK_INTERVAL
                    self._recheck_store()
                if self.store.changed_elsewhere():
                    started = time.monotonic()
                    self._apply(*self.pusher.sync(self.store.load(self._unreadable_row), time.time(),
                                                  parse_stored))
                    # a reload of a large table is paced: the loop sleeps STORE_RELOAD_PACE times what it took
                    pause = max(pause, (time.monotonic() - started) * STORE_RELOAD_PACE)
            except Exception:  # the watcher must outlive a bad row or a locked database
                LOG.exception('reading entries other instances committed to %s failed', self.store.path)

    def _store_watch_interval(self):
        return STORE_WATCH_INTERVAL if self.switches.store_shared else STORE_WATCH_ALONE_INTERVAL

    def _watch_etcd(self):
        """etcd: changes any instance committed arrive by the watch (from the start-up listing's revision on),
        and go to this instance's switches (the master's write; controller.roles)."""
        while True:
            try:
                self.store.watch(self._entries_changed, self._entries_compacted).run()
            except Exception:  # never let the watch die: pushes to other instances would stop arriving
                LOG.exception('the watch of entries in %s failed; starting it again', self.store.path)
            hub.sleep(STORE_WATCH_INTERVAL)

    def _entries_changed(self, events):
        rows, deleted = self.store.changes(events, self._unreadable_row)
        if rows or deleted:
            self._apply(*self.pusher.apply_changes(rows, deleted, time.time(), parse_stored))

    def _entries_compacted(self, revision):
        """The watch's revision was compacted away: read every entry again and apply the difference."""
        while True:
            try:
                rows = self.store.load(self._unreadable_row)
                break
            except StoreFault as fault:
                LOG.warning('%s; reading the entries again after a compaction (revision %d)', fault.reason, revision)
                hub.sleep(STORE_WATCH_INTERVAL)
        self._apply(*self.pusher.sync(rows, time.time(), parse_stored))
        return self.store.revision + 1

    def _apply(self, msgs, changed, failed):
        for name, error in failed:
            LOG.error('entry %r committed by another instance does not parse here (%s)', name, error)
        self._send(msgs)
        # etcd brings each change alone within milliseconds, the shared file is read every 20 ms: debug only
        LOG.debug('entries changed by another instance: now %d entries (%d added or changed)', len(self.table.entries),
                  changed)

    def _unreadable_row(self, name, error):
        LOG.error('stored entry %r skipped: %s (in %s)', name, error, self.store.path)

    # --- faults of the disk: health while they last, one log line per kind per interval -------------------

    def _store_failed(self, fault):
        self._faults.failed(fault, time.time())

    def _store_written(self):
        if self._faults.written():
            LOG.warning('entry store %s is written again', self.store.path)

    def _recheck_store(self):
        try:
            self.store.recheck()
        except StoreFault as fault:
            self._faults.still_failing(fault, time.time())
        else:
            self._store_written()

    def _write(self, method, *args):
        """A store write of a REST delete or clear: a fault of the disk is reported, then raised (503 or 507)."""
        try:
            method(*args)
        except StoreFault as fault:
            self._store_failed(fault)
            raise
        if self.health.faulty(STORE):
            self._store_written()

    def _timed_write(self, method, *args):
        started = time.monotonic()
        self._write(method, *args)
        self.metrics.commit_seconds.observe(time.monotonic() - started)

    def _send(self, msgs_by_dpid):
        msgs_by_dpid = self.pusher.outgoing(msgs_by_dpid)
        self.switches.send(msgs_by_dpid)
        self.pusher.sent(msgs_by_dpid, time.time())

    # --- REST side: commit, reply, then change the switches ------------------------------------------------

    def push(self, entry, dialect, reply):
        """Check and commit the entry, call reply() (the client's "Entry pushed"), then send its flow-mods, with
        no other green thread running between reply() and the send, so that the flow-mods of two pushes of one
        entry cannot be reordered. Raises EntryConflictError (409), or the commit's error, before reply().

        Group commit (controller.pusher): the first push opens a batch and yields once; pushes that run
        meanwhile join it and wait; the first commits them all in one transaction and sends every one's
        flow-mods; the others reply once it has (their flow-mods went out with the first's)."""
        batch, leader = self.pusher.join(entry, dialect)
        if not leader:
            commit = self._commits.get(batch)
            if commit is None:  # a push alone (one client) makes none
                commit = self._commits[batch] = _Commit()
            commit.done.wait()
            if commit.error is not None:
                raise commit.error
            reply()
            return
        error = None
        try:
            hub.sleep(0)  # the pushes already woken in this turn of the hub join the batch
            self.pusher.close(batch)
            started = time.monotonic()
            self.store.save_all(batch.rows())
            self.metrics.commit_seconds.observe(time.monotonic() - started)
            msgs_by_dpid = self.pusher.committed(batch, time.time())
        except BaseException as failure:  # also the leader's green thread killed in its yield: nothing committed
            self.pusher.close(batch)
            if isinstance(failure, StoreFault):
                self._store_failed(failure)
            error = failure if isinstance(failure, Exception) else RuntimeError(
                'the push that was to commit this one was stopped first (%s)' % type(failure).__name__)
            raise
        finally:
            commit = self._commits.pop(batch, None)
            if commit is not None:
                commit.error = error
                commit.done.set()
        if self.health.faulty(STORE):
            self._store_written()
        reply()
        for dpid in self.pusher.pushed(msgs_by_dpid):
            hub.spawn_after(self.pusher.barriers.delay, self._send_push_barrier, dpid)
        self._send(msgs_by_dpid)

    def _send_push_barrier(self, dpid):
        self._send(self.pusher.barriers.fire(dpid))

    def delete(self, name):
        self._timed_write(self.store.delete, name)
        self._send(self.pusher.delete(name))

    def clear(self, dpid):
        self._timed_write(self.store.clear, dpid)
        self._send(self.pusher.clear(dpid))

    def entry_status(self, dpid):
        return self.pusher.entry_status(dpid)

    # --- switch side ----------------------------------------------------------------------------------

    @set_ev_cls(EventSwitchReady)
    def switch_ready_handler(self, ev):
        msgs, read = self.pusher.switch_ready(ev.dpid)
        self._reconcile_started[ev.dpid] = time.monotonic()
        self._send(msgs)
        hub.spawn_after(cfg.CONF.reconcile_timeout, self._flow_stats_timeout, ev.dpid, read)

    def _flow_stats_timeout(self, dpid, read):
        done = self.pusher.read_timed_out(dpid, read, time.time())
        if done is not None:
            # A switch with no entries to get (cbench's fake switch never answers flow stats) is no news.
            LOG.log(logging.WARNING if done.flow_mods else logging.DEBUG,
                    'switch %s did not answer the flow table read within %g s: sending every entry',
                    format_dpid(dpid), cfg.CONF.reconcile_timeout)
            self._reconciled(done)

    @set_ev_cls(EventSwitchGone)
    def switch_gone_handler(self, ev):
        self._reconcile_started.pop(ev.dpid, None)
        self.pusher.switch_gone(ev.dpid, time.time())

    @set_ev_cls(ofp_event.EventOFPFlowStatsReply, MAIN_DISPATCHER)
    def flow_stats_reply_handler(self, ev):
        msg = ev.msg
        if self.switches.is_current(msg.datapath):
            self._reconciled(self.pusher.flow_stats_reply(
                msg.datapath.id, msg.xid, [of10.installed_flow(stats) for stats in msg.body],
                of10.is_last_stats_part(msg), time.time()))

    def _reconciled(self, done):
        if done is None:
            return
        started = self._reconcile_started.pop(done.dpid, None)
        if started is not None:
            self.metrics.reconcile_seconds.observe(time.monotonic() - started)
        self._send(done.msgs)
        written = self.switches.policy.may_write(done.dpid)
        self.switches.tracker.record(done.dpid, 'static_entries', time.time(), flows_read=done.flows_read,
                                     in_place=done.in_place, flow_mods=done.flow_mods, written=written,
                                     detail=done.story)
        # One INFO line per connect is the switches app's; this one only when there was something to reconcile.
        LOG.log(logging.INFO if done.flows_read or done.flow_mods else logging.DEBUG,
                'switch %s reconciled: %d flows read, %d entries in place, %d flow-mods %s',
                format_dpid(done.dpid), done.flows_read, done.in_place, done.flow_mods,
                'sent' if written else 'left to the master instance')

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def barrier_reply_handler(self, ev):
        if not self.switches.is_current(ev.msg.datapath):
            return  # a held newcomer's reply to an xid it never got from us confirms nothing (apps/switches)
        self.pusher.barrier_reply(ev.msg.datapath.id, ev.msg.xid, time.time())

    def fast_barrier_reply(self, ryu_dp, buf, offset, msg_len):
        """A BARRIER_REPLY straight from the session's receive loop: what barrier_reply_handler does, without
        the event. Only when this app has no event waiting (an error reply or a switch event queued before it
        must be handled first): -> False leaves it to the event."""
        if not self.events.empty():
            return False
        if not self.switches.is_current(ryu_dp):
            return True  # as barrier_reply_handler: only the holding session's replies count
        try:
            self.pusher.barrier_reply(ryu_dp.id, of10.xid_at(buf, offset), time.time())
        except Exception:  # as a failing event handler: logged, the session goes on
            LOG.exception('switch %s: barrier reply failed', format_dpid(ryu_dp.id))
        return True

    @set_ev_cls(ofp_event.EventOFPFlowRemoved, MAIN_DISPATCHER)
    def flow_removed_handler(self, ev):
        msg = ev.msg
        if not self.switches.is_current(msg.datapath):
            return  # only the session that holds the switch may delete a stored entry (no takeover: apps/switches)
        dpid = msg.datapath.id
        name = self.pusher.flow_removed(dpid, msg.reason, msg.cookie, msg.priority, of10.match_key(msg.match))
        if name is not None:
            try:
                # etcd: guarded by this instance's claim on the switch (its generation): a former master whose
                # lease ran out deletes nothing its successor keeps
                if self.store.delete(name, guard=self.switches.leases.guard(dpid)) is False:
                    LOG.warning('static flow %s on %s expired, but this instance is no longer the switch\'s master: '
                                'the entry is left to the master', name, format_dpid(dpid))
                    return
            except StoreFault as fault:
                self._store_failed(fault)
                return
            LOG.info('static flow %s on %s expired; entry removed', name, format_dpid(dpid))

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def error_handler(self, ev):
        msg = ev.msg
        if not self.switches.is_current(msg.datapath):
            return  # entry status is the holding session's word (a held newcomer's errors are not about our writes)
        dpid = msg.datapath.id
        name, error = self.pusher.switch_error(dpid, msg.xid, msg.type, msg.code, time.time())
        if name is None and len(msg.data or b'') >= of10.HEADER_SIZE and of10.type_of(msg.data) == of10.OFPT_VENDOR:
            return  # a refused Nicira role request: the switches app records it (a switch without roles)
        LOG.error('switch %s rejected %s (xid %s): %s %s', format_dpid(dpid),
                  'static flow entry %r' % name if name else 'a message', msg.xid, error['type_name'],
                  error['code_name'])


def open_store(path, power_safe, recover):
    """The entry store at start-up. A damaged file stops the start (exit status 2) with one error line naming it
    and what to do, unless `recover` (--staticflow-db-recover): then its readable rows go into a fresh file and
    the damaged one is kept beside it."""
    try:
        return EntryStore(path, power_safe=power_safe)
    except StoreDamaged as damaged:
        if not recover:
            LOG.error('%s', damaged)
            raise SystemExit(2) from None
        LOG.warning('static flow database %s is damaged (%s): recovering its readable rows (--staticflow-db-recover)',
                    path, damaged.detail)
    kept, copy = entrystore.recover(path, time.time())
    LOG.warning('static flow database %s recovered: %d rows kept in a fresh file; the damaged file is kept as %s',
                path, kept, copy)
    return EntryStore(path, power_safe=power_safe)


def parse_stored(dialect_name, request):
    """floodlight.parse_stored_entry of a row read back, which names a dialect this version knows (ValueError
    otherwise: the row is logged and skipped, the others are restored)."""
    if dialect_name not in floodlight.DIALECTS:
        raise ValueError('unknown dialect %r' % (dialect_name,))
    return floodlight.parse_stored_entry(dialect_name, request)
