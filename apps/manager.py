"""The project's `ryu-manager` console script.

PyPI ryu 4.34's `ryu/app/wsgi.py` does `from eventlet.wsgi import ALREADY_HANDLED` at import time.
eventlet removed that sentinel in 0.30.3 and the eventlet releases that still have it do not import on
Python 3.10+, so ryu's own `ryu-manager` dies before loading any app. Current eventlet marks a
hijacked (websocket) connection with `WSGI_LOCAL.already_handled` instead and only needs the WSGI
app to return an iterable, so an empty list is a faithful stand-in for the old sentinel.
This script is installed under the same name as ryu's and replaces it in the venv. The fixes themselves are
in apps.ryu_compat.
"""
import sys


def main(args=None):
    from apps import ryu_compat

    ryu_compat.apply_all()
    from ryu.cmd.manager import main as ryu_main

    from apps import config
    from controller import options
    config.register()
    args = with_floodlight_properties(options.cli_aliases(sys.argv[1:] if args is None else args))

    if wants_supervisor(args):
        return supervise(args)
    deliver_ctrl_c_to_main_greenlet()
    return ryu_main(args=args, prog='ryu-manager')


def with_floodlight_properties(args):
    """args with the flags a --floodlight-properties file stands for put first (the command line's own flags come
    later and win). A file that cannot be read or holds a value that cannot be used ends here: one line naming
    the key and value, exit status 2. Which keys it ignored, the entry app logs once logging is set up."""
    from controller import floodlight_properties

    path = option_value(args, '--floodlight-properties')
    if path is None:
        return args
    try:
        translation = floodlight_properties.read(path)
    except floodlight_properties.PropertiesError as error:
        print('ryu-manager: %s' % error, file=sys.stderr)
        raise SystemExit(2) from None
    return floodlight_properties.flags(translation.settings) + list(args)


def option_value(args, flag):
    """The value of `flag` in args (`--flag VALUE` or `--flag=VALUE`; the last one given), or None."""
    value = None
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(flag + '='):
            value = arg[len(flag) + 1:]
    return value


def parse_like_ryu(args):
    """The command line and config files read as ryu-manager's main reads them (it reads them again)."""
    from ryu import cfg
    from ryu import version
    from ryu.app import wsgi  # noqa: F401  registers --wsapi-host and --wsapi-port

    try:
        cfg.CONF(args=args, prog='ryu-manager', project='ryu', version='ryu-manager %s' % version,
                 default_config_files=['/usr/local/etc/ryu/ryu.conf'])
    except cfg.ConfigFilesNotFoundError:
        cfg.CONF(args=args, prog='ryu-manager', project='ryu', version='ryu-manager %s' % version)
    return cfg.CONF


def wants_supervisor(args):
    """--workers N (N > 1), from the command line or a config file, in the process the user started."""
    from apps import supervisor
    return supervisor.wanted(parse_like_ryu(args))


def supervise(args):
    """`--workers N`: this process supervises N workers, each this same command (apps/supervisor.py)."""
    from ryu import log
    from ryu.lib import hub

    from apps import supervisor
    conf = parse_like_ryu(args)
    log.init_log()
    hub.patch(thread=True)
    return supervisor.main(conf, args)


def deliver_ctrl_c_to_main_greenlet():
    """Ctrl-C must reach ryu's main greenlet, which waits in hub.joinall and closes the apps on
    KeyboardInterrupt. Python raises it in whatever greenlet runs when the signal lands: a switch's session, the
    OpenFlow accept loop, a log call. That greenlet died and the controller kept running. The handler instead
    has the hub throw KeyboardInterrupt into the main greenlet."""
    import signal

    import greenlet
    from eventlet import hubs

    main_greenlet = greenlet.getcurrent()

    def interrupt(signum, frame):
        hubs.get_hub().schedule_call_global(0, main_greenlet.throw, KeyboardInterrupt)

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when the caller ignores SIGINT
        signal.signal(signal.SIGINT, interrupt)


if __name__ == '__main__':
    sys.exit(main())
