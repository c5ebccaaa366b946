"""Prometheus metrics (GET /metrics, rest/metrics.py): what is counted where, and the collector that reads it.

Cheap on the hot paths: a packet-in costs one list increment in the session's receive loop (`OpenFlowCounts`)
and one per message sent (`of10.count_sent`); nothing of prometheus_client runs per packet. The states (sessions,
switches, entries, hosts, links, refusals) are not counted at all: `ControllerCollector` reads them from the
objects that hold them when Prometheus scrapes. Only rare events observe a prometheus_client Histogram directly
(a REST request, a store commit, a switch's reconcile).

Everything lives in one private CollectorRegistry per controller (`Metrics.registry`), never prometheus_client's
global one: another Ryu app in the process, or a second controller in a test, sees nothing of ours.
docs/metrics.md lists every metric. Pure: no Ryu, no eventlet.
"""
import collections

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from controller import of10
from controller.connections import REFUSAL_REASONS
from controller.entrystatus import ERROR, INACTIVE, INSTALLED, SENT, WAITING

ENTRY_STATES = (WAITING, SENT, INSTALLED, ERROR, INACTIVE)

PREFIX = 'floodlight_ryu_'
# Seconds: a REST call is a millisecond or less, a listing of 200,000 entries a second or two.
REST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A group commit: a millisecond (WAL, synchronous=NORMAL) to tens of ms (--durability full), seconds on a sick disk.
COMMIT_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
# From a switch ready to its static entries reconciled: the flow table read's round trip, up to --reconcile-timeout.
RECONCILE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNMATCHED_ROUTE = 'unmatched'  # the route label of a request no route of ours took (a 404, a refusal, a Ryu app's)


class SessionCounts:
    """One session's OpenFlow messages by type number, received and sent, as cheap to count as can be: received
    and sent_one_by_one are lists indexed by the header's type byte; sent_raw counts RawMessages (the packet-in
    path's answers) by their `msg_types` (one dict increment for a flow-mod and its packet-out), expanded when
    read (a type number for a RawMessage of one message, bytes of the types for several). Floodlight's per-switch
    counters (rest.core) and /metrics read `sent`."""
    __slots__ = ('received', 'sent_one_by_one', 'sent_raw')

    def __init__(self):
        self.received = [0] * 256
        self.sent_one_by_one = [0] * 256  # of10.count_sent's
        self.sent_raw = collections.defaultdict(int)  # RawMessage.msg_types -> RawMessages sent (Session.put)

    @property
    def sent(self):
        """Messages sent, by type number (a new list)."""
        total = list(self.sent_one_by_one)
        for msg_types, count in list(self.sent_raw.items()):
            if type(msg_types) is int:  # a RawMessage of one message
                total[msg_types] += count
            else:
                for msg_type in msg_types:
                    total[msg_type] += count
        return total


class OpenFlowCounts:
    """The controller's OpenFlow messages by type since start: the live sessions' own counts plus those of the
    sessions that ended (one count per message, kept by its session), and OpenFlow errors received by (type,
    code)."""
    __slots__ = ('live', 'ended', 'errors')

    def __init__(self):
        self.live = set()          # SessionCounts of the sessions running now
        self.ended = SessionCounts()
        self.errors = collections.Counter()

    def session(self):
        """A new session's counts, part of the totals from now on."""
        counts = SessionCounts()
        self.live.add(counts)
        return counts

    def session_ended(self, counts):
        if counts in self.live:
            self.live.remove(counts)
            for mine, theirs in ((self.ended.received, counts.received),
                                 (self.ended.sent_one_by_one, counts.sent)):
                for msg_type, count in enumerate(theirs):
                    if count:
                        mine[msg_type] += count

    @property
    def received(self):
        return self._total('received')

    @property
    def sent(self):
        return self._total('sent')

    def _total(self, direction):
        total = list(getattr(self.ended, direction))
        for counts in self.live:
            for msg_type, count in enumerate(getattr(counts, direction)):
                if count:
                    total[msg_type] += count
        return total

    def error(self, error_type, error_code):
        self.errors[(error_type, error_code)] += 1


def session_counts(tracker):
    """{(kind, role): live sessions} of a controller.connections.ConnectionTracker."""
    counts = collections.Counter()
    for conn in tracker.live.values():
        counts[(conn.kind, conn.role)] += 1
    return counts


def entry_state_counts(status):
    """{state: entries} of a controller.entrystatus.EntryStatus (every state named, 0 when none is in it); an
    entry with no status yet counts as waiting."""
    counts = dict.fromkeys(ENTRY_STATES, 0)
    for record in status.states.values():
        state = record.state or WAITING
        counts[state] = counts.get(state, 0) + 1
    return counts



class Sources:
    """What the collector reads, set by the apps that own it (each None until that app is loaded):
    `tracker` (ConnectionTracker), `entry_status` (EntryStatus), `forwarding` (ForwardingState),
    `openflow_listeners` ([rest.listener.AcceptLoop]), `rest_listener` (the REST server's AcceptLoop)."""

    def __init__(self):
        self.tracker = None
        self.entry_status = None
        self.forwarding = None
        self.openflow_listeners = ()
        self.rest_listener = None


class ControllerCollector(Collector):
    """A prometheus_client custom collector: every call of collect() reads the counts and states as they are."""

    def __init__(self, counts, sources):
        self.counts = counts
        self.sources = sources

    def collect(self):
        yield from self._messages()
        sources = self.sources
        if sources.tracker is not None:
            yield from self._sessions(sources.tracker)
        yield from self._refusals(sources)
        if sources.entry_status is not None:
            entries = GaugeMetricFamily(PREFIX + 'static_entries', 'Static flow entries by state (waiting: switch '
                                        'not connected; sent: no barrier reply yet; error: rejected by the switch)',
                                        labels=['state'])
            for state, count in sorted(entry_state_counts(sources.entry_status).items()):
                entries.add_metric([state], count)
            yield entries
        if sources.forwarding is not None:
            state = sources.forwarding
            yield GaugeMetricFamily(PREFIX + 'hosts', 'Hosts in the host table', value=len(state.devices.by_mac))
            yield GaugeMetricFamily(PREFIX + 'links', 'Inter-switch links seen by LLDP, one per direction (as '
                                    'Floodlight\'s summary counts them)', value=len(state.topology.links))
            yield GaugeMetricFamily(PREFIX + 'forwarding_flows', 'Reactive forwarding flows installed',
                                    value=state.flow_count())

    def _messages(self):
        counts = self.counts
        for direction, by_type, help_text in (('received', counts.received, 'OpenFlow messages received from '
                                                'switches, by type (type="packet_in": packet-ins)'),
                                               ('sent', counts.sent, 'OpenFlow messages sent to switches, by type '
                                                '(type="packet_out", type="flow_mod")')):
            family = CounterMetricFamily(PREFIX + 'openflow_messages_%s' % direction, help_text, labels=['type'])
            for msg_type, count in enumerate(by_type):
                if count:
                    family.add_metric([of10.type_name(msg_type).lower()], count)
            yield family
        errors = CounterMetricFamily(PREFIX + 'openflow_errors', 'OpenFlow ERROR messages received from switches, by '
                                     'type and code', labels=['type', 'code'])
        for (error_type, error_code), count in sorted(counts.errors.items()):
            errors.add_metric(list(of10.describe_error(error_type, error_code)), count)
        yield errors

    def _sessions(self, tracker):
        sessions = GaugeMetricFamily(PREFIX + 'sessions', 'Live OpenFlow sessions by kind (primary: the switch '
                                     'dialed us; service: we dialed its listener) and Nicira role', labels=['kind',
                                                                                                             'role'])
        for (kind, role), count in sorted(session_counts(tracker).items()):
            sessions.add_metric([kind, role], count)
        yield sessions
        yield GaugeMetricFamily(PREFIX + 'switches_connected', 'Switches with at least one live session',
                                value=len({dpid for dpid, _kind in tracker.live}))

    def _refusals(self, sources):
        refused = CounterMetricFamily(PREFIX + 'connections_refused', 'Connections refused since start, by reason '
                                      '(takeover: claimed a live switch\'s DPID; address: outside --ofp-allow; '
                                      'certificate: not bound to its DPID; openflow_cap, rest_cap: past '
                                      '--ofp-max-connections, --rest-max-connections)', labels=['reason'])
        if sources.tracker is not None:
            for reason in sorted(sources.tracker.refused.keys() | set(REFUSAL_REASONS)):
                refused.add_metric([reason], sources.tracker.refused[reason])
        refused.add_metric(['openflow_cap'], sum(loop.refused for loop in sources.openflow_listeners))
        if sources.rest_listener is not None:
            refused.add_metric(['rest_cap'], sources.rest_listener.refused)
        yield refused


class Metrics:
    """The controller's metrics: one private registry holding the counts, the collector of the states, and
    the histograms of rare events. One per SwitchesApp (the context every app shares)."""

    def __init__(self):
        self.registry = CollectorRegistry(auto_describe=True)
        self.openflow = OpenFlowCounts()
        self.sources = Sources()
        self.registry.register(ControllerCollector(self.openflow, self.sources))
        self.rest_seconds = Histogram(PREFIX + 'rest_request_seconds', 'REST requests by route (the pattern that '
                                      'matched, "%s" for none of ours), method and status, and how long each '
                                      'took from its head read to its reply written' % UNMATCHED_ROUTE,
                                      ['route', 'method', 'status'], buckets=REST_BUCKETS, registry=self.registry)
        self.commit_seconds = Histogram(PREFIX + 'store_commit_seconds', 'Commits of static flow entries to the '
                                        'SQLite store (one per group of pushes, delete or clear)',
                                        buckets=COMMIT_BUCKETS, registry=self.registry)
        self.reconcile_seconds = Histogram(PREFIX + 'reconcile_seconds', 'From a switch ready to its static '
                                           'entries reconciled (flow table read, difference sent)',
                                           buckets=RECONCILE_BUCKETS, registry=self.registry)

    def rest_request(self, route, method, status, seconds):
        """rest.server's observe: one REST request answered. Methods outside HTTP's own are labelled "other"
        (a client inventing them must not make a series each)."""
        self.rest_seconds.labels(route or UNMATCHED_ROUTE, method if method in HTTP_METHODS else 'other',
                                 status).observe(seconds)


HTTP_METHODS = frozenset(('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'))
