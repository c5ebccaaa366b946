"""A small client of etcd v3's HTTP/JSON gateway (`/v3/...`, served by every etcd 3.4 member): KV put, range,
delete and txn, leases, and a watch that survives the loss of its member. docs/scale-out.md.

Why our own and not a library (measured in shared/reference/scaleout-etcd.md): the gRPC client (`etcd3`) blocks
the whole eventlet process; `etcd3gw` is green but talks to one member, and its watch stops for good, silently,
when that member dies; its `requests` stack costs 1.3-2.3 ms of CPU per put against 0.4 ms for `http.client`.
This module is plain `http.client` over sockets: under ryu-manager (eventlet monkey-patched) every wait is green;
a caller that is not patched passes eventlet's green `HTTPConnection` and `sleep` (the tests do).

Failover: the members are tried in turn; a connection error, a timeout (`request_timeout`, short) or a 5xx answer
moves to the next member, until the operation's deadline (`op_deadline`), then EtcdUnavailable. A 5xx is what a
member without a quorum answers, after its own 7 s: the short request timeout reaches the next member first.

Retried writes: a put or txn whose answer was lost may have been committed. Every write here is safe to repeat
(a put of the same value; a claim sees its own owner and lease; a guarded delete whose key is gone reports that).
"""
import base64
import http.client
import json
import socket
import time

RETRY_PAUSE = 0.05     # seconds between rounds over every member
GRPC_UNAVAILABLE = 14


class EtcdError(Exception):
    """etcd refused a request (bad request, compacted revision, lease not found): `code` is gRPC's."""

    def __init__(self, code, message):
        self.code = code
        super().__init__(message)


class EtcdUnavailable(Exception):
    """No member answered within the operation's deadline (quorum lost, or every member unreachable)."""


class _Retry(Exception):
    """This member failed; try the next."""


def b64(data):
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def unb64(text):
    return base64.b64decode(text or '')


def prefix_end(prefix):
    """The range end that covers every key starting with `prefix` (etcd's convention: last byte plus one)."""
    data = bytearray(prefix.encode() if isinstance(prefix, str) else prefix)
    while data and data[-1] == 0xff:
        data.pop()
    if not data:
        return b'\0'
    data[-1] += 1
    return bytes(data)


def parse_endpoints(text):
    """'h1:2379,h2:2379' or 'etcd://h1:2379,h2' -> [(host, port)] (port 2379 when left out)."""
    if text.startswith('etcd://'):
        text = text[len('etcd://'):]
    out = []
    for part in text.split(','):
        part = part.strip()
        if not part:
            continue
        host, sep, port = part.rpartition(':')
        if not sep or ']' in port:
            host, port = part, '2379'
        if not port.isdigit() or not host:
            raise ValueError('etcd endpoint %r is not HOST:PORT' % part)
        out.append((host.strip('[]'), int(port)))
    if not out:
        raise ValueError('no etcd endpoint in %r' % text)
    return out


class KeyValue:
    """One key as etcd returns it (a range result or a watch event's kv)."""
    __slots__ = ('key', 'value', 'create_revision', 'mod_revision', 'lease')

    def __init__(self, raw):
        self.key = unb64(raw.get('key'))
        self.value = unb64(raw.get('value'))
        self.create_revision = int(raw.get('create_revision', 0))
        self.mod_revision = int(raw.get('mod_revision', 0))
        self.lease = int(raw.get('lease', 0))


class Event:
    """A watch event: `type` PUT or DELETE, and the key as it is after it (a DELETE's value is empty and its
    mod_revision is the revision of the delete)."""
    __slots__ = ('type', 'kv')

    def __init__(self, raw):
        self.type = raw.get('type', 'PUT')
        self.kv = KeyValue(raw['kv'])


# --- txn building blocks (etcd's JSON names) ------------------------------------------------------------------

def put_op(key, value, lease=0):
    op = {'key': b64(key), 'value': b64(value)}
    if lease:
        op['lease'] = lease
    return {'request_put': op}


def delete_op(key, range_end=None):
    op = {'key': b64(key)}
    if range_end is not None:
        op['range_end'] = b64(range_end)
    return {'request_delete_range': op}


def range_op(key):
    return {'request_range': {'key': b64(key)}}


def compare(key, target, value, result='EQUAL'):
    """A txn condition: target CREATE, MOD, VERSION (revisions, numbers) or VALUE (bytes)."""
    field = {'CREATE': 'create_revision', 'MOD': 'mod_revision', 'VERSION': 'version', 'VALUE': 'value'}[target]
    return {'key': b64(key), 'target': target, 'result': result,
            field: b64(value) if target == 'VALUE' else value}


class EtcdClient:
    def __init__(self, endpoints, request_timeout=1.0, op_deadline=5.0, connection_class=None, sleep=None,
                 clock=time.monotonic):
        self.endpoints = list(endpoints)
        self.request_timeout = request_timeout
        self.op_deadline = op_deadline
        self.connection_class = connection_class or http.client.HTTPConnection
        self.sleep = sleep or time.sleep
        self.clock = clock
        self.current = 0      # the member tried first: the last one that answered
        self.failovers = 0    # moves to another member, for tests and health
        self._idle = {}       # endpoint -> [idle keep-alive connections]

    @property
    def url(self):
        return 'etcd://' + ','.join('%s:%d' % endpoint for endpoint in self.endpoints)

    # --- one request, with failover ---------------------------------------------------------------------------

    def call(self, path, payload, deadline=None):
        """POST /v3<path> with a JSON payload to a member that answers -> its JSON answer. Raises EtcdError for a
        refusal and EtcdUnavailable when no member answered within the deadline."""
        end = self.clock() + (self.op_deadline if deadline is None else deadline)
        body = json.dumps(payload).encode()
        tried, last = 0, None
        while True:
            endpoint = self.endpoints[self.current]
            try:
                # no try outlives the deadline (a keepalive's is shorter than the request timeout)
                return self._post(endpoint, path, body, max(0.05, min(self.request_timeout, end - self.clock())))
            except _Retry as failure:
                last = failure
            tried += 1
            self.current = (self.current + 1) % len(self.endpoints)
            self.failovers += 1
            if self.clock() >= end:
                raise EtcdUnavailable('no etcd member of %s answered %s within %g s (%d tries; last: %s)'
                                      % (self.url, path, self.op_deadline if deadline is None else deadline,
                                         tried, last))
            if tried % len(self.endpoints) == 0:
                self.sleep(RETRY_PAUSE)

    def _post(self, endpoint, path, body, timeout):
        idle = self._idle.setdefault(endpoint, [])
        conn = idle.pop() if idle else self.connection_class(endpoint[0], endpoint[1], timeout=timeout)
        conn.timeout = timeout
        try:
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            conn.request('POST', '/v3' + path, body, {'Content-Type': 'application/json'})
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as error:
            conn.close()
            raise _Retry('%s:%d %s: %s' % (endpoint[0], endpoint[1], type(error).__name__, error)) from None
        idle.append(conn)
        try:
            answer = json.loads(data.splitlines()[0] if data else b'{}')
        except ValueError:
            raise _Retry('%s:%d answered %d with no JSON' % (endpoint[0], endpoint[1], resp.status)) from None
        if 'result' in answer and len(answer) == 1:  # a stream's (keepalive's) first message
            answer = answer['result']
        if resp.status >= 500 or answer.get('code') == GRPC_UNAVAILABLE:
            raise _Retry('%s:%d answered %d: %s' % (endpoint[0], endpoint[1], resp.status,
                                                   answer.get('error') or answer.get('message')))
        if resp.status != 200 or 'error' in answer:
            raise EtcdError(answer.get('code'), answer.get('message') or answer.get('error') or data[:200])
        return answer

    def close(self):
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()

    # --- KV ---------------------------------------------------------------------------------------------------

    def put(self, key, value, lease=0):
        """-> the revision of the put."""
        payload = {'key': b64(key), 'value': b64(value)}
        if lease:
            payload['lease'] = lease
        return int(self.call('/kv/put', payload)['header']['revision'])

    def get(self, key, serializable=False):
        """-> the KeyValue of `key`, or None."""
        kvs = self.call('/kv/range', {'key': b64(key), 'serializable': serializable}).get('kvs') or []
        return KeyValue(kvs[0]) if kvs else None

    def range(self, key, range_end=None, revision=0, limit=0, serializable=False):
        """-> ([KeyValue], revision of the read, more)."""
        payload = {'key': b64(key), 'serializable': serializable}
        if range_end is not None:
            payload['range_end'] = b64(range_end)
        if revision:
            payload['revision'] = revision
        if limit:
            payload['limit'] = limit
        answer = self.call('/kv/range', payload)
        return ([KeyValue(kv) for kv in answer.get('kvs') or []], int(answer['header']['revision']),
                bool(answer.get('more')))

    def list_prefix(self, prefix, page=1000):
        """Every key under `prefix` at one revision, a page at a time -> ([KeyValue], revision): a watch from
        revision + 1 then misses and repeats nothing."""
        end = prefix_end(prefix)
        start = prefix.encode() if isinstance(prefix, str) else prefix
        items, revision = [], 0
        while True:
            kvs, read_at, more = self.range(start, end, revision=revision, limit=page)
            revision = revision or read_at
            items.extend(kvs)
            if not more or not kvs:
                return items, revision
            start = kvs[-1].key + b'\0'

    def delete(self, key, range_end=None):
        """-> (keys deleted, revision)."""
        payload = {'key': b64(key)}
        if range_end is not None:
            payload['range_end'] = b64(range_end)
        answer = self.call('/kv/deleterange', payload)
        return int(answer.get('deleted', 0)), int(answer['header']['revision'])

    def txn(self, compares=(), success=(), failure=()):
        """-> (succeeded, [responses], revision). etcd takes at most --max-txn-ops (128 by default) operations."""
        answer = self.call('/kv/txn', {'compare': list(compares), 'success': list(success),
                                       'failure': list(failure)})
        return bool(answer.get('succeeded')), answer.get('responses') or [], int(answer['header']['revision'])

    # --- leases -----------------------------------------------------------------------------------------------

    def grant(self, ttl):
        """-> the id of a new lease of `ttl` seconds."""
        return int(self.call('/lease/grant', {'TTL': int(ttl), 'ID': 0})['ID'])

    def keepalive(self, lease, deadline=None):
        """Refresh `lease` once -> its TTL now; 0 when it has expired (its keys are gone)."""
        return int(self.call('/lease/keepalive', {'ID': lease}, deadline).get('TTL', 0))

    def revoke(self, lease):
        try:
            self.call('/kv/lease/revoke', {'ID': lease})
        except EtcdError:
            pass  # expired already: nothing to give back

    # --- watch ------------------------------------------------------------------------------------------------

    def watch(self, prefix, start_revision, on_events, on_compacted=None, read_timeout=3.0):
        """A Watch of every key under `prefix` from `start_revision` on; `run()` it in a green thread."""
        return Watch(self, prefix, start_revision, on_events, on_compacted, read_timeout)


class Watch:
    """Every change under a prefix, in order, from a revision on, across the loss of members: a broken stream,
    a member that goes silent for `read_timeout` (progress notifications, when the members send them, keep a live
    stream talking), or a watch the member cancels is opened again on the next member from the revision after
    the last one delivered. on_events([Event]) gets each batch. A start revision compacted away calls
    on_compacted(compact_revision), which re-reads the prefix and returns the revision to watch from (without it
    the watch stops)."""

    def __init__(self, client, prefix, start_revision, on_events, on_compacted, read_timeout):
        self.client = client
        self.key = prefix.encode() if isinstance(prefix, str) else prefix
        self.next_revision = start_revision
        self.on_events = on_events
        self.on_compacted = on_compacted
        self.read_timeout = read_timeout
        self.reconnects = 0
        self.last_error = None
        self.stopped = False
        self._conn = None

    def stop(self):
        self.stopped = True
        sock = self._conn.sock if self._conn is not None else None
        if sock is not None:
            try:  # wakes the reader with an end of stream (closing the file under a reader is an error)
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def run(self):
        client = self.client
        member = client.current
        while not self.stopped:
            endpoint = client.endpoints[member]
            try:
                if self._stream(endpoint) == 'compacted':
                    return
            except (OSError, http.client.HTTPException, ValueError, KeyError, _Retry) as error:
                self.last_error = '%s:%d %s: %s' % (endpoint[0], endpoint[1], type(error).__name__, error)
            finally:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
            if self.stopped:
                return
            self.reconnects += 1
            member = (member + 1) % len(client.endpoints)
            client.sleep(RETRY_PAUSE)

    def _stream(self, endpoint):
        body = json.dumps({'create_request': {'key': b64(self.key), 'range_end': b64(prefix_end(self.key)),
                                              'start_revision': self.next_revision, 'progress_notify': True}})
        self._conn = conn = self.client.connection_class(endpoint[0], endpoint[1], timeout=self.read_timeout)
        # hasleader: a member cut off from the others cancels the watch rather than keep it silent
        conn.request('POST', '/v3/watch', body, {'Content-Type': 'application/json',
                                                 'Grpc-Metadata-hasleader': 'true'})
        resp = conn.getresponse()
        if resp.status != 200:
            raise _Retry('watch answered %d: %s' % (resp.status, resp.read(200)))
        while not self.stopped:
            line = resp.readline()
            if not line:
                raise _Retry('the watch stream ended')
            line = line.strip()
            if not line:
                continue
            message = json.loads(line)
            if 'error' in message:
                raise _Retry(str(message['error']))
            result = message['result']
            compacted = int(result.get('compact_revision', 0) or 0)
            if compacted:
                if self.on_compacted is None:
                    return 'compacted'
                self.next_revision = self.on_compacted(compacted)
                raise _Retry('revision compacted at %d: re-read, watching from %d' % (compacted,
                                                                                     self.next_revision))
            if result.get('canceled'):
                raise _Retry('the member canceled the watch: %s' % result.get('cancel_reason', ''))
            events = result.get('events')
            if events:
                batch = [Event(raw) for raw in events]
                self.next_revision = batch[-1].kv.mod_revision + 1
                self.on_events(batch)
            elif not result.get('created'):
                # a progress notification: every change up to the header's revision has been sent
                self.next_revision = max(self.next_revision, int(result['header']['revision']) + 1)
        return None
