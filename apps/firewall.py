"""Firewall glue: the rules (controller.firewall) kept in the store (controller.firewallstore), the REST routes
(rest.firewall), and the forwarding state's packet filter while the firewall is enabled.

The verdict sits in the packet-in path without an event hop: enabling sets the ForwardingApp state's
packet_filter to controller.firewall.filter_packet bound to this app's FirewallState, so forwarding consults
the rules itself; disabling clears it. Every change sends the flow deletions controller.firewall returns.
"""
import functools
import logging
import time

from ryu import cfg
from ryu.app.wsgi import WSGIApplication
from ryu.base import app_manager
from ryu.controller import ofp_event
from ryu.controller.handler import MAIN_DISPATCHER, set_ev_cls

from apps import config
from apps.events import EventSwitchGone
from apps.rest_routes import mount
from apps.switches import SwitchesApp
from controller import firewall, of10
from controller.firewallstore import FirewallStore
from controller.storefaults import FaultReport, StoreFault
from rest import firewall as firewall_rest

LOG = logging.getLogger(__name__)
STORE = 'firewall-store'  # the rules' store on the health board
STORE_FAULT_LOG_INTERVAL = 10.0  # seconds: one log line per kind of store fault per interval


class FirewallApp(app_manager.RyuApp):
    OFP_VERSIONS = [of10.OFP_VERSION]
    _CONTEXTS = {'wsgi': WSGIApplication, 'switches': SwitchesApp}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config.register()
        conf = cfg.CONF
        self.switches = kwargs['switches']
        self.api = conf.floodlight_api
        self.fw = firewall.FirewallState()
        self.store = FirewallStore(conf.staticflow_db, power_safe=conf.durability == 'full')
        self._faults = FaultReport(self.switches.health, STORE, LOG, STORE_FAULT_LOG_INTERVAL)
        for rule in self.store.load():
            firewall.insert_rule(self.fw, rule)
        self.forwarding = None  # the ForwardingApp's state, found at start (every app exists by then)
        self._filter = functools.partial(firewall.filter_packet, self.fw)
        if conf.firewall:  # --no-firewall: no routes, so it can never be enabled (Floodlight without the module)
            mount(kwargs['wsgi'], firewall_rest.ROUTES, self)

    def start(self):
        thread = super().start()
        forwarding_app = app_manager.lookup_service_brick('ForwardingApp')
        self.forwarding = forwarding_app.state
        if cfg.CONF.firewall:
            LOG.info('firewall disabled at start (as Floodlight), %d rule(s) in the store', len(self.fw.rules))
        else:
            LOG.info('firewall left out (--no-firewall): no /wm/firewall routes')
        return thread

    # --- what the REST handlers call ----------------------------------------------------------------------

    def set_enabled(self, enabled):
        LOG.info('firewall %s', 'enabled' if enabled else 'disabled')
        self.switches.send_pairs(firewall.set_enabled(self.fw, self.forwarding, enabled, self._filter))

    def set_subnet_mask(self, mask):
        self.fw.subnet_mask = mask
        self.switches.send_pairs(firewall.rules_changed(self.fw, self.forwarding))

    def add_rule(self, rule):
        """-> the rule as stored (with its id); committed to the store before it takes effect."""
        stored = firewall.new_rule(self.fw, rule)
        self._write(self.store.add, stored)
        firewall.insert_rule(self.fw, stored)
        self.switches.send_pairs(firewall.rules_changed(self.fw, self.forwarding))
        return stored

    def delete_rule(self, ruleid):
        if firewall.find_rule(self.fw, ruleid) is None:
            return False
        self._write(self.store.delete, ruleid)
        firewall.remove_rule(self.fw, ruleid)
        self.switches.send_pairs(firewall.rules_changed(self.fw, self.forwarding))
        return True

    def _write(self, method, *args):
        """A rule written to the store before it takes effect; a fault of the disk is on the health board (and
        logged) until a write succeeds, then raised for the REST handler's 503 or 507."""
        try:
            method(*args)
        except StoreFault as fault:
            self._faults.failed(fault, time.time())
            raise
        if self._faults.written():
            LOG.warning('firewall rules are written to %s again', self.store.path)

    # --- switches ------------------------------------------------------------------------------------------

    @set_ev_cls(ofp_event.EventOFPFlowRemoved, MAIN_DISPATCHER)
    def flow_removed_handler(self, ev):
        msg = ev.msg
        if msg.cookie == of10.FORWARDING_COOKIE and self.fw.flows and self.switches.is_current(msg.datapath):
            firewall.flow_removed(self.fw, msg.datapath.id, of10.flow_match(msg.match))

    @set_ev_cls(EventSwitchGone)
    def switch_gone_handler(self, ev):
        firewall.switch_gone(self.fw, ev.dpid)
