// Every operation against the ways BMW, a proxy or a network misbehave: what the caller gets, and what it costs.
import assert from 'assert';
import * as net from 'net';
import { startSimulator, SIM_VINS } from '../../../src/simulator';
import * as core from '../../../src/node';
import { failure } from '../../support/failure';
import { simulatorAccount } from '../../support/simulator-account';

const { createAccount, tokenSetFromResponse, CarDataError, nodeSleep } = core;
const YEAR_AGO = new Date(Date.now() - 365 * 86400_000).toISOString();
const NOW = new Date().toISOString();

/** A clock that only moves when the client sleeps, so waits are measured without waiting. */
function fakeTime() {
  let now = Date.now();
  const waits = [];
  return {
    now: () => now,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
    waits,
  };
}

function accountFor(sim, extra = {}) {
  const time = fakeTime();
  const account = simulatorAccount(sim, {
    clientId: 'matrix-client',
    sleep: time.sleep,
    now: time.now,
    dailyQuota: 50,
    timeoutMs: 10_000,
    deadlineMs: 60_000,
    ...extra,
  });
  return { ...account, time };
}

async function spent(client) {
  return (await client.quotaState()).used;
}

/** Each operation with parameters that the simulator answers with success. */
function operations(containerId): [string, (c: any) => Promise<unknown>][] {
  return [
    ['getMappings', (c) => c.getMappings()],
    ['getBasicData', (c) => c.getBasicData(SIM_VINS.bev)],
    ['getTelematicData', (c) => c.getTelematicData(SIM_VINS.bev, containerId)],
    ['getChargingHistory', (c) => c.call('getChargingHistory', { vin: SIM_VINS.bev, from: YEAR_AGO, to: NOW })],
    ['getSmartMaintenanceTyreDiagnosis', (c) => c.getTyreDiagnosis(SIM_VINS.bev)],
    ['getLocationBasedChargingSettings', (c) => c.call('getLocationBasedChargingSettings', { vin: SIM_VINS.bev })],
    ['getImage', (c) => c.getImage(SIM_VINS.bev)],
    ['listContainers', (c) => c.listContainers()],
    ['createContainer', (c) => c.createContainer({ name: 'matrix', purpose: 'matrix', technicalDescriptors: ['vehicle.vehicle.travelledDistance'] })],
    ['getContainerDetails', (c) => c.getContainer(containerId)],
    ['deleteContainer', (c) => c.deleteContainer(containerId)],
  ];
}

describe('fault matrix: every operation against a hostile BMW', function () {
  this.timeout(30_000);
  let sim;
  let containerId;
  beforeEach(async () => {
    sim = await startSimulator({ dailyQuota: 10_000 });
    const { client } = accountFor(sim);
    containerId = (await client.createContainer({ name: 'matrix', technicalDescriptors: ['vehicle.vehicle.travelledDistance'] })).containerId;
    sim.clearLog();
  });
  afterEach(async () => {
    await sim.close();
  });

  const badAnswers: [string, { status: number; body: string; contentType: string }, RegExp][] = [
    [
      'an HTML page with 200',
      { status: 200, body: '<html><body>Corporate proxy: please log in</body></html>', contentType: 'text/html' },
      /text\/html, 56 bytes/,
    ],
    ['truncated JSON', { status: 200, body: '{"data":[{"startTime":17', contentType: 'application/json' }, /not CarData JSON: application\/json, 24 bytes/],
  ];
  for (const [label, answer, message] of badAnswers) {
    it(`${label}: an error of kind "response" for every operation, one unit spent, never data`, async () => {
      for (const [id, run] of operations(containerId)) {
        const { client } = accountFor(sim);
        sim.faults.answerNext(1, answer);
        const before = sim.restCalls().length;
        const e = await failure(run(client));
        assert.ok(e instanceof CarDataError, `${id}: ${e}`);
        assert.strictEqual(e.kind, 'response', `${id}: ${e.message}`);
        assert.strictEqual(e.operation, id);
        if (id === 'getImage') assert.match(e.message, /not an image/);
        else if (id === 'deleteContainer') assert.match(e.message, /web page|not CarData/);
        else assert.match(e.message, message, id);
        assert.doesNotMatch(e.message, /Corporate proxy|startTime/, 'the body is never echoed');
        assert.strictEqual(sim.restCalls().length - before, 1, `${id}: not retried`);
        assert.strictEqual(await spent(client), 1, `${id}: the answer came, so it may have been counted`);
      }
    });
  }

  it('JSON without the promised list or fields, or with null entries, is an error, not an empty list', async () => {
    const cases: [string, (c: any) => Promise<unknown>, unknown][] = [
      ['getMappings', (c) => c.getMappings(), {}],
      ['getMappings', (c) => c.getMappings(), [{ vin: SIM_VINS.bev }, null]],
      ['getChargingHistory', (c) => c.paginate('getChargingHistory', { vin: SIM_VINS.bev, from: YEAR_AGO, to: NOW }), {}],
      ['getChargingHistory', (c) => c.paginate('getChargingHistory', { vin: SIM_VINS.bev, from: YEAR_AGO, to: NOW }), { data: [null] }],
      ['getLocationBasedChargingSettings', (c) => c.paginate('getLocationBasedChargingSettings', { vin: SIM_VINS.bev }), { data: 'none' }],
      ['listContainers', (c) => c.listContainers(), {}],
      ['listContainers', (c) => c.listContainers(), { containers: [{ name: 'no id' }] }],
      ['getBasicData', (c) => c.getBasicData(SIM_VINS.bev), {}],
      ['getTelematicData', (c) => c.getTelematicData(SIM_VINS.bev, containerId), { telematicData: [] }],
      ['createContainer', (c) => c.createContainer({ name: 'x', technicalDescriptors: ['vehicle.vehicle.travelledDistance'] }), { name: 'x' }],
    ];
    for (const [id, run, body] of cases) {
      const { client } = accountFor(sim);
      sim.faults.answerNext(1, { status: 200, body: JSON.stringify(body), contentType: 'application/json' });
      const e = await failure(run(client));
      assert.strictEqual(e.kind, 'response', `${id} ${JSON.stringify(body)}: ${e.message}`);
      assert.strictEqual(e.operation, id);
    }
  });

  it('a broken page 4 fails the whole read: no partial list is returned', async () => {
    await sim.close();
    sim = await startSimulator({ dailyQuota: 10_000, chargingPageSize: 5 });
    const { client } = accountFor(sim);
    const pages = [];
    const e = await failure(
      (async () => {
        for await (const page of client.paginate('getChargingHistory', { vin: SIM_VINS.bev, from: YEAR_AGO, to: NOW }).pages()) {
          pages.push(page);
          if (pages.length === 3) sim.faults.answerNext(1, { status: 200, body: '{"data":[', contentType: 'application/json' });
        }
      })(),
    );
    assert.strictEqual(e.kind, 'response');
    assert.strictEqual(pages.length, 3);
    // The collected form never hands out the first pages of a read that failed.
    let read;
    sim.faults.answerNext(1, { status: 200, body: '<html></html>', contentType: 'text/html' }, { path: /chargingHistory/ });
    await failure((async () => (read = await client.paginate('getChargingHistory', { vin: SIM_VINS.bev, from: YEAR_AGO, to: NOW })))());
    assert.strictEqual(read, undefined);
  });

  it('a burst of 503s: GETs are retried within the deadline, each attempt spends a unit; POST is not retried', async () => {
    for (const [id, run] of operations(containerId)) {
      const { client, time } = accountFor(sim);
      sim.faults.failNext(2, 503);
      const before = sim.restCalls().length;
      if (id === 'createContainer' || id === 'deleteContainer') {
        const e = await failure(run(client));
        assert.strictEqual(e.status, 503, id);
        assert.strictEqual(sim.restCalls().length - before, 1, `${id} is not idempotent: sent once`);
        assert.strictEqual(await spent(client), 1);
        sim.faults.reset();
        continue;
      }
      await run(client);
      assert.strictEqual(
        sim.restCalls().length - before,
        3,
        `${id}: ${sim
          .restCalls()
          .slice(before)
          .map((r) => `${r.path} ${r.status}`)}`,
      );
      assert.strictEqual(await spent(client), 3, `${id}: three requests reached BMW`);
      assert.strictEqual(time.waits.length, 2);
    }
  });

  it('a dropped connection is retried for a GET and counted, since the request was sent', async () => {
    const { client } = accountFor(sim);
    sim.faults.dropNext(1);
    assert.ok((await client.getMappings()).length > 0);
    assert.strictEqual(sim.restCalls().length, 2);
    assert.strictEqual(await spent(client), 2);
  });

  it('a refused connection or an unknown host costs nothing', async () => {
    const port = await new Promise((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    for (const apiBaseUrl of [`http://127.0.0.1:${port}`, 'http://cardata-api.invalid']) {
      const { client, time } = accountFor(sim, { apiBaseUrl });
      for (let i = 0; i < 13; i++) {
        const e = await failure(client.getMappings());
        assert.strictEqual(e.kind, 'network', `${apiBaseUrl} call ${i + 1}: ${e.message}`);
      }
      assert.strictEqual(await spent(client), 0, `${apiBaseUrl}: nothing left, nothing counted`);
      assert.ok(time.waits.length > 0, 'retried with backoff');
    }
  });

  it('a hang and a slow drip end within the attempt timeout; one more attempt, then a clear error', async () => {
    for (const fault of ['hang', 'drip']) {
      const { client } = accountFor(sim, { timeoutMs: 300, deadlineMs: 60_000 });
      if (fault === 'hang') sim.faults.hangNext(5);
      else sim.faults.dripNext(5, { intervalMs: 100 });
      const started = Date.now();
      const e = await failure(client.getBasicData(SIM_VINS.bev));
      const took = Date.now() - started;
      assert.strictEqual(e.kind, 'network', fault);
      assert.match(e.message, /ETIMEDOUT/);
      assert.ok(took < 2_000, `${fault}: ended after ${took} ms`);
      assert.strictEqual(sim.restCalls().length, 2, `${fault}: one retry only`);
      assert.strictEqual(await spent(client), 2, `${fault}: both requests were sent`);
      sim.faults.reset();
      sim.clearLog();
    }
  });

  it('the whole call, waits included, ends within its deadline (Retry-After 20 s, deadline 60 s)', async () => {
    const { client, time } = accountFor(sim, { deadlineMs: 60_000 });
    sim.faults.failNext(10, 503, { retryAfterSec: 20 });
    const e = await failure(client.getMappings());
    assert.strictEqual(e.status, 503);
    assert.deepStrictEqual(time.waits, [20_000, 20_000]);
    assert.strictEqual(sim.restCalls().length, 3);
  });

  it('a Retry-After longer than the client waits is reported at once, not waited for', async () => {
    const { client, time } = accountFor(sim);
    sim.faults.failNext(3, 503, { retryAfterSec: 59 });
    const e = await failure(client.getMappings());
    assert.strictEqual(e.status, 503);
    assert.deepStrictEqual(time.waits, []);
    assert.strictEqual(sim.restCalls().length, 1);
  });

  it('a plain 429 with a short Retry-After is a rate limit: waited out, not the day spent', async () => {
    const { client, time } = accountFor(sim);
    sim.faults.answerNext(1, { status: 429, headers: { 'Retry-After': '2' }, body: '', contentType: 'text/plain' });
    assert.ok((await client.getMappings()).length > 0);
    assert.ok(time.waits[0] >= 2000, `waited ${time.waits[0]} ms`);
    assert.strictEqual(await spent(client), 2);
    assert.strictEqual((await client.quotaState()).remaining, 48, 'the day is not marked as spent');
  });

  it('a 429 without Retry-After, like 403 CU-429, means the day is spent: later calls are refused locally', async () => {
    const { client } = accountFor(sim);
    sim.faults.answerNext(1, { status: 429, body: '', contentType: 'text/plain' });
    const e = await failure(client.getMappings());
    assert.strictEqual(e.kind, 'quota');
    const again = await failure(client.getMappings());
    assert.match(again.message, /refused locally/);
    assert.strictEqual(sim.restCalls().length, 1);
  });
});

describe('fault matrix: logins', function () {
  this.timeout(30_000);
  let sim;
  beforeEach(async () => {
    sim = await startSimulator({ dailyQuota: 10_000 });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('the login service answering 500 server_error is retried; the call succeeds and the login is kept', async () => {
    const { client, tokens, time } = accountFor(sim);
    await tokens.setTokens({ ...tokens.current(), expiresAt: 0 });
    const before = tokens.current().refreshToken;
    sim.faults.failNextRefresh(2, 500);
    assert.ok((await client.getMappings()).length > 0);
    assert.strictEqual(time.waits.length, 2, 'two retries of the refresh');
    assert.notStrictEqual(tokens.current().refreshToken, before, 'rotated once it worked');
    assert.strictEqual(await spent(client), 1, 'only the REST call counts');
  });

  it('a login service that stays down says "unavailable, try later", keeps the refresh token and spends nothing', async () => {
    const { client, tokens } = accountFor(sim);
    await tokens.setTokens({ ...tokens.current(), expiresAt: 0 });
    const before = tokens.current().refreshToken;
    for (const status of [500, 503]) {
      sim.faults.failNextRefresh(20, status);
      const e = await failure(client.getMappings());
      assert.notStrictEqual(e.kind, 'auth', e.message);
      assert.strictEqual(e.retryable, true);
      assert.match(e.message, /login service is unavailable/);
      assert.doesNotMatch(`${e.message} ${e.hint}`, /authorize (the account )?again/i);
      assert.strictEqual(tokens.current().refreshToken, before);
      sim.faults.reset();
    }
    assert.strictEqual(sim.restCalls().length, 0);
    assert.strictEqual(await spent(client), 0);
    // Once the service is back, the same login works.
    assert.ok((await client.getMappings()).length > 0);
  });

  it('a retired refresh token says "authorize again" and spends nothing: 55 calls leave the whole day', async () => {
    const { client, tokens } = accountFor(sim);
    const old = tokens.current().refreshToken;
    await tokens.refresh();
    const stale = accountFor(sim, { tokens: { ...tokens.current(), refreshToken: old, expiresAt: 0 } });
    for (let i = 0; i < 55; i++) {
      const e = await failure(stale.client.getMappings());
      assert.strictEqual(e.kind, 'auth');
      assert.match(e.message, /authorize the account again/);
    }
    assert.strictEqual(await spent(stale.client), 0);
    assert.strictEqual(sim.restCalls().length, 0);
    assert.strictEqual((await client.quotaState()).remaining, 50);
  });

  /** Every way the login service can answer without an OAuth error: none of them says anything about the login. */
  const LOGIN_HICCUPS: [string, { status: number; headers?: Record<string, string>; body: string; contentType: string }][] = [
    ['429 with Retry-After', { status: 429, headers: { 'Retry-After': '1' }, body: 'slow down', contentType: 'text/plain' }],
    ["a firewall's 403 page", { status: 403, body: '<html><body>Request blocked by WAF</body></html>', contentType: 'text/html' }],
    ['408', { status: 408, body: '', contentType: 'text/plain' }],
    ['a 404 maintenance page', { status: 404, body: '<html><h1>Down for maintenance</h1></html>', contentType: 'text/html' }],
    ['502 from a proxy', { status: 502, body: 'Bad Gateway', contentType: 'text/plain' }],
    ['400 with an empty body', { status: 400, body: '', contentType: 'application/json' }],
    ['401 without an OAuth error', { status: 401, body: '{"message":"Unauthorized"}', contentType: 'application/json' }],
    ['200 with an HTML page', { status: 200, body: '<html>captive portal</html>', contentType: 'text/html' }],
  ];

  for (const [label, answer] of LOGIN_HICCUPS) {
    it(`the login service answering ${label}: retried, then "unavailable, try later"; the login is kept, nothing spent`, async () => {
      let reloads = 0;
      const { client, tokens, time } = accountFor(sim, { reloadTokens: async () => (reloads++, undefined) });
      await tokens.setTokens({ ...tokens.current(), expiresAt: 0 });
      const before = tokens.current().refreshToken;
      sim.faults.answerNext(20, answer, { path: /oauth\/token/ });
      const e = await failure(client.getMappings());
      assert.ok(e instanceof CarDataError, String(e));
      assert.notStrictEqual(e.kind, 'auth', e.message);
      assert.strictEqual(e.retryable, true);
      assert.match(e.message, /login service (is unavailable|answered without tokens)/);
      assert.match(e.hint, /try again in a few minutes/i);
      assert.doesNotMatch(`${e.message} ${e.hint}`, /client ID|authorize (the account )?again|WAF|maintenance|captive/i);
      assert.strictEqual(time.waits.length, 3, 'four attempts with backoff');
      if (answer.headers)
        assert.ok(
          time.waits.every((w) => w >= 1000),
          `Retry-After honoured: ${time.waits}`,
        );
      assert.strictEqual(reloads, 0, 'nothing to read again: the login is not in doubt');
      assert.strictEqual(tokens.current().refreshToken, before);
      assert.strictEqual(sim.restCalls().length, 0);
      assert.strictEqual(await spent(client), 0);
      sim.faults.reset();
      assert.ok((await client.getMappings()).length > 0, 'the same login works once the service is back');
    });
  }

  it('no answer or a reset from the login service: "no answer", the login kept, nothing spent', async () => {
    const { client, tokens } = accountFor(sim);
    await tokens.setTokens({ ...tokens.current(), expiresAt: 0 });
    const before = tokens.current().refreshToken;
    sim.faults.dropNextRefresh(4);
    const e = await failure(client.getMappings());
    assert.deepStrictEqual([e.kind, e.retryable], ['network', true]);
    assert.match(e.message, /no answer from BMW's login service/);
    assert.strictEqual(tokens.current().refreshToken, before);
    assert.strictEqual(await spent(client), 0);
  });

  it('a Retry-After of the login service is waited for before the refresh is tried again', async () => {
    const { client, tokens, time } = accountFor(sim);
    await tokens.setTokens({ ...tokens.current(), expiresAt: 0 });
    sim.faults.answerNext(1, { status: 429, headers: { 'Retry-After': '7' }, body: '', contentType: 'text/plain' }, { path: /oauth\/token/ });
    sim.faults.answerNext(1, { status: 503, headers: { 'Retry-After': '3' }, body: '', contentType: 'text/plain' }, { path: /oauth\/token/ });
    assert.ok((await client.getMappings()).length > 0);
    assert.strictEqual(time.waits.length, 2);
    assert.ok(time.waits[0] >= 7000 && time.waits[1] >= 3000, `waited ${time.waits}`);
    assert.strictEqual(await spent(client), 1);
  });

  for (const [error, status] of [
    ['invalid_grant', 400],
    ['invalid_request', 400],
  ]) {
    it(`an OAuth ${error} ends the login after the stored tokens were read once more: "authorize again"`, async () => {
      let reloads = 0;
      const { client, tokens, time } = accountFor(sim, { reloadTokens: async () => (reloads++, tokens.current()) });
      await tokens.setTokens({ ...tokens.current(), expiresAt: 0 });
      sim.faults.answerNext(
        1,
        { status, body: JSON.stringify({ error, error_description: 'Unknown refresh token' }), contentType: 'application/json' },
        { path: /oauth\/token/ },
      );
      const e = await failure(client.getMappings());
      assert.deepStrictEqual([e.kind, e.retryable, e.oauthError], ['auth', false, error]);
      assert.match(e.message, /authorize the account again/);
      assert.strictEqual(reloads, 1);
      assert.deepStrictEqual(time.waits, [], 'not retried');
      assert.strictEqual(await spent(client), 0);
    });
  }

  it('an OAuth invalid_client ends the login: "check the client ID"', async () => {
    const { client, tokens } = accountFor(sim);
    await tokens.setTokens({ ...tokens.current(), expiresAt: 0 });
    sim.faults.answerNext(1, { status: 401, body: JSON.stringify({ error: 'invalid_client' }), contentType: 'application/json' }, { path: /oauth\/token/ });
    const e = await failure(client.getMappings());
    assert.deepStrictEqual([e.kind, e.retryable, e.oauthError], ['auth', false, 'invalid_client']);
    assert.match(e.hint, /Check the client ID/);
  });

  it('a hanging login service counts inside the call deadline: the whole call ends by it', async function () {
    this.timeout(10_000);
    const account = createAccount({
      clientId: 'matrix-client',
      apiBaseUrl: sim.apiBaseUrl,
      authBaseUrl: sim.authBaseUrl,
      tokens: { ...tokenSetFromResponse(sim.issueTokens({ clientId: 'matrix-client' }), Date.now()), expiresAt: 0 },
      sleep: nodeSleep,
      timeoutMs: 400,
      deadlineMs: 1_500,
    });
    sim.faults.hangNext(20, { path: /oauth\/token/ });
    const started = Date.now();
    const e = await failure(account.client.getMappings());
    const took = Date.now() - started;
    assert.deepStrictEqual([e.kind, e.retryable], ['network', true]);
    assert.match(e.message, /ETIMEDOUT/);
    assert.ok(took <= 1_500 + 1_000, `ended after ${took} ms`);
    assert.strictEqual(sim.restCalls().length, 0);
    assert.strictEqual(await spent(account.client), 0);
  });

  it('an access token BMW refuses with a dead refresh token: 55 calls spend nothing, and a new login has the whole day', async () => {
    const { tokens } = accountFor(sim);
    const old = tokens.current().refreshToken;
    await tokens.refresh();
    const dead = accountFor(sim, {
      tokens: { ...tokens.current(), accessToken: 'revoked-access-token', refreshToken: old, expiresAt: Date.now() + 3_600_000 },
    });
    for (let i = 0; i < 55; i++) {
      const e = await failure(dead.client.getMappings());
      assert.strictEqual(e.kind, 'auth');
    }
    assert.strictEqual(sim.restCalls().filter((r) => r.status === 401).length, 55, 'each call met a 401 at BMW');
    assert.strictEqual(await spent(dead.client), 0, 'a 401 is not counted');
    // Authorized again: the same account (one quota store) is not locked out.
    await dead.tokens.setTokens(tokenSetFromResponse(sim.issueTokens({ clientId: 'matrix-client' }), Date.now()));
    assert.ok((await dead.client.getMappings()).length > 0);
    assert.strictEqual(await spent(dead.client), 1);
  });

  it('a refresh token rotated by another process is read again instead of asking to authorize again', async () => {
    // Two processes on one stored token set (the CLI and Node-RED on one account file).
    let stored = tokenSetFromResponse(sim.issueTokens({ clientId: 'matrix-client' }), Date.now());
    const shared = { tokens: { ...stored, expiresAt: 0 }, onTokens: (t) => (stored = { ...t }), reloadTokens: async () => stored };
    const first = accountFor(sim, shared);
    const second = accountFor(sim, shared);
    assert.ok((await first.client.getMappings()).length > 0, 'the first process rotates the refresh token');
    const refreshesBefore = sim.requests.filter((r) => r.grantType === 'refresh_token').length;
    assert.ok((await second.client.getMappings()).length > 0, 'the second one adopts the rotated set');
    const refreshes = sim.requests.filter((r) => r.grantType === 'refresh_token').length - refreshesBefore;
    assert.strictEqual(refreshes, 1, 'its own refresh was refused; the stored access token was still good');
    assert.strictEqual(second.tokens.current().refreshToken, stored.refreshToken);
  });
});
