// Facts every host uses, defined once in core: the token endpoint, the daily quota, the credential probe, the
// vehicle cache and the image file name.
import assert from 'assert';
import * as core from '../../src/core';
import { createAccount } from '../../src/node';

const {
  tokenUrl,
  DEFAULT_DAILY_QUOTA,
  QuotaLedger,
  OPERATIONS,
  lacksApiScope,
  operationHeaders,
  VehicleCache,
  VEHICLE_CACHE_MS,
  imageFileName,
  imageExtension,
} = core;

describe('core facts', () => {
  it("the token endpoint of an auth base URL, with or without a trailing slash, and BMW's by default", () => {
    assert.strictEqual(tokenUrl('http://127.0.0.1:1/gcdm/'), 'http://127.0.0.1:1/gcdm/oauth/token');
    assert.strictEqual(tokenUrl('http://127.0.0.1:1/gcdm'), 'http://127.0.0.1:1/gcdm/oauth/token');
    assert.strictEqual(tokenUrl(), 'https://customer.bmwgroup.com/gcdm/oauth/token');
    assert.strictEqual(tokenUrl(''), 'https://customer.bmwgroup.com/gcdm/oauth/token');
  });

  it('the daily quota is 50 and is what a ledger and an account count against unless told otherwise', () => {
    assert.strictEqual(DEFAULT_DAILY_QUOTA, 50);
    assert.strictEqual(new QuotaLedger().limit, DEFAULT_DAILY_QUOTA);
    const account = createAccount({ clientId: 'c' });
    assert.strictEqual(account.quota.limit, DEFAULT_DAILY_QUOTA);
    assert.strictEqual(new QuotaLedger({ limit: 7 }).limit, 7);
  });

  it('operation headers: the version BMW asks for, and the type each answer comes in', () => {
    assert.deepStrictEqual(operationHeaders(OPERATIONS.listContainers), { 'x-version': 'v1', Accept: 'application/json' });
    assert.deepStrictEqual(operationHeaders(OPERATIONS.getImage), { 'x-version': 'v1', Accept: '*/*' });
  });

  it('a token answer lacks the CarData API only when its scope says so', () => {
    assert.strictEqual(lacksApiScope('authenticate_user openid'), true);
    assert.strictEqual(lacksApiScope('openid cardata:streaming:read'), true);
    assert.strictEqual(lacksApiScope('cardata:api:read:extra openid'), true);
    assert.strictEqual(lacksApiScope('authenticate_user openid cardata:api:read cardata:streaming:read'), false);
    assert.strictEqual(lacksApiScope(' cardata:api:read\topenid'), false);
    for (const unknown of [undefined, null, '', '  ', 42]) assert.strictEqual(lacksApiScope(unknown), false, String(unknown));
  });

  describe('image file name', () => {
    for (const [type, name] of [
      ['image/png', 'V.png'],
      ['image/jpeg', 'V.jpg'],
      ['IMAGE/JPEG; charset=binary', 'V.jpg'],
      ['image/webp', 'V.webp'],
      ['image/svg+xml', 'V.svg'],
      ['application/octet-stream', 'V.bin'],
      ['', 'V.bin'],
    ]) {
      it(`${type || 'no type'} -> ${name}`, () => assert.strictEqual(imageFileName('V', type), name));
    }
    it('the extension alone', () => assert.strictEqual(imageExtension('image/gif'), 'gif'));
  });

  describe('vehicle cache', () => {
    const store = () => {
      let entry;
      return { load: () => entry, save: (e) => (entry = e), peek: () => entry };
    };
    const mappings = (calls, list = [{ vin: 'WBA12345678901234', mappingType: 'PRIMARY' }]) => ({
      getMappings: async () => {
        calls.push(1);
        return list;
      },
    });

    it('reads BMW once, then answers from the store for a day, then counts the list as stale', async () => {
      let now = 1_000_000;
      const s = store();
      const cache = new VehicleCache(s, () => now);
      const calls = [];
      assert.strictEqual(cache.fresh(), undefined);
      const first = await cache.get(mappings(calls));
      assert.deepStrictEqual(first, { list: [{ vin: 'WBA12345678901234', mappingType: 'PRIMARY' }], fetchedAt: now });
      assert.deepStrictEqual(s.peek(), first);
      now += VEHICLE_CACHE_MS - 1;
      assert.deepStrictEqual(await cache.get(mappings(calls)), first);
      assert.strictEqual(calls.length, 1);
      now += 1;
      assert.strictEqual(cache.fresh(), undefined);
      await cache.get(mappings(calls));
      assert.strictEqual(calls.length, 2);
      assert.strictEqual(VEHICLE_CACHE_MS, 86_400_000);
    });

    it('callers at once share one call; remember() keeps a list read elsewhere', async () => {
      const cache = new VehicleCache(store(), () => 5);
      const calls = [];
      const client = mappings(calls);
      const [a, b] = await Promise.all([cache.refresh(client), cache.refresh(client)]);
      assert.strictEqual(calls.length, 1);
      assert.strictEqual(a, b);
      const kept = cache.remember([{ vin: 'X' }]);
      assert.deepStrictEqual(cache.fresh(), { list: [{ vin: 'X' }], fetchedAt: 5 });
      assert.strictEqual(kept.fetchedAt, 5);
    });

    it('a failed read keeps nothing and the next caller asks again', async () => {
      const cache = new VehicleCache(store(), () => 5);
      await assert.rejects(cache.refresh({ getMappings: async () => Promise.reject(new Error('down')) }), /down/);
      const calls = [];
      await cache.refresh(mappings(calls));
      assert.strictEqual(calls.length, 1);
    });
  });
});
