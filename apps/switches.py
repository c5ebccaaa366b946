"""Switch sessions: the connection tracker's glue. Installs the session factory (apps/session.py), dials service
listeners, reads OVSDB, holds the mastership leases, requests Nicira roles, and is the one way other apps send to
a switch. Every decision is in controller.connections (the tracker) and controller.roles (who writes where)."""
import logging
import os
import socket
import sqlite3
import ssl
import time
import uuid

from ryu import cfg
from ryu.base import app_manager
from ryu.controller import ofp_event
from ryu.controller.handler import DEAD_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from ryu.lib import hub

from apps import config
from apps import session as sessions
from apps.background import BackgroundLoops
from apps.events import EventSwitchGone, EventSwitchReady
from controller import (connections, entrystore, etcdstore, health, identity, mastership, of10, ovsdb, roles,
                        storefaults)
from controller.metrics import Metrics
from controller.connections import ConnectionTracker
from controller.dpid import format_dpid
from controller.storefaults import StoreFault

LOG = logging.getLogger(__name__)
CONF = cfg.CONF
LEASE_STORE = 'mastership-store'  # the lease file's component on the health board
PROBE_POLL = 0.01  # seconds between looks at a probed session while a newcomer claiming its DPID waits


class SwitchesApp(BackgroundLoops, app_manager.RyuApp):
    """Owns the connection tracker and the sessions. Other apps get it as a context and send through `send`."""
    OFP_VERSIONS = [of10.OFP_VERSION]
    _EVENTS = [EventSwitchReady, EventSwitchGone]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config.register()
        now = time.time()
        self.tracker = ConnectionTracker(default_fail_mode=CONF.default_fail_mode)
        self.health = health.HealthBoard()  # every app reports its faults here; /wm/core/health/json reads it
        self.metrics = Metrics()  # every app's counts and states for GET /metrics (controller/metrics.py)
        self.metrics.sources.tracker = self.tracker
        self.instance_id = mastership.owner_id(socket.gethostname(), os.getpid(), uuid.uuid4().hex[:8])
        self.policy = roles.RolePolicy(self.instance_id, CONF.controller_role, now)
        os.makedirs(os.path.dirname(os.path.abspath(CONF.staticflow_db)), exist_ok=True)
        self.etcd = None  # (EtcdClient, prefix) with --store etcd://...; StaticFlowApp's entries use it too
        self._lease_failing_since = None  # etcd: when keepalives started failing
        self._renewing = hub.Semaphore(1)
        self._renew_soon = False  # a claim of another instance was deleted: renew (and claim) at once
        self._fenced = set()  # etcd: switches whose writes were dropped while the lease may have run out
        # Whether other instances (or --workers workers) share the store: StaticFlowApp looks for their commits
        # every 20 ms then, every second when alone (a look is a wake-up of its loop: about 1.5% of a busy core).
        self.store_shared = CONF.worker_channel is not None
        if CONF.store != 'sqlite':
            try:
                if not etcdstore.is_etcd(CONF.store):
                    raise ValueError('not "sqlite" nor etcd://HOST:PORT[,HOST:PORT...][/PREFIX]')
                self.etcd = etcdstore.connect(CONF.store)
            except ValueError as error:
                LOG.error('--store %s: %s; not starting', CONF.store, error)
                raise SystemExit(2) from None
            self.leases = etcdstore.EtcdMastership(self.etcd[0], self.etcd[1], self.instance_id,
                                                   CONF.mastership_lease, on_vacated=self._claim_vacated)
        else:
            self.leases = mastership.MastershipLeases(CONF.staticflow_db + '-mastership', self.instance_id,
                                                      mastership.dead_on_this_host(socket.gethostname()))
        self._role_xids = {}    # xid of a role request -> the session it went to
        self.fast_handlers = {}  # message type -> handler(session, buf, offset, msg_len), see set_fast_handler
        self.session_factory = sessions.SessionFactory(self.fast_handlers, CONF.ofp_handshake_timeout,
                                                       sessions.tls_context(CONF), self.metrics.openflow)
        self.refusal_lines = identity.LineLimiter()
        self.ofp_allow, self.switch_certs = self._identity_settings()
        self.session_factory.admit = self._address_admitted
        try:  # bound here, before any app starts: a taken port stops the controller before it pretends to run
            self.listeners = sessions.install(self.session_factory, CONF, self.health)
            self.metrics.sources.openflow_listeners = self.listeners
        except sessions.ListenError as error:
            LOG.error('%s; not starting', error)
            raise SystemExit(2) from None

    def _identity_settings(self):
        """--ofp-allow's ranges and --ofp-switch-certs' bindings (None: not set); a setting that cannot work stops
        the controller with one line."""
        try:
            networks = identity.parse_networks(CONF.ofp_allow)
            bindings = None
            if CONF.ofp_switch_certs:
                if self.session_factory.tls is None or not CONF.ca_certs:
                    raise identity.IdentityConfigError(
                        '--ofp-switch-certs binds certificates of switches: it needs OpenFlow over TLS with their '
                        'certificates checked (--ctl-privkey, --ctl-cert and --ca-certs)')
                bindings = identity.load_switch_certs(CONF.ofp_switch_certs)
        except identity.IdentityConfigError as error:
            LOG.error('%s; not starting', error)
            raise SystemExit(2) from None
        if networks:
            LOG.info('OpenFlow connections accepted from %s only', ', '.join(str(n) for n in networks))
        if bindings is not None:
            LOG.info('switch certificates bound to %d DPIDs (%s)', len(bindings), CONF.ofp_switch_certs)
        return networks, bindings

    def start(self):
        thread = super().start()
        if self.etcd is not None:
            self.spawn_loop(self._watch_claims)
        self.spawn_loop(self._lease_loop)
        for listener in self.listeners:
            self.spawn_loop(listener.serve_forever)
        if CONF.ovsdb and CONF.ovsdb != 'none':
            self.spawn_loop(self._ovsdb_loop)
        for target in CONF.service_switches:
            host, _, port = target.strip().rpartition(':')
            if not host or not port.isdigit():
                LOG.error('--service-switches: %r is not HOST:PORT; skipped', target)
                continue
            self.spawn_loop(self._dial_loop, host.strip('[]'), int(port))
        return thread

    def take_messages(self, app, event_cls, msg_type, handler):
        """Have `handler(session, buf, offset, msg_len)` take every message of `msg_type` straight from the
        session's receive loop, in place of Ryu's `event_cls` event: no message object, no event, no thread
        switch. It returns True when it took the message (ignored or answered), False to leave it to the event;
        it runs in the session's green thread, for sessions in MAIN state, and must not block.

        Only when `app` is the event's one observer and no Ryu handler wants it: another app loaded in the same
        process keeps seeing every message. Call it from start() (every app is registered by then).
        -> whether the handler was installed."""
        brick = app_manager.lookup_service_brick('ofp_event')
        if brick is None or set(brick.observers.get(event_cls, {})) != {app.name} or brick.event_handlers.get(
                event_cls):
            return False
        self.fast_handlers[msg_type] = handler
        return True

    def release_messages(self, msg_type, handler):
        if self.fast_handlers.get(msg_type) == handler:
            del self.fast_handlers[msg_type]

    # --- sessions -----------------------------------------------------------------------------------------

    @set_ev_cls(ofp_event.EventOFPStateChange, [MAIN_DISPATCHER, DEAD_DISPATCHER])
    def state_change_handler(self, ev):
        session = ev.datapath
        if ev.state == MAIN_DISPATCHER:
            self._switch_up(session)
        elif session.id is not None:
            self._switch_down(session)

    def _address_admitted(self, address, service_target):
        """The session factory's first question about an accepted connection (before TLS, before HELLO): is its
        address in --ofp-allow? Sessions the controller dialed are not asked."""
        if service_target is not None or identity.address_allowed(self.ofp_allow, address[0]):
            return True
        now = time.time()
        remote = _remote(address)
        count = self.tracker.refuse(connections.REFUSED_ADDRESS, now, remote)
        self._refusal_line(('address', address[0]), now, 'refused an OpenFlow connection from %s: not in '
                           '--ofp-allow (%d refused so far)', remote, count)
        return False

    def _refusal_line(self, key, now, message, *args):
        """The warning line of a refusal: at most one per key (an address, a DPID) per 10 s, as a peer that
        hammers would otherwise fill the log; the next one says how many were left out."""
        held = self.refusal_lines.allow(key, now)
        if held is not None:
            LOG.warning(message + ('; %d more like it not logged' % held if held else ''), *args)

    def _switch_up(self, session):
        now = time.time()
        kind = connections.SERVICE if session.service_target else connections.PRIMARY
        remote = session.service_target or (_remote(session.address) if session.address else '')
        if self.switch_certs is not None and not session.service_target and not self._certificate_bound(
                session, remote, now):
            return
        claim = self.tracker.claim(session.id, session, kind, remote, now)
        if claim.action == connections.PROBE:
            hub.spawn(self._probe_then_settle, session, claim.incumbent)
        else:
            self._admitted(session, kind, remote, now, claim.incumbent)

    def _certificate_bound(self, session, remote, now):
        """Over TLS with --ofp-switch-certs: is the peer's certificate bound to the DPID it claimed? Else the
        session is closed with one line, and counted."""
        sock = session.socket
        der = sock.getpeercert(binary_form=True) if isinstance(sock, ssl.SSLSocket) else None
        subject = sock.getpeercert().get('subject') if der is not None else None
        reason = identity.certificate_refusal(self.switch_certs, session.id, der, subject)
        if reason is None:
            return True
        count = self.tracker.refuse(connections.REFUSED_CERTIFICATE, now, remote, session.id, detail=reason)
        self._refusal_line(('certificate', session.id), now, 'switch %s: refused the session from %s: %s (%d '
                           'refused so far)', format_dpid(session.id), remote, reason, count)
        session.close()
        return False

    def _probe_then_settle(self, session, incumbent):
        """A session claims the DPID of a live one (`incumbent`): echo the live one and settle the claim when it
        answers (anything it sends after the echo counts), ends, or lets --takeover-probe-timeout pass."""
        while True:
            probe = incumbent.handle
            sent_at = time.time()
            probe.put([of10.echo_request()])
            deadline = sent_at + CONF.takeover_probe_timeout
            while (time.time() < deadline and probe.last_received <= sent_at and probe.state != DEAD_DISPATCHER
                   and session.state != DEAD_DISPATCHER):
                hub.sleep(PROBE_POLL)
            now = time.time()
            claim = self.tracker.settle(session, probe.last_received > sent_at and probe.state != DEAD_DISPATCHER,
                                        now)
            if claim.action != connections.PROBE:
                break
            incumbent = claim.incumbent
        if claim.action == connections.ADMIT:
            conn = self.tracker.find(session)
            self._admitted(session, conn.kind, conn.remote, now, claim.incumbent)
        elif claim.action == connections.REFUSE:
            self._refusal_line(('takeover', session.id), now, 'switch %s: refused a second session from %s '
                               'claiming its DPID: the session from %s holds it and answered an echo within %g s '
                               '(%d takeovers refused so far)', format_dpid(session.id), _remote(session.address),
                               claim.incumbent.remote, CONF.takeover_probe_timeout,
                               self.tracker.refused[connections.REFUSED_TAKEOVER])
            session.close()

    def _admitted(self, session, kind, remote, now, replaced):
        """The session holds its DPID now (a claim was admitted): the older one it replaced is closed."""
        if replaced is not None:
            LOG.warning('switch %s: the %s session from %s did not answer an echo within %g s: the one from %s '
                        'replaces it', format_dpid(session.id), kind, replaced.remote, CONF.takeover_probe_timeout,
                        remote)
            replaced.handle.close()
        LOG.info('switch %s connected from %s (%s)', format_dpid(session.id), remote, kind)
        self.policy.session_connected(self.tracker.find(session))
        # OVS stays in fail-open until the controller sends something beyond the handshake: a barrier at once.
        # GET_CONFIG's miss_send_len then confirms the kind (it honours a Controller `type` override).
        session.put([of10.barrier(), of10.get_config_request()])
        self._renew_leases(now, connecting=session.id)
        self._request_roles(now)
        others = [c for c in self.tracker.sessions(session.id) if c.handle is not session]
        if roles.announces_ready(kind, others):
            self.send_event_to_observers(EventSwitchReady(session.id))

    def _switch_down(self, session):
        conn = self.tracker.disconnect(session, time.time(), session.last_received)
        if conn is None:
            return
        LOG.info('switch %s disconnected (%s session from %s)', format_dpid(conn.dpid), conn.kind, conn.remote)
        if not self.tracker.sessions(conn.dpid):
            self._release_lease(conn.dpid)
            self.send_event_to_observers(EventSwitchGone(conn.dpid))

    @set_ev_cls(ofp_event.EventOFPGetConfigReply, MAIN_DISPATCHER)
    def get_config_reply_handler(self, ev):
        msg = ev.msg
        conn = self.tracker.find(msg.datapath)
        if conn is None:
            return
        if msg.datapath.peer_check.quirks:
            return  # not Open vSwitch (the session logged what it is): the kind stays the direction's
        kind = connections.classify_miss_send_len(msg.miss_send_len)
        was = conn.kind
        replaced = self.tracker.reclassify(msg.datapath, kind, time.time(),
                                           'GET_CONFIG miss_send_len=%d' % msg.miss_send_len)
        if was != kind:
            LOG.warning('switch %s: session from %s is %s by miss_send_len=%d, not %s (Controller type override)',
                        format_dpid(conn.dpid), conn.remote, kind, msg.miss_send_len, was)
            if replaced is not None:
                replaced.handle.close()
            self._request_roles(time.time())

    # --- roles --------------------------------------------------------------------------------------------

    def _request_roles(self, now):
        for conn, role in self.policy.role_requests(self.tracker, now):
            request = of10.role_request(role)
            conn.handle.put([request])
            self._role_xids[request.xid] = conn.handle

    @set_ev_cls(ofp_event.EventOFPVendor, MAIN_DISPATCHER)
    def vendor_handler(self, ev):
        """ryu hands a Nicira role reply over as an OFPVendor whose `data` is the parsed NXTRoleReply."""
        msg = ev.msg
        role_number = of10.role_reply_role(msg)
        if role_number is None:
            return
        self._role_xids.pop(msg.xid, None)
        role = of10.ROLE_NAMES.get(role_number, connections.OTHER)
        conn = self.tracker.set_role(msg.datapath, role, time.time(), 'role reply')
        if conn is not None:
            LOG.info('switch %s: this controller is now %s', format_dpid(conn.dpid), role.upper())

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def error_handler(self, ev):
        msg = ev.msg
        self.metrics.openflow.error(msg.type, msg.code)
        now = time.time()
        session = self._role_xids.pop(msg.xid, None)
        if session is not None:
            conn = self.tracker.find(session)
            if conn is not None:
                # Floodlight's rule: a switch that rejects the role request has no roles; act as its master.
                conn.roles_unsupported = True
                self.tracker.record(conn.dpid, 'role', now, kind=conn.kind, remote=conn.remote,
                                    reason='switch rejected the Nicira role request: no role support')
            return
        dpid = msg.datapath.id
        if not self.is_current(msg.datapath):
            return  # a session that does not hold the switch (held for a probe, or refused) demotes nothing
        if of10.is_slave_rejection(msg.type, msg.code) and self.policy.is_surprise_rejection(dpid):
            self._demote(dpid, 'the switch answered EPERM: another controller is its master', now)

    def _demote(self, dpid, reason, now):
        if self.policy.demote(self.tracker, dpid, now, reason):
            LOG.warning('switch %s: %s; this instance stops writing to it until it reconnects or the role is set '
                        'again', format_dpid(dpid), reason)
            self._renew_leases(now)

    def set_configured_role(self, role, description):
        """POST /wm/core/role/json: master | slave | equal."""
        now = time.time()
        self.policy.configure(role, now, description)
        self._renew_leases(now)
        self._request_roles(now)

    # --- mastership leases --------------------------------------------------------------------------------

    def stop(self):
        super().stop()
        self.leases.close()  # etcd: the lease is revoked, so the standbys take the switches at once

    def _watch_claims(self):
        """etcd: every instance's claims, listed then watched (controller.etcdstore.EtcdMastership), so that a
        standby claims a switch as soon as its master's claim is deleted."""
        while True:
            try:
                self.leases.load()
                self.leases.watch().run()
            except StoreFault as fault:
                LOG.warning('mastership claims cannot be read: %s; trying again', fault)
            except Exception:  # never let the watch die: standbys would stop taking over
                LOG.exception('the watch of mastership claims failed; starting it again')
            hub.sleep(CONF.mastership_renew)

    def _claim_vacated(self, dpid):
        if dpid in self.tracker.dpids():
            self._renew_soon = True

    def _lease_loop(self):
        while True:
            # etcd: woken within 20 ms when a claim this instance can take is deleted (takeover without a round)
            step = 0.02 if self.etcd is not None else CONF.mastership_renew
            period = CONF.mastership_renew
            if self.etcd is not None and self.policy.held and self._lease_failing_since is not None:
                # not renewed: the next round no later than the first claim runs out (it stops writing then)
                period = min(period, max(0.0, min(self.policy.held.values()) - time.time()))
            slept = 0.0
            while slept < period and not self._renew_soon:
                hub.sleep(step)
                slept += step
            self._renew_soon = False
            try:
                now = time.time()
                self._renew_leases(now)
                self._refill_fenced()
                # the roles right after the renewal, before anything that yields (etcd's member listing in
                # _balance): a switch just claimed must hear MASTER before the apps' first write to it
                self._request_roles(now)
                self._balance(now)
            except Exception:  # never let the loop die: a dead loop would silently drop mastership
                LOG.exception('mastership renewal failed')

    def _release_lease(self, dpid):
        """A switch with no session left: its lease row goes at once, not at the next renewal, so that the
        instance or --workers worker it redials (docs/scale-out.md) takes it as it connects. The policy hears of it
        at that renewal, as before; a store that cannot be written now is left to it too."""
        if dpid in self.policy.held:
            try:
                self.leases.renew(set(), {dpid}, time.time(), CONF.mastership_lease)
            except sqlite3.Error:
                pass

    def _balance(self, now):
        """Instances sharing the store split the switches (controller.roles.RolePolicy.balance); --workers
        workers do it by closing sessions instead (apps/worker.py: no other worker has one to the switch). Both
        lease backends keep the live instances (SQLite: a members table; etcd: a key per instance under its lease)."""
        live_instances = getattr(self.leases, 'live_instances', None)
        if CONF.worker_channel is not None or live_instances is None:
            return
        try:
            switches, instances = len(self.leases.holders(now)), len(live_instances(now))
        except (sqlite3.Error, StoreFault):
            return  # the renewal said so already
        self.store_shared = instances > 1
        shed = self.policy.balance(switches, instances, now, CONF.mastership_lease)
        if shed:
            LOG.info('this instance masters %d of %d switches, %d instances share them: gives up %s for another '
                     'to take', len(self.policy.held), switches, instances, ', '.join(format_dpid(d) for d in shed))
            self._renew_leases(now)
            self._request_roles(now)

    def _renew_leases(self, now, connecting=None):
        # etcd's renewal waits on the network: a switch connecting meanwhile (its own green thread) renews after it,
        # not beside it (two at once would each grant a lease, and the claims under the forgotten one would lapse)
        with self._renewing:
            self._renew_leases_now(now, connecting)

    def _renew_leases_now(self, now, connecting):
        wanted, released = self.policy.wanted_leases(self.tracker.dpids(), now)
        try:
            held = self.leases.renew(wanted, released, now, CONF.mastership_lease)
            self.policy.saw_instances(self.leases.other_instances(now))
        except sqlite3.Error as error:
            held = self._lease_store_failed(error, wanted, now)
        except StoreFault as fault:
            held = self._lease_not_renewed(fault, wanted, now)
        else:
            self._lease_failing_since = None
            if self.health.clear(LEASE_STORE):
                LOG.info('mastership lease store %s is written again', self.leases.path)
        _gained, lost, takeovers = self.policy.leases_renewed(self.tracker, held, now, connecting)
        for dpid in lost:
            LOG.info('switch %s: this instance is no longer its master', format_dpid(dpid))
        for dpid in takeovers:
            LOG.info('switch %s: this instance is now its master', format_dpid(dpid))
            self.send_event_to_observers(EventSwitchReady(dpid))

    def _lease_store_failed(self, error, wanted, now):
        """The leases this instance holds when its lease store could not be written (controller.roles decides);
        a fault of the disk is on the health board while it lasts, logged once."""
        kind = storefaults.classify(error, *entrystore.filesystem_facts(self.leases.path))
        if kind == storefaults.BUSY:
            LOG.debug('mastership store busy (%s); keeping leases until they expire', error)
            return self.policy.store_busy(wanted, now)
        held, alone = self.policy.store_failed(wanted, now, CONF.mastership_lease)
        reason = 'mastership lease store %s cannot be written: %s (%s); %s' % (
            self.leases.path, storefaults.WHAT.get(kind, 'an unexpected error'), error,
            'this is the only instance sharing it, so it stays master of its switches' if alone else
            'other instances share it (%s): this one stands down as its leases expire' % ', '.join(
                sorted(self.policy.other_instances)))
        if self.health.fault(LEASE_STORE, reason, now):
            LOG.error('%s', reason)
        return held

    def _lease_not_renewed(self, fault, wanted, now):
        """etcd: the lease was not kept alive. It ends on the etcd members TTL after the last keepalive they got,
        whatever this instance does, and another instance may then claim its switches: so, alone or not, the
        claims are kept only until the last keepalive sent + TTL; then this instance asks SLAVE and stops
        writing (controller.roles). A keepalive missed during a leader election (a second or two) is a warning;
        the health board has it once this instance has gone a TTL without one (it wrote to no switch since)."""
        held = self.policy.store_busy(wanted, time.time())  # the failed keepalive took time: now, not the round's
        if self._lease_failing_since is None:
            self._lease_failing_since = now
            LOG.warning('mastership store %s: a lease keepalive failed (%s); this instance keeps its %d switches '
                        'until %s unless one succeeds', self.leases.path, fault.detail, len(held),
                        time.strftime('%H:%M:%S', time.localtime(max(held.values(), default=now))))
        stood_down = bool(self.policy.held) and not held
        if not stood_down and (held or now - self._lease_failing_since < CONF.mastership_lease):
            return held
        reason = ('mastership store %s: the lease has not been renewed since %s (%s); this instance writes to no '
                  'switch (SLAVE) until it is' % (self.leases.path, time.strftime('%H:%M:%S', time.localtime(
                      self._lease_failing_since)), fault.detail))
        if self.health.fault(LEASE_STORE, reason, now):
            LOG.error('%s', reason)
        return held

    def lease_holders(self):
        return self.leases.holders(time.time())

    # --- OVSDB ---------------------------------------------------------------------------------------------

    def _ovsdb_loop(self):
        """Health: OVSDB unreachable is a fault when --ovsdb names another target than the default local socket
        (the operator asked for it), or once the default one has answered; the default on a host without Open
        vSwitch is not."""
        failing = False
        expected = CONF.ovsdb != ovsdb.DEFAULT_ADDRESS
        listen_ports = {listener.port for listener in self.listeners}
        while True:
            try:
                facts = ovsdb.query(CONF.ovsdb)
            except (OSError, ValueError, ovsdb.OvsdbError) as error:
                if not failing:
                    LOG.warning('OVSDB at %s unreachable (%s): fail modes fall back to --default-fail-mode=%s',
                                CONF.ovsdb, error, CONF.default_fail_mode)
                failing = True
                self.tracker.ovsdb_unreachable('%s' % error)
                if expected:
                    self.health.fault('OVSDB', 'unreachable at %s: %s' % (CONF.ovsdb, error), time.time())
            else:
                if failing:
                    LOG.info('OVSDB at %s reachable again', CONF.ovsdb)
                failing = False
                expected = True
                self.health.clear('OVSDB')
                now = time.time()
                self.tracker.update_bridges(facts, now)
                for dpid, reason in self.policy.ovsdb_demotions(self.tracker, facts, listen_ports, now):
                    self._demote(dpid, reason, now)
            hub.sleep(CONF.ovsdb_poll_interval)

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
                self.session_factory(sock, (host, port), service_target=target)
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
            if not self.policy.may_write(dpid):
                msgs = [m for m in msgs if not of10.is_write(m)]
            elif self.etcd is not None and self._claim_ran_out(dpid):  # (SQLite leases: no call per packet-in)
                msgs = [m for m in msgs if not of10.is_write(m)]
                self._fenced.add(dpid)  # reconciled once the lease is renewed (_refill_fenced)
            conn.handle.put(msgs)

    def send_pairs(self, pairs):
        """[(dpid, msg)] in order, as the pure modules return them (forwarding, firewall, virtual network): sent
        per switch by send(), each switch's messages in their order."""
        by_dpid = {}
        for dpid, msg in pairs:
            msgs = by_dpid.get(dpid)
            if msgs is None:
                by_dpid[dpid] = [msg]
            else:
                msgs.append(msg)
        if by_dpid:
            self.send(by_dpid)

    def _refill_fenced(self):
        """etcd: writes dropped while this instance's lease might have ended (a lost quorum) are not lost: once
        the lease is renewed and the switch is still this instance's, it is reconciled as after a takeover (the
        static entries acknowledged meanwhile are installed)."""
        for dpid in list(self._fenced):
            if self.policy.may_write(dpid) and not self._claim_ran_out(dpid):
                self._fenced.discard(dpid)
                LOG.info('switch %s: writes allowed again after the lease was renewed; reconciling', format_dpid(dpid))
                self.send_event_to_observers(EventSwitchReady(dpid))
            elif dpid not in self.policy.held:
                self._fenced.discard(dpid)  # another instance masters it now: its reconcile installs them

    def _claim_ran_out(self, dpid):
        """etcd: this instance's lease may have ended on the members (no keepalive answered for its TTL) although
        the renewal that drops the claim has not returned yet: write nothing from that moment on."""
        return self.etcd is not None and self.policy.held.get(dpid, float('inf')) <= time.time()

    def is_current(self, session):
        conn = self.tracker.current(session.id)
        return conn is not None and conn.handle is session

    def is_superseded(self, session):
        """Another session is the switch's current one (or holds it while this one is held). Unlike `not
        is_current`, False for a session the tracker has not registered yet: what a switch sends right after its
        handshake (cbench's ARP) may be handled before this app has seen the session come up."""
        conn = self.tracker.current(session.id)
        return conn is not None and conn.handle is not session


def _remote(address):
    return '%s:%s' % tuple(address[:2])
