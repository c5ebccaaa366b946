"""The project's `ryu-manager` console script.

PyPI ryu 4.34's `ryu/app/wsgi.py` does `from eventlet.wsgi import ALREADY_HANDLED` at import time.
eventlet removed that sentinel in 0.30.3 and the eventlet releases that still have it do not import on
Python 3.10+, so ryu's own `ryu-manager` dies before loading any app. Current eventlet marks a
hijacked (websocket) connection with `WSGI_LOCAL.already_handled` instead and only needs the WSGI
app to return an iterable, so an empty list is a faithful stand-in for the old sentinel.
This script is installed under the same name as ryu's and replaces it in the venv.
"""
import sys


def restore_eventlet_sentinel():
    """Give eventlet.wsgi the attribute ryu 4.34 imports, when eventlet lacks it."""
    import eventlet.wsgi

    if not hasattr(eventlet.wsgi, 'ALREADY_HANDLED'):
        eventlet.wsgi.ALREADY_HANDLED = []


def main(args=None):
    restore_eventlet_sentinel()
    from ryu.cmd.manager import main as ryu_main

    from controller import options
    options.register()

    return ryu_main(args=args, prog='ryu-manager')


if __name__ == '__main__':
    sys.exit(main())
