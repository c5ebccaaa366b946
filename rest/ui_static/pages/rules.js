// Firewall and ACL rules: one page shape for both (a list with a filter, a form, delete, clear). Floodlight's API
// has no rule update: "edit" fills the form from a rule, and saving adds the new rule and deletes the old one
// (the ACL refuses a rule inside an existing rule's scope, so there the old one goes first, and comes back if the
// new one is refused).
import { ApiError, api, get } from '../api.js';
import { h, filterBox, matches, replace, table } from '../dom.js';
import { clearErrors, labelled, showDone, showError } from '../forms.js';

const PROTOCOLS = { 1: 'ICMP', 6: 'TCP', 17: 'UDP' };
const ANY = (value) => value === null || value === undefined || value === '' ? 'any' : value;

const FIREWALL = {
  name: 'firewall', title: 'Firewall', url: '/wm/firewall/rules/json',
  keys: [['switchid', '00:00:00:00:00:00:00:01 or any'], ['src-inport', '1'], ['src-mac', '02:00:00:00:00:01'],
    ['dst-mac', ''], ['dl-type', 'ARP or IPv4'], ['src-ip', '10.0.0.0/24'], ['dst-ip', ''],
    ['nw-proto', 'TCP, UDP or ICMP'], ['tp-src', ''], ['tp-dst', '80'], ['priority', '0'],
    ['action', 'ALLOW or DENY']],
  id: (rule) => rule.ruleid,
  columns: [
    ['ID', (r) => r.ruleid], ['Switch', (r) => (r.any_dpid ? 'any' : r.dpid)],
    ['In port', (r) => (r.any_in_port ? 'any' : r.in_port)], ['Src MAC', (r) => (r.any_dl_src ? 'any' : r.dl_src)],
    ['Dst MAC', (r) => (r.any_dl_dst ? 'any' : r.dl_dst)],
    ['Type', (r) => (r.any_dl_type ? 'any' : { 2048: 'IPv4', 2054: 'ARP' }[r.dl_type] || r.dl_type)],
    ['Src IP', (r) => (r.any_nw_src ? 'any' : r.nw_src_prefix + '/' + r.nw_src_maskbits)],
    ['Dst IP', (r) => (r.any_nw_dst ? 'any' : r.nw_dst_prefix + '/' + r.nw_dst_maskbits)],
    ['Proto', (r) => (r.any_nw_proto ? 'any' : PROTOCOLS[r.nw_proto] || r.nw_proto)],
    ['Src port', (r) => (r.any_tp_src ? 'any' : r.tp_src)], ['Dst port', (r) => (r.any_tp_dst ? 'any' : r.tp_dst)],
    ['Priority', (r) => r.priority], ['Action', (r) => h('span', { className: 'badge ' + r.action.toLowerCase() }, r.action)],
  ],
  // a listed rule -> the form's values
  values: (r) => ({
    switchid: r.any_dpid ? '' : r.dpid, 'src-inport': r.any_in_port ? '' : r.in_port,
    'src-mac': r.any_dl_src ? '' : r.dl_src, 'dst-mac': r.any_dl_dst ? '' : r.dl_dst,
    'dl-type': r.any_dl_type ? '' : { 2048: 'IPv4', 2054: 'ARP' }[r.dl_type] || r.dl_type,
    'src-ip': r.any_nw_src ? '' : r.nw_src_prefix + '/' + r.nw_src_maskbits,
    'dst-ip': r.any_nw_dst ? '' : r.nw_dst_prefix + '/' + r.nw_dst_maskbits,
    'nw-proto': r.any_nw_proto ? '' : PROTOCOLS[r.nw_proto] || r.nw_proto,
    'tp-src': r.any_tp_src ? '' : r.tp_src, 'tp-dst': r.any_tp_dst ? '' : r.tp_dst,
    priority: r.priority, action: r.action === 'DROP' ? 'DENY' : r.action,
  }),
  replaceFirst: false,
  async clear(rules) {
    for (const rule of rules) await api('DELETE', this.url, { ruleid: String(rule.ruleid) });
  },
  async status() {
    const body = await get('/wm/firewall/module/status/json');
    return body.result;
  },
};

const ACL = {
  name: 'acl', title: 'ACL', url: '/wm/acl/rules/json',
  keys: [['src-ip', '10.0.0.1/32'], ['dst-ip', '10.0.0.2/32'], ['nw-proto', 'TCP, UDP, ICMP or a number'],
    ['tp-dst', '80'], ['action', 'ALLOW or DENY']],
  id: (rule) => rule.id,
  columns: [
    ['ID', (r) => r.id], ['Src IP', (r) => ANY(r.nw_src)], ['Dst IP', (r) => ANY(r.nw_dst)],
    ['Proto', (r) => (r.nw_proto ? PROTOCOLS[r.nw_proto] || r.nw_proto : 'any')], ['Dst port', (r) => (r.tp_dst || 'any')],
    ['Action', (r) => h('span', { className: 'badge ' + String(r.action).toLowerCase() }, r.action)],
  ],
  values: (r) => ({ 'src-ip': r.nw_src || '', 'dst-ip': r.nw_dst || '',
    'nw-proto': r.nw_proto ? PROTOCOLS[r.nw_proto] || r.nw_proto : '', 'tp-dst': r.tp_dst || '', action: r.action }),
  replaceFirst: true,
  async clear() { await api('GET', '/wm/acl/clear/json'); },
  status: null,
};

function rulesPage(kind) {
  return {
    title: kind.title,
    render(container) {
      let rules = [];
      let filter = '';
      let editing = null;  // the rule the form replaces, or null when it adds
      const list = h('div', { id: kind.name + '-rules' });
      const statusLine = h('p', { className: 'muted', id: kind.name + '-status' });
      const inputs = Object.fromEntries(kind.keys.map(([key, example]) =>
        [key, h('input', { 'data-key': key, placeholder: example, size: 18 })]));
      const heading = h('h2', {}, 'Add a rule');
      const form = h('form', { id: kind.name + '-form', className: 'panel', novalidate: true }, heading,
        h('div', { className: 'grid' }, kind.keys.map(([key]) => labelled(key, inputs[key]))),
        h('div', { className: 'buttons' }, h('button', { type: 'submit', id: kind.name + '-submit' }, 'Save rule'),
          h('button', { type: 'button', onclick: () => reset() }, 'New'),
          h('span', { className: 'muted' }, 'POST ' + kind.url + '; empty fields are left out')),
        h('div', { className: 'form-error', id: kind.name + '-error', role: 'alert' }),
        h('div', { className: 'form-done', id: kind.name + '-done' }));
      const fieldFor = (key) => inputs[key] || inputs[String(key).toLowerCase()] || null;

      function reset() {
        clearErrors(form);
        editing = null;
        heading.textContent = 'Add a rule';
        for (const input of Object.values(inputs)) input.value = '';
      }

      function edit(rule) {
        reset();
        editing = rule;
        heading.textContent = 'Edit rule ' + kind.id(rule) + ' (saved as a new rule; this one is deleted)';
        for (const [key, value] of Object.entries(kind.values(rule))) if (inputs[key]) inputs[key].value = value;
        form.scrollIntoView();
      }

      const remove = (rule) => api('DELETE', kind.url, { ruleid: String(kind.id(rule)) });

      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const body = {};
        for (const [key, input] of Object.entries(inputs)) if (input.value.trim()) body[key] = input.value.trim();
        const old = editing;
        try {
          if (old && kind.replaceFirst) await remove(old);
          try {
            await api('POST', kind.url, body);
          } catch (error) {
            if (old && kind.replaceFirst) await api('POST', kind.url, kind.values(old));  // put the old one back
            throw error;
          }
          if (old && !kind.replaceFirst) await remove(old);
          reset();
          showDone(form, old ? 'Rule replaced' : 'Rule added');
          await refresh();
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          showError(form, error, fieldFor);
        }
      });

      function draw() {
        const shown = rules.filter((r) => matches(filter, ...kind.columns.map(([, cell]) => {
          const value = cell(r);
          return value instanceof Node ? value.textContent : value;
        })));
        replace(list, table(kind.columns.concat([['', (r) => [
          h('button', { className: 'small', onclick: () => edit(r) }, 'edit'), ' ',
          h('button', { className: 'small danger', onclick: async () => { await remove(r); await refresh(); } }, 'delete')]]]),
        shown, (r) => ({ 'data-rule': kind.id(r) }), 'no rules'));
      }

      async function refresh() {
        const [listed, status] = await Promise.all([get(kind.url), kind.status ? kind.status() : null]);
        rules = listed;
        if (status) replace(statusLine, status);
        draw();
      }

      async function clear() {
        if (!confirm('Delete every ' + kind.title + ' rule?')) return;
        await kind.clear(rules);
        await refresh();
      }

      const toolbar = h('div', { className: 'toolbar' }, filterBox('filter', (text) => { filter = text; draw(); }),
        h('span', { className: 'spacer' }));
      if (kind.name === 'firewall') {
        const toggle = async (on) => { await api('PUT', '/wm/firewall/module/' + (on ? 'enable' : 'disable') + '/json'); await refresh(); };
        toolbar.append(h('button', { id: 'firewall-enable', onclick: () => toggle(true) }, 'Enable'), ' ',
          h('button', { id: 'firewall-disable', onclick: () => toggle(false) }, 'Disable'), ' ');
      }
      toolbar.append(h('button', { className: 'danger', id: kind.name + '-clear', onclick: clear }, 'Clear'));
      replace(container, h('h1', {}, kind.title + ' rules'), statusLine, toolbar, list, form);
      return { refresh };
    },
  };
}

export const firewall = rulesPage(FIREWALL);
export const acl = rulesPage(ACL);
