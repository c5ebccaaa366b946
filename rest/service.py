"""TEMPORARY: the REST server's construction, moved out of controller/hardening.py; replaced at merge by the
push-path branch's version."""
import ipaddress
import logging
import ssl

from rest.guard import RestGuard, read_token_file
from rest.server import HttpServer

LOG = logging.getLogger(__name__)
REST_IDLE_TIMEOUT = 60.0     # a keep-alive connection with no request in progress
REST_REQUEST_TIMEOUT = 10.0  # a request whose head or body stops arriving: 408


class RestConfigError(ValueError):
    pass


def _is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == 'localhost'


def build_rest_server(wsgi_application, conf):
    try:
        token = read_token_file(conf.rest_token_file) if conf.rest_token_file else None
    except ValueError as error:
        raise RestConfigError(str(error)) from None
    if bool(conf.rest_cert) != bool(conf.rest_key):
        raise RestConfigError('HTTPS needs both --rest-cert and --rest-key')
    guard = RestGuard(wsgi_application, max_body=conf.rest_max_body, token=token)
    context = None
    if conf.rest_cert or conf.rest_key:
        try:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(conf.rest_cert, conf.rest_key)
        except (OSError, ValueError) as error:
            raise RestConfigError('cannot serve HTTPS with %s and %s: %s' % (conf.rest_cert, conf.rest_key, error))
    server = HttpServer(guard, conf.wsapi_host, conf.wsapi_port, ssl_context=context,
                        idle_timeout=REST_IDLE_TIMEOUT, request_timeout=REST_REQUEST_TIMEOUT)
    scheme = server.scheme
    LOG.info('REST on %s://%s:%s (bodies up to %d bytes%s)', scheme, conf.wsapi_host, conf.wsapi_port,
             conf.rest_max_body, ', bearer token required' if token else '')
    if token is not None and scheme == 'http' and not _is_loopback(conf.wsapi_host):
        LOG.warning('REST bearer token sent over plain HTTP on %s:%s can be read off the network; add '
                    '--rest-cert and --rest-key', conf.wsapi_host, conf.wsapi_port)
    if token is None and not _is_loopback(conf.wsapi_host):
        LOG.warning('REST API open without authentication on %s:%s: anyone who reaches this address can change '
                    'flows; set --rest-token-file (and --rest-cert/--rest-key) or --wsapi-host 127.0.0.1',
                    conf.wsapi_host, conf.wsapi_port)
    return server
