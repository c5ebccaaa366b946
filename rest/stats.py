"""Floodlight 1.x core statistics and controller URLs.

/wm/core/switch/<dpid|all>/<flow|port|desc|aggregate|features|table|queue>/json, /wm/core/memory/json,
/wm/core/health/json, /wm/core/system/uptime/json, /wm/core/controller/summary/json.
The *_json functions turn ryu's parsed OpenFlow 1.0 replies into Floodlight 1.x bodies (every number a string,
"version":"OF_10"); they read attributes only, so tests feed them the parser's own objects.
"""
import os

from ryu.app.wsgi import ControllerBase

from controller import of10
from controller.dpid import format_dpid
from rest import floodlight
from rest.http import HttpError, json_response, rest_errors, switch_param

APP_KEY = 'stats_app'
STATS = ('flow', 'port', 'desc', 'aggregate', 'features', 'table', 'queue')


def register_routes(wsgi, app):
    wsgi.registory[FloodlightStatsController.__name__] = {APP_KEY: app}
    wsgi.mapper.connect('core_switch_stat', '/wm/core/switch/{switch}/{stat}/json', controller=FloodlightStatsController,
                        action='switch_stat', conditions={'method': ['GET']},
                        requirements={'stat': '|'.join(STATS)})
    for name, path in (('memory', '/wm/core/memory/json'), ('health', '/wm/core/health/json'),
                       ('uptime', '/wm/core/system/uptime/json'), ('summary', '/wm/core/controller/summary/json')):
        wsgi.mapper.connect('core_' + name, path, controller=FloodlightStatsController, action=name,
                            conditions={'method': ['GET']})


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


def features_json(msg):
    ports = []
    for port in sorted(msg.ports.values(), key=lambda p: p.port_no):
        hw = port.hw_addr if isinstance(port.hw_addr, str) else ':'.join('%02x' % b for b in port.hw_addr)
        ports.append({'portNumber': _port_name(port.port_no), 'hardwareAddress': hw, 'name': _text(port.name),
                      'config': str(port.config), 'state': str(port.state), 'currentFeatures': str(port.curr),
                      'advertisedFeatures': str(port.advertised), 'supportedFeatures': str(port.supported),
                      'peerFeatures': str(port.peer)})
    return {
        'capabilities': '[%s]' % ', '.join(of10.capability_names(msg.capabilities)),
        'dpid': format_dpid(msg.datapath_id), 'buffers': str(msg.n_buffers), 'tables': str(msg.n_tables),
        'version': 'OF_10', 'portDesc': ports,
        'actions': '[%s]' % ', '.join(of10.action_type_names(msg.actions)),
    }


def stat_json(stat, parts):
    """parts: the bodies of every reply part (or the FEATURES_REPLY for features)."""
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
    raise ValueError(stat)


def memory_json():
    """{"total":bytes,"free":bytes} like the JVM's Runtime: the process's resident size and the machine's free
    memory (there is no heap to report)."""
    total = free = 0
    try:
        with open('/proc/self/statm') as handle:
            total = int(handle.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
        with open('/proc/meminfo') as handle:
            for line in handle:
                if line.startswith('MemAvailable:'):
                    free = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return {'total': total, 'free': free}


# --- handlers ---------------------------------------------------------------------------------------------

class FloodlightStatsController(ControllerBase):
    def __init__(self, req, link, data, **config):
        super().__init__(req, link, data, **config)
        self.app = data[APP_KEY]

    @rest_errors
    def switch_stat(self, req, switch, stat):
        dpid = switch_param(switch)
        if dpid is None:
            results = self.app.query(None, stat)
            return json_response({format_dpid(dpid): body for dpid, body in results.items()})
        results = self.app.query([dpid], stat)
        if dpid not in results:
            raise HttpError(404, 'switch %s is not connected' % format_dpid(dpid))
        body = results[dpid]
        if 'ERROR' in body and len(body) == 1:
            raise HttpError(504, body['ERROR'])
        return json_response(body)

    @rest_errors
    def memory(self, req):
        return json_response(memory_json())

    @rest_errors
    def health(self, req):
        return json_response({'healthy': True})

    @rest_errors
    def uptime(self, req):
        return json_response({'systemUptimeMsec': self.app.uptime_ms()})

    @rest_errors
    def summary(self, req):
        return json_response(self.app.summary())
