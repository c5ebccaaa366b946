"""Which OpenFlow sessions are live, one per DPID. Pure: the glue passes `now` and opaque session handles.

A switch that reconnects before its old session is seen to drop (or a second switch claiming the same DPID)
replaces the old session: the newer one wins and the caller closes the one returned.
"""
from dataclasses import dataclass


@dataclass
class SwitchSession:
    dpid: int
    handle: object       # the glue's session object (a Ryu Datapath); compared by identity
    remote: str         # "address:port" of the peer
    since: float         # epoch seconds of the handshake


class SwitchRegistry:
    def __init__(self):
        self.sessions = {}  # dpid -> SwitchSession

    def connect(self, dpid, handle, remote, now):
        """Record a finished handshake. Returns the session it replaces (to be closed), or None."""
        old = self.sessions.get(dpid)
        self.sessions[dpid] = SwitchSession(dpid, handle, remote, now)
        if old is not None and old.handle is not handle:
            return old
        return None

    def disconnect(self, dpid, handle):
        """A session ended. True when it was the switch's current one (a replaced session's end is ignored)."""
        current = self.sessions.get(dpid)
        if current is None or current.handle is not handle:
            return False
        del self.sessions[dpid]
        return True

    def get(self, dpid):
        return self.sessions.get(dpid)

    def all(self):
        return [self.sessions[dpid] for dpid in sorted(self.sessions)]
