'use strict';
// The newcomer's first call in a plain Node-RED (test/e2e/quickstart.sh): the deployed examples' account pointed
// at a simulator with two PRIMARY cars, authorized through the editor's admin routes (the Authorize button's),
// then the "Vehicle overview" example's basic-data node, which has no VIN, pressed: one read per car.
//   node plain-node-red-two-cars.js <Node-RED URL> <simulator bin> <repo>
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const [redUrl, simBin, repo] = process.argv.slice(2);
const EDITOR = { 'Content-Type': 'application/json', Accept: 'application/json', 'BMW-CarData-Editor': '1' };

async function call(method, route, body) {
  const res = await fetch(`${redUrl}/${route}`, {
    method,
    headers: { ...EDITOR, 'Node-RED-Deployment-Type': 'full' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} /${route}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return /json/.test(res.headers.get('content-type') ?? '') && text ? JSON.parse(text) : text;
}

async function until(what, check, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main() {
  const sim = spawn(process.execPath, [simBin, '--port', '0', '--auto-approve', '--no-stream'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  sim.stdout.on('data', (d) => (out += d));
  sim.stderr.on('data', (d) => (out += d));
  try {
    const api = await until('the simulator', () => /API base URL: +(\S+)/.exec(out)?.[1]);
    const primary = [...out.matchAll(/(?:BEV|PHEV) \(PRIMARY\) +(\w{17})/g)].map((m) => m[1]);
    if (primary.length !== 2) throw new Error(`the simulator lists ${primary.length} PRIMARY cars`);

    // A third example, as the editor imports it: its nodes on a tab of their own, the account already deployed.
    const deployed = await call('GET', 'flows');
    const have = new Set(deployed.map((n) => n.id));
    const example = JSON.parse(fs.readFileSync(path.join(repo, 'examples', 'Vehicle overview.json'), 'utf8'));
    const tab = `tab-${deployed.length}`;
    const added = example.filter((n) => !have.has(n.id)).map((n) => ({ ...n, z: tab }));
    const account = deployed.find((n) => n.type === 'bmw-cardata-account');
    Object.assign(account, { apiBaseUrl: api, authBaseUrl: `${api}/gcdm` });
    await call('POST', 'flows', [...deployed, { id: tab, type: 'tab', label: 'Vehicle overview' }, ...added]);

    // The Authorize button, with the client ID typed in the dialog: start, then the status until the
    // (auto-approved) login succeeds.
    // Node-RED answers the deploy before the account runs again: the dialog's request names the URL it shows.
    await until('the account deployed', async () => (await call('GET', `bmw-cardata/${account.id}/state`)).deployed);
    const started = await call('POST', `bmw-cardata/${account.id}/auth/start`, { clientId: 'newcomer-client-id', authBaseUrl: account.authBaseUrl });
    if (started.status !== 'pending') throw new Error(`Authorize answered ${JSON.stringify(started)}`);
    await until('the login', async () => (await call('GET', `bmw-cardata/${account.id}/auth/status`)).status === 'success');

    // The basic-data node has no VIN: pressing its inject reads every PRIMARY car once.
    const inject = added.find((n) => n.type === 'inject' && n.wires.flat().some((id) => added.find((m) => m.id === id)?.type === 'bmw-cardata-basic-data'));
    await call('POST', `inject/${inject.id}`);
    const reads = await until('a basic data read of each car', () => {
      const vins = primary.filter((vin) => new RegExp(`GET /customers/vehicles/${vin}/basicData -> 200`).test(out));
      return vins.length === 2 && vins;
    });
    const state = await call('GET', `bmw-cardata/${account.id}/state`);
    console.log(`basic data read for ${reads.join(' and ')}; quota ${state.quota.used} used of ${state.quota.limit}`);
    if (/"?(access|refresh)_?[tT]oken"?\s*[:=]/.test(JSON.stringify(state))) throw new Error('the state route shows a token');
  } finally {
    sim.kill('SIGTERM');
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
