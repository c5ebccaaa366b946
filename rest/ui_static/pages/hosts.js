// Hosts: every host the controller learned (Floodlight's /wm/device/), with a filter.
import { get } from '../api.js';
import { ago, filterBox, h, matches, replace, switchLink, table, when } from '../dom.js';

export default {
  title: 'Hosts',
  render(container) {
    let hosts = [];
    let filter = '';
    const list = h('div', { id: 'hosts' });
    const count = h('span', { className: 'muted' });
    const draw = () => {
      const shown = hosts.filter((d) => matches(filter, d.mac.join(' '), d.ipv4.join(' '), d.vlan.join(' '),
        d.attachmentPoint.map((p) => p.switchDPID + ' ' + p.port).join(' ')));
      replace(count, shown.length + ' of ' + hosts.length);
      replace(list, table([
        ['MAC', (d) => d.mac.join(', ')], ['IPv4', (d) => d.ipv4.join(', ')],
        ['VLAN', (d) => d.vlan.map((v) => (v === '0x0' ? 'untagged' : parseInt(v, 16))).join(', ')],
        ['Switch', (d) => d.attachmentPoint.map((p) => switchLink(p.switchDPID))],
        ['Port', (d) => d.attachmentPoint.map((p) => p.port).join(', ')],
        ['Last seen', (d) => h('span', { title: when(d.lastSeen / 1000) }, ago(d.lastSeen / 1000))],
      ], shown.slice().reverse(), (d) => ({ 'data-mac': d.mac[0] }), 'no hosts learned yet'));
    };
    replace(container, h('h1', {}, 'Hosts'),
      h('div', { className: 'toolbar' }, filterBox('filter: MAC, IP, VLAN, switch', (text) => { filter = text; draw(); }), count),
      list);
    return {
      async refresh() {
        hosts = await get('/wm/device/');
        draw();
      },
    };
  },
};
