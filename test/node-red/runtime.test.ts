// The package in a real Node-RED process with adminAuth: the admin routes refuse callers without the
// permission (the test helper stubs the permission check), and the module, editor files and catalogs load.
import assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startSimulator } from '../../src/simulator';
import { startNodeRed, MODULE, EDITOR_HEADERS } from '../support/nodered-runtime';
import nodeRedPackage from '../../packages/node-red-contrib-bmw-cardata/package.json';

describe('Node-RED runtime with adminAuth', function () {
  this.timeout(60_000);
  let sim;
  let red;
  let adminToken;
  let viewerToken;

  before(async () => {
    sim = await startSimulator({ autoApprove: true, pollIntervalSec: 0 });
    red = await startNodeRed({
      users: [
        { username: 'admin', password: 'admin-pass', permissions: '*' },
        { username: 'viewer', password: 'viewer-pass', permissions: 'read' },
      ],
      flows: [
        { id: 'tab', type: 'tab', label: 'BMW' },
        { id: 'acc', type: 'bmw-cardata-account', name: 'sim', apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, dailyQuota: 50 },
        { id: 'inj', z: 'tab', type: 'inject', props: [{ p: 'payload' }], payloadType: 'date', repeat: '', once: false, x: 100, y: 40, wires: [['v']] },
        { id: 'v', z: 'tab', type: 'bmw-cardata-vehicles', account: 'acc', x: 100, y: 100, wires: [[]] },
      ],
    });
    adminToken = await red.token('admin', 'admin-pass');
    viewerToken = await red.token('viewer', 'viewer-pass', 'read');
  });
  after(async () => {
    if (red) await red.stop();
    if (sim) await sim.close();
  });

  const call = (method: string, route: string, token?: string, body?: unknown) =>
    fetch(`${red.url}/${route}`, {
      method,
      headers: { ...EDITOR_HEADERS, ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  it('loads every node type of the package without error', async () => {
    const res = await fetch(`${red.url}/nodes`, { headers: { accept: 'application/json', authorization: `Bearer ${adminToken}` } });
    const sets = ((await res.json()) as any[]).filter((s) => s.module === MODULE);
    const types = sets.flatMap((s) => s.types).sort();
    assert.deepStrictEqual(types, Object.keys(nodeRedPackage['node-red'].nodes).sort());
    for (const s of sets) assert.ok(s.enabled && !s.err, `${s.id}: ${s.err || 'disabled'}`);
  });

  it('serves the editor files and the message catalogs', async () => {
    const html = await (await fetch(`${red.url}/nodes`, { headers: { accept: 'text/html', authorization: `Bearer ${adminToken}` } })).text();
    assert.ok(html.includes('data-template-name="bmw-cardata-telematics"'));
    assert.ok(html.includes('data-help-name="bmw-cardata-charging-history"'));
    // The help parts the nodes share are written once (shared-help.html) and built into each node's help.
    assert.ok(!html.includes('<!-- shared:'), 'a shared help part was left out');
    assert.strictEqual(html.split("Every request counts against the account's daily budget").length - 1, 8);
    assert.strictEqual(html.split('<dd>The VIN that was read.</dd>').length - 1, 6);
    // Every editor file loads the one shared script, which Node-RED serves from the package's resources/.
    assert.strictEqual(html.split(`<script src="resources/${MODULE}/bmw-cardata-editor.js"></script>`).length - 1, 10);
    const script = await call('GET', `resources/${MODULE}/bmw-cardata-editor.js`, adminToken);
    assert.strictEqual(script.status, 200);
    assert.ok((await script.text()).includes('window.BmwCarDataEditor = {'));
    const catalog = await (await call('GET', `locales/${MODULE}/bmw-cardata-charging-history?lng=en-US`, adminToken)).json();
    assert.strictEqual(catalog['bmw-cardata-charging-history'].label.lastMonth, 'Last month');
    const account = await (await call('GET', `locales/${MODULE}/bmw-cardata-account?lng=en-US`, adminToken)).json();
    assert.strictEqual(account['bmw-cardata-account'].label.authorize, 'Authorize');
    // The strings the dialogs share live once, in the account's catalog.
    assert.strictEqual(account['bmw-cardata'].label.vin, 'VIN');
  });

  it('serves the German catalogs and help to an editor set to German', async () => {
    // The editor asks for its language (a browser's de-DE falls back to de), and for the help by Accept-Language.
    for (const lng of ['de', 'de-DE']) {
      const telematics = await (await call('GET', `locales/${MODULE}/bmw-cardata-telematics?lng=${lng}`, adminToken)).json();
      assert.strictEqual(telematics['bmw-cardata-telematics'].label.managed, 'automatisch verwaltet', lng);
      assert.strictEqual(telematics['bmw-cardata-telematics'].paletteLabel, 'Telematik', lng);
    }
    const account = await (await call('GET', `locales/${MODULE}/bmw-cardata-account?lng=de`, adminToken)).json();
    assert.strictEqual(account['bmw-cardata-account'].label.authorize, 'Autorisieren');
    assert.strictEqual(account['bmw-cardata'].label.account, 'Konto');
    const html = await (
      await fetch(`${red.url}/nodes`, { headers: { accept: 'text/html', 'accept-language': 'de-DE,de;q=0.9', authorization: `Bearer ${adminToken}` } })
    ).text();
    assert.ok(html.includes('<h3>Eingangsdaten</h3>'));
    assert.ok(!html.includes('<!-- shared:'), 'a shared help part was left out');
    assert.strictEqual(html.split('Jede Abfrage wird auf das Tageskontingent').length - 1, 8);
    assert.ok(!html.includes("Every request counts against the account's daily budget"), 'English help in a German editor');
  });

  it('refuses the admin routes without a login', async () => {
    for (const [method, route] of [
      ['GET', 'bmw-cardata/catalogue'],
      ['GET', 'bmw-cardata/acc/state'],
      ['GET', 'bmw-cardata/acc/vehicles'],
      ['POST', 'bmw-cardata/acc/vehicles/refresh'],
      ['POST', 'bmw-cardata/acc/auth/start'],
      ['GET', 'bmw-cardata/acc/auth/status'],
      ['POST', 'bmw-cardata/acc/auth/cancel'],
    ]) {
      const res = await call(method, route);
      assert.strictEqual(res.status, 401, `${method} ${route}`);
    }
    assert.strictEqual(sim.requests.length, 0);
  });

  it('lets a read-only user read but not authorize', async () => {
    assert.strictEqual((await call('GET', 'bmw-cardata/acc/state', viewerToken)).status, 200);
    assert.strictEqual((await call('GET', 'bmw-cardata/catalogue', viewerToken)).status, 200);
    const start = await call('POST', 'bmw-cardata/acc/auth/start', viewerToken, { clientId: 'viewer-client', authBaseUrl: sim.authBaseUrl });
    assert.strictEqual(start.status, 401);
    assert.strictEqual((await call('POST', 'bmw-cardata/acc/vehicles/refresh', viewerToken)).status, 401);
    assert.strictEqual(sim.requests.length, 0, 'nothing reached BMW');
  });

  it('lets an admin authorize the deployed account, which then reads the vehicles', async () => {
    const start = await call('POST', 'bmw-cardata/acc/auth/start', adminToken, { clientId: 'runtime-client', authBaseUrl: sim.authBaseUrl });
    assert.strictEqual(start.status, 200);
    let status;
    for (let i = 0; i < 50; i++) {
      status = await (await call('GET', 'bmw-cardata/acc/auth/status', adminToken)).json();
      if (status.status !== 'pending') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.strictEqual(status.status, 'success');
    const state: any = await (await call('GET', 'bmw-cardata/acc/state', viewerToken)).json();
    assert.deepStrictEqual([state.deployed, state.authorized], [true, true]);
    assert.strictEqual((await call('POST', 'inject/inj', adminToken)).status, 200);
    for (let i = 0; i < 50 && sim.restCalls().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepStrictEqual(
      sim.restCalls().map((r) => [r.path, r.status]),
      [['/customers/vehicles/mappings', 200]],
    );
    assert.ok(!red.log().includes('runtime-client'), 'the client ID is not logged');
  });
});

// Node-RED's `lang` setting (else the LANG of its process) is the language of the runtime: the nodes' statuses and
// errors follow it, as a Status node in the flow sees them.
for (const [lang, expected] of <[string, { vehicles: RegExp; noAccount: string }][]>[
  ['de', { vehicles: /^\d+ Fahrzeuge? · 49\/50 übrig$/, noAccount: 'input: account (Kein BMW CarData-Konto ausgewählt)' }],
  ['en-US', { vehicles: /^\d+ vehicles? · 49\/50 left$/, noAccount: 'input: account (No BMW CarData account is selected)' }],
]) {
  describe(`Node-RED runtime in ${lang}`, function () {
    this.timeout(60_000);
    let sim;
    let red;
    let statusFile;

    before(async () => {
      sim = await startSimulator({ autoApprove: true, pollIntervalSec: 0 });
      const t = sim.issueTokens({ clientId: 'runtime-client' });
      const credentials = {
        clientId: 'runtime-client',
        accessToken: t.access_token,
        refreshToken: t.refresh_token,
        idToken: t.id_token,
        gcid: t.gcid,
        expiresAt: String(Date.now() + t.expires_in * 1000),
      };
      statusFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-nr-status-')), 'statuses.txt');
      const at = (i) => ({ z: 'tab', x: 100 + 200 * (i % 3), y: 40 + 60 * Math.floor(i / 3) });
      red = await startNodeRed({
        lang,
        credentials: { acc: credentials },
        flows: [
          { id: 'tab', type: 'tab', label: 'BMW' },
          { id: 'acc', type: 'bmw-cardata-account', name: 'sim', apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, dailyQuota: 50 },
          { id: 'inj', type: 'inject', props: [{ p: 'payload' }], payloadType: 'date', repeat: '', once: false, wires: [['v']], ...at(0) },
          { id: 'v', type: 'bmw-cardata-vehicles', account: 'acc', wires: [[]], ...at(1) },
          { id: 'inj2', type: 'inject', props: [{ p: 'payload' }], payloadType: 'date', repeat: '', once: false, wires: [['none']], ...at(3) },
          { id: 'none', type: 'bmw-cardata-vehicles', account: '', wires: [[]], ...at(4) },
          // Every status of the tab, one text a line, in a file the test reads.
          { id: 'st', type: 'status', scope: null, wires: [['text']], ...at(6) },
          { id: 'text', type: 'change', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'status.text', tot: 'msg' }], wires: [['file']], ...at(7) },
          {
            id: 'file',
            type: 'file',
            filename: statusFile,
            filenameType: 'str',
            appendNewline: true,
            createDir: true,
            overwriteFile: 'false',
            encoding: 'utf8',
            wires: [],
            ...at(8),
          },
        ],
      });
    });
    after(async () => {
      if (red) await red.stop();
      if (sim) await sim.close();
    });

    const statuses = () => (fs.existsSync(statusFile) ? fs.readFileSync(statusFile, 'utf8').split('\n').filter(Boolean) : []);
    async function until(found) {
      for (let i = 0; i < 100 && !statuses().some(found); i++) await new Promise((r) => setTimeout(r, 100));
      return statuses();
    }

    it(`shows the statuses of a read and of a node without an account in ${lang}`, async () => {
      assert.strictEqual((await fetch(`${red.url}/inject/inj`, { method: 'POST' })).status, 200);
      const read = await until((s) => expected.vehicles.test(s));
      assert.ok(
        read.some((s) => expected.vehicles.test(s)),
        `statuses: ${read.join(' | ')}`,
      );
      assert.strictEqual((await fetch(`${red.url}/inject/inj2`, { method: 'POST' })).status, 200);
      const failed = await until((s) => s === expected.noAccount);
      assert.ok(failed.includes(expected.noAccount), `statuses: ${failed.join(' | ')}`);
    });
  });
}
