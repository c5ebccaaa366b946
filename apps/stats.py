"""Statistics glue: one OpenFlow request per switch, replies matched by xid, all switches asked at once.

Replies are matched by (dpid, xid), so the static flow pusher's own flow stats exchange is never disturbed
(and its replies never land here).
"""
import time

from ryu import cfg
from ryu.app.wsgi import WSGIApplication
from ryu.base import app_manager
from ryu.controller import ofp_event
from ryu.controller.handler import MAIN_DISPATCHER, set_ev_cls
from ryu.lib import hub

from apps import config
from apps.rest_routes import mount
from apps.switches import SwitchesApp
from controller import of10
from rest import stats as stats_rest


class _Pending:
    __slots__ = ('parts', 'done', 'error')

    def __init__(self):
        self.parts = []
        self.done = hub.Event()
        self.error = None


class StatsApp(app_manager.RyuApp):
    OFP_VERSIONS = [of10.OFP_VERSION]
    _CONTEXTS = {'wsgi': WSGIApplication, 'switches': SwitchesApp}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config.register()
        self.switches = kwargs['switches']
        self.started = time.time()
        self._pending = {}  # (dpid, xid) -> _Pending
        mount(kwargs['wsgi'], stats_rest.ROUTES, self)

    # --- REST side ------------------------------------------------------------------------------------

    def query(self, dpids, stat):
        """{dpid: Floodlight body} for the given connected switches (None: all), asked concurrently.

        A switch that does not answer within --stats-timeout gets {"ERROR": reason}; one that is not
        connected is left out.
        """
        if dpids is None:
            dpids = sorted(session.dpid for session in self.switches.tracker.current_sessions())
        asked = {}
        for dpid in dpids:
            msg = of10.stats_request(stat)
            self.switches.send({dpid: [msg]})
            if msg.xid is None:
                continue  # not connected
            pending = self._pending[(dpid, msg.xid)] = _Pending()
            asked[dpid] = (msg.xid, pending)
        timeout = cfg.CONF.stats_timeout
        deadline = time.monotonic() + timeout
        results = {}
        try:
            for dpid, (xid, pending) in asked.items():
                pending.done.wait(max(0.0, deadline - time.monotonic()))
                if pending.error is not None:
                    results[dpid] = {'ERROR': 'switch answered with OpenFlow error %s %s' % pending.error}
                elif pending.done.is_set():
                    results[dpid] = stats_rest.stat_json(stat, pending.parts)
                else:
                    results[dpid] = {'ERROR': 'switch %s did not answer within %g s'
                                     % (stats_rest.format_dpid(dpid), timeout)}
        finally:
            for dpid, (xid, _pending) in asked.items():
                self._pending.pop((dpid, xid), None)
        return results

    # --- switch side ----------------------------------------------------------------------------------

    def _reply(self, msg, body, last=True):
        pending = self._pending.get((msg.datapath.id, msg.xid))
        if pending is None:
            return
        pending.parts.append(body)
        if last:
            pending.done.set()

    @set_ev_cls([ofp_event.EventOFPFlowStatsReply, ofp_event.EventOFPPortStatsReply,
                 ofp_event.EventOFPTableStatsReply, ofp_event.EventOFPQueueStatsReply,
                 ofp_event.EventOFPAggregateStatsReply, ofp_event.EventOFPDescStatsReply], MAIN_DISPATCHER)
    def stats_reply_handler(self, ev):
        msg = ev.msg
        self._reply(msg, msg.body, of10.is_last_stats_part(msg))

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, MAIN_DISPATCHER)
    def features_reply_handler(self, ev):
        self._reply(ev.msg, ev.msg)

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def error_handler(self, ev):
        msg = ev.msg
        pending = self._pending.get((msg.datapath.id, msg.xid))
        if pending is not None:
            pending.error = of10.describe_error(msg.type, msg.code)
            pending.done.set()
