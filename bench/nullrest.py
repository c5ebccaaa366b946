"""The REST floor: this project's HTTP server (rest.server) on eventlet, answering every static flow push with
"Entry pushed" at once: no parsing, no store, no switch. Run against the REST benchmark's client, it shows what
the server, eventlet and loopback cost per request, below which no push can go.

    python -m bench.nullrest --port 8080
"""
import argparse

import eventlet

eventlet.monkey_patch()

from rest.server import HttpServer  # noqa: E402  (after monkey-patching, as under ryu-manager)

PUSHED = b'{"status" : "Entry pushed"}'
HEADERS = (('Content-Type', 'application/json; charset=UTF-8'), ('Content-Length', str(len(PUSHED))))


def answer(body, respond):
    respond('200 OK', HEADERS, PUSHED)


class NullGuard:
    """What rest.server asks of rest.guard.RestGuard: no refusals, every POST answered by `answer`."""
    max_body = 1 << 20

    def head_refusal(self, path, authorization, origin=None, fetch_site=None, host=None):
        return None

    def raw_route(self, method, path):
        return answer if method == 'POST' else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8080)
    args = parser.parse_args()
    try:
        HttpServer(NullGuard(), args.host, args.port).serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
