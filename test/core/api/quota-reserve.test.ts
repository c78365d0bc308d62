// The ledger's reserve: how a reserve setting is read, the refusal of an unattended call that would spend it (in
// the words a user reads, with the wait until the reset), and giving back only what was taken today.
import assert from 'assert';
import { QuotaLedger, MemoryQuotaStore, quotaReserve, isQuotaRecord, DEFAULT_QUOTA_RESERVE, CarDataError } from '../../../src/node';
import { failure } from '../../support/failure';

const NOON = Date.UTC(2026, 5, 1, 12);
const RESET = '2026-06-02T00:00:00Z';

describe('core quota reserve', function () {
  it('a reserve setting: a whole number from 0, text too; anything else is the fallback', () => {
    assert.strictEqual(quotaReserve(0, 7), 0);
    assert.strictEqual(quotaReserve('5', 7), 5);
    assert.strictEqual(quotaReserve(' 3 ', 7), 3);
    assert.strictEqual(quotaReserve(4.9, 7), 4);
    for (const v of ['', '   ', '-1', -1, 'ten', Infinity, Number.NaN, undefined]) assert.strictEqual(quotaReserve(v, 7), 7, String(v));
    assert.strictEqual(quotaReserve('  '), DEFAULT_QUOTA_RESERVE);
  });

  it('a stored record is an object', () => {
    for (const v of [null, undefined, 'x', 5]) assert.strictEqual(isQuotaRecord(v), false, String(v));
  });

  it('an unattended call stops where the reserve starts, in words, with the wait until the reset; an attended one goes on', async () => {
    const quota = new QuotaLedger({ limit: 3, reserve: 1, store: new MemoryQuotaStore(), now: () => NOON });
    await quota.take('acc', 'getBasicData');
    await quota.take('acc', 'getBasicData');
    const e = await failure(quota.take('acc', 'getBasicData'));
    assert.ok(e instanceof CarDataError);
    assert.deepStrictEqual([e.kind, e.exveErrorId, e.operation, e.retryAfterMs], ['quota', undefined, 'getBasicData', 12 * 3_600_000]);
    assert.strictEqual(
      e.message,
      `getBasicData: the last 1 of the 3 daily CarData calls are kept in reserve for what you start by hand (2 used); refused locally, BMW was not called. Resets at ${RESET}`,
    );
    assert.strictEqual(
      e.hint,
      'Work that runs on its own (a trigger, a schedule, a repeating inject) stops here; a run started by hand may still call BMW. Lower "Keep in Reserve" in the account to give such work more of the day.',
    );
    assert.strictEqual((await quota.take('acc', 'getBasicData', { attended: true })).remaining, 0);
    const spent = await failure(quota.take('acc', undefined, { attended: true }));
    assert.deepStrictEqual([spent.exveErrorId, spent.retryAfterMs], ['CU-429', 12 * 3_600_000]);
    assert.ok(spent.message.startsWith('daily CarData quota spent (3/3)'), spent.message);
  });

  it('gives back only a unit taken today, never below 0, and nothing once BMW said the day is spent', async () => {
    const quota = new QuotaLedger({ limit: 5, store: new MemoryQuotaStore(), now: () => NOON });
    assert.strictEqual((await quota.giveBack('acc')).used, 0);
    await quota.take('acc');
    assert.strictEqual((await quota.giveBack('acc')).used, 0);
    assert.strictEqual((await quota.giveBack('acc')).used, 0);
    await quota.take('acc');
    await quota.markExhausted('acc');
    assert.deepStrictEqual(await quota.giveBack('acc'), { used: 5, limit: 5, remaining: 0, resetsAt: RESET });
  });
});
