// Switch detail: sessions, ports with live counters and rates, flow table, static entries with their status,
// connection timeline. Statistics are asked for only while the switch has a live session.
import { get } from '../api.js';
import { ago, bits, bytes, h, listedPriority, pairs, replace, stateBadge, table, when } from '../dom.js';

function actionsText(actions) {
  return actions.actions || (actions.none ? 'drop' : '');
}

function timelineText(event) {
  const skip = new Set(['time', 'event']);
  return Object.entries(event).filter(([k]) => !skip.has(k)).map(([k, v]) =>
    k + '=' + (typeof v === 'object' && v !== null ? JSON.stringify(v) : v)).join(', ');
}

export default {
  title: 'Switch',
  render(container, dpid) {
    const sections = {};
    const section = (id, title) => {
      sections[id] = h('div', { id });
      return [h('h2', {}, title), sections[id]];
    };
    const describe = h('p', { className: 'muted', id: 'switch-desc' });
    replace(container, h('h1', {}, 'Switch ', h('span', { className: 'dpid' }, dpid)), describe,
      section('sessions', 'Sessions'), section('ports', 'Ports'), section('entries', 'Static entries'),
      section('flows', 'Flow table'), section('timeline', 'Connection timeline'));
    let previous = null;  // { at, counters: {port: {rx, tx}} } of the last port read: rates are the difference
    let described = false;
    return {
      async refresh() {
        const [sessions, listed, status, history] = await Promise.all([
          get('/wm/core/controller/connections/json'), get('/wm/staticflowpusher/list/' + dpid + '/json'),
          get('/wm/staticflowpusher/status/' + dpid + '/json'),
          get('/wm/core/controller/connections/' + dpid + '/history/json').catch((e) => {
            if (e.status === 404) return [];
            throw e;
          })]);
        const mine = sessions.filter((s) => s.dpid === dpid);
        const live = mine.some((s) => s.state === 'connected');
        replace(sections.sessions, table([
          ['Kind', (s) => s.kind + (s.kind_confirmed ? '' : ' (unconfirmed)')],
          ['State', (s) => stateBadge(s.state)],
          ['Role', (s) => s.role],
          ['Address', (s) => s.remote],
          ['Since', (s) => h('span', { title: when(s.since) }, ago(s.since))],
          ['Fail mode', (s) => s.fail_mode + ' (' + s.fail_mode_source + ')' + (s.bridge ? ', bridge ' + s.bridge : '')],
          ['Inactivity probe', (s) => s.inactivity_probe_ms + ' ms'],
          ['Fail-open', (s) => (s.fail_open_at ? (s.failed_open ? 'failed open at ' : 'predicted at ') + when(s.fail_open_at)
            : s.state === 'connected' ? 'not while connected' : 'not expected')],
        ], mine, null, 'this controller has no session with this switch'));

        const entries = (listed[dpid] || []).map((item) => {
          const [name, entry] = Object.entries(item)[0];
          return Object.assign({ name }, entry);
        });
        const states = status[dpid] || {};
        replace(sections.entries, table([
          ['Name', (e) => e.name], ['Priority', (e) => listedPriority(e.priority)], ['Match', (e) => pairs(e.match)],
          ['Actions', (e) => actionsText(e.actions)],
          ['Status', (e) => stateBadge(states[e.name] ? states[e.name].state : 'unknown')],
          ['Error', (e) => {
            const err = states[e.name] && states[e.name].error;
            return err ? (err.type_name || err.type) + ' / ' + (err.code_name || err.code) : '';
          }],
        ], entries, (e) => ({ 'data-entry': e.name }), 'no static entries on this switch'));

        replace(sections.timeline, table([
          ['When', (e) => when(e.time)], ['Event', (e) => h('span', { className: 'event ' + e.event }, e.event)],
          ['Detail', (e) => timelineText(e)],
        ], history.slice().reverse(), null, 'no events'));

        if (!live) {
          replace(sections.ports, h('p', { className: 'muted' }, 'not connected: no statistics'));
          replace(sections.flows, h('p', { className: 'muted' }, 'not connected: no flow table'));
          previous = null;
          return;
        }
        const base = '/wm/core/switch/' + dpid;
        const [portDesc, portStats, flows, desc] = await Promise.all([get(base + '/port-desc/json'),
          get(base + '/port/json'), get(base + '/flow/json'), described ? null : get(base + '/desc/json')]);
        if (desc) {
          described = true;
          const d = desc.desc;
          replace(describe, [d.manufacturerDescription, d.hardwareDescription, d.softwareDescription, d.datapathDescription]
            .filter(Boolean).join(' / '));
        }
        const now = performance.now() / 1000;
        const counters = {};
        for (const reply of portStats.port_reply || []) {
          for (const port of reply.port) counters[port.portNumber] = port;
        }
        const names = {};
        for (const port of portDesc.portDesc || []) names[port.portNumber] = port;
        const numbers = [...new Set([...Object.keys(names), ...Object.keys(counters)])]
          .sort((a, b) => (Number(a) || 1e9) - (Number(b) || 1e9));
        const rate = (port, key) => {
          const old = previous && previous.counters[port];
          const cur = counters[port];
          if (!old || !cur) return '';
          return bits(Math.max(0, Number(cur[key]) - Number(old[key])) * 8 / (now - previous.at));
        };
        const counter = (port, key, format) => (counters[port] ? (format || String)(Number(counters[port][key])) : '');
        replace(sections.ports, table([
          ['Port', (p) => p], ['Name', (p) => (names[p] ? names[p].name : '')],
          ['MAC', (p) => (names[p] ? names[p].hardwareAddress : '')],
          ['Link', (p) => (names[p] ? ((Number(names[p].state) & 1) ? 'down' : 'up') : '')],
          ['Rx packets', (p) => counter(p, 'receivePackets')], ['Tx packets', (p) => counter(p, 'transmitPackets')],
          ['Rx bytes', (p) => counter(p, 'receiveBytes', bytes)], ['Tx bytes', (p) => counter(p, 'transmitBytes', bytes)],
          ['Rx rate', (p) => rate(p, 'receiveBytes')], ['Tx rate', (p) => rate(p, 'transmitBytes')],
          ['Drops rx/tx', (p) => (counters[p] ? counters[p].receiveDropped + '/' + counters[p].transmitDropped : '')],
          ['Errors rx/tx', (p) => (counters[p] ? counters[p].receiveErrors + '/' + counters[p].transmitErrors : '')],
        ], numbers, (p) => ({ 'data-port': p }), 'no ports'));
        previous = { at: now, counters };

        replace(sections.flows, table([
          ['Priority', (f) => f.priority], ['Match', (f) => pairs(f.match)], ['Actions', (f) => actionsText(f.actions)],
          ['Packets', (f) => f.packetCount], ['Bytes', (f) => bytes(Number(f.byteCount))],
          ['Age', (f) => f.durationSeconds + ' s'], ['Idle/hard timeout', (f) => f.idleTimeoutSec + '/' + f.hardTimeoutSec],
          ['Cookie', (f) => '0x' + BigInt(f.cookie).toString(16)],
        ], flows.flows || [], null, 'the flow table is empty'));
      },
    };
  },
};
