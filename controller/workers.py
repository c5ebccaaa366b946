"""All cores of one host (`--workers N`, docs/scale-out.md): the decisions of the supervisor and its workers, and
the messages between them. Pure: no sockets, no processes (apps/supervisor.py and apps/worker.py do the I/O).

The supervisor holds the user-facing ports (OpenFlow and REST) and accepts every connection itself; it hands each
one over to a worker (SCM_RIGHTS over a Unix SOCK_SEQPACKET socket pair, one per worker), which serves it as if
it had accepted it. OpenFlow connections go to the worker with the fewest sessions (`Placement`), so the switches
are balanced at connect time whatever their addresses (SO_REUSEPORT would hash the 4-tuple: with 4 switches one
worker gets them all one time in eight). A worker owns the switches it was handed: it takes their mastership
leases in the shared store like any instance, so nothing else of the controller knows it is one of several.

Messages, one datagram each (ASCII words):
  supervisor -> worker   `conn of I` + a descriptor: an OpenFlow connection for the worker's I-th listener
                         `conn rest` + a descriptor: a REST connection
                         `peers PID:PORT ...`: every ready worker's pid and private REST port (loopback)
  worker -> supervisor   `ready PORT`: serving; its private REST port
                         `load N M`: its OpenFlow sessions now, and the OpenFlow connections it received from
                         the supervisor in all (every LOAD_INTERVAL seconds)
"""
import math

LOAD_INTERVAL = 1.0        # seconds between a worker's load reports
RESTART_DELAY_MIN = 0.5    # seconds before a worker that died is started again; doubled per recent death
RESTART_DELAY_MAX = 10.0
RESTART_WINDOW = 60.0      # deaths longer ago than this do not lengthen the delay
OPENFLOW = 'of'
REST = 'rest'
LOCAL_HEADER = 'X-Worker-Local'  # a REST request one worker makes of another: answer from your own state

# The REST routes whose answer is a live switch's state, which only the worker holding the switch knows (every
# other route reads the shared store or answers the same anywhere). None: a list of every switch's state, the
# answering worker merges every worker's answer (`merge`); a name: the path parameter holding a DPID (or "all"),
# answered by the worker that holds that switch's lease, or merged for "all".
LIVE_ROUTES = {
    '/wm/core/controller/switches/json': None,
    '/wm/core/switch/{switch}/{stat}/json': 'switch',
    '/wm/core/switch/{dpid}/role/json': 'dpid',
    '/wm/core/controller/connections/{dpid}/history/json': 'dpid',
    '/wm/core/controller/connections/json': None,
    '/wm/statistics/bandwidth/{switch}/{port}/json': 'switch',
    '/wm/staticflowpusher/status/{switch}/json': 'switch',
    '/wm/device/': None,
    '/wm/device/all/json': None,
    '/wm/topology/links/json': None,
    '/wm/topology/directed-links/json': None,
    '/wm/topology/external-links/json': None,
}


def handover(kind, index=None):
    """The text sent with a handed-over descriptor."""
    return ('conn %s' % kind if index is None else 'conn %s %d' % (kind, index)).encode()


def peers_message(ports):
    """{pid: private REST port} -> its `peers` datagram."""
    return ('peers ' + ' '.join('%d:%d' % item for item in sorted(ports.items()))).strip().encode()


def parse(datagram):
    """A datagram -> (verb, [words]); ('', []) for an empty or undecodable one."""
    try:
        words = datagram.decode('ascii').split()
    except UnicodeDecodeError:
        return '', []
    return (words[0], words[1:]) if words else ('', [])


def parse_peers(words):
    """The words of a `peers` datagram -> {pid: port}; malformed pairs are skipped."""
    out = {}
    for word in words:
        pid, _, port = word.partition(':')
        if pid.isdigit() and port.isdigit():
            out[int(pid)] = int(port)
    return out


class Placement:
    """Which worker gets the next OpenFlow connection: the ready one with the fewest, counting the sessions it last
    reported plus the connections handed to it that it had not received yet at that report (reports lag by up
    to LOAD_INTERVAL, and one may cross a handover)."""

    def __init__(self):
        self.active = {}     # worker -> OpenFlow sessions it last reported
        self.received = {}   # worker -> connections it said it had received from the supervisor, in all
        self.sent = {}       # worker -> connections handed to it, in all

    def ready(self, worker):
        self.active[worker] = self.received[worker] = self.sent[worker] = 0

    def gone(self, worker):
        for table in (self.active, self.received, self.sent):
            table.pop(worker, None)

    def report(self, worker, active, received):
        if worker in self.active:
            self.active[worker] = active
            self.received[worker] = received

    def load(self, worker):
        return self.active[worker] + max(self.sent[worker] - self.received[worker], 0)

    def choose(self):
        """-> the worker for the next connection (the lowest number among equals), or None when none is ready."""
        if not self.active:
            return None
        return min(self.active, key=lambda worker: (self.load(worker), worker))

    def handed_to(self, worker):
        if worker in self.sent:
            self.sent[worker] += 1


class RoundRobin:
    """REST connections: one to each ready worker in turn (a request costs alike anywhere)."""

    def __init__(self):
        self.last = -1

    def choose(self, ready):
        if not ready:
            return None
        later = [worker for worker in sorted(ready) if worker > self.last]
        self.last = later[0] if later else min(ready)
        return self.last


def restart_delay(deaths, now):
    """Seconds to wait before starting again a worker that died, given the times of its deaths (the last one
    included): RESTART_DELAY_MIN doubled for every other death within RESTART_WINDOW, at most RESTART_DELAY_MAX,
    so a worker that crashes at start does not spin."""
    recent = sum(1 for when in deaths if now - when < RESTART_WINDOW)
    return min(RESTART_DELAY_MIN * 2 ** max(recent - 1, 0), RESTART_DELAY_MAX)


def fair_share(switches, instances):
    """The most switches one of `instances` live instances (or workers) should master out of `switches`."""
    return math.ceil(switches / max(instances, 1))


def switches_to_shed(held, switches, instances, eligible=None):
    """The balancing rule (docs/scale-out.md): an instance holding more than its fair share of the `switches`
    mastered by `instances` live instances gives up the excess, highest DPIDs first. `held`: the DPIDs it masters;
    `eligible`: those of them it may give up (default all). -> the DPIDs to shed (sorted)."""
    if instances <= 1:
        return []
    excess = len(held) - fair_share(switches, instances)
    candidates = sorted(held if eligible is None else set(held) & set(eligible))
    return candidates[-excess:] if excess > 0 else []


def merge(bodies):
    """The answers of every worker to one LIVE_ROUTES request -> one answer: lists are joined, objects united
    (their keys are DPIDs, each held by one worker). Anything else: the first answer."""
    bodies = list(bodies)
    if bodies and all(isinstance(body, list) for body in bodies):
        return [item for body in bodies for item in body]
    if bodies and all(isinstance(body, dict) for body in bodies):
        out = {}
        for body in bodies:
            out.update(body)
        return out
    return bodies[0] if bodies else None


def owner_pid(owner):
    """A lease holder's name (controller.mastership.owner_id: host:pid:nonce) -> its pid, or None."""
    pid = owner.split(':')[1] if owner.count(':') >= 2 else ''
    return int(pid) if pid.isdigit() else None
