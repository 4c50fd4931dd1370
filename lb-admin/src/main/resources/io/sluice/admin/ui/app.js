// The Sluice dashboard: polls the admin API's JSON endpoints and renders them. No framework, no build step.
// Every value goes into the page as text (textContent), never as markup.
'use strict';

const POLL_MS = 1000;      // status, stats, errors
const GPU_POLL_MS = 3000;  // /api/gpu/status runs nvidia-smi (cached for 2 s by Sluice)
let csrf = null;           // the session's CSRF token when signed in (POSTs send it as X-Sluice-CSRF)
let lastRequests = null;   // {total, at} of the previous /api/v1/stats, for requests per second
let lastProxied = null;    // the same for the backends' request counts (proxied requests only)
let gpuByBackend = new Map();

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (options.method && options.method !== 'GET' && csrf) headers['X-Sluice-CSRF'] = csrf;
  const r = await fetch(path, Object.assign({}, options, { headers, credentials: 'same-origin', cache: 'no-store' }));
  if (r.status === 401) {
    location.assign('/api/ui/login');
    throw new Error('signed out');
  }
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    throw new Error((body && body.error && body.error.message) || ('HTTP ' + r.status));
  }
  return body;
}

function fmt(n, digits = 1) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return Number(n).toFixed(digits);
}

function duration(seconds) {
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60);
  return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + m + 'm ' + (seconds % 60) + 's';
}

function kvCell(usage) {
  const td = el('td');
  if (usage === null || usage === undefined) {
    td.textContent = '–';
    return td;
  }
  const bar = el('span', null, 'bar');
  const fill = el('span');
  fill.style.width = Math.max(0, Math.min(100, usage * 100)).toFixed(0) + '%';
  bar.appendChild(fill);
  td.appendChild(bar);
  td.appendChild(document.createTextNode(fmt(usage * 100, 0) + '%'));
  return td;
}

function renderBackends(status) {
  const tbody = $('backends').querySelector('tbody');
  const rows = [];
  let queued = 0;
  for (const pool of status.pools) {
    queued += pool.queued || 0;
    for (const b of pool.backends) {
      const tr = el('tr');
      tr.dataset.backend = b.id;
      tr.dataset.pool = pool.name;
      tr.dataset.state = b.state;
      tr.dataset.draining = String(b.draining);
      const shown = b.draining ? 'draining' : b.state;
      const state = el('td');
      const badge = el('span', shown, 'badge state-' + shown);
      badge.title = b.state_reason || '';
      state.appendChild(badge);
      const vllm = gpuByBackend.get(pool.name + '/' + b.id) || {};
      tr.append(el('td', pool.name), el('td', b.id), el('td', b.address), state, el('td', b.in_flight),
        el('td', vllm.requests_running ?? '–'), el('td', vllm.requests_waiting ?? '–'), kvCell(vllm.kv_cache_usage),
        el('td', b.requests_total), el('td', b.failures_total));
      const action = el('td');
      const button = el('button', b.draining ? 'Enable' : 'Drain');
      button.type = 'button';
      button.dataset.action = b.draining ? 'enable' : 'drain';
      button.addEventListener('click', () => act(pool.name, b.id, button.dataset.action));
      action.appendChild(button);
      tr.appendChild(action);
      rows.push(tr);
    }
  }
  tbody.replaceChildren(...rows);
  $('queued').textContent = queued;
  $('version').textContent = /^[0-9]/.test(status.version) ? 'v' + status.version : status.version;
  let proxied = 0;
  for (const pool of status.pools) for (const b of pool.backends) proxied += b.requests_total;
  const now = performance.now();
  if (lastProxied && now > lastProxied.at) {
    $('backend-rps').textContent = fmt(Math.max(0, (proxied - lastProxied.total) * 1000 / (now - lastProxied.at)), 1);
  }
  lastProxied = { total: proxied, at: now };
  $('uptime').textContent = duration(status.uptime_seconds);
}

async function act(pool, id, action) {
  const error = $('action-error');
  error.hidden = true;
  try {
    await api('/api/v1/backends/' + encodeURIComponent(id) + '/' + action + '?pool=' + encodeURIComponent(pool),
      { method: 'POST' });
    await refresh();
  } catch (e) {
    error.textContent = action + ' ' + id + ': ' + e.message;
    error.hidden = false;
  }
}

const LATENCIES = [
  ['time_to_first_token', 'time to first token'],
  ['inter_chunk_gap', 'inter-token'],
  ['stream_max_chunk_gap', 'longest gap per stream'],
  ['upstream_response_head', 'upstream response head'],
  ['request', 'whole request'],
];

function renderStats(stats) {
  const now = performance.now();
  if (lastRequests && now > lastRequests.at) {
    const rps = (stats.requests_total - lastRequests.total) * 1000 / (now - lastRequests.at);
    $('rps').textContent = fmt(Math.max(0, rps), 1);
  }
  lastRequests = { total: stats.requests_total, at: now };
  $('requests-total').textContent = stats.requests_total;
  $('connections').textContent = stats.open_connections;
  const rows = LATENCIES.map(([key, label]) => {
    const l = stats.latency_ms[key] || {};
    const tr = el('tr');
    tr.dataset.latency = key;
    tr.append(el('td', label), el('td', fmt(l.p50)), el('td', fmt(l.p90)), el('td', fmt(l.p99)), el('td', fmt(l.max)),
      el('td', l.count ?? 0));
    return tr;
  });
  $('latency').querySelector('tbody').replaceChildren(...rows);
}

function renderErrors(body) {
  const rows = body.errors.map((e) => {
    const tr = el('tr');
    tr.append(el('td', new Date(e.time).toLocaleTimeString()), el('td', e.status), el('td', e.code), el('td', e.method),
      el('td', e.route ?? ''), el('td', e.pool ?? ''), el('td', e.backend ?? ''));
    return tr;
  });
  $('errors').querySelector('tbody').replaceChildren(...rows);
  $('errors-none').hidden = rows.length > 0;
  $('errors-total').textContent = body.errors_total ? '(' + body.errors_total + ' since start, last ' + body.capacity + ' kept)' : '';
}

function renderGpus(gpu) {
  gpuByBackend = new Map(gpu.backends.map((b) => [b.pool + '/' + b.id, b]));
  const gpus = (gpu.local && gpu.local.gpus) || [];
  const rows = gpus.map((g) => {
    const tr = el('tr');
    const mem = g.memory_total_mib ? fmt(g.memory_used_mib, 0) + ' / ' + fmt(g.memory_total_mib, 0) + ' MiB' : '–';
    tr.append(el('td', g.index), el('td', g.name), el('td', g.utilization_percent == null ? '–' : g.utilization_percent + '%'),
      el('td', mem));
    return tr;
  });
  $('gpus').querySelector('tbody').replaceChildren(...rows);
  $('gpus').hidden = rows.length === 0;
  $('gpus-none').hidden = rows.length > 0;
  $('gpus-none').textContent = 'no local GPU' + (gpu.local && gpu.local.error ? ' (' + gpu.local.error + ')' : '');
}

function live(ok) {
  const badge = $('live');
  badge.dataset.live = String(ok);
  badge.textContent = ok ? 'live' : 'disconnected';
}

async function refresh() {
  try {
    const [status, stats, errors] = await Promise.all([api('/api/v1/status'), api('/api/v1/stats'), api('/api/v1/errors')]);
    renderBackends(status);
    renderStats(stats);
    renderErrors(errors);
    live(true);
  } catch (e) {
    live(false);
  }
}

async function refreshGpus() {
  try {
    renderGpus(await api('/api/gpu/status'));
  } catch (e) {
    // the backends table keeps the last numbers; the live badge reports the connection
  }
}

async function start() {
  try {
    const session = await api('/api/ui/session');
    csrf = session.csrf;
    $('logout').hidden = !session.signed_in;
  } catch (e) {
    live(false);
  }
  $('logout').addEventListener('click', async () => {
    await api('/api/ui/logout', { method: 'POST' }).catch(() => null);
    location.assign('/api/ui/login');
  });
  await refreshGpus();
  await refresh();
  // One poll at a time: the next starts when the previous has finished.
  const loop = async () => { await refresh(); setTimeout(loop, POLL_MS); };
  const gpuLoop = async () => { await refreshGpus(); setTimeout(gpuLoop, GPU_POLL_MS); };
  setTimeout(loop, POLL_MS);
  setTimeout(gpuLoop, GPU_POLL_MS);
}

start();
