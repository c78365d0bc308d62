// The client's edges against a scripted BMW on loopback: what each request carries, which quota key it spends,
// how failures of the network are reported and retried, the 401 refresh, and the container body.
import assert from 'assert';
import * as http from 'http';
import * as core from '../../../src/node';
import { failure } from '../../support/failure';
import type { CreateContainerRequest, OperationId } from '../../../src/core';

const { CarDataClient, AxiosTransport, QuotaLedger, MemoryQuotaStore, CarDataError, OPERATION_IDS } = core;

const VIN = 'WBA12345678901234';
const CONTAINER = 'CABCDEFGHJ123';
const SOC = 'vehicle.drivetrain.batteryManagement.header';

/** A BMW whose every answer is scripted: `answer(req)` returns { status, type, body, headers }. */
async function scriptedBmw(answer) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      const entry = { method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body };
      requests.push(entry);
      const a = answer(entry, requests.length) ?? { status: 200, body: {} };
      const text = typeof a.body === 'string' || Buffer.isBuffer(a.body) ? a.body : JSON.stringify(a.body ?? {});
      res.writeHead(a.status ?? 200, { ...(a.type === null ? {} : { 'content-type': a.type ?? 'application/json' }), ...(a.headers ?? {}) });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests, close: () => new Promise((r) => server.close(r)) };
}

/** The axios transport, remembering what the client asked of it. */
function recordingTransport() {
  const axios = new AxiosTransport();
  const asked = [];
  return {
    asked,
    request: (req) => {
      asked.push(req);
      return axios.request(req);
    },
  };
}

/** A transport that fails with a transport error of `code`, remembering each attempt. */
function failingTransport(code) {
  const attempts = [];
  return {
    attempts,
    request: async (req) => {
      attempts.push(req);
      throw new core.TransportError(`no answer (${code})`, code);
    },
  };
}

describe('core client edges', function () {
  let bmw;
  afterEach(async () => {
    if (bmw) await bmw.close();
    bmw = undefined;
  });
  const client = (extra = {}) => new CarDataClient({ apiBaseUrl: bmw.url, transport: new AxiosTransport(), sleep: async () => {}, random: () => 1, ...extra });

  it('a base URL with trailing slashes, path parameters encoded, query parameters, x-version and Accept', async () => {
    bmw = await scriptedBmw((r) =>
      r.path.endsWith('/image')
        ? { type: 'image/jpeg; charset=binary', body: Buffer.from([1, 2, 3]) }
        : r.path.endsWith('/telematicData')
          ? { body: { telematicData: {} } }
          : { body: [{ vin: VIN }] },
    );
    const transport = recordingTransport();
    const c = new CarDataClient({ apiBaseUrl: `${bmw.url}///`, transport, sleep: async () => {} });
    assert.strictEqual(c.apiBaseUrl, bmw.url);
    await c.getMappings();
    await c.getTelematicData(VIN, CONTAINER);
    const image = await c.getImage(VIN);
    assert.deepStrictEqual(
      bmw.requests.map((r) => r.path),
      ['/customers/vehicles/mappings', `/customers/vehicles/${VIN}/telematicData`, `/customers/vehicles/${VIN}/image`],
    );
    assert.deepStrictEqual(bmw.requests[1].query, { containerId: CONTAINER });
    assert.deepStrictEqual(bmw.requests[0].query, {});
    assert.ok(bmw.requests.every((r) => r.headers['x-version'] === 'v1'));
    assert.deepStrictEqual(
      bmw.requests.map((r) => r.headers.accept),
      ['application/json', 'application/json', '*/*'],
    );
    assert.ok(
      bmw.requests.every((r) => r.headers.authorization === undefined),
      'no token provider: no Authorization',
    );
    assert.deepStrictEqual(
      transport.asked.map((r) => r.responseType),
      ['json', 'json', 'binary'],
    );
    assert.deepStrictEqual(
      transport.asked.map((r) => r.method),
      ['GET', 'GET', 'GET'],
    );
    assert.deepStrictEqual({ type: image.contentType, data: [...image.data] }, { type: 'image/jpeg', data: [1, 2, 3] });
  });

  it('an image without a content type is a PNG', async () => {
    bmw = await scriptedBmw(() => ({ body: Buffer.from([9]), type: null }));
    const image = await client().getImage(VIN);
    assert.strictEqual(image.contentType, 'image/png');
  });

  it('the token of the provider goes in Authorization; an empty one is not sent', async () => {
    bmw = await scriptedBmw(() => ({ body: [] }));
    let token = 'tok-1';
    const tokens = { getAccessToken: async () => token, refreshAfterUnauthorized: async () => token };
    await client({ tokens }).getMappings();
    token = '';
    await client({ tokens }).getMappings();
    assert.deepStrictEqual(
      bmw.requests.map((r) => r.headers.authorization),
      ['Bearer tok-1', undefined],
    );
  });

  it('each attempt gets the attempt timeout, or what is left of the deadline, but never less than a second', async () => {
    bmw = await scriptedBmw(() => ({ body: [] }));
    const now = 1_000_000;
    const transport = recordingTransport();
    const c = new CarDataClient({ apiBaseUrl: bmw.url, transport, sleep: async () => {}, now: () => now, timeoutMs: 5_000, deadlineMs: 60_000 });
    await c.getMappings();
    assert.strictEqual(transport.asked[0].timeoutMs, 5_000);
    const d = new CarDataClient({ apiBaseUrl: bmw.url, transport, sleep: async () => {}, now: () => now, timeoutMs: 20_000, deadlineMs: 3_000 });
    await d.getMappings();
    assert.strictEqual(transport.asked[1].timeoutMs, 3_000);
    const e = new CarDataClient({ apiBaseUrl: bmw.url, transport, sleep: async () => {}, now: () => now, timeoutMs: 20_000, deadlineMs: 500 });
    await e.getMappings();
    assert.strictEqual(transport.asked[2].timeoutMs, 1_000);
    assert.ok(Number.isFinite(now));
  });

  it('required parameters missing, empty or null are refused by name; optional ones are left out', async () => {
    bmw = await scriptedBmw(() => ({ body: { data: [] } }));
    const c = client();
    for (const vin of [undefined, null, '']) {
      const e = await failure(c.call('getBasicData', { vin }));
      assert.deepStrictEqual([e.kind, e.parameter, e.message], ['input', 'vin', '"vin" is required for getBasicData']);
      assert.strictEqual(e.hint, 'Vehicle identification number (17 characters)');
    }
    const missingContainer = await failure(c.call('getTelematicData', { vin: VIN }));
    assert.strictEqual(missingContainer.message, '"containerId" is required for getTelematicData');
    const missingFrom = await failure(c.call('getChargingHistory', { vin: VIN, to: '2026-01-01' }));
    assert.deepStrictEqual([missingFrom.parameter, missingFrom.message], ['from', '"from" is required']);
    assert.strictEqual(bmw.requests.length, 0);
    await c.call('getLocationBasedChargingSettings', { vin: VIN, nextToken: '' });
    await c.call('getLocationBasedChargingSettings', { vin: VIN, nextToken: 'abc' });
    assert.deepStrictEqual(
      bmw.requests.map((r) => r.query),
      [{}, { nextToken: 'abc' }],
    );
  });

  it('an unknown operation is refused, naming the ones there are', async () => {
    bmw = await scriptedBmw(() => ({}));
    for (const op of ['getEverything', 'toString', 'x'.repeat(60)]) {
      const e = await failure(client().call(op as OperationId));
      assert.deepStrictEqual([e.kind, e.parameter], ['input', 'operation']);
      assert.strictEqual(e.message, `Unknown operation ${op.slice(0, 40)}`);
      assert.strictEqual(e.hint, `One of: ${OPERATION_IDS.join(', ')}`);
    }
  });

  describe('the quota key', () => {
    it('the account ID given, or what its function returns, or "default"', async () => {
      bmw = await scriptedBmw(() => ({ body: [] }));
      const store = new MemoryQuotaStore();
      const quota = new QuotaLedger({ store });
      await client({ quota, accountId: 'gcid-1' }).getMappings();
      let id = 'gcid-2';
      const byFunction = client({ quota, accountId: () => id });
      await byFunction.getMappings();
      assert.strictEqual(byFunction.accountId, 'gcid-2');
      id = '';
      assert.strictEqual(byFunction.accountId, 'default');
      const plain = client({ quota });
      await plain.getMappings();
      assert.strictEqual(plain.accountId, 'default');
      assert.deepStrictEqual([(await store.load('gcid-1')).used, (await store.load('gcid-2')).used, (await store.load('default')).used], [1, 1, 1]);
      assert.strictEqual((await plain.quotaState()).used, 1);
      assert.strictEqual(await client().quotaState(), undefined, 'no ledger: nothing known');
    });
  });

  describe('network failures', () => {
    it('a GET that never got an answer is retried, then reported with the count of attempts; the units are given back', async () => {
      const transport = failingTransport('ECONNREFUSED');
      const quota = new QuotaLedger();
      const c = new CarDataClient({ transport, quota, sleep: async () => {}, random: () => 1 });
      const e = await failure(c.getMappings());
      assert.strictEqual(transport.attempts.length, 4);
      assert.deepStrictEqual([e.kind, e.retryable, e.operation], ['network', true, 'getMappings']);
      assert.strictEqual(e.message, 'getMappings: no answer from BMW CarData (ECONNREFUSED) after 4 attempts');
      assert.strictEqual(e.hint, 'Check the network connection and the API base URL; try again later.');
      assert.ok(e.cause instanceof core.TransportError);
      assert.strictEqual((await c.quotaState()).used, 0, 'nothing left the machine: nothing spent');
    });

    it('one attempt only: no count in the message', async () => {
      const transport = failingTransport('ECANCELED');
      const e = await failure(new CarDataClient({ transport, sleep: async () => {} }).getMappings());
      assert.strictEqual(transport.attempts.length, 1, 'a cancelled request is not retried');
      assert.strictEqual(e.message, 'getMappings: no answer from BMW CarData (ECANCELED)');
    });

    it('a timeout gets one more attempt, says how long BMW had, and keeps the units spent', async () => {
      const transport = failingTransport('ETIMEDOUT');
      const quota = new QuotaLedger();
      const c = new CarDataClient({ transport, quota, sleep: async () => {}, timeoutMs: 7_400 });
      const e = await failure(c.getBasicData(VIN));
      assert.strictEqual(transport.attempts.length, 2);
      assert.strictEqual(e.hint, 'BMW did not answer within 7 s. Try again later.');
      assert.strictEqual((await c.quotaState()).used, 2, 'a request that may have arrived counts');
    });

    it('a reset POST is not sent again (it may have arrived); a refused POST is (it never left)', async () => {
      const body = { name: 'n', purpose: 'p', technicalDescriptors: [SOC] };
      const reset = failingTransport('ECONNRESET');
      await failure(new CarDataClient({ transport: reset, sleep: async () => {} }).createContainer(body));
      assert.strictEqual(reset.attempts.length, 1);
      const refused = failingTransport('ENOTFOUND');
      await failure(new CarDataClient({ transport: refused, sleep: async () => {} }).createContainer(body));
      assert.strictEqual(refused.attempts.length, 4);
      assert.deepStrictEqual(refused.attempts[0].json, body);
      assert.strictEqual(refused.attempts[0].method, 'POST');
    });

    it('something else thrown by a transport is a network error; a CarDataError passes through and gives its unit back', async () => {
      const odd = { request: async () => Promise.reject(new Error('socket hang up')) };
      const e = await failure(new CarDataClient({ transport: odd, sleep: async () => {} }).getMappings());
      assert.strictEqual(e.message, 'getMappings: no answer from BMW CarData (ENETWORK)');
      const login = new CarDataError({ kind: 'auth', message: 'authorize again' });
      const quota = new QuotaLedger();
      const n8nLike = { request: async () => Promise.reject(login) };
      const c = new CarDataClient({ transport: n8nLike, quota, sleep: async () => {} });
      assert.strictEqual(await failure(c.getMappings()), login);
      assert.strictEqual((await c.quotaState()).used, 0);
    });

    it('a wait that would not fit in the deadline is not started', async () => {
      let now = 0;
      const waits = [];
      const transport = failingTransport('ECONNRESET');
      const c = new CarDataClient({ transport, sleep: async (ms) => void (waits.push(ms), (now += ms)), now: () => now, random: () => 1, deadlineMs: 2_500 });
      await failure(c.getMappings());
      // 500 ms waited (500 + 1000 <= 2500), then 1000 would end at 1500 + 1000 left for an attempt = 2500: still fits; 2000 does not.
      assert.deepStrictEqual(waits, [500, 1000]);
      assert.strictEqual(transport.attempts.length, 3);
    });
  });

  describe('answers', () => {
    it('BMW saying the day is spent marks the ledger spent', async () => {
      bmw = await scriptedBmw(() => ({ status: 403, body: { exveErrorId: 'CU-429', exveErrorMsg: 'limit' } }));
      const quota = new QuotaLedger({ limit: 50 });
      const c = client({ quota });
      const e = await failure(c.getMappings());
      assert.strictEqual(e.kind, 'quota');
      assert.deepStrictEqual(await c.quotaState().then((s) => [s.used, s.remaining]), [50, 0]);
      assert.strictEqual(bmw.requests.length, 1);
    });

    it('a 401 that persists: one refresh, one retry, then the error', async () => {
      bmw = await scriptedBmw(() => ({ status: 401, body: { exveErrorId: 'CU-101', exveErrorMsg: 'bad token' } }));
      const refreshedFor = [];
      const tokens = {
        getAccessToken: async () => `tok-${refreshedFor.length}`,
        refreshAfterUnauthorized: async (t) => (refreshedFor.push(t), `tok-${refreshedFor.length}`),
      };
      const e = await failure(client({ tokens }).getMappings());
      assert.strictEqual(e.kind, 'auth');
      assert.deepStrictEqual(refreshedFor, ['tok-0']);
      assert.deepStrictEqual(
        bmw.requests.map((r) => r.headers.authorization),
        ['Bearer tok-0', 'Bearer tok-1'],
      );
    });

    it('a 401 without a token provider is the error at once', async () => {
      bmw = await scriptedBmw(() => ({ status: 401, body: '' }));
      const e = await failure(client().getMappings());
      assert.deepStrictEqual([e.kind, e.status], ['auth', 401]);
      assert.strictEqual(bmw.requests.length, 1);
    });

    it('containers: the list in a wrapper or on its own', async () => {
      bmw = await scriptedBmw((r, n) => ({ body: n === 1 ? { containers: [{ containerId: CONTAINER }] } : [{ containerId: 'CABCDEFGHJ124' }] }));
      assert.deepStrictEqual(await client().listContainers(), [{ containerId: CONTAINER }]);
      assert.deepStrictEqual(await client().listContainers(), [{ containerId: 'CABCDEFGHJ124' }]);
    });

    it('deleting a container forgets only that container; already deleted (208) is said so', async () => {
      bmw = await scriptedBmw((r, n) => ({ status: n === 1 ? 204 : 208, body: '', type: 'application/json' }));
      const c = client();
      c.containerCache.set('a', CONTAINER);
      c.containerCache.set('b', 'CABCDEFGHJ124');
      assert.deepStrictEqual(await c.deleteContainer(` ${CONTAINER} `), { containerId: CONTAINER, deleted: true, alreadyDeleted: false });
      assert.deepStrictEqual([...c.containerCache], [['b', 'CABCDEFGHJ124']], 'the ID as checked (trimmed) is forgotten, the other kept');
      assert.deepStrictEqual(await c.deleteContainer(CONTAINER), { containerId: CONTAINER, deleted: true, alreadyDeleted: true });
      assert.deepStrictEqual([...c.containerCache], [['b', 'CABCDEFGHJ124']]);
      assert.deepStrictEqual(
        bmw.requests.map((r) => `${r.method} ${r.path}`),
        [`DELETE /customers/containers/${CONTAINER}`, `DELETE /customers/containers/${CONTAINER}`],
      );
    });

    it('a remembered container BMW no longer knows is found again once; other errors are not', async () => {
      let telematicCalls = 0;
      bmw = await scriptedBmw((r) => {
        if (r.path === '/customers/containers' && r.method === 'GET') return { body: [] };
        if (r.path === '/customers/containers') return { status: 201, body: { containerId: 'CNEWCONTAINER' } };
        telematicCalls += 1;
        if (r.query.containerId === CONTAINER) return { status: 403, body: { exveErrorId: 'CU-105' } };
        if (r.query.containerId === 'CABCDEFGHJ999') return { status: 403, body: { exveErrorId: 'CU-104' } };
        return { body: { telematicData: { [SOC]: { value: '50' } } } };
      });
      const c = client();
      const made = await c.ensureContainer([SOC]);
      c.containerCache.set(made.key, CONTAINER);
      const got = await c.getTelematicValues(VIN, [SOC]);
      assert.strictEqual(got.containerId, 'CNEWCONTAINER');
      assert.strictEqual(c.containerCache.get(made.key), 'CNEWCONTAINER');
      c.containerCache.set(made.key, 'CABCDEFGHJ999');
      const other = await failure(c.getTelematicValues(VIN, [SOC]));
      assert.strictEqual(other.exveErrorId, 'CU-104');
      assert.strictEqual(c.containerCache.get(made.key), 'CABCDEFGHJ999', 'kept: BMW did not say the container is gone');
      assert.strictEqual(telematicCalls, 3);
    });

    it('CU-105 for a container just found (not remembered) is reported, not retried', async () => {
      bmw = await scriptedBmw((r) => {
        if (r.path === '/customers/containers') return { status: r.method === 'GET' ? 200 : 201, body: r.method === 'GET' ? [] : { containerId: CONTAINER } };
        return { status: 403, body: { exveErrorId: 'CU-105' } };
      });
      const e = await failure(client().getTelematicValues(VIN, [SOC]));
      assert.strictEqual(e.exveErrorId, 'CU-105');
      assert.strictEqual(bmw.requests.filter((r) => r.path.endsWith('telematicData')).length, 1);
    });
  });

  describe('the container body', () => {
    it('the name and purpose are trimmed, the purpose defaults to the name, descriptors are checked', async () => {
      bmw = await scriptedBmw(() => ({ status: 201, body: { containerId: CONTAINER } }));
      const c = client();
      await c.createContainer({ name: '  mine ', purpose: ' why ', technicalDescriptors: [SOC] });
      await c.createContainer({ name: 'x'.repeat(64), purpose: '  ', technicalDescriptors: SOC } as unknown as CreateContainerRequest);
      const bodies = bmw.requests.map((r) => JSON.parse(r.body));
      assert.deepStrictEqual(bodies[0], { name: 'mine', purpose: 'why', technicalDescriptors: [SOC] });
      assert.deepStrictEqual(bodies[1], { name: 'x'.repeat(64), purpose: 'x'.repeat(64), technicalDescriptors: [SOC] });
      assert.strictEqual(bmw.requests[0].headers['content-type'], 'application/json');
    });

    it('refuses a missing body, a missing or too long name, and unknown descriptors', async () => {
      bmw = await scriptedBmw(() => ({ status: 201, body: { containerId: CONTAINER } }));
      const c = client();
      for (const body of [null, 'text', 42]) {
        const e = await failure(c.call('createContainer', { body }));
        assert.deepStrictEqual(
          [e.parameter, e.message],
          ['body', body === null ? '"body" is required for createContainer' : 'A container needs a name, a purpose and descriptors'],
        );
      }
      for (const name of [undefined, '   ', 5]) {
        const e = await failure(c.createContainer({ name, technicalDescriptors: [SOC] } as CreateContainerRequest));
        assert.deepStrictEqual([e.parameter, e.message, e.hint], ['name', 'A container name is required', 'Give the container a name you will recognise.']);
      }
      const long = await failure(c.createContainer({ name: 'x'.repeat(65), technicalDescriptors: [SOC] } as CreateContainerRequest));
      assert.deepStrictEqual([long.parameter, long.message], ['name', 'A container name is at most 64 characters']);
      const unknown = await failure(c.createContainer({ name: 'n', technicalDescriptors: ['vehicle.no.such.key'] } as CreateContainerRequest));
      assert.strictEqual(unknown.parameter, 'descriptors');
      assert.strictEqual(bmw.requests.length, 0);
      await c.createContainer({ name: 'n', technicalDescriptors: ['vehicle.no.such.key'] } as CreateContainerRequest, { allowUnknown: true });
      assert.strictEqual(bmw.requests.length, 1);
    });
  });
});
