"""Switch sessions: the registry of live OpenFlow 1.0 connections, the post-handshake barrier, sending."""
import logging
import time

from ryu.base import app_manager
from ryu.controller import ofp_event
from ryu.controller.handler import DEAD_DISPATCHER, MAIN_DISPATCHER, set_ev_cls

from apps.events import EventSwitchGone, EventSwitchReady
from controller import ofmsgs
from controller.dpid import format_dpid
from controller.switches import SwitchRegistry

LOG = logging.getLogger(__name__)


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
        elif ryu_dp.id is not None and self.registry.disconnect(ryu_dp.id, ryu_dp):
            LOG.info('switch %s disconnected', format_dpid(ryu_dp.id))
            self.send_event_to_observers(EventSwitchGone(ryu_dp.id))

    def _switch_up(self, ryu_dp):
        remote = '%s:%s' % tuple(ryu_dp.address[:2]) if ryu_dp.address else ''
        replaced = self.registry.connect(ryu_dp.id, ryu_dp, remote, time.time())
        if replaced is not None:
            LOG.warning('switch %s connected again from %s; closing its older session from %s',
                        format_dpid(ryu_dp.id), remote, replaced.remote)
            replaced.handle.close()
        LOG.info('switch %s connected from %s', format_dpid(ryu_dp.id), remote)
        # OVS stays in fail-open until the controller sends something beyond the handshake.
        self._send_to(ryu_dp, [ofmsgs.barrier()])
        self.send_event_to_observers(EventSwitchReady(ryu_dp.id))

    def send(self, msgs_by_dpid):
        """Send {dpid: [msgs]} to the current session of each switch; switches not connected are skipped."""
        for dpid, msgs in msgs_by_dpid.items():
            session = self.registry.get(dpid)
            if session is not None:
                self._send_to(session.handle, msgs)

    @staticmethod
    def _send_to(ryu_dp, msgs):
        for msg in msgs:
            msg.datapath = ryu_dp
            ryu_dp.send_msg(msg)

    def sessions(self):
        return self.registry.all()
