import assert from 'assert';
import { AnswerCache, CacheReport, CarDataClient, parseMaxAge } from '../../../src/core';

/** A store as a host keeps it: what was saved last, as JSON. */
function jsonStore(initial?: unknown) {
  let text = initial === undefined ? undefined : JSON.stringify(initial);
  return {
    load: () => (text === undefined ? undefined : JSON.parse(text)),
    save: (answers) => (text = JSON.stringify(answers)),
    saved: () => JSON.parse(text),
  };
}

describe('core answer cache: bounded, checked, by age', function () {
  let now = 1_000_000;
  const clock = () => now;

  it('keeps at most maxEntries answers and maxBytes: the oldest go first, one too large for the budget is not kept', () => {
    const store = jsonStore();
    const cache = new AnswerCache(store, { maxEntries: 2, maxBytes: 1000 }, clock);
    cache.put('a', { at: now, status: 200, body: { n: 1 } });
    cache.put('b', { at: now, status: 200, body: { n: 2 } });
    cache.put('c', { at: now, status: 200, body: { n: 3 } });
    assert.deepStrictEqual(Object.keys(store.saved()), ['b', 'c']);
    cache.put('big', { at: now, status: 200, base64: 'x'.repeat(1001) });
    assert.strictEqual(cache.get('big', 60_000), undefined);
    cache.put('half', { at: now, status: 200, base64: 'x'.repeat(995) });
    assert.deepStrictEqual(Object.keys(store.saved()), ['half'], 'the older answers made room');
    assert.ok(cache.size().bytes <= 1000);
  });

  it('serves an answer younger than the asked age only, never one stamped in the future; what a store held that is no answer is left out', () => {
    const store = jsonStore({
      good: { at: now - 5000, status: 200, body: { vin: 'X' } },
      future: { at: now + 60_000, status: 200, body: {} },
      junk: { at: 'yesterday' },
      nothing: null,
    });
    const cache = new AnswerCache(store, {}, clock);
    assert.deepStrictEqual(cache.get('good', 10_000).body, { vin: 'X' });
    assert.strictEqual(cache.get('good', 5000), undefined);
    assert.strictEqual(cache.get('future', 86_400_000), undefined);
    assert.strictEqual(cache.get('junk', 86_400_000), undefined);
    assert.strictEqual(cache.size().entries, 2);
  });

  it('reports a run from the cache only when every answer came from it, with the age of the oldest', () => {
    const report = new CacheReport();
    assert.strictEqual(report.summary(now), undefined);
    report.note({ fromCache: { at: now - 30_000 } });
    report.note({ fromCache: { at: now - 90_000 } });
    assert.deepStrictEqual(report.summary(now), { fromCache: true, cacheAgeSeconds: 90 });
    report.note({});
    assert.deepStrictEqual(report.summary(now), { fromCache: false });
  });

  it('shows a kept answer of any age without a call, and nothing for what is not kept or never cached', async () => {
    let calls = 0;
    const transport = {
      request: async () => {
        calls += 1;
        return { status: 200, headers: { 'content-type': 'application/json' }, body: { vin: 'WBY31AW090FP15732', modelName: 'i4 eDrive40' } };
      },
    };
    const client = new CarDataClient({ transport, sleep: async () => {}, now: clock, answers: new AnswerCache(jsonStore(), {}, clock) });
    const vin = 'WBY31AW090FP15732';
    assert.strictEqual(client.keptAnswer('getBasicData', { vin }), undefined);
    await client.getBasicData(vin);
    assert.strictEqual(calls, 1);
    now += 30 * 86_400_000;
    const kept = client.keptAnswer('getBasicData', { vin });
    assert.strictEqual((kept.body as { modelName?: string }).modelName, 'i4 eDrive40');
    assert.strictEqual(kept.fromCache.at, now - 30 * 86_400_000, 'a month old, still shown');
    assert.strictEqual(calls, 1, 'no call');
    assert.strictEqual(client.keptAnswer('getBasicData', { vin: 'WBA5P710X0FK48219' }), undefined);
    assert.strictEqual(client.keptAnswer('listContainers'), undefined);
    assert.strictEqual(new CarDataClient({ transport, sleep: async () => {} }).keptAnswer('getBasicData', { vin }), undefined, 'no cache, nothing kept');
  });

  it('reads "Answer from cache up to" as a duration', () => {
    assert.strictEqual(parseMaxAge(''), undefined);
    assert.strictEqual(parseMaxAge(undefined), undefined);
    assert.strictEqual(parseMaxAge('0'), 0);
    assert.strictEqual(parseMaxAge(0), 0);
    assert.strictEqual(parseMaxAge('90'), 90_000);
    assert.strictEqual(parseMaxAge('30m'), 1_800_000);
    assert.strictEqual(parseMaxAge(' 2 hours '), 7_200_000);
    assert.strictEqual(parseMaxAge('1d'), 86_400_000);
    for (const bad of ['soon', '-1', '1w', '1e3', {}])
      assert.throws(
        () => parseMaxAge(bad),
        (e: any) => e.kind === 'input' && e.parameter === 'cacheMaxAge',
      );
  });
});
