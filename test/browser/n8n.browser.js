#!/usr/bin/env node
'use strict';
// The n8n editor in a real browser: n8n 2.41.1 (Node 24, server mode) with the packed n8n packages installed into
// its nodes folder (as n8n installs community packages), a BMW CarData
// credential pointed at the simulator holding a refresh token from the package CLI's device login, a workflow run
// from the editor, the VINs in the node's output and a successful connection test in the credential dialog.
// Each step is asserted; screenshots go to docs/images (or --shots DIR).
//
//   node test/browser/n8n.browser.js [--shots DIR] [--keep]
//
// Needs a build (dist/, for the simulator and the CLI), the tarballs of `npm run packages`, Chromium (CHROMIUM_PATH, default /usr/bin/chromium) and the n8n install made by
// test/e2e/n8n-install.sh (BMW_CARDATA_CACHE, default ~/.cache/bmw-cardata). Exits non-zero on any failure.
const fs = require('fs');
const { n8nEnv } = require('../../scripts/n8n-process');
const os = require('os');
const path = require('path');
const { parseArgs } = require('util');
const { chromium } = require('playwright-core');
const { SIM_VINS } = require('../../dist/src/simulator');
const h = require('./harness');
const { installPackages, describeInstall, TYPES } = require('../support/n8n-packages');

const ROOT = path.join(__dirname, '..', '..');
const TIMEOUT_MS = Number(process.env.BROWSER_TIMEOUT_MS || 240_000); // n8n's first start runs its migrations (~1 min)
const CACHE = process.env.BMW_CARDATA_CACHE || path.join(os.homedir(), '.cache', 'bmw-cardata');
const N8N_VERSION = process.env.N8N_VERSION || '2.41.1';
const N8N_DIR = path.join(CACHE, `n8n-${N8N_VERSION}`);
const N8N_BIN = path.join(N8N_DIR, 'node_modules', 'n8n', 'bin', 'n8n');
const NODE24 = path.join(CACHE, 'node24', 'bin', 'node');
const CLIENT_ID = '00000000-0000-4000-8000-000000000000'; // placeholder, as in the examples
const OWNER = { email: 'owner@example.com', firstName: 'Test', lastName: 'Owner', password: 'Browser-test-1' };
const NODE_NAME = 'BMW CarData';
const TRIGGER_NAME = 'When clicking ‘Execute workflow’';

const { values: opts } = parseArgs({
  options: { shots: { type: 'string' }, keep: { type: 'boolean' } },
});
const shotsDir = path.resolve(opts.shots ?? path.join(ROOT, 'docs', 'images'));

async function main(run) {
  h.assert(fs.existsSync(N8N_BIN) && fs.existsSync(NODE24), `n8n ${N8N_VERSION} or Node 24 is not installed under ${CACHE}: run test/e2e/n8n-install.sh`);
  const work = run.tempDir('cardata-n8n-browser-');
  fs.mkdirSync(shotsDir, { recursive: true });

  let sim;
  const tokens = await run.step('the package CLI logs in to the simulator with the device login', async () => {
    sim = await run.simulator(ROOT, { autoApprove: true });
    const out = await run.exec(
      'bmw-cardata login',
      process.execPath,
      [
        path.join(ROOT, 'dist', 'src', 'cli', 'main.js'),
        'login',
        '--client-id',
        CLIENT_ID,
        '--print',
        '--base-url',
        sim.apiBaseUrl,
        '--auth-url',
        sim.authBaseUrl,
        '--config',
        path.join(work, 'account.json'),
      ],
      { timeoutMs: 30_000 },
    );
    // --print writes the token set as JSON to standard output; the link and code go to standard error.
    const json = out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1);
    let parsed;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new h.AssertionError('the login printed no token JSON');
    }
    h.assert(typeof parsed.refreshToken === 'string' && parsed.refreshToken.length > 10, 'the login printed no refresh token');
    h.assert(/POST \/gcdm\/oauth\/device\/code -> 200/.test(sim.log()), 'the simulator saw no device login');
    return parsed;
  });

  const userFolder = path.join(work, 'n8n');
  await run.step("the packed n8n packages are installed into n8n's nodes folder", async () => {
    console.log(`    ${describeInstall(await installPackages(userFolder, N8N_DIR))}`);
  });

  const n8n = await run.step(`n8n ${N8N_VERSION} starts on Node 24 with the BMW CarData packages`, async () => {
    const [port, brokerPort] = [await h.freePort(), await h.freePort()];
    const env = n8nEnv({ nodeBin: NODE24, userFolder, port, brokerPort, extra: { N8N_ENCRYPTION_KEY: 'browser-test-only-key' } });
    const proc = run.spawn('n8n', NODE24, [N8N_BIN, 'start'], { env, cwd: work, group: true });
    const url = `http://127.0.0.1:${port}`;
    await h.waitFor('n8n to open its editor', () => /Editor is now accessible/.test(proc.output()), 150_000, proc);
    h.assert(!/BmwCarData[\s\S]{0,200}(Error|error)/.test(proc.output()), 'n8n logged an error about the BMW CarData nodes');
    return { url, proc };
  });

  const browser = await run.browser(chromium);
  const context = await browser.newContext({ viewport: { width: 1600, height: 900 } }); // wide enough for the output table
  const api = context.request;
  const call = async (method, route, data) => {
    const res = await api.fetch(`${n8n.url}/${route}`, { method, data, headers: { 'browser-id': 'browser-test' } });
    h.assert(res.ok(), `${method} /${route} answered ${res.status()}: ${(await res.text()).slice(0, 300)}`);
    return res.json();
  };
  const rest = async (method, route, data) => (await call(method, `rest/${route}`, data)).data;

  const ids = await run.step('the owner, a credential on the simulator and a workflow are set up through the REST API', async () => {
    await rest('POST', 'owner/setup', OWNER);
    const names = (await call('GET', 'types/nodes.json')).map((t) => t.name);
    h.assert(names.includes(TYPES.bmwCarData) && names.includes(TYPES.bmwCarDataTrigger), 'n8n did not load the BMW CarData nodes from the package');
    const credential = await rest('POST', 'credentials', {
      name: 'BMW CarData (simulator)',
      type: 'bmwCarDataApi',
      data: { clientId: CLIENT_ID, refreshToken: tokens.refreshToken, apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl },
    });
    const workflow = await rest('POST', 'workflows', {
      name: 'BMW CarData vehicles',
      active: false,
      settings: { executionOrder: 'v1' },
      nodes: [
        { id: 'trigger', name: TRIGGER_NAME, type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
        {
          id: 'cardata',
          name: NODE_NAME,
          type: TYPES.bmwCarData,
          typeVersion: 1,
          position: [240, 0],
          parameters: { resource: 'vehicle', operation: 'getAll' },
          credentials: { bmwCarDataApi: { id: credential.id, name: credential.name } },
        },
      ],
      connections: { [TRIGGER_NAME]: { main: [[{ node: NODE_NAME, type: 'main', index: 0 }]] } },
    });
    h.assert(credential.id && workflow.id, 'no ids for the credential or the workflow');
    return { credential: credential.id, workflow: workflow.id };
  });

  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const cardataNode = page.locator(`[data-test-id="canvas-node"][data-node-name="${NODE_NAME}"]`);

  await run.step('sign-in through the editor opens the workflow with the BMW CarData node', async () => {
    await page.goto(`${n8n.url}/signin?redirect=${encodeURIComponent(`/workflow/${ids.workflow}`)}`, { waitUntil: 'domcontentloaded' });
    await page.fill('input[type=email]', OWNER.email);
    await page.fill('input[type=password]', OWNER.password);
    await page.click('button:has-text("Sign in")');
    await cardataNode.waitFor({ timeout: 45_000 });
    h.assert((await cardataNode.getAttribute('data-node-type')) === TYPES.bmwCarData, 'the node on the canvas is not the BMW CarData node');
    await page.getByText('getAll: vehicle').first().waitFor();
  });

  await run.step('Execute workflow runs the node against the simulator: 3 items', async () => {
    sim.clearLog();
    await page.click('[data-test-id="execute-workflow-button"]');
    await page.getByText('Workflow executed successfully').first().waitFor();
    await cardataNode
      .locator('xpath=..')
      .getByText(/^\s*3 items\s*$/)
      .first()
      .waitFor(); // the label on the node's output
    const log = sim.log();
    h.assert(/POST \/gcdm\/oauth\/token -> 200/.test(log), 'n8n did not refresh the access token with the stored refresh token');
    h.assert(/GET \/customers\/vehicles\/mappings -> 200/.test(log), 'the simulator saw no mappings call');
  });

  await run.step("the node's output lists the VINs", async () => {
    await cardataNode.dblclick();
    const output = page.locator('[data-test-id="output-panel"]');
    await output.waitFor();
    await h.waitForText(page, '[data-test-id="output-panel"]', new RegExp(`${SIM_VINS.bev}[\\s\\S]*${SIM_VINS.phev}[\\s\\S]*${SIM_VINS.secondary}`));
    const text = await output.textContent();
    h.assert(/3 items/.test(text), 'the output panel does not say 3 items');
    h.assert(text.includes('PRIMARY') && text.includes('SECONDARY'), 'the mapping types are not shown');
    await page.mouse.move(5, 5);
    const ndv = await page.locator('[data-test-id="ndv"] .el-dialog, [data-test-id="ndv"]').first().boundingBox();
    const table = await output.locator('table').first().boundingBox();
    h.assert(ndv && table, 'the node view or its output table is not on screen');
    await page.screenshot({
      path: path.join(shotsDir, 'n8n-node.png'),
      clip: { x: ndv.x, y: ndv.y, width: ndv.width, height: table.y + table.height + 24 - ndv.y },
    });
  });

  await run.step('the credential dialog tests the connection successfully, at no CarData call', async () => {
    const before = sim.log().length;
    await page.click('[data-test-id="credential-edit-button"]');
    const modal = page.locator('[data-test-id="editCredential-modal"]');
    await modal.waitFor();
    await h.waitForText(page, '[data-test-id="credentials-config-container-test-success"]', /Connection tested successfully/, 30_000);
    h.assert((await modal.locator('[data-test-id="apiBaseUrl"] input').inputValue()) === sim.apiBaseUrl, 'the dialog does not show the simulator URL');
    h.assert((await modal.locator('[data-test-id="clientId"] input').getAttribute('type')) === 'password', 'the client ID is not masked');
    // The banner's Retry button spins while a test runs. The workflow renewed the login minutes ago, so the test's
    // check goes to the login service as it is (a GET of the token address) and asks the CarData API nothing.
    await modal.locator('[data-test-id="credentials-config-container-test-success"] button span', { hasText: 'Retry' }).waitFor();
    const during = sim.log().slice(before);
    h.assert(/GET \/gcdm\/oauth\/token -> 405/.test(during), `the connection test did not reach the login service: ${during}`);
    h.assert(!/\/customers\//.test(during), `the connection test spent a CarData call: ${during}`);
    await page.mouse.move(5, 5);
    await h.waitFor(
      'the dialog to stop animating',
      () => modal.evaluate((el) => el.getAnimations({ subtree: true }).every((a) => a.playState !== 'running')),
      5000,
    );
    const box = await modal.boundingBox();
    const lastField = await modal.locator('[data-test-id="refreshToken"]').boundingBox();
    h.assert(box && lastField, 'the credential dialog is not on screen');
    await page.screenshot({
      path: path.join(shotsDir, 'n8n-credential.png'),
      clip: { ...box, height: Math.min(box.height, lastField.y + lastField.height + 24 - box.y) },
    });
  });
}

h.runTest({ name: 'browser', timeoutMs: TIMEOUT_MS, keep: !!opts.keep }, main);
