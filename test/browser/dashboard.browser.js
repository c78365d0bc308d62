#!/usr/bin/env node
'use strict';
/* global document, getComputedStyle */ // inside page.evaluate()
// The example "Car dashboard" in a real browser, as `npm start` shows it: the sandbox started in a fresh state folder
// installs FlowFuse Dashboard 2 from the npm registry and deploys the example; /dashboard shows the simulator's car
// from its stream (state of charge, charging, a finished session in the table), in the light theme and, after a
// deploy of the page with the example's Dark theme, in the dark one. Screenshots go to docs/images (or --shots DIR).
//
//   node test/browser/dashboard.browser.js [--shots DIR] [--keep]
//
// Needs the npm registry (for Dashboard 2) and Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');
const { chromium } = require('playwright-core');
const h = require('./harness');

const ROOT = path.join(__dirname, '..', '..');
const TIMEOUT_MS = Number(process.env.BROWSER_TIMEOUT_MS || 270_000);
const { DASHBOARD } = require('../../scripts/sandbox');

const { values: opts } = parseArgs({
  options: { shots: { type: 'string' }, keep: { type: 'boolean' } },
});
const shotsDir = path.resolve(opts.shots ?? path.join(ROOT, 'docs', 'images'));

/** What the simulator's charging story sends (the sandbox plays it first, once the flows connect). */
function chargingStory() {
  const { scenarioSteps, initialCarState } = require('../../dist/src/simulator/broker-scenarios');
  const car = initialCarState();
  const steps = scenarioSteps('charging', car);
  const soc = steps.map((s) => s['vehicle.drivetrain.batteryManagement.header']).filter((v) => v !== undefined);
  const powers = steps
    .map((s) => s['vehicle.powertrain.electric.battery.charging.power'])
    .filter((v) => v !== undefined)
    .map((w) => w / 1000);
  const kwh = Math.round(((soc.at(-1) - soc[0]) / 100) * car.capacityKwh * 100) / 100;
  return { soc, powers, kwh, startSoc: soc[0], endSoc: soc.at(-1) };
}

/** A widget of the example's page, by the id it has in the example (the sandbox prefixes it with its tab). */
const widget = (id) => `[id^="nrdb-ui-widget-"][id$="-${id}"]`;

/** The state of charge the gauge shows. */
async function gaugeSoc(page) {
  const text = ((await page.locator(`${widget('dash-soc')} .nrdb-ui-gauge-value`).textContent({ timeout: 2000 })) || '').trim();
  const m = /^(\d+)%$/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The value a text widget shows, after its label. */
async function textValue(page, id, label) {
  const shown = (await page.locator(`${widget(id)} .nrdb-ui-text-label`).textContent({ timeout: 2000 })) || '';
  h.assert(shown.trim() === label, `the widget ${id} is labelled "${shown}", not "${label}"`);
  return ((await page.locator(`${widget(id)} .nrdb-ui-text-value`).textContent({ timeout: 2000 })) || '').trim();
}

/** The relative luminance (0 dark … 1 light) of the page's background. */
async function background(page) {
  const rgb = await page.evaluate(() => getComputedStyle(document.querySelector('.v-application') || document.body).backgroundColor);
  const [r, g, b] = (rgb.match(/\d+/g) || []).map(Number);
  return { rgb, luminance: (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 };
}

async function main(run) {
  const work = run.tempDir('cardata-dashboard-browser-');
  const dir = path.join(work, 'sandbox');
  fs.mkdirSync(shotsDir, { recursive: true });
  const story = chargingStory();

  const sandbox = await run.step(`npm start in a fresh state folder installs Dashboard 2 (${DASHBOARD.version}) and says where the dashboard is`, async () => {
    // The simulator takes three ports in a row (API, stream, local broker): a free first one may have a taken neighbour.
    for (let attempt = 1; ; attempt++) {
      const port = await h.freePort();
      const simPort = await h.freePort();
      const started = Date.now();
      const proc = run.spawn(
        'sandbox',
        process.execPath,
        [path.join(ROOT, 'scripts', 'sandbox.js'), '--dir', dir, '--port', String(port), '--sim-port', String(simPort)],
        { cwd: ROOT, group: true },
      );
      // The install from the registry takes 20 s to a minute on a cold cache; the sandbox gives up after 4 minutes.
      await h.waitFor('the sandbox to start', () => /is running|Pick another one|could not start/.test(proc.output()) || proc.exited(), 200_000);
      const out = proc.output();
      if (/Pick another one/.test(out) && attempt < 3) {
        await h.waitFor('the sandbox to give up', () => proc.exited(), 10_000);
        continue;
      }
      h.assert(/is running/.test(out), `the sandbox did not start:\n${out.slice(-1500)}`);
      const editor = `http://127.0.0.1:${port}`;
      h.assert(
        out.includes(`Dashboard         ${editor}/dashboard  (the tab "${DASHBOARD.example}", FlowFuse Dashboard 2 ${DASHBOARD.version})`),
        `the printout does not name the dashboard:\n${out}`,
      );
      const installed = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', DASHBOARD.name, 'package.json'), 'utf8'));
      h.assert(installed.version === DASHBOARD.version, `Dashboard 2 ${installed.version} installed, not ${DASHBOARD.version}`);
      console.log(`    started in ${((Date.now() - started) / 1000).toFixed(1)} s, Dashboard 2 installed into a fresh folder`);
      return { editor, proc };
    }
  });

  const browser = await run.browser(chromium);
  const page = await browser.newPage({ viewport: { width: 1100, height: 950 } });
  page.setDefaultTimeout(20_000);

  await run.step("/dashboard shows the simulator's car from its stream: state of charge, charging and its power, target, quota", async () => {
    await page.goto(`${sandbox.editor}/dashboard`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector(widget('dash-soc'), { timeout: 45_000 });
    // The stream's story starts a second after the flows connect, with the car plugged in and charging.
    let charging = '';
    await h.waitFor(
      'the charging story on the dashboard',
      async () => {
        charging = await textValue(page, 'dash-charging', 'Charging');
        return /^charging · /.test(charging);
      },
      60_000,
      sandbox.proc,
    );
    const soc = await gaugeSoc(page);
    h.assert(story.soc.includes(soc), `the gauge shows ${soc} %, not a state of charge of the story (${story.soc.join(', ')})`);
    const kw = Number(/· ([\d.]+) kW$/.exec(charging)?.[1]);
    h.assert(story.powers.includes(kw), `the charging power ${charging} is not one the story sent (${story.powers.join(', ')} kW)`);
    const { SIM_VINS } = require('../../dist/src/simulator');
    await h.waitForText(page, widget('dash-picker'), new RegExp(SIM_VINS.bev));
    h.assert((await textValue(page, 'dash-target', 'Target')) === `${story.endSoc} %`, 'the target is not shown');
    h.assert((await textValue(page, 'dash-plugged', 'Plugged in')) === 'yes', 'not shown as plugged in');
    h.assert((await textValue(page, 'dash-quota', 'Quota left today')) === '50 of 50 calls', 'the quota left is not the whole day: the dashboard spent a call');
  });

  await run.step('the finished charge is a session in the table, with its kWh; the gauge shows the end of the charge (light theme)', async () => {
    // The charge takes about 9 steps of 5 s after it started; the sandbox sends its finish at once (no late readings).
    await h.waitForText(page, widget('dash-sessions'), new RegExp(`${story.startSoc} → ${story.endSoc} %`), 90_000);
    const table = await page.locator(widget('dash-sessions')).textContent();
    h.assert(table.includes(`${story.kwh} (est.)`), `the session does not show ${story.kwh} kWh: ${table}`);
    h.assert((await gaugeSoc(page)) >= story.endSoc - 1, 'the gauge does not show the charged battery');
    const bg = await background(page);
    h.assert(bg.luminance > 0.8, `the light theme has a dark background (${bg.rgb})`);
    await page.waitForTimeout(1000); // the chart's bar grows in an animation
    await page.screenshot({ path: path.join(shotsDir, 'nodered-dashboard.png') });
  });

  await run.step('with the Dark theme deployed on the page, the dashboard turns dark and shows the car again', async () => {
    // What the editor's Deploy sends after the page's theme is switched to "Dark": the flows, modified nodes only.
    const headers = { 'Node-RED-API-Version': 'v2', 'Content-Type': 'application/json' };
    const { rev, flows } = await (await fetch(`${sandbox.editor}/flows`, { headers })).json();
    const pageNode = flows.find((n) => n.type === 'ui-page');
    const dark = flows.find((n) => n.type === 'ui-theme' && n.name === 'Dark');
    h.assert(pageNode && dark, 'the example has no page or no Dark theme');
    pageNode.theme = dark.id;
    const res = await fetch(`${sandbox.editor}/flows`, {
      method: 'POST',
      headers: { ...headers, 'Node-RED-Deployment-Type': 'nodes' },
      body: JSON.stringify({ rev, flows }),
    });
    h.assert(res.ok, `the deploy failed: ${res.status}`);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await h.waitFor('the dark background', async () => (await background(page)).luminance < 0.2, 30_000);
    await h.waitForText(page, widget('dash-sessions'), new RegExp(`${story.startSoc} → ${story.endSoc} %`), 30_000);
    h.assert(story.soc.includes(await gaugeSoc(page)) || (await gaugeSoc(page)) === story.endSoc - 1, 'the gauge is empty after the deploy');
    await page.waitForTimeout(1000);
    await page.screenshot({ path: path.join(shotsDir, 'nodered-dashboard-dark.png') });
  });

  await run.step('Node-RED logged no error', async () => {
    const log = fs.readFileSync(path.join(dir, 'node-red.log'), 'utf8');
    h.assert(
      !/\[error\]/.test(log),
      `Node-RED logged an error:\n${log
        .split('\n')
        .filter((l) => /\[error\]/.test(l))
        .join('\n')}`,
    );
  });
}

h.runTest({ name: 'dashboard.browser', timeoutMs: TIMEOUT_MS, keep: opts.keep }, main);
