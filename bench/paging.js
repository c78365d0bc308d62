'use strict';
// Pages through 10,000 charging sessions with the item iterator: wall time and peak memory of the client process.
// Run with --expose-gc for steadier heap figures.
const core = require('../dist/src/node');
const { startSimulatorProcess } = require('./sim-process');
const { SIM_VINS } = require('../dist/src/simulator');

const SESSIONS = Number(process.env.BENCH_SESSIONS || 10000);

async function main() {
  const sim = await startSimulatorProcess(['--quota', '1000000', '--sessions', String(SESSIONS)]);
  try {
    const { client } = core.createAccount({
      clientId: 'bench-client',
      apiBaseUrl: sim.apiBaseUrl,
      authBaseUrl: sim.authBaseUrl,
      tokens: sim.tokens,
      dailyQuota: 1e9,
    });
    if (global.gc) global.gc();
    const base = process.memoryUsage();
    let peakHeap = base.heapUsed;
    let peakRss = base.rss;
    let count = 0;
    let pages = 0;
    let kwh = 0;
    const started = process.hrtime.bigint();
    const from = new Date(Date.now() - 40 * 365 * 86400_000).toISOString();
    const to = new Date(Date.now() + 86400_000).toISOString();
    for await (const session of client.paginate(
      'getChargingHistory',
      { vin: SIM_VINS.bev, from, to },
      {
        onPage: (p) => {
          pages = p.pages;
          const m = process.memoryUsage();
          peakHeap = Math.max(peakHeap, m.heapUsed);
          peakRss = Math.max(peakRss, m.rss);
        },
      },
    )) {
      count += 1;
      kwh += session.energyConsumedFromPowerGridKwh || 0;
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const mb = (n) => (n / 1048576).toFixed(1);
    console.log(
      `paging: ${count} sessions in ${pages} pages, ${ms.toFixed(0)} ms wall (${(count / (ms / 1000)).toFixed(0)} sessions/s, ${(ms / pages).toFixed(2)} ms/page)`,
    );
    console.log(`  heap before ${mb(base.heapUsed)} MB, peak ${mb(peakHeap)} MB (+${mb(peakHeap - base.heapUsed)} MB); peak RSS ${mb(peakRss)} MB`);
    console.log(`  total energy ${kwh.toFixed(0)} kWh (checksum of the data read)`);
    if (count < SESSIONS) throw new Error(`expected at least ${SESSIONS} sessions, read ${count}`);
  } finally {
    sim.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
