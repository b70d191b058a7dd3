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

function cell(row, value, cls) {
  const td = document.createElement('td');
  td.textContent = text(value);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

async function api(method, path, body) {
  const headers = {'Authorization': 'Basic ' + auth, 'X-Requested-With': 'vl2-console'};
  if (method !== 'GET') headers['Content-Type'] = 'application/json';
  const r = await fetch('/api' + path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  if (r.status === 401) {
    logout('Wrong user or password, or the session ended.');
    throw new Error('401');
  }
  if (r.status === 204) return null;
  const json = await r.json();
  if (!r.ok) throw new Error(json.error + (json.field ? ' (' + json.field + ')' : ''));
  return json;
}

function showError(e) {
  if (e.message !== '401') $('error').textContent = e.message;
}

async function login(ev) {
  ev.preventDefault();
  auth = btoa(unescape(encodeURIComponent($('user').value + ':' + $('password').value)));
  try {
    await api('GET', '/switch');
    sessionStorage.setItem('vl2.auth', auth);
    $('login-error').textContent = '';
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
  timer = setInterval(refresh, POLL_MS);
}

async function refresh() {
  try {
    const [sw, networks, ports] = await Promise.all([api('GET', '/switch'), api('GET', '/networks'),
      api('GET', '/ports')]);
    renderSwitch(sw);
    renderNetworks(networks);
    renderPorts(ports);
    if (selectedNetwork !== null) renderMembers(await api('GET', '/networks/' + selectedNetwork + '/members'));
    $('error').textContent = '';
  } catch (e) {
    showError(e);
  }
}

function renderSwitch(sw) {
  $('switch-key').textContent = sw.publicKey;
  const net = selectedNetwork || 'NETWORK';
  $('join-command').textContent = 'sudo vl2-agent --switch ' + location.hostname + ' --switch-key ' + sw.publicKey
    + ' --network ' + net;
  const s = sw.switch;
  $('switch-counters').textContent = s.ports + ' ports, ' + s.rxFrames + ' frames in, ' + s.txFrames
    + ' frames out, ' + s.drops + ' dropped; policy ' + sw.policy;
}

function renderNetworks(networks) {
  const body = $('network-rows');
  body.replaceChildren();
  if (selectedNetwork === null && networks.length) {
    selectedNetwork = (networks.find(n => n.access === 'private') || networks[0]).network;
  }
  for (const n of networks) {
    const row = document.createElement('tr');
    row.dataset.network = n.network;
    if (n.network === selectedNetwork) row.className = 'selected';
    cell(row, n.network);
    cell(row, n.name);
    cell(row, n.access);
    cell(row, n.mtu, 'num');
    cell(row, n.ports, 'num');
    cell(row, n.ipv4Pool);
    row.addEventListener('click', () => { selectedNetwork = n.network; refresh(); });
    body.appendChild(row);
  }
  $('members-network').textContent = selectedNetwork || '-';
}

function renderMembers(m) {
  const body = $('member-rows');
  body.replaceChildren();
  for (const x of m.members) {
    const row = document.createElement('tr');
    row.dataset.member = x.member;
    cell(row, x.member);
    cell(row, x.name);
    cell(row, x.state, 'state-' + x.state);
    cell(row, x.port);
    cell(row, x.address);
    cell(row, x.publicKey);
    const td = document.createElement('td');
    const b = document.createElement('button');
    const key = x.publicKey ? x.publicKey.replace(/\+/g, '-').replace(/\//g, '_') : x.member;
    if (x.authorized) {
      b.textContent = 'Deauthorize';
      b.className = 'deauthorize';
      b.onclick = () => change('DELETE', '/networks/' + x.network + '/members/' + key);
    } else {
      b.textContent = 'Authorize';
      b.className = 'authorize';
      b.onclick = () => change('PUT', '/networks/' + x.network + '/members/' + key);
    }
    td.appendChild(b);
    row.appendChild(td);
    body.appendChild(row);
  }
}

async function change(method, path) {
  try {
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
  const body = $('port-rows');
  body.replaceChildren();
  const t = Date.now() / 1000;
  const seen = new Map();
  for (const p of ports) {
    const before = lastPorts.get(p.port);
    const dt = before ? t - before.t : 0;
    const c = before ? before.p : {};
    const rxBytes = rate(p.rxBytes, c.rxBytes, dt);
    const row = document.createElement('tr');
    row.dataset.port = p.port;
    cell(row, p.port, 'num');
    cell(row, p.network);
    cell(row, p.name || p.member);
    cell(row, p.remote);
    cell(row, rate(p.rxFrames, c.rxFrames, dt).toFixed(1), 'num rx-fps');
    cell(row, rxBytes.toFixed(0), 'num');
    cell(row, rate(p.txFrames, c.txFrames, dt).toFixed(1), 'num');
    cell(row, rate(p.txBytes, c.txBytes, dt).toFixed(0), 'num');
    cell(row, p.rxDrops + p.txDrops, 'num');
    const h = history.get(p.port) || [];
    if (before) h.push(rxBytes + rate(p.txBytes, c.txBytes, dt));
    while (h.length > HISTORY) h.shift();
    history.set(p.port, h);
    const td = document.createElement('td');
    td.appendChild(chart(h));
    row.appendChild(td);
    body.appendChild(row);
    seen.set(p.port, {t, p});
  }
  lastPorts = seen;
  for (const k of [...history.keys()]) if (!seen.has(k)) history.delete(k);
}

/** A small line chart of a port's bytes/s (RX + TX) over the last minute. */
function chart(values) {
  const c = document.createElement('canvas');
  c.width = 120;
  c.height = 24;
  const g = c.getContext('2d');
  const max = Math.max(1, ...values);
  g.strokeStyle = '#2f6fdb';
  g.beginPath();
  values.forEach((v, i) => {
    const x = i * (c.width - 1) / (HISTORY - 1);
    const y = c.height - 1 - v / max * (c.height - 2);
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
  return c;
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
    const page = await api('GET', '/mactable?' + q);
    const body = $('mac-rows');
    body.replaceChildren();
    for (const e of page.entries) {
      const row = document.createElement('tr');
      cell(row, e.mac);
      cell(row, e.network);
      cell(row, e.vlan, 'num');
      cell(row, e.port, 'num');
      cell(row, e.type);
      cell(row, (e.ageMillis / 1000).toFixed(0), 'num');
      cell(row, e.moves, 'num');
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

$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', () => logout(''));
$('mac-form').addEventListener('submit', searchMacs);
$('mac-prev').addEventListener('click', () => { macOffset = Math.max(0, macOffset - MAC_LIMIT); searchMacs(); });
$('mac-next').addEventListener('click', () => { macOffset += MAC_LIMIT; searchMacs(); });
document.querySelectorAll('button.copy').forEach(b => b.addEventListener('click', () =>
  navigator.clipboard && navigator.clipboard.writeText($(b.dataset.copy).textContent)));
if (auth) start();
