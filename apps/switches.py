"""Switch sessions: the connection tracker's glue. Accepts primaries, dials service listeners, reads OVSDB,
holds the mastership leases, requests Nicira roles, and is the one way other apps send to a switch."""
import collections
import logging
import os
import socket
import sqlite3
import time
import uuid

from ryu import cfg
from ryu.base import app_manager
from ryu.controller import controller as ryu_controller
from ryu.controller import ofp_event
from ryu.controller.handler import DEAD_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from ryu.lib import hub

from apps.background import BackgroundLoops
from apps.events import EventSwitchGone, EventSwitchReady
from controller import connections, mastership, ofmsgs, options, ovsdb
from controller.connections import ConnectionTracker
from controller.dpid import format_dpid

LOG = logging.getLogger(__name__)
CONF = cfg.CONF


class RecvClock:
    """Wraps a switch's socket to note when the switch last sent anything: a standalone bridge fails open
    3 x inactivity_probe after the last message it received, and the tracker shows when that will be.

    `service_target` is set on sockets the controller dialed itself (service sessions).
    The socket methods a session uses are bound once here: a __getattr__ on every call was 13% of the
    packet-in profile. Anything else still reaches the socket through __getattr__.
    """
    BOUND = ('sendall', 'send', 'shutdown', 'close', 'settimeout', 'gettimeout', 'setsockopt', 'fileno',
             'getpeername', 'getsockname', 'fd')
    __slots__ = ('sock', 'last_received', 'service_target') + BOUND

    def __init__(self, sock, service_target=None):
        self.sock = sock
        self.last_received = time.time()
        self.service_target = service_target
        for name in self.BOUND:
            value = getattr(sock, name, None)
            if value is not None:  # a TLS socket has no `fd`: left unset, so reading it raises as before
                setattr(self, name, value)

    def recv(self, size):
        data = self.sock.recv(size)
        if data:
            self.last_received = time.time()
        return data

    def __getattr__(self, name):
        return getattr(self.sock, name)


def _track_last_received():
    """Every session ryu builds (inbound or dialed) reads its switch through a RecvClock."""
    original_init = ryu_controller.Datapath.__init__
    if getattr(original_init, 'tracks_last_received', False):
        return

    def init(self, sock, address):
        original_init(self, sock if isinstance(sock, RecvClock) else RecvClock(sock), address)
    init.tracks_last_received = True
    ryu_controller.Datapath.__init__ = init


_track_last_received()


class Outbox:
    """Messages for one session, in order, never blocking the sender.

    Ryu's send queue holds 16 messages and blocks the sender when full; here a switch that reconciles ten
    thousand entries never stalls an event handler, the REST API or another switch. Xids are set at `put`, in
    order (the caller learns them at once). When nothing is queued, a small batch is written at once: each
    message serialized and handed to the session's writer (controller.hardening.Writer, which never blocks and
    coalesces what a receive chunk produces into one socket write). A large batch, or one behind queued
    messages, is drained by a green thread DRAIN_SLICE messages at a time, letting other threads run between.
    """
    DIRECT_LIMIT = 64
    DRAIN_SLICE = 256

    def __init__(self, ryu_dp):
        self.ryu_dp = ryu_dp
        self.queue = collections.deque()
        self.sender = None

    def put(self, msgs):
        ryu_dp = self.ryu_dp
        for msg in msgs:
            msg.datapath = ryu_dp
            ryu_dp.set_xid(msg)  # xids in queue order, known to the caller at once
        if self.sender is None and len(msgs) <= self.DIRECT_LIMIT:
            if ryu_dp.is_active and msgs:
                for msg in msgs:
                    msg.serialize()
                # One write (one syscall) for the batch: a push's flow-mod and barrier leave together.
                ryu_dp.send(msgs[0].buf if len(msgs) == 1 else b''.join([msg.buf for msg in msgs]))
            return
        self.queue.extend(msgs)
        if self.sender is None:
            self.sender = hub.spawn(self._drain)

    def _drain(self):
        ryu_dp, queue = self.ryu_dp, self.queue
        try:
            while queue and ryu_dp.is_active:
                for _ in range(min(len(queue), self.DRAIN_SLICE)):
                    msg = queue.popleft()
                    msg.serialize()
                    ryu_dp.send(msg.buf)
                hub.sleep(0)
        finally:
            self.sender = None
        if not ryu_dp.is_active:
            queue.clear()


class SwitchesApp(BackgroundLoops, app_manager.RyuApp):
    """Owns the connection tracker. Other apps get it as a context and send through `send`."""
    OFP_VERSIONS = [ofmsgs.OFP_VERSION]
    _EVENTS = [EventSwitchReady, EventSwitchGone]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        options.register()
        self.tracker = ConnectionTracker(default_fail_mode=CONF.default_fail_mode)
        self.instance_id = mastership.owner_id(socket.gethostname(), os.getpid(), uuid.uuid4().hex[:8])
        self.configured_role = CONF.controller_role          # master | slave | equal; POST /wm/core/role/json
        self.role_changed = (time.time(), 'Controller startup.')
        os.makedirs(os.path.dirname(os.path.abspath(CONF.staticflow_db)), exist_ok=True)
        self.leases = mastership.MastershipLeases(CONF.staticflow_db + '-mastership', self.instance_id,
                                                  mastership.dead_on_this_host(socket.gethostname()))
        self.held = {}          # dpid -> lease expiry: the switches this instance may write to
        self.demoted = set()    # dpids where a switch told us we are not master (EPERM, OVSDB role)
        self._role_xids = {}    # xid of a role request -> Outbox it went to

    def start(self):
        thread = super().start()
        self.spawn_loop(self._lease_loop)
        if CONF.ovsdb and CONF.ovsdb != 'none':
            self.spawn_loop(self._ovsdb_loop)
        for target in CONF.service_switches:
            host, _, port = target.strip().rpartition(':')
            if not host or not port.isdigit():
                LOG.error('--service-switches: %r is not HOST:PORT; skipped', target)
                continue
            self.spawn_loop(self._dial_loop, host.strip('[]'), int(port))
        return thread

    # --- sessions -----------------------------------------------------------------------------------------

    @set_ev_cls(ofp_event.EventOFPStateChange, [MAIN_DISPATCHER, DEAD_DISPATCHER])
    def state_change_handler(self, ev):
        ryu_dp = ev.datapath
        if ev.state == MAIN_DISPATCHER:
            self._switch_up(ryu_dp)
        elif ryu_dp.id is not None:
            self._switch_down(ryu_dp)

    def _switch_up(self, ryu_dp):
        now = time.time()
        service_target = getattr(ryu_dp.socket, 'service_target', None)
        kind = connections.SERVICE if service_target else connections.PRIMARY
        remote = service_target or ('%s:%s' % tuple(ryu_dp.address[:2]) if ryu_dp.address else '')
        outbox = Outbox(ryu_dp)
        replaced = self.tracker.connect(ryu_dp.id, outbox, kind, remote, now)
        if replaced is not None:
            LOG.warning('switch %s: a newer %s session from %s replaces the one from %s (same DPID); closing the '
                        'older', format_dpid(ryu_dp.id), kind, remote, replaced.remote)
            replaced.handle.ryu_dp.close()
        LOG.info('switch %s connected from %s (%s)', format_dpid(ryu_dp.id), remote, kind)
        if kind == connections.PRIMARY:
            self.demoted.discard(ryu_dp.id)  # a new primary session starts as OTHER: the demotion is history
        # OVS stays in fail-open until the controller sends something beyond the handshake: a barrier at once.
        # GET_CONFIG's miss_send_len then confirms the kind (it honours a Controller `type` override).
        outbox.put([ofmsgs.barrier(), ofmsgs.get_config_request()])
        self._renew_leases(now, connecting=ryu_dp.id)
        self._apply_roles()
        others = [c for c in self.tracker.sessions(ryu_dp.id) if c.handle is not outbox]
        if kind == connections.PRIMARY or not others:
            # A primary's arrival may follow a fail-open flush: the static flows are checked again.
            self.send_event_to_observers(EventSwitchReady(ryu_dp.id))

    def _switch_down(self, ryu_dp):
        conn = self.tracker.find(self._outbox_of(ryu_dp))
        if conn is None:
            return
        now = time.time()
        self.tracker.disconnect(conn.handle, now, getattr(ryu_dp.socket, 'last_received', None))
        LOG.info('switch %s disconnected (%s session from %s)', format_dpid(conn.dpid), conn.kind, conn.remote)
        if not self.tracker.sessions(conn.dpid):
            self.send_event_to_observers(EventSwitchGone(conn.dpid))

    def _outbox_of(self, ryu_dp):
        for conn in self.tracker.live.values():
            if conn.handle.ryu_dp is ryu_dp:
                return conn.handle
        return None

    @set_ev_cls(ofp_event.EventOFPGetConfigReply, MAIN_DISPATCHER)
    def get_config_reply_handler(self, ev):
        msg = ev.msg
        outbox = self._outbox_of(msg.datapath)
        if outbox is None:
            return
        kind = connections.classify_miss_send_len(msg.miss_send_len)
        conn = self.tracker.find(outbox)
        was = conn.kind
        replaced = self.tracker.reclassify(outbox, kind, time.time(),
                                           'GET_CONFIG miss_send_len=%d' % msg.miss_send_len)
        if was != kind:
            LOG.warning('switch %s: session from %s is %s by miss_send_len=%d, not %s (Controller type override)',
                        format_dpid(conn.dpid), conn.remote, kind, msg.miss_send_len, was)
            if replaced is not None:
                replaced.handle.ryu_dp.close()
            self._apply_roles()

    # --- roles --------------------------------------------------------------------------------------------

    def may_write(self, dpid):
        """Only the master instance of a switch changes it (or every instance, configured `equal`)."""
        if self.configured_role == 'equal':
            return True
        return dpid in self.held and dpid not in self.demoted

    def _desired_role(self, dpid):
        if self.configured_role == 'equal':
            return connections.OTHER
        return connections.MASTER if self.may_write(dpid) else connections.SLAVE

    def _apply_roles(self):
        """Send a role request to every primary session whose requested role is not the one it should have.

        Service sessions are left alone: a MASTER request from one would demote the switch's primaries.
        """
        for conn in list(self.tracker.live.values()):
            if conn.kind != connections.PRIMARY or conn.roles_unsupported:
                continue
            role = self._desired_role(conn.dpid)
            if conn.requested_role != role:
                conn.requested_role = role
                conn.role_requested_at = time.time()
                request = ofmsgs.role_request(role)
                conn.handle.put([request])
                self._role_xids[request.xid] = conn.handle

    @set_ev_cls(ofp_event.EventOFPVendor, MAIN_DISPATCHER)
    def vendor_handler(self, ev):
        """ryu hands a Nicira role reply over as an OFPVendor whose `data` is the parsed NXTRoleReply."""
        msg = ev.msg
        role_number = ofmsgs.role_reply_role(msg)
        if role_number is None:
            return
        outbox = self._outbox_of(msg.datapath)
        self._role_xids.pop(msg.xid, None)
        if outbox is not None:
            role = ofmsgs.ROLE_NAMES.get(role_number, connections.OTHER)
            conn = self.tracker.set_role(outbox, role, time.time(), 'role reply')
            if conn is not None:
                LOG.info('switch %s: this controller is now %s', format_dpid(conn.dpid), role.upper())

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def error_handler(self, ev):
        msg = ev.msg
        outbox = self._role_xids.pop(msg.xid, None)
        now = time.time()
        if outbox is not None:
            conn = self.tracker.find(outbox)
            if conn is not None:
                # Floodlight's rule: a switch that rejects the role request has no roles; act as its master.
                conn.roles_unsupported = True
                self.tracker.record(conn.dpid, 'role', now, kind=conn.kind, remote=conn.remote,
                                    reason='switch rejected the Nicira role request: no role support')
            return
        # Only a surprise counts: an EPERM for something sent while this instance believed it was the master.
        if ofmsgs.is_slave_rejection(msg.type, msg.code) and self.may_write(msg.datapath.id):
            self._demote(msg.datapath.id, 'the switch answered EPERM: another controller is its master', now)

    def _demote(self, dpid, reason, now):
        if dpid in self.demoted:
            return
        LOG.warning('switch %s: %s; this instance stops writing to it until it reconnects or the role is set '
                    'again', format_dpid(dpid), reason)
        self.demoted.add(dpid)
        for conn in self.tracker.sessions(dpid):
            if conn.kind == connections.PRIMARY:
                self.tracker.set_role(conn.handle, connections.SLAVE, now, reason)
                conn.requested_role = connections.SLAVE  # the switch already has us as slave
        self._renew_leases(now)

    def set_configured_role(self, role, description):
        """POST /wm/core/role/json: master | slave | equal."""
        self.configured_role = role
        self.role_changed = (time.time(), description)
        self.demoted.clear()
        self._renew_leases(time.time())
        self._apply_roles()

    # --- mastership leases --------------------------------------------------------------------------------

    def _lease_loop(self):
        while True:
            hub.sleep(CONF.mastership_renew)
            try:
                self._renew_leases(time.time())
                self._apply_roles()
            except Exception:  # never let the loop die: a dead loop would silently drop mastership
                LOG.exception('mastership renewal failed')

    def _renew_leases(self, now, connecting=None):
        wanted = set()
        if self.configured_role == 'master':
            wanted = {dpid for dpid in self.tracker.dpids() if dpid not in self.demoted}
        released = set(self.held) - wanted
        try:
            held = self.leases.renew(wanted, released, now, CONF.mastership_lease)
        except sqlite3.OperationalError as error:
            LOG.debug('mastership store busy (%s); keeping leases until they expire', error)
            held = {d: t for d, t in self.held.items() if t > now and d in wanted}
        gained = set(held) - set(self.held)
        lost = set(self.held) - set(held)
        self.held = held
        for dpid in sorted(gained):
            self.tracker.record(dpid, 'mastership', now, instance=self.instance_id, held=True)
        for dpid in sorted(lost):
            self.tracker.record(dpid, 'mastership', now, instance=self.instance_id, held=False)
            LOG.info('switch %s: this instance is no longer its master', format_dpid(dpid))
        # A switch this instance just took over (not one that only now connected) is checked against the
        # stored entries at once: the old master may have been behind.
        for dpid in sorted(gained):
            if dpid != connecting and self.tracker.current(dpid) is not None:
                LOG.info('switch %s: this instance is now its master', format_dpid(dpid))
                self.send_event_to_observers(EventSwitchReady(dpid))

    def lease_holders(self):
        return self.leases.holders(time.time())

    # --- OVSDB ---------------------------------------------------------------------------------------------

    def _ovsdb_loop(self):
        failing = False
        while True:
            try:
                facts = ovsdb.query(CONF.ovsdb)
            except (OSError, ValueError, ovsdb.OvsdbError) as error:
                if not failing:
                    LOG.warning('OVSDB at %s unreachable (%s): fail modes fall back to --default-fail-mode=%s',
                                CONF.ovsdb, error, CONF.default_fail_mode)
                failing = True
                self.tracker.ovsdb_unreachable('%s' % error)
            else:
                if failing:
                    LOG.info('OVSDB at %s reachable again', CONF.ovsdb)
                failing = False
                self.tracker.update_bridges(facts, time.time())
                self._check_ovsdb_roles(facts)
            hub.sleep(CONF.ovsdb_poll_interval)

    def _check_ovsdb_roles(self, facts):
        """OVSDB's `role` of our own row (matched by our listening port) says slave while we think master."""
        ports = {CONF.ofp_tcp_listen_port} if CONF.ofp_tcp_listen_port else {6633, 6653}
        now = time.time()
        for dpid, bridge in facts.items():
            conn = self.tracker.live.get((dpid, connections.PRIMARY))
            if conn is None or conn.role != connections.MASTER:
                continue
            if now - conn.role_requested_at < 10:
                continue  # OVSDB's status columns lag by up to 5 s
            for row in bridge.controllers:
                port = row['target'].rpartition(':')[2]
                if row['primary'] and port.isdigit() and int(port) in ports and row['role'] == 'slave':
                    self._demote(dpid, 'OVSDB shows role=slave for %s' % row['target'], now)

    # --- service sessions ----------------------------------------------------------------------------------

    def _dial_loop(self, host, port):
        """Keep a service session to one switch listener: OVS never redials a service controller."""
        target = '%s:%d' % (host, port)
        backoff = 1.0
        reported = False
        while True:
            started = time.time()
            try:
                sock = socket.create_connection((host, port), timeout=5)
                sock.settimeout(None)
            except OSError as error:
                if not reported:
                    LOG.warning('service switch %s unreachable (%s); redialing with backoff up to %.0f s', target,
                                error, CONF.service_max_backoff)
                    reported = True
            else:
                reported = False
                LOG.info('dialed service switch %s', target)
                ryu_controller.datapath_connection_factory(RecvClock(sock, service_target=target), (host, port))
                if time.time() - started > backoff:
                    backoff = 1.0  # the session outlived the backoff: start over at 1 s, as OVS's rconn does
            hub.sleep(backoff)
            backoff = min(backoff * 2, CONF.service_max_backoff)

    # --- sending --------------------------------------------------------------------------------------------

    def send(self, msgs_by_dpid):
        """Queue {dpid: [msgs]} for the session of each switch (primary first), in order; xids are set on return.

        Switches that are not connected are skipped. Where this instance is not the master, messages that would
        change the switch are dropped (their xid stays None): the master instance installs the same entries.
        """
        for dpid, msgs in msgs_by_dpid.items():
            conn = self.tracker.current(dpid)
            if conn is None:
                continue
            if not self.may_write(dpid):
                msgs = [m for m in msgs if not ofmsgs.is_write(m)]
            conn.handle.put(msgs)

    def is_current(self, ryu_dp):
        conn = self.tracker.current(ryu_dp.id)
        return conn is not None and conn.handle.ryu_dp is ryu_dp

    def sessions(self):
        """The session each connected switch is talked to through (the switches list shows these)."""
        return [self.tracker.current(dpid) for dpid in self.tracker.dpids()]

    def switch_roles(self):
        """{dpid: 'MASTER'|'SLAVE'|'EQUAL'} as the switches see this instance (Floodlight's names)."""
        names = {connections.MASTER: 'MASTER', connections.SLAVE: 'SLAVE', connections.OTHER: 'EQUAL'}
        out = {}
        for dpid in self.tracker.dpids():
            conn = self.tracker.live.get((dpid, connections.PRIMARY)) or self.tracker.current(dpid)
            if conn.roles_unsupported or conn.kind == connections.SERVICE:
                out[dpid] = 'MASTER' if self.may_write(dpid) else 'SLAVE'
            else:
                out[dpid] = names[conn.role]
        return out
