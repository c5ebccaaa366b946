// Static entries: the list of every switch's entries with their status, a filter, and a form that adds or edits an
// entry in either key dialect (Floodlight 0.9x on /wm/staticflowentrypusher, 1.x on /wm/staticflowpusher).
import { ApiError, api, get } from '../api.js';
import { UNGIVEN_PRIORITY, h, filterBox, listedPriority, listedValue, matches, pairs, replace, stateBadge, switchLink,
  table } from '../dom.js';
import { clearErrors, labelled, showDone, showError } from '../forms.js';

const DIALECTS = {
  '1.x': {
    url: '/wm/staticflowpusher/json',
    keys: ['in_port', 'eth_src', 'eth_dst', 'eth_vlan_vid', 'eth_vlan_pcp', 'eth_type', 'ip_proto', 'ip_tos', 'ip_dscp',
      'ipv4_src', 'ipv4_dst', 'tp_src', 'tp_dst', 'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst',
      'icmpv4_type', 'icmpv4_code', 'arp_opcode', 'arp_spa', 'arp_tpa'],
    idle: 'idle_timeout', hard: 'hard_timeout',
    example: 'output=2',
  },
  '0.9x': {
    url: '/wm/staticflowentrypusher/json',
    keys: ['ingress-port', 'src-mac', 'dst-mac', 'vlan-id', 'vlan-priority', 'ether-type', 'tos-bits', 'protocol',
      'src-ip', 'dst-ip', 'src-port', 'dst-port'],
    idle: 'idle-timeout', hard: 'hard-timeout',
    example: 'output=2',
  },
};
// 1.x match keys -> their 0.9x names (the list is read in 1.x keys; editing in 0.9x renames what has a name there).
const TO_V0 = {
  in_port: 'ingress-port', eth_src: 'src-mac', eth_dst: 'dst-mac', eth_vlan_vid: 'vlan-id', eth_vlan_pcp: 'vlan-priority',
  eth_type: 'ether-type', ip_proto: 'protocol', ip_dscp: 'tos-bits', ipv4_src: 'src-ip', ipv4_dst: 'dst-ip',
  tp_src: 'src-port', tp_dst: 'dst-port', tcp_src: 'src-port', tcp_dst: 'dst-port', udp_src: 'src-port',
  udp_dst: 'dst-port', sctp_src: 'src-port', sctp_dst: 'dst-port', icmpv4_type: 'src-port', icmpv4_code: 'dst-port',
  arp_opcode: 'protocol', arp_spa: 'src-ip', arp_tpa: 'dst-ip',
};
const TO_V1 = Object.fromEntries(Object.entries(TO_V0).filter(([v1]) => !/^(tcp|udp|sctp|icmpv4|arp)_/.test(v1))
  .map(([v1, v0]) => [v0, v1]));

function entryForm(onSaved) {
  let dialect = '1.x';
  const field = (key, attrs) => h('input', Object.assign({ 'data-key': key }, attrs || {}));
  const inputs = {
    switch: field('switch', { list: 'switch-list', placeholder: '00:00:00:00:00:00:00:01', required: true, size: 26 }),
    name: field('name', { placeholder: 'flow-1', required: true }),
    priority: field('priority', { placeholder: 'default', size: 8 }),
    active: h('select', { 'data-key': 'active' }, h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false')),
    idle: field('idle_timeout', { placeholder: '0', size: 6 }),
    hard: field('hard_timeout', { placeholder: '0', size: 6 }),
    actions: field('actions', { placeholder: 'output=2 (empty: drop)', size: 40 }),
  };
  const keyList = h('datalist', { id: 'match-keys' });
  const switchList = h('datalist', { id: 'switch-list' });
  const rows = h('div', { className: 'match-rows' });
  const dialectSelect = h('select', { id: 'entry-dialect' }, Object.keys(DIALECTS).map((d) => h('option', { value: d }, d)));

  function addRow(key, value) {
    const row = h('div', { className: 'match-row' },
      h('input', { className: 'match-key', list: 'match-keys', placeholder: 'match key', value: key || '', size: 16 }),
      h('input', { className: 'match-value', placeholder: 'value', value: value || '', size: 20 }),
      h('button', { type: 'button', className: 'small', onclick: () => row.remove() }, 'remove'));
    rows.append(row);
  }

  function setDialect(name, renameKeys) {
    const from = dialect;
    dialect = name;
    dialectSelect.value = name;
    const d = DIALECTS[name];
    replace(keyList, d.keys.map((k) => h('option', { value: k })));
    inputs.idle.dataset.key = d.idle;
    inputs.hard.dataset.key = d.hard;
    form.querySelector('.idle-label').textContent = d.idle;
    form.querySelector('.hard-label').textContent = d.hard;
    if (renameKeys && from !== name) {
      const table = name === '0.9x' ? TO_V0 : TO_V1;
      for (const input of rows.querySelectorAll('.match-key')) input.value = table[input.value] || input.value;
    }
    form.querySelector('.target').textContent = 'POST ' + d.url;
  }

  const form = h('form', { id: 'entry-form', className: 'panel', novalidate: true },
    h('h2', {}, 'Add or replace an entry'),
    h('div', { className: 'grid' },
      labelled('Key dialect', dialectSelect),
      labelled('switch', inputs.switch), labelled('name', inputs.name), labelled('priority', inputs.priority),
      labelled('active', inputs.active),
      h('label', {}, h('span', { className: 'idle-label' }, 'idle_timeout'), inputs.idle),
      h('label', {}, h('span', { className: 'hard-label' }, 'hard_timeout'), inputs.hard)),
    h('div', {}, h('span', { className: 'label' }, 'Match'), rows,
      h('button', { type: 'button', className: 'small', id: 'add-match', onclick: () => addRow() }, '+ match field')),
    labelled('actions', inputs.actions),
    h('div', { className: 'buttons' }, h('button', { type: 'submit', id: 'entry-submit' }, 'Push entry'),
      h('button', { type: 'button', onclick: () => reset() }, 'New'), h('span', { className: 'target muted' })),
    h('div', { className: 'form-error', id: 'entry-error', role: 'alert' }),
    h('div', { className: 'form-done', id: 'entry-done' }),
    keyList, switchList);

  dialectSelect.addEventListener('change', () => setDialect(dialectSelect.value, true));

  function reset() {
    clearErrors(form);
    for (const input of [inputs.switch, inputs.name, inputs.priority, inputs.idle, inputs.hard, inputs.actions]) input.value = '';
    inputs.name.readOnly = false;
    inputs.active.value = 'true';
    form.querySelector('h2').textContent = 'Add or replace an entry';
    replace(rows);
    addRow();
  }

  function fieldFor(key) {
    const input = form.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (input) return input;
    for (const row of rows.querySelectorAll('.match-row')) {
      if (row.querySelector('.match-key').value.trim() === key) return row.querySelector('.match-value');
    }
    return null;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const d = DIALECTS[dialect];
    const body = { switch: inputs.switch.value.trim(), name: inputs.name.value.trim(), active: inputs.active.value };
    if (inputs.priority.value.trim()) body.priority = inputs.priority.value.trim();
    if (inputs.idle.value.trim()) body[d.idle] = inputs.idle.value.trim();
    if (inputs.hard.value.trim()) body[d.hard] = inputs.hard.value.trim();
    for (const row of rows.querySelectorAll('.match-row')) {
      const key = row.querySelector('.match-key').value.trim();
      const value = row.querySelector('.match-value').value.trim();
      if (key) body[key] = value;
    }
    body.actions = inputs.actions.value.trim();
    try {
      await api('POST', d.url, body);
      showDone(form, 'Entry pushed: ' + body.name);
      inputs.name.readOnly = false;
      onSaved();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showError(form, error, fieldFor);
    }
  });

  reset();
  setDialect('1.x', false);
  return {
    form,
    switches(dpids) { replace(switchList, dpids.map((d) => h('option', { value: d }))); },
    edit(entry) {
      reset();
      inputs.switch.value = entry.dpid;
      inputs.name.value = entry.name;
      inputs.name.readOnly = true;  // the name is the entry: pushing it again replaces it
      inputs.priority.value = entry.priority === UNGIVEN_PRIORITY ? '' : listedPriority(entry.priority);
      inputs.idle.value = entry.idleTimeoutSec === '0' ? '' : entry.idleTimeoutSec;
      inputs.hard.value = entry.hardTimeoutSec === '0' ? '' : entry.hardTimeoutSec;
      inputs.actions.value = entry.actions.actions || '';
      replace(rows);
      const table = dialect === '0.9x' ? TO_V0 : {};
      for (const [key, value] of Object.entries(entry.match)) addRow(table[key] || key, listedValue(value));
      if (!Object.keys(entry.match).length) addRow();
      form.querySelector('h2').textContent = 'Edit entry ' + entry.name;
      form.scrollIntoView();
    },
  };
}

export default {
  title: 'Static entries',
  render(container) {
    let filter = '';
    let stateFilter = '';
    let data = [];
    const list = h('div', { id: 'entries' });
    const count = h('span', { className: 'muted' });
    const clearSwitch = h('select', { id: 'clear-switch' }, h('option', { value: 'all' }, 'all switches'));
    const editor = entryForm(() => refresh());
    const stateSelect = h('select', { id: 'state-filter', onchange: (e) => { stateFilter = e.target.value; draw(); } },
      ['', 'waiting', 'sent', 'installed', 'error'].map((s) => h('option', { value: s }, s || 'any status')));

    async function clear() {
      const which = clearSwitch.value;
      if (!confirm('Delete every static entry of ' + (which === 'all' ? 'every switch' : which) + '?')) return;
      await api('GET', '/wm/staticflowpusher/clear/' + which + '/json');
      await refresh();
    }

    async function remove(entry) {
      await api('DELETE', '/wm/staticflowpusher/json', { name: entry.name });
      await refresh();
    }

    function draw() {
      const shown = data.filter((e) => (!stateFilter || e.state === stateFilter)
        && matches(filter, e.dpid, e.name, pairs(e.match), e.actionsText, e.state, e.errorText));
      replace(count, shown.length + ' of ' + data.length);
      replace(list, table([
        ['Switch', (e) => switchLink(e.dpid)], ['Name', (e) => e.name],
        ['Priority', (e) => (e.listed ? listedPriority(e.priority) : '')],
        ['Match', (e) => pairs(e.match)], ['Actions', (e) => e.actionsText],
        ['Status', (e) => stateBadge(e.state)], ['OpenFlow error', (e) => e.errorText],
        ['', (e) => [h('button', { className: 'small', onclick: () => editor.edit(e), disabled: !e.listed }, 'edit'), ' ',
          h('button', { className: 'small danger', onclick: () => remove(e) }, 'delete')]],
      ], shown, (e) => ({ 'data-entry': e.name }), 'no static entries'));
    }

    async function refresh() {
      const [listed, status, switches] = await Promise.all([get('/wm/staticflowpusher/list/all/json'),
        get('/wm/staticflowpusher/status/all/json'), get('/wm/core/controller/switches/json')]);
      const rows = [];
      const seen = new Set();
      for (const [dpid, entries] of Object.entries(listed)) {
        for (const item of entries) {
          const [name, entry] = Object.entries(item)[0];
          const st = (status[dpid] || {})[name];
          seen.add(dpid + '/' + name);
          rows.push(Object.assign({ dpid, name, listed: true, actionsText: entry.actions.actions || 'drop' }, entry,
            { state: st ? st.state : 'unknown', errorText: st && st.error ? (st.error.type_name || st.error.type) + ' / '
              + (st.error.code_name || st.error.code) : '' }));
        }
      }
      for (const [dpid, entries] of Object.entries(status)) {
        for (const [name, st] of Object.entries(entries)) {
          if (seen.has(dpid + '/' + name)) continue;  // an inactive entry: stored, not listed
          rows.push({ dpid, name, listed: false, priority: '', match: {}, actionsText: '(inactive)',
            state: st ? st.state : 'inactive', errorText: '' });
        }
      }
      rows.sort((a, b) => (a.dpid + a.name).localeCompare(b.dpid + b.name));
      data = rows;
      const dpids = switches.map((s) => s.switchDPID);
      editor.switches(dpids);
      const chosen = clearSwitch.value;
      replace(clearSwitch, h('option', { value: 'all' }, 'all switches'), dpids.map((d) => h('option', { value: d }, d)));
      clearSwitch.value = dpids.includes(chosen) ? chosen : 'all';
      draw();
    }

    replace(container, h('h1', {}, 'Static entries'),
      h('div', { className: 'toolbar' }, filterBox('filter: switch, name, match, action, status',
        (text) => { filter = text; draw(); }), stateSelect, count, h('span', { className: 'spacer' }),
      clearSwitch, h('button', { className: 'danger', id: 'clear-entries', onclick: clear }, 'Clear')),
      list, editor.form);
    return { refresh };
  },
};
