"""`ryu-manager controller.apps` loads this module: the entry app and the apps it requires.

Every app speaks OpenFlow 1.0 only; ryu listens on 6653 and 6633 unless --ofp-tcp-listen-port picks one port,
and REST is served on 8080 (--wsapi-port, --wsapi-host). What the entry app does is in apps/entry.py.
"""
from apps import ryu_compat

ryu_compat.apply_all()  # before anything imports ryu.app.wsgi (ryu_compat says why)

from ryu.base.app_manager import require_app  # noqa: E402

from apps.entry import EntryApp, install_log_format  # noqa: E402

install_log_format()  # ryu-manager has set its log handlers up by the time it imports this module

require_app('apps.staticflow')
require_app('apps.forwarding')
require_app('apps.stats')
require_app('apps.firewall')
require_app('apps.acl')
require_app('apps.virtualnetwork')


class FloodlightReplacementApp(EntryApp):
    """Entry point: the work is done by the apps required above."""
