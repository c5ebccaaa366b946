"""Starting the REST service: the settings read, checked and turned into one rest.server.HttpServer.

`build_rest_server(wsgi_application, conf)` is the whole start: the bearer token file, the HTTPS context, the
guard (rest.guard.RestGuard) around the WSGI application, the raw routes (rest.staticflow's pushes, which skip
WSGI), the limits, and the warnings about an open or readable-off-the-wire API. It raises RestConfigError (a
ValueError with a message for the operator, no traceback needed) for settings it cannot serve with; nothing is
listening then. `start_service(app_mgr)` is the drop-in for ryu.app.wsgi.start_service: it finds the WSGI
application among ryu-manager's contexts, and turns a RestConfigError into one log line and exit status 2.
"""
import ipaddress
import logging
import ssl

LOG = logging.getLogger('rest.service')

REST_IDLE_TIMEOUT = 60.0  # a keep-alive connection with no request in progress


class RestConfigError(ValueError):
    """Settings the REST service cannot start with (unreadable token file, half an HTTPS pair, a bad
    certificate); the message says which and why."""


def build_rest_server(wsgi_application, conf, raw_routes=None, observe=None):
    """-> a rest.server.HttpServer (listening already; call it, or its serve_forever, in a green thread to
    serve) for `wsgi_application` (ryu's WSGIApplication, or any WSGI app) with the REST options of `conf`
    (controller.options: wsapi_host, wsapi_port, rest_max_body, rest_token_file, rest_cert, rest_key,
    rest_max_connections, rest_request_timeout, rest_cors_origins), and `raw_routes` ({path: handler(body,
    respond)}: the POSTs the server takes without WSGI, rest.staticflow.raw_routes); `observe`: rest.server.HttpServer's,
    the REST metrics. Raises RestConfigError."""
    from rest.guard import RestGuard, read_token_file
    from rest.server import HttpServer

    try:
        token = read_token_file(conf.rest_token_file) if conf.rest_token_file else None
    except ValueError as error:
        raise RestConfigError(str(error)) from None
    if bool(conf.rest_cert) != bool(conf.rest_key):
        raise RestConfigError('HTTPS needs both --rest-cert and --rest-key')
    context = None
    if conf.rest_cert:
        from eventlet.green import ssl as green_ssl

        try:
            context = green_ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(conf.rest_cert, conf.rest_key)
        except (OSError, ValueError) as error:
            raise RestConfigError('cannot serve HTTPS with %s and %s: %s' % (conf.rest_cert, conf.rest_key, error)) \
                from None
    guard = RestGuard(wsgi_application, max_body=conf.rest_max_body, token=token,
                      raw_routes=raw_routes, cors_origins=conf.rest_cors_origins)
    server = HttpServer(guard, conf.wsapi_host, conf.wsapi_port, ssl_context=context,
                        idle_timeout=REST_IDLE_TIMEOUT, request_timeout=conf.rest_request_timeout,
                        max_connections=conf.rest_max_connections, observe=observe)
    LOG.info('REST on %s://%s:%s (bodies up to %d bytes%s)', server.scheme, conf.wsapi_host, conf.wsapi_port,
             conf.rest_max_body, ', bearer token required' if token else '')
    if token is not None and server.scheme == 'http' and not _is_loopback(conf.wsapi_host):
        LOG.warning('REST bearer token sent over plain HTTP on %s:%s can be read off the network; add '
                    '--rest-cert and --rest-key', conf.wsapi_host, conf.wsapi_port)
    if conf.rest_cors_origins:
        LOG.info('REST answers cross-origin requests from %s', ', '.join(conf.rest_cors_origins))
        if token is None and '*' in conf.rest_cors_origins:
            LOG.warning('REST API open to every web page (--rest-cors-origins *) without authentication: a page '
                        'opened in a browser that reaches this controller can read and change flows; name the '
                        'UI\'s origin or set --rest-token-file')
    if token is None and not _is_loopback(conf.wsapi_host):
        LOG.warning('REST API open without authentication on %s:%s: anyone who reaches this address can change '
                    'flows; set --rest-token-file (and --rest-cert/--rest-key) or --wsapi-host 127.0.0.1',
                    conf.wsapi_host, conf.wsapi_port)
    return server


def _is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == 'localhost'
