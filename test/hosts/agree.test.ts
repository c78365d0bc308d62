// Node-RED and n8n show the same facts for the same BMW answer: telematic values typed by one rule, images named
// by one rule. Both hosts run for real (Node-RED's runtime, n8n's execution code) against a loopback BMW that
// answers exactly what each test says.
import assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { Writable } from 'stream';
import { helper, loadAction, freshUserDir } from '../support/nodered';
import { runNode, authorizedCredentials, cleanup, MemoryCredentialsHelper } from '../support/n8n-harness';
import { main as cli } from '../../src/cli/main';

const VIN = 'WBA12345678901234';
const CONTAINER = 'ABCDEFGHIJKLM';

/** A BMW that answers /telematicData with `telematicData` and /image with `image`. */
async function loopbackBmw(answers) {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === `/customers/vehicles/${VIN}/telematicData`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ telematicData: answers.telematicData }));
    }
    if (path === `/customers/vehicles/${VIN}/image`) {
      res.writeHead(200, { 'content-type': answers.image.contentType });
      return res.end(answers.image.data);
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ exveErrorId: 'CU-400', exveErrorMsg: 'Bad request' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  let n = 0;
  return {
    // What the hosts' harnesses need of a simulator: the base URLs and tokens that are valid for an hour.
    apiBaseUrl: url,
    authBaseUrl: url,
    issueTokens: () => ({ access_token: `access-${++n}`, refresh_token: `refresh-${n}`, id_token: `id-${n}`, gcid: 'gcid', expires_in: 3600 }),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function nodeRed(bmw, type, config) {
  freshUserDir();
  const { node, out, caught } = await loadAction(bmw, type, { vin: VIN, ...config });
  node.receive({});
  const [msg] = await Promise.race([out.wait(1), caught.wait(1).then(([err]) => Promise.reject(new Error(err.error.message)))]);
  await helper.unload();
  return msg;
}

async function n8n(bmw, parameters) {
  const { items, error } = await runNode(authorizedCredentials(bmw), { vin: { __rl: true, mode: 'vin', value: VIN }, ...parameters });
  assert.ifError(error);
  return items[0];
}

describe('Node-RED and n8n agree', function () {
  let bmw;
  afterEach(async () => {
    await bmw.close();
  });
  after(() => cleanup());

  it('on the plain value of every telematic descriptor', async () => {
    const telematicData = {
      'vehicle.drivetrain.batteryManagement.header': { value: '12', unit: 'percent', timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.cabin.infotainment.navigation.currentLocation.latitude': { value: ' 48.17 ', unit: 'degrees', timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.body.trunk.isLocked': { value: 'true', unit: null, timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.isMoving': { value: 'FALSE', unit: null, timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.vehicle.travelledDistance': { value: '', unit: 'km', timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.drivetrain.electricEngine.charging.timeToFullyCharged': { value: 'INVALID', unit: 'min', timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.vehicle.preConditioning.activity': { value: 'STANDBY', unit: null, timestamp: '2026-11-30T10:00:00Z' },
      // A text descriptor whose value looks like a number stays text.
      'vehicle.body.chargingPort.isoSessionId': { value: '0012', unit: null, timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.drivetrain.electricEngine.charging.profile.timerType': { value: '2026-11-30T06:30:00Z', unit: null, timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.drivetrain.electricEngine.remainingElectricRange': { value: null, unit: 'km', timestamp: null },
    };
    const expected = {
      'vehicle.drivetrain.batteryManagement.header': 12,
      'vehicle.cabin.infotainment.navigation.currentLocation.latitude': 48.17,
      'vehicle.body.trunk.isLocked': true,
      'vehicle.isMoving': false,
      'vehicle.vehicle.travelledDistance': '',
      'vehicle.drivetrain.electricEngine.charging.timeToFullyCharged': 'INVALID',
      'vehicle.vehicle.preConditioning.activity': 'STANDBY',
      'vehicle.body.chargingPort.isoSessionId': '0012',
      'vehicle.drivetrain.electricEngine.charging.profile.timerType': '2026-11-30T06:30:00Z',
      'vehicle.drivetrain.electricEngine.remainingElectricRange': null,
    };
    bmw = await loopbackBmw({ telematicData });
    const msg = await nodeRed(bmw, 'telematics', { containerMode: 'id', containerId: CONTAINER });
    const item = await n8n(bmw, { resource: 'telematicData', operation: 'get', containerMode: 'id', containerId: CONTAINER, options: { simplify: true } });
    const { vin, containerId, _quota, vehicleName, ...n8nValues } = item.json;
    assert.deepStrictEqual(msg.values, expected);
    assert.deepStrictEqual(n8nValues, expected);
    assert.deepStrictEqual([vin, containerId], [VIN, CONTAINER]);
    // Both name the car the same way: no name given and no basic data read, so its VIN.
    assert.deepStrictEqual([vehicleName, msg.vehicleName], [VIN, VIN]);
    assert.ok(_quota);

    // The full answer keeps BMW's entries as sent, units and timestamps included, in both hosts.
    const full = await n8n(bmw, { resource: 'telematicData', operation: 'get', containerMode: 'id', containerId: CONTAINER });
    assert.deepStrictEqual(full.json.telematicData, telematicData);
    assert.deepStrictEqual(msg.payload, telematicData);
  });

  for (const [contentType, fileName] of [
    ['image/png', `${VIN}.png`],
    ['image/jpeg; charset=binary', `${VIN}.jpg`],
    ['application/octet-stream', `${VIN}.bin`],
  ]) {
    it(`on the file name of an image of type ${contentType}`, async () => {
      bmw = await loopbackBmw({ image: { contentType, data: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]) } });
      const msg = await nodeRed(bmw, 'image', {});
      const item = await n8n(bmw, { resource: 'image', operation: 'get', binaryPropertyName: 'data' });
      assert.strictEqual(msg.filename, fileName);
      assert.strictEqual(item.binary.data.fileName, fileName);
      assert.strictEqual(item.json.fileName, fileName);
    });
  }
});

const CU = (id, exveErrorMsg) => ({ exveErrorId: id, exveErrorMsg });
const MAPPED = [{ vin: VIN, mappingType: 'PRIMARY', mappedSince: '2024-01-01T00:00:00Z' }];

/**
 * A BMW whose next answers are set by the test: `rest` for the CarData API (default: one mapped vehicle) and
 * `token` for the login service (default: new tokens of the same account). Every REST request is counted.
 */
async function scriptedBmw(gcid) {
  const bmw = { rest: [], token: [], restCalls: 0 };
  let n = 0;
  const tokens = () => ({ access_token: `access-${++n}`, refresh_token: `refresh-${n}`, id_token: `id-${n}`, gcid, expires_in: 3600 });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const isToken = req.url.startsWith('/gcdm/oauth/token');
      if (!isToken) bmw.restCalls += 1;
      const [status, body] = (isToken ? bmw.token : bmw.rest).shift() ?? [200, isToken ? tokens() : MAPPED];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return Object.assign(bmw, {
    apiBaseUrl: url,
    authBaseUrl: `${url}/gcdm`,
    issueTokens: tokens,
    close: () => new Promise((resolve) => server.close(resolve)),
  });
}

/**
 * The same answers for every host, step by step: what BMW answers to the REST calls and to the login service,
 * the units counted after the step, and the requests that reached BMW's API in it.
 */
const STEPS = [
  {
    name: '401 CU-102, refresh, 200',
    rest: [
      [401, CU('CU-102', 'Token expired')],
      [200, MAPPED],
    ],
    token: [],
    used: 1,
    restCalls: 2,
  },
  {
    name: 'dead login: 401 CU-101, the refresh refused (invalid_grant)',
    rest: [[401, CU('CU-101', 'Authentication error')]],
    token: [[400, { error: 'invalid_grant' }]],
    used: 1,
    restCalls: 1,
  },
  { name: '200', rest: [[200, MAPPED]], token: [], used: 2, restCalls: 1 },
  { name: '403 CU-429', rest: [[403, CU('CU-429', 'API rate limit reached')]], token: [], used: 50, restCalls: 1 },
  { name: '200, refused locally', rest: [[200, MAPPED]], token: [], used: 50, restCalls: 0 },
];

/** Each host as a function that makes one call (Vehicles / Get Many, never from the cache) and returns the units it counted today. */
const HOSTS = {
  async 'Node-RED'(bmw) {
    freshUserDir();
    const gcid = bmw.issueTokens().gcid;
    const t = bmw.issueTokens();
    const credentials = {
      clientId: 'agree-client',
      accessToken: t.access_token,
      refreshToken: t.refresh_token,
      idToken: t.id_token,
      gcid,
      expiresAt: String(Date.now() + 3_600_000),
    };
    const { node, out, caught, account } = await loadAction(bmw, 'vehicles', { cacheMaxAge: '0' }, { credentials });
    return {
      async call() {
        const seen = out.messages.length + caught.messages.length;
        node.receive({});
        for (let i = 0; i < 500 && out.messages.length + caught.messages.length === seen; i++) await new Promise((r) => setTimeout(r, 10));
        return (await account.account().client.quotaState()).used;
      },
      close: () => helper.unload(),
    };
  },
  async n8n(bmw) {
    const t = bmw.issueTokens();
    const creds = new MemoryCredentialsHelper({
      clientId: 'agree-client',
      apiBaseUrl: bmw.apiBaseUrl,
      authBaseUrl: bmw.authBaseUrl,
      accessToken: t.access_token,
      refreshToken: t.refresh_token,
      gcid: t.gcid,
    });
    return {
      async call() {
        const { items, error } = await runNode(
          creds,
          { resource: 'vehicle', operation: 'getAll', options: { cacheMaxAge: '0' } },
          { nodeExtra: { onError: 'continueRegularOutput' } },
        );
        assert.ifError(error);
        return items[0].json._quota.used;
      },
      close: async () => undefined,
    };
  },
  async CLI(bmw) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-agree-'));
    const config = path.join(dir, 'account.json');
    const t = bmw.issueTokens();
    fs.writeFileSync(
      config,
      JSON.stringify({
        clientId: 'agree-client',
        apiBaseUrl: bmw.apiBaseUrl,
        authBaseUrl: bmw.authBaseUrl,
        tokens: { accessToken: t.access_token, refreshToken: t.refresh_token, idToken: t.id_token, gcid: t.gcid, expiresAt: Date.now() + 3_600_000 },
      }),
    );
    const sink = () => new Writable({ write: (_chunk, _enc, done) => done() });
    return {
      async call() {
        await cli(['vehicles', '--max-age', '0', '--config', config], sink(), sink());
        let shown = '';
        const out = new Writable({ write: (chunk, _enc, done) => ((shown += chunk), done()) });
        assert.strictEqual(await cli(['quota', '--config', config], out, sink()), 0);
        return JSON.parse(shown).used;
      },
      close: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  },
};

describe('Node-RED, n8n and the CLI count the same quota', function () {
  // n8n waits up to 10 s for another execution's rotated refresh token before it takes a refusal as final.
  this.timeout(60_000);
  after(() => cleanup());

  it('for 401 then 200, a dead login, a 200, CU-429 and a call after it: only answers BMW can have counted', async () => {
    const counts = {};
    for (const [host, open] of Object.entries(HOSTS)) {
      const bmw = await scriptedBmw(`gcid-agree-${host}-${Date.now()}`);
      const run = await open(bmw);
      try {
        counts[host] = [];
        for (const step of STEPS) {
          bmw.rest = step.rest.slice();
          bmw.token = step.token.slice();
          const before = bmw.restCalls;
          counts[host].push(await run.call());
          assert.strictEqual(bmw.restCalls - before, step.restCalls, `${host}, ${step.name}: requests that reached BMW`);
          assert.deepStrictEqual(
            [bmw.rest.length, bmw.token.length],
            [step.rest.length - step.restCalls, 0],
            `${host}, ${step.name}: the scripted answers were asked for`,
          );
        }
      } finally {
        await run.close();
        await bmw.close();
      }
    }
    const expected = STEPS.map((s) => s.used);
    for (const [host, used] of Object.entries(counts)) assert.deepStrictEqual(used, expected, `${host} counted ${used}`);
  });
});
