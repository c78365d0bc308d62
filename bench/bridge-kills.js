'use strict';
// The bridge killed with SIGKILL at random moments of a replayed charge: BRIDGE_KILL_TRIALS trials (default 50)
// with the user's broker up, as many with it unreachable until the end. Each trial is the one of
// test/cli/bridge.test.ts (test/support/bridge.js killTrial): a charging script from the simulator's stream, the bridge
// killed once, 0 to 20 ms after a random message, and started again on its files. Prints, per mode, the trials in
// which every event arrived, the events expected and delivered, the duplicates (all under the same id) and any
// event that arrived differently. Needs Mosquitto. Exits with 1 when an event was lost or differed.
// BRIDGE_KILL_SEED repeats a run.
const { startSimulator } = require('../dist/src/simulator');
const { Mosquitto, seeded, killTrial, until } = require('../test/support/bridge');

const TRIALS = Number(process.env.BRIDGE_KILL_TRIALS || 50);
const SEED = Number(process.env.BRIDGE_KILL_SEED || Date.now() % 100000);

async function main() {
  const sim = await startSimulator({ stream: true, dailyQuota: 1000 });
  const mosq = await Mosquitto.start();
  let failed = false;
  try {
    console.log(`bridge kill -9 trials: ${TRIALS} per mode, seed ${SEED}`);
    for (const brokerUp of [true, false]) {
      const random = seeded(SEED + (brokerUp ? 0 : 1));
      const totals = { complete: 0, expected: 0, delivered: 0, distinct: 0, duplicates: 0, missing: 0, unexpected: 0, differing: 0, wrong: 0 };
      const started = Date.now();
      for (let t = 0; t < TRIALS; t++) {
        const r = await killTrial({ sim, mosq, random, brokerUp });
        totals.expected += r.want.length;
        totals.delivered += r.got.length;
        totals.distinct += r.got.length - r.duplicates;
        totals.duplicates += r.duplicates;
        totals.missing += r.missing.length;
        totals.unexpected += r.unexpected.length;
        totals.differing += r.differing;
        totals.wrong += r.wrong;
        if (r.missing.length === 0 && r.unexpected.length === 0 && r.differing === 0 && r.wrong === 0) totals.complete += 1;
        else
          console.log(
            `  trial ${t}: ${r.name}, killed ${r.killDelay.toFixed(1)} ms after message ${r.killAfter}: missing ${r.missing.map((e) => e.kind).join(', ') || '-'}, unexpected ${r.unexpected.length}, differing ${r.differing}`,
          );
        await until(() => sim.stream.connections() === 0, 5000, 'the trial bridge to go');
      }
      console.log(
        `broker ${brokerUp ? 'up        ' : 'away      '}: ${totals.complete}/${TRIALS} trials with every event; events expected ${totals.expected}, ` +
          `arrived ${totals.distinct} distinct (${totals.delivered} with ${totals.duplicates} duplicates under the same id), missing ${totals.missing}, ` +
          `unexpected ${totals.unexpected}, copies differing ${totals.differing}, not as core derives ${totals.wrong}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
      if (totals.complete !== TRIALS) failed = true;
    }
  } finally {
    await mosq.stop();
    await sim.close();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
