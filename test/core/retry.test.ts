// Retry rules (pure): which answers and transport failures are retried, Retry-After, and the backoff.
import assert from 'assert';
import { isRetryableStatus, isRetryableNetworkCode, wasNotSent, parseRetryAfter, retryDelay, DEFAULT_RETRY } from '../../src/node';

const OPTS = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 3_000, maxRetryAfterMs: 30_000 };

describe('core retry rules', function () {
  it('retries the temporary server errors only, never the quota answers or client errors', () => {
    const retried = [];
    for (let status = 100; status < 600; status += 1) if (isRetryableStatus(status)) retried.push(status);
    assert.deepStrictEqual(retried, [500, 502, 503, 504]);
  });

  it('a request that never left is retryable and was not sent; a reset may have arrived but is still retryable', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']) {
      assert.strictEqual(wasNotSent(code), true, code);
      assert.strictEqual(isRetryableNetworkCode(code), true, code);
    }
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'ERR_BAD_RESPONSE']) {
      assert.strictEqual(wasNotSent(code), false, code);
      assert.strictEqual(isRetryableNetworkCode(code), true, code);
    }
    for (const code of ['ECANCELED', 'ENETWORK', 'ERR_BAD_REQUEST', '']) {
      assert.strictEqual(wasNotSent(code), false, code);
      assert.strictEqual(isRetryableNetworkCode(code), false, code);
    }
  });

  describe('parseRetryAfter', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    it('reads seconds, fractions and zero; a negative number is no wait', () => {
      assert.strictEqual(parseRetryAfter('120', now), 120_000);
      assert.strictEqual(parseRetryAfter('1.5', now), 1500);
      assert.strictEqual(parseRetryAfter('0', now), 0);
      assert.strictEqual(parseRetryAfter('-5', now), 0);
    });
    it('reads an HTTP date relative to now; a date in the past is no wait', () => {
      assert.strictEqual(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', now), 30_000);
      assert.strictEqual(parseRetryAfter('Sun, 01 Mar 2026 11:59:00 GMT', now), 0);
    });
    it('has nothing for a missing, empty or unreadable header', () => {
      assert.strictEqual(parseRetryAfter(undefined, now), undefined);
      assert.strictEqual(parseRetryAfter('', now), undefined);
      assert.strictEqual(parseRetryAfter('soon', now), undefined);
    });
  });

  describe('retryDelay', () => {
    it('doubles from the base up to the cap, spread over the upper half of each step', () => {
      const high = [1, 2, 3].map((a) => retryDelay(a, OPTS, undefined, () => 1));
      const low = [1, 2, 3].map((a) => retryDelay(a, OPTS, undefined, () => 0));
      const mid = [1, 2, 3].map((a) => retryDelay(a, OPTS, undefined, () => 0.5));
      assert.deepStrictEqual(high, [500, 1000, 2000]);
      assert.deepStrictEqual(low, [250, 500, 1000]);
      assert.deepStrictEqual(mid, [375, 750, 1500]);
      const capped = { ...OPTS, maxAttempts: 10 };
      assert.deepStrictEqual(
        [4, 5, 9].map((a) => retryDelay(a, capped, undefined, () => 1)),
        [3000, 3000, 3000],
      );
    });

    it('rounds to whole milliseconds', () => {
      assert.strictEqual(
        retryDelay(1, { ...OPTS, baseDelayMs: 333 }, undefined, () => 0.5),
        Math.round(333 / 2 + 333 / 4),
      );
    });

    it('stops once the attempts are used up', () => {
      assert.notStrictEqual(
        retryDelay(3, OPTS, undefined, () => 1),
        undefined,
      );
      assert.strictEqual(
        retryDelay(4, OPTS, undefined, () => 1),
        undefined,
      );
      assert.strictEqual(
        retryDelay(5, OPTS, undefined, () => 1),
        undefined,
      );
    });

    it('waits at least what the server asked, up to maxRetryAfterMs, and reports a longer wait instead', () => {
      assert.strictEqual(
        retryDelay(1, OPTS, 10_000, () => 1),
        10_000,
      );
      assert.strictEqual(
        retryDelay(1, OPTS, 100, () => 1),
        500,
        'a shorter Retry-After does not shorten the backoff',
      );
      assert.strictEqual(
        retryDelay(1, OPTS, 30_000, () => 1),
        30_000,
        'exactly the limit is waited for',
      );
      assert.strictEqual(
        retryDelay(1, OPTS, 30_001, () => 1),
        undefined,
      );
      assert.strictEqual(
        retryDelay(1, OPTS, 0, () => 0),
        250,
      );
    });

    it('uses Math.random when no source is given, within the step', () => {
      for (let i = 0; i < 20; i += 1) {
        const d = retryDelay(2, OPTS, undefined);
        assert.ok(d >= 500 && d <= 1000, String(d));
      }
    });

    it('defaults: four attempts, 0.5 s base, 8 s cap, Retry-After up to 30 s', () => {
      assert.deepStrictEqual(DEFAULT_RETRY, { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 30_000 });
    });
  });
});
