#!/usr/bin/env node
'use strict';
/* global window */ // inside page.evaluate()
// The Node-RED editor in a real browser: the packed package installed into a fresh Node-RED, the account authorized
// through its Authorize button against the simulator's approval page, a deploy, an inject, and the VINs in the debug
// sidebar. Each step is asserted; screenshots of the main steps go to docs/images (or --shots DIR).
//
//   node test/browser/nodered.browser.js [--shots DIR] [--keep]
//
// Needs a build (dist/) and Chromium (CHROMIUM_PATH, default /usr/bin/chromium). Exits non-zero on any failure.
const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');
const { chromium } = require('playwright-core');
const { SIM_VINS } = require('../../dist/src/simulator');
const h = require('./harness');
const { EDITOR_HEADERS } = require('../support/nodered-runtime');

const ROOT = path.join(__dirname, '..', '..');
// The package a Node-RED user installs, as `npm run packages` builds it (build/<name>/).
const PACKAGE = 'node-red-contrib-bmw-cardata';
const TIMEOUT_MS = Number(process.env.BROWSER_TIMEOUT_MS || 180_000);
const CLIENT_ID = '00000000-0000-4000-8000-000000000000'; // placeholder, as in the example flows
const ACCOUNT_ID = 'cardata-account';

const { values: opts } = parseArgs({
  options: { shots: { type: 'string' }, keep: { type: 'boolean' } },
});
const shotsDir = path.resolve(opts.shots ?? path.join(ROOT, 'docs', 'images'));

function flows(simUrl) {
  return [
    { id: 'tab-cardata', type: 'tab', label: 'BMW CarData', disabled: false, info: '' },
    { id: ACCOUNT_ID, type: 'bmw-cardata-account', name: '', apiBaseUrl: simUrl, authBaseUrl: `${simUrl}/gcdm`, dailyQuota: 50 },
    {
      id: 'inject-vehicles',
      type: 'inject',
      z: 'tab-cardata',
      name: 'list vehicles',
      props: [{ p: 'payload' }],
      repeat: '',
      crontab: '',
      once: false,
      onceDelay: 0.1,
      topic: '',
      payload: '',
      payloadType: 'date',
      x: 150,
      y: 100,
      wires: [['vehicles']],
    },
    { id: 'vehicles', type: 'bmw-cardata-vehicles', z: 'tab-cardata', name: '', account: ACCOUNT_ID, x: 360, y: 100, wires: [['debug-vins']] },
    // On a tab of its own, so the screenshots of the first tab stay as they are.
    { id: 'tab-more', type: 'tab', label: 'More', disabled: false, info: '' },
    { id: 'basic-data', type: 'bmw-cardata-basic-data', z: 'tab-more', name: '', account: ACCOUNT_ID, vin: '', x: 360, y: 180, wires: [[]] },
    {
      id: 'debug-vins',
      type: 'debug',
      z: 'tab-cardata',
      name: 'VINs',
      active: true,
      tosidebar: true,
      console: false,
      tostatus: false,
      complete: 'payload',
      targetType: 'msg',
      statusVal: '',
      statusType: 'auto',
      x: 560,
      y: 100,
      wires: [],
    },
  ];
}

/** The open edit dialog from its title down to `lastRow`, for a compact screenshot. */
async function dialogClip(page, lastRow) {
  const tray = await page.locator('.red-ui-tray').last().boundingBox();
  const row = await page.locator(lastRow).boundingBox();
  h.assert(tray && row, `${lastRow} is not on screen`);
  return { x: tray.x, y: tray.y, width: tray.width, height: row.y + row.height + 24 - tray.y };
}

/** Closes the editor's notifications (they would cover the flow in screenshots). */
async function closeNotifications(page) {
  await h.waitFor(
    'the notifications to close',
    async () => {
      const open = page.locator('.red-ui-notification:visible');
      if ((await open.count()) === 0) return true;
      await open
        .first()
        .click({ timeout: 1000 })
        .catch(() => {});
      return false;
    },
    10_000,
  );
}

async function main(run) {
  const work = run.tempDir('cardata-nr-browser-');
  const userDir = path.join(work, 'user');
  fs.mkdirSync(userDir);
  fs.mkdirSync(shotsDir, { recursive: true });

  await run.step('the packed package installs into a fresh Node-RED user directory', async () => {
    await run.exec('scripts/packages.js', process.execPath, [path.join(ROOT, 'scripts', 'packages.js'), '--no-pack'], { cwd: ROOT });
    const tgz = await run.pack(path.join(ROOT, 'build', PACKAGE), work);
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-user', private: true }));
    await run.npmInstall(userDir, tgz);
    const installed = path.join(userDir, 'node_modules', PACKAGE);
    for (const file of [
      'dist/src/node-red/bmw-cardata-account.html',
      'dist/src/node-red/bmw-cardata-vehicles.js',
      'dist/src/node-red/locales/en-US/bmw-cardata-vehicles.html',
      'resources/bmw-cardata-editor.js',
    ]) {
      h.assert(fs.existsSync(path.join(installed, file)), `${file} is missing from the installed package`);
    }
  });

  let sim;
  const nodeRed = await run.step('the simulator and Node-RED start; Node-RED loads the BMW CarData nodes', async () => {
    sim = await run.simulator(ROOT);
    const port = await h.freePort();
    fs.writeFileSync(
      path.join(userDir, 'settings.js'),
      `module.exports = ${JSON.stringify(
        {
          uiHost: '127.0.0.1',
          uiPort: port,
          flowFile: 'flows.json',
          credentialSecret: false,
          telemetry: { enabled: false },
          editorTheme: { tours: false, palette: { catalogues: [] } },
          logging: { console: { level: 'info' } },
        },
        null,
        2,
      )};\n`,
    );
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows(sim.url), null, 2));
    // A placeholder client ID and no tokens: the account starts unauthorized.
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ [ACCOUNT_ID]: { clientId: CLIENT_ID } }, null, 2));
    const redJs = process.env.NODE_RED_PATH ? path.join(process.env.NODE_RED_PATH, 'red.js') : require.resolve('node-red/red.js', { paths: [ROOT] });
    const proc = run.spawn('node-red', process.execPath, [redJs, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')]);
    const url = `http://127.0.0.1:${port}`;
    await h.waitFor('Node-RED to start its flows', async () => /Started flows/.test(proc.output()) && (await fetch(url)).ok, 60_000, proc);
    const res = await fetch(`${url}/nodes`, { headers: { accept: 'application/json' } });
    const sets = (await res.json()).filter((s) => s.module === PACKAGE);
    const types = sets.flatMap((s) => (s.enabled && !s.err ? s.types : []));
    h.assert(
      types.includes('bmw-cardata-account') && types.includes('bmw-cardata-vehicles'),
      `node types not loaded: ${JSON.stringify(sets.map((s) => s.err || s.types))}`,
    );
    h.assert(!/\[error\]/.test(proc.output()), 'Node-RED logged an error while starting');
    return { url, proc };
  });

  const browser = await run.browser(chromium);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(20_000);

  await run.step('the editor shows the flow: inject, BMW vehicles, debug', async () => {
    await page.goto(nodeRed.url, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.RED && window.RED.nodes && window.RED.nodes.node('vehicles'), null, { timeout: 45_000 });
    for (const [id, label] of [
      ['inject-vehicles', 'list vehicles'],
      ['vehicles', 'BMW vehicles'],
      ['debug-vins', 'VINs'],
    ]) {
      const text = await page.locator(`g[id="${id}"] .red-ui-flow-node-label`).textContent();
      h.assert(text && text.includes(label), `node ${id} shows "${text}", expected "${label}"`);
    }
  });

  await run.step('the account dialog opens from the node and says "not authorized"', async () => {
    await page.dblclick('g[id="vehicles"] rect.red-ui-flow-node');
    await page.click('#node-input-btn-account-edit');
    await page.waitForSelector('#node-config-bmw-cardata-authorize', { state: 'visible' });
    await h.waitForText(page, '.red-ui-tray:last-child .red-ui-tray-titlebar', /Edit BMW CarData account node/);
    // The client ID is a secret: the field is masked and holds Node-RED's placeholder, not the ID.
    h.assert((await page.getAttribute('#node-config-input-clientId', 'type')) === 'password', 'the client ID is not masked');
    h.assert((await page.inputValue('#node-config-input-clientId')) === '__PWRD__', 'the dialog holds the client ID itself');
    h.assert((await page.inputValue('#node-config-input-authBaseUrl')) === sim.authBaseUrl, 'the dialog does not show the auth base URL');
    await h.waitForText(page, '#bmw-cardata-account-state', /not authorized/);
  });

  let link;
  let userCode;
  await run.step('Authorize shows the user code, the approval link and a countdown', async () => {
    await page.fill('#node-config-input-name', 'Simulator');
    await page.click('#node-config-bmw-cardata-authorize');
    await page.waitForSelector('#bmw-cardata-account-login', { state: 'visible' });
    userCode = (await page.textContent('#bmw-cardata-account-code')).trim();
    link = await page.getAttribute('#bmw-cardata-account-link', 'href');
    h.assert(/^[A-Z0-9-]{4,12}$/.test(userCode), `no user code in the dialog: "${userCode}"`);
    h.assert(link === `${sim.authBaseUrl}/oneid/link?user_code=${encodeURIComponent(userCode)}`, `unexpected approval link ${link}`);
    h.assert(/oneid\/link/.test(await page.textContent('#bmw-cardata-account-link')), 'the link text is not the approval page');
    await h.waitForText(page, '#bmw-cardata-account-countdown', /code expires in \d+:\d\d/);
    h.assert(await page.isVisible('#node-config-bmw-cardata-cancel'), 'no Cancel button while waiting');
    await page.screenshot({ path: path.join(shotsDir, 'nodered-authorize.png'), clip: await dialogClip(page, '#bmw-cardata-account-login') });
  });

  await run.step('the approval page shows the code and approves it', async () => {
    const approval = await browser.newPage({ viewport: { width: 900, height: 640 } });
    await approval.goto(link, { waitUntil: 'domcontentloaded' });
    h.assert((await approval.textContent('body')).includes(userCode), 'the approval page does not show the user code');
    await approval.screenshot({ path: path.join(shotsDir, 'simulator-approve.png') });
    await approval.click('#approve');
    await h.waitForText(approval, 'body', /Access approved/);
    await approval.close();
  });

  await run.step('the dialog turns to "Authorized" on its own', async () => {
    await h.waitForText(page, '#bmw-cardata-account-message', /Authorized as \S+/, 20_000);
    await h.waitForText(page, '#bmw-cardata-account-state', /connected as/);
    h.assert(!(await page.isVisible('#bmw-cardata-account-login')), 'the code is still shown after success');
    await page.screenshot({ path: path.join(shotsDir, 'nodered-authorized.png'), clip: await dialogClip(page, '#bmw-cardata-account-message') });
  });

  await run.step('Authorize again and Cancel: the editor posts JSON, and the runtime stops the login', async () => {
    const status = async () => (await fetch(`${nodeRed.url}/bmw-cardata/${ACCOUNT_ID}/auth/status`, { headers: EDITOR_HEADERS })).json();
    await page.click('#node-config-bmw-cardata-authorize');
    await page.waitForSelector('#bmw-cardata-account-login', { state: 'visible' });
    h.assert((await status()).status === 'pending', 'the second login did not start');
    await page.click('#node-config-bmw-cardata-cancel');
    await h.waitForText(page, '#bmw-cardata-account-message', /Authorization cancelled/);
    await h.waitFor('the runtime to drop the cancelled login', async () => (await status()).status === 'none', 10_000);
  });

  await run.step('a login link that is not an http(s) address is not shown as a link', async () => {
    // The runtime refuses such a link itself; here the editor meets one anyway, from a hostile answer.
    const cancels = [];
    await page.route('**/auth/cancel', (route) => {
      cancels.push(route.request().headers());
      return route.continue();
    });
    await page.route('**/auth/start', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          status: 'pending',
          userCode: 'EVIL-1',
          verificationUri: 'javascript:alert(1)',
          verificationUriComplete: 'javascript:alert(1)',
          interval: 5,
          expiresAt: new Date(Date.now() + 300_000).toISOString(),
        }),
      }),
    );
    await page.click('#node-config-bmw-cardata-authorize');
    await h.waitForText(page, '#bmw-cardata-account-message', /not a web address/);
    h.assert(!(await page.isVisible('#bmw-cardata-account-login')), 'the login box is shown');
    const href = (await page.getAttribute('#bmw-cardata-account-link', 'href')) || '';
    h.assert(!/^\s*javascript:/i.test(href), `the link was set to ${href}`);
    h.assert(!(await page.isDisabled('#node-config-bmw-cardata-authorize')), 'Authorize stays disabled');
    await h.waitFor('the editor to cancel the refused login', () => cancels.length === 1, 5000);
    h.assert(/^application\/json/.test(cancels[0]['content-type']), `the cancel was posted as ${cancels[0]['content-type']}`);
    for (const [name, value] of Object.entries(EDITOR_HEADERS)) h.assert(cancels[0][name.toLowerCase()] === value, `the cancel was sent without ${name}`);
    await page.unroute('**/auth/start');
    await page.unroute('**/auth/cancel');
  });

  await run.step('Done and Deploy save the authorized account', async () => {
    await page.click('#node-config-dialog-ok');
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#red-ui-header-button-deploy:not(.disabled)');
    await page.click('#red-ui-header-button-deploy');
    await page.waitForSelector('#red-ui-header-button-deploy.disabled');
    await page.locator('.red-ui-notification', { hasText: 'Successfully deployed' }).waitFor();
    await closeNotifications(page);
    // Tokens are never printed: only their presence is checked.
    await h.waitFor(
      'the deploy to save the named account and its tokens',
      () => {
        const saved = JSON.parse(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8'));
        const creds = JSON.parse(fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8'))[ACCOUNT_ID] || {};
        return saved.some((n) => n.id === ACCOUNT_ID && n.name === 'Simulator') && creds.clientId === CLIENT_ID && !!creds.refreshToken && !!creds.accessToken;
      },
      10_000,
    );
  });

  await run.step('the inject button runs the flow: one mappings call, status shows the quota', async () => {
    sim.clearLog();
    await page.click('g[id="inject-vehicles"] .red-ui-flow-node-button');
    await page.locator('.red-ui-notification', { hasText: 'Successfully injected: list vehicles' }).waitFor();
    await h.waitForText(page, 'g[id="vehicles"] .red-ui-flow-node-status-label', /3 vehicles · 49\/50 left/, 20_000);
    await closeNotifications(page);
    await h.waitFor('the simulator to answer the mappings call', () => /GET \/customers\/vehicles\/mappings -> 200/.test(sim.log()), 10_000);
    await page.mouse.click(900, 600); // nothing selected: the flow as it is
    await page.locator('#red-ui-palette-search input').pressSequentially('bmw'); // the palette shows the package's nodes
    await h.waitFor('the palette to show only the BMW CarData nodes', async () => {
      const types = await page
        .locator('#red-ui-palette .red-ui-palette-node:visible')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-palette-type')));
      const headers = await page.locator('#red-ui-palette .red-ui-palette-header:visible').allTextContents();
      h.assert(types.length >= 8 && types.every((t) => t.startsWith('bmw-cardata-')), `palette shows ${types.join(', ')}`);
      h.assert(headers.join('|') === 'BMW CarData', `palette categories shown: ${headers.join(', ')}`);
      return true;
    });
    await page.evaluate(() => window.$('#red-ui-workspace-chart').scrollTop(0).scrollLeft(0));
    const clip = await h.unionBox(page, ['#red-ui-palette', 'g[id="debug-vins"]']);
    const lastPaletteNode = await page.locator('#red-ui-palette .red-ui-palette-node:visible').last().boundingBox();
    await page.screenshot({
      path: path.join(shotsDir, 'nodered-flow.png'),
      clip: { ...clip, width: clip.width + 120, height: lastPaletteNode.y + lastPaletteNode.height + 20 - clip.y },
    });
  });

  await run.step('the debug sidebar shows the VINs', async () => {
    await page.evaluate(() => window.RED.sidebar.show('debug')); // the sidebar's tab buttons differ in Node-RED 5
    const msg = page.locator('#red-ui-sidebar .red-ui-debug-msg').last();
    await msg.waitFor({ state: 'visible' });
    h.assert(/array\[\d+\]/.test(await msg.textContent()), 'the debug message is not the array of vehicles');
    // Expand the array and each vehicle so the VINs are on screen.
    for (let i = 0; i < 10; i++) {
      const collapsed = msg.locator('.red-ui-debug-msg-element.collapsed > .red-ui-debug-msg-expandable');
      if ((await collapsed.count()) === 0) break;
      await collapsed.first().click();
    }
    await h.waitForText(
      page,
      '#red-ui-sidebar .red-ui-debug-msg:last-child',
      new RegExp(`${SIM_VINS.bev}[\\s\\S]*${SIM_VINS.phev}|${SIM_VINS.phev}[\\s\\S]*${SIM_VINS.bev}`),
    );
    const text = await msg.textContent();
    h.assert(text.includes('PRIMARY'), 'the mapping type is not shown');
    h.assert(text.includes('debug-vins') || text.includes('VINs'), 'the message is not from the VINs debug node');
    await page.mouse.move(700, 600);
    await closeNotifications(page);
    const box = await h.unionBox(page, ['#red-ui-workspace', '#red-ui-sidebar']);
    const msgBox = await msg.boundingBox();
    await page.screenshot({
      path: path.join(shotsDir, 'nodered-output.png'),
      clip: { ...box, height: Math.min(box.height, msgBox.y + msgBox.height + 40 - box.y) },
    });
  });

  await run.step('an action dialog has the shared rows, a VIN picker with the listed vehicles, and its help', async () => {
    await page.evaluate(() => window.RED.editor.edit(window.RED.nodes.node('basic-data')));
    await page.waitForSelector('#node-input-account', { state: 'attached' });
    const labels = await page.locator('.red-ui-tray:last-child form label').allTextContents();
    for (const text of ['Account', 'VIN', 'Name'])
      h.assert(
        labels.some((l) => l.trim() === text),
        `no "${text}" row: ${labels.join(' | ')}`,
      );
    // The shared rows in the template's order, the VIN picker right below the VIN.
    const rows = await page.evaluate(() =>
      window
        .$('.red-ui-tray:last-child #dialog-form > .form-row')
        .map((_, row) => row.querySelector('[id^="node-input-"]')?.id || (row.classList.contains('bmw-cardata-vin-picker') ? 'picker' : ''))
        .get(),
    );
    h.assert(
      JSON.stringify(rows) === JSON.stringify(['node-input-account', 'node-input-vin', 'picker', 'node-input-cacheMaxAge', 'node-input-name']),
      `rows: ${rows.join(' | ')}`,
    );
    await h.waitFor(
      'the VIN picker to list the vehicles',
      async () => (await page.locator('.bmw-cardata-vin-picker option').allTextContents()).some((o) => o.includes(SIM_VINS.bev)),
      10_000,
    );
    await page.selectOption('.bmw-cardata-vin-picker select', SIM_VINS.bev);
    h.assert((await page.inputValue('#node-input-vin')) === SIM_VINS.bev, 'picking a vehicle does not fill the VIN');
    const help = await page.evaluate(() => window.$('script[data-help-name="bmw-cardata-basic-data"]').html() || '');
    h.assert(/Reads the basic data of a vehicle/.test(help), 'the help of the node is missing');
    await page.click('#node-dialog-cancel');
  });
}

h.runTest({ name: 'browser', timeoutMs: TIMEOUT_MS, keep: !!opts.keep, root: ROOT }, main);
