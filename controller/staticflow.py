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

    # --- queries -----------------------------------------------------------------------------------------

    def get(self, name):
        return self.entries.get(name)

    def entries_by_dpid(self, dpid=None):
        """{dpid: [active entries]} for one switch or all; inactive entries are not listed (as Floodlight)."""
        dpids = [dpid] if dpid is not None else sorted(self.listed_dpids)
        grouped = {d: [] for d in dpids}
        for entry in self.entries.values():
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
        for other in self.entries.values():
            if (other.name != entry.name and other.active and other.dpid == entry.dpid
                    and other.priority == entry.priority and other.match == entry.match):
                return other.name
        return None

    # --- changes from REST ---------------------------------------------------------------------------------

    def push(self, entry):
        """Add or replace the entry named entry.name. Returns {dpid: [msgs]}."""
        old = self.entries.get(entry.name)
        self.entries[entry.name] = entry
        self.listed_dpids.add(entry.dpid)
        out = defaultdict(list)
        old_installed = old is not None and old.active and old.dpid in self.connected
        if old_installed and entry.active and old.same_flow_identity(entry):
            out[entry.dpid].append(ofmsgs.flow_modify_strict(entry))
        else:
            if old_installed:
                out[old.dpid].append(ofmsgs.flow_delete_strict(old))
            if entry.active and entry.dpid in self.connected:
                out[entry.dpid].append(ofmsgs.flow_add(entry))
        return _with_barriers(out)

    def delete(self, name):
        """Forget an entry and remove its flow. Returns {dpid: [msgs]} (empty when the name is unknown)."""
        old = self.entries.pop(name, None)
        out = defaultdict(list)
        if old is not None and old.active and old.dpid in self.connected:
            out[old.dpid].append(ofmsgs.flow_delete_strict(old))
        return _with_barriers(out)

    def clear(self, dpid=None):
        """Delete every entry of one switch, or of all switches when dpid is None."""
        out = defaultdict(list)
        for name, entry in list(self.entries.items()):
            if dpid is None or entry.dpid == dpid:
                del self.entries[name]
                if entry.active and entry.dpid in self.connected:
                    out[entry.dpid].append(ofmsgs.flow_delete_strict(entry))
        if dpid is not None:
            self.listed_dpids.add(dpid)
        return _with_barriers(out)

    def remove_expired(self, dpid, cookie, priority, match_key):
        """A FLOW_REMOVED for an idle or hard timeout: forget the entry it belonged to (Floodlight 1.1+).

        match_key is ofmsgs.match_key of the removed flow's match. Returns the removed entry's name, or None.
        """
        for name, entry in self.entries.items():
            if (entry.dpid == dpid and entry.cookie == cookie and entry.priority == priority
                    and (entry.idle_timeout or entry.hard_timeout)
                    and ofmsgs.expected_flow(entry).match == match_key):
                del self.entries[name]
                return name
        return None

    # --- switch sessions ----------------------------------------------------------------------------------

    def switch_connected(self, dpid):
        """A switch finished its handshake: ask for its flow table, to reconcile against (see reconcile)."""
        self.connected.add(dpid)
        return {dpid: [ofmsgs.flow_stats_request()]}

    def reconcile(self, dpid, installed_flows):
        """The switch's table (InstalledFlows) -> ({dpid: flow-mods that make it match the stored entries},
        [names of entries whose flow is already in place]).

        Only flows with the static flow pusher's cookie are ours: one no entry accounts for is deleted; an
        entry whose flow is missing or differs is added (lowest priority first, as Floodlight); identical
        flows are left alone, so a secure-mode bridge that kept its flows sees no flow-mod at all.
        """
        if dpid not in self.connected:
            return {}, []
        desired = {}
        for entry in self.entries.values():
            if entry.dpid == dpid and entry.active:
                flow = ofmsgs.expected_flow(entry)
                desired[(flow.priority, flow.match)] = (entry, flow)
        msgs = []
        for flow in installed_flows:
            if is_static_flow_cookie(flow.cookie) and (flow.priority, flow.match) not in desired:
                msgs.append(ofmsgs.flow_delete_strict_installed(flow))
        present = {(f.priority, f.match): f for f in installed_flows}
        missing, in_place = [], []
        for key, (entry, flow) in desired.items():
            (in_place if _comparable(present.get(key)) == _comparable(flow) else missing).append(entry)
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
