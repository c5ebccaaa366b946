"""The controller's own settings, and Ryu defaults changed to what a Floodlight user expects.

Registered before ryu-manager parses its command line (controller.manager imports this module first), so
they work as flags (`--staticflow-db PATH`) and in a `--config-file` ([DEFAULT] staticflow_db = PATH).
"""
from oslo_config import cfg as oslo_cfg
from ryu import cfg
from ryu.controller import controller as _ryu_controller  # noqa: F401  registers the echo options we default

CONF = cfg.CONF

OPTIONS = [
    cfg.StrOpt('staticflow-db', default='var/staticflows.sqlite3',
               help='SQLite file that keeps static flow entries across restarts (relative to the working '
                    'directory; default var/staticflows.sqlite3)'),
    cfg.BoolOpt('forwarding', default=True,
                help='reactive shortest-path forwarding like Floodlight\'s Forwarding module (--no-forwarding '
                     'leaves only static entries; hosts and links are still learned)'),
    cfg.BoolOpt('link-discovery', default=True,
                help='LLDP link discovery (--no-link-discovery sends no LLDP: every port is an edge port)'),
    cfg.FloatOpt('lldp-interval', default=15.0, min=0.1,
                 help='seconds between LLDP rounds on every port (Floodlight: 15)'),
    cfg.FloatOpt('link-timeout', default=35.0, min=0.1,
                 help='seconds after which a link whose LLDP stopped arriving is removed (Floodlight: 35)'),
    cfg.IntOpt('forwarding-idle-timeout', default=5, min=0, max=65535,
               help='idle timeout of reactive forwarding flows, seconds (Floodlight: 5)'),
    cfg.IntOpt('forwarding-priority', default=1, min=0, max=65535,
               help='priority of reactive forwarding flows (Floodlight 1.x: 1); static entries above it win'),
    cfg.FloatOpt('port-quarantine', default=2.0, min=0,
                 help='seconds a new port neither floods nor is listened to (but for LLDP), so that links are '
                      'known before broadcasts can loop'),
    cfg.FloatOpt('stats-timeout', default=10.0, min=0.1,
                 help='seconds a switch has to answer a REST statistics request (Floodlight: 10)'),
]

RYU_OPTIONS_AS_FLAGS = ('echo_request_interval', 'maximum_unreplied_echo_requests')
# oslo.config spells the negation of a boolean flag --noNAME; --no-NAME is accepted too (see cli_aliases).
NEGATABLE_FLAGS = ('forwarding', 'link-discovery')


def cli_aliases(argv):
    """argv with --no-forwarding / --no-link-discovery rewritten to oslo.config's --noforwarding form."""
    aliases = {'--no-' + name: '--no' + name for name in NEGATABLE_FLAGS}
    return [aliases.get(arg, arg) for arg in argv]


def register():
    """Idempotent: both the console script and the apps call it."""
    if 'staticflow_db' not in CONF:
        try:
            CONF.register_cli_opts(OPTIONS)
            # ryu registers its keepalive options for config files only; the same Opt objects can be
            # re-registered as flags, so --echo-request-interval and --maximum-unreplied-echo-requests work too.
            CONF.register_cli_opts([CONF._opts[name]['opt'] for name in RYU_OPTIONS_AS_FLAGS])
        except oslo_cfg.ArgsAlreadyParsedError:
            # Loaded by a launcher other than our ryu-manager: still readable from --config-file.
            CONF.register_opts(OPTIONS)
    # Ryu's default of 0 unreplied echo requests turns its keepalive off, so a switch that dies without
    # closing TCP would stay "connected" forever. Probe every 5 s; drop it after 3 unanswered probes.
    CONF.set_default('echo_request_interval', 5.0)
    CONF.set_default('maximum_unreplied_echo_requests', 3)
