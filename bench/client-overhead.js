'use strict';
// Per-call overhead of CarDataClient (checks, quota ledger, token manager, retry wrapper, axios) against a plain
// http.request to the same simulator route. Prints the median latency of each and their ratio.
const http = require('http');
const core = require('../dist/src/node');
const { startSimulatorProcess } = require('./sim-process');

const CALLS = Number(process.env.BENCH_CALLS || 400);

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function plainGet(url, token) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers: { 'x-version': 'v1', Accept: 'application/json', Authorization: `Bearer ${token}` }, agent: keepAlive }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
        resolve(res.statusCode);
      });
    });
    req.on('error', reject);
    req.end();
  });
}
const keepAlive = new http.Agent({ keepAlive: true });

async function main() {
  const sim = await startSimulatorProcess(['--quota', '1000000']);
  try {
    const { client } = core.createAccount({
      clientId: 'bench-client',
      apiBaseUrl: sim.apiBaseUrl,
      authBaseUrl: sim.authBaseUrl,
      tokens: sim.tokens,
      dailyQuota: 1e9,
    });
    const url = `${sim.apiBaseUrl}/customers/vehicles/mappings`;
    const plain = [];
    const viaClient = [];
    for (let i = 0; i < 50; i += 1) {
      await plainGet(url, sim.tokens.accessToken);
      await client.getMappings();
    }
    // Interleaved so both see the same machine load.
    for (let i = 0; i < CALLS; i += 1) {
      let t = process.hrtime.bigint();
      await plainGet(url, sim.tokens.accessToken);
      plain.push(Number(process.hrtime.bigint() - t) / 1e6);
      t = process.hrtime.bigint();
      await client.getMappings();
      viaClient.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const p = median(plain);
    const c = median(viaClient);
    console.log(`client-overhead: ${CALLS} calls each to GET /customers/vehicles/mappings on the simulator (separate process)`);
    console.log(`  plain http.request  median ${p.toFixed(3)} ms`);
    console.log(`  CarDataClient       median ${c.toFixed(3)} ms`);
    console.log(`  median ratio        ${(c / p).toFixed(2)}x  (overhead ${(c - p).toFixed(3)} ms per call)`);
  } finally {
    sim.stop();
    keepAlive.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
