// dashboard.js — the live dashboard: renders each snapshot of GET /api/stream (docs/wire-format.md,
// Live snapshot), keeps the last 5 minutes of throughput for the chart, lists sensors from
// GET /api/sensors, and builds the configuration form from GET /api/config/schema.
'use strict';

const $ = id => document.getElementById(id);
const HISTORY_SECONDS = 300;
const STAGE_ORDER = ['producer', 'processor', 'batcher', 'batch_processor'];
const STAGE_TITLES = {producer: 'producers', processor: 'processors', batcher: 'batchers',
                      batch_processor: 'batch processors'};

const history = [];  // {t: taken_ms, rate, failed}, oldest first, at most 5 minutes
let schemaKeys = [];  // from /api/config/schema
let latest = null;    // the last snapshot

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
}

function formatNumber(n) { return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'); }

// ---- connection state ----------------------------------------------------------------------

/// One of: live, draining, broker, not-ready, unreachable, connecting; with its text.
function stateOf(snapshot) {
  const s = snapshot.status;
  if (s.ready) return ['live', 'live'];
  if (s.reason === 'the readings pipeline is restarting') return ['draining', 'draining'];
  if (!s.broker_connected) return ['broker', 'broker unreachable'];
  return ['not-ready', 'not ready'];
}

function showState(key, text, detail) {
  const el = $('state');
  el.className = 'state state-' + key;
  el.dataset.state = key;
  el.textContent = text;
  const banner = $('banner');
  banner.hidden = !detail;
  banner.textContent = detail || '';
}

// ---- the stream ----------------------------------------------------------------------------

let source = null;

function connect() {
  source = new EventSource('/api/stream');
  source.onmessage = event => {
    let snapshot;
    try { snapshot = JSON.parse(event.data); } catch (e) { return; }
    render(snapshot);
  };
  source.onerror = () => {
    showState('unreachable', 'daemon unreachable', 'The live stream is interrupted; reconnecting…');
    // EventSource retries on its own unless the answer was not an event stream (e.g. 503 when
    // too many viewers are open): then start over after a pause.
    if (source.readyState === EventSource.CLOSED) {
      source = null;
      setTimeout(connect, 3000);
    }
  };
}

function render(snapshot) {
  latest = snapshot;
  const [key, text] = stateOf(snapshot);
  let detail = null;
  if (key === 'draining') detail = 'Draining: the pipeline finishes what it took before it restarts or stops.';
  else if (key !== 'live') detail = 'Not ready: ' + (snapshot.status.reason || 'unknown reason');
  showState(key, text, detail);
  $('node').textContent = snapshot.node;
  $('config-version').textContent = snapshot.config_version;
  renderTotals(snapshot);
  renderGraph(snapshot.stages);
  record(snapshot);
  drawChart();
  renderCpu(snapshot.cpu_percent);
  renderShards(snapshot.shards);
  renderAlerts(snapshot.alerts);
}

function renderTotals(s) {
  const t = s.totals;
  $('rate').textContent = formatNumber(Math.round(s.rates.messages_per_second));
  $('total').textContent = formatNumber(t.messages);
  $('successful').textContent = formatNumber(t.successful);
  $('failed').textContent = formatNumber(t.failed);
  $('percent').textContent = t.successful_percent === null ? '–' : t.successful_percent.toFixed(1) + "\u202f%";
  $('in-flight').textContent = formatNumber(t.in_flight);
  $('sensors').textContent = formatNumber(t.sensors);
  $('alerts').textContent = formatNumber(t.alerts);
}

// ---- pipeline graph ------------------------------------------------------------------------

/// Green (idle) to red (busy) for a workload in 0..1.
function workloadColour(workload) {
  const w = Math.min(1, Math.max(0, Number(workload) || 0));
  return `hsl(${Math.round(120 * (1 - w))}, 65%, 38%)`;
}

function renderGraph(stages) {
  const columns = STAGE_ORDER.map(kind => {
    const nodes = stages.filter(s => s.node_type === kind)
      .sort((a, b) => a.name.localeCompare(b.name) || a.partition - b.partition)
      .map(s => {
        const id = `${s.node_type}/${s.name}/${s.partition}`;
        const pct = Math.round(100 * s.workload);
        return `<div class="node" data-stage="${escapeHtml(id)}" style="background:${workloadColour(s.workload)}"` +
          ` title="${escapeHtml(id)}: workload ${pct} %, mean ${s.mean_duration.toFixed(1)} µs">` +
          `${escapeHtml(s.name)} #${s.partition}<small>${pct} % · ${formatNumber(s.msg_count)} msgs</small></div>`;
      });
    return `<div class="column"><h3>${STAGE_TITLES[kind]}</h3>${nodes.join('')}</div>`;
  });
  $('graph').innerHTML = columns.join('<span class="arrow">→</span>');
}

// ---- throughput chart ----------------------------------------------------------------------

function record(s) {
  const last = history[history.length - 1];
  if (last && last.t === s.taken_ms) return;  // the same snapshot sent again on a change
  history.push({t: s.taken_ms, rate: s.rates.messages_per_second, failed: s.rates.failed_per_second});
  while (history.length && history[0].t < s.taken_ms - HISTORY_SECONDS * 1000) history.shift();
}

function drawChart() {
  const canvas = $('chart');
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  if (!history.length) return;
  const end = history[history.length - 1].t, start = end - HISTORY_SECONDS * 1000;
  const top = Math.max(1, ...history.map(p => p.rate));
  const left = 48, bottom = height - 18;
  const x = t => left + (width - left - 8) * (t - start) / (HISTORY_SECONDS * 1000);
  const y = v => bottom - (bottom - 8) * v / top;
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#777';
  g.strokeStyle = '#e3e3e3';
  for (const v of [0, top / 2, top]) {
    g.beginPath(); g.moveTo(left, y(v)); g.lineTo(width - 8, y(v)); g.stroke();
    g.fillText(formatNumber(Math.round(v)), 2, y(v) + 4);
  }
  g.fillText('−5 min', left, height - 4);
  g.fillText('now', width - 30, height - 4);
  for (const [field, colour] of [['rate', '#1565c0'], ['failed', '#c62828']]) {
    g.strokeStyle = colour;
    g.lineWidth = 1.5;
    g.beginPath();
    history.forEach((p, i) => (i ? g.lineTo : g.moveTo).call(g, x(p.t), y(p[field])));
    g.stroke();
  }
}

// ---- host CPU ----------------------------------------------------------------------------

function renderCpu(cores) {
  if (!cores || !cores.length) return;  // the first snapshot has no interval to measure yet
  $('cpu').innerHTML = cores.map((p, i) => `<div class="core" data-core="${i}"><span>cpu${i}</span>` +
    `<span class="bar"><span style="width:${p.toFixed(1)}%;background:${workloadColour(p / 100)}"></span></span>` +
    `<span class="share">${Math.round(p)} %</span></div>`).join('');
}

// ---- shards and alerts ---------------------------------------------------------------------

function renderShards(shards) {
  $('members').textContent = shards.members.length ? '(members: ' + shards.members.join(', ') + ')' : '';
  $('shards').innerHTML = shards.shards.length
    ? shards.shards.map(r => `<tr><td>${r.shard}</td><td>${escapeHtml(r.owner || '–')}</td>` +
        `<td>${escapeHtml(r.state)}</td><td>${formatNumber(r.sensors)}</td></tr>`).join('')
    : '<tr><td colspan="4" class="muted">one readings queue: this node holds every sensor</td></tr>';
}

function renderAlerts(alerts) {
  $('alert-list').innerHTML = alerts.length
    ? alerts.slice().reverse().map(a => `<tr><td>${escapeHtml(a.timestamp || '')}</td>` +
        `<td>${escapeHtml(`${a.line_id}/${a.device_id}/${a.sensor_id}`)}</td><td>${escapeHtml(a.event)}</td>` +
        `<td>${escapeHtml(a.reading ?? '')}</td><td>${escapeHtml(a.threshold ?? '')}</td></tr>`).join('')
    : '<tr><td colspan="5" class="muted">no alert yet</td></tr>';
}

// ---- sensors -------------------------------------------------------------------------------
// GET /api/sensors ranks the sensors matching the search on the daemon and answers the first
// SENSOR_LIMIT: the most read (sort=reads) or those with the most alerts raised (sort=alerts; each
// row's `alerts`, 0 when absent). Readings per second are the page's own: the difference of a
// sensor's total_reads between two polls over the time between them (the daemon keeps no rate per
// sensor). Sorted by rate, the page asks for the RATE_POOL most read and shows the SENSOR_LIMIT
// fastest of them (all of them when no more match).

const SENSOR_LIMIT = 100;
const RATE_POOL = 500;
const SENSOR_POLL_MS = 2000;
let sensorSeen = new Map();  // key → {reads, t}: each sensor's total_reads at the poll it was last seen
let sensorRows = [];         // {key, aggregate, rate (null: not seen before)}, in the daemon's order
let sensorAnswer = null;     // {matched, listed, by} of the latest poll
let sensorTimer = null;
let sensorPoll = 0;           // the latest poll's number

function sensorKey(s) { return `${s.line_id}/${s.device_id}/${s.sensor_id}`; }

/// Asks for the sensors now (and then every SENSOR_POLL_MS); an answer to an older poll than the
/// latest (the search or the sort changed meanwhile) is dropped.
async function pollSensors() {
  clearTimeout(sensorTimer);
  const poll = ++sensorPoll;
  const by = $('sensor-sort').value;
  const query = new URLSearchParams({limit: String(by === 'rate' ? RATE_POOL : SENSOR_LIMIT),
                                     sort: by === 'alerts' ? 'alerts' : 'reads'});
  const search = $('sensor-search').value.trim();
  if (search) query.set('q', search);
  try {
    const reply = await fetch('/api/sensors?' + query);
    const body = await reply.json();
    if (poll !== sensorPoll) return;
    if (!reply.ok) throw new Error(body.error || reply.status);
    const now = Date.now();
    sensorRows = body.sensors.map(s => {
      const key = sensorKey(s), before = sensorSeen.get(key);
      const rate = before && now > before.t ? (s.total_reads - before.reads) * 1000 / (now - before.t) : null;
      sensorSeen.set(key, {reads: s.total_reads, t: now});
      return {key, aggregate: s, rate};
    });
    for (const [key, seen] of sensorSeen) if (seen.t < now - 60000) sensorSeen.delete(key);
    sensorAnswer = {matched: body.matched, listed: body.sensors.length, by};
    renderSensors();
  } catch (e) {
    if (poll !== sensorPoll) return;
    $('sensor-count').textContent = '(the daemon did not answer)';
  }
  sensorTimer = setTimeout(pollSensors, SENSOR_POLL_MS);
}

function sensorCountText({matched, listed, by}) {
  const shown = Math.min(listed, SENSOR_LIMIT);
  if (by === 'rate')
    return matched > shown ? `(${matched} matched, the ${shown} fastest of the ${listed} most read shown)` : `(${matched} matched)`;
  if (matched <= listed) return `(${matched} matched)`;
  return `(${matched} matched, the ${listed} ${by === 'alerts' ? 'with the most alerts' : 'most read'} shown)`;
}

function renderSensors() {
  if (!sensorAnswer) return;
  let rows = sensorRows;
  if (sensorAnswer.by === 'rate')  // the fastest first; a sensor not seen before has no rate yet
    rows = rows.slice().sort((a, b) => (b.rate ?? -1) - (a.rate ?? -1) || a.key.localeCompare(b.key))
      .slice(0, SENSOR_LIMIT);
  $('sensor-count').textContent = sensorCountText(sensorAnswer);
  const number = v => typeof v === 'number' ? Number(v.toPrecision(6)) : v;
  $('sensor-list').innerHTML = rows.length ? rows.map(r => {
    const a = r.aggregate;
    return `<tr data-key="${escapeHtml(r.key)}"><td>${escapeHtml(r.key)}</td>` +
      `<td data-field="total_reads">${a.total_reads}</td>` +
      `<td data-field="rate">${r.rate === null ? '–' : r.rate.toFixed(1)}</td>` +
      `<td data-field="alerts">${Number(a.alerts ?? 0)}</td>` +
      ['mean', 'min', 'max', 'last_reading'].map(f => `<td data-field="${f}">${number(a[f])}</td>`).join('') + '</tr>';
  }).join('') : '<tr><td colspan="8" class="muted">no sensor matches</td></tr>';
}

// ---- configuration form --------------------------------------------------------------------

/// The error for `text` typed into the field of `spec`, or '' when it is valid.
function checkValue(spec, text) {
  const value = text.trim();
  if (!/^-?\d+$/.test(value)) return `${spec.key} must be an integer in ${spec.min}..${spec.max}`;
  const n = Number(value);
  if (n < spec.min || n > spec.max) return `${spec.key} must be an integer in ${spec.min}..${spec.max}, got ${value}`;
  return '';
}

function validateField(spec) {
  const input = $('cfg-' + spec.key);
  const error = checkValue(spec, input.value);
  input.classList.toggle('invalid', !!error);
  input.setAttribute('aria-invalid', error ? 'true' : 'false');
  $('err-' + spec.key).textContent = error;
  return !error;
}

async function loadConfigForm() {
  try {
    const [schema, current] = await Promise.all([
      fetch('/api/config/schema').then(r => r.json()), fetch('/api/config').then(r => r.json())]);
    schemaKeys = schema.keys;
    $('config-fields').innerHTML = schemaKeys.map(spec =>
      `<label class="field" title="${escapeHtml(spec.help)}">${escapeHtml(spec.key)}` +
      `<input id="cfg-${spec.key}" name="${spec.key}" inputmode="numeric" data-min="${spec.min}" data-max="${spec.max}">` +
      `<span class="error" id="err-${spec.key}"></span></label>`).join('');
    fillConfig(current.config);
    for (const spec of schemaKeys) $('cfg-' + spec.key).addEventListener('input', () => validateField(spec));
  } catch (e) {
    $('config-answer').textContent = 'could not load the configuration schema; reload the page';
  }
}

function fillConfig(config) {
  for (const spec of schemaKeys) {
    const input = $('cfg-' + spec.key);
    const value = config[spec.key] ?? spec.default;
    input.value = value;
    input.dataset.current = value;
    validateField(spec);
  }
}

function showAnswer(kind, text) {
  const answer = $('config-answer');
  answer.className = 'answer ' + kind;
  answer.dataset.event = kind;
  answer.textContent = text;
}

async function submitConfig(event) {
  event.preventDefault();
  const valid = schemaKeys.map(validateField).every(Boolean);
  if (!valid) {
    showAnswer('invalid', 'fix the fields marked in red; nothing was sent');
    return;
  }
  const change = {};
  for (const spec of schemaKeys) {
    const input = $('cfg-' + spec.key);
    if (input.value.trim() !== input.dataset.current) change[spec.key] = Number(input.value.trim());
  }
  if (!Object.keys(change).length) {
    showAnswer('invalid', 'nothing changed; nothing was sent');
    return;
  }
  $('config-submit').disabled = true;
  showAnswer('pending', 'applying (the pipeline drains and restarts)…');
  try {
    const reply = await fetch('/api/config', {method: 'POST', body: JSON.stringify(change),
      headers: {'Content-Type': 'application/json', 'Authorization': 'Bearer ' + $('token').value}});
    const body = await reply.json();
    if (body.event === 'config_applied') {
      showAnswer('applied', `config_applied: version ${body.version} (drained in ${body.drain_ms} ms)`);
      fillConfig(body.config);
    } else if (body.event === 'config_rejected') {
      showAnswer('rejected', 'config_rejected: ' + body.reason);
    } else {
      showAnswer('rejected', `refused (${reply.status}): ${body.error || 'no reason given'}`);
    }
  } catch (e) {
    showAnswer('rejected', 'the daemon did not answer');
  } finally {
    $('config-submit').disabled = false;
  }
}

let searchDelay = null;
$('sensor-search').addEventListener('input', () => {
  clearTimeout(searchDelay);
  searchDelay = setTimeout(pollSensors, 250);
});
$('sensor-sort').addEventListener('change', pollSensors);
$('config-form').addEventListener('submit', submitConfig);
window.addEventListener('resize', drawChart);
loadConfigForm();
connect();
pollSensors();
