"""Static flow pusher glue: REST calls and switch events in, flow-mods out, entries kept in SQLite."""
import logging

from ryu import cfg
from ryu.app.wsgi import WSGIApplication
from ryu.base import app_manager
from ryu.controller import ofp_event
from ryu.controller.handler import MAIN_DISPATCHER, set_ev_cls

from apps.events import EventSwitchGone, EventSwitchReady
from apps.switches import SwitchesApp
from controller import ofmsgs, options
from controller.dpid import format_dpid
from controller.entrystore import EntryStore
from controller.staticflow import StaticFlowTable
from rest import core as core_rest
from rest import floodlight
from rest import staticflow as staticflow_rest

LOG = logging.getLogger(__name__)
DIALECTS = {d.name: d for d in (floodlight.DIALECT_V0, floodlight.DIALECT_V1)}


class StaticFlowApp(app_manager.RyuApp):
    OFP_VERSIONS = [ofmsgs.OFP_VERSION]
    _CONTEXTS = {'wsgi': WSGIApplication, 'switches': SwitchesApp}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        options.register()
        self.switches = kwargs['switches']
        self.table = StaticFlowTable()
        self.store = EntryStore(cfg.CONF.staticflow_db)
        self._restore()
        wsgi = kwargs['wsgi']
        staticflow_rest.register_routes(wsgi, self)
        core_rest.register_routes(wsgi, self.switches)

    def _restore(self):
        """Read back every committed entry; one the parser now rejects is logged and skipped, not fatal."""
        for dialect_name, request in self.store.load():
            try:
                entry = floodlight.parse_entry(request, DIALECTS.get(dialect_name, floodlight.DIALECT_V1))
            except floodlight.FlowValidationError as error:
                LOG.error('stored entry %r no longer parses (%s); left in %s', request.get('name'), error,
                          self.store.path)
                continue
            self.table.push(entry)
        LOG.info('%d static flow entries restored from %s', len(self.table.entries), self.store.path)

    # --- REST side: commit first, then change the switches ----------------------------------------------

    def push(self, entry, dialect):
        self.store.save(entry, dialect.name)
        self.switches.send(self.table.push(entry))

    def delete(self, name):
        self.store.delete(name)
        self.switches.send(self.table.delete(name))

    def clear(self, dpid):
        self.store.clear(dpid)
        self.switches.send(self.table.clear(dpid))

    def list(self, dpid):
        return self.table.entries_by_dpid(dpid)

    # --- switch side ----------------------------------------------------------------------------------

    @set_ev_cls(EventSwitchReady)
    def switch_ready_handler(self, ev):
        self.switches.send(self.table.switch_connected(ev.dpid))

    @set_ev_cls(EventSwitchGone)
    def switch_gone_handler(self, ev):
        self.table.switch_disconnected(ev.dpid)

    @set_ev_cls(ofp_event.EventOFPFlowRemoved, MAIN_DISPATCHER)
    def flow_removed_handler(self, ev):
        msg = ev.msg
        if msg.reason not in (msg.datapath.ofproto.OFPRR_IDLE_TIMEOUT, msg.datapath.ofproto.OFPRR_HARD_TIMEOUT):
            return
        name = self.table.remove_expired(msg.datapath.id, msg.cookie, msg.priority, _match_pairs(msg.match))
        if name is not None:
            self.store.delete(name)
            LOG.info('static flow %s on %s expired; entry removed', name, format_dpid(msg.datapath.id))

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def error_handler(self, ev):
        msg = ev.msg
        LOG.error('switch %s answered xid %s with OpenFlow error type %d code %d',
                  format_dpid(msg.datapath.id), msg.xid, msg.type, msg.code)


def _match_pairs(ofp_match):
    """An OFPMatch from the switch -> the (field, value) pairs FlowEntry keeps."""
    from controller.flowentry import MATCH_FIELD_ORDER
    pairs = []
    for field in MATCH_FIELD_ORDER:
        if field in ('nw_src', 'nw_dst'):
            try:
                value = (ofp_match[field], ofp_match[field + '_mask'])
            except KeyError:
                continue
            if value[1] == 0:
                continue
        else:
            try:
                value = ofp_match[field]
            except KeyError:
                continue
        pairs.append((field, value))
    return tuple(pairs)
