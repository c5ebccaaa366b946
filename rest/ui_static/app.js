// The single-page app: a hash route picks a page (pages/*.js); the page's refresh() is called every POLL_MS while
// it is shown (never two at once; after a slow round, SLOW_FACTOR times its duration: a listing of 200,000 entries
// is not asked for again and again while the last one is still being read), so the data stays live without
// reloading.
import { ApiError } from './api.js';
import { errorBox, replace } from './dom.js';
import dashboard from './pages/dashboard.js';
import topology from './pages/topology.js';
import switchDetail from './pages/switch.js';
import entries from './pages/entries.js';
import { firewall, acl } from './pages/rules.js';
import hosts from './pages/hosts.js';

const POLL_MS = 2000;
const SLOW_FACTOR = 4;
const PAGES = { dashboard, topology, switch: switchDetail, entries, firewall, acl, hosts };

let current = null;   // { name, instance }
let timer = null;
let generation = 0;

function route() {
  const parts = (location.hash.replace(/^#\/?/, '') || 'dashboard').split('/');
  const name = PAGES[parts[0]] ? parts[0] : 'dashboard';
  return { name, args: parts.slice(1).map(decodeURIComponent) };
}

async function show() {
  const { name, args } = route();
  generation += 1;
  const mine = generation;
  clearTimeout(timer);
  if (current && current.instance.destroy) current.instance.destroy();
  const container = document.getElementById('page');
  replace(container);
  container.dataset.page = name;
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('active', link.dataset.page === name || (name === 'switch' && link.dataset.page === 'topology'));
  }
  const page = PAGES[name];
  document.title = page.title + ' - floodlight-ryu';
  current = { name, instance: page.render(container, ...args) };
  loop(mine);
}

async function loop(mine) {
  const live = document.getElementById('live');
  if (document.hidden) {  // a tab in the background asks for nothing; it refreshes when shown again
    timer = setTimeout(() => { if (mine === generation) loop(mine); }, POLL_MS);
    return;
  }
  const started = performance.now();
  try {
    await current.instance.refresh();
    live.className = 'live ok';
    live.textContent = 'live';
    live.title = 'updated ' + new Date().toLocaleTimeString();
  } catch (error) {
    if (mine !== generation) return;  // the page was left meanwhile
    if (!(error instanceof ApiError)) console.error(error);  // a bug, or no answer at all: in the console too
    live.className = 'live stale';
    live.textContent = 'stale';
    live.title = error.reason || error.message;
    const container = document.getElementById('page');
    let box = container.querySelector(':scope > .alert.poll');
    if (!box) { box = errorBox(error); box.classList.add('poll'); container.prepend(box); }
    box.textContent = 'Could not update: ' + (error.reason || error.message);
  }
  if (mine !== generation) return;
  const box = document.querySelector('#page > .alert.poll');
  if (box && live.className === 'live ok') box.remove();
  const delay = Math.max(POLL_MS, SLOW_FACTOR * (performance.now() - started));
  timer = setTimeout(() => { if (mine === generation) loop(mine); }, delay);
}

// A button's call that failed (a delete refused, a clear on a read-only store): its reason above the page, not
// an uncaught error in the console.
window.addEventListener('unhandledrejection', (event) => {
  const error = event.reason || {};
  if (error instanceof ApiError) event.preventDefault();  // a refusal the page shows; anything else is a bug
  const container = document.getElementById('page');
  let box = container.querySelector(':scope > .alert.action');
  if (!box) {
    box = errorBox(error);
    box.classList.add('action');
    box.id = 'action-error';
    container.prepend(box);
  }
  box.textContent = (error.status ? error.status + ': ' : '') + (error.reason || error.message || String(error));
});

window.addEventListener('hashchange', show);
show();
