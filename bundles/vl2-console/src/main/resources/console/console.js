// vl2 console: everything comes from the HTTP API (/api), with HTTP Basic credentials kept in this tab only
// (sessionStorage). No framework, no CDN: plain DOM.
'use strict';

const POLL_MS = 2000;
const HISTORY = 30;
let auth = sessionStorage.getItem('vl2.auth');
let selectedNetwork = null;
let lastPorts = new Map(); // port -> {t, counters}
const history = new Map(); // port -> [bytes/s ...]
let macOffset = 0;
const MAC_LIMIT = 50;
let timer = null;

const $ = id => document.getElementById(id);

function text(v) {
  return v === null || v === undefined ? '-' : String(v);
}

/** A table row with {@code n} empty cells. */
function newRow(n) {
  const row = document.createElement('tr');
  for (let i = 0; i < n; i++) row.appendChild(document.createElement('td'));
  return row;
}

/** Writes cell {@code i} of {@code row}, touching the DOM only when its text or class changes. */
function setCell(row, i, value, cls) {
  const td = row.cells[i];
  const t = text(value);
  if (td.textContent !== t) td.textContent = t;
  if (td.className !== (cls || '')) td.className = cls || '';
  return td;
}

/**
 * Brings table body {@code body} to one row per item, in order, keyed by {@code key(item)}: rows that stay are
 * updated in place (only changed cells rewritten), so a click on a button, a text selection or a focus survives
 * the redraw every POLL_MS; {@code make(item)} creates a missing row, {@code fill(row, item)} writes its cells.
 */
function syncRows(body, items, key, make, fill) {
  const wanted = new Set(items.map(i => String(key(i))));
  for (const r of [...body.rows]) if (!wanted.has(r.dataset.key)) r.remove();
  const rows = new Map([...body.rows].map(r => [r.dataset.key, r]));
  items.forEach((item, at) => {
    const k = String(key(item));
    let row = rows.get(k);
    if (!row) {
      row = make(item);
      row.dataset.key = k;
    }
    fill(row, item);
    if (body.rows[at] !== row) body.insertBefore(row, body.rows[at] || null);
  });
}

async function api(method, path, body) {
  const headers = {'Authorization': 'Basic ' + auth, 'X-Requested-With': 'vl2-console'};
  if (method !== 'GET') headers['Content-Type'] = 'application/json';
  let r;
  try {
    r = await fetch('/api' + path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (e) {
    throw new Error('The switch does not answer (' + e.message + '); retrying every ' + POLL_MS / 1000 + ' s.');
  }
  if (r.status === 401) {
    // during a login attempt nothing is stored yet; a stored login refused means the password changed meanwhile
    logout(sessionStorage.getItem('vl2.auth') ? 'The switch refused the login (password changed?): log in again.'
      : 'Wrong user or password.');
    throw new Error('401');
  }
  if (r.status === 204) return null;
  // an error page of something in between (a proxy) is no JSON: say what came back instead of a parse error
  const json = await r.json().catch(() => ({error: 'HTTP ' + r.status + ' ' + r.statusText + ' (not JSON)'}));
  if (!r.ok) throw new Error(json.error + (json.field ? ' (' + json.field + ')' : ''));
  return json;
}

let errorOfRefresh = false;

/**
 * Shows an error under the page. One a refresh raised goes with the next refresh that works; one of an action
 * (authorize, search) stays until the next action, so the redraw every POLL_MS does not wipe it before it is read.
 */
function showError(e, ofRefresh) {
  if (e.message === '401') return;
  $('error').textContent = e.message;
  errorOfRefresh = !!ofRefresh;
}

async function login(ev) {
  ev.preventDefault();
  auth = btoa(unescape(encodeURIComponent($('user').value + ':' + $('password').value)));
  try {
    await api('GET', '/switch');
    sessionStorage.setItem('vl2.auth', auth);
    $('login-error').textContent = '';
    $('password').value = ''; // not left in the (hidden) form for the next person at this screen
    start();
  } catch (e) {
    if (e.message !== '401') $('login-error').textContent = e.message;
  }
}

function logout(why) {
  sessionStorage.removeItem('vl2.auth');
  auth = null;
  if (timer) clearInterval(timer);
  timer = null;
  $('app').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('password').value = '';
  $('who').textContent = '';
  $('login-error').textContent = why || '';
}

function start() {
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  $('who').textContent = 'logged in as ' + decodeURIComponent(escape(atob(auth))).split(':')[0];
  refresh();
  searchMacs();
  timer = setInterval(poll, POLL_MS);
}

/**
 * The tick of the timer: skipped while the tab is hidden (nobody looks; the rates are computed from the time between
 * two answers, so a gap costs nothing) and while a refresh is still waiting for a slow switch, so that requests never
 * pile up behind one that hangs.
 */
function poll() {
  if (!document.hidden && !refreshing) refresh();
}

document.addEventListener('visibilitychange', () => {
  if (timer && !document.hidden) refresh();
});

let refreshing = null; // the refresh in flight
let refreshAgain = false;

/**
 * One refresh at a time (two in flight could render an older answer over a newer one and compute the rates from
 * it). A call while one is in flight (a click, an action) runs it once more afterwards, so that what it waits for
 * reflects what happened before the call.
 */
function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      await refreshOnce();
    } while (refreshAgain && auth);
  })().finally(() => { refreshing = null; });
  return refreshing;
}

async function refreshOnce() {
  try {
    const [sw, networks, ports] = await Promise.all([api('GET', '/switch'), api('GET', '/networks'),
      api('GET', '/ports')]);
    renderSwitch(sw);
    renderNetworks(networks);
    renderPorts(ports);
    const network = selectedNetwork;
    if (network !== null) {
      const members = await api('GET', '/networks/' + network + '/members');
      // a click on another network meanwhile started a refresh of its own: do not show this one's members under it
      if (network === selectedNetwork) renderMembers(members);
    }
    if (errorOfRefresh) $('error').textContent = '';
  } catch (e) {
    showError(e, true);
  }
}

/**
 * The host to put in the join command: the page's own, unless it was opened on loopback (on the switch itself or
 * through ssh -L), where an agent on another host would need the switch's real address.
 */
function switchHost() {
  const h = location.hostname;
  return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|::1)$/.test(h) ? 'SWITCH-ADDRESS' : h;
}

function renderSwitch(sw) {
  $('switch-key').textContent = sw.publicKey;
  const net = selectedNetwork || 'NETWORK';
  const join = 'sudo vl2-agent --switch ' + switchHost() + ' --switch-key ' + sw.publicKey + ' --network ' + net;
  if ($('join-command').textContent !== join) $('join-command').textContent = join;
  const s = sw.switch;
  const counters = s.ports + ' ports, ' + s.rxFrames + ' frames in, ' + s.txFrames + ' frames out, ' + s.drops
    + ' dropped; policy ' + sw.policy;
  if ($('switch-counters').textContent !== counters) $('switch-counters').textContent = counters;
}

function renderNetworks(networks) {
  if (selectedNetwork === null && networks.length) {
    selectedNetwork = (networks.find(n => n.access === 'private') || networks[0]).network;
  }
  syncRows($('network-rows'), networks, n => n.network, n => {
    const row = newRow(6);
    row.dataset.network = n.network;
    row.addEventListener('click', () => select(n.network));
    return row;
  }, (row, n) => {
    row.className = n.network === selectedNetwork ? 'selected' : '';
    setCell(row, 0, n.network);
    setCell(row, 1, n.name);
    setCell(row, 2, n.access);
    setCell(row, 3, n.mtu, 'num');
    setCell(row, 4, n.ports, 'num');
    setCell(row, 5, n.ipv4Pool);
  });
  $('members-network').textContent = selectedNetwork || '-';
}

/** Shows another network's members (at once: the old network's rows go, its name is shown). */
function select(network) {
  if (network === selectedNetwork) return;
  selectedNetwork = network;
  $('member-rows').replaceChildren();
  $('members-network').textContent = network;
  for (const r of $('network-rows').rows) r.className = r.dataset.network === network ? 'selected' : '';
  refresh();
}

function renderMembers(m) {
  syncRows($('member-rows'), m.members, x => x.network + '/' + x.member, x => {
    const row = newRow(7);
    row.dataset.member = x.member;
    row.cells[6].appendChild(document.createElement('button'));
    return row;
  }, (row, x) => {
    setCell(row, 0, x.member);
    setCell(row, 1, x.name);
    setCell(row, 2, x.state, 'state-' + x.state);
    setCell(row, 3, x.port);
    setCell(row, 4, x.address);
    setCell(row, 5, x.publicKey);
    const b = row.cells[6].firstChild;
    const key = x.publicKey ? x.publicKey.replace(/\+/g, '-').replace(/\//g, '_') : x.member;
    const path = '/networks/' + x.network + '/members/' + key;
    const label = x.authorized ? 'Deauthorize' : 'Authorize';
    if (b.textContent !== label) {
      b.textContent = label;
      b.className = label.toLowerCase();
    }
    b.onclick = x.authorized
      ? () => confirm('Deauthorize ' + (x.name || x.member) + ' on network ' + x.network
          + '? On a private network it is cut off at once.') && change('DELETE', path)
      : () => change('PUT', path);
  });
}

async function change(method, path) {
  try {
    $('error').textContent = '';
    await api(method, path);
    await refresh();
  } catch (e) {
    showError(e);
  }
}

function rate(now, before, seconds) {
  return before === undefined || seconds <= 0 ? 0 : Math.max(0, (now - before) / seconds);
}

function renderPorts(ports) {
  const t = Date.now() / 1000;
  const seen = new Map();
  syncRows($('port-rows'), ports, p => p.port, p => {
    const row = newRow(11);
    row.dataset.port = p.port;
    const c = document.createElement('canvas');
    c.width = 120;
    c.height = 24;
    row.cells[10].appendChild(c);
    return row;
  }, (row, p) => {
    const before = lastPorts.get(p.port);
    const dt = before ? t - before.t : 0;
    const c = before ? before.p : {};
    const rxBytes = rate(p.rxBytes, c.rxBytes, dt);
    const txBytes = rate(p.txBytes, c.txBytes, dt);
    setCell(row, 0, p.port, 'num');
    setCell(row, 1, p.network);
    // the member id, as in the members table (names are host names, which several hosts may share)
    setCell(row, 2, p.member || p.name).title = p.name || '';
    setCell(row, 3, p.address);
    setCell(row, 4, p.remote);
    setCell(row, 5, rate(p.rxFrames, c.rxFrames, dt).toFixed(1), 'num rx-fps');
    setCell(row, 6, rxBytes.toFixed(0), 'num rx-bps');
    setCell(row, 7, rate(p.txFrames, c.txFrames, dt).toFixed(1), 'num tx-fps');
    setCell(row, 8, txBytes.toFixed(0), 'num tx-bps');
    setCell(row, 9, p.rxDrops + p.txDrops, 'num drops');
    const h = history.get(p.port) || [];
    if (before) h.push(rxBytes + txBytes);
    while (h.length > HISTORY) h.shift();
    history.set(p.port, h);
    chart(row.cells[10].firstChild, h);
    seen.set(p.port, {t, p});
  });
  lastPorts = seen;
  for (const k of [...history.keys()]) if (!seen.has(k)) history.delete(k);
}

/** Draws a port's bytes/s (RX + TX) over the last minute as a small line chart on canvas {@code c}. */
function chart(c, values) {
  const g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  const max = Math.max(1, ...values);
  g.strokeStyle = '#2f6fdb';
  g.beginPath();
  values.forEach((v, i) => {
    const x = i * (c.width - 1) / (HISTORY - 1);
    const y = c.height - 1 - v / max * (c.height - 2);
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
}

async function searchMacs(ev) {
  if (ev) {
    ev.preventDefault();
    macOffset = 0;
  }
  const q = new URLSearchParams({offset: macOffset, limit: MAC_LIMIT});
  if ($('mac-filter').value.trim()) q.set('mac', $('mac-filter').value.trim());
  if ($('port-filter').value.trim()) q.set('port', $('port-filter').value.trim());
  try {
    if (ev) $('error').textContent = '';
    const page = await api('GET', '/mactable?' + q);
    const body = $('mac-rows');
    body.replaceChildren();
    for (const e of page.entries) {
      const row = newRow(7);
      setCell(row, 0, e.mac);
      setCell(row, 1, e.network);
      setCell(row, 2, e.vlan, 'num');
      setCell(row, 3, e.port, 'num');
      setCell(row, 4, e.type);
      setCell(row, 5, (e.ageMillis / 1000).toFixed(0), 'num');
      setCell(row, 6, e.moves, 'num');
      body.appendChild(row);
    }
    const to = Math.min(page.total, page.offset + page.entries.length);
    $('mac-page').textContent = (page.total ? page.offset + 1 : 0) + '-' + to + ' of ' + page.total;
    $('mac-prev').disabled = page.offset === 0;
    $('mac-next').disabled = to >= page.total;
  } catch (e) {
    showError(e);
  }
}

/**
 * Copies the text of the element a Copy button names. The Clipboard API exists only in a secure context (https or
 * loopback) and may refuse (no focus, no permission): then the text is selected for Ctrl-C. The button says which.
 */
async function copy(button) {
  const source = $(button.dataset.copy);
  let copied = false;
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(source.textContent);
      copied = true;
    } catch (e) {
      copied = false;
    }
  }
  if (!copied) {
    const range = document.createRange();
    range.selectNodeContents(source);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
  }
  button.textContent = copied ? 'Copied' : 'Selected: Ctrl-C';
  setTimeout(() => { button.textContent = 'Copy'; }, 3000);
}

$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', () => logout(''));
$('mac-form').addEventListener('submit', searchMacs);
$('mac-prev').addEventListener('click', () => { macOffset = Math.max(0, macOffset - MAC_LIMIT); searchMacs(); });
$('mac-next').addEventListener('click', () => { macOffset += MAC_LIMIT; searchMacs(); });
document.querySelectorAll('button.copy').forEach(b => b.addEventListener('click', () => copy(b)));
if (auth) start();
