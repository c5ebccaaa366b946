"""The static flow pusher's state: named entries, which switches are up, and the flow-mods each change needs.

Pure: every method returns the OpenFlow messages to send as {dpid: [msg, ...]}; the Ryu glue sends them.
Entries for a switch that is not connected are kept and sent when it connects (Floodlight 0.9x), and are
sent again on every reconnect.
"""
from collections import defaultdict

from controller import ofmsgs


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

    def remove_expired(self, dpid, cookie, priority, match_pairs):
        """A FLOW_REMOVED for an idle or hard timeout: forget the entry it belonged to (Floodlight 1.1+).

        Returns the name of the removed entry, or None.
        """
        for name, entry in self.entries.items():
            if (entry.dpid == dpid and entry.cookie == cookie and entry.priority == priority
                    and entry.match == match_pairs and (entry.idle_timeout or entry.hard_timeout)):
                del self.entries[name]
                return name
        return None

    # --- switch sessions ----------------------------------------------------------------------------------

    def switch_connected(self, dpid):
        """A switch finished its handshake: install its active entries, lowest priority first, then a barrier."""
        self.connected.add(dpid)
        entries = sorted((e for e in self.entries.values() if e.dpid == dpid and e.active),
                         key=lambda e: (e.priority, e.name))
        msgs = [ofmsgs.flow_add(entry) for entry in entries]
        msgs.append(ofmsgs.barrier())
        return {dpid: msgs}

    def switch_disconnected(self, dpid):
        self.connected.discard(dpid)
        return {}


def _with_barriers(out):
    """Close each switch's batch with a barrier, so a later barrier reply confirms it was applied."""
    return {dpid: msgs + [ofmsgs.barrier()] for dpid, msgs in out.items() if msgs}
