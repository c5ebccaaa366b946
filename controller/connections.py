"""The connection tracker: every OpenFlow session, its kind and role, each switch's fail mode and timeline.

Pure: the glue passes `now` (epoch seconds) and opaque session handles (compared by identity).

- kind: `primary` when the switch dialed us (its `tcp:`/`ssl:` controller target), `service` when we dialed its
  `ptcp:` listener; confirmed later by GET_CONFIG's miss_send_len (128 on primary, 0 on service), which also
  catches a Controller `type` override. A switch may have one live session of each kind at once.
- Within a kind nobody takes over a switch (docs/reliability.md, "Who may speak for a switch"): a session that
  finishes its handshake with the DPID of a live session of the same kind is held (`claim` -> PROBE) while the
  glue sends the live one an echo; `settle` then replaces the live session when it did not answer within the
  deadline (a switch that rebooted before its old session was seen to drop) and refuses the newcomer when it
  did (a second switch, or an impostor, claiming the DPID). A held session is not live: it is not current,
  gets no entries and its messages change nothing. Refusals are counted by reason (`refusals_view`).
- Fail mode and inactivity probe come from OVSDB (BridgeFacts) or, when OVSDB is unreachable, from a
  configured default, so a disconnected primary can show when its bridge fails open.
"""
import collections
from dataclasses import dataclass, field

from controller import failmode
from controller.dpid import format_dpid

PRIMARY = 'primary'
SERVICE = 'service'
OTHER = 'other'
MASTER = 'master'
SLAVE = 'slave'
CONNECTED = 'connected'
DISCONNECTED = 'disconnected'
# What a claim of a DPID comes to (Claim.action).
ADMIT = 'admit'      # the session is live now; Claim.incumbent, when set, is the session it replaced: close it
PROBE = 'probe'      # held: echo Claim.incumbent, then call settle()
REFUSE = 'refuse'    # Claim.incumbent holds the DPID and answered: close the newcomer
GONE = 'gone'        # the newcomer ended while held: nothing to do
# Why a connection was refused (the counters of refusals_view).
REFUSED_TAKEOVER = 'takeover'        # claimed the DPID of a live session that answered the probe
REFUSED_ADDRESS = 'address'          # connected from outside --ofp-allow
REFUSED_CERTIFICATE = 'certificate'  # its TLS certificate is not bound to the DPID it claimed (--ofp-switch-certs)
REFUSAL_REASONS = (REFUSED_TAKEOVER, REFUSED_ADDRESS, REFUSED_CERTIFICATE)


@dataclass(eq=False)
class Connection:
    dpid: int
    handle: object            # the glue's session object; compared by identity
    kind: str
    remote: str               # "address:port" of the peer
    since: float              # epoch seconds the current state began
    role: str = OTHER
    state: str = CONNECTED
    last_received: float = 0.0
    kind_confirmed: bool = False
    fail_open_at: float = None  # set when a primary disconnects from a bridge that fails open
    requested_role: str = None  # the role last asked of the switch on this session
    role_requested_at: float = 0.0
    roles_unsupported: bool = False  # the switch rejected the Nicira role request


@dataclass
class Claim:
    action: str                   # ADMIT | PROBE | REFUSE | GONE
    incumbent: Connection = None  # see the actions


@dataclass(eq=False)
class _Held:
    """A session waiting for the probe of the live session of its DPID and kind."""
    dpid: int
    kind: str
    remote: str
    since: float
    incumbent: object             # the handle of the live session being probed


@dataclass
class BridgeFacts:
    """What OVSDB says about the bridge of one DPID."""
    name: str
    fail_mode: str                 # standalone | secure
    inactivity_probe_ms: int       # the largest probe among its primary targets (what fail-open uses)
    controllers: list = field(default_factory=list)  # [{target, type, is_connected, role, state}]


def classify_miss_send_len(miss_send_len):
    """OVS gives a primary connection miss_send_len 128 and a service one 0 (until someone sets it)."""
    return SERVICE if miss_send_len == 0 else PRIMARY


class ConnectionTracker:
    def __init__(self, default_fail_mode=failmode.STANDALONE, history_len=200, recent_refusals=50):
        self.default_fail_mode = default_fail_mode
        self.live = {}    # (dpid, kind) -> Connection
        self._current = {}  # dpid -> its primary Connection, else its service one: current() per packet-in
        self.held = {}    # handle -> _Held: sessions claiming a live DPID, until the probe of its session settles
        self.refused = collections.Counter()  # reason -> connections refused since start
        self.refusals = collections.deque(maxlen=recent_refusals)  # the last ones, for REST
        self.ended = {}   # (dpid, kind) -> the last Connection of that kind that ended, until a new one starts
        self.bridges = {}  # dpid -> BridgeFacts
        self.ovsdb_error = None
        self.timelines = collections.defaultdict(lambda: collections.deque(maxlen=history_len))

    # --- sessions ----------------------------------------------------------------------------------------

    def claim(self, dpid, handle, kind, remote, now):
        """A handshake finished: the session claims `dpid`. -> Claim: ADMIT (live now) when no other live session
        of this kind holds the DPID, else PROBE (held; the glue echoes Claim.incumbent and calls settle)."""
        old = self.live.get((dpid, kind))
        if old is None or old.handle is handle:
            self.connect(dpid, handle, kind, remote, now)
            return Claim(ADMIT)
        self.held[handle] = _Held(dpid, kind, remote, now, old.handle)
        self.record(dpid, 'takeover_probe', now, kind=kind, remote=remote, held_by=old.remote,
                    detail='a session claims the DPID of a live one: echoing the live one before deciding')
        return Claim(PROBE, old)

    def settle(self, handle, incumbent_answered, now):
        """The probe of a held session's incumbent is over: whether the incumbent sent anything after the probe
        went out, within the deadline. -> Claim: REFUSE (it did; counted), ADMIT (it did not, or it ended
        meanwhile; Claim.incumbent is the session replaced), PROBE (another session took the DPID meanwhile:
        probe that one), GONE (the held session ended)."""
        held = self.held.pop(handle, None)
        if held is None:
            return Claim(GONE)
        old = self.live.get((held.dpid, held.kind))
        if old is not None and old.handle is not held.incumbent:
            held.incumbent = old.handle
            self.held[handle] = held
            return Claim(PROBE, old)
        if old is not None and incumbent_answered:
            self.refuse(REFUSED_TAKEOVER, now, held.remote, held.dpid, kind=held.kind, held_by=old.remote)
            return Claim(REFUSE, old)
        replaced = self.connect(held.dpid, handle, held.kind, held.remote, now,
                                why='the older session did not answer an echo within the probe deadline')
        return Claim(ADMIT, replaced)

    def holds(self, handle):
        """Whether `handle` is held, waiting for a probe (not live, not current)."""
        return handle in self.held

    def refuse(self, reason, now, remote, dpid=None, **detail):
        """Count a refused connection (a REFUSAL_REASONS reason) and keep it among the recent ones, and in the
        DPID's timeline when it named one. -> how many of this reason so far."""
        self.refused[reason] += 1
        item = {'time': round(now, 3), 'reason': reason, 'remote': remote}
        if dpid is not None:
            item['dpid'] = format_dpid(dpid)
            self.record(dpid, 'refused', now, reason=reason, remote=remote, **detail)
        item.update(detail)
        self.refusals.append(item)
        return self.refused[reason]

    def refusals_view(self):
        """Counts by reason since start, and the most recent refusals (oldest first)."""
        return {'refused': {reason: self.refused[reason] for reason in REFUSAL_REASONS},
                'recent': list(self.refusals)}

    def connect(self, dpid, handle, kind, remote, now, why=None):
        """Make a session live (claim decides whether it may). Returns the live session of the same DPID and kind
        it replaces, or None."""
        key = (dpid, kind)
        old = self.live.get(key)
        previous = self.ended.pop(key, None)
        conn = Connection(dpid, handle, kind, remote, now, last_received=now)
        self.live[key] = conn
        self._update_current(dpid)
        mode, source = self.fail_mode(dpid)
        detail = {'kind': kind, 'remote': remote, 'fail_mode': mode, 'fail_mode_source': source}
        if previous is not None and kind == PRIMARY:
            detail['away_s'] = round(now - previous.since, 3)
            detail['while_away'] = self._while_away(previous, now)
        self.record(dpid, 'connected', now, **detail)
        if old is not None and old.handle is not handle:
            self.record(dpid, 'replaced', now, kind=kind, remote=old.remote, by=remote,
                        detail=why or 'a newer %s session for this DPID replaced the older one' % kind)
            return old
        return None

    def disconnect(self, handle, now, last_received=None):
        """A session ended. Returns its Connection when it was live, None for a held, replaced or unknown one."""
        self.held.pop(handle, None)
        conn = self.find(handle)
        if conn is None:
            return None
        del self.live[(conn.dpid, conn.kind)]
        self._update_current(conn.dpid)
        if last_received is not None:
            conn.last_received = last_received
        conn.state = DISCONNECTED
        conn.since = now
        self.ended[(conn.dpid, conn.kind)] = conn
        detail = {'kind': conn.kind, 'remote': conn.remote, 'last_message_at': round(conn.last_received, 3)}
        if conn.kind == SERVICE:
            detail['switch_does'] = 'nothing: losing a service session never changes the switch'
        elif self.live.get((conn.dpid, PRIMARY)) is None:
            mode, _source = self.fail_mode(conn.dpid)
            conn.fail_open_at = failmode.fail_open_at(mode, conn.last_received, self.inactivity_probe_ms(conn.dpid))
            detail['fail_mode'] = mode
            detail['fail_open_at'] = conn.fail_open_at
            detail['switch_does'] = _fail_mode_story(mode, conn.fail_open_at)
        self.record(conn.dpid, 'disconnected', now, **detail)
        return conn

    def reclassify(self, handle, kind, now, reason):
        """GET_CONFIG disagreed with the direction (a Controller `type` override). Returns a replaced session."""
        conn = self.find(handle)
        if conn is None:
            return None
        conn.kind_confirmed = True
        if conn.kind == kind:
            return None
        del self.live[(conn.dpid, conn.kind)]
        self.record(conn.dpid, 'reclassified', now, remote=conn.remote, was=conn.kind, kind=kind, reason=reason)
        conn.kind = kind
        old = self.live.get((conn.dpid, kind))
        self.live[(conn.dpid, kind)] = conn
        self._update_current(conn.dpid)
        return old

    def set_role(self, handle, role, now, reason):
        conn = self.find(handle)
        if conn is not None and conn.role != role:
            self.record(conn.dpid, 'role', now, kind=conn.kind, remote=conn.remote, was=conn.role, role=role,
                        reason=reason)
            conn.role = role
        return conn

    def find(self, handle):
        for conn in self.live.values():
            if conn.handle is handle:
                return conn
        return None

    def current(self, dpid):
        """The session to talk to a switch through: its primary, else its service session, else None."""
        return self._current.get(dpid)

    def _update_current(self, dpid):
        """After every change of `live` for dpid (connect, disconnect, reclassify)."""
        conn = self.live.get((dpid, PRIMARY)) or self.live.get((dpid, SERVICE))
        if conn is None:
            self._current.pop(dpid, None)
        else:
            self._current[dpid] = conn

    def current_sessions(self):
        """The session each connected switch is talked to through, by DPID (the switches list shows these)."""
        return [self.current(dpid) for dpid in self.dpids()]

    def sessions(self, dpid):
        return [c for c in (self.live.get((dpid, PRIMARY)), self.live.get((dpid, SERVICE))) if c is not None]

    def dpids(self):
        return sorted({dpid for dpid, _kind in self.live})

    # --- switch facts ------------------------------------------------------------------------------------

    def update_bridges(self, facts_by_dpid, now):
        """A fresh OVSDB read ({dpid: BridgeFacts}). Into the timeline of switches this controller knows: a fail
        mode or probe change, and what OVSDB says of each Controller row (connected, role, rconn state) when it
        changes, e.g. the switch backing off and redialing while this controller was away."""
        self.ovsdb_error = None
        for dpid, facts in facts_by_dpid.items():
            if not self.knows(dpid):
                continue
            old = self.bridges.get(dpid)
            if old is None or (old.fail_mode, old.inactivity_probe_ms) != (facts.fail_mode,
                                                                            facts.inactivity_probe_ms):
                self.record(dpid, 'fail_mode', now, bridge=facts.name, fail_mode=facts.fail_mode,
                            inactivity_probe_ms=facts.inactivity_probe_ms, source='ovsdb')
            before = {row['target']: _row_status(row) for row in (old.controllers if old else ())}
            for row in facts.controllers:
                if row['primary'] and before.get(row['target']) != _row_status(row):
                    self.record(dpid, 'ovsdb_controller', now, target=row['target'],
                                is_connected=row['is_connected'], role=row['role'], state=row['state'])
        self.bridges = dict(facts_by_dpid)

    def ovsdb_unreachable(self, error):
        """Keep the last facts read; with none, the configured default fail mode applies."""
        self.ovsdb_error = error

    def fail_mode(self, dpid):
        facts = self.bridges.get(dpid)
        if facts is not None:
            return facts.fail_mode, 'ovsdb'
        return self.default_fail_mode, 'default'

    def inactivity_probe_ms(self, dpid):
        facts = self.bridges.get(dpid)
        if facts is not None and facts.inactivity_probe_ms is not None:
            return facts.inactivity_probe_ms
        return failmode.DEFAULT_INACTIVITY_PROBE_MS

    # --- timeline and views ------------------------------------------------------------------------------

    def record(self, dpid, event, now, **detail):
        self.timelines[dpid].append(dict({'time': round(now, 3), 'event': event}, **detail))

    def timeline(self, dpid, now=None):
        """The recorded events, plus the fail-open a standalone bridge has gone through by `now` according to
        OVS's rule (marked predicted: OVS reports it to nobody while no controller is connected)."""
        events = list(self.timelines.get(dpid, ()))
        previous = self.ended.get((dpid, PRIMARY))
        if (now is not None and previous is not None and (dpid, PRIMARY) not in self.live
                and previous.fail_open_at is not None and now >= previous.fail_open_at):
            events.append({'time': round(previous.fail_open_at, 3), 'event': 'fail_open', 'predicted': True,
                           'switch_does': 'flushed every flow; forwards as a learning switch (hidden NORMAL flow)'})
        return events

    def knows(self, dpid):
        return dpid in self.timelines

    def view(self, now):
        """One JSON object per session, live ones and the last ended one of each kind per switch."""
        conns = list(self.live.values()) + [c for k, c in self.ended.items() if k not in self.live]
        out = []
        for conn in sorted(conns, key=lambda c: (c.dpid, c.kind, c.state)):
            mode, source = self.fail_mode(conn.dpid)
            facts = self.bridges.get(conn.dpid)
            item = {
                'dpid': format_dpid(conn.dpid),
                'kind': conn.kind,
                'kind_confirmed': conn.kind_confirmed,
                'role': conn.role,
                'state': conn.state,
                'since': round(conn.since, 3),
                'remote': conn.remote,
                'fail_mode': mode,
                'fail_mode_source': source,
                'inactivity_probe_ms': self.inactivity_probe_ms(conn.dpid),
                'last_message_at': round(conn.last_received, 3),
                'bridge': facts.name if facts else None,
            }
            if conn.state == DISCONNECTED and conn.kind == PRIMARY:
                item['fail_open_at'] = conn.fail_open_at
                item['failed_open'] = conn.fail_open_at is not None and now >= conn.fail_open_at
            if facts is not None:
                item['ovsdb_controllers'] = [dict(target=row['target'], type=row['type'],
                                                  is_connected=row['is_connected'], role=row['role'],
                                                  state=row['state'], inactivity_probe_ms=row['inactivity_probe_ms'],
                                                  max_backoff_ms=row['max_backoff_ms'])
                                             for row in facts.controllers]
            elif self.ovsdb_error is not None:
                item['ovsdb_error'] = self.ovsdb_error
            out.append(item)
        return out

    def _while_away(self, previous, now):
        if previous.fail_open_at is None:
            mode, _source = self.fail_mode(previous.dpid)
            if mode == failmode.SECURE:
                return 'secure: flows kept, their timeouts ran, new traffic was dropped'
            return 'no fail-open expected'
        if now >= previous.fail_open_at:
            return 'failed open at %.3f: flows flushed, the bridge forwarded as a learning switch' % (
                previous.fail_open_at)
        return 'back before fail-open (due at %.3f): flows untouched' % previous.fail_open_at


def _row_status(row):
    return row['is_connected'], row['role'], row['state']


def _fail_mode_story(mode, fail_open_at):
    if mode == failmode.SECURE:
        return 'secure: flows stay and their timeouts keep running; new traffic is dropped'
    return ('standalone: at %.3f (3 x inactivity_probe after the last message) the bridge flushes its flows '
            'and forwards as a learning switch' % fail_open_at)
