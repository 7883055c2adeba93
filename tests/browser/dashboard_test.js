// dashboard_test.js — the dashboard in a real browser (Debian's chromium, headless, driven by
// playwright-core; no browser download). Run by run.sh, which starts the daemon and the sensors
// and sets DASHBOARD_URL, DASHBOARD_TOKEN and DASHBOARD_OUT. Exits 1 at the first failed check.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {chromium} = require('playwright-core');

const url = process.env.DASHBOARD_URL;
const token = process.env.DASHBOARD_TOKEN;
const out = process.env.DASHBOARD_OUT;

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

    await check('the total rises within 3 s', async () => {
      const read = async () => Number((await page.textContent('#total')).replace(/,/g, ''));
      const first = await read();
      await page.waitForFunction(n => Number(document.getElementById('total').textContent.replace(/,/g, '')) > n,
                                 first, {timeout: 3000});
      assert.ok(await read() > first);
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
      // run.sh publishes 2000 readings of 20 sensors: wait until they are all handled and the
      // total stands still (a reading left in the queue by an interrupted earlier run counts too).
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

    await check('the badge and banner name each state the snapshot reports', async () => {
      const shown = await page.evaluate(() => {
        const status = (ready, reason, consuming, broker_connected) => ({ready, reason, consuming, broker_connected});
        return [
          stateOf({status: status(true, null, true, true)}),
          stateOf({status: status(false, 'the readings pipeline is restarting', false, true)}),
          stateOf({status: status(false, 'the broker connection is down', true, false)}),
          stateOf({status: status(false, 'config handler: stopped (x), restarting', true, true)}),
        ];
      });
      assert.deepEqual(shown, [['live', 'live'], ['draining', 'draining'], ['broker', 'broker unreachable'],
                               ['not-ready', 'not ready']]);
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
