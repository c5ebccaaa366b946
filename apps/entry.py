"""The entry app's behaviour (controller/apps.py names it for ryu-manager): process-wide start-up settings, the
JSON 404 after every app's routes, and our REST server.

REST: every app mounts its route tables (apps/rest_routes.py) on the shared `wsgi` context, Ryu's
WSGIApplication, where any Ryu app loaded beside ours (such as ryu.app.ofctl_rest) registers its own. Our HTTP
server (rest/server.py, behind rest/guard.py: body limit, bearer token, HTTPS) serves that one application on
--wsapi-host:--wsapi-port. ryu-manager would start eventlet.wsgi on the same port for any WSGIApplication context
it still holds after the apps started, so this app takes the context out of the manager's table once it serves
it: one server, one port, both APIs, one guard.
"""
import gc
import logging
import resource

from ryu import cfg
from ryu.app.wsgi import WSGIApplication
from ryu.base import app_manager

from apps import config, worker
from apps.background import BackgroundLoops
from apps.rest_routes import mount, mount_fallback, raw_routes
from apps.switches import SwitchesApp
from controller import floodlight_properties, logformat, of10
from rest import connections as connections_rest
from rest import core as core_rest
from rest import ui as ui_rest
from rest import metrics as metrics_rest
from rest.service import RestConfigError, build_rest_server

LOG = logging.getLogger(__name__)


class EntryApp(BackgroundLoops, app_manager.RyuApp):
    OFP_VERSIONS = [of10.OFP_VERSION]
    _CONTEXTS = {'wsgi': WSGIApplication, 'switches': SwitchesApp}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config.register()
        install_log_format()
        log_floodlight_properties(cfg.CONF.floodlight_properties)
        self.wsgi = kwargs['wsgi']
        self.switches = kwargs['switches']
        mount(self.wsgi, core_rest.ROUTES, kwargs['switches'])
        mount(self.wsgi, connections_rest.ROUTES, kwargs['switches'])
        mount(self.wsgi, ui_rest.ROUTES, None)  # the web UI's files: they read no app's state
        mount(self.wsgi, metrics_rest.ROUTES, kwargs['switches'])
        self.rest_server = None

    def start(self):
        thread = super().start()
        tune_garbage_collector()
        raise_descriptor_limit()
        # Every app has mounted its routes in __init__ by now; the JSON 404 must come after all of them.
        mount_fallback(self.wsgi)
        try:
            self.rest_server = build_rest_server(self.wsgi, cfg.CONF, raw_routes(self.wsgi),
                                                 observe=self.switches.metrics.rest_request)
        except RestConfigError as error:
            LOG.error('%s; not starting', error)
            raise SystemExit(2) from None
        except OSError as error:  # the port is taken (another controller?) or the address is not ours
            LOG.error('cannot serve REST on %s:%s: %s; not starting', cfg.CONF.wsapi_host, cfg.CONF.wsapi_port,
                      error.strerror or error)
            raise SystemExit(2) from None
        self.rest_server.accepting.health = self.switches.health
        self.switches.metrics.sources.rest_listener = self.rest_server.accepting
        manager = app_manager.AppManager.get_instance()
        for name, context in list(manager.contexts.items()):
            if context is self.wsgi:
                del manager.contexts[name]  # served here: ryu-manager must not start eventlet.wsgi beside it
        self.spawn_loop(self.rest_server.serve_forever)
        if cfg.CONF.worker_channel is not None:  # one of --workers N: connections come from the supervisor
            worker.WorkerLink(cfg.CONF.worker_channel, self.switches.listeners, self.rest_server, self.switches,
                              cfg.CONF).start(self.spawn_loop)
        return thread


def install_log_format():
    """--log-format's formatter on the handlers ryu-manager made (controller/logformat.py): controller/apps.py
    calls it as ryu-manager imports it, before any app is made, so that every line after Ryu's "loading app
    controller.apps" has the format, other apps' lines too; the entry app calls it again (idempotent) for a
    launcher that does not import that module first."""
    config.register()
    logformat.install(cfg.CONF.log_format)


def log_floodlight_properties(path):
    """One line: what a --floodlight-properties file set and which of its keys were ignored (apps/manager.py
    turned it into flags before the command line was parsed; it was readable then)."""
    if not path:
        return
    try:
        translation = floodlight_properties.read(path)
    except floodlight_properties.PropertiesError as error:  # changed since the start: the flags stand
        LOG.warning('%s', error)
        return
    LOG.info('Floodlight properties %s: %s; ignored %d keys%s', path,
             ', '.join('%s=%s' % item for item in translation.settings.items()) or 'nothing set',
             len(translation.ignored), ' (%s)' % ', '.join(translation.ignored) if translation.ignored else '')


def tune_garbage_collector():
    """Process-wide, once, at start-up. Every learned host and forwarding flow is a long-lived container object,
    and Python's default collector (a young collection every 700 allocations, a full one whenever the old
    generation grew by 25%) walked them again and again: a third of the packet-in cost with 1.6 M hosts. The hot
    paths make no reference cycles, so: start-up objects frozen out of every collection, young collections 70x
    rarer."""
    gc.freeze()
    gc.set_threshold(50000, 20, 100)


def raise_descriptor_limit():
    """Process-wide, once, at start-up: the soft limit on open descriptors up to the hard one. Every switch and
    REST client holds one, and the usual soft limit of 1024 is reached by a thousand idle connections (the
    listeners then back off and retry, rest/listener.py); the hard limit is what the operator allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as error:  # an unlimited hard limit, which Linux takes for no soft one
            LOG.info('file descriptor limit %d (raising it to the hard limit failed: %s)', soft, error)
            return
        LOG.info('file descriptor limit raised from %d to %d (the hard limit)', soft, hard)
    else:
        LOG.info('file descriptor limit %d (the hard limit)', soft)
