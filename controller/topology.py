"""The switch graph discovered by LLDP: links, clusters, shortest paths and the broadcast tree (pure).

Links are kept per direction, as LLDP sees them (src switch:port -> dst switch:port), each with the time it was
last seen. A cable counts for routing as soon as one direction has been seen (a veth or a wire carries both).
Derived views (ports that face another switch, adjacency, clusters, the broadcast tree, shortest paths) are
rebuilt on every change, which is rare, so that the packet-in path only reads dicts and sets.

A port is quarantined for `quarantine` seconds after its switch connects or the port comes up: nothing is
flooded out of it and nothing received on it (but LLDP) is handled, so a ring does not loop broadcasts before
its links are known.
"""
import math

from controller.of10 import OFPP_MAX


class Topology:
    def __init__(self, quarantine=2.0):
        self.quarantine = quarantine
        self.ports = {}        # dpid -> {port_no: port MAC (6 bytes)}: connected switches, ports that are up
        self.quarantined = {}  # (dpid, port_no) -> until (epoch seconds)
        self.links = {}        # (src_dpid, src_port, dst_dpid, dst_port) -> last seen
        # (dpid, port_no) -> last seen: ports a signed LLDP of a switch this controller has no session to arrives
        # at: they face a switch another controller (another --workers worker, or instance) masters. Hosts beyond
        # them are that controller's to place; here they are only learned per switch (controller.forwarding).
        self.foreign = {}
        self.version = 0
        self._rebuild()

    # --- changes ---------------------------------------------------------------------------------------

    def switch_up(self, dpid, ports, now):
        """A switch (re)connected with {port_no: mac}; returns the links that went away (its old ones)."""
        removed = self.switch_down(dpid)
        self.ports[dpid] = {}
        for port_no, mac in ports.items():
            self._add_port(dpid, port_no, mac, now)
        self._rebuild()
        return removed

    def switch_down(self, dpid):
        """-> the links removed with the switch."""
        known = dpid in self.ports
        self.ports.pop(dpid, None)
        for key in [k for k in self.quarantined if k[0] == dpid]:
            del self.quarantined[key]
        for key in [k for k in self.foreign if k[0] == dpid]:
            del self.foreign[key]
        removed = self._remove_links(lambda l: l[0] == dpid or l[2] == dpid)
        if known or removed:
            self._rebuild()
        return removed

    def port_up(self, dpid, port_no, mac, now):
        """-> True when the port is new or was down (LLDP should go out of it)."""
        ports = self.ports.get(dpid)
        if ports is None or port_no >= OFPP_MAX:
            return False
        if port_no in ports:
            ports[port_no] = mac
            return False
        self._add_port(dpid, port_no, mac, now)
        self._rebuild()
        return True

    def port_down(self, dpid, port_no):
        """-> the links removed with the port."""
        ports = self.ports.get(dpid)
        if ports is not None:
            ports.pop(port_no, None)
        self.quarantined.pop((dpid, port_no), None)
        removed = self._remove_links(lambda l: (l[0], l[1]) == (dpid, port_no) or (l[2], l[3]) == (dpid, port_no))
        self._rebuild()
        return removed

    def link_seen(self, src_dpid, src_port, dst_dpid, dst_port, now):
        """An LLDP sent out of src_dpid:src_port arrived at dst_dpid:dst_port.

        -> (changed, reverse_known): changed is True for a new link (links replaced by it are dropped);
        reverse_known tells whether the opposite direction is known too. (False, True) when ignored.
        """
        if dst_port in self.ports.get(dst_dpid, ()) and src_dpid not in self.ports:
            self.foreign[(dst_dpid, dst_port)] = now
            return False, True
        if src_port not in self.ports.get(src_dpid, ()) or dst_port not in self.ports.get(dst_dpid, ()):
            return False, True
        self.foreign.pop((dst_dpid, dst_port), None)  # the switch beyond it is connected here now
        key = (src_dpid, src_port, dst_dpid, dst_port)
        reverse = (dst_dpid, dst_port, src_dpid, src_port)
        if key in self.links:
            self.links[key] = now
            return False, reverse in self.links
        # a port is cabled to one other port: drop what this link contradicts
        self._remove_links(lambda l: (l[0], l[1]) == (src_dpid, src_port) or (l[2], l[3]) == (dst_dpid, dst_port)
                           or ((l[0], l[1]) in ((dst_dpid, dst_port),) and (l[2], l[3]) != (src_dpid, src_port))
                           or ((l[2], l[3]) in ((src_dpid, src_port),) and (l[0], l[1]) != (dst_dpid, dst_port)))
        self.links[key] = now
        self._rebuild()
        return True, reverse in self.links

    def expire(self, now, timeout):
        """Drop links not seen for `timeout` seconds; -> the removed links."""
        for port in [port for port, seen in self.foreign.items() if now - seen > timeout]:
            del self.foreign[port]
        removed = self._remove_links(lambda l: now - self.links[l] > timeout)
        if removed:
            self._rebuild()
        return removed

    def _add_port(self, dpid, port_no, mac, now):
        if port_no >= OFPP_MAX:
            return
        self.ports[dpid][port_no] = mac
        if self.quarantine > 0:
            self.quarantined[(dpid, port_no)] = now + self.quarantine

    def _remove_links(self, predicate):
        removed = [link for link in self.links if predicate(link)]
        for link in removed:
            del self.links[link]
        return removed

    # --- reading ---------------------------------------------------------------------------------------

    def is_quarantined(self, dpid, port_no, now):
        until = self.quarantined.get((dpid, port_no))
        if until is None:
            return False
        if now < until:
            return True
        del self.quarantined[(dpid, port_no)]
        return False

    def lldp_ports(self):
        """Every (dpid, port_no, mac) LLDP goes out of."""
        return [(dpid, port_no, mac) for dpid, ports in self.ports.items() for port_no, mac in ports.items()]

    def route(self, src, dst):
        """Switches on a shortest path src..dst (hop count, ties broken by the lower DPID), or None."""
        if src == dst:
            return [src] if src in self.ports else None
        parents = self._parents.get(src)
        if parents is None:
            parents = self._parents[src] = self._bfs(src)
        if dst not in parents:
            return None
        path = [dst]
        while path[-1] != src:
            path.append(parents[path[-1]])
        path.reverse()
        return path

    def flood_ports(self, dpid, in_port, now):
        """Ports a broadcast that came in on in_port leaves by, as a tuple; None when it must be dropped
        (it came in on a switch-facing port outside the broadcast tree)."""
        key = (dpid, in_port)
        cached = self._flood.get(key)
        if cached is not None and now < cached[1]:
            return cached[0]
        link_ports = self.link_ports.get(dpid, ())
        if in_port in link_ports and (dpid, in_port) not in self.tree_ports:
            result, valid_until = None, math.inf
        else:
            valid_until = math.inf
            out = []
            for port_no in sorted(self.ports.get(dpid, ())):
                if port_no == in_port or (port_no in link_ports and (dpid, port_no) not in self.tree_ports):
                    continue
                until = self.quarantined.get((dpid, port_no))
                if until is not None and now < until:
                    valid_until = min(valid_until, until)
                    continue
                out.append(port_no)
            result = tuple(out)
        self._flood[key] = (result, valid_until)
        return result

    def undirected_links(self):
        """[(src_dpid, src_port, dst_dpid, dst_port, bidirectional)], one per cable, lower endpoint first."""
        out = {}
        for (a, pa, b, pb) in self.links:
            key = min((a, pa, b, pb), (b, pb, a, pa))
            out[key] = out.get(key, False) or (b, pb, a, pa) in self.links
        return sorted((k + (both,) for k, both in out.items()), key=lambda x: x[:4])

    # --- derived views ---------------------------------------------------------------------------------

    def _rebuild(self):
        self.version += 1
        self.link_ports = {}
        cables = {}
        for (a, pa, b, pb) in self.links:
            self.link_ports.setdefault(a, set()).add(pa)
            self.link_ports.setdefault(b, set()).add(pb)
            if a == b:
                continue
            lo, hi = ((a, pa), (b, pb)) if a < b else ((b, pb), (a, pa))
            pair = (lo[0], hi[0])
            if pair not in cables or (lo[1], hi[1]) < cables[pair]:
                cables[pair] = (lo[1], hi[1])
        self.adjacency = {dpid: {} for dpid in self.ports}
        for (lo, hi), (lo_port, hi_port) in cables.items():
            if lo in self.adjacency and hi in self.adjacency:
                self.adjacency[lo][hi] = lo_port
                self.adjacency[hi][lo] = hi_port
        self.cluster_of = {}
        self.tree_ports = set()
        for root in sorted(self.ports):
            if root in self.cluster_of:
                continue
            parents = self._bfs(root)
            for node, parent in parents.items():
                self.cluster_of[node] = root
                if parent is not None:
                    self.tree_ports.add((node, self.adjacency[node][parent]))
                    self.tree_ports.add((parent, self.adjacency[parent][node]))
        self._parents = {}
        self._flood = {}

    def _bfs(self, src):
        """{node: parent} of a breadth-first tree from src (src's parent is None); neighbours in DPID order."""
        parents = {src: None}
        frontier = [src]
        while frontier:
            nxt = []
            for node in frontier:
                for neighbour in sorted(self.adjacency.get(node, ())):
                    if neighbour not in parents:
                        parents[neighbour] = node
                        nxt.append(neighbour)
            frontier = nxt
        return parents

    def clusters(self):
        """{cluster id (lowest DPID): [dpids sorted]}."""
        out = {}
        for dpid, root in self.cluster_of.items():
            out.setdefault(root, []).append(dpid)
        return {root: sorted(members) for root, members in sorted(out.items())}
