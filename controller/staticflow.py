"""The static flow pusher's state: named entries, which switches are up, and the flow-mods each change needs.

Pure: every method returns the OpenFlow messages to send as {dpid: [msg, ...]}; the Ryu glue sends them.
Entries for a switch that is not connected are kept and sent when it connects (Floodlight 0.9x), and are
sent again on every reconnect.
"""
from collections import defaultdict

from controller import ofmsgs
from controller.flowentry import is_static_flow_cookie


class EntryConflictError(ValueError):
    """A push that would share its flow with another entry (REST answers 409)."""


class StaticFlowTable:
    def __init__(self):
        self.entries = {}          # name -> FlowEntry
        self.connected = set()     # dpids with a live OpenFlow session
        self.listed_dpids = set()  # switches that ever had an entry: `list` keeps them with [] after a clear
        # Indexes, so a push, a FLOW_REMOVED or a reconnect costs no scan of every entry:
        self._expected = {}                    # name -> ofmsgs.InstalledFlow its ADD leaves on the switch
        self._names_by_dpid = defaultdict(set)
        self._flow_owner = {}                  # (dpid, priority, match key) -> name of the active entry
        self._memo = None                      # (entry, expected flow, ADD message) last built, see _expected_and_add

    def _expected_and_add(self, entry):
        """-> (InstalledFlow the entry leaves on its switch, its ADD message). A REST push asks for both twice
        (conflicting_entry, then push): building them once halves the push's flow-mod work."""
        memo = self._memo
        if memo is not None and memo[0] is entry:
            return memo[1], memo[2]
        add = ofmsgs.flow_add(entry)
        flow = ofmsgs.expected_flow(entry, add)
        self._memo = (entry, flow, add)
        return flow, add

    def _add(self, entry, flow):
        self.entries[entry.name] = entry
        self._expected[entry.name] = flow
        self._names_by_dpid[entry.dpid].add(entry.name)
        if entry.active:
            self._flow_owner[(entry.dpid, flow.priority, flow.match)] = entry.name

    def _remove(self, name):
        entry = self.entries.pop(name, None)
        if entry is None:
            return None
        flow = self._expected.pop(name)
        self._names_by_dpid[entry.dpid].discard(name)
        key = (entry.dpid, flow.priority, flow.match)
        if self._flow_owner.get(key) == name:
            del self._flow_owner[key]
        return entry

    # --- queries -----------------------------------------------------------------------------------------

    def get(self, name):
        return self.entries.get(name)

    def entries_by_dpid(self, dpid=None):
        """{dpid: [active entries]} for one switch or all; inactive entries are not listed (as Floodlight)."""
        dpids = [dpid] if dpid is not None else sorted(self.listed_dpids)
        grouped = {d: [] for d in dpids}
        for entry in self.entries.values():  # push order, as the list shows it
            if entry.active and entry.dpid in grouped:
                grouped[entry.dpid].append(entry)
        return grouped

    def conflicting_entry(self, entry):
        """Name of another active entry with the same switch, match and priority, or None.

        OpenFlow 1.0 keeps one flow per (match, priority): two such entries would silently share one flow,
        and deleting either would remove both (Floodlight issue #736).
        """
        if not entry.active:
            return None
        flow, _ = self._expected_and_add(entry)
        owner = self._flow_owner.get((entry.dpid, flow.priority, flow.match))
        return owner if owner != entry.name else None

    # --- changes from REST ---------------------------------------------------------------------------------

    def push(self, entry):
        """Add or replace the entry named entry.name. Returns {dpid: [msgs]}."""
        flow, add = self._expected_and_add(entry)
        self._memo = None  # the ADD message is sent (and mutated) below: never hand it out twice
        old = self._remove(entry.name)
        self._add(entry, flow)
        self.listed_dpids.add(entry.dpid)
        out = defaultdict(list)
        old_installed = old is not None and old.active and old.dpid in self.connected
        if old_installed and entry.active and old.same_flow_identity(entry):
            out[entry.dpid].append(ofmsgs.flow_modify_strict(entry))
        else:
            if old_installed:
                out[old.dpid].append(ofmsgs.flow_delete_strict(old))
            if entry.active and entry.dpid in self.connected:
                out[entry.dpid].append(add)
        return _with_barriers(out)

    def delete(self, name):
        """Forget an entry and remove its flow. Returns {dpid: [msgs]} (empty when the name is unknown)."""
        old = self._remove(name)
        out = defaultdict(list)
        if old is not None and old.active and old.dpid in self.connected:
            out[old.dpid].append(ofmsgs.flow_delete_strict(old))
        return _with_barriers(out)

    def clear(self, dpid=None):
        """Delete every entry of one switch, or of all switches when dpid is None."""
        out = defaultdict(list)
        names = list(self.entries) if dpid is None else list(self._names_by_dpid.get(dpid, ()))
        for name in names:
            entry = self._remove(name)
            if entry.active and entry.dpid in self.connected:
                out[entry.dpid].append(ofmsgs.flow_delete_strict(entry))
        if dpid is not None:
            self.listed_dpids.add(dpid)
        return _with_barriers(out)

    def remove_expired(self, dpid, cookie, priority, match_key):
        """A FLOW_REMOVED for an idle or hard timeout: forget the entry it belonged to (Floodlight 1.1+).

        match_key is ofmsgs.match_key of the removed flow's match. Returns the removed entry's name, or None.
        """
        name = self._flow_owner.get((dpid, priority, match_key))
        entry = self.entries.get(name)
        if entry is None or entry.cookie != cookie or not (entry.idle_timeout or entry.hard_timeout):
            return None
        self._remove(name)
        return name

    # --- switch sessions ----------------------------------------------------------------------------------

    def switch_connected(self, dpid):
        """A switch finished its handshake: ask for its flow table, to reconcile against (see reconcile)."""
        self.connected.add(dpid)
        return {dpid: [ofmsgs.flow_stats_request()]}

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
        desired = {}
        for name in self._names_by_dpid.get(dpid, ()):
            entry = self.entries[name]
            if entry.active:
                flow = self._expected[name]
                desired[(flow.priority, flow.match)] = (entry, flow)
        msgs = []
        for flow in installed_flows:
            if is_static_flow_cookie(flow.cookie) and (flow.priority, flow.match) not in desired:
                msgs.append(ofmsgs.flow_delete_strict_installed(flow))
        present = {(f.priority, f.match): f for f in installed_flows}
        missing, in_place = [], []
        for key, (entry, flow) in desired.items():
            (in_place if _comparable(present.get(key)) == _comparable(flow) else missing).append(entry)
        missing = [e for e in missing if e.name not in sent_since]
        msgs.extend(ofmsgs.flow_add(e) for e in sorted(missing, key=lambda e: (e.priority, e.name)))
        msgs.append(ofmsgs.barrier())
        return {dpid: msgs}, [e.name for e in in_place]

    def switch_disconnected(self, dpid):
        self.connected.discard(dpid)
        return {}


def _comparable(flow):
    """What must agree for an installed flow to count as the entry's (not the raw OFPMatch)."""
    return None if flow is None else flow[:6]


def _with_barriers(out):
    """Close each switch's batch with a barrier, so a later barrier reply confirms it was applied."""
    return {dpid: msgs + [ofmsgs.barrier()] for dpid, msgs in out.items() if msgs}
