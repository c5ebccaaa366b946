"""The etcd store (`--store etcd://h1:2379,h2:2379,h3:2379[/prefix]`): static flow entries and switch mastership
in an etcd 3.4 cluster, for instances on several hosts. docs/scale-out.md. Side effects only, through
controller.etcd_client; the decisions stay in controller.pusher and controller.roles, which see the same
interfaces as the SQLite backends (controller.entrystore.EntryStore, controller.mastership.MastershipLeases).

Keys under the prefix (default /ofc/):
  entries/<name>        {"dialect", "dpid", "request"}: one key per entry, the request JSON text as received
  master/<dpid, 16 hex> the owner id of the instance that is the switch's master, under that instance's lease

Entries: a push is acknowledged after its put (pushes that arrive together: one txn, etcd's quorum commit with an
fsync on each member). Every instance lists entries/ at start and watches it from the listing's revision on, so
a push to any instance reaches the switch's master within a watch delivery (milliseconds), not a poll.

Mastership: one lease per instance (TTL --mastership-lease, kept alive every --mastership-renew); a claim is a txn
creating master/<dpid> under it only when absent. The claim's mod_revision is the switch's generation: a store
write only the master may make (deleting an entry whose flow expired) compares it, so a stalled former master
whose lease ran out cannot overwrite its successor's store. Standbys watch master/ and claim a switch at once when
its claim is deleted (its holder's lease ended, or it gave it up). An instance whose keepalive has not succeeded
within the TTL of the last one sent stops writing (controller.roles: its leases run out; it asks SLAVE).
"""
import json
import math

from controller import storefaults
from controller.etcd_client import (EtcdClient, EtcdError, EtcdUnavailable, KeyValue, compare, delete_op,
                                    parse_endpoints, prefix_end, put_op, range_op)
from controller.storefaults import StoreFault

MAX_TXN_OPS = 128      # etcd's default --max-txn-ops
DEFAULT_PREFIX = '/ofc/'


def is_etcd(url):
    return bool(url) and url.startswith('etcd://')


def connect(url, connection_class=None, sleep=None, request_timeout=1.0, op_deadline=5.0):
    """'etcd://h1:2379,h2:2379[/prefix]' -> (EtcdClient, prefix ending in '/')."""
    rest = url[len('etcd://'):]
    hosts, slash, path = rest.partition('/')
    prefix = '/' + path.strip('/') + '/' if slash and path.strip('/') else DEFAULT_PREFIX
    client = EtcdClient(parse_endpoints(hosts), request_timeout=request_timeout, op_deadline=op_deadline,
                        connection_class=connection_class, sleep=sleep)
    return client, prefix


def _fault(client, prefix, error):
    return StoreFault(storefaults.NO_QUORUM, client.url + prefix, str(error))


class EtcdEntryStore:
    """EntryStore's interface on etcd. Writes raise StoreFault(NO_QUORUM) when no member answered in time (the
    REST push answers 503; nothing is acknowledged)."""

    def __init__(self, client, prefix=DEFAULT_PREFIX):
        self.client = client
        self.prefix = prefix + 'entries/'
        self.path = client.url + prefix
        self.writable = True
        self.fault = None
        self.revision = 0        # the revision of the last listing: the watch starts after it
        self._dpids = {}         # name -> dpid of every entry in etcd as this instance knows it (clear(dpid))
        self._own = {}           # name -> revision of this instance's last write of it (its echo is skipped)
        # name -> request text of a put whose txn has not answered yet: the watch (another connection) can bring
        # its echo first, and it must not be taken for another instance's push
        self._in_flight = {}

    def _key(self, name):
        return self.prefix + name

    def _call(self, method, *args, **kwargs):
        try:
            result = method(*args, **kwargs)
        except (EtcdUnavailable, EtcdError) as error:
            self.fault = _fault(self.client, self.path[len(self.client.url):], error)
            raise self.fault from None
        self.fault = None
        return result

    # --- writes -----------------------------------------------------------------------------------------------

    def save(self, entry, dialect_name):
        self.save_all([(entry, dialect_name)])

    def save_all(self, entries):
        """Every (entry, dialect_name) in one txn (in txns of 128 past etcd's limit: all but the last may be
        written when a later one fails; nothing is acknowledged then)."""
        for start in range(0, len(entries), MAX_TXN_OPS):
            chunk = entries[start:start + MAX_TXN_OPS]
            ops = [put_op(self._key(entry.name), json.dumps({
                'dialect': dialect_name, 'dpid': entry.dpid, 'request': entry.request_text}))
                for entry, dialect_name in chunk]
            for entry, _ in chunk:
                self._in_flight[entry.name] = entry.request_text
            try:
                _, _, revision = self._call(self.client.txn, (), ops)
            finally:
                for entry, _ in chunk:
                    self._in_flight.pop(entry.name, None)
            for entry, _ in chunk:
                self._own[entry.name] = revision
                self._dpids[entry.name] = entry.dpid

    def delete(self, name, guard=None):
        """Delete an entry. guard (key, generation) from EtcdMastership.guard: only while that claim still has
        that revision (this instance is still the switch's master) -> False when it no longer has."""
        compares = [compare(guard[0], 'MOD', guard[1])] if guard else ()
        done, _, revision = self._call(self.client.txn, compares, [delete_op(self._key(name))])
        if done:
            self._own[name] = revision
            self._dpids.pop(name, None)
        return done

    def clear(self, dpid=None):
        if dpid is None:
            _, revision = self._call(self.client.delete, self.prefix, prefix_end(self.prefix))
            names = list(self._dpids)
        else:
            names = [name for name, entry_dpid in self._dpids.items() if entry_dpid == dpid]
            revision = None
            for start in range(0, len(names), MAX_TXN_OPS):
                _, _, revision = self._call(self.client.txn, (), [delete_op(self._key(name))
                                                                  for name in names[start:start + MAX_TXN_OPS]])
        for name in names:
            self._own[name] = revision
            self._dpids.pop(name, None)

    def recheck(self):
        """While a fault lasts: does a quorum answer again? (a linearizable read)"""
        self._call(self.client.range, self.prefix, limit=1)

    # --- reads ------------------------------------------------------------------------------------------------

    def load(self, unreadable=None):
        return list(self.iter_load(unreadable))

    def iter_load(self, unreadable=None):
        """[(dialect_name, request)] of every entry, read at one revision (kept in `revision`)."""
        items, self.revision = self._call(self.client.list_prefix, self.prefix)
        self._dpids.clear()
        for kv in items:
            row = self._row(kv, unreadable)
            if row is not None:
                yield row

    def _row(self, kv, unreadable):
        name = kv.key[len(self.prefix):].decode('utf-8', 'replace')
        try:
            value = json.loads(kv.value)
            request = json.loads(value['request'])
            if not isinstance(request, dict):
                raise ValueError('the stored request is %s, not a JSON object' % type(request).__name__)
        except (ValueError, KeyError, TypeError) as error:
            if unreadable is not None:
                unreadable(name, 'stored JSON unreadable: %s' % error)
            return None
        self._dpids[name] = value.get('dpid')
        return value.get('dialect'), request

    def changed_elsewhere(self):
        """The watch brings other instances' changes (changes()); nothing to poll."""
        return False

    def changes(self, events, unreadable=None):
        """A watch batch -> (rows [(dialect_name, request)] put by others, names deleted by others), in order.
        This instance's own writes (and anything older than them) are left out: they are applied already."""
        rows, deleted = [], []
        for event in events:
            name = event.kv.key[len(self.prefix):].decode('utf-8', 'replace')
            own = self._own.get(name)
            if own is not None and event.kv.mod_revision <= own:
                if event.kv.mod_revision == own:
                    del self._own[name]
                continue
            if event.type == 'DELETE':
                self._dpids.pop(name, None)
                rows = [row for row in rows if row[1].get('name') != name]
                deleted.append(name)
                continue
            row = self._row(event.kv, unreadable)
            if row is not None and self._in_flight.get(name) == json.loads(event.kv.value)['request']:
                continue  # this instance's put, echoed before its txn answered
            if row is not None:
                deleted = [gone for gone in deleted if gone != name]
                rows.append(row)
        return rows, deleted

    def watch(self, on_events, on_compacted):
        """The watch of entries/ from the last listing on (run() it in a green thread)."""
        return self.client.watch(self.prefix, self.revision + 1, on_events, on_compacted)

    def close(self):
        pass


class EtcdMastership:
    """MastershipLeases' interface on etcd: renew(wanted, released, now, lease) -> {dpid: expiry}; raises
    StoreFault when no member answered (controller.roles keeps the leases still running, which end at expiry)."""

    def __init__(self, client, prefix, owner, ttl, on_vacated=None):
        self.client = client
        self.prefix = prefix + 'master/'
        # one key per live instance under its lease (gone with the lease): the balancing rule's count
        self.member_key = prefix + 'members/' + owner
        self.path = client.url + prefix
        self.owner = owner
        self.ttl = max(1, int(math.ceil(ttl)))
        self.on_vacated = on_vacated   # on_vacated(dpid): another instance's claim is gone; claim it now
        # A keepalive waits at most this long, so that a member lost (a leader election takes about a second)
        # leaves time for another try before the lease would run out.
        self.keepalive_deadline = self.ttl / 3.0
        self.lease = 0
        # when this instance must assume its lease ended: the last keepalive sent + TTL (etcd counts from its
        # arrival, later); SwitchesApp.send drops writes from then on, whatever the renewal is doing
        self.expiry = 0.0
        self.claims = {}               # dpid -> (owner, mod_revision) of every claim, from the watch
        self.mine = {}                 # dpid -> generation (the claim's mod_revision) of this instance's claims
        self.revision = 0

    def _key(self, dpid):
        return '%s%016x' % (self.prefix, dpid)

    def _call(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except (EtcdUnavailable, EtcdError) as error:
            raise _fault(self.client, self.path[len(self.client.url):], error) from None

    def load(self):
        """Every claim now (at start, and after a compaction) -> the revision to watch from."""
        items, self.revision = self._call(self.client.list_prefix, self.prefix)
        self.claims = {int(kv.key[len(self.prefix):], 16): (kv.value.decode(), kv.mod_revision) for kv in items}
        return self.revision + 1

    def watch(self):
        return self.client.watch(self.prefix, self.revision + 1, self._claims_changed, lambda _: self.load())

    def _claims_changed(self, events):
        for event in events:
            try:
                dpid = int(event.kv.key[len(self.prefix):], 16)
            except ValueError:
                continue
            if event.type == 'DELETE':
                old = self.claims.pop(dpid, None)
                self.mine.pop(dpid, None)
                if old is not None and old[0] != self.owner and self.on_vacated is not None:
                    self.on_vacated(dpid)
            else:
                self.claims[dpid] = (event.kv.value.decode(), event.kv.mod_revision)

    def renew(self, wanted, released, now, lease):
        sent = now
        if self.lease:
            if self._call(self.client.keepalive, self.lease, self.keepalive_deadline) <= 0:
                self.lease, self.mine = 0, {}   # it ran out on the server: every claim is gone
        if not self.lease:
            self.lease = self._call(self.client.grant, self.ttl)
            self._call(self.client.put, self.member_key, self.owner, self.lease)
        self.expiry = sent + self.ttl
        for dpid in released:
            generation = self.mine.pop(dpid, None)
            if generation is not None:
                self._call(self.client.txn, [compare(self._key(dpid), 'MOD', generation)],
                           [delete_op(self._key(dpid))])
        free = [dpid for dpid in sorted(wanted) if dpid not in self.mine and self.claims.get(
            dpid, (self.owner,))[0] == self.owner]  # another's claim lives until the watch says it is deleted
        for start in range(0, len(free), MAX_TXN_OPS):
            self._claim_many(free[start:start + MAX_TXN_OPS])
        return {dpid: self.expiry for dpid in self.mine if dpid in wanted}

    def _claim_many(self, dpids):
        """Claim every one of `dpids` in one txn (a takeover of a dead instance's switches is one round trip,
        not one per switch); when one of them is held (another standby was quicker), learn the holders and claim
        the free ones one by one."""
        if len(dpids) == 1:
            return self._claim(dpids[0])
        keys = [self._key(dpid) for dpid in dpids]
        done, responses, revision = self._call(self.client.txn, [compare(key, 'CREATE', 0) for key in keys],
                                               [put_op(key, self.owner, self.lease) for key in keys],
                                               [range_op(key) for key in keys])
        if done:
            for dpid in dpids:
                self.mine[dpid] = revision
                self.claims[dpid] = (self.owner, revision)
            return None
        free = [dpid for dpid, response in zip(dpids, responses) if not self._learn(dpid, response)]
        for dpid in free:
            self._claim(dpid)
        return None

    def _learn(self, dpid, response):
        """A range response of a claim key -> whether it exists (its holder noted; this instance's own claim made
        by a try whose answer was lost is taken as made)."""
        kvs = response.get('response_range', {}).get('kvs') or []
        if not kvs:
            return False
        kv = KeyValue(kvs[0])
        self.claims[dpid] = (kv.value.decode(), kv.mod_revision)
        if kv.value.decode() == self.owner and kv.lease == self.lease:
            self.mine[dpid] = kv.mod_revision
        return True

    def _claim(self, dpid):
        key = self._key(dpid)
        done, responses, revision = self._call(
            self.client.txn, [compare(key, 'CREATE', 0)], [put_op(key, self.owner, self.lease)],
            [range_op(key)])
        if done:
            self.mine[dpid] = revision
            self.claims[dpid] = (self.owner, revision)
        elif responses:
            self._learn(dpid, responses[0])

    def guard(self, dpid):
        """(claim key, generation) for a store write only this switch's master may make, or None."""
        generation = self.mine.get(dpid)
        return None if generation is None else (self._key(dpid), generation)

    def other_instances(self, now):
        return {owner for owner, _ in self.claims.values() if owner != self.owner}

    def live_instances(self, now):
        """Every instance whose lease is alive, holding switches or not (MastershipLeases' method: the balancing
        rule's count). Raises StoreFault when no member answered."""
        items, _revision = self._call(self.client.list_prefix, self.member_key[:self.member_key.rindex('/') + 1])
        return {kv.value.decode() for kv in items} | ({self.owner} if self.lease else set())

    def holders(self, now):
        return {dpid: owner for dpid, (owner, _) in self.claims.items()}

    def close(self):
        """A clean stop gives the switches up at once (the standbys' watches see the claims deleted)."""
        if self.lease:
            try:
                self.client.revoke(self.lease)
            except EtcdUnavailable:
                pass
            self.lease = 0
