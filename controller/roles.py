"""Which instance writes to which switch, and which Nicira role each session should have. Pure: takes `now`
and the connection tracker, returns what to send and what happened; SwitchesApp does the I/O (the lease store,
the role requests, the events).

The rule (docs/architecture.md, "Several controllers"): an instance configured `master` renews a lease on every
switch it has a session to; holding a switch's lease (and not being demoted on it) is what lets it write. The
holder asks the switch for MASTER, the others for SLAVE; `equal` asks for OTHER and writes everywhere
(Floodlight's EQUAL). A switch that answers EPERM, or OVSDB showing role=slave on our own row, demotes this
instance on that switch until the session reconnects or the role is posted again.
"""
from controller import connections, workers
from controller.connections import MASTER, OTHER, PRIMARY, SLAVE

CONFIGURED_ROLES = ('master', 'slave', 'equal')
OVSDB_ROLE_LAG = 10.0  # seconds: OVSDB's status columns lag a role change by up to 5 s; its role is read later
# Balancing (docs/scale-out.md): a switch given up is not claimed again for BALANCE_HOLD_OFF leases (another
# instance with a session to it takes it meanwhile), nor given up again within BALANCE_RESHED seconds (when no
# other instance reaches it, it comes back here after the hold-off and stays).
BALANCE_HOLD_OFF = 2
BALANCE_RESHED = 600.0


class RolePolicy:
    def __init__(self, instance_id, configured_role, now, description='Controller startup.'):
        self.instance_id = instance_id           # this instance's name in the lease store and the timelines
        self.configured_role = configured_role   # master | slave | equal
        self.changed = (now, description)
        self.held = {}          # dpid -> lease expiry: the switches this instance may write to
        self.demoted = set()    # dpids where a switch told us we are not master (EPERM, OVSDB role)
        self.other_instances = set()  # other instances ever seen holding a lease: this one is not alone
        self.yielded = {}       # dpid -> until when it is not claimed (given up to balance the instances)
        self.last_shed = {}     # dpid -> when it was last given up

    def may_write(self, dpid):
        """Only the master instance of a switch changes it (or every instance, configured `equal`)."""
        if self.configured_role == 'equal':
            return True
        return dpid in self.held and dpid not in self.demoted

    def desired_role(self, dpid):
        if self.configured_role == 'equal':
            return OTHER
        return MASTER if self.may_write(dpid) else SLAVE

    def configure(self, role, now, description):
        """POST /wm/core/role/json: a new configured role forgets every demotion."""
        if role not in CONFIGURED_ROLES:
            raise ValueError('role must be one of %s' % ', '.join(CONFIGURED_ROLES))
        self.configured_role = role
        self.changed = (now, description)
        self.demoted.clear()

    # --- role requests -------------------------------------------------------------------------------------

    def role_requests(self, tracker, now):
        """[(connection, role)] for every primary session whose requested role is not the one it should have; the
        connections are marked as asked. Service sessions are left alone: a MASTER request from one would demote
        the switch's primaries."""
        out = []
        for conn in list(tracker.live.values()):
            if conn.kind != PRIMARY or conn.roles_unsupported:
                continue
            role = self.desired_role(conn.dpid)
            if conn.requested_role != role:
                conn.requested_role = role
                conn.role_requested_at = now
                out.append((conn, role))
        return out

    def demote(self, tracker, dpid, now, reason):
        """A switch says another controller is its master. -> True when this is news (the caller logs it and
        renews its leases, which releases this one)."""
        if dpid in self.demoted:
            return False
        self.demoted.add(dpid)
        for conn in tracker.sessions(dpid):
            if conn.kind == PRIMARY:
                tracker.set_role(conn.handle, SLAVE, now, reason)
                conn.requested_role = SLAVE  # the switch already has us as slave
        return True

    def session_connected(self, conn):
        """A new primary session starts as OTHER: an old demotion on its switch is history."""
        if conn.kind == PRIMARY:
            self.demoted.discard(conn.dpid)

    def is_surprise_rejection(self, dpid):
        """An EPERM counts only for something sent while this instance believed it was the master."""
        return self.may_write(dpid)

    # --- leases --------------------------------------------------------------------------------------------

    def wanted_leases(self, dpids, now=0.0):
        """(wanted, released): the leases to renew or take, and the ones to give back."""
        wanted = set()
        if self.configured_role == 'master':
            wanted = {dpid for dpid in dpids if dpid not in self.demoted and self.yielded.get(dpid, 0.0) <= now}
        return wanted, set(self.held) - wanted

    def balance(self, switches, instances, now, lease):
        """The balancing rule (docs/scale-out.md): holding more than ceil(switches / instances) leases (every
        switch with a live lease, every instance renewing), give the excess up (highest DPIDs first, none given
        up in the last BALANCE_RESHED s) and claim them again only after BALANCE_HOLD_OFF leases. -> the DPIDs
        given up (the caller renews, which releases them)."""
        for dpid in [d for d, until in self.yielded.items() if until <= now]:
            del self.yielded[dpid]
        eligible = [dpid for dpid in self.held if now - self.last_shed.get(dpid, -BALANCE_RESHED) >= BALANCE_RESHED]
        shed = workers.switches_to_shed(list(self.held), switches, instances, eligible)
        for dpid in shed:
            self.yielded[dpid] = now + BALANCE_HOLD_OFF * lease
            self.last_shed[dpid] = now
        return shed

    def saw_instances(self, owners):
        """The lease store shows these other instances holding leases now. Remembered for good: an instance
        that once shared the store may come back, and must not find two masters."""
        self.other_instances.update(owners)

    def store_busy(self, wanted, now):
        """Another instance holds the lease store's write lock: keep the leases still running that are still
        wanted (the next round retries)."""
        return {dpid: expiry for dpid, expiry in self.held.items() if expiry > now and dpid in wanted}

    def store_failed(self, wanted, now, lease):
        """The lease store cannot be written (full or read-only disk, I/O error). -> ({dpid: expiry} held now,
        alone).

        Alone (no other instance was ever seen holding a lease), nobody can take a switch over, and a disk
        fault must not become a network outage: every wanted lease is kept, as if renewed. Otherwise the
        multi-instance rule (docs/architecture.md) holds: a lease that cannot be renewed runs out, so that two
        instances never both write; the leases still running are kept until they expire."""
        alone = not self.other_instances
        if alone:
            return {dpid: now + lease for dpid in wanted}, True
        return self.store_busy(wanted, now), False

    def leases_renewed(self, tracker, held, now, connecting=None):
        """Take the store's answer {dpid: expiry}. -> (gained, lost, takeovers): takeovers are switches this
        instance just took over while connected to them (not one that only now connected), to be checked against
        the stored entries at once since the old master may have been behind. Gains and losses go to the
        switch's timeline."""
        gained = sorted(set(held) - set(self.held))
        lost = sorted(set(self.held) - set(held))
        self.held = dict(held)
        for dpid in gained:
            tracker.record(dpid, 'mastership', now, instance=self.instance_id, held=True)
        for dpid in lost:
            tracker.record(dpid, 'mastership', now, instance=self.instance_id, held=False)
        takeovers = [dpid for dpid in gained if dpid != connecting and tracker.current(dpid) is not None]
        return gained, lost, takeovers

    # --- OVSDB ---------------------------------------------------------------------------------------------

    def ovsdb_demotions(self, tracker, facts, listen_ports, now):
        """[(dpid, reason)]: OVSDB's `role` of our own Controller row (matched by our listening port) says slave
        while the switch's session has us as master."""
        out = []
        for dpid, bridge in facts.items():
            conn = tracker.live.get((dpid, PRIMARY))
            if conn is None or conn.role != MASTER or now - conn.role_requested_at < OVSDB_ROLE_LAG:
                continue
            for row in bridge.controllers:
                port = row['target'].rpartition(':')[2]
                if row['primary'] and port.isdigit() and int(port) in listen_ports and row['role'] == 'slave':
                    out.append((dpid, 'OVSDB shows role=slave for %s' % row['target']))
                    break
        return out

    # --- what REST shows -----------------------------------------------------------------------------------

    def switch_roles(self, tracker):
        """{dpid: 'MASTER'|'SLAVE'|'EQUAL'} as the switches see this instance (Floodlight's names)."""
        names = {MASTER: 'MASTER', SLAVE: 'SLAVE', OTHER: 'EQUAL'}
        out = {}
        for dpid in tracker.dpids():
            conn = tracker.live.get((dpid, PRIMARY)) or tracker.current(dpid)
            if conn.roles_unsupported or conn.kind == connections.SERVICE:
                out[dpid] = 'MASTER' if self.may_write(dpid) else 'SLAVE'
            else:
                out[dpid] = names[conn.role]
        return out


def announces_ready(kind, other_sessions):
    """Whether a new session makes the switch 'ready' for the other apps: a primary's arrival may follow a
    fail-open flush (the static flows are checked again); a service session only when it is the only one."""
    return kind == PRIMARY or not other_sessions
