"""Floodlight's core URLs: the connected switches list, the module lists, the storage tables, the counters; and
the JSON 404 (or 405) for every unknown path.

apps/entry.py mounts ROUTES with the SwitchesApp, and not_found last of all (apps/rest_routes.mount_fallback); the
switch list (switches_json and rest.stats.v0_switch_json) is served by rest.stats.switches.
COUNTER_ROUTES read the ForwardingApp's state too: rest.stats.SUMMARY_ROUTES carries them (mounted with it).
"""
import time

from controller import of10
from controller.dpid import DpidError, format_dpid, parse_dpid
from rest.http import HttpError, Route

API_0_9 = '0.9'
API_1_X = '1.x'


def setting(name, default):
    """cfg.CONF.<name> (controller/options.py, on Ryu's configuration: the one place settings live), or `default`
    where it is not registered (a handler called outside the controller, as in unit tests)."""
    from ryu import cfg  # oslo.config only: no Ryu event code
    try:
        return getattr(cfg.CONF, name)
    except AttributeError:  # oslo.config's NoSuchOptError is one
        return default


def api_generation():
    """--floodlight-api: which generation's shape a route answers with where Floodlight 0.9x and 1.x differ and
    no body serves both."""
    return setting('floodlight_api', API_1_X)


def switches_json(sessions):
    """The keys both generations share: Floodlight 1.x's inetAddress, connectedSince, switchDPID and 0.9x's `dpid`
    (what its web UI and example/cli.py key switches by); rest.stats.switches adds 0.91's other keys."""
    return [{'inetAddress': '/' + s.remote, 'connectedSince': int(s.since * 1000), 'switchDPID': format_dpid(s.dpid),
             'dpid': format_dpid(s.dpid)}
            for s in sessions]


# --- module lists ------------------------------------------------------------------------------------------

_FL = 'net.floodlightcontroller.'
_PROVIDER = (_FL + 'core.IFloodlightProviderService', _FL + 'core.internal.Controller')
_SWITCH_SERVICE = (_FL + 'core.internal.IOFSwitchService', _FL + 'core.internal.OFSwitchManager')
_REST = (_FL + 'restserver.IRestApiService', _FL + 'restserver.RestApiServer')
_STORAGE = (_FL + 'storage.IStorageSourceService', _FL + 'storage.memory.MemoryStorageSource')
_LINKS = (_FL + 'linkdiscovery.ILinkDiscoveryService', _FL + 'linkdiscovery.internal.LinkDiscoveryManager')
_TOPOLOGY = (_FL + 'topology.ITopologyService', _FL + 'topology.TopologyManager')
_ROUTING = (_FL + 'routing.IRoutingService', _FL + 'topology.TopologyManager')
_DEVICES = (_FL + 'devicemanager.IDeviceService', _FL + 'devicemanager.internal.DeviceManagerImpl')
_COUNTERS = (_FL + 'debugcounter.IDebugCounterService', _FL + 'debugcounter.DebugCounterServiceImpl')
_STATIC = (_FL + 'staticflowentry.IStaticFlowEntryPusherService', _FL + 'staticflowentry.StaticFlowEntryPusher')

# Floodlight's module class -> (loaded here: True, or the name of the setting that loads it, [services it depends
# on], [services it provides]); each is the Floodlight name of what plays its part here: FloodlightProvider and
# OFSwitchManager are apps/switches.py,
# MemoryStorageSource is the SQLite store of static entries (--staticflow-db), DebugCounterServiceImpl the counters
# below, StatisticsCollector apps/stats.py. Firewall, ACL and LoadBalancer are listed as not loaded until their
# apps are part of the controller (issue 14): set True where they are mounted.
MODULES = {
    _FL + 'core.internal.FloodlightProvider': (True, [_SWITCH_SERVICE, _REST, _STORAGE, _COUNTERS], [_PROVIDER]),
    _FL + 'core.internal.OFSwitchManager': (True, [_PROVIDER, _COUNTERS], [_SWITCH_SERVICE]),
    _FL + 'restserver.RestApiServer': (True, [], [_REST]),
    _FL + 'storage.memory.MemoryStorageSource': (True, [_REST], [_STORAGE]),
    _FL + 'debugcounter.DebugCounterServiceImpl': (True, [], [_COUNTERS]),
    _FL + 'staticflowentry.StaticFlowEntryPusher': (True, [_STORAGE, _PROVIDER, _SWITCH_SERVICE, _REST], [_STATIC]),
    _FL + 'linkdiscovery.internal.LinkDiscoveryManager': (True, [_STORAGE, _PROVIDER, _REST], [_LINKS]),
    _FL + 'topology.TopologyManager': (True, [_PROVIDER, _LINKS, _SWITCH_SERVICE, _REST], [_TOPOLOGY, _ROUTING]),
    _FL + 'devicemanager.internal.DeviceManagerImpl': (True, [_TOPOLOGY, _STORAGE, _PROVIDER, _REST], [_DEVICES]),
    _FL + 'forwarding.Forwarding': (True, [_DEVICES, _TOPOLOGY, _ROUTING, _PROVIDER, _COUNTERS], []),
    _FL + 'statistics.StatisticsCollector': (True, [_SWITCH_SERVICE, _REST], [
        (_FL + 'statistics.IStatisticsService', _FL + 'statistics.StatisticsCollector')]),
    _FL + 'firewall.Firewall': (True, [_STORAGE, _PROVIDER, _REST], [
        (_FL + 'firewall.IFirewallService', _FL + 'firewall.Firewall')]),
    _FL + 'accesscontrollist.ACL': (True, [_DEVICES, _REST], [
        (_FL + 'accesscontrollist.IACLService', _FL + 'accesscontrollist.ACL')]),
    _FL + 'loadbalancer.LoadBalancer': (True, [_DEVICES, _TOPOLOGY, _ROUTING, _PROVIDER, _STATIC, _REST], [
        (_FL + 'loadbalancer.ILoadBalancerService', _FL + 'loadbalancer.LoadBalancer')]),
    _FL + 'perfmon.PktInProcessingTime': (True, [_REST, _PROVIDER], [
        (_FL + 'perfmon.IPktInProcessingTimeService', _FL + 'perfmon.PktInProcessingTime')]),
    # loaded with --virtual-network-filter only (Floodlight's neutron.properties, not its default set)
    _FL + 'virtualnetwork.VirtualNetworkFilter': ('virtual_network_filter', [_PROVIDER, _REST, _DEVICES], [
        (_FL + 'virtualnetwork.IVirtualNetworkService', _FL + 'virtualnetwork.VirtualNetworkFilter')]),
}


def modules_json(loaded_only, forwarding=True):
    """Floodlight's {"<module class>": {"loaded": bool, "depends": {service: impl}, "provides": {...}}}.
    `forwarding`: whether reactive forwarding runs (--no-forwarding: Forwarding is not loaded)."""
    out = {}
    for name, (loaded, depends, provides) in MODULES.items():
        if isinstance(loaded, str):  # the name of the setting that loads it
            loaded = setting(loaded, False)
        if name.endswith('.Forwarding'):
            loaded = loaded and forwarding
        if loaded_only and not loaded:
            continue
        out[name] = {'loaded': loaded, 'depends': dict(depends), 'provides': dict(provides)}
    return out


def modules_all(app, request):
    return modules_json(False, setting('forwarding', True))


def modules_loaded(app, request):
    return modules_json(True, setting('forwarding', True))


# Floodlight's storage tables that hold something here: the static entries (the SQLite store, --staticflow-db).
STORAGE_TABLES = ['controller_staticflowtableentry', 'controller_firewallrules']  # Floodlight's names


def storage_tables(app, request):
    return list(STORAGE_TABLES)


# The switch list is rest.stats.switches (mounted with the StatsApp: its 0.9x keys need the switches' features).
ROUTES = [
    Route(('GET',), '/wm/core/module/all/json', modules_all),
    Route(('GET',), '/wm/core/module/loaded/json', modules_loaded),
    Route(('GET',), '/wm/core/storage/tables/json', storage_tables),
]


# --- counters ----------------------------------------------------------------------------------------------

def counter_values(state, tracker):
    """{(module, hierarchy): (value, description)}: the counts the controller keeps, named in the style of
    Floodlight 1.x's debug counters. `state`: the ForwardingApp's controller.forwarding state; `tracker`: the
    SwitchesApp's connection tracker. Per switch, the PACKET_INs received and flow-mods sent on its current session
    (Floodlight 1.x's OFSwitchManager connection counters: `<dpid>:0x0/read/PACKET_IN`, `.../write/FLOW_MOD`)."""
    values = {
        ('core', 'switches-connected'): (len(tracker.current_sessions()), 'switches with a live session'),
        ('forwarding', 'flows-installed'): (state.flow_count(), 'reactive forwarding flows believed installed'),
        ('devicemanager', 'hosts'): (len(state.devices.by_mac), 'hosts known'),
        ('linkdiscovery', 'lldp-accepted'): (state.lldp_accepted, 'LLDP frames taken for links'),
        ('linkdiscovery', 'lldp-rejected'): (sum(state.lldp_rejected.values()), 'LLDP frames ignored'),
    }
    for reason, count in sorted(state.lldp_rejected.items()):
        values[('linkdiscovery', 'lldp-rejected/' + reason)] = (count, 'LLDP frames ignored: ' + reason)
    for reason, count in sorted(tracker.refusals_view()['refused'].items()):
        values[('core', 'connections-refused/' + reason)] = (count, 'OpenFlow connections refused: ' + reason)
    for dpid, (packet_ins, flow_mods) in switch_message_counts(tracker).items():
        connection = '%s:0x0' % format_dpid(dpid)  # Floodlight 1.x: DPID and auxiliary connection id
        values[(SWITCH_COUNTER_MODULE, connection + '/read/PACKET_IN')] = (
            packet_ins, 'Number of PACKET_IN messages in this connection')
        values[(SWITCH_COUNTER_MODULE, connection + '/write/FLOW_MOD')] = (
            flow_mods, 'Number of FLOW_MOD messages in this connection')
    return values


SWITCH_COUNTER_MODULE = 'OFSwitchManager'
# Floodlight 0.9x's CounterStore names of the per-switch message counters (its OFType class names).
V0_SWITCH_COUNTERS = ('OFPacketIn', 'OFFlowMod')


def switch_message_counts(tracker):
    """{dpid: (PACKET_INs received, flow-mods sent)} of each connected switch's current session (counted by the
    session, apps/session.py: they start again from 0 when the switch reconnects)."""
    return {conn.dpid: (conn.handle.counts.received[of10.OFPT_PACKET_IN],
                        conn.handle.counts.sent[of10.OFPT_FLOW_MOD]) for conn in tracker.current_sessions()}


def v0_switch_counters(tracker):
    """{"<dpid>__OFPacketIn": n, "<dpid>__OFFlowMod": n, ...} and the controller-wide sums
    ("controller__OFPacketIn"), as 0.91's CounterStore named them."""
    flat = {}
    totals = [0, 0]
    for dpid, counts in switch_message_counts(tracker).items():
        for index, (name, count) in enumerate(zip(V0_SWITCH_COUNTERS, counts)):
            flat['%s__%s' % (format_dpid(dpid), name)] = count
            totals[index] += count
    for name, total in zip(V0_SWITCH_COUNTERS, totals):
        flat['controller__' + name] = total
    return flat


def _flat_name(module, hierarchy):
    """Floodlight 0.9x's CounterStore spelling: controller__OFPacketIn__L3_ARP."""
    return '__'.join([module] + hierarchy.split('/'))


def counter_title_json(values, title, v0_flat=None):
    """0.9x /wm/core/counter/<title>/json: every counter for `all`, else {title: value} (0 for a name nobody
    counts, as Floodlight answered). v0_flat: counters already in 0.9x's flat names (v0_switch_counters)."""
    flat = {_flat_name(module, hierarchy): value for (module, hierarchy), (value, _desc) in values.items()
            if module != SWITCH_COUNTER_MODULE}
    flat.update(v0_flat or {})
    if title == 'all':
        return flat
    return {title: flat.get(title, 0)}


def counter_module_json(values, module, title):
    """1.x /wm/core/counter/<module>/<title>/json: {"<hierarchy>": value} of a module's counters (`all`), or of
    one counter and those under it; {} for a module or title with none (as Floodlight answered)."""
    return {hierarchy: value for (mod, hierarchy), (value, _desc) in sorted(values.items())
            if mod == module and (title == 'all' or hierarchy == title or hierarchy.startswith(title + '/'))}


def debugcounter_json(values, parts):
    """0.91 /wm/debugcounter[/<module>[/<hierarchy>...]]: {"counterMap": {"<module>/<hierarchy>": info},
    "error": null}; a module or counter that does not exist gives an error string, as Floodlight's did."""
    module = parts[0] if parts and parts[0] != 'all' else None
    hierarchy = '/'.join(parts[1:]) if len(parts) > 1 else None
    found = {}
    for (mod, name), (value, desc) in sorted(values.items()):
        if module is not None and mod != module:
            continue
        if hierarchy is not None and name != hierarchy and not name.startswith(hierarchy + '/'):
            continue
        found['%s/%s' % (mod, name)] = {'counterValue': value, 'counterType': 'ALWAYS_COUNT', 'counterDesc': desc,
                                        'enabled': True, 'counterHierarchy': name, 'moduleName': mod}
    error = None
    if module is not None and not found:
        error = 'Invalid module name or counter hierarchy: %s' % '/'.join(parts)
    return {'counterMap': found, 'error': error}


def _values(app):
    return counter_values(app.state, app.switches.tracker)


def counter_title(app, request, title):
    return counter_title_json(_values(app), title, v0_switch_counters(app.switches.tracker))


def v0_switch_counter_json(counts, switch_text, dpid, name, now):
    """0.9x /counter/<dpid>/<name>/json: {"<switch as written>": {"<Java date of now>": value}} for OFPacketIn
    and OFFlowMod of a connected switch, {} otherwise (Floodlight's answer for a counter it did not have, `all`
    included). counts: switch_message_counts()."""
    if dpid not in counts or name not in V0_SWITCH_COUNTERS:
        return {}
    return {switch_text: {java_date(now): counts[dpid][V0_SWITCH_COUNTERS.index(name)]}}


def java_date(epoch):
    """Java's Date.toString() in UTC, as Floodlight wrote times: "Wed Nov 25 23:52:29 UTC 2026"."""
    return time.strftime('%a %b %d %H:%M:%S UTC %Y', time.gmtime(epoch))


def counter_two(app, request, first, second):
    """0.9x /counter/<dpid>/<name>/json and 1.x /counter/<module>/<title>/json share one URL pattern: a DPID
    in the first place is the 0.9x form."""
    try:
        dpid = parse_dpid(first)
    except DpidError:
        return counter_module_json(_values(app), first, second)
    return v0_switch_counter_json(switch_message_counts(app.switches.tracker), first, dpid, second, time.time())


def counter_categories(app, request, switch, name, layer):
    """0.9x: the sub-categories of a per-switch counter at a layer; none are kept: an empty list."""
    try:
        dpid = parse_dpid(switch)
    except DpidError as error:
        raise HttpError(400, 'bad switch: %s' % error) from None
    return {'%s__%s.%s' % (format_dpid(dpid), name, layer): []}


def debugcounters(app, request):
    return debugcounter_json(_values(app), [])


def debugcounter(app, request, params):
    return debugcounter_json(_values(app), [p for p in params.split('/') if p])


def debugevents(app, request):
    """0.91 /wm/debugevent[/...]: no event history is kept here: the empty history, in Floodlight's shape."""
    return {'eventMap': {}, 'error': None}


def debugevent(app, request, params):
    return debugevents(app, request)


# The rest of the path, slashes included (any character: a %0A in it must reach the handler, not Ryu's HTML 404).
ANY_SUBPATH = r'[\s\S]+'

COUNTER_ROUTES = [
    Route(('GET',), '/wm/core/counter/{title}/json', counter_title),
    Route(('GET',), '/wm/core/counter/categories/{switch}/{name}/{layer}/json', counter_categories),
    Route(('GET',), '/wm/core/counter/{first}/{second}/json', counter_two),
    Route(('GET',), '/wm/debugcounter', debugcounters),
    Route(('GET',), '/wm/debugcounter/', debugcounters),
    Route(('GET',), '/wm/debugcounter/{params}', debugcounter, {'params': ANY_SUBPATH}),
    Route(('GET',), '/wm/debugevent', debugevents),
    Route(('GET',), '/wm/debugevent/', debugevents),
    Route(('GET',), '/wm/debugevent/{params}', debugevent, {'params': ANY_SUBPATH}),
]

PROBED_METHODS = ('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS')


def not_found(routes, request, path):
    """The answer for a path no route claims: a JSON 404, or a 405 with `Allow` when other methods are routed
    there. routes.routed(path, method): does a route other than this one take `method` on `path`?"""
    allowed = [method for method in PROBED_METHODS if method != request.method and routes.routed(request.path, method)]
    if allowed:
        raise HttpError(405, '%s is not allowed on %s; use %s' % (request.method, request.path, ', '.join(allowed)),
                        {'Allow': ', '.join(allowed)})
    raise HttpError(404, 'no such resource: %s %s' % (request.method, request.path))
