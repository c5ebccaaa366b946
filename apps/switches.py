"""Switch sessions: the registry of live OpenFlow 1.0 connections, the post-handshake barrier, sending."""
import collections
import logging
import time

from ryu.base import app_manager
from ryu.controller import ofp_event
from ryu.controller.handler import DEAD_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from ryu.lib import hub

from apps.events import EventSwitchGone, EventSwitchReady
from controller import ofmsgs
from controller.dpid import format_dpid
from controller.switches import SwitchRegistry

LOG = logging.getLogger(__name__)


class Outbox:
    """Messages for one session, sent in order by one green thread.

    Ryu's send queue holds 16 messages and blocks the sender when full; queueing here instead means a switch
    that reconciles ten thousand entries never stalls an event handler, the REST API or another switch.
    """

    def __init__(self, ryu_dp):
        self.ryu_dp = ryu_dp
        self.queue = collections.deque()
        self.sender = None

    def put(self, msgs):
        for msg in msgs:
            msg.datapath = self.ryu_dp
            self.ryu_dp.set_xid(msg)  # xids in queue order, known to the caller at once
        self.queue.extend(msgs)
        if self.sender is None:
            self.sender = hub.spawn(self._drain)

    def _drain(self):
        try:
            while self.queue and self.ryu_dp.is_active:
                self.ryu_dp.send_msg(self.queue.popleft())
        finally:
            self.sender = None
        if not self.ryu_dp.is_active:
            self.queue.clear()


class SwitchesApp(app_manager.RyuApp):
    """Owns the DPID -> session map. Other apps get it as a context and send through `send`."""
    OFP_VERSIONS = [ofmsgs.OFP_VERSION]
    _EVENTS = [EventSwitchReady, EventSwitchGone]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.registry = SwitchRegistry()

    @set_ev_cls(ofp_event.EventOFPStateChange, [MAIN_DISPATCHER, DEAD_DISPATCHER])
    def state_change_handler(self, ev):
        ryu_dp = ev.datapath
        if ev.state == MAIN_DISPATCHER:
            self._switch_up(ryu_dp)
        elif ryu_dp.id is not None and self.is_current(ryu_dp):
            self.registry.disconnect(ryu_dp.id, self.registry.get(ryu_dp.id).handle)
            LOG.info('switch %s disconnected', format_dpid(ryu_dp.id))
            self.send_event_to_observers(EventSwitchGone(ryu_dp.id))

    def _switch_up(self, ryu_dp):
        remote = '%s:%s' % tuple(ryu_dp.address[:2]) if ryu_dp.address else ''
        replaced = self.registry.connect(ryu_dp.id, Outbox(ryu_dp), remote, time.time())
        if replaced is not None:
            LOG.warning('switch %s connected again from %s; closing its older session from %s',
                        format_dpid(ryu_dp.id), remote, replaced.remote)
            replaced.handle.ryu_dp.close()
        LOG.info('switch %s connected from %s', format_dpid(ryu_dp.id), remote)
        # OVS stays in fail-open until the controller sends something beyond the handshake.
        self.registry.get(ryu_dp.id).handle.put([ofmsgs.barrier()])
        self.send_event_to_observers(EventSwitchReady(ryu_dp.id))

    def send(self, msgs_by_dpid):
        """Queue {dpid: [msgs]} for the current session of each switch, in order; xids are set on return.

        Switches that are not connected are skipped.
        """
        for dpid, msgs in msgs_by_dpid.items():
            session = self.registry.get(dpid)
            if session is not None:
                session.handle.put(msgs)

    def is_current(self, ryu_dp):
        session = self.registry.get(ryu_dp.id)
        return session is not None and session.handle.ryu_dp is ryu_dp

    def sessions(self):
        return self.registry.all()
