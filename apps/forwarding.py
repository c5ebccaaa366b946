"""Forwarding, link discovery and host tracking glue: find the switch, call controller.forwarding, send.

One app owns the ForwardingState (topology, devices, installed forwarding flows) because the packet-in path
reads all three. It mounts the REST routes that read them: topology, devices and the controller summary.
With link discovery on, it signs and checks LLDP with the secret of --lldp-secret-file (made at first start).
"""
import functools
import logging
import os
import time

from ryu import cfg
from ryu.app.wsgi import WSGIApplication
from ryu.base import app_manager
from ryu.controller import ofp_event
from ryu.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from ryu.lib import hub

from apps import config
from apps.events import EventSwitchGone, EventSwitchReady
from apps.background import BackgroundLoops
from apps.rest_routes import mount
from apps.switches import SwitchesApp
from controller import forwarding, of10, perfmon
from controller.dpid import format_dpid
from controller.identity import LineLimiter
from controller.lldp import load_secret
from rest import devices as devices_rest
from rest import loadbalancer as loadbalancer_rest
from rest import performance as performance_rest
from rest import stats as stats_rest
from rest import topology as topology_rest

LOG = logging.getLogger(__name__)
TICK_SECONDS = 0.5


def lldp_secret(conf):
    """The LLDP secret: --lldp-secret-file, by default lldp-secret next to --staticflow-db (so instances sharing the
    store share it); made at first start. A file that cannot be read or made stops the controller."""
    path = conf.lldp_secret_file or os.path.join(os.path.dirname(conf.staticflow_db), 'lldp-secret')
    try:
        return load_secret(path)
    except ValueError as error:
        LOG.error('%s; not starting', error)
        raise SystemExit(2) from None


class ForwardingApp(BackgroundLoops, app_manager.RyuApp):
    OFP_VERSIONS = [of10.OFP_VERSION]
    _CONTEXTS = {'wsgi': WSGIApplication, 'switches': SwitchesApp}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config.register()
        conf = cfg.CONF
        self.switches = kwargs['switches']
        self.state = forwarding.ForwardingState(
            forwarding=conf.forwarding, link_discovery=conf.link_discovery,
            idle_timeout=conf.forwarding_idle_timeout, priority=conf.forwarding_priority,
            lldp_interval=conf.lldp_interval, link_timeout=conf.link_timeout, quarantine=conf.port_quarantine,
            lldp_secret=lldp_secret(conf) if conf.link_discovery else None, max_hosts=conf.max_hosts,
            max_hosts_per_port=conf.max_hosts_per_port)
        self.switches.metrics.sources.forwarding = self.state  # hosts, links, flows for GET /metrics
        self._failure_lines = LineLimiter()  # a bug hit by every packet-in: one traceback per switch per 10 s
        self._features_ports = {}  # dpid -> {port_no: mac} of the latest FEATURES_REPLY in the handshake
        wsgi = kwargs['wsgi']
        mount(wsgi, topology_rest.ROUTES, self)
        mount(wsgi, devices_rest.ROUTES, self)
        mount(wsgi, stats_rest.SUMMARY_ROUTES, self)  # its counts are this app's state and switches
        mount(wsgi, loadbalancer_rest.ROUTES, self)  # VIPs live in the state the packet-in path reads
        mount(wsgi, performance_rest.ROUTES, self)   # the monitor times this state's packet-in path
        stages = [s for s in perfmon.STAGES if s != perfmon.VIRTUAL_NETWORK or conf.virtual_network_filter]
        self._perfmon_stages = tuple(stages)
        self.handle_packet_in = forwarding.handle_packet_in  # or the performance monitor's wrapper (set_perfmon)

    def start(self):
        thread = super().start()
        self.spawn_loop(self._ticker)
        # The fast path skips Ryu's EventOFPPacketIn (see fast_packet_in).
        if self.state.forwarding:
            self.switches.take_messages(self, ofp_event.EventOFPPacketIn, of10.OFPT_PACKET_IN, self.fast_packet_in)
        return thread

    def stop(self):
        self.switches.release_messages(of10.OFPT_PACKET_IN, self.fast_packet_in)
        super().stop()

    def set_perfmon(self, enabled):
        """Start a fresh measurement of packet-in times (/wm/performance), or stop measuring."""
        LOG.info('performance monitor %s', 'enabled' if enabled else 'disabled')
        monitor = perfmon.PerfMonitor(time.time(), self._perfmon_stages) if enabled else None
        self.state.perfmon = monitor
        # the packet-in path calls this: the monitor's timing wrapper only while it measures (no check per packet)
        self.handle_packet_in = forwarding.handle_packet_in if monitor is None else functools.partial(
            perfmon.timed_packet_in, monitor)

    def _ticker(self):
        while True:
            try:
                now = time.time()
                out = forwarding.tick(self.state, now)
                if out:
                    self.switches.send_pairs(out)
                for line in forwarding.warnings(self.state, now):
                    LOG.warning('%s', line)
            except Exception:  # the timer must survive a bug in one round
                LOG.exception('forwarding timer failed')
            hub.sleep(TICK_SECONDS)

    # --- the hot path ------------------------------------------------------------------------------------

    def fast_packet_in(self, ryu_dp, buf, offset, msg_len):
        """A PACKET_IN straight from the session's receive loop (apps/session.py): no OFPPacketIn, no event,
        no switch to this app's thread. -> False to leave it to packet_in_handler (a switch this app has not
        seen ready yet: its port quarantine and broadcast tree are not set up, and the event keeps the order)."""
        dpid = ryu_dp.id
        state = self.state
        if dpid not in state.topology.ports:
            return False
        if not self.switches.is_current(ryu_dp):
            return True  # an older session of a switch that has a newer one: ignored
        in_port, start, end, buffer_id = of10.packet_in_fields(buf, offset, msg_len)
        try:
            out = self.handle_packet_in(state, dpid, in_port, buf[start:end], time.time(), buffer_id)
            if out:
                self.switches.send_pairs(out)
        except Exception:  # one packet's bug must not end the switch's session (the receive loop would)
            held = self._failure_lines.allow(dpid, time.time())
            if held is not None:
                LOG.exception('switch %s: packet-in failed%s', format_dpid(dpid),
                              ' (%d more failed since the last line)' % held if held else '')
        return True

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in_handler(self, ev):
        msg = ev.msg
        if self.switches.is_superseded(msg.datapath):
            return
        out = self.handle_packet_in(self.state, msg.datapath.id, msg.in_port, msg.data, time.time(), msg.buffer_id)
        if out:
            self.switches.send_pairs(out)

    # --- switches and ports ------------------------------------------------------------------------------

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def features_handler(self, ev):
        msg = ev.msg
        self._features_ports[msg.datapath_id] = {
            p.port_no: of10.port_mac(p) for p in msg.ports.values() if of10.port_is_up(p)}

    @set_ev_cls(EventSwitchReady)
    def switch_ready_handler(self, ev):
        ports = self._features_ports.get(ev.dpid, {})
        self.switches.send_pairs(forwarding.switch_connected(self.state, ev.dpid, ports, time.time()))

    @set_ev_cls(EventSwitchGone)
    def switch_gone_handler(self, ev):
        self.switches.send_pairs(forwarding.switch_disconnected(self.state, ev.dpid, time.time()))

    @set_ev_cls(ofp_event.EventOFPPortStatus, MAIN_DISPATCHER)
    def port_status_handler(self, ev):
        msg = ev.msg
        if not self.switches.is_current(msg.datapath):
            return
        port = msg.desc
        up = msg.reason != of10.OFPPR_DELETE and of10.port_is_up(port)
        self.switches.send_pairs(forwarding.port_changed(self.state, msg.datapath.id, port.port_no,
                                                         of10.port_mac(port), up, time.time()))

    @set_ev_cls(ofp_event.EventOFPFlowRemoved, MAIN_DISPATCHER)
    def flow_removed_handler(self, ev):
        msg = ev.msg
        if msg.cookie != of10.FORWARDING_COOKIE or msg.priority != self.state.priority:
            return
        if not self.switches.is_current(msg.datapath):
            return  # only the holding session's table is the one forwarding keeps track of
        match = msg.match
        forwarding.flow_removed(self.state, msg.datapath.id, match.in_port, match.dl_vlan, bytes(match.dl_src),
                                bytes(match.dl_dst))
