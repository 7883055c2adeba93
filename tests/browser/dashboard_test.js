// dashboard_test.js — the dashboard in a real browser (Debian's chromium, headless, driven by
// playwright-core; no browser download). Run by run.sh, which starts the broker proxy, the daemon
// and the sensors and sets DASHBOARD_URL, DASHBOARD_TOKEN, DASHBOARD_OUT, DASHBOARD_CONFIG,
// DAEMON_PID and PROXY_PID. Exits 1 at the first failed check.
'use strict';

const assert = require('node:assert/strict');
const {execFile} = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {chromium} = require('playwright-core');

const url = process.env.DASHBOARD_URL;
const token = process.env.DASHBOARD_TOKEN;
const out = process.env.DASHBOARD_OUT;

/// Publishes `messages` readings of run.sh's 20 sensors (the same seed) straight to the broker,
/// not through the proxy; resolves once the broker confirmed every one.
function publish(messages, rate) {
  const args = ['sensors', '--config', process.env.DASHBOARD_CONFIG, '--amqp', process.env.TELLURIDE_TEST_AMQP_URL,
                '--count', '20', '--rate', String(rate), '--messages', String(messages), '--seed', '7', '--quiet'];
  return new Promise((resolve, reject) => execFile(process.env.TELLURIDE_BIN, args, (e, stdout, stderr) =>
    e ? reject(new Error(`telluride sensors failed: ${stderr}`)) : resolve()));
}

const sensorKeyOf = s => `${s.line_id}/${s.device_id}/${s.sensor_id}`;

function check(name, fn) {
  return fn().then(() => console.log('ok   ' + name), e => {
    console.log('FAIL ' + name);
    throw e;
  });
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'telluride-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: {width: 1280, height: 800},
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const outside = [];  // requests to anything but the daemon
  const posts = [];    // POST /api/config requests
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('request', r => {
      if (!r.url().startsWith(url)) outside.push(r.url());
      if (r.method() === 'POST' && r.url().endsWith('/api/config')) posts.push(r.postData());
    });
    const errors = [];
    page.on('pageerror', e => errors.push(String(e)));
    const started = Date.now();
    await page.goto(url);
    await page.waitForSelector('#state[data-state="live"]', {timeout: 10000});
    console.log(`page live (first snapshot shown) after ${Date.now() - started} ms`);
    // Every state the badge takes, with the banner's text, however briefly it shows. Each
    // snapshot sets the badge again, so only changes count: from the last state logged, or in an
    // empty log from the state shown when it was emptied (restartStateLog).
    await page.evaluate(() => {
      const badge = document.getElementById('state');
      window.stateLog = [];
      window.stateBefore = undefined;
      new MutationObserver(() => {
        const last = stateLog.length ? stateLog[stateLog.length - 1][0] : stateBefore;
        if (last !== badge.dataset.state)
          stateLog.push([badge.dataset.state, document.getElementById('banner').textContent]);
      }).observe(badge, {attributes: true, attributeFilter: ['data-state']});
    });
    const restartStateLog = () => page.evaluate(() => {
      stateLog.length = 0;
      stateBefore = document.getElementById('state').dataset.state;
    });
    const total = async () => Number((await page.textContent('#total')).replace(/,/g, ''));
    const totalReaches = n => page.waitForFunction(
      n => Number(document.getElementById('total').textContent.replace(/,/g, '')) === n, n, {timeout: 15000});

    // The stream's cadence (a snapshot at least every second) is checked by the end-to-end
    // tests; here, that the page follows it while readings flow, with room for a busy host (CI
    // runs the sanitized tests and the fuzzers beside this one). The check sends readings of its
    // own: on a busy host chromium can take longer to start than run.sh's sensors take to finish.
    await check('the total rises within 10 s of readings being sent', async () => {
      const read = async () => Number((await page.textContent('#total')).replace(/,/g, ''));
      const first = await read();
      const sent = publish(100, 200);
      await page.waitForFunction(n => Number(document.getElementById('total').textContent.replace(/,/g, '')) > n,
                                 first, {timeout: 10000});
      assert.ok(await read() > first);
      await sent;
    });

    await check('the graph has one node per stage instance of the running pipeline', async () => {
      const topology = await (await page.request.get(url + 'api/topology')).json();
      const expected = topology.stages.map(s => `${s.node_type}/${s.name}/${s.partition}`).sort();
      // the defaults: 1 producer, 2 processors, batchers one and two with 2 batch processors each
      assert.equal(expected.length, 9);
      await page.waitForFunction(n => document.querySelectorAll('#graph .node').length === n, expected.length);
      const shown = (await page.$$eval('#graph .node', nodes => nodes.map(n => n.dataset.stage))).sort();
      assert.deepEqual(shown, expected);
      const colours = await page.$$eval('#graph .node', nodes => nodes.map(n => n.style.backgroundColor));
      assert.ok(colours.every(c => c.startsWith('rgb(')), 'every node has a workload colour');
    });

    await check('the host CPU shows one bar per core of /proc/stat, each 0..100 %', async () => {
      const cores = fs.readFileSync('/proc/stat', 'utf8').split('\n').filter(l => /^cpu\d/.test(l)).length;
      assert.ok(cores > 0);
      await page.waitForFunction(n => document.querySelectorAll('#cpu .core').length === n, cores, {timeout: 5000});
      const shares = await page.$$eval('#cpu .core .share', spans => spans.map(s => parseInt(s.textContent, 10)));
      assert.equal(shares.length, cores);
      assert.ok(shares.every(p => p >= 0 && p <= 100), `shares ${shares}`);
    });

    await check('sensors: all 20 listed, their readings sum to the total, one found by search shows its exact aggregate', async () => {
      // run.sh publishes 2000 readings of 20 sensors and the first check 100 more: wait until
      // they are all handled and the total stands still (a reading left in the queue by an
      // interrupted earlier run counts too).
      const total = async () => Number((await page.textContent('#total')).replace(/,/g, ''));
      let last = -1;
      for (let i = 0; i < 40 && !(last >= 2000 && last === await total()); ++i) {
        last = await total();
        await page.waitForTimeout(1500);
      }
      assert.ok(last >= 2000, `total ${last}`);
      const all = await (await page.request.get(url + 'api/sensors?limit=100')).json();
      assert.equal(all.matched, 20);
      assert.equal(all.sensors.length, 20);
      assert.equal(all.sensors.reduce((n, s) => n + s.total_reads, 0), last);
      await page.waitForFunction(() => document.querySelectorAll('#sensor-list tr[data-key]').length === 20);
      const target = all.sensors[19];  // the least read
      const key = `${target.line_id}/${target.device_id}/${target.sensor_id}`;
      const exact = await (await page.request.get(url + 'api/sensors/' + key.split('/').map(encodeURIComponent).join('/'))).json();
      await page.fill('#sensor-search', key);
      await page.waitForFunction(k => {
        const rows = [...document.querySelectorAll('#sensor-list tr[data-key]')];
        return rows.length >= 1 && rows.every(r => r.dataset.key.includes(k));
      }, key);
      const row = page.locator(`#sensor-list tr[data-key="${key}"]`);
      assert.equal(await row.locator('[data-field="total_reads"]').textContent(), String(exact.total_reads));
      for (const field of ['mean', 'min', 'max', 'last_reading'])
        assert.equal(Number(await row.locator(`[data-field="${field}"]`).textContent()),
                     Number(exact[field].toPrecision(6)), field);
      await page.fill('#sensor-search', '');
    });

    await check('sorted by alerts, the table shows the daemon\'s sort=alerts order and each row\'s alerts', async () => {
      const asked = page.waitForRequest(r => r.url().includes('/api/sensors?'));
      await page.selectOption('#sensor-sort', 'alerts');
      assert.equal(new URL((await asked).url()).search, '?limit=100&sort=alerts');
      const byAlerts = await (await page.request.get(url + 'api/sensors?limit=100&sort=alerts')).json();
      assert.equal(byAlerts.sensors.length, 20);
      const expected = byAlerts.sensors.map(s => [sensorKeyOf(s), String(s.alerts ?? 0)]);
      await page.waitForFunction(want => JSON.stringify([...document.querySelectorAll('#sensor-list tr[data-key]')]
        .map(r => [r.dataset.key, r.querySelector('[data-field="alerts"]').textContent])) === want,
        JSON.stringify(expected), {timeout: 5000});
      assert.equal(await page.textContent('#sensor-count'), '(20 matched)');
    });

    await check('sorted by readings/s, the page asks for the 500 most read; with the readings done every rate is 0.0', async () => {
      const asked = page.waitForRequest(r => r.url().includes('/api/sensors?'));
      await page.selectOption('#sensor-sort', 'rate');
      assert.equal(new URL((await asked).url()).search, '?limit=500&sort=reads');
      // Each of the 20 was seen by the previous poll with the same total_reads.
      await page.waitForFunction(() => {
        const rates = [...document.querySelectorAll('#sensor-list [data-field="rate"]')].map(c => c.textContent);
        return rates.length === 20 && rates.every(r => r === '0.0');
      }, null, {timeout: 5000});
      assert.equal(await page.textContent('#sensor-count'), '(20 matched)');
    });

    await check('the form is built from /api/config/schema with the current values', async () => {
      const schema = await (await page.request.get(url + 'api/config/schema')).json();
      await page.waitForSelector('#cfg-processor_concurrency');
      const keys = await page.$$eval('#config-fields input', inputs => inputs.map(i => i.name));
      assert.deepEqual(keys, schema.keys.map(k => k.key));
      assert.equal(await page.inputValue('#cfg-processor_concurrency'), '2');
    });

    await check('an invalid value shows the inline error as typed and sends nothing', async () => {
      await page.fill('#token', token);
      await page.fill('#cfg-processor_concurrency', '0');
      assert.equal(await page.textContent('#err-processor_concurrency'),
                   'processor_concurrency must be an integer in 1..1024, got 0');
      assert.equal(await page.getAttribute('#cfg-processor_concurrency', 'aria-invalid'), 'true');
      await page.fill('#cfg-processor_concurrency', '1.5');
      assert.equal(await page.textContent('#err-processor_concurrency'), 'processor_concurrency must be an integer in 1..1024');
      await page.click('#config-submit');
      assert.equal(await page.textContent('#config-answer'), 'fix the fields marked in red; nothing was sent');
      await page.waitForTimeout(300);
      assert.equal(posts.length, 0);
    });

    await check('a wrong token is refused with the daemon\'s answer', async () => {
      await page.fill('#cfg-processor_concurrency', '3');
      assert.equal(await page.textContent('#err-processor_concurrency'), '');
      await page.fill('#token', 'not-the-token');
      await page.click('#config-submit');
      await page.waitForSelector('#config-answer.rejected');
      assert.equal(await page.textContent('#config-answer'), 'refused (401): a valid bearer token is required');
      assert.equal(posts.length, 1);
    });

    await check('a valid change with the token shows config_applied and config version 1', async () => {
      await page.fill('#token', token);
      await page.click('#config-submit');
      await page.waitForSelector('#config-answer.applied', {timeout: 30000});
      assert.match(await page.textContent('#config-answer'), /^config_applied: version 1 \(drained in \d+ ms\)$/);
      assert.deepEqual(JSON.parse(posts[1]), {processor_concurrency: 3});
      await page.waitForFunction(() => document.getElementById('config-version').textContent === '1', null,
                                 {timeout: 5000});
      const current = await (await page.request.get(url + 'api/config')).json();
      assert.equal(current.version, 1);
      assert.equal(current.config.processor_concurrency, 3);
      assert.equal(await page.inputValue('#cfg-processor_concurrency'), '3');
    });

    await check('a value the daemon refuses shows its config_rejected reason, and nothing changes', async () => {
      // A form whose schema is older than the daemon's bounds: loosen the page's copy so the
      // value gets past the inline check and the daemon's own validation answers.
      await page.evaluate(() => { schemaKeys.find(k => k.key === 'producer_concurrency').max = 1000; });
      await page.fill('#cfg-producer_concurrency', '65');
      assert.equal(await page.textContent('#err-producer_concurrency'), '');
      await page.click('#config-submit');
      await page.waitForSelector('#config-answer.rejected');
      assert.equal(await page.textContent('#config-answer'),
                   'config_rejected: producer_concurrency must be an integer in 1..64, got 65');
      assert.deepEqual(JSON.parse(posts[2]), {producer_concurrency: 65});
      const current = await (await page.request.get(url + 'api/config')).json();
      assert.equal(current.version, 1);
      assert.equal(current.config.producer_concurrency, 1);
      await page.fill('#cfg-producer_concurrency', '1');
    });

    await check('the broker taken away: "broker unreachable" within 5 s; back: live, and the readings sent meanwhile are counted', async () => {
      const before = await total();
      await restartStateLog();
      process.kill(Number(process.env.PROXY_PID), 'SIGUSR1');  // cut every connection, refuse new ones
      await page.waitForSelector('#state[data-state="broker"]', {timeout: 5000});
      assert.equal(await page.textContent('#state'), 'broker unreachable');
      assert.equal(await page.textContent('#banner'), 'Not ready: the broker connection is down');
      await publish(200, 2000);  // queued at the broker, which the daemon cannot reach
      assert.equal(await total(), before);
      process.kill(Number(process.env.PROXY_PID), 'SIGUSR2');
      await page.waitForSelector('#state[data-state="live"]', {timeout: 10000});
      await totalReaches(before + 200);
      const log = await page.evaluate(() => stateLog);
      assert.deepEqual(log[0], ['broker', 'Not ready: the broker connection is down']);
      assert.deepEqual(log[log.length - 1], ['live', '']);
      assert.ok(log.every(([state]) => state === 'broker' || state === 'live'), JSON.stringify(log));
    });

    await check('a reconfiguration drains for real: "draining" while the readings it holds go through, then live, version 3, each reading counted once', async () => {
      // Slow the pipeline: 50 readings a second, at most 200 taken from the broker at once.
      await page.fill('#cfg-rate_limit_allowed', '50');
      await page.fill('#cfg-prefetch_count', '200');
      await page.click('#config-submit');
      await page.waitForFunction(() => /^config_applied: version 2 /.test(document.getElementById('config-answer').textContent),
                                 null, {timeout: 15000});
      assert.deepEqual(JSON.parse(posts[3]), {rate_limit_allowed: 50, prefetch_count: 200});
      const before = await total();
      await publish(600, 5000);
      // While they flow at 50 a second, the sensors sorted by readings/s show it, fastest first.
      await page.waitForFunction(() => {
        const rates = [...document.querySelectorAll('#sensor-list [data-field="rate"]')].map(c => Number(c.textContent));
        return rates.length === 20 && rates[0] > 0 && rates.every((r, i) => i === 0 || r <= rates[i - 1]);
      }, null, {timeout: 10000});
      await restartStateLog();
      // Lifting the limit restarts the pipeline: the old one first passes what it holds at 50 a second.
      await page.fill('#cfg-rate_limit_allowed', '0');
      await page.click('#config-submit');
      await page.waitForFunction(() => /^config_applied: version 3 /.test(document.getElementById('config-answer').textContent),
                                 null, {timeout: 20000});
      assert.match(await page.textContent('#config-answer'), /^config_applied: version 3 \(drained in \d+ ms\)$/);
      assert.deepEqual(JSON.parse(posts[4]), {rate_limit_allowed: 0});
      await page.waitForSelector('#state[data-state="live"]', {timeout: 5000});
      await totalReaches(before + 600);
      assert.equal(await page.textContent('#config-version'), '3');
      const log = await page.evaluate(() => stateLog);
      assert.deepEqual(log, [['draining', 'Draining: the pipeline finishes what it took before it restarts or stops.'], ['live', '']]);
    });

    await check('a screenshot at 1280x800', async () => {
      await page.waitForSelector('#state[data-state="live"]', {timeout: 30000});
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({path: path.join(out, 'dashboard.png')});
    });

    await check('at 390x844 the page has no horizontal scroll', async () => {
      await page.setViewportSize({width: 390, height: 844});
      await page.waitForTimeout(300);
      const [scroll, client] = await page.evaluate(() =>
        [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(scroll <= client, `scrollWidth ${scroll} > clientWidth ${client}`);
      await page.screenshot({path: path.join(out, 'dashboard-phone.png'), fullPage: true});
    });

    await check('"not ready" names the reason the snapshot gives (a part down: not caused here)', async () => {
      const shown = await page.evaluate(() => stateOf({status: {ready: false, consuming: true, broker_connected: true,
                                                                reason: 'config handler: stopped (x), restarting'}}));
      assert.deepEqual(shown, ['not-ready', 'not ready']);
    });

    await check('when the daemon stops, the page says it is unreachable', async () => {
      process.kill(Number(process.env.DAEMON_PID), 'SIGTERM');
      await page.waitForSelector('#state[data-state="unreachable"]', {timeout: 15000});
      assert.equal(await page.textContent('#state'), 'daemon unreachable');
      assert.equal(await page.textContent('#banner'), 'The live stream is interrupted; reconnecting…');
    });

    await check('the page asked nothing outside the daemon and threw no error', async () => {
      assert.deepEqual(outside, []);
      assert.deepEqual(errors, []);
    });
  } finally {
    await context.close();
    fs.rmSync(profile, {recursive: true, force: true});
  }
}

main().then(() => console.log('browser test: all checks passed'), e => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
