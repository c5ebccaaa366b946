"""Our settings on Ryu's configuration (the table is controller/options.py), and Ryu defaults changed to what a
Floodlight user expects. apps.manager calls register() before ryu-manager parses its command line."""
from oslo_config import cfg as oslo_cfg
from ryu import cfg
from ryu.controller import controller as _ryu_controller  # noqa: F401  registers the echo options we default

from controller.options import OPTIONS

CONF = cfg.CONF
RYU_OPTIONS_AS_FLAGS = ('echo_request_interval', 'maximum_unreplied_echo_requests')


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
