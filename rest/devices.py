"""Floodlight's device list, /wm/device/ (and /wm/device/all/json), in the 1.x shape, with its query filters;
and /wm/device/debug, the entities behind each device.

Query parameters other than the filters are ignored, as Floodlight (Restlet) did: jQuery's `?_=<timestamp>` cache
buster, which Floodlight's web UI sends, must not turn the list into an error."""
import ipaddress

from controller.devices import VLAN_NONE, format_ipv4, format_mac
from controller.dpid import DpidError, format_dpid, parse_dpid
from rest.http import HttpError, Route, streamed_list

FILTERS = ('mac', 'ipv4', 'vlan', 'dpid', 'port')
STARTSWITH = ('mac__startswith', 'ipv4__startswith', 'dpid__startswith')


def device_json(device):
    return {
        'entityClass': 'DefaultEntityClass',
        'mac': [format_mac(device.mac)],
        'ipv4': [format_ipv4(a) for a in device.ipv4],
        'ipv6': [],
        'vlan': ['0x0' if device.vlan == VLAN_NONE else '0x%x' % device.vlan],
        'attachmentPoint': [{'switchDPID': format_dpid(device.dpid), 'port': device.port, 'errorStatus': None}],
        'lastSeen': device.last_seen_ms,
    }


def parse_filters(params):
    """Query parameters -> DeviceTable.query keyword arguments; a bad filter value is a 400 naming it, a
    parameter that is no filter is ignored."""
    kwargs = {}
    value = params.get('mac')
    if value is not None:
        try:
            mac = bytes.fromhex(value.replace(':', '').replace('-', ''))
        except ValueError:
            mac = b''
        if len(mac) != 6:
            raise HttpError(400, 'bad mac %r: expected a MAC address like 00:00:00:00:00:01' % value)
        kwargs['mac'] = mac
    value = params.get('ipv4')
    if value is not None:
        try:
            kwargs['ipv4'] = ipaddress.IPv4Address(value).packed
        except ValueError:
            raise HttpError(400, 'bad ipv4 %r: expected an IPv4 address like 10.0.0.1' % value) from None
    value = params.get('vlan')
    if value is not None:
        try:
            vlan = int(value, 0)
        except ValueError:
            vlan = -1
        if not 0 <= vlan <= 4095:
            raise HttpError(400, 'bad vlan %r: expected 0-4095' % value)
        kwargs['vlan'] = VLAN_NONE if vlan == 0 else vlan
    value = params.get('dpid')
    if value is not None:
        try:
            kwargs['dpid'] = parse_dpid(value)
        except DpidError as error:
            raise HttpError(400, 'bad dpid: %s' % error) from None
    value = params.get('port')
    if value is not None:
        try:
            port = int(value, 0)
        except ValueError:
            port = -1
        if not 0 <= port <= 0xffff:
            raise HttpError(400, 'bad port %r: expected 0-65535' % value)
        kwargs['port'] = port
    startswith = {key.split('__')[0]: params[key] for key in STARTSWITH if key in params}
    if startswith:
        kwargs['startswith'] = startswith
    return kwargs


def devices(app, request):
    """The ForwardingApp's hosts (apps/forwarding.py mounts ROUTES with it), oldest seen first; made and sent 100
    at a time (rest.http.Streamed: the table may hold 100,000)."""
    found = app.state.devices.query(**parse_filters(request.params))
    found.sort(key=lambda d: d.last_seen_ms)  # the table's order, unless the clock went back
    return streamed_list(found, device_json)


def entities_json(device):
    """Floodlight's entities of one device, one per IPv4 address it was seen with (one without when none).
    No first-seen time is kept: activeSince is the last seen time too (docs/compatibility.md)."""
    seen = device.last_seen_ms
    return [{'macAddress': format_mac(device.mac), 'ipv4Address': address,
             'vlan': None if device.vlan == VLAN_NONE else device.vlan, 'switchDPID': format_dpid(device.dpid),
             'switchPort': device.port, 'lastSeenTimestamp': seen, 'activeSince': seen}
            for address in [format_ipv4(a) for a in device.ipv4] or [None]]


def devices_debug(app, request):
    found = app.state.devices.query()
    found.sort(key=lambda d: d.last_seen_ms)
    return streamed_list(found, entities_json)


ROUTES = [
    Route(('GET',), '/wm/device/', devices),
    Route(('GET',), '/wm/device/all/json', devices),
    Route(('GET',), '/wm/device/debug', devices_debug),
]
