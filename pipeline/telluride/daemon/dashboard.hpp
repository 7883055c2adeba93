// dashboard.hpp — the page served at GET /: live totals, stages and configuration, read
// from the daemon's own JSON and Prometheus endpoints once a second.
#pragma once

#include <string_view>

namespace telluride {

inline constexpr std::string_view dashboard_html = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Telluride</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222;background:#fafafa}
 h1{font-size:1.4rem;margin:0 0 1rem} h2{font-size:1.05rem;margin:1.5rem 0 .5rem}
 .cards{display:flex;gap:1rem;flex-wrap:wrap}
 .card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8rem 1.2rem;min-width:9rem}
 .card b{display:block;font-size:1.5rem} table{border-collapse:collapse;background:#fff}
 td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:right} th{background:#f0f0f0}
 td:first-child,th:first-child{text-align:left} .bad{color:#b00} .ok{color:#070}
 pre{background:#fff;border:1px solid #ddd;padding:.6rem;overflow:auto}
</style></head><body>
<h1>Telluride <span id="ready"></span></h1>
<div class="cards">
 <div class="card">readings/s<b id="rate">–</b></div>
 <div class="card">successful<b id="ok">–</b></div>
 <div class="card">failed<b id="failed">–</b></div>
 <div class="card">duplicates<b id="dup">–</b></div>
 <div class="card">sensors<b id="sensors">–</b></div>
 <div class="card">alerts<b id="alerts">–</b></div>
 <div class="card">in flight<b id="inflight">–</b></div>
 <div class="card">config version<b id="version">–</b></div>
</div>
<h2>Stages</h2>
<table><thead><tr><th>stage</th><th>name</th><th>#</th><th>received</th><th>in flight</th><th>demand</th></tr></thead><tbody id="stages"></tbody></table>
<h2>Configuration</h2><pre id="config"></pre>
<script>
const $ = id => document.getElementById(id);
let last = null;
function metric(text, name) {
  const m = text.match(new RegExp('^' + name.replace(/[{}"=]/g, c => '\\' + c) + ' (\\S+)$', 'm'));
  return m ? Number(m[1]) : 0;
}
async function refresh() {
  try {
    const [m, topo, cfg] = await Promise.all([
      fetch('/metrics').then(r => r.text()),
      fetch('/api/topology').then(r => r.json()),
      fetch('/api/config').then(r => r.json())]);
    const ok = metric(m, 'telluride_readings_total{outcome="successful"}');
    const failed = metric(m, 'telluride_readings_total{outcome="failed"}');
    const now = Date.now();
    if (last) $('rate').textContent = Math.round((ok + failed - last.n) * 1000 / (now - last.t));
    last = {n: ok + failed, t: now};
    $('ok').textContent = ok; $('failed').textContent = failed;
    $('dup').textContent = metric(m, 'telluride_readings_duplicate_total');
    $('sensors').textContent = metric(m, 'telluride_sensors');
    $('alerts').textContent = metric(m, 'telluride_alerts_total');
    $('inflight').textContent = metric(m, 'telluride_in_flight');
    $('version').textContent = cfg.version;
    const ready = metric(m, 'telluride_ready') === 1;
    $('ready').textContent = ready ? '● consuming' : '● not consuming';
    $('ready').className = ready ? 'ok' : 'bad';
    $('stages').innerHTML = topo.stages.map(s => `<tr><td>${s.node_type}</td><td>${s.name}</td>` +
      `<td>${s.partition}</td><td>${s.received}</td><td>${s.in_flight}</td><td>${s.outstanding_demand}</td></tr>`).join('');
    $('config').textContent = JSON.stringify(cfg.config, null, 2);
  } catch (e) {
    $('ready').textContent = '● daemon unreachable'; $('ready').className = 'bad';
  }
}
refresh(); setInterval(refresh, 1000);
</script></body></html>
)html";

} // namespace telluride
