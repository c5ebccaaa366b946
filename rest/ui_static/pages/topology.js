// Topology: switches, links and hosts drawn with cytoscape.js (rest/ui_static/vendor, loaded by index.html).
// The graph is updated in place at every refresh; the layout runs again only when nodes come or go.
import { get } from '../api.js';
import { h, replace } from '../dom.js';

const MAX_HOSTS = 300;  // beyond this the graph is unreadable anyway: the Hosts page lists them all

const STYLE = [
  { selector: 'node', style: { label: 'data(label)', 'font-size': 10, 'text-valign': 'bottom', 'text-margin-y': 4,
    color: '#1d2733', 'text-wrap': 'wrap' } },
  { selector: 'node.switch', style: { shape: 'round-rectangle', width: 46, height: 30, 'background-color': '#2f6fb2' } },
  { selector: 'node.switch.gone', style: { 'background-color': '#9aa6b2' } },
  { selector: 'node.host', style: { shape: 'ellipse', width: 18, height: 18, 'background-color': '#3c9d5d' } },
  { selector: 'edge', style: { width: 3, 'line-color': '#51606f', 'curve-style': 'bezier', label: 'data(label)',
    'font-size': 9, 'text-rotation': 'autorotate', color: '#51606f', 'text-background-color': '#fff',
    'text-background-opacity': 1, 'text-background-padding': 2 } },
  { selector: 'edge.unidirectional', style: { 'line-style': 'dashed', 'target-arrow-shape': 'triangle',
    'target-arrow-color': '#51606f' } },
  { selector: 'edge.attachment', style: { width: 1, 'line-color': '#9fb8a8', label: '' } },
];

function elements(sessions, links, hosts) {
  const nodes = [];
  const edges = [];
  const switches = new Map();
  for (const s of sessions) {
    const up = switches.get(s.dpid) || s.state === 'connected';
    switches.set(s.dpid, up);
  }
  for (const [dpid, up] of switches) {
    nodes.push({ group: 'nodes', data: { id: dpid, label: dpid, kind: 'switch' }, classes: up ? 'switch' : 'switch gone' });
  }
  const seen = new Set();
  for (const link of links) {
    const ends = [link['src-switch'] + '/' + link['src-port'], link['dst-switch'] + '/' + link['dst-port']].sort();
    const id = 'link:' + ends.join('-');
    if (seen.has(id)) continue;
    seen.add(id);
    for (const dpid of [link['src-switch'], link['dst-switch']]) {
      if (!switches.has(dpid)) {
        switches.set(dpid, false);
        nodes.push({ group: 'nodes', data: { id: dpid, label: dpid, kind: 'switch' }, classes: 'switch gone' });
      }
    }
    edges.push({ group: 'edges', data: { id, source: link['src-switch'], target: link['dst-switch'],
      label: link['src-port'] + ' - ' + link['dst-port'] }, classes: link.direction || 'bidirectional' });
  }
  for (const host of hosts.slice(-MAX_HOSTS)) {
    const point = host.attachmentPoint[0];
    if (!point || !switches.has(point.switchDPID)) continue;
    const mac = host.mac[0];
    nodes.push({ group: 'nodes', data: { id: 'host:' + mac, label: mac + (host.ipv4.length ? '\n' + host.ipv4[0] : ''),
      kind: 'host' }, classes: 'host' });
    edges.push({ group: 'edges', data: { id: 'at:' + mac, source: 'host:' + mac, target: point.switchDPID,
      label: String(point.port) }, classes: 'attachment' });
  }
  return nodes.concat(edges);
}

export default {
  title: 'Topology',
  render(container) {
    const summary = h('p', { id: 'topology-summary', className: 'muted' });
    const graph = h('div', { id: 'graph' });
    replace(container, h('h1', {}, 'Topology'),
      h('p', { className: 'muted' }, 'Click a switch for its detail. Dashed: a link seen in one direction only.'),
      summary, graph);
    const cy = window.cytoscape({ container: graph, style: STYLE, elements: [],
      minZoom: 0.2, maxZoom: 3 });
    window.uiGraph = cy;  // for the browser tests (tests/protocol/test_ui.py) and the curious, in the console
    cy.on('tap', 'node.switch', (event) => { location.hash = '#/switch/' + event.target.id(); });
    let shape = '';
    return {
      async refresh() {
        const [sessions, links, hosts] = await Promise.all([get('/wm/core/controller/connections/json'),
          get('/wm/topology/links/json'), get('/wm/device/')]);
        if (cy.destroyed()) return;  // the page was left while the answers came
        const wanted = elements(sessions, links, hosts);
        const ids = new Set(wanted.map((e) => e.data.id));
        cy.batch(() => {
          cy.elements().filter((e) => !ids.has(e.id())).remove();
          for (const element of wanted) {
            const existing = cy.getElementById(element.data.id);
            if (existing.empty()) cy.add(element);
            else { existing.data(element.data); existing.classes(element.classes); }
          }
        });
        const newShape = [...ids].sort().join(',');
        if (newShape !== shape) {
          shape = newShape;
          cy.layout({ name: 'cose', animate: false, padding: 30, nodeRepulsion: () => 8000 }).run();
        }
        const switches = cy.nodes('.switch').length;
        replace(summary, switches + ' switch(es), ' + cy.edges().not('.attachment').length + ' link(s), '
          + cy.nodes('.host').length + ' host(s)' + (hosts.length > MAX_HOSTS ? ' (the ' + MAX_HOSTS + ' seen last)' : ''));
      },
      destroy() { cy.destroy(); window.uiGraph = null; },
    };
  },
};
