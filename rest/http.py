"""Responses and the one error-mapping decorator every REST handler goes through."""
import functools
import json
import logging

from webob import Response

from controller.staticflow import EntryConflictError
from rest.floodlight import FlowValidationError

LOG = logging.getLogger(__name__)


def json_response(body, status=200, headers=None):
    """`body` is a ready JSON string (Floodlight's hand-built replies) or an object to serialise compactly.

    Floodlight sent its hand-built strings as `application/json; charset=UTF-8` and its serialised objects as
    plain `application/json` (0.91, 1.x); clients that compare headers see the same here.
    """
    content_type = 'application/json; charset=UTF-8'
    if not isinstance(body, str):
        body = json.dumps(body, separators=(',', ':'), ensure_ascii=False)
        content_type = 'application/json'
    try:
        data = body.encode('utf-8')
    except UnicodeEncodeError:  # a lone surrogate (JSON "\ud800") echoed back: send it as a JSON escape
        data = json.dumps(json.loads(body), separators=(',', ':')).encode('ascii')
    response = Response(status=status, body=data)
    response.headers['Content-Type'] = content_type
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def no_content():
    return Response(status=204)


def error_response(status, reason, key=None, headers=None):
    body = {'status': 'Error! ' + reason, 'reason': reason}
    if key is not None:
        body['key'] = key
    return json_response(body, status=status, headers=headers)


class HttpError(Exception):
    """Raised by handlers for a 4xx that is not about a flow entry's content."""

    def __init__(self, status, reason, headers=None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}


def rest_errors(handler):
    """Bad input -> 4xx with a JSON reason; a bug -> 500 with a JSON body and a logged traceback."""
    @functools.wraps(handler)
    def wrapper(self, req, **kwargs):
        try:
            return handler(self, req, **kwargs)
        except FlowValidationError as error:
            return json_response(error.to_json(), status=400)
        except EntryConflictError as error:
            return error_response(409, str(error))
        except HttpError as error:
            return error_response(error.status, error.reason, headers=error.headers)
        except Exception:  # the one catch-all of the REST layer: never answer with a stack trace
            LOG.exception('REST %s %s failed', req.method, req.path)
            return error_response(500, 'internal error, see the controller log')
    return wrapper
