import assert from 'assert';
import { startSimulator, SIM_VINS } from '../../../src/simulator';
import * as core from '../../../src/node';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { simulatorAccount } from '../../support/simulator-account';

const { createAccount, tokenSetFromResponse, CarDataError, OPERATION_IDS } = core;

/** A sleep that returns at once and remembers what was asked, so retry timing is checked without waiting. */
function recordingSleep() {
  const waits = [];
  const sleep = async (ms) => {
    waits.push(ms);
  };
  sleep.waits = waits;
  return sleep;
}

function accountFor(sim, extra = {}) {
  const sleep = recordingSleep();
  const rotations = [];
  const account = simulatorAccount(sim, {
    onTokens: (t) => rotations.push(t),
    sleep,
    dailyQuota: sim.quota().limit,
    ...extra,
  });
  return { ...account, sleep, rotations };
}

async function rejects(promise, check) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error, 'expected a rejection');
  check(error);
  return error;
}

const YEAR_AGO = new Date(Date.now() - 365 * 86400_000).toISOString();
const NOW = new Date().toISOString();

describe('core client against the simulator', function () {
  let sim;
  beforeEach(async () => {
    sim = await startSimulator({ dailyQuota: 1000 });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('covers every operation of the table with a typed method', async () => {
    const { client } = accountFor(sim);
    const mappings = await client.getMappings();
    assert.ok(Array.isArray(mappings));
    assert.deepStrictEqual(mappings.map((m) => m.vin).sort(), [SIM_VINS.bev, SIM_VINS.phev, SIM_VINS.secondary].sort());

    const basic = await client.getBasicData(SIM_VINS.bev);
    assert.strictEqual(basic.vin, SIM_VINS.bev);
    assert.strictEqual(basic.propulsionType, 'BEV');

    const tyres = await client.getTyreDiagnosis(SIM_VINS.bev);
    assert.ok(tyres.passengerCar && tyres.passengerCar.mountedTyres && tyres.passengerCar.mountedTyres.frontLeft);

    const image = await client.getImage(SIM_VINS.bev);
    assert.strictEqual(image.contentType, 'image/png');
    assert.deepStrictEqual([...image.data.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

    const sessions = await client.paginate('getChargingHistory', { vin: SIM_VINS.bev, from: YEAR_AGO, to: NOW }, { limit: 5 });
    assert.strictEqual(sessions.length, 5);
    assert.ok(sessions.every((s) => typeof s.startTime === 'number' && typeof s.displayedSoc === 'number'));

    const settings = await client.paginate('getLocationBasedChargingSettings', { vin: SIM_VINS.bev });
    assert.ok(settings.length >= 3, `expected several locations, got ${settings.length}`);

    const created = await client.createContainer({ name: 'test', purpose: 'test', technicalDescriptors: ['vehicle.drivetrain.batteryManagement.header'] });
    assert.strictEqual(created.containerId.length, 13);
    const listed = await client.listContainers();
    assert.ok(listed.some((c) => c.containerId === created.containerId && c.state === 'ACTIVE'));
    const details = await client.getContainer(created.containerId);
    assert.deepStrictEqual(details.technicalDescriptors, ['vehicle.drivetrain.batteryManagement.header']);
    const values = await client.getTelematicData(SIM_VINS.bev, created.containerId);
    const soc = values.telematicData['vehicle.drivetrain.batteryManagement.header'];
    assert.ok(soc && Number(soc.value) >= 0 && Number(soc.value) <= 100, JSON.stringify(soc));
    assert.deepStrictEqual(await client.deleteContainer(created.containerId), { containerId: created.containerId, deleted: true, alreadyDeleted: false });
    assert.deepStrictEqual(await client.deleteContainer(created.containerId), { containerId: created.containerId, deleted: true, alreadyDeleted: true });

    const called = new Set(
      sim.restCalls().map((r) => `${r.method} ${r.path.replace(/\/[A-Z0-9]{17}\//, '/{vin}/').replace(/containers\/[^/]+$/, 'containers/{containerId}')}`),
    );
    const expected = OPERATION_IDS.map((id) => `${core.OPERATIONS[id].method} ${core.OPERATIONS[id].path}`);
    for (const op of expected) assert.ok(called.has(op), `operation not exercised: ${op}`);
  });

  it('sends x-version and the access token, never the id token', async () => {
    const { client, tokens } = accountFor(sim);
    await client.getMappings();
    const [entry] = sim.restCalls();
    assert.strictEqual(entry.bearer, tokens.current().accessToken);
    assert.notStrictEqual(entry.bearer, tokens.current().idToken);
    assert.strictEqual(entry.status, 200);
  });

  it('follows next_token across charging history pages and returns every session once', async () => {
    const { client } = accountFor(sim);
    const pages = [];
    for await (const page of client.paginate('getChargingHistory', { vin: SIM_VINS.bev, from: YEAR_AGO, to: NOW }).pages()) pages.push(page);
    assert.ok(pages.length > 3, `expected several pages, got ${pages.length}`);
    assert.ok(
      pages.slice(0, -1).every((p) => typeof p.next_token === 'string' && p.nextToken === undefined),
      'history uses snake_case tokens',
    );
    const starts = pages.flatMap((p) => p.data.map((s) => s.startTime));
    assert.strictEqual(new Set(starts).size, starts.length, 'no session twice');
    assert.strictEqual(sim.restCalls().length, pages.length);
    const withToken = sim.restCalls().filter((r) => r.query.nextToken);
    assert.strictEqual(withToken.length, pages.length - 1);
  });

  it('paginate: awaited, iterated and paged, one read of the same items; only paged operations', async () => {
    const { client } = accountFor(sim);
    const range = { vin: SIM_VINS.bev, from: YEAR_AGO, to: NOW };
    const read = client.paginate('getChargingHistory', range, { limit: 60 });
    assert.strictEqual(sim.restCalls().length, 0, 'nothing is read until awaited or iterated');
    const all = await read;
    assert.strictEqual(all.length, 60);
    assert.strictEqual(sim.restCalls().length, 3, '25 per page: three pages for 60 sessions');
    const iterated = [];
    for await (const session of client.paginate('getChargingHistory', range, { limit: 60 })) iterated.push(session);
    assert.deepStrictEqual(iterated, all);
    const pages = [];
    for await (const page of client.paginate('getChargingHistory', range, { limit: 60 }).pages()) pages.push(page);
    assert.deepStrictEqual(pages.flatMap((p) => p.data).slice(0, 60), all);
    sim.clearLog();
    for (const id of ['getMappings', 'getImage', 'noSuchOperation']) {
      assert.throws(
        () => client.paginate(id, { vin: SIM_VINS.bev }),
        (e) =>
          e instanceof CarDataError && e.kind === 'input' && e.parameter === 'operation' && /getChargingHistory, getLocationBasedChargingSettings/.test(e.hint),
      );
    }
    assert.strictEqual(sim.restCalls().length, 0);
  });

  it('follows nextToken across charging settings pages', async () => {
    const { client } = accountFor(sim);
    const pages = [];
    for await (const page of client.paginate('getLocationBasedChargingSettings', { vin: SIM_VINS.bev }).pages()) pages.push(page);
    assert.ok(pages.length >= 2);
    assert.ok(
      pages.slice(0, -1).every((p) => typeof p.nextToken === 'string' && p.next_token === undefined),
      'settings use camelCase tokens',
    );
    const ids = pages.flatMap((p) => p.data.map((d) => d.id));
    assert.strictEqual(new Set(ids).size, ids.length);
  });

  it('stops fetching once the item limit is reached', async () => {
    const { client } = accountFor(sim);
    const progress = [];
    const sessions = [];
    for await (const s of client.paginate('getChargingHistory', { vin: SIM_VINS.bev, from: YEAR_AGO, to: NOW }, { limit: 30, onPage: (p) => progress.push(p) }))
      sessions.push(s);
    assert.strictEqual(sessions.length, 30);
    // 25 per page: 30 items need exactly two pages, not one more.
    assert.strictEqual(sim.restCalls().length, 2);
    assert.deepStrictEqual(
      progress.map((p) => p.pages),
      [1, 2],
    );
  });

  it('reports an expired page token (CU-125) as a clear error instead of looping', async () => {
    const { client } = accountFor(sim);
    const iterator = client.paginate('getChargingHistory', { vin: SIM_VINS.bev, from: YEAR_AGO, to: NOW }).pages();
    await iterator.next();
    sim.expirePageTokens();
    const err = await rejects(iterator.next(), (e) => assert.ok(e instanceof CarDataError));
    assert.strictEqual(err.exveErrorId, 'CU-125');
    assert.match(err.hint, /Start the read again/);
    assert.strictEqual(sim.restCalls().length, 2);
  });

  it('rides out a burst of 503 answers on a GET with backoff and jitter', async () => {
    const { client, sleep } = accountFor(sim);
    sim.faults.failNext(3, 503);
    const mappings = await client.getMappings();
    assert.strictEqual(mappings.length, 3);
    assert.deepStrictEqual(
      sim.restCalls().map((r) => r.status),
      [503, 503, 503, 200],
    );
    assert.strictEqual(sleep.waits.length, 3);
    // Exponential caps 500, 1000, 2000 ms with jitter in the upper half of each.
    sleep.waits.forEach((w, i) => assert.ok(w >= 250 * 2 ** i && w <= 500 * 2 ** i, `wait ${i} = ${w}`));
  });

  it('honours Retry-After on a 503', async () => {
    const { client, sleep } = accountFor(sim);
    sim.faults.failNext(1, 503, { retryAfterSec: 7 });
    await client.getMappings();
    assert.deepStrictEqual(sleep.waits, [7000]);
  });

  it('gives up after a bounded number of attempts', async () => {
    const { client } = accountFor(sim);
    sim.faults.failNext(10, 500);
    const err = await rejects(client.getMappings(), () => {});
    assert.strictEqual(err.status, 500);
    assert.strictEqual(sim.restCalls().length, 4);
  });

  it('retries a dropped connection on a GET', async () => {
    const { client } = accountFor(sim);
    sim.faults.dropNext(2);
    assert.strictEqual((await client.getMappings()).length, 3);
    assert.strictEqual(sim.restCalls().filter((r) => r.status === 200).length, 1);
  });

  it('never retries a 4xx', async () => {
    const { client, sleep } = accountFor(sim);
    const err = await rejects(client.getBasicData(SIM_VINS.secondary), () => {});
    assert.strictEqual(err.exveErrorId, 'CU-104');
    assert.strictEqual(err.status, 403);
    assert.strictEqual(err.kind, 'bmw');
    assert.match(err.hint, /PRIMARY/);
    assert.strictEqual(sim.restCalls().length, 1);
    assert.strictEqual(sleep.waits.length, 0);
  });

  it('does not retry a POST on a 503', async () => {
    const { client } = accountFor(sim);
    sim.faults.failNext(1, 503);
    await rejects(client.createContainer({ name: 'x', purpose: 'x', technicalDescriptors: ['vehicle.drivetrain.batteryManagement.header'] }), (e) =>
      assert.strictEqual(e.status, 503),
    );
    assert.strictEqual(sim.restCalls().length, 1);
  });

  it('explains BMW errors with code and hint, and never shows a token', async () => {
    const { client, tokens } = accountFor(sim);
    const err = await rejects(client.getImage(SIM_VINS.phev), () => {});
    assert.strictEqual(err.exveErrorId, 'CU-126');
    const text = `${err.message} ${err.hint} ${JSON.stringify(err)}`;
    assert.ok(!text.includes(tokens.current().accessToken));
    assert.ok(!text.includes(tokens.current().refreshToken));
    assert.ok(!text.includes('test-client-id'));
  });
});

describe('daily quota', function () {
  let sim;
  beforeEach(async () => {
    sim = await startSimulator({ dailyQuota: 50 });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('refuses the 51st call locally, without retry, and every later call too', async () => {
    const { client, sleep } = accountFor(sim);
    for (let i = 0; i < 50; i += 1) await client.getMappings({ maxAgeMs: 0 }); // every call asks BMW: the vehicle list is otherwise kept a day
    assert.deepStrictEqual(await client.quotaState().then((q) => [q.used, q.limit, q.remaining]), [50, 50, 0]);
    const err = await rejects(client.getMappings({ maxAgeMs: 0 }), () => {});
    assert.strictEqual(err.kind, 'quota');
    assert.strictEqual(err.exveErrorId, 'CU-429');
    assert.match(err.message, /refused locally/);
    await rejects(client.getBasicData(SIM_VINS.bev), (e) => assert.strictEqual(e.kind, 'quota'));
    assert.strictEqual(sim.restCalls().length, 50, 'no call beyond the budget reached BMW');
    assert.strictEqual(sleep.waits.length, 0);
  });

  it("treats BMW's 403 CU-429 as the quota, not as an auth error, and stops asking", async () => {
    sim.setQuotaUsed(50); // spent elsewhere (another app on the same account)
    const { client, tokens } = accountFor(sim);
    const before = tokens.current().refreshToken;
    const err = await rejects(client.getMappings(), () => {});
    assert.strictEqual(err.kind, 'quota');
    assert.strictEqual(err.status, 403);
    assert.strictEqual(sim.restCalls().length, 1, 'CU-429 is not retried');
    assert.strictEqual(tokens.current().refreshToken, before, 'no re-authorization on CU-429');
    await rejects(client.getMappings(), (e) => assert.match(e.message, /refused locally/));
    assert.strictEqual(sim.restCalls().length, 1);
    const state = await client.quotaState();
    assert.strictEqual(state.remaining, 0);
    assert.match(state.resetsAt, /T00:00:00Z$/);
  });

  it('resets at 00:00 UTC', async () => {
    let now = Date.parse('2026-03-10T23:59:00Z');
    const ledger = new core.QuotaLedger({ limit: 2, now: () => now });
    await ledger.take('a');
    await ledger.take('a');
    await rejects(ledger.take('a'), (e) => assert.strictEqual(e.kind, 'quota'));
    assert.strictEqual((await ledger.state('b')).used, 0, 'per account');
    now = Date.parse('2026-03-11T00:00:01Z');
    assert.deepStrictEqual(await ledger.state('a'), { used: 0, limit: 2, remaining: 2, resetsAt: '2026-03-12T00:00:00Z' });
    await ledger.take('a');
  });

  it('keeps its count in a file store across restarts', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'quota-')), 'quota.json');
    const first = new core.QuotaLedger({ store: new core.FileQuotaStore(file) });
    await Promise.all([first.take('acc'), first.take('acc'), first.take('acc')]);
    const second = new core.QuotaLedger({ store: new core.FileQuotaStore(file) });
    assert.strictEqual((await second.state('acc')).used, 3);
    assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
  });
});

describe('tokens', function () {
  let sim;
  beforeEach(async () => {
    sim = await startSimulator({ dailyQuota: 1000 });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('100 concurrent calls with an expired access token cause exactly one refresh', async () => {
    const { client, tokens, rotations } = accountFor(sim);
    const oldRefresh = tokens.current().refreshToken;
    sim.expireAccessTokens();
    const results = await Promise.all(Array.from({ length: 100 }, () => client.getMappings()));
    assert.strictEqual(results.length, 100);
    const refreshes = sim.requests.filter((r) => r.kind === 'auth' && r.grantType === 'refresh_token');
    assert.strictEqual(refreshes.length, 1);
    assert.strictEqual(rotations.length, 1);
    assert.notStrictEqual(rotations[0].refreshToken, oldRefresh);
    assert.strictEqual(rotations[0].refreshToken, tokens.current().refreshToken);
    // BMW rotates refresh tokens: the old one is now refused.
    const stale = createAccount({
      clientId: 'test-client-id',
      apiBaseUrl: sim.apiBaseUrl,
      authBaseUrl: sim.authBaseUrl,
      tokens: { ...tokens.current(), refreshToken: oldRefresh, expiresAt: 0 },
    });
    await rejects(stale.client.getMappings(), (e) => {
      assert.strictEqual(e.kind, 'auth');
      assert.strictEqual(e.oauthError, 'invalid_grant');
      assert.match(e.message, /authorize the account again/);
    });
  });

  it('refreshes ahead of expiry, once, without a 401', async () => {
    const { client, tokens, rotations } = accountFor(sim);
    await tokens.setTokens({ ...tokens.current(), expiresAt: Date.now() + 60_000 });
    rotations.length = 0;
    await Promise.all([client.getMappings(), client.getMappings(), client.getMappings()]);
    assert.strictEqual(rotations.length, 1);
    assert.ok(sim.restCalls().every((r) => r.status === 200));
  });

  it('a 401 refreshes once and retries once', async () => {
    const { client, rotations } = accountFor(sim);
    sim.expireAccessTokens();
    await client.getBasicData(SIM_VINS.bev);
    assert.deepStrictEqual(
      sim.restCalls().map((r) => r.status),
      [401, 200],
    );
    assert.strictEqual(rotations.length, 1);
  });
});

describe('device code login', function () {
  let sim;
  const clientId = 'device-test-client';
  const endpoint = () => ({ transport: new core.AxiosTransport(), sleep: core.nodeSleep, clientId, authBaseUrl: sim.authBaseUrl });
  beforeEach(async () => {
    sim = await startSimulator({ pollIntervalSec: 0 });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('logs in with PKCE and the explicit scope', async () => {
    const auth = await core.startDeviceAuthorization(endpoint());
    assert.match(auth.userCode, /^[A-Za-z0-9]{8}$/);
    assert.ok(auth.verificationUriComplete.includes(encodeURIComponent(auth.userCode)));
    assert.deepStrictEqual(await core.pollDeviceAuthorization(endpoint(), auth), { status: 'pending', interval: 0 });
    sim.approve(auth.userCode);
    const result = await core.pollDeviceAuthorization(endpoint(), auth);
    assert.strictEqual(result.status, 'success');
    assert.strictEqual(result.tokens.gcid, sim.gcid);
    assert.ok(result.tokens.idToken);
    assert.ok(result.tokens.scope.includes('cardata:api:read'));
    const account = createAccount({ clientId, apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, tokens: result.tokens });
    assert.strictEqual((await account.client.getMappings()).length, 3);
  });

  it('waits through authorization_pending until approved', async () => {
    const auth = await core.startDeviceAuthorization(endpoint());
    let polls = 0;
    const tokens = await core.waitForDeviceAuthorization(endpoint(), auth, {
      sleep: async () => {
        polls += 1;
        if (polls === 3) sim.approve(auth.userCode);
      },
    });
    assert.ok(tokens.accessToken);
    assert.strictEqual(polls, 3);
  });

  it('slow_down adds 5 seconds to the interval', async () => {
    await sim.close();
    sim = await startSimulator({ pollIntervalSec: 5 });
    const auth = await core.startDeviceAuthorization(endpoint());
    assert.strictEqual(auth.interval, 5);
    assert.deepStrictEqual(await core.pollDeviceAuthorization(endpoint(), auth), { status: 'pending', interval: 5 });
    // Asking again at once is too fast: BMW answers 400 slow_down.
    assert.deepStrictEqual(await core.pollDeviceAuthorization(endpoint(), auth), { status: 'pending', interval: 10 });
    assert.strictEqual(sim.requests.filter((r) => r.oauthError === 'slow_down').length, 1);
  });

  it('access_denied stops with a plain explanation', async () => {
    const auth = await core.startDeviceAuthorization(endpoint());
    sim.deny(auth.userCode);
    const err = await rejects(core.waitForDeviceAuthorization(endpoint(), auth, { sleep: async () => {} }), () => {});
    assert.strictEqual(err.oauthError, 'access_denied');
    assert.match(err.hint, /declined/);
  });

  it('expired_token stops and says to start again', async () => {
    const auth = await core.startDeviceAuthorization(endpoint());
    sim.expireDeviceCode(auth.userCode);
    const err = await rejects(core.pollDeviceAuthorization(endpoint(), auth), () => {});
    assert.strictEqual(err.oauthError, 'expired_token');
    assert.strictEqual(err.status, 401);
    assert.match(err.hint, /expired/);
  });

  it('invalid_grant (a verifier that does not match) is reported, not retried', async () => {
    const auth = await core.startDeviceAuthorization(endpoint());
    sim.approve(auth.userCode);
    const err = await rejects(core.pollDeviceAuthorization(endpoint(), { ...auth, codeVerifier: 'x'.repeat(64) }), () => {});
    assert.strictEqual(err.oauthError, 'invalid_grant');
  });

  it('invalid_client when another client polls the code', async () => {
    const auth = await core.startDeviceAuthorization(endpoint());
    const err = await rejects(core.pollDeviceAuthorization({ ...endpoint(), clientId: 'someone-else' }, auth), () => {});
    assert.strictEqual(err.oauthError, 'invalid_client');
    assert.ok(!err.message.includes('someone-else'));
  });

  it('without the scope BMW issues tokens that fail with CU-103, explained', async () => {
    const tokens = tokenSetFromResponse(sim.issueTokens({ scope: 'authenticate_user openid' }), Date.now());
    const account = createAccount({ clientId, apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, tokens });
    const err = await rejects(account.client.getMappings(), () => {});
    assert.strictEqual(err.exveErrorId, 'CU-103');
    assert.match(err.hint, /subscribe/);
  });
});

describe('input checks before any request', function () {
  let sim;
  let client;
  before(async () => {
    sim = await startSimulator();
    ({ client } = accountFor(sim));
  });
  after(async () => {
    await sim.close();
  });

  const bev = () => SIM_VINS.bev;
  const cases: [string, (c: any) => Promise<unknown>, string][] = [
    ['empty VIN', (c) => c.getBasicData(''), 'vin'],
    ['VIN too short', (c) => c.getBasicData('WBA12345'), 'vin'],
    ['VIN too long', (c) => c.getBasicData('WBA1234567890123456'), 'vin'],
    ['lower-case VIN', (c) => c.getBasicData(bev().toLowerCase()), 'vin'],
    ['VIN with a symbol', (c) => c.getBasicData('WBA-2345678901234'), 'vin'],
    ['VIN not a string', (c) => c.getTyreDiagnosis(12345), 'vin'],
    ['container ID of 12 characters', (c) => c.getContainer('ABCDEF123456'), 'containerId'],
    ['container ID of 14 characters', (c) => c.deleteContainer('ABCDEF12345678'), 'containerId'],
    ['container ID with a slash', (c) => c.getTelematicData(bev(), 'ABCDEF/123456'), 'containerId'],
    ['missing from', (c) => c.paginate('getChargingHistory', { vin: bev(), to: NOW }), 'from'],
    ['from not ISO 8601', (c) => c.paginate('getChargingHistory', { vin: bev(), from: '31/01/2026', to: NOW }), 'from'],
    ['to as unix seconds text', (c) => c.paginate('getChargingHistory', { vin: bev(), from: YEAR_AGO, to: '1767225600' }), 'to'],
    ['from after to', (c) => c.paginate('getChargingHistory', { vin: bev(), from: NOW, to: YEAR_AGO }), 'from'],
    ['from equal to to', (c) => c.paginate('getChargingHistory', { vin: bev(), from: NOW, to: NOW }), 'from'],
    ['unknown descriptor', (c) => c.getTelematicValues(bev(), ['vehicle.no.such.key']), 'descriptors'],
    ['empty descriptor list', (c) => c.ensureContainer([]), 'descriptors'],
    ['descriptors not a list', (c) => c.ensureContainer(42), 'descriptors'],
    ['container without a name', (c) => c.createContainer({ purpose: 'p', technicalDescriptors: ['vehicle.drivetrain.batteryManagement.header'] }), 'name'],
    ['negative limit', (c) => c.paginate('getChargingHistory', { vin: bev(), from: YEAR_AGO, to: NOW }, { limit: -3 }), 'limit'],
    ['fractional limit', (c) => c.paginate('getLocationBasedChargingSettings', { vin: bev() }, { limit: 2.5 }), 'limit'],
  ];

  for (const [name, run, parameter] of cases) {
    it(`refuses ${name}`, async () => {
      sim.clearLog();
      const quotaBefore = (await client.quotaState()).used;
      await rejects(run(client), (e) => {
        assert.ok(e instanceof CarDataError, e && e.stack);
        assert.strictEqual(e.kind, 'input');
        assert.strictEqual(e.parameter, parameter);
        assert.ok(e.message.length > 10);
      });
      assert.strictEqual(sim.requests.length, 0, 'no request was made');
      assert.strictEqual((await client.quotaState()).used, quotaBefore, 'no quota spent');
    });
  }

  it('strips zero-width characters from descriptors copied from the catalogue page', () => {
    assert.deepStrictEqual(core.checkDescriptors(['vehicle.drivetrain.\u200bbatteryManagement.header\u200b', 'vehicle.drivetrain.batteryManagement.header']), [
      'vehicle.drivetrain.batteryManagement.header',
    ]);
  });
});

describe('managed containers', function () {
  let sim;
  beforeEach(async () => {
    sim = await startSimulator({ dailyQuota: 1000 });
  });
  afterEach(async () => {
    await sim.close();
  });
  const soc = 'vehicle.drivetrain.batteryManagement.header';
  const range = 'vehicle.drivetrain.electricEngine.kombiRemainingElectricRange';

  it('creates a container once and reuses it, in any descriptor order', async () => {
    const { client } = accountFor(sim);
    const first = await client.ensureContainer([soc, range]);
    assert.strictEqual(first.created, true);
    const again = await client.ensureContainer([range, soc]);
    assert.strictEqual(again.containerId, first.containerId);
    assert.strictEqual(again.fromCache, true);
    // A new process (no cache) finds it by listing, without creating another.
    const other = accountFor(sim).client;
    const found = await other.ensureContainer([soc, range]);
    assert.deepStrictEqual([found.containerId, found.created, found.fromCache], [first.containerId, false, false]);
    assert.strictEqual(sim.restCalls().filter((r) => r.method === 'POST').length, 1);
  });

  it('reads telematic values through a managed container and recovers when it was deleted', async () => {
    const { client } = accountFor(sim);
    const first = await client.getTelematicValues(SIM_VINS.bev, [soc]);
    assert.ok(first.telematicData[soc]);
    await accountFor(sim).client.deleteContainer(first.containerId);
    const second = await client.getTelematicValues(SIM_VINS.bev, [soc]);
    assert.notStrictEqual(second.containerId, first.containerId);
    assert.ok(second.telematicData[soc]);
  });

  it('explains CU-124 when the account has no room', async () => {
    const { client } = accountFor(sim);
    for (let i = 0; i < 10; i += 1) await client.createContainer({ name: `c${i}`, purpose: 'fill', technicalDescriptors: [soc] });
    const err = await rejects(client.ensureContainer([range]), () => {});
    assert.strictEqual(err.exveErrorId, 'CU-124');
    assert.match(err.message, /10 on the account/);
    assert.match(err.hint, /29 days/);
  });
});
