'use strict';
// The stream's reconnect backoff against the simulated broker: each drop waits twice as long as the one before,
// up to the cap, and a connection that stayed up long enough starts again from the first delay. The clock and
// the timers are the stream's own options, so the waits are read exactly while the connection is real.
const assert = require('assert');
const { startSimulator } = require('../dist/src/simulator');
const core = require('../dist/src/node');

const { createAccount, tokenSetFromResponse, subscribeStream, streamConnections } = core;

const MIN = 20;
const MAX = 160;
const STABLE = 60_000;

/** Timers that run for real and remember every delay asked for; reconnect waits are the short ones. */
function recordingTimers() {
  const asked = [];
  return {
    asked,
    reconnects: () => asked.filter((ms) => ms <= MAX),
    setTimeout: (fn, ms) => {
      asked.push(ms);
      return setTimeout(fn, ms);
    },
    clearTimeout: (h) => clearTimeout(h),
  };
}

describe('core stream: reconnect backoff', function () {
  this.timeout(20_000);
  let sim;
  let sub;
  afterEach(async () => {
    if (sub) await sub.close();
    sub = undefined;
    if (sim) await sim.close();
    sim = undefined;
    assert.deepStrictEqual(streamConnections(), []);
  });

  async function connectedStream(extra = {}) {
    sim = await startSimulator({ stream: true });
    const { tokens } = createAccount({
      clientId: 'backoff-client',
      apiBaseUrl: sim.apiBaseUrl,
      authBaseUrl: sim.authBaseUrl,
      tokens: tokenSetFromResponse(sim.issueTokens({ clientId: 'backoff-client' }), Date.now()),
    });
    const timers = recordingTimers();
    let offset = 0;
    const clock = { advance: (ms) => (offset += ms) };
    sub = subscribeStream(tokens, {
      url: sim.streamUrl,
      backoffMinMs: MIN,
      backoffMaxMs: MAX,
      stableAfterMs: STABLE,
      notConfiguredRetryMs: 0,
      // The upper end of the jitter: every wait is the full backoff step.
      random: () => 1,
      now: () => Date.now() + offset,
      timers,
      ...extra,
    });
    await sub.waitFor('connected', 5000);
    return { timers, clock };
  }

  /** Drops the connection and waits until the stream is back; returns the reconnect wait it chose. */
  async function drop(timers) {
    const before = timers.reconnects().length;
    assert.strictEqual(sim.stream.kick(), 1, 'one connection to drop');
    await sub.waitFor('reconnecting', 3000);
    await sub.waitFor('connected', 5000);
    const waits = timers.reconnects().slice(before);
    assert.strictEqual(waits.length, 1, `one reconnect wait per drop, got ${JSON.stringify(waits)}`);
    return waits[0];
  }

  it('doubles the wait on every drop of a short-lived connection, up to the cap', async () => {
    const { timers } = await connectedStream();
    const waits = [];
    for (let i = 0; i < 5; i += 1) waits.push(await drop(timers));
    assert.deepStrictEqual(waits, [MIN, 2 * MIN, 4 * MIN, MAX, MAX]);
  });

  it('a connection that stayed up for stableAfterMs starts the backoff from the first delay again', async () => {
    const { timers, clock } = await connectedStream();
    assert.deepStrictEqual([await drop(timers), await drop(timers), await drop(timers)], [MIN, 2 * MIN, 4 * MIN]);
    clock.advance(STABLE);
    assert.strictEqual(await drop(timers), MIN, 'reset after a stable connection');
    assert.strictEqual(await drop(timers), 2 * MIN, 'and doubling again from there');
  });

  it('a connection just short of stableAfterMs does not reset the backoff', async () => {
    const { timers, clock } = await connectedStream();
    assert.deepStrictEqual([await drop(timers), await drop(timers)], [MIN, 2 * MIN]);
    clock.advance(STABLE - 1000);
    assert.strictEqual(await drop(timers), 4 * MIN);
  });

  it('the jitter spreads each wait over the upper half of the step', async () => {
    const { timers } = await connectedStream({ random: () => 0 });
    assert.deepStrictEqual([await drop(timers), await drop(timers), await drop(timers)], [MIN / 2, MIN, 2 * MIN]);
  });
});
