// Every call the UI makes to the REST API goes through api(): the token (if the controller asks for one) is sent as
// "Authorization: Bearer <token>", the header the REST guard checks (rest/guard.py). A 401 opens the token dialog
// once, however many calls were refused at the same moment, and the refused calls are made again with it.
const TOKEN_KEY = 'floodlight-ryu-rest-token';
let token = sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY) || '';
let asking = null;

export class ApiError extends Error {
  constructor(status, body) {
    const reason = body && typeof body === 'object' && body.reason ? body.reason : String(body || status);
    super(reason);
    this.status = status;
    this.body = body;
    this.reason = reason;
    this.key = body && typeof body === 'object' ? body.key || null : null;
  }
}

function askToken(refused) {
  if (asking) return asking;
  const dialog = document.getElementById('token-dialog');
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');
  document.getElementById('token-why').textContent = refused
    ? 'The controller refused this token. Enter its REST token (the content of --rest-token-file).'
    : 'This controller needs its REST token (the content of --rest-token-file).';
  asking = new Promise((resolve) => {
    form.onsubmit = (event) => {
      event.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      const remember = document.getElementById('token-remember').checked;
      sessionStorage.setItem(TOKEN_KEY, value);
      if (remember) localStorage.setItem(TOKEN_KEY, value); else localStorage.removeItem(TOKEN_KEY);
      input.value = '';
      dialog.close();
      asking = null;
      resolve(value);
    };
    dialog.oncancel = (event) => event.preventDefault();  // nothing works without it
    dialog.showModal();
    input.focus();
  });
  return asking;
}

export async function api(method, path, body) {
  for (;;) {
    const headers = {};
    if (token) headers.Authorization = 'Bearer ' + token;
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const sentWith = token;
    const response = await fetch(path, init);
    if (response.status === 401) {
      // another call may have got the token meanwhile: try again with it before asking
      token = token !== sentWith ? token : await askToken(Boolean(sentWith));
      continue;
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (error) { data = text; }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }
}

export const get = (path) => api('GET', path);
