// The client's reads from the answer cache against a scripted BMW on loopback: which operations are kept and for
// how long, the key an answer is kept under, what a kept answer looks like, what a run's report counts, and the
// options of the client (attended runs, retries) that reach the quota and the retries.
import assert from 'assert';
import * as http from 'http';
import * as core from '../../../src/node';
import { failure } from '../../support/failure';
import type { OperationId } from '../../../src/core';

const { CarDataClient, AxiosTransport, TokenManager, AnswerCache, CacheReport, QuotaLedger, MemoryQuotaStore, CarDataError, normaliseMappings } = core;

const VIN = 'WBA12345678901234';
const CONTAINER = 'CABCDEFGHJ123';
const SOC = 'vehicle.drivetrain.batteryManagement.header';
const BASIC = { vin: VIN, modelName: 'i4 eDrive40' };
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]);
const MAX_AGE_MESSAGE = 'The longest age of a cached answer must be 0 or more milliseconds';

/** A BMW whose every answer is scripted: `answer(req)` returns { status, type, body, headers }. */
async function scriptedBmw(answer: (req: { method: string; path: string; query: Record<string, string> }) => Record<string, unknown> | undefined) {
  const requests: { method: string; path: string; query: Record<string, string> }[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = new URL(req.url as string, 'http://x');
      const entry = { method: req.method as string, path: url.pathname, query: Object.fromEntries(url.searchParams) };
      requests.push(entry);
      const a = (answer(entry) ?? { body: {} }) as { status?: number; type?: string; body?: unknown; headers?: Record<string, string> };
      const text = typeof a.body === 'string' || Buffer.isBuffer(a.body) ? a.body : JSON.stringify(a.body ?? {});
      res.writeHead(a.status ?? 200, { 'content-type': a.type ?? 'application/json', ...(a.headers ?? {}) });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    close: () => new Promise((r) => server.close(r)),
  };
}

/** A store as a host keeps it: what was saved last, as JSON. */
function jsonStore(initial?: unknown) {
  let text = initial === undefined ? undefined : JSON.stringify(initial);
  return {
    load: () => (text === undefined ? undefined : JSON.parse(text)),
    save: (answers: unknown) => {
      text = JSON.stringify(answers);
    },
    keys: (): string[] => (text === undefined ? [] : Object.keys(JSON.parse(text))),
  };
}

/** Every request BMW got, as `METHOD path`. */
const asked = (bmw: { requests: { method: string; path: string }[] }) => bmw.requests.map((r) => `${r.method} ${r.path}`);

describe('core client: answers from the cache', function () {
  let bmw: Awaited<ReturnType<typeof scriptedBmw>> | undefined;
  let now = Date.UTC(2026, 5, 1, 12);
  const clock = () => now;
  afterEach(async () => {
    if (bmw) await bmw.close();
    bmw = undefined;
  });

  function carData(extra = {}) {
    return (req: { method: string; path: string }) => {
      const scripted = (extra as Record<string, Record<string, unknown>>)[`${req.method} ${req.path}`];
      if (scripted) return scripted;
      if (req.path.endsWith('/basicData')) return { body: BASIC };
      if (req.path.endsWith('/image')) return { type: 'image/jpeg ; quality=high', body: PNG };
      if (req.path.endsWith('/telematicData')) return { body: { telematicData: { soc: { value: '80' } } } };
      if (req.path.endsWith('/locationBasedChargingSettings')) return { body: { data: [{ id: 'home' }] } };
      if (req.path.endsWith('/chargingHistory')) return { body: { data: [] } };
      if (req.path === '/customers/containers') return { body: { containers: [] } };
      return undefined;
    };
  }

  function cachedClient(store = jsonStore(), extra = {}) {
    const answers = new AnswerCache(store, {}, clock);
    const client = new CarDataClient({
      apiBaseUrl: (bmw as { url: string }).url,
      transport: new AxiosTransport(),
      sleep: async () => {},
      now: clock,
      answers,
      ...extra,
    });
    return { client, store, answers };
  }

  it('keeps basic data for a day by default under the operation and its path, and serves a copy with the status, type and time BMW gave it', async () => {
    bmw = await scriptedBmw(carData());
    const { client, store } = cachedClient();
    const given = now;
    assert.deepStrictEqual(await client.getBasicData(VIN), BASIC);
    assert.deepStrictEqual(store.keys(), [`getBasicData /customers/vehicles/${VIN}/basicData`]);
    now += 23 * 3_600_000;
    const kept = await client.call('getBasicData', { vin: VIN });
    assert.deepStrictEqual(kept, { status: 200, headers: { 'content-type': 'application/json' }, body: BASIC, fromCache: { at: given } });
    (kept.body as { modelName: string }).modelName = 'changed by the caller';
    assert.deepStrictEqual(await client.getBasicData(VIN), BASIC, 'the cache keeps what BMW said');
    assert.deepStrictEqual(asked(bmw), [`GET /customers/vehicles/${VIN}/basicData`]);
    now += 3_600_000;
    await client.getBasicData(VIN);
    assert.strictEqual(bmw.requests.length, 2, 'a day later BMW is asked again');
  });

  it('a read may ask for younger answers than the operation keeps; 0 asks BMW and still keeps the answer', async () => {
    bmw = await scriptedBmw(carData());
    const { client } = cachedClient();
    await client.getBasicData(VIN, { maxAgeMs: 0 });
    await client.getBasicData(VIN);
    assert.strictEqual(bmw.requests.length, 1, 'kept by the read that asked BMW');
    await client.getBasicData(VIN, { maxAgeMs: 0 });
    assert.strictEqual(bmw.requests.length, 2, '0 always asks BMW, even for an answer of this instant');
    now += 10_000;
    await client.getBasicData(VIN, { maxAgeMs: 5000 });
    assert.strictEqual(bmw.requests.length, 3, 'older than asked');
    await client.getBasicData(VIN, { maxAgeMs: 5000 });
    assert.strictEqual(bmw.requests.length, 3, 'young enough');
  });

  it('telematic data (lifetime 0) is kept only when a read asks for an age; what a read with 0 got is not kept', async () => {
    bmw = await scriptedBmw(carData());
    const { client, store } = cachedClient();
    await client.getTelematicData(VIN, CONTAINER);
    assert.deepStrictEqual(store.keys(), [], 'not kept');
    await client.getTelematicData(VIN, CONTAINER, { maxAgeMs: 60_000 });
    assert.strictEqual(bmw.requests.length, 2);
    assert.deepStrictEqual(store.keys(), [`getTelematicData /customers/vehicles/${VIN}/telematicData?containerId=${CONTAINER}`]);
    const again = await client.call('getTelematicData', { vin: VIN, containerId: CONTAINER }, { maxAgeMs: 60_000 });
    assert.strictEqual(bmw.requests.length, 2, 'from the cache');
    assert.deepStrictEqual(again.fromCache, { at: now });
  });

  it('operations without a lifetime (the container list) are never kept, whatever the read asks', async () => {
    bmw = await scriptedBmw(carData());
    const { client, store } = cachedClient();
    await client.call('listContainers', {}, { maxAgeMs: 60_000 });
    await client.call('listContainers', {}, { maxAgeMs: 60_000 });
    assert.strictEqual(bmw.requests.length, 2);
    assert.deepStrictEqual(store.keys(), []);
  });

  it('the query is part of the key, its parameters in a fixed order', async () => {
    bmw = await scriptedBmw(carData());
    const { client, store } = cachedClient();
    const from = '2026-05-01T00:00:00Z';
    const to = '2026-05-31T00:00:00Z';
    await client.call('getChargingHistory', { vin: VIN, from, to, nextToken: 'p2' }, { maxAgeMs: 60_000 });
    assert.deepStrictEqual(store.keys(), [
      `getChargingHistory /customers/vehicles/${VIN}/chargingHistory?from=${encodeURIComponent(from)}&nextToken=p2&to=${encodeURIComponent(to)}`,
    ]);
  });

  it('without a cache every read asks BMW', async () => {
    bmw = await scriptedBmw(carData());
    const client = new CarDataClient({ apiBaseUrl: bmw.url, transport: new AxiosTransport(), sleep: async () => {}, now: clock });
    await client.getBasicData(VIN);
    await client.getBasicData(VIN);
    assert.strictEqual(bmw.requests.length, 2);
    assert.strictEqual(client.keptAnswer('getBasicData', { vin: VIN }), undefined);
  });

  it('an image is kept as bytes with its type: the kept one is the same picture, named by its type', async () => {
    bmw = await scriptedBmw(carData());
    const { client } = cachedClient();
    const first = await client.getImage(VIN);
    assert.deepStrictEqual(first, { data: PNG, contentType: 'image/jpeg', fileName: `${VIN}.jpg` });
    const report = new CacheReport();
    const kept = await client.getImage(VIN, { report });
    assert.strictEqual(bmw.requests.length, 1);
    assert.deepStrictEqual(kept, first);
    assert.deepStrictEqual(report.summary(now), { fromCache: true, cacheAgeSeconds: 0 });
  });

  it('an image a store held as text or JSON is given as those bytes', async () => {
    bmw = await scriptedBmw(carData());
    const path = `getImage /customers/vehicles/${VIN}/image`;
    const text = cachedClient(jsonStore({ [path]: { at: now, status: 200, contentType: 'image/png', body: 'PNGTEXT' } })).client;
    assert.strictEqual((await text.getImage(VIN)).data.toString(), 'PNGTEXT');
    const json = cachedClient(jsonStore({ [path]: { at: now, status: 200, body: { a: 1 } } })).client;
    const image = await json.getImage(VIN);
    assert.deepStrictEqual([image.data.toString(), image.contentType], ['{"a":1}', 'image/png']);
    assert.strictEqual(bmw.requests.length, 0);
  });

  it('keptAnswer: nothing for an unknown operation or for what has no lifetime, even when a store held it', () => {
    now = Date.UTC(2026, 5, 2);
    const store = jsonStore({ 'listContainers /customers/containers': { at: now, status: 200, body: { containers: [] } } });
    const client = new CarDataClient({ transport: new AxiosTransport(), sleep: async () => {}, now: clock, answers: new AnswerCache(store, {}, clock) });
    assert.strictEqual(client.keptAnswer('listContainers'), undefined);
    assert.strictEqual(client.keptAnswer('noSuchOperation' as OperationId), undefined);
  });

  it('a report hears of every answer of a paged read and of telematic values, and the read age reaches them', async () => {
    bmw = await scriptedBmw(
      carData({
        'POST /customers/containers': { status: 201, body: { containerId: CONTAINER, name: 'x', purpose: 'x', technicalDescriptors: [SOC] } },
      }),
    );
    const { client } = cachedClient();
    const report = new CacheReport();
    const items = await client.paginate('getLocationBasedChargingSettings', { vin: VIN }, { report });
    assert.deepStrictEqual(items, [{ id: 'home' }]);
    assert.deepStrictEqual(report.summary(now), { fromCache: false });
    await client.paginate('getLocationBasedChargingSettings', { vin: VIN }, { maxAgeMs: 0 });
    assert.strictEqual(bmw.requests.length, 2, 'maxAgeMs 0 reaches the pages');

    const telematic = new CacheReport();
    await client.getTelematicValues(VIN, [SOC], { maxAgeMs: 60_000, report: telematic });
    assert.deepStrictEqual(telematic.summary(now), { fromCache: false });
    const before = bmw.requests.length;
    await client.getTelematicValues(VIN, [SOC], { maxAgeMs: 60_000, report: telematic });
    assert.strictEqual(bmw.requests.length, before, 'the read age reached the telematic read');
  });

  it('refuses a read age that is negative, not a number or endless, by its field and in words', async () => {
    bmw = await scriptedBmw(carData());
    const { client } = cachedClient();
    for (const maxAgeMs of [-1, Number.NaN, Infinity, '5000' as unknown as number]) {
      const e = await failure(client.getBasicData(VIN, { maxAgeMs }));
      assert.ok(e instanceof CarDataError);
      assert.deepStrictEqual([e.kind, e.parameter, e.message], ['input', 'cacheMaxAge', MAX_AGE_MESSAGE], String(maxAgeMs));
    }
    assert.strictEqual(bmw.requests.length, 0);
  });
});

describe('core client: options and refusals', function () {
  let bmw: Awaited<ReturnType<typeof scriptedBmw>> | undefined;
  afterEach(async () => {
    if (bmw) await bmw.close();
    bmw = undefined;
  });

  it('a client is unattended unless told: the reserve is only for an attended run', async () => {
    bmw = await scriptedBmw(() => ({ body: BASIC }));
    const quota = new QuotaLedger({ limit: 3, reserve: 2, store: new MemoryQuotaStore() });
    const client = new CarDataClient({ apiBaseUrl: bmw.url, transport: new AxiosTransport(), sleep: async () => {}, quota });
    await client.getBasicData(VIN);
    const refused = await failure(client.getBasicData(VIN));
    assert.ok(refused instanceof CarDataError && refused.kind === 'quota', String(refused));
    assert.strictEqual(bmw.requests.length, 1);
    await client.forRun({ attended: true }).getBasicData(VIN);
    assert.strictEqual(bmw.requests.length, 2, 'an attended run spends the reserve');
    const attended = new CarDataClient({ apiBaseUrl: bmw.url, transport: new AxiosTransport(), sleep: async () => {}, quota, attended: true });
    await attended.getBasicData(VIN);
    assert.strictEqual(bmw.requests.length, 3);
  });

  it("the refresh after a 401 keeps to the call's deadline: a login hiccup is not waited out past it", async () => {
    bmw = await scriptedBmw((req) =>
      req.path === '/oauth/token' ? { status: 503, body: {} } : { status: 401, body: { exveErrorId: 'CU-101', exveErrorMsg: 'bad token' } },
    );
    const endpoint = { transport: new AxiosTransport(), clientId: 'client-1', authBaseUrl: bmw.url, sleep: async () => {}, random: () => 0 };
    const tokens = new TokenManager({ ...endpoint, tokens: { accessToken: 'at', refreshToken: 'rt', expiresAt: Date.now() + 3_600_000 } });
    const client = new CarDataClient({ apiBaseUrl: bmw.url, transport: new AxiosTransport(), sleep: async () => {}, tokens, deadlineMs: 1000 });
    const e = await failure(client.getBasicData(VIN));
    assert.deepStrictEqual([e.kind, e.status], ['http', 503]);
    assert.deepStrictEqual(asked(bmw), [`GET /customers/vehicles/${VIN}/basicData`, 'POST /oauth/token']);
  });

  it('the retries given replace the default ones', async () => {
    bmw = await scriptedBmw(() => ({ status: 503, body: {} }));
    const waits: number[] = [];
    const client = new CarDataClient({
      apiBaseUrl: bmw.url,
      transport: new AxiosTransport(),
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 1,
      retry: { maxAttempts: 2, baseDelayMs: 100 },
    });
    await failure(client.getBasicData(VIN));
    assert.strictEqual(bmw.requests.length, 2);
    assert.strictEqual(waits.length, 1);
    assert.ok(waits[0] <= 200, `waited ${waits[0]} ms`);
  });

  it('BMW saying the day is spent is the quota error also for a client that counts nothing', async () => {
    bmw = await scriptedBmw(() => ({ status: 403, body: { exveErrorId: 'CU-429', exveErrorMsg: 'quota exceeded' } }));
    const client = new CarDataClient({ apiBaseUrl: bmw.url, transport: new AxiosTransport(), sleep: async () => {} });
    const e = await failure(client.getBasicData(VIN));
    assert.ok(e instanceof CarDataError && e.kind === 'quota', String(e));
  });

  it('charging history needs its range: a missing "from", or no range at all, is refused before a request', async () => {
    bmw = await scriptedBmw(() => ({ body: { data: [] } }));
    const client = new CarDataClient({ apiBaseUrl: bmw.url, transport: new AxiosTransport(), sleep: async () => {} });
    const e = await failure(client.call('getChargingHistory', { vin: VIN, to: '2026-05-01T00:00:00Z' }));
    assert.ok(e instanceof CarDataError);
    assert.deepStrictEqual([e.kind, e.parameter, e.message], ['input', 'from', '"from" is required']);
    const neither = await failure(client.call('getChargingHistory', { vin: VIN }));
    assert.deepStrictEqual([neither.parameter, neither.message], ['from', '"from" is required']);
    assert.strictEqual(bmw.requests.length, 0);
  });

  it('paginate refuses an operation that is not paged, naming it (at most 40 characters) and the paged ones', () => {
    const client = new CarDataClient({ transport: new AxiosTransport(), sleep: async () => {} });
    const refuse = (id: string) => {
      try {
        client.paginate(id as 'getChargingHistory', { vin: VIN, from: '2026-01-01', to: '2026-02-01' });
      } catch (e) {
        return e as InstanceType<typeof CarDataError>;
      }
      assert.fail('expected a refusal');
    };
    const e = refuse('getBasicData');
    assert.deepStrictEqual(
      [e.kind, e.parameter, e.message, e.hint],
      ['input', 'operation', 'getBasicData is not a paged operation', 'One of: getChargingHistory, getLocationBasedChargingSettings'],
    );
    assert.strictEqual(refuse('x'.repeat(50)).message, `${'x'.repeat(40)} is not a paged operation`);
  });

  it('the container list: a wrapper without its list is no container', async () => {
    bmw = await scriptedBmw(() => ({ body: { containers: [] } }));
    const client = new CarDataClient({ apiBaseUrl: bmw.url, transport: new AxiosTransport(), sleep: async () => {} });
    assert.deepStrictEqual(await client.listContainers(), []);
  });

  it('mappings from nothing, a text or an object without a list are none', () => {
    assert.deepStrictEqual(normaliseMappings(null), []);
    assert.deepStrictEqual(normaliseMappings('WBA12345678901234'), []);
    assert.deepStrictEqual(normaliseMappings({ vehicles: 'none' }), []);
    assert.deepStrictEqual(normaliseMappings({ data: [{ vin: VIN }] }), [{ vin: VIN }]);
  });
});
