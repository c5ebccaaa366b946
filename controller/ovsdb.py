"""Reading bridges and their Controller rows from OVSDB (RFC 7047 JSON-RPC), without the `ovs` library.

One `transact` with two selects is all the tracker needs, so a plain socket beats pulling in python-ovs and
its IDL (and ryu.lib.ovs rejects the default unix socket path, see ../shared/reference/ovs-controllers.md §3.2).
`request` and `parse_reply` are pure; `query` does the I/O (green under ryu-manager, which patches sockets).
"""
import json
import socket

from controller import failmode
from controller.connections import BridgeFacts

DEFAULT_ADDRESS = 'unix:/var/run/openvswitch/db.sock'
ACTIVE_PREFIXES = ('tcp:', 'ssl:', 'unix:')
BRIDGE_COLUMNS = ['name', 'datapath_id', 'fail_mode', 'controller']
CONTROLLER_COLUMNS = ['_uuid', 'target', 'type', 'inactivity_probe', 'max_backoff', 'is_connected', 'role',
                      'status']
MAX_REPLY = 16 << 20


class OvsdbError(Exception):
    pass


def request(request_id=0):
    return {'method': 'transact', 'id': request_id, 'params': [
        'Open_vSwitch',
        {'op': 'select', 'table': 'Bridge', 'where': [], 'columns': BRIDGE_COLUMNS},
        {'op': 'select', 'table': 'Controller', 'where': [], 'columns': CONTROLLER_COLUMNS},
    ]}


def _atoms(value):
    """An OVSDB set (["set", [...]]) or a single atom -> list of atoms."""
    if isinstance(value, list) and len(value) == 2 and value[0] == 'set':
        return value[1]
    return [value]


def _optional(value):
    atoms = _atoms(value)
    return atoms[0] if atoms else None


def _uuid(atom):
    return atom[1] if isinstance(atom, list) and len(atom) == 2 and atom[0] == 'uuid' else atom


def _map(value):
    if isinstance(value, list) and len(value) == 2 and value[0] == 'map':
        return dict(value[1])
    return {}


def is_primary_target(target, type_column=None):
    """Active targets are primary unless the row's `type` says otherwise (OVS 2.12+)."""
    if type_column in ('primary', 'service'):
        return type_column == 'primary'
    return target.startswith(ACTIVE_PREFIXES)


def parse_reply(reply):
    """A transact reply -> {dpid: BridgeFacts}. Bridges without a datapath_id yet are skipped."""
    if reply.get('error') is not None:
        raise OvsdbError('OVSDB error: %s' % (reply['error'],))
    results = reply.get('result')
    if not isinstance(results, list) or len(results) < 2:
        raise OvsdbError('unexpected OVSDB reply: %r' % (reply,))
    for result in results[:2]:
        if 'error' in result:
            raise OvsdbError('OVSDB error: %s %s' % (result.get('error'), result.get('details', '')))
    controllers = {}
    for row in results[1]['rows']:
        target = row.get('target', '')
        type_column = _optional(row.get('type'))
        controllers[_uuid(row['_uuid'])] = {
            'target': target,
            'type': type_column or ('primary' if is_primary_target(target) else 'service'),
            'primary': is_primary_target(target, type_column),
            'inactivity_probe_ms': _optional(row.get('inactivity_probe')),
            'max_backoff_ms': _optional(row.get('max_backoff')),
            'is_connected': bool(row.get('is_connected')),
            'role': _optional(row.get('role')),
            'state': _map(row.get('status')).get('state'),
        }
    bridges = {}
    for row in results[0]['rows']:
        datapath_id = _optional(row.get('datapath_id'))
        if not datapath_id:
            continue
        rows = [controllers[_uuid(u)] for u in _atoms(row.get('controller')) if _uuid(u) in controllers]
        probes = [c['inactivity_probe_ms'] or failmode.DEFAULT_INACTIVITY_PROBE_MS for c in rows
                  if c['primary'] and c['target'].startswith(ACTIVE_PREFIXES)]
        bridges[int(datapath_id, 16)] = BridgeFacts(
            name=row.get('name'), fail_mode=failmode.normalize_fail_mode(_optional(row.get('fail_mode'))),
            inactivity_probe_ms=max(probes) if probes else None,
            controllers=sorted(rows, key=lambda c: c['target']))
    return bridges


def parse_address(address):
    """`unix:PATH` or `tcp:HOST:PORT` -> (family, sockaddr)."""
    if address.startswith('unix:'):
        return socket.AF_UNIX, address[len('unix:'):]
    if address.startswith('tcp:'):
        host, _, port = address[len('tcp:'):].rpartition(':')
        if host and port.isdigit():
            return socket.AF_INET6 if ':' in host else socket.AF_INET, (host.strip('[]'), int(port))
    raise ValueError('OVSDB address must be unix:PATH or tcp:HOST:PORT, not %r' % address)


def query(address, timeout=3.0):
    """Read every bridge once: {dpid: BridgeFacts}. Raises OSError/OvsdbError/ValueError on failure."""
    family, sockaddr = parse_address(address)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(sockaddr)
        sock.sendall(json.dumps(request()).encode())
        decoder = json.JSONDecoder()
        buf = b''
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                raise OvsdbError('OVSDB closed the connection')
            buf += chunk
            if len(buf) > MAX_REPLY:
                raise OvsdbError('OVSDB reply too large')
            try:
                message, _end = decoder.raw_decode(buf.decode('utf-8').lstrip())
            except ValueError:
                continue  # not complete yet (or cut inside a UTF-8 sequence)
            if message.get('method') == 'echo':  # the server's keepalive: answer and keep reading
                sock.sendall(json.dumps({'id': message.get('id'), 'result': message.get('params', []),
                                         'error': None}).encode())
                buf = b''
                continue
            return parse_reply(message)
    finally:
        sock.close()
