"""Floodlight's core statistics and controller URLs.

/wm/core/switch/<dpid|all>/<flow|port|desc|aggregate|features|table|queue|port-desc>/json, /wm/core/memory/json,
/wm/core/health/json, /wm/core/system/uptime/json, /wm/core/controller/summary/json; Floodlight 1.2's statistics
module: /wm/statistics/config/<enable|disable>/json, /wm/statistics/bandwidth/<dpid|all>/<port|all>/json.
The *_json functions turn ryu's parsed OpenFlow 1.0 replies into Floodlight 1.x bodies (every number a string,
"version":"OF_10"), the v0_*_json ones into Floodlight 0.91's (Jackson dumps of openflowj's beans: numbers as
numbers, signed where Java held them signed), served with --floodlight-api 0.9; they read attributes only, so tests
feed them the parser's own objects.
"""
import os
import time

from controller import of10
from controller.dpid import format_dpid
from rest import core, floodlight
from rest.http import HttpError, Reply, Route, switch_param

STATS = ('port-desc', 'flow', 'port', 'desc', 'aggregate', 'features', 'table', 'queue')
# OpenFlow 1.0 has no port description request: port-desc is answered from a FEATURES_REPLY's ports.
REQUESTED = {'port-desc': 'features'}
# Statistics Floodlight 1.x knew that an OpenFlow 1.0 switch has none of (its groups, meters and table features),
# and 0.9x's `host`, which no switch ever had: an empty answer, true for every OpenFlow 1.0 switch. Floodlight 1.2
# answered them with 200 and its ERROR blob; a 404 here made floodlight-webui's switch page raise an alert box
# (it asks group-features for every switch). A name Floodlight did not know still gets the 404.
NONE_ON_OF10 = ('group', 'group-desc', 'group-features', 'meter', 'meter-config', 'meter-features',
                'table-features', 'experimenter', 'host')


# --- reply bodies -----------------------------------------------------------------------------------------

def _port_name(port_no):
    return 'local' if port_no == of10.OFPP_LOCAL else str(port_no)


class _Match:
    """A flow's match seen as a FlowEntry's (match_dict()), so the static flow list's 1.x spelling is reused."""

    def __init__(self, pairs):
        self._pairs = pairs

    def match_dict(self):
        return dict(self._pairs)


def flow_json(stats_list):
    flows = []
    for s in stats_list:
        actions = of10.ryu_actions(s.actions)
        flows.append({
            'version': 'OF_10', 'cookie': str(s.cookie), 'tableId': '0x%x' % s.table_id,
            'packetCount': str(s.packet_count), 'byteCount': str(s.byte_count),
            'durationSeconds': str(s.duration_sec), 'durationNSeconds': str(s.duration_nsec),
            'priority': str(s.priority), 'idleTimeoutSec': str(s.idle_timeout),
            'hardTimeoutSec': str(s.hard_timeout), 'match': floodlight.v1_match_json(_Match(of10.flow_match(s.match))),
            'actions': {'actions': floodlight.v1_actions_text(actions)} if actions else {'none': 'drop'},
        })
    return {'flows': flows}


_PORT_COUNTERS = (('receivePackets', 'rx_packets'), ('transmitPackets', 'tx_packets'), ('receiveBytes', 'rx_bytes'),
                  ('transmitBytes', 'tx_bytes'), ('receiveDropped', 'rx_dropped'), ('transmitDropped', 'tx_dropped'),
                  ('receiveErrors', 'rx_errors'), ('transmitErrors', 'tx_errors'),
                  ('receiveFrameErrors', 'rx_frame_err'), ('receiveOverrunErrors', 'rx_over_err'),
                  ('receiveCRCErrors', 'rx_crc_err'), ('collisions', 'collisions'))


def port_json(stats_list):
    ports = []
    for s in sorted(stats_list, key=lambda s: s.port_no):
        entry = {'portNumber': _port_name(s.port_no)}
        for key, attr in _PORT_COUNTERS:
            entry[key] = str(getattr(s, attr))
        ports.append(entry)
    return {'port_reply': [{'version': 'OF_10', 'port': ports}]}


def _text(value):
    return value.decode('utf-8', 'replace').rstrip('\0') if isinstance(value, bytes) else str(value)


def desc_json(stats):
    return {'desc': {'version': 'OF_10', 'manufacturerDescription': _text(stats.mfr_desc),
                     'hardwareDescription': _text(stats.hw_desc), 'softwareDescription': _text(stats.sw_desc),
                     'serialNumber': _text(stats.serial_num), 'datapathDescription': _text(stats.dp_desc)}}


def aggregate_json(stats):
    return {'aggregate': {'version': 'OF_10', 'flowCount': str(stats.flow_count),
                          'packetCount': str(stats.packet_count), 'byteCount': str(stats.byte_count), 'flags': '0'}}


def table_json(stats_list):
    """Floodlight 1.2 answered an ERROR blob for OpenFlow 1.0 table stats (its serializer lacked OF1.0); this is
    the 1.x style applied to ofp_table_stats."""
    return {'table': [{'version': 'OF_10', 'tableId': '0x%x' % s.table_id, 'name': _text(s.name),
                       'wildcards': str(s.wildcards), 'maximumEntries': str(s.max_entries),
                       'activeCount': str(s.active_count), 'lookupCount': str(s.lookup_count),
                       'matchedCount': str(s.matched_count)} for s in stats_list]}


def queue_json(stats_list):
    """{} when the switch has no queues (Floodlight 1.2's reply for OVS), else the queue counters."""
    if not stats_list:
        return {}
    return {'queue_reply': [{'version': 'OF_10', 'queue': [
        {'portNumber': _port_name(s.port_no), 'queueId': str(s.queue_id), 'transmitBytes': str(s.tx_bytes),
         'transmitPackets': str(s.tx_packets), 'transmitErrors': str(s.tx_errors)} for s in stats_list]}]}


def _port_desc_list(msg):
    ports = []
    for port in sorted(msg.ports.values(), key=lambda p: p.port_no):
        hw = port.hw_addr if isinstance(port.hw_addr, str) else ':'.join('%02x' % b for b in port.hw_addr)
        ports.append({'portNumber': _port_name(port.port_no), 'hardwareAddress': hw, 'name': _text(port.name),
                      'config': str(port.config), 'state': str(port.state), 'currentFeatures': str(port.curr),
                      'advertisedFeatures': str(port.advertised), 'supportedFeatures': str(port.supported),
                      'peerFeatures': str(port.peer)})
    return ports


def port_desc_json(msg):
    """Floodlight 1.2's port-desc body ({"version", "portDesc": [...]}, as for an OpenFlow 1.3 switch), made from
    an OpenFlow 1.0 FEATURES_REPLY's ports: Floodlight 1.2 answered its ERROR blob to an OpenFlow 1.0 switch, so
    its web UI showed "Ports (0)"."""
    return {'version': 'OF_10', 'portDesc': _port_desc_list(msg)}


def features_json(msg):
    ports = _port_desc_list(msg)
    return {
        'capabilities': '[%s]' % ', '.join(of10.capability_names(msg.capabilities)),
        'dpid': format_dpid(msg.datapath_id), 'buffers': str(msg.n_buffers), 'tables': str(msg.n_tables),
        'version': 'OF_10', 'portDesc': ports,
        'actions': '[%s]' % ', '.join(of10.action_type_names(msg.actions)),
    }


def stat_json(stat, parts, generation=core.API_1_X):
    """parts: the bodies of every reply part (or the FEATURES_REPLY for features). generation: --floodlight-api."""
    if generation == core.API_0_9:
        return v0_stat_json(stat, parts)
    if stat == 'flow':
        return flow_json([s for body in parts for s in body])
    if stat == 'port':
        return port_json([s for body in parts for s in body])
    if stat == 'table':
        return table_json([s for body in parts for s in body])
    if stat == 'queue':
        return queue_json([s for body in parts for s in body])
    if stat == 'desc':
        return desc_json(parts[0])
    if stat == 'aggregate':
        body = parts[0]
        return aggregate_json(body[0] if isinstance(body, list) else body)
    if stat == 'features':
        return features_json(parts[0])
    if stat == 'port-desc':
        return port_desc_json(parts[0])
    raise ValueError(stat)


# --- Floodlight 0.91's bodies (--floodlight-api 0.9): each is the value under the switch's key -------------

def v0_flow_json(stats_list):
    """OFFlowStatisticsReply beans: the match and actions as the 0.9x static flow list writes them."""
    return [{'tableId': s.table_id, 'match': floodlight.v0_match_json(_Match(of10.flow_match(s.match)),
                                                                      s.match.wildcards),
             'durationSeconds': s.duration_sec, 'durationNanoseconds': s.duration_nsec,
             'priority': floodlight.signed16(s.priority), 'idleTimeout': s.idle_timeout,
             'hardTimeout': s.hard_timeout, 'cookie': floodlight.signed64(s.cookie), 'packetCount': s.packet_count,
             'byteCount': s.byte_count, 'actions': floodlight.v0_actions_json(of10.ryu_actions(s.actions))}
            for s in stats_list]


def v0_port_json(stats_list):
    """OFPortStatisticsReply beans; port numbers unsigned (LOCAL is 65534), as 0.91 wrote them."""
    return [dict([('portNumber', s.port_no)] + [(key, getattr(s, attr)) for key, attr in _PORT_COUNTERS])
            for s in sorted(stats_list, key=lambda s: s.port_no)]


def v0_desc_json(stats):
    return [{'manufacturerDescription': _text(stats.mfr_desc), 'hardwareDescription': _text(stats.hw_desc),
             'softwareDescription': _text(stats.sw_desc), 'serialNumber': _text(stats.serial_num),
             'datapathDescription': _text(stats.dp_desc)}]


def v0_aggregate_json(stats):
    return [{'packetCount': stats.packet_count, 'byteCount': stats.byte_count, 'flowCount': stats.flow_count}]


def v0_table_json(stats_list):
    return [{'tableId': s.table_id, 'name': _text(s.name), 'wildcards': s.wildcards,
             'maximumEntries': s.max_entries, 'activeCount': s.active_count, 'lookupCount': s.lookup_count,
             'matchedCount': s.matched_count, 'length': of10.TABLE_STATS_SIZE} for s in stats_list]


def v0_queue_json(stats_list):
    """[] for a switch without queues (0.91's answer for OVS); else OFQueueStatisticsReply beans."""
    return [{'portNumber': s.port_no, 'queueId': s.queue_id, 'transmitBytes': s.tx_bytes,
             'transmitPackets': s.tx_packets, 'transmitErrors': s.tx_errors} for s in stats_list]


def v0_ports_json(ports):
    """OFPhysicalPort beans of a FEATURES_REPLY's (or a session's) ports, by port number (LOCAL 65534 last)."""
    out = []
    for port in sorted(ports.values(), key=lambda p: p.port_no):
        hw = port.hw_addr if isinstance(port.hw_addr, str) else ':'.join('%02x' % b for b in port.hw_addr)
        out.append({'portNumber': port.port_no, 'hardwareAddress': hw, 'name': _text(port.name),
                    'config': port.config, 'state': port.state, 'currentFeatures': port.curr,
                    'advertisedFeatures': port.advertised, 'supportedFeatures': port.supported,
                    'peerFeatures': port.peer})
    return out


def v0_features_json(msg):
    """The OFFeaturesReply bean: n_tables as Java's signed byte (254 -> -2), its own type, version and xid."""
    return {'actions': msg.actions, 'buffers': msg.n_buffers, 'capabilities': msg.capabilities,
            'datapathId': format_dpid(msg.datapath_id),
            'length': of10.SWITCH_FEATURES_SIZE + of10.PHY_PORT_SIZE * len(msg.ports),
            'ports': v0_ports_json(msg.ports),
            'tables': msg.n_tables - 0x100 if msg.n_tables & 0x80 else msg.n_tables, 'type': 'FEATURES_REPLY',
            'version': of10.OFP_VERSION, 'xid': msg.xid or 0}


def v0_stat_json(stat, parts):
    """0.91's value under the switch's key. port-desc did not exist in 0.9x: here it is the features' port list."""
    if stat in ('flow', 'port', 'table', 'queue'):
        flat = [s for body in parts for s in body]
        return {'flow': v0_flow_json, 'port': v0_port_json, 'table': v0_table_json, 'queue': v0_queue_json}[stat](
            flat)
    if stat == 'desc':
        return v0_desc_json(parts[0])
    if stat == 'aggregate':
        body = parts[0]
        return v0_aggregate_json(body[0] if isinstance(body, list) else body)
    if stat == 'features':
        return v0_features_json(parts[0])
    if stat == 'port-desc':
        return v0_ports_json(parts[0].ports)
    raise ValueError(stat)


_NO_DESCRIPTION = {'datapath': '', 'serialNum': '', 'software': '', 'manufacturer': '', 'hardware': ''}


def v0_switch_json(features, desc, ports, role, roles_supported):
    """The keys Floodlight 0.91's switch list had beyond 1.x's (its web UI keys switches by `dpid`, OpenVIM's client
    reads `ports` for port names): features: the session's FEATURES_REPLY (None before it is known); desc: its
    OFPDescStats (None until the switch answered the request the first switch list sent: empty strings until
    then); ports: the session's current ports (kept by port status); role: 'MASTER'|'SLAVE'|'EQUAL'."""
    out = {'harole': role, 'attributes': {'supportsOfppFlood': True, 'supportsOfppTable': True,
                                          'FastWildcards': of10.OFPFW_ALL, 'supportsNxRole': roles_supported}}
    out['description'] = dict(_NO_DESCRIPTION) if desc is None else {
        'datapath': _text(desc.dp_desc), 'serialNum': _text(desc.serial_num), 'software': _text(desc.sw_desc),
        'manufacturer': _text(desc.mfr_desc), 'hardware': _text(desc.hw_desc)}
    out['ports'] = v0_ports_json(ports)
    out['actions'] = features.actions if features is not None else 0
    out['buffers'] = features.n_buffers if features is not None else 0
    out['capabilities'] = features.capabilities if features is not None else 0
    return out


def memory_json(resident=None, available=None):
    """{"total":bytes,"free":bytes} with the meaning of the JVM's Runtime totalMemory/freeMemory, whose
    difference is the memory in use: `total` is what the process may use (its resident size plus the memory the
    machine still has available) and `free` that available part, so total - free is the resident size and free
    never exceeds total. There is no heap limit to report (docs/compatibility.md). resident/available: bytes
    (read from /proc when None)."""
    if resident is None or available is None:
        resident, available = _proc_memory()
    return {'total': resident + available, 'free': available}


def _proc_memory():
    """-> (resident bytes of this process, MemAvailable bytes of the machine); 0 for what /proc does not tell."""
    resident = available = 0
    try:
        with open('/proc/self/statm') as handle:
            resident = int(handle.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
        with open('/proc/meminfo') as handle:
            for line in handle:
                if line.startswith('MemAvailable:'):
                    available = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return resident, available


def bandwidth_json(rates):
    """Floodlight 1.2's SwitchPortBandwidth list (controller.bandwidth.PortRate each): numbers as strings."""
    return [{'dpid': format_dpid(r.dpid), 'port': _port_name(r.port), 'updated': core.java_date(r.updated),
             'link-speed-bits-per-second': str(r.speed_bps), 'bits-per-second-rx': str(r.rx_bps),
             'bits-per-second-tx': str(r.tx_bps)} for r in rates]


# --- handlers ---------------------------------------------------------------------------------------------

# ROUTES read the StatsApp (apps/stats.py mounts them with it): query(dpids, stat), started, switches (the
# SwitchesApp), features and descriptions ({dpid: the switch's last FEATURES_REPLY / OFPDescStats}), and
# describe(dpids), which asks for the descriptions not known yet without waiting.

def switches(app, request):
    """/wm/core/controller/switches/json: one superset both generations' clients read, 1.x's keys
    (core.switches_json) and 0.91's (`dpid`, `ports`, `description`, `attributes`, ...). OpenVIM's client takes a
    list with `dpid` and `ports` for Floodlight 0.9 and then uses the 0.9x URLs, which are served too."""
    sessions = app.switches.tracker.current_sessions()
    app.describe([conn.dpid for conn in sessions])  # 0.91's `description`: asked once, shown from then on
    roles = app.switches.policy.switch_roles(app.switches.tracker)
    out = core.switches_json(sessions)
    for item, conn in zip(out, sessions):
        item.update(v0_switch_json(app.features.get(conn.dpid), app.descriptions.get(conn.dpid),
                                   getattr(conn.handle, 'ports', None) or {}, roles.get(conn.dpid, 'MASTER'),
                                   not conn.roles_unsupported))
    return out


def switch_stat(app, request, switch, stat):
    """1.x: one switch's body, or {"<dpid>": body} for all. 0.9x (--floodlight-api 0.9): {"<switch>": value}
    either way, keyed by the DPID as the URL wrote it (0.91 answered /switch/1/flow/json with {"1":[...]})."""
    dpid = switch_param(switch)
    if dpid is None:
        results = app.query(None, stat)
        return {format_dpid(dpid): body for dpid, body in results.items()}
    results = app.query([dpid], stat)
    if dpid not in results:
        raise HttpError(404, 'switch %s is not connected' % format_dpid(dpid))
    body = results[dpid]
    if isinstance(body, dict) and 'ERROR' in body and len(body) == 1:
        raise HttpError(504, body['ERROR'])
    return {switch: body} if core.api_generation() == core.API_0_9 else body


def stat_none_on_of10(app, request, switch, stat):
    """One of NONE_ON_OF10: [] for a connected switch (0.9x: null, as 0.91 answered `host`), 404 for another;
    for all: {"<dpid>": []} over the connected switches (0.9x: {}, as 0.91)."""
    v0 = core.api_generation() == core.API_0_9
    connected = [conn.dpid for conn in app.switches.tracker.current_sessions()]
    dpid = switch_param(switch)
    if dpid is None:
        return {} if v0 else {format_dpid(each): [] for each in connected}
    if dpid not in connected:
        raise HttpError(404, 'switch %s is not connected' % format_dpid(dpid))
    return {switch: None} if v0 else []


def memory(app, request):
    return memory_json()


def health(app, request):
    """Floodlight's {"healthy": true} while no fault is current (controller.health); otherwise HTTP 503 with
    {"healthy": false, "reasons": [{"component", "reason", "since"}]} so that a load balancer or a probe sees it."""
    board = app.switches.health
    if board.healthy():
        return {'healthy': True}
    return Reply(503, {'healthy': False, 'reasons': board.reasons()})


def uptime(app, request):
    return {'systemUptimeMsec': int((time.time() - app.started) * 1000)}


def collection_enable(app, request):
    """Floodlight 1.2: POST or PUT; port counters are polled every --statistics-interval from now on."""
    app.collect_statistics(True)
    return {'statistics-collection': 'enabled'}


def collection_disable(app, request):
    app.collect_statistics(False)
    return {'statistics-collection': 'disabled'}


def _bandwidth_port(text):
    if text.lower() == 'all':
        return None
    try:
        port = int(text, 10)
    except ValueError:
        port = -1
    if text.lower() == 'local':
        port = of10.OFPP_LOCAL
    if not 0 <= port <= 0xffff:
        raise HttpError(400, 'bad port %r: expected all, local or an OpenFlow port number 0-65535' % text)
    return port


def bandwidth(app, request, switch, port):
    """The rates of the last two polls ([] while collection is off, or before a port's second poll)."""
    dpid = switch_param(switch)
    port_no = _bandwidth_port(port)
    return bandwidth_json(app.bandwidth.query(dpid, port_no))


ROUTES = [
    Route(('GET',), '/wm/core/controller/switches/json', switches),
    Route(('GET',), '/wm/core/switch/{switch}/{stat}/json', switch_stat, {'stat': '|'.join(STATS)}),
    Route(('GET',), '/wm/core/switch/{switch}/{stat}/json', stat_none_on_of10, {'stat': '|'.join(NONE_ON_OF10)}),
    Route(('GET',), '/wm/core/memory/json', memory),
    Route(('GET',), '/wm/core/health/json', health),
    Route(('GET',), '/wm/core/system/uptime/json', uptime),
    Route(('POST', 'PUT'), '/wm/statistics/config/enable/json', collection_enable),
    Route(('POST', 'PUT'), '/wm/statistics/config/disable/json', collection_disable),
    Route(('GET',), '/wm/statistics/bandwidth/{switch}/{port}/json', bandwidth),
]


def summary(app, request):
    """Counts from the ForwardingApp (apps/forwarding.py mounts SUMMARY_ROUTES with it): its switches
    (the SwitchesApp), links, learned hosts and ports still in quarantine."""
    topology = app.state.topology
    now = time.time()
    return {'# Switches': len(app.switches.tracker.current_sessions()), '# inter-switch links': len(topology.links),
            '# quarantine ports': sum(1 for until in topology.quarantined.values() if until > now),
            '# hosts': len(app.state.devices.by_mac)}


# Mounted with the ForwardingApp: the summary and the counters read its state.
SUMMARY_ROUTES = [
    Route(('GET',), '/wm/core/controller/summary/json', summary),
] + core.COUNTER_ROUTES
