'use strict';
// Waiting in tests: a pause, and a poll until a condition holds (or a clear timeout naming what was awaited).

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `check()` (may be async) is true; rejects after `timeoutMs` naming `what` (a text or a function). */
async function until(check, timeoutMs = 5000, what = 'condition') {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(20);
  }
}

module.exports = { sleep, until };
