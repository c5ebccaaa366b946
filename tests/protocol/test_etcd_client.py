"""controller.etcd_client against a real 3-member etcd cluster on loopback (tests/lib/etcdcluster.py): failover,
green waits, leases, fencing by revision, a watch that resumes across the loss of its member, compaction."""
import time

import eventlet
import pytest
from eventlet.green.http import client as green_http

from controller import etcd_client, etcdstore
from controller.etcd_client import EtcdClient, EtcdUnavailable, compare, delete_op, put_op
from tests.lib.etcdcluster import EtcdCluster, etcd_installed

pytestmark = [pytest.mark.protocol,
              pytest.mark.skipif(not etcd_installed(), reason='etcd-server is not installed')]


@pytest.fixture
def cluster(tmp_path):
    cluster = EtcdCluster(tmp_path / 'etcd').start()
    yield cluster
    cluster.remove()


def green_client(cluster, **options):
    return EtcdClient(cluster.endpoints, connection_class=green_http.HTTPConnection, sleep=eventlet.sleep,
                      **options)


class Ticker:
    """A green thread that wakes every 10 ms and records its longest lateness: the hub was held that long."""

    def __init__(self):
        self.longest = 0.0
        self.running = True
        self.thread = eventlet.spawn(self._run)

    def _run(self):
        while self.running:
            before = time.monotonic()
            eventlet.sleep(0.01)
            self.longest = max(self.longest, time.monotonic() - before - 0.01)

    def stop(self):
        self.running = False
        self.thread.wait()
        return self.longest


def green_wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %g s waiting for %s' % (timeout, what))
        eventlet.sleep(0.02)


def test_kv_put_range_delete_and_txn(cluster):
    client = green_client(cluster)
    revision = client.put('/t/a', b'1')
    client.put('/t/b', b'2')
    client.put('/u/c', b'3')
    items, read_at = client.list_prefix('/t/', page=1)
    assert [(kv.key, kv.value) for kv in items] == [(b'/t/a', b'1'), (b'/t/b', b'2')]
    assert read_at >= revision + 2
    kv = client.get('/t/a')
    assert kv.mod_revision == kv.create_revision == revision
    # a txn comparing mod_revision: only the writer that read the current revision wins
    ok, _, _ = client.txn([compare('/t/a', 'MOD', revision)], [put_op('/t/a', b'new')])
    assert ok
    ok, responses, _ = client.txn([compare('/t/a', 'MOD', revision)], [put_op('/t/a', b'stale')],
                                  [etcd_client.range_op('/t/a')])
    assert not ok and etcd_client.unb64(responses[0]['response_range']['kvs'][0]['value']) == b'new'
    assert client.delete('/t/', etcd_client.prefix_end('/t/'))[0] == 2
    assert client.get('/t/a') is None and client.get('/u/c').value == b'3'


def test_a_killed_member_is_failed_over_without_an_error(cluster):
    client = green_client(cluster)
    client.put('/k', b'before')
    first = client.current
    cluster.kill(first)
    started = time.monotonic()
    client.put('/k', b'after')
    assert time.monotonic() - started < 2.5  # a leader's death costs an election (1 s here) at most, and retries
    assert client.current != first and client.failovers >= 1
    assert client.get('/k').value == b'after'


def test_a_silent_member_times_out_while_other_green_threads_keep_running(cluster):
    """SIGSTOP keeps the member's sockets open and answers nothing, as a partition does: the request waits its
    timeout (1 s) in the hub, not in the process, then goes to the next member."""
    client = green_client(cluster, request_timeout=1.0)
    client.put('/k', b'0')
    cluster.freeze(client.current)
    ticker = Ticker()
    started = time.monotonic()
    client.put('/k', b'1')
    took = time.monotonic() - started
    stall = ticker.stop()
    assert 0.9 < took < 4.0
    assert stall < 0.2, 'the hub was held %.3f s during a request to a silent member' % stall
    assert client.get('/k').value == b'1'


def test_no_quorum_is_unavailable_after_the_deadline_and_the_hub_runs_on(cluster):
    client = green_client(cluster, request_timeout=0.5, op_deadline=2.0)
    client.put('/k', b'0')
    cluster.kill(0)
    cluster.kill(1)
    ticker = Ticker()
    started = time.monotonic()
    with pytest.raises(EtcdUnavailable):
        client.put('/k', b'1')
    took = time.monotonic() - started
    stall = ticker.stop()
    assert 1.9 < took < 3.5
    assert stall < 0.2
    cluster.restart(0)
    cluster.restart(1)
    cluster.wait_healthy(30)
    assert client.get('/k').value == b'0'  # the refused write was not made


def test_lease_keeps_its_keys_while_kept_alive_and_drops_them_after_its_ttl(cluster):
    client = green_client(cluster)
    lease = client.grant(2)
    client.put('/claim', b'me', lease=lease)
    for _ in range(4):  # 3 s: past the TTL, kept alive
        eventlet.sleep(0.75)
        assert client.keepalive(lease) == 2
    assert client.get('/claim').lease == lease
    stopped = time.monotonic()
    green_wait(lambda: client.get('/claim') is None, 5, 'the lease to expire')
    assert 1.5 < time.monotonic() - stopped < 4.0
    assert client.keepalive(lease) == 0


def test_a_claim_revision_fences_a_former_holder(cluster):
    """The claim's mod_revision is the generation: a write guarded by the old holder's revision fails once
    another instance claimed the key after the old lease ended."""
    client = green_client(cluster)
    old_lease, new_lease = client.grant(5), client.grant(5)
    claim = [compare('/master/1', 'CREATE', 0)]
    ok, _, old_generation = client.txn(claim, [put_op('/master/1', b'A', old_lease)])
    assert ok
    assert not client.txn(claim, [put_op('/master/1', b'B', new_lease)])[0]  # held: B cannot take it
    client.revoke(old_lease)  # A's lease ends (expiry, or revoked)
    ok, _, new_generation = client.txn(claim, [put_op('/master/1', b'B', new_lease)])
    assert ok and new_generation > old_generation
    stale = client.txn([compare('/master/1', 'MOD', old_generation)], [put_op('/entry', b'from A')])[0]
    current = client.txn([compare('/master/1', 'MOD', new_generation)], [put_op('/entry', b'from B')])[0]
    assert (stale, current) == (False, True)
    assert client.get('/entry').value == b'from B'


def test_watch_resumes_on_another_member_when_its_member_is_killed(cluster):
    writer = green_client(cluster)
    _, start = writer.list_prefix('/w/')
    watcher_client = green_client(cluster)
    watcher_client.current = 0
    writer.current = 1
    seen = []
    watch = watcher_client.watch('/w/', start + 1, lambda events: seen.extend(
        (event.type, event.kv.key, event.kv.mod_revision) for event in events))
    thread = eventlet.spawn(watch.run)
    written = []
    try:
        for i in range(60):
            if i == 20:
                cluster.kill(0)  # the watch's member
            if i == 40:
                cluster.restart(0)
            written.append(('PUT', b'/w/%d' % i, writer.put('/w/%d' % i, b'x')))
            eventlet.sleep(0.01)
        writer.delete('/w/5')
        green_wait(lambda: len(seen) == 61, 10, 'every change to arrive')
    finally:
        watch.stop()
        thread.wait()
    assert seen[:60] == written  # each once, in order, across the member's loss
    assert seen[60][:2] == ('DELETE', b'/w/5')
    assert watch.reconnects >= 1


def test_watch_from_a_compacted_revision_asks_for_a_fresh_read(cluster):
    client = green_client(cluster)
    first = client.put('/c/a', b'1')
    last = client.put('/c/a', b'2')
    client.call('/kv/compaction', {'revision': last, 'physical': True})
    relisted = []

    def on_compacted(compacted):
        items, revision = client.list_prefix('/c/')
        relisted.append((compacted, [kv.value for kv in items]))
        return revision + 1

    seen = []
    watch = client.watch('/c/', first, lambda events: seen.extend(e.kv.value for e in events), on_compacted)
    thread = eventlet.spawn(watch.run)
    try:
        green_wait(lambda: relisted, 5, 'the compaction to be reported')
        client.put('/c/b', b'3')
        green_wait(lambda: seen, 5, 'the change after the re-read')
    finally:
        watch.stop()
        thread.wait()
    assert relisted == [(last, [b'2'])]
    assert seen == [b'3']


def test_a_txn_with_guarded_delete_and_range_ops(cluster):
    client = green_client(cluster)
    rev = client.put('/g/x', b'1')
    ok, _, _ = client.txn([compare('/g/x', 'MOD', rev)], [delete_op('/g/x')])
    assert ok and client.get('/g/x') is None


# --- the store's two backends (controller/etcdstore.py) on the cluster --------------------------------------------

class Entry:
    def __init__(self, name, dpid):
        self.name, self.dpid = name, dpid
        self.request_text = '{"name": "%s", "switch": "%d"}' % (name, dpid)


def test_mastership_claims_a_dead_instances_switch_and_fences_its_store_writes(cluster):
    vacated = []
    a = etcdstore.EtcdMastership(green_client(cluster), '/ofc/', 'a:1:x', ttl=2)
    b = etcdstore.EtcdMastership(green_client(cluster), '/ofc/', 'b:2:y', ttl=2, on_vacated=vacated.append)
    entries = etcdstore.EtcdEntryStore(green_client(cluster), '/ofc/')
    now = time.time()
    assert set(a.renew({1, 2}, set(), now, 2)) == {1, 2}
    b.load()
    watch = b.watch()
    thread = eventlet.spawn(watch.run)
    try:
        assert b.renew({1, 2}, set(), now, 2) == {}
        assert b.holders(now) == {1: 'a:1:x', 2: 'a:1:x'} and b.other_instances(now) == {'a:1:x'}
        entries.save_all([(Entry('e1', 1), 'floodlight'), (Entry('e2', 1), 'floodlight')])
        stale_guard = a.guard(1)
        # a stops renewing (stalled or dead): its lease ends on the members, b's watch sees the claims go
        green_wait(lambda: sorted(vacated) == [1, 2], 6, 'the claims to be vacated')
        held = b.renew({1, 2}, set(), time.time(), 2)
        assert set(held) == {1, 2} and b.guard(1)[1] > stale_guard[1]
        # the former master's guarded write fails; the new master's succeeds
        assert entries.delete('e1', guard=stale_guard) is False
        assert entries.delete('e1', guard=b.guard(1)) is True
        assert [request['name'] for _, request in entries.load()] == ['e2']
        # a renews again: its lease is gone, so are its claims, and b holds them
        assert a.renew({1, 2}, set(), time.time(), 2) == {}
        # b stops cleanly: its claims go at once (a, without a watch here, reads them again)
        b.close()
        a.load()
        assert a.holders(time.time()) == {}
        assert set(a.renew({1}, set(), time.time(), 2)) == {1}
    finally:
        watch.stop()
        thread.wait()
