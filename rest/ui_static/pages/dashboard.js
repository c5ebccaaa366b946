// Dashboard: the controller (version, uptime, memory, role, health), counts, entries by state, recent events.
import { get } from '../api.js';
import { ago, bytes, duration, h, replace, stateBadge, switchLink, table, when } from '../dom.js';

const HISTORY_SWITCHES = 20;  // timelines read per refresh: the switches whose session changed last
const EVENTS_SHOWN = 30;
const EVENT_KINDS = new Set(['connected', 'disconnected', 'fail_open', 'refused', 'replaced']);

function card(title, value, detail, id) {
  return h('div', { className: 'card', id }, h('div', { className: 'card-title' }, title),
    h('div', { className: 'card-value' }, value), detail ? h('div', { className: 'card-detail' }, detail) : null);
}

function eventText(event) {
  switch (event.event) {
    case 'connected':
      return 'connected (' + event.kind + ') from ' + event.remote + (event.while_away ? ': ' + event.while_away : '');
    case 'disconnected':
      return 'gone (' + event.kind + ')' + (event.switch_does ? ': ' + event.switch_does : '');
    case 'fail_open':
      return 'fail-open predicted: ' + event.switch_does;
    case 'refused':
      return 'connection refused (' + event.reason + ') from ' + event.remote;
    case 'replaced':
      return 'session replaced: ' + event.detail;
    case 'entry_error':
      return 'entry ' + event.name + ' refused by the switch: ' + event.error;
    default:
      return event.event;
  }
}

export default {
  title: 'Dashboard',
  render(container) {
    const cards = h('div', { className: 'cards' });
    const events = h('div', { id: 'events' });
    replace(container, h('h1', {}, 'Dashboard'), cards, h('h2', {}, 'Recent events'), events);
    return {
      async refresh() {
        const [version, uptime, memory, role, summary, status, connections, health] = await Promise.all([
          get('/wm/core/version/json'), get('/wm/core/system/uptime/json'), get('/wm/core/memory/json'),
          get('/wm/core/role/json'), get('/wm/core/controller/summary/json'),
          get('/wm/staticflowpusher/status/all/json'), get('/wm/core/controller/connections/json'),
          // 503 with the reasons while a fault is current: shown, not an error of the page
          get('/wm/core/health/json').catch((e) => { if (e.status === 503 && e.body) return e.body; throw e; })]);
        const byState = { waiting: 0, sent: 0, installed: 0, error: 0 };
        const found = [];
        for (const [dpid, entries] of Object.entries(status)) {
          for (const [name, entry] of Object.entries(entries)) {
            if (!entry) continue;
            byState[entry.state] = (byState[entry.state] || 0) + 1;
            if (entry.state === 'error' && entry.error) {
              found.push({ time: entry.since, dpid, event: 'entry_error', name,
                error: (entry.error.type_name || entry.error.type) + ' / ' + (entry.error.code_name || entry.error.code) });
            }
          }
        }
        const latest = new Map();
        for (const session of connections) {
          latest.set(session.dpid, Math.max(latest.get(session.dpid) || 0, session.since));
        }
        const dpids = [...latest.entries()].sort((a, b) => b[1] - a[1]).slice(0, HISTORY_SWITCHES).map((e) => e[0]);
        const histories = await Promise.all(dpids.map((dpid) =>
          get('/wm/core/controller/connections/' + dpid + '/history/json')));
        dpids.forEach((dpid, i) => {
          for (const event of histories[i]) if (EVENT_KINDS.has(event.event)) found.push(Object.assign({ dpid }, event));
        });
        found.sort((a, b) => b.time - a.time);
        const sessionsUp = connections.filter((c) => c.state === 'connected').length;
        replace(cards,
          card('Controller', version.name + ' ' + version.version, 'Ryu ' + version.ryu + ', Python ' + version.python, 'card-version'),
          card('Uptime', duration(uptime.systemUptimeMsec), null, 'card-uptime'),
          card('Memory', bytes(memory.total - memory.free), 'resident; ' + bytes(memory.free) + ' available', 'card-memory'),
          card('Role', role.role, role.instance, 'card-role'),
          card('Health', health.healthy ? 'healthy' : 'unhealthy',
            (health.reasons || []).map((r) => r.component + ': ' + r.reason).join('; ') || null, 'card-health'),
          card('Switches', summary['# Switches'], sessionsUp + ' live session(s)', 'card-switches'),
          card('Hosts', summary['# hosts'], null, 'card-hosts'),
          card('Links', summary['# inter-switch links'], summary['# quarantine ports'] + ' port(s) in quarantine', 'card-links'),
          card('Static entries', Object.values(byState).reduce((a, b) => a + b, 0),
            h('span', {}, Object.entries(byState).map(([state, n]) => h('span', { className: 'by-state' }, stateBadge(state), ' ' + n))),
            'card-entries'));
        replace(events, table([
          ['When', (e) => h('span', { title: when(e.time) }, ago(e.time))],
          ['Switch', (e) => switchLink(e.dpid)],
          ['Event', (e) => h('span', { className: 'event ' + e.event }, eventText(e))],
        ], found.slice(0, EVENTS_SHOWN), null, 'no events yet'));
      },
    };
  },
};
