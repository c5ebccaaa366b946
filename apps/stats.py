"""Statistics glue: one OpenFlow request per switch, replies matched by xid, all switches asked at once; and
Floodlight 1.2's statistics collector: while on (--statistics-collection, or POST /wm/statistics/config/enable),
every --statistics-interval seconds every switch's port counters are asked for and handed to
controller.bandwidth, whose rates /wm/statistics/bandwidth answers.

Replies are matched by (dpid, xid), so the static flow pusher's own flow stats exchange is never disturbed
(and its replies never land here).
"""
import logging
import time

from ryu import cfg
from ryu.app.wsgi import WSGIApplication
from ryu.base import app_manager
from ryu.controller import ofp_event
from ryu.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from ryu.lib import hub

from apps import config
from apps.background import BackgroundLoops
from apps.events import EventSwitchGone
from apps.rest_routes import mount
from apps.switches import SwitchesApp
from controller import bandwidth, of10
from rest import stats as stats_rest

LOG = logging.getLogger(__name__)


class _Pending:
    __slots__ = ('parts', 'done', 'error')

    def __init__(self):
        self.parts = []
        self.done = hub.Event()
        self.error = None


class StatsApp(BackgroundLoops, app_manager.RyuApp):
    OFP_VERSIONS = [of10.OFP_VERSION]
    _CONTEXTS = {'wsgi': WSGIApplication, 'switches': SwitchesApp}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config.register()
        self.switches = kwargs['switches']
        self.started = time.time()
        self._pending = {}  # (dpid, xid) -> _Pending
        # Each switch's last FEATURES_REPLY and description, for the 0.9x keys of the switch list.
        self.features = {}
        self.descriptions = {}
        self._described = set()  # switches asked for their description on this connection
        self.bandwidth = bandwidth.BandwidthTable()
        self.collecting = cfg.CONF.statistics_collection
        self._collect_wakeup = hub.Event()
        mount(kwargs['wsgi'], stats_rest.ROUTES, self)

    def start(self):
        thread = super().start()
        self.spawn_loop(self._collector)
        return thread

    # --- the statistics collector -----------------------------------------------------------------------

    def collect_statistics(self, on):
        """Turn port counter polling on or off (REST); off forgets every rate, as Floodlight 1.2 did."""
        self.collecting = on
        if not on:
            self.bandwidth.forget()
        self._collect_wakeup.set()

    def _collector(self):
        while True:
            if self.collecting:
                try:
                    self._poll_ports()
                except Exception:  # the poller must survive a bug in one round
                    LOG.exception('port statistics poll failed')
            self._collect_wakeup.clear()
            self._collect_wakeup.wait(cfg.CONF.statistics_interval if self.collecting else None)

    def _poll_ports(self):
        """One round: every switch's port counters (and port speeds from a FEATURES_REPLY) into the table."""
        now = time.time()
        counters = self._ask(None, 'port')
        speeds = self._ask(list(counters), 'features')
        connected = set(counters)
        for dpid, (parts, error) in counters.items():
            if error is not None or not self.collecting:
                continue
            samples = [bandwidth.Sample(s.port_no, s.rx_bytes, s.tx_bytes) for body in parts for s in body]
            features, features_error = speeds.get(dpid, (None, 'no reply'))
            port_speeds = {} if features_error else {
                p.port_no: bandwidth.port_speed(p.curr) for p in features[0].ports.values()}
            self.bandwidth.update(dpid, samples, now, port_speeds)
        for dpid in self.bandwidth.switches() - connected:  # disconnected since the previous round
            self.bandwidth.forget(dpid)

    # --- REST side ------------------------------------------------------------------------------------

    def query(self, dpids, stat):
        """{dpid: Floodlight body} for the given connected switches (None: all), asked concurrently.

        A switch that does not answer within --stats-timeout gets {"ERROR": reason}; one that is not
        connected is left out.
        """
        results = {}
        for dpid, (parts, error) in self._ask(dpids, stats_rest.REQUESTED.get(stat, stat)).items():
            results[dpid] = {'ERROR': error} if error is not None else stats_rest.stat_json(
                stat, parts, cfg.CONF.floodlight_api)
        return results

    def describe(self, dpids):
        """Ask each switch among `dpids` whose description is not known for it, once per connection, without
        waiting: the switch list shows the answer from its next reading on (desc_reply_handler keeps it)."""
        for dpid in dpids:
            if dpid not in self.descriptions and dpid not in self._described:
                self._described.add(dpid)
                self.switches.send({dpid: [of10.stats_request('desc')]})

    def _ask(self, dpids, stat):
        """{dpid: (reply parts, None) or (None, why there is no answer)} for the connected switches among
        `dpids` (None: all), one `stat` request each, asked concurrently."""
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
                    results[dpid] = (None, 'switch answered with OpenFlow error %s %s' % pending.error)
                elif pending.done.is_set():
                    results[dpid] = (pending.parts, None)
                else:
                    results[dpid] = (None, 'switch %s did not answer within %g s'
                                     % (stats_rest.format_dpid(dpid), timeout))
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
                 ofp_event.EventOFPAggregateStatsReply], MAIN_DISPATCHER)
    def stats_reply_handler(self, ev):
        msg = ev.msg
        self._reply(msg, msg.body, of10.is_last_stats_part(msg))

    @set_ev_cls(ofp_event.EventOFPDescStatsReply, MAIN_DISPATCHER)
    def desc_reply_handler(self, ev):
        self.descriptions[ev.msg.datapath.id] = ev.msg.body
        self._reply(ev.msg, ev.msg.body)

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def features_reply_handler(self, ev):
        self.features[ev.msg.datapath_id] = ev.msg
        self._reply(ev.msg, ev.msg)

    @set_ev_cls(EventSwitchGone)
    def switch_gone(self, ev):
        self.features.pop(ev.dpid, None)
        self.descriptions.pop(ev.dpid, None)
        self._described.discard(ev.dpid)

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def error_handler(self, ev):
        msg = ev.msg
        pending = self._pending.get((msg.datapath.id, msg.xid))
        if pending is not None:
            pending.error = of10.describe_error(msg.type, msg.code)
            pending.done.set()
