"""Virtual network filter glue: the networks (controller.virtualnetwork, in memory as in Floodlight), their REST
routes (rest.virtualnetwork), and the forwarding state's network filter and flood scope.

Loaded only with --virtual-network-filter, as Floodlight loaded VirtualNetworkFilter only from its
neutron.properties: without it the app mounts no route and sets no hook (the URLs answer the JSON 404). With it,
the filter sits in the packet-in path from the start (no event hop: forwarding calls it), and every change of
networks or attachments sends the flow deletions controller.virtualnetwork returns.
"""
import functools
import logging

from ryu import cfg
from ryu.app.wsgi import WSGIApplication
from ryu.base import app_manager

from apps import config
from apps.rest_routes import mount
from apps.switches import SwitchesApp
from controller import of10, virtualnetwork
from rest import virtualnetwork as virtualnetwork_rest

LOG = logging.getLogger(__name__)


class VirtualNetworkApp(app_manager.RyuApp):
    OFP_VERSIONS = [of10.OFP_VERSION]
    _CONTEXTS = {'wsgi': WSGIApplication, 'switches': SwitchesApp}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config.register()
        self.loaded = cfg.CONF.virtual_network_filter
        self.switches = kwargs['switches']
        self.vn = virtualnetwork.VirtualNetworks()
        self.forwarding = None  # the ForwardingApp's state, found at start (every app exists by then)
        if self.loaded:
            mount(kwargs['wsgi'], virtualnetwork_rest.ROUTES, self)

    def start(self):
        thread = super().start()
        if self.loaded:
            self.forwarding = app_manager.lookup_service_brick('ForwardingApp').state
            virtualnetwork.set_filter(self.vn, self.forwarding,
                                      functools.partial(virtualnetwork.filter_packet, self.vn),
                                      functools.partial(virtualnetwork.flood_scope, self.vn))
            LOG.info('virtual network filter loaded: hosts attached to no network reach only gateways and DHCP')
        return thread

    def _changed(self):
        self.switches.send_pairs(virtualnetwork.networks_changed(self.forwarding))

    # --- what the REST handlers call ----------------------------------------------------------------------

    def put_network(self, guid, name, gateway):
        virtualnetwork.put_network(self.vn, guid, name, gateway)
        self._changed()

    def delete_network(self, guid):
        virtualnetwork.delete_network(self.vn, guid)
        self._changed()

    def attach(self, guid, port, mac):
        virtualnetwork.attach(self.vn, guid, port, mac)
        self._changed()

    def detach(self, port):
        virtualnetwork.detach(self.vn, port)
        self._changed()
