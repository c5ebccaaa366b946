"""Floodlight's performance monitor URLs (/wm/performance/..., v0.91 and v1.2 alike), pure handlers mounted by
apps/forwarding.py, whose forwarding state carries the monitor (controller/perfmon.py).

As in Floodlight 0.91 and 1.2: reading the data while the monitor is off turns it on (and answers the fresh,
empty measurement); enable starts a fresh measurement, also when it was on; reset turns it on and starts afresh;
each toggle answers { "enabled" : <bool> }. Where Floodlight answered any other word in the toggle's place with the
state unchanged, the answer is a 400 with a JSON reason.
"""
import time

from controller import perfmon
from rest.http import HttpError, Route

TOGGLES = {'enable': True, 'true': True, 'disable': False, 'false': False, 'reset': None}


def enabled_body(enabled):
    return '{ "enabled" : %s }' % ('true' if enabled else 'false')


def data(app, request):
    if app.state.perfmon is None:
        app.set_perfmon(True)
    return perfmon.data_json(app.state.perfmon, time.time())


def toggle(app, request, perfmonstate):
    word = perfmonstate.lower()
    if word not in TOGGLES:
        raise HttpError(400, '%r is not enable, disable or reset (nor true or false)' % perfmonstate)
    enabled = TOGGLES[word]
    if enabled is None:
        if app.state.perfmon is None:
            app.set_perfmon(True)
        else:
            app.state.perfmon.reset(time.time())
    else:
        app.set_perfmon(enabled)
    return enabled_body(app.state.perfmon is not None)


ROUTES = [
    Route(('GET',), '/wm/performance/data/json', data),
    Route(('GET',), '/wm/performance/{perfmonstate}/json', toggle),
]
