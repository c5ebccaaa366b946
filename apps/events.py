"""Events the switch session app hands to the other apps, in handshake order."""
from ryu.controller import event


class EventSwitchReady(event.EventBase):
    """A switch finished its handshake and is the current session for its DPID."""

    def __init__(self, dpid):
        super().__init__()
        self.dpid = dpid


class EventSwitchGone(event.EventBase):
    """The current session of a switch ended."""

    def __init__(self, dpid):
        super().__init__()
        self.dpid = dpid
