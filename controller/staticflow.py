"""The static flow pusher's state: named entries, which switches are up, and the flow-mods each change needs.

Pure: every method returns the OpenFlow messages to send as {dpid: [msg, ...]}; the Ryu glue sends them.
Entries for a switch that is not connected are kept and sent when it connects (Floodlight 0.9x), and are
sent again on every reconnect.

Memory (docs/performance.md): a controller holds 100,000 entries, so each is kept as a small record (its name,
switch, flags, a digest of its request, its ADD flow-mod as packed bytes and its status) rather than as a
FlowEntry with match and action tuples plus an expected-flow record. FlowEntry objects are rebuilt from the
packed bytes on demand (`get`, `entries`, `entries_by_dpid`: REST list and tests), and the flow a switch should
hold is read from them at reconcile time, one switch at a time.
"""
import hashlib
from collections import defaultdict
from collections.abc import Mapping

from controller import of10
from controller.entrystatus import State
from controller.flowentry import FlowEntry, is_static_flow_cookie


ACTIVE, PRIORITY_GIVEN, ACTIONS_GIVEN = 1, 2, 4


def request_hash(request_text):
    """A 128-bit digest of an entry's request text (FlowEntry.request_text: json.dumps of the request)."""
    return hashlib.blake2b(request_text.encode('utf-8', 'surrogatepass'), digest_size=16).digest()


class EntryConflictError(ValueError):
    """A push that would share its flow with another entry (REST answers 409)."""


class _Stored(State):
    """One entry as the table keeps it: no request text (about 200 bytes an entry; the store keeps it), only
    its hash, which tells a commit by another instance sharing the store from the entry already here.
    `key`: its flow_key in the owner index (None when inactive). `flags`: ACTIVE | PRIORITY_GIVEN | ACTIONS_GIVEN.
    It is also the entry's status record (entrystatus.State), for EntryStatus(records=table.records).
    """
    __slots__ = ('name', 'dpid', 'flags', 'request_hash', 'packed', 'key')

    def __init__(self, entry, packed, key):
        State.__init__(self)
        self.name = entry.name
        self.dpid = entry.dpid
        self.flags = ((ACTIVE if entry.active else 0) | (PRIORITY_GIVEN if entry.priority_given else 0)
                      | (ACTIONS_GIVEN if entry.actions_given else 0))
        self.request_hash = request_hash(entry.request_text)
        self.packed = packed
        self.key = key

    @property
    def active(self):
        return bool(self.flags & ACTIVE)

    def entry(self):
        """The FlowEntry this record was made from: equal to it, without its request text."""
        _, idle, hard, priority = of10.packed_fields(self.packed)
        return FlowEntry(name=self.name, dpid=self.dpid, priority=priority, match=of10.unpack_match(self.packed),
                         actions=of10.unpack_actions(self.packed), active=self.active, idle_timeout=idle,
                         hard_timeout=hard, priority_given=bool(self.flags & PRIORITY_GIVEN), request_text=None,
                         actions_given=bool(self.flags & ACTIONS_GIVEN))

    def flow_mod(self, command=of10.FLOW_ADD):
        return of10.packed_flow_mod(self.packed, self.name, command)


class EntriesView(Mapping):
    """name -> FlowEntry, in push order, each FlowEntry rebuilt when asked for. Names, `in` and len() cost no
    rebuild."""

    def __init__(self, records):
        self._records = records

    def __getitem__(self, name):
        return self._records[name].entry()

    def __iter__(self):
        return iter(self._records)

    def __len__(self):
        return len(self._records)

    def __contains__(self, name):
        return name in self._records


class StaticFlowTable:
    def __init__(self):
        self._records = {}          # name -> _Stored, in push order
        self.records = self._records  # for EntryStatus(records=...): read only outside this class
        self.entries = EntriesView(self._records)
        self.connected = set()      # dpids with a live OpenFlow session
        self.listed_dpids = set()   # switches that ever had an entry: `list` keeps them with [] after a clear
        # Indexes, so a push, a FLOW_REMOVED or a reconnect costs no scan of every entry:
        self._by_dpid = defaultdict(dict)   # dpid -> {name: _Stored}, in push order
        self._flow_owner = {}               # flow_key (dpid, priority, match) -> name of the active entry
        self._memo = None                   # (entry, packed ADD, flow key) last built, see _packed
        self._dpids = {}                    # dpid -> the one int object the records share for it

    def _packed(self, entry):
        """-> (packed ADD bytes, flow key) of a pushed entry. A REST push asks twice (conflicting_entry, then
        push): building them once halves the push's flow-mod work."""
        memo = self._memo
        if memo is not None and memo[0] is entry:
            return memo[1], memo[2]
        packed = of10.pack_flow_add(entry)
        key = of10.flow_key(entry.dpid, entry.priority, packed=packed)
        self._memo = (entry, packed, key)
        return packed, key

    def _add(self, entry, packed, key):
        record = _Stored(entry, packed, key if entry.active else None)
        # Every parse makes a new int for the DPID: 100,000 entries on 100 switches share 100 of them.
        record.dpid = self._dpids.setdefault(entry.dpid, entry.dpid)
        self._records[entry.name] = record
        self._by_dpid[record.dpid][entry.name] = record
        if entry.active:
            self._flow_owner[key] = entry.name
        return record

    def _remove(self, name):
        record = self._records.pop(name, None)
        if record is None:
            return None
        by_dpid = self._by_dpid[record.dpid]
        del by_dpid[name]
        if not by_dpid:
            del self._by_dpid[record.dpid]  # an emptied dict keeps its size; a new one starts small
        if record.key is not None and self._flow_owner.get(record.key) == name:
            del self._flow_owner[record.key]
        return record

    # --- queries -----------------------------------------------------------------------------------------

    def get(self, name):
        record = self._records.get(name)
        return None if record is None else record.entry()

    def __contains__(self, name):
        return name in self._records

    def dpid_of(self, name):
        record = self._records.get(name)
        return None if record is None else record.dpid

    def names(self, dpid=None):
        """Names of every entry (push order), or of one switch's entries."""
        return list(self._records if dpid is None else self._by_dpid.get(dpid, ()))

    def same_request(self, name, request_text):
        """True when the entry `name` was pushed with this request text (json.dumps of the request)."""
        record = self._records.get(name)
        return record is not None and record.request_hash == request_hash(request_text)

    def entries_by_dpid(self, dpid=None):
        """{dpid: [active entries]} for one switch or all; inactive entries are not listed (as Floodlight)."""
        return {d: self.active_entries(names) for d, names in self.listed_names(dpid)}

    def listed_names(self, dpid=None):
        """[(dpid, names of its entries in push order)] for one switch or every listed one, for a listing made a
        few entries at a time (rest/staticflow.py): active_entries(some of the names) then gives them."""
        dpids = [dpid] if dpid is not None else sorted(self.listed_dpids)
        return [(d, list(self._by_dpid.get(d, ()))) for d in dpids]

    def active_entries(self, names):
        """The active entries among `names`, rebuilt; a name no longer stored is skipped."""
        return [r.entry() for r in map(self._records.get, names) if r is not None and r.active]

    def conflicting_entry(self, entry, pending=None):
        """Name of another active entry with the same switch, match and priority, or None; with `pending`
        (controller.pusher.PushBatch: pushes not yet in the table), as the table will be once they are in.

        OpenFlow 1.0 keeps one flow per (match, priority): two such entries would silently share one flow,
        and deleting either would remove both (Floodlight issue #736).
        """
        if not entry.active:
            return None
        _, key = self._packed(entry)
        owner = None if pending is None else pending.owner_of(key)
        if owner is None:
            owner = self._flow_owner.get(key)
            if pending is not None and pending.has(owner):
                owner = None  # re-pushed among the pending ones with another flow (or inactive): the key is free
        return owner if owner != entry.name else None

    def flow_key_of(self, entry):
        """The flow key (of10.flow_key) a pushed entry's flow will have."""
        return self._packed(entry)[1]

    # --- changes from REST ---------------------------------------------------------------------------------

    def push(self, entry):
        """Add or replace the entry named entry.name. Returns {dpid: [msgs]}."""
        packed, key = self._packed(entry)
        self._memo = None
        old = self._remove(entry.name)
        record = self._add(entry, packed, key)
        if old is not None:
            record.copy_status(old)  # a re-push keeps its status until its flow-mod goes out
        self.listed_dpids.add(entry.dpid)
        old_installed = old is not None and old.active and old.dpid in self.connected
        if (old_installed and entry.active and old.dpid == entry.dpid
                and of10.flow_identity(old.packed) == of10.flow_identity(packed)):
            return {entry.dpid: [record.flow_mod(of10.FLOW_MODIFY_STRICT), of10.barrier()]}
        # What _with_barriers(defaultdict) gives, built directly: a push makes at most two lists, never empty.
        out = {}
        if old_installed:
            out[old.dpid] = [old.flow_mod(of10.FLOW_DELETE_STRICT)]
        if entry.active and entry.dpid in self.connected:
            out.setdefault(entry.dpid, []).append(record.flow_mod())
        for msgs in out.values():
            msgs.append(of10.barrier())
        return out

    def delete(self, name):
        """Forget an entry and remove its flow. Returns {dpid: [msgs]} (empty when the name is unknown)."""
        old = self._remove(name)
        out = defaultdict(list)
        if old is not None and old.active and old.dpid in self.connected:
            out[old.dpid].append(old.flow_mod(of10.FLOW_DELETE_STRICT))
        return _with_barriers(out)

    def clear(self, dpid=None):
        """Delete every entry of one switch, or of all switches when dpid is None."""
        out = defaultdict(list)
        for name in self.names(dpid):
            record = self._remove(name)
            if record.active and record.dpid in self.connected:
                out[record.dpid].append(record.flow_mod(of10.FLOW_DELETE_STRICT))
        if dpid is not None:
            self.listed_dpids.add(dpid)
        return _with_barriers(out)

    def remove_expired(self, dpid, cookie, priority, match_key):
        """A FLOW_REMOVED for an idle or hard timeout: forget the entry it belonged to (Floodlight 1.1+).

        match_key is of10.match_key of the removed flow's match. Returns the removed entry's name, or None.
        """
        name = self._flow_owner.get(of10.flow_key(dpid, priority, match_key=match_key))
        record = self._records.get(name)
        if record is None:
            return None
        entry_cookie, idle, hard, _ = of10.packed_fields(record.packed)
        if entry_cookie != cookie or not (idle or hard):
            return None
        self._remove(name)
        return name

    # --- switch sessions ----------------------------------------------------------------------------------

    def switch_connected(self, dpid):
        """A switch finished its handshake: ask for its flow table, to reconcile against (see reconcile)."""
        self.connected.add(dpid)
        return {dpid: [of10.flow_stats_request()]}

    def reconcile(self, dpid, installed_flows, sent_since=()):
        """The switch's table (InstalledFlows) -> ({dpid: flow-mods that make it match the stored entries},
        [names of entries whose flow is already in place]).

        Only flows with the static flow pusher's cookie are ours: one no entry accounts for is deleted; an
        entry whose flow is missing or differs is added (lowest priority first, as Floodlight); identical
        flows are left alone, so a secure-mode bridge that kept its flows sees no flow-mod at all.
        sent_since: names whose flow-mods went out after the flow table was asked for; they are already
        right on the switch, and a second ADD would reset their counters.
        """
        if dpid not in self.connected:
            return {}, []
        desired = {record.key: record for record in self._by_dpid.get(dpid, {}).values() if record.active}
        present = {}
        msgs = []
        for flow in installed_flows:
            key = of10.flow_key(dpid, flow.priority, match_key=flow.match)
            if is_static_flow_cookie(flow.cookie) and key not in desired:
                msgs.append(of10.flow_delete_strict_installed(flow))
            present[key] = flow
        missing, in_place = [], []
        for key, record in desired.items():
            flow = present.get(key)
            # The full comparison parses the entry's bytes: only for entries whose flow the switch has.
            if flow is not None and _comparable(flow) == _comparable(of10.packed_expected_flow(record.packed)):
                in_place.append(record.name)
            elif record.name not in sent_since:
                missing.append(record)
        missing.sort(key=lambda r: (of10.packed_fields(r.packed)[3], r.name))
        msgs.extend(record.flow_mod() for record in missing)
        msgs.append(of10.barrier())
        return {dpid: msgs}, in_place

    def switch_disconnected(self, dpid):
        self.connected.discard(dpid)
        return {}




def _comparable(flow):
    """What must agree for an installed flow to count as the entry's (not the raw OFPMatch)."""
    return flow[:6]


def _with_barriers(out):
    """Close each switch's batch with a barrier, so a later barrier reply confirms it was applied."""
    return {dpid: msgs + [of10.barrier()] for dpid, msgs in out.items() if msgs}
