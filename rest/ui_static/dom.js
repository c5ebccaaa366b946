// DOM building without innerHTML: every value from the controller becomes a text node, never markup.
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'className') node.className = value;
    else if (name === 'value') node.value = value;
    else if (name === 'checked') node.checked = Boolean(value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export const MAX_ROWS = 500;  // rows drawn at most: a filter narrows a longer list (the browser stays responsive)

// A table: columns [[header, cell(row) -> node or text]], rows; `rowAttrs(row)` for each <tr>.
export function table(columns, rows, rowAttrs, empty) {
  const shown = rows.slice(0, MAX_ROWS);
  const body = shown.length ? shown.map((row) => h('tr', rowAttrs ? rowAttrs(row) : {},
    columns.map(([, cell]) => h('td', {}, cell(row)))))
    : [h('tr', {}, h('td', { colspan: columns.length, className: 'empty' }, empty || 'none'))];
  if (rows.length > MAX_ROWS) {
    body.push(h('tr', { className: 'more' }, h('td', { colspan: columns.length, className: 'empty' },
      'the first ' + MAX_ROWS + ' of ' + rows.length + ' rows: use the filter to see the others')));
  }
  return h('table', {}, h('thead', {}, h('tr', {}, columns.map(([title]) => h('th', {}, title)))), h('tbody', {}, body));
}

export function ago(seconds) {
  if (seconds === null || seconds === undefined) return '';
  const s = Math.max(0, Date.now() / 1000 - seconds);
  if (s < 60) return Math.round(s) + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return (s / 3600).toFixed(1) + ' h ago';
  return (s / 86400).toFixed(1) + ' d ago';
}

export function when(seconds) {
  if (seconds === null || seconds === undefined) return '';
  return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function duration(ms) {
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hr = Math.floor(s / 3600); s -= hr * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  return (d ? d + 'd ' : '') + (d || hr ? hr + 'h ' : '') + m + 'm ' + s + 's';
}

export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
}

export function bits(n) {
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
  return n.toFixed(i ? 1 : 0) + ' ' + units[i];
}

// Floodlight 1.x lists eth_type as "0x0x800", and the REST API keeps that spelling for its clients: shown as 0x800.
export function listedValue(value) {
  return typeof value === 'string' && value.startsWith('0x0x') ? value.slice(2) : value;
}

// What Floodlight 1.x lists as the priority of an entry pushed without one (Integer.MAX_VALUE); a signed short
// otherwise (65535 is -1).
export const UNGIVEN_PRIORITY = '2147483647';

export function listedPriority(priority) {
  if (priority === UNGIVEN_PRIORITY) return 'default';
  const number = Number(priority);
  return String(number < 0 ? number + 65536 : number);
}

export function pairs(object) {
  const entries = Object.entries(object || {});
  return entries.length ? entries.map(([k, v]) => k + '=' + listedValue(v)).join(', ') : 'any';
}

export function stateBadge(state) {
  return h('span', { className: 'badge ' + (state || 'none') }, state || 'unknown');
}

export function switchLink(dpid) {
  return h('a', { href: '#/switch/' + dpid, className: 'dpid' }, dpid);
}

export function errorBox(error) {
  return h('div', { className: 'alert' }, error.reason || error.message || String(error));
}

// A filter box: calls onChange(text) as the user types.
export function filterBox(placeholder, onChange) {
  return h('input', { type: 'search', className: 'filter', placeholder, oninput: (e) => onChange(e.target.value) });
}

export function matches(filter, ...texts) {
  if (!filter) return true;
  const needle = filter.toLowerCase();
  return texts.some((t) => String(t === undefined || t === null ? '' : t).toLowerCase().includes(needle));
}
