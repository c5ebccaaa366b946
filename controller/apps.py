"""`ryu-manager controller.apps` loads this module.

It defines the one entry app and pulls in the Ryu apps of the top-level `apps` package. Every app speaks
OpenFlow 1.0 only; ryu listens on 6653 and 6633 unless --ofp-tcp-listen-port picks one port, and serves
REST on 8080 (--wsapi-port, --wsapi-host).
"""
from ryu.app.wsgi import WSGIApplication
from ryu.base import app_manager
from ryu.base.app_manager import require_app

from controller import ofmsgs, options, ryu_compat
from apps.switches import SwitchesApp
from rest import connections as connections_rest
from rest import core as core_rest

ryu_compat.apply_all()
options.register()

require_app('apps.staticflow')
require_app('apps.forwarding')
require_app('apps.stats')


class FloodlightReplacementApp(app_manager.RyuApp):
    """Entry point: the work is done by the apps required above."""
    OFP_VERSIONS = [ofmsgs.OFP_VERSION]
    _CONTEXTS = {'wsgi': WSGIApplication, 'switches': SwitchesApp}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.wsgi = kwargs['wsgi']
        connections_rest.register_routes(self.wsgi, kwargs['switches'])

    def start(self):
        # Every app has registered its routes in __init__ by now; the JSON 404 must come after all of them.
        core_rest.register_fallback(self.wsgi)
        return super().start()
