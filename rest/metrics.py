"""GET /metrics: the controller's metrics in Prometheus' text format (docs/metrics.md lists them).

Mounted by the entry app with the SwitchesApp, whose `metrics` (controller.metrics.Metrics) holds the private
registry every app reports to. Same port, token and HTTPS as the rest of the REST API (rest/guard.py): with
--rest-token-file set, Prometheus sends the token (`authorization: {credentials_file: ...}` in its scrape config).
"""
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from rest.http import Encoded, Route, status_line


def metrics(app, request):
    """The registry as prometheus_client writes it (text format 0.0.4, which every Prometheus reads)."""
    body = generate_latest(app.metrics.registry)
    return Encoded(status_line(200), (('Content-Type', CONTENT_TYPE_PLAIN_0_0_4),
                                      ('Content-Length', str(len(body)))), body)


ROUTES = [
    Route(('GET',), '/metrics', metrics),
]
