// The account config node's admin routes (device login, connection state, vehicle list, catalogue) and the
// persistence of rotated tokens across a restart, in Node-RED (node-red-node-test-helper) against the simulator.
import assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import {
  helper,
  editor,
  freshUserDir,
  allNodes,
  accountConfig,
  authorizedCredentials,
  collector,
  sleep,
  lastStatus,
  CLIENT_ID,
  serverPerTest,
} from '../support/nodered';

async function pollStatus(id, until, timeoutMs = 8000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const res = await editor().get(`/bmw-cardata/${id}/auth/status`).expect(200);
    if (until(res.body)) return res.body;
    if (Date.now() > end) throw new Error(`status stayed ${JSON.stringify(res.body)}`);
    await sleep(100);
  }
}

function flowWith(sim, nodes, account = {}) {
  return [{ id: 'tab', type: 'tab' }, accountConfig(sim, account), ...nodes.map((n, i) => ({ x: 100, y: 40 * (i + 1), z: 'tab', ...n }))];
}

describe('Node-RED account: admin routes', function () {
  let sim;
  let userDir;
  before(async () => {
    sim = await startSimulator({ pollIntervalSec: 0 });
  });
  after(() => sim.close());
  serverPerTest(async () => {
    userDir = freshUserDir();
    sim.clearLog();
    sim.setQuotaUsed(0);
    sim.setAutoApprove(false);
  });

  it('authorizes a new, undeployed account: start, poll to success, credentials stored', async () => {
    sim.setAutoApprove(true);
    await helper.load(allNodes, [{ id: 'tab', type: 'tab' }]);
    const start = await editor()
      .post('/bmw-cardata/newacc/auth/start')
      .send({ clientId: 'new-client-id', apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl })
      .expect(200);
    assert.strictEqual(start.body.status, 'pending');
    assert.ok(start.body.userCode);
    assert.ok(start.body.verificationUriComplete.startsWith(`${sim.authBaseUrl}/`));
    assert.ok(start.body.verificationUriComplete.includes(encodeURIComponent(start.body.userCode)));
    assert.ok(Date.parse(start.body.expiresAt) > Date.now());
    assert.ok(!('deviceCode' in start.body) && !('codeVerifier' in start.body));
    const done = await pollStatus('newacc', (b) => b.status !== 'pending');
    assert.strictEqual(done.status, 'success');
    assert.match(done.gcid, /…/, 'the GCID is shortened');
    assert.ok(!sim.gcid.includes(done.gcid));
    const creds = helper._redNodes.getCredentials('newacc');
    assert.strictEqual(creds.clientId, 'new-client-id');
    assert.ok(creds.refreshToken && creds.accessToken);
    assert.strictEqual(creds.gcid, sim.gcid);
    const file = JSON.parse(fs.readFileSync(path.join(userDir, 'bmw-cardata-tokens.json'), 'utf8'));
    assert.ok(file.accounts.newacc.issuedAt > 0);
    const tokenPoll = sim.requests.filter((r) => r.kind === 'auth' && r.grantType && r.grantType.includes('device_code'));
    assert.ok(tokenPoll.length >= 1);
    // The state route reports the login without showing any token.
    const state = await editor().get('/bmw-cardata/newacc/state').expect(200);
    assert.strictEqual(state.body.authorized, true);
    assert.strictEqual(state.body.deployed, false);
    const text = JSON.stringify([start.body, done, state.body]);
    for (const secret of [creds.accessToken, creds.refreshToken, creds.idToken, 'new-client-id', sim.gcid]) assert.ok(!text.includes(secret));
  });

  it('a deployed account takes the tokens of an editor login at once, written once', async () => {
    sim.setAutoApprove(true);
    // One login is written once: one credentials save, one token-file save (an atomic rename). Node-RED hands the
    // nodes its credentials API when they load, so the count is put in before.
    const writes = { credentials: 0, tokenFile: 0 };
    const addCredentials = helper._redNodes.addCredentials;
    const rename = fs.promises.rename;
    helper._redNodes.addCredentials = (...args) => (writes.credentials++, addCredentials.apply(helper._redNodes, args));
    fs.promises.rename = (from, to) => (String(to).endsWith('bmw-cardata-tokens.json') && writes.tokenFile++, rename(from, to));
    try {
      await helper.load(
        allNodes,
        flowWith(sim, [
          { id: 'v', type: 'bmw-cardata-vehicles', account: 'acc', wires: [['out']] },
          { id: 'out', type: 'helper' },
        ]),
        {
          acc: { clientId: CLIENT_ID },
        },
      );
      Object.assign(writes, { credentials: 0, tokenFile: 0 });
      await editor().post('/bmw-cardata/acc/auth/start').send({ authBaseUrl: sim.authBaseUrl }).expect(200);
      assert.strictEqual((await pollStatus('acc', (b) => b.status !== 'pending')).status, 'success');
    } finally {
      helper._redNodes.addCredentials = addCredentials;
      fs.promises.rename = rename;
    }
    assert.deepStrictEqual(writes, { credentials: 1, tokenFile: 1 });
    const out = collector(helper.getNode('out'));
    helper.getNode('v').receive({});
    const [msg] = await out.wait(1);
    assert.ok(msg.payload.length >= 1);
  });

  it('the client ID is a secret: a password credential, masked in the dialog; Authorize with the field untouched uses the deployed one', async () => {
    const html = fs.readFileSync(path.join(__dirname, '../../src/node-red/bmw-cardata-account.html'), 'utf8');
    assert.match(html, /clientId: \{ type: 'password' \}/);
    assert.match(html, /<input type="password" id="node-config-input-clientId"/);
    sim.setAutoApprove(true);
    await helper.load(allNodes, flowWith(sim, []), { acc: { clientId: CLIENT_ID } });
    const defs = helper._redNodes.getCredentialDefinition('bmw-cardata-account');
    assert.strictEqual(defs.clientId.type, 'password', 'the editor gets has_clientId, never the ID');
    // Node-RED's editor fills a password field the runtime holds a value for with this placeholder.
    await editor().post('/bmw-cardata/acc/auth/start').send({ clientId: '__PWRD__', authBaseUrl: sim.authBaseUrl }).expect(200);
    assert.strictEqual((await pollStatus('acc', (b) => b.status !== 'pending')).status, 'success');
    assert.strictEqual(helper._redNodes.getCredentials('acc').clientId, CLIENT_ID);
  });

  it('reports a declined login in plain words', async () => {
    await helper.load(allNodes, [{ id: 'tab', type: 'tab' }]);
    const start = await editor().post('/bmw-cardata/x1/auth/start').send({ clientId: CLIENT_ID, authBaseUrl: sim.authBaseUrl }).expect(200);
    sim.deny(start.body.userCode);
    const done = await pollStatus('x1', (b) => b.status !== 'pending');
    assert.strictEqual(done.status, 'error');
    assert.strictEqual(done.error.code, 'access_denied');
    assert.match(done.error.hint, /declined/);
    assert.strictEqual(helper._redNodes.getCredentials('x1'), undefined);
  });

  it('reports an expired code', async () => {
    await helper.load(allNodes, [{ id: 'tab', type: 'tab' }]);
    const start = await editor().post('/bmw-cardata/x2/auth/start').send({ clientId: CLIENT_ID, authBaseUrl: sim.authBaseUrl }).expect(200);
    sim.expireDeviceCode(start.body.userCode);
    const done = await pollStatus('x2', (b) => b.status !== 'pending');
    assert.strictEqual(done.error.code, 'expired_token');
    assert.match(done.error.hint, /expired/);
  });

  it('a hiccup of the login service while the user approves is polled through: the login succeeds', async () => {
    // The login service in front of the simulator's answers its first two device-code polls with a proxy's 503 page.
    let hiccups = 2;
    const proxy = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks).toString();
        if (body.includes('device_code') && body.includes('grant_type') && hiccups > 0) {
          hiccups -= 1;
          res.writeHead(503, { 'content-type': 'text/html' }).end('<html><body>Service Unavailable</body></html>');
          return;
        }
        const answer = await fetch(`${sim.authBaseUrl}${req.url}`, {
          method: req.method,
          headers: { 'content-type': String(req.headers['content-type'] ?? '') },
          body: req.method === 'POST' ? body : undefined,
        });
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(await answer.text());
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
    try {
      const authBaseUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
      sim.setAutoApprove(true);
      await helper.load(allNodes, [{ id: 'tab', type: 'tab' }]);
      await editor().post('/bmw-cardata/x4/auth/start').send({ clientId: CLIENT_ID, authBaseUrl }).expect(200);
      const done = await pollStatus('x4', (b) => b.status !== 'pending');
      assert.deepStrictEqual([done.status, hiccups], ['success', 0]);
      assert.strictEqual(helper._redNodes.getCredentials('x4').gcid, sim.gcid);
    } finally {
      proxy.close();
    }
  });

  it('cancel stops polling', async () => {
    await helper.load(allNodes, [{ id: 'tab', type: 'tab' }]);
    await editor().post('/bmw-cardata/x3/auth/start').send({ clientId: CLIENT_ID, authBaseUrl: sim.authBaseUrl }).expect(200);
    const cancelled = await editor().post('/bmw-cardata/x3/auth/cancel').send({}).expect(200);
    assert.strictEqual(cancelled.body.wasRunning, true);
    const before = sim.requests.length;
    await sleep(1500);
    assert.strictEqual(sim.requests.length, before, 'no poll after cancel');
    assert.deepStrictEqual((await editor().get('/bmw-cardata/x3/auth/status').expect(200)).body, { status: 'none' });
  });

  it('refuses to start without a client ID, with a hint', async () => {
    await helper.load(allNodes, [{ id: 'tab', type: 'tab' }]);
    const res = await editor().post('/bmw-cardata/x4/auth/start').send({ authBaseUrl: sim.authBaseUrl }).expect(400);
    assert.strictEqual(res.body.error.code, 'input');
    assert.match(res.body.error.hint, /portal/);
  });

  it('connection state: authorized, GCID shortened, expiry, quota; no token', async () => {
    const creds = authorizedCredentials(sim);
    await helper.load(allNodes, flowWith(sim, []), { acc: creds });
    const res = await editor().get('/bmw-cardata/acc/state').expect(200);
    assert.strictEqual(res.body.deployed, true);
    assert.strictEqual(res.body.authorized, true);
    assert.strictEqual(res.body.gcid, `${sim.gcid.slice(0, 4)}…${sim.gcid.slice(-4)}`);
    assert.ok(Date.parse(res.body.accessTokenExpiresAt) > Date.now());
    assert.deepStrictEqual([res.body.quota.used, res.body.quota.limit], [0, 50]);
    const text = JSON.stringify(res.body);
    for (const secret of [creds.accessToken, creds.refreshToken, creds.clientId]) assert.ok(!text.includes(secret));
    const unknown = await editor().get('/bmw-cardata/nope/state').expect(200);
    assert.deepStrictEqual([unknown.body.deployed, unknown.body.authorized], [false, false]);
  });

  it('vehicle list: the cache costs nothing, a refresh costs one call and is kept', async () => {
    await helper.load(allNodes, flowWith(sim, []), { acc: authorizedCredentials(sim) });
    const empty = await editor().get('/bmw-cardata/acc/vehicles').expect(200);
    assert.deepStrictEqual([empty.body.vehicles, empty.body.fetchedAt], [[], null]);
    assert.strictEqual(sim.restCalls().length, 0);
    const refreshed = await editor().post('/bmw-cardata/acc/vehicles/refresh').send({}).expect(200);
    assert.ok(refreshed.body.vehicles.some((v) => v.vin === SIM_VINS.bev));
    assert.strictEqual(refreshed.body.quota.used, 1);
    const cached = await editor().get('/bmw-cardata/acc/vehicles').expect(200);
    assert.deepStrictEqual(cached.body.vehicles, refreshed.body.vehicles);
    assert.strictEqual(sim.restCalls().length, 1);
    await editor().post('/bmw-cardata/undeployed/vehicles/refresh').send({}).expect(409);
  });

  it('serves the descriptor catalogue grouped by category, without a call', async () => {
    await helper.load(allNodes, [{ id: 'tab', type: 'tab' }]);
    const res = await editor().get('/bmw-cardata/catalogue').expect(200);
    const ids = res.body.flatMap((g) => g.descriptors.map((d) => d.id));
    assert.ok(res.body.length > 3);
    assert.ok(ids.includes('vehicle.drivetrain.batteryManagement.header'));
    assert.ok(ids.length > 250);
    assert.strictEqual(sim.requests.length, 0);
  });
});

describe('Node-RED account: rotated tokens survive a restart', function () {
  let sim;
  let userDir;
  before(async () => {
    sim = await startSimulator({});
  });
  after(() => sim.close());
  serverPerTest(async () => {
    sim.clearLog();
    sim.setQuotaUsed(0);
  });

  // Every read asks BMW (cacheMaxAge 0), so each one after an expiry needs the login.
  const flow = (s) =>
    flowWith(s, [
      { id: 'b', type: 'bmw-cardata-basic-data', account: 'acc', vin: SIM_VINS.bev, cacheMaxAge: '0', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);

  async function readOnce() {
    const out = collector(helper.getNode('out'));
    helper.getNode('b').receive({});
    return (await out.wait(1))[0];
  }

  for (const secret of ['a-credential-secret', false]) {
    it(`uses the rotated refresh token after a restart (credentialSecret ${secret ? 'set' : 'off'})`, async () => {
      userDir = freshUserDir();
      helper.settings({ userDir, credentialSecret: secret });
      const deployed = authorizedCredentials(sim);
      await helper.load(allNodes, flow(sim), { acc: { ...deployed } });
      sim.expireAccessTokens();
      await readOnce();
      const refresh1 = sim.requests.filter((r) => r.refreshToken);
      assert.strictEqual(refresh1.length, 1);
      assert.strictEqual(refresh1[0].refreshToken, deployed.refreshToken);
      const rotated = helper._redNodes.getCredentials('acc');
      assert.notStrictEqual(rotated.refreshToken, deployed.refreshToken);
      assert.strictEqual(rotated.clientId, CLIENT_ID);
      const file = path.join(userDir, 'bmw-cardata-tokens.json');
      await sleep(50);
      assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
      const content = fs.readFileSync(file, 'utf8');
      assert.strictEqual(content.includes(rotated.refreshToken), !secret, secret ? 'encrypted' : 'in clear when there is no secret');

      // Restart before any deploy: Node-RED still holds the deployed (old) credentials.
      await helper.unload();
      sim.clearLog();
      sim.expireAccessTokens();
      await helper.load(allNodes, flow(sim), { acc: { ...deployed } });
      const msg = await readOnce();
      assert.strictEqual(msg.payload.vin, SIM_VINS.bev);
      const refresh2 = sim.requests.filter((r) => r.refreshToken);
      assert.strictEqual(refresh2.length, 1);
      assert.strictEqual(refresh2[0].refreshToken, rotated.refreshToken, 'the new refresh token, not the retired one');
      assert.strictEqual(refresh2[0].status, 200);
    });
  }

  it('the old refresh token alone is refused, so the test above can fail', async () => {
    userDir = freshUserDir();
    const deployed = authorizedCredentials(sim);
    await helper.load(allNodes, flow(sim), { acc: { ...deployed } });
    sim.expireAccessTokens();
    await readOnce();
    await helper.unload();
    fs.rmSync(path.join(userDir, 'bmw-cardata-tokens.json'));
    sim.expireAccessTokens();
    await helper.load(
      allNodes,
      [
        ...flow(sim),
        { id: 'catch', z: 'tab', x: 1, y: 1, type: 'catch', scope: null, wires: [['caught']] },
        { id: 'caught', z: 'tab', x: 1, y: 2, type: 'helper' },
      ],
      { acc: { ...deployed } },
    );
    const caught = collector(helper.getNode('caught'));
    helper.getNode('b').receive({});
    const [err] = await caught.wait(1);
    assert.match(err.error.message, /authorize the account again/);
    // A failed login is told apart from BMW's other errors: the status says it is the login.
    assert.strictEqual(err.cardataError.name, 'LoginError');
    assert.match(lastStatus(helper.getNode('b')).text, /^login: invalid_grant \(.*authorize the account again.*\)/i);
  });

  it('removes the token file entry when the account node is deleted', async () => {
    userDir = freshUserDir();
    await helper.load(allNodes, flow(sim), { acc: authorizedCredentials(sim) });
    sim.expireAccessTokens();
    await readOnce();
    const file = path.join(userDir, 'bmw-cardata-tokens.json');
    await sleep(50);
    assert.ok(JSON.parse(fs.readFileSync(file, 'utf8')).accounts.acc);
    await helper.setFlows([{ id: 'tab', type: 'tab' }], 'full');
    await sleep(50);
    assert.strictEqual(JSON.parse(fs.readFileSync(file, 'utf8')).accounts.acc, undefined);
  });
});
