"""Static flow pusher glue: REST calls and switch events in, flow-mods out, entries kept in SQLite."""
import json
import logging
import time

from ryu import cfg
from ryu.app.wsgi import WSGIApplication
from ryu.base import app_manager
from ryu.controller import ofp_event
from ryu.controller.handler import MAIN_DISPATCHER, set_ev_cls
from ryu.lib import hub

from apps.events import EventSwitchGone, EventSwitchReady
from apps.background import BackgroundLoops
from apps.switches import SwitchesApp
from controller import of10, options
from controller.dpid import format_dpid
from controller.entrystatus import EntryStatus
from controller.entrystore import EntryStore
from controller.flowentry import is_static_flow_cookie
from controller.staticflow import EntryConflictError, PendingPushes, StaticFlowTable
from rest import floodlight
from rest import staticflow as staticflow_rest

LOG = logging.getLogger(__name__)
STORE_WATCH_INTERVAL = 1.0  # seconds between checks for commits by another instance sharing the store
DIALECTS = {d.name: d for d in (floodlight.DIALECT_V0, floodlight.DIALECT_V1)}


class StaticFlowApp(BackgroundLoops, app_manager.RyuApp):
    OFP_VERSIONS = [of10.OFP_VERSION]
    _CONTEXTS = {'wsgi': WSGIApplication, 'switches': SwitchesApp}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        options.register()
        self.switches = kwargs['switches']
        self.table = StaticFlowTable()
        self.status = EntryStatus(records=self.table.records)  # statuses live in the table's records
        self.store = EntryStore(cfg.CONF.staticflow_db)
        # dpid -> (xid of our flow stats request, InstalledFlows so far, names whose flow-mods went out after it)
        self._flow_stats = {}
        self._barrier_due = set()  # dpids with a shared push barrier on its way (see send_pushed)
        self._pending = None       # the open group commit's PendingPushes (see commit_push)
        self._restore()
        wsgi = kwargs['wsgi']
        staticflow_rest.register_routes(wsgi, self)

    def start(self):
        thread = super().start()
        self.spawn_loop(self._watch_store)
        self._register_fast_barrier_reply()
        return thread

    def _register_fast_barrier_reply(self):
        """Barrier replies (one per REST push) skip Ryu's message object, event and the switch to this app's
        thread (see fast_barrier_reply for the order of events)."""
        self.switches.take_messages(self, ofp_event.EventOFPBarrierReply, of10.OFPT_BARRIER_REPLY,
                                    self.fast_barrier_reply)

    def stop(self):
        self.switches.release_messages(of10.OFPT_BARRIER_REPLY, self.fast_barrier_reply)
        super().stop()

    def _watch_store(self):
        """Another controller instance sharing the SQLite file may change entries (a REST push to the standby):
        pick its commits up, so the master installs what either instance acknowledged."""
        while True:
            hub.sleep(STORE_WATCH_INTERVAL)
            try:
                if self.store.changed_elsewhere():
                    self._sync_from_store()
            except Exception:  # the watcher must outlive a bad row or a locked database
                LOG.exception('reading entries other instances committed to %s failed', self.store.path)

    def _sync_from_store(self):
        stored = {request.get('name'): (dialect, request) for dialect, request in self.store.load()}
        now = time.time()
        for name in [n for n in self.table.names() if n not in stored]:
            self.status.forget(name)
            self.send_messages(self.table.delete(name))
        changed = 0
        for name, (dialect_name, request) in stored.items():
            # The table keeps a digest of each entry's request text (json.dumps of the request, as parse_entry
            # makes it), not the text: the same dumps of the stored request tells an unchanged entry.
            if self.table.same_request(name, json.dumps(request)):
                continue
            try:
                entry = floodlight.parse_entry(request, DIALECTS.get(dialect_name, floodlight.DIALECT_V1))
            except floodlight.FlowValidationError as error:
                LOG.error('entry %r committed by another instance does not parse here (%s)', name, error)
                continue
            msgs = self.table.push(entry)
            self.status.stored(entry, entry.dpid in self.table.connected, now)
            self.send_messages(msgs)
            changed += 1
        LOG.info('entries changed by another instance: now %d entries (%d added or changed)', len(stored), changed)

    def _restore(self):
        """Read back every committed entry; one the parser now rejects is logged and skipped, not fatal."""
        now = time.time()
        for dialect_name, request in self.store.iter_load():
            try:
                entry = floodlight.parse_entry(request, DIALECTS.get(dialect_name, floodlight.DIALECT_V1))
            except floodlight.FlowValidationError as error:
                LOG.error('stored entry %r no longer parses (%s); left in %s', request.get('name'), error,
                          self.store.path)
                continue
            self.table.push(entry)
            self.status.stored(entry, False, now)
        LOG.info('%d static flow entries restored from %s', len(self.table.entries), self.store.path)

    def send_messages(self, msgs_by_dpid):
        """Queue the messages (runs of entry flow-mods batched, see of10.batch_flow_mods), then note which
        entry each flow-mod's xid belongs to."""
        msgs_by_dpid = {dpid: of10.batch_flow_mods(msgs) for dpid, msgs in msgs_by_dpid.items()}
        self.switches.send(msgs_by_dpid)
        now = time.time()
        for dpid, msgs in msgs_by_dpid.items():
            pending = self._flow_stats.get(dpid)
            for msg in msgs:
                if not isinstance(msg, of10.ENTRY_MESSAGES):
                    continue
                if pending is not None:
                    pending[2].update(msg.entry_names())  # the flow table on its way predates these flow-mods
                for name, xid in msg.sent_entries():
                    if name in self.table:
                        self.status.flow_mod_sent(name, dpid, xid, now)

    # --- REST side: commit first, then change the switches ----------------------------------------------

    def push(self, entry, dialect):
        self.send_pushed(self.commit_push(entry, dialect))

    def send_pushed(self, msgs_by_dpid):
        """send_messages for pushes: their flow-mods at once, without their barriers; one barrier per switch
        follows --push-barrier-delay seconds later, shared with every push to that switch meanwhile: at thousands
        of pushes a second, a barrier and its reply per push were a sixth of the controller's work. A barrier reply
        confirms every flow-mod sent before its barrier (controller.entrystatus), so each entry still turns
        `installed` on the first reply after it."""
        delay = cfg.CONF.push_barrier_delay
        if delay <= 0:
            return self.send_messages(msgs_by_dpid)
        for dpid, msgs in msgs_by_dpid.items():
            msgs[:] = [msg for msg in msgs if not of10.is_barrier(msg)]
            if dpid not in self._barrier_due:
                self._barrier_due.add(dpid)
                hub.spawn_after(delay, self._send_push_barrier, dpid)
        self.send_messages(msgs_by_dpid)

    def _send_push_barrier(self, dpid):
        self._barrier_due.discard(dpid)
        self.send_messages({dpid: [of10.barrier()]})

    def commit_push(self, entry, dialect):
        """Check an entry, commit it and take it into the table -> the messages for send_pushed.

        Group commit: pushes that arrive together (several REST clients, woken in the same turn of the hub)
        share one SQLite transaction. The first one (the leader) opens a batch and yields once; the pushes
        that run meanwhile are checked against the table and the batch and join it; the leader commits them
        all, takes them into the table in arrival order and returns every batched push's messages, in that
        order. The others wait for that commit and return {} (their flow-mods are in the leader's), or raise
        its error. No push is acknowledged before its commit. The caller must send what it gets before it
        next yields (the REST fast path answers its client in between, without yielding), so that the
        flow-mods of one entry cannot be reordered.
        """
        batch = self._pending
        leader = batch is None
        if leader:
            batch = self._pending = PendingPushes()
        try:
            other = self.table.conflicting_entry(entry, batch)
            if other is not None:
                raise EntryConflictError('entry %s already has this match and priority on switch %s; OpenFlow '
                                         '1.0 keeps one flow for both, so change the priority or delete %s first'
                                         % (other, format_dpid(entry.dpid), other))
        except Exception:
            if leader:
                self._pending = None  # nothing joined: the leader has not yielded yet
            raise
        batch.add(entry, dialect, self.table.flow_key_of(entry))
        if not leader:
            if batch.committed is None:  # made by the first to wait: a push alone (one client) makes none
                batch.committed = hub.Event()
            batch.committed.wait()
            if batch.error is not None:
                raise batch.error
            return {}
        try:
            hub.sleep(0)  # the pushes already woken in this turn of the hub join the batch
            self._pending = None
            self.store.save_all([(e, d.name) for e, d in batch.items])
            msgs_by_dpid = {}
            now = time.time()
            for pending_entry, _ in batch.items:
                for dpid, msgs in self.table.push(pending_entry).items():
                    msgs_by_dpid.setdefault(dpid, []).extend(msgs)
                self.status.stored(pending_entry, pending_entry.dpid in self.table.connected, now)
            return msgs_by_dpid
        except BaseException as error:  # also the leader's green thread killed in its yield: nothing committed
            if self._pending is batch:
                self._pending = None
            batch.error = error if isinstance(error, Exception) else RuntimeError(
                'the push that was to commit this one was stopped first (%s)' % type(error).__name__)
            raise
        finally:
            if batch.committed is not None:
                batch.committed.set()

    def delete(self, name):
        self.store.delete(name)
        self.status.forget(name)
        self.send_messages(self.table.delete(name))

    def clear(self, dpid):
        self.store.clear(dpid)
        for name in self.table.names(dpid):
            self.status.forget(name)
        self.send_messages(self.table.clear(dpid))

    def list(self, dpid):
        return self.table.entries_by_dpid(dpid)

    def entry_status(self, dpid):
        """{dpid: {name: status}} of every stored entry (inactive ones included)."""
        out = {}
        for name in sorted(self.table.names(dpid)):  # names only: no FlowEntry is rebuilt for the status
            out.setdefault(self.table.dpid_of(name), {})[name] = self.status.get(name)
        if dpid is not None:
            out.setdefault(dpid, {})
        return out

    # --- switch side ----------------------------------------------------------------------------------

    @set_ev_cls(EventSwitchReady)
    def switch_ready_handler(self, ev):
        msgs = self.table.switch_connected(ev.dpid)
        self.switches.send(msgs)
        pending = self._flow_stats[ev.dpid] = (msgs[ev.dpid][0].xid, [], set())
        hub.spawn_after(cfg.CONF.reconcile_timeout, self._flow_stats_timeout, ev.dpid, pending)

    def _flow_stats_timeout(self, dpid, pending):
        """A switch that never answers the flow stats request (or never finishes the reply) still gets its
        entries: after --reconcile-timeout seconds they are all sent, as if its table were empty."""
        if self._flow_stats.get(dpid) is not pending:
            return  # answered, disconnected, or asked again since
        LOG.warning('switch %s did not answer the flow table read within %g s: sending every entry',
                    format_dpid(dpid), cfg.CONF.reconcile_timeout)
        del self._flow_stats[dpid]
        self._reconcile(dpid, [], pending[2], 'no answer to the flow table read: every entry sent')

    @set_ev_cls(EventSwitchGone)
    def switch_gone_handler(self, ev):
        self.table.switch_disconnected(ev.dpid)
        self.status.switch_gone(ev.dpid, time.time())
        self._flow_stats.pop(ev.dpid, None)

    @set_ev_cls(ofp_event.EventOFPFlowStatsReply, MAIN_DISPATCHER)
    def flow_stats_reply_handler(self, ev):
        msg = ev.msg
        dpid = msg.datapath.id
        pending = self._flow_stats.get(dpid)
        if pending is None or pending[0] != msg.xid or not self.switches.is_current(msg.datapath):
            return
        pending[1].extend(of10.installed_flow(stats) for stats in msg.body)
        if not of10.is_last_stats_part(msg):
            return
        del self._flow_stats[dpid]
        self._reconcile(dpid, pending[1], pending[2])

    def _reconcile(self, dpid, installed, sent_since, story=None):
        msgs, in_place = self.table.reconcile(dpid, installed, sent_since=sent_since)
        now = time.time()
        for name in in_place:
            self.status.seen_installed(name, dpid, now)
        self.send_messages(msgs)
        flow_mods = len(msgs.get(dpid, [])) - 1
        if story is None:
            story = _reconcile_story(flow_mods, installed, in_place)
        self.switches.tracker.record(dpid, 'static_entries', now, flows_read=len(installed),
                                     in_place=len(in_place), flow_mods=flow_mods,
                                     written=self.switches.may_write(dpid), detail=story)
        LOG.info('switch %s reconciled: %d flows read, %d entries in place, %d flow-mods %s',
                 format_dpid(dpid), len(installed), len(in_place), flow_mods,
                 'sent' if self.switches.may_write(dpid) else 'left to the master instance')

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def barrier_reply_handler(self, ev):
        self.status.barrier_reply(ev.msg.datapath.id, ev.msg.xid, time.time())

    def fast_barrier_reply(self, ryu_dp, buf, offset, msg_len):
        """A BARRIER_REPLY straight from the session's receive loop (apps/session.py): what
        barrier_reply_handler does, without the event. Only when this app has no event waiting (an error
        reply or a switch event queued before it must be handled first): -> False leaves it to the event."""
        if not self.events.empty():
            return False
        try:
            self.status.barrier_reply(ryu_dp.id, of10.xid_at(buf, offset), time.time())
        except Exception:  # as a failing event handler: logged, the session goes on
            LOG.exception('barrier reply from %s failed', ryu_dp.id)
        return True

    @set_ev_cls(ofp_event.EventOFPFlowRemoved, MAIN_DISPATCHER)
    def flow_removed_handler(self, ev):
        msg = ev.msg
        if not of10.is_expiry(msg.reason):
            return
        name = self.table.remove_expired(msg.datapath.id, msg.cookie, msg.priority, of10.match_key(msg.match))
        if name is not None:
            self.store.delete(name)
            self.status.forget(name)
            LOG.info('static flow %s on %s expired; entry removed', name, format_dpid(msg.datapath.id))

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def error_handler(self, ev):
        msg = ev.msg
        dpid = msg.datapath.id
        type_name, code_name = of10.describe_error(msg.type, msg.code)
        error = {'type': msg.type, 'code': msg.code, 'type_name': type_name, 'code_name': code_name}
        name = self.status.error(dpid, msg.xid, error, time.time())
        LOG.error('switch %s rejected %s (xid %s): %s %s', format_dpid(dpid),
                  'static flow entry %r' % name if name else 'a message', msg.xid, type_name, code_name)


def _reconcile_story(flow_mods, installed, in_place):
    """What a connect-time reconcile found, for the switch's timeline."""
    if flow_mods == 0:
        return 'every static flow in place: nothing sent'
    if not in_place and not any(is_static_flow_cookie(flow.cookie) for flow in installed):
        return 'the switch had no static flow left (flushed by fail-open or a restart): full push'
    return 'static flows repaired'
