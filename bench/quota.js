'use strict';
// Quota benchmark: for the standard jobs, the CarData REST calls each host spends (counted by the simulator,
// sim.restCalls()) against the fewest the job can cost. Node-RED runs in its real runtime
// (node-red-node-test-helper, as test/support/nodered.js), a restart being an unload and a load on the same user
// directory; n8n runs through n8n-core's execution code (test/support/n8n-harness.js), a restart being a new process
// (bench/quota-n8n-life.js) that keeps only the credential and the workflow's static data. Nothing waits for real
// intervals: the 48 reads or polls of a day run back to back; "the day before" runs with the clock set back a day.
// Exits with 1 when a job did not do its work (a read failed, the stream lost messages).
// The stream trigger's reconnect warnings are expected here (each renewal drops the connection).
process.env.N8N_LOG_LEVEL = process.env.N8N_LOG_LEVEL || 'error';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile } = require('child_process');
const { promisify } = require('util');
const { startSimulator, SIM_VINS } = require('../dist/src/simulator');
const { OPERATIONS } = require('../dist/src/core/api/operations');
const nr = require('../test/support/nodered');
const n8n = require('../test/support/n8n-harness');
const { TriggerContext } = require('n8n-core');
const { Workflow, NodeHelpers } = require('n8n-workflow');
const streamNode = require('../dist/src/node-red/bmw-cardata-stream.js');
const { BmwCarDataStreamTrigger } = require('../dist/nodes/BmwCarDataStreamTrigger/BmwCarDataStreamTrigger.node.js');

const VIN = SIM_VINS.bev;
const SOC = 'vehicle.drivetrain.batteryManagement.header';
const RANGE = 'vehicle.drivetrain.electricEngine.kombiRemainingElectricRange';
const PORT = 'vehicle.body.chargingPort.status';
const PAGE_SIZE = 25;
/** Charging sessions of the simulated cars over their history: a few pages a month for the BEV. */
const SESSIONS = 2000;
const READS_PER_DAY = 48;
const TIME_ZONE = 'Europe/Berlin';
const DAY_MS = 86_400_000;
/** Stream messages of the day (one every 15 minutes) and renewals of the stream login shown (BMW's last an hour). */
const STREAM_MESSAGES = 96;
const STREAM_RENEWALS = 3;
const { helper } = nr;
const execFileAsync = promisify(execFile);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(check, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The operation of a logged request, by BMW's operationId. */
const ROUTES = Object.values(OPERATIONS).map((op) => ({ id: op.id, method: op.method, re: new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+')}$`) }));
function operationOf(entry) {
  return ROUTES.find((r) => r.method === entry.method && r.re.test(entry.path))?.id ?? `${entry.method} ${entry.path}`;
}

/** Counts the REST calls from now on; `spent()` gives them by operation. */
function meter(sim, since) {
  const start = sim.restCalls().length;
  return () => {
    const calls = sim.restCalls().slice(start).filter((c) => since === undefined || c.at > since());
    const byOperation = {};
    for (const c of calls) byOperation[operationOf(c)] = (byOperation[operationOf(c)] ?? 0) + 1;
    return { total: calls.length, byOperation };
  };
}

function spentText(byOperation) {
  return Object.entries(byOperation)
    .map(([op, n]) => `${n} ${op}`)
    .join(', ') || 'nothing';
}

/** Runs `fn` with the clock set back one day: what it spends is booked on yesterday's quota. */
async function yesterday(fn) {
  const realNow = Date.now;
  Date.now = () => realNow() - DAY_MS;
  try {
    return await fn();
  } finally {
    Date.now = realNow;
  }
}

// ---------------------------------------------------------------------------------------------- Node-RED

let nrCredentials;
/** Deploys `nodes` on one tab with the account (BMW's daily 50) and a Catch node, in the current user directory. */
async function nodeRedDeploy(sim, nodes) {
  const flow = [
    { id: 'tab', type: 'tab', label: 'bench' },
    nr.accountConfig(sim, { dailyQuota: 50, streamUrl: sim.streamUrl }),
    ...nodes,
    { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ].map((n, i) => (n.type === 'tab' || n.type === 'bmw-cardata-account' ? n : { z: 'tab', x: 120, y: 40 * (i + 1), ...n }));
  await helper.load([...nr.allNodes, streamNode], flow, { acc: { ...nrCredentials } });
}

/** Sends one message into `id` and resolves with what its wired helper `out` got, or rejects with the caught error. */
function nodeRedRun(id, msg = {}) {
  return new Promise((resolve, reject) => {
    const out = helper.getNode('out');
    const caught = helper.getNode('caught');
    const cleanup = () => {
      out.removeListener('input', onOut);
      caught.removeListener('input', onCaught);
    };
    const onOut = (m) => {
      cleanup();
      resolve(m);
    };
    const onCaught = (m) => {
      cleanup();
      reject(new Error(m.error?.message ?? 'failed'));
    };
    out.on('input', onOut);
    caught.on('input', onCaught);
    helper.getNode(id).receive(msg);
  });
}

async function nodeRedFresh(sim) {
  nr.freshUserDir();
  nrCredentials = nr.authorizedCredentials(sim);
}

async function nodeRedExport(sim) {
  await nodeRedFresh(sim);
  await nodeRedDeploy(sim, [
    { id: 'h', type: 'bmw-cardata-charging-history', account: 'acc', vin: VIN, rangeMode: 'relative', range: 'lastMonth', timeZone: TIME_ZONE, output: 'rows', wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  const spent = meter(sim);
  const msg = await nodeRedRun('h');
  await helper.unload();
  return { spent: spent(), sessions: msg.payload.length };
}

async function nodeRedSoc(sim) {
  await nodeRedFresh(sim);
  const flow = [
    { id: 't', type: 'bmw-cardata-telematics', account: 'acc', vin: VIN, containerMode: 'managed', descriptors: [SOC], wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];
  const read = async () => {
    const msg = await nodeRedRun('t');
    if (typeof msg.values?.[SOC] !== 'number') throw new Error('no state of charge in the answer');
  };
  await nodeRedDeploy(sim, flow);
  // The day before: the flow ran and found (here: created) its container.
  await yesterday(read);
  const spent = meter(sim);
  let reads = 0;
  for (let life = 0; life < 3; life++) {
    if (life > 0) {
      await helper.unload();
      await nodeRedDeploy(sim, flow);
    }
    for (let i = 0; i < READS_PER_DAY / 3; i++) {
      await read();
      reads += 1;
    }
  }
  await helper.unload();
  return { spent: spent(), reads };
}

/** What each node's dialog asks of the admin API, read from the dialogs themselves. */
function nodeRedDialogs() {
  const dir = path.join(__dirname, '../dist/src/node-red');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.html'))
    .map((f) => {
      const html = fs.readFileSync(path.join(dir, f), 'utf8');
      const type = f.replace(/\.html$/, '');
      const routes = [];
      if (type === 'bmw-cardata-account') routes.push('/bmw-cardata/acc/state?dailyQuota=50');
      if (html.includes('BmwCarDataEditor.vinPicker(')) routes.push('/bmw-cardata/acc/vehicles');
      if (html.includes('BmwCarDataEditor.descriptorPicker(')) routes.push('/bmw-cardata/catalogue');
      return { type, routes };
    });
}

async function nodeRedEditor(sim) {
  await nodeRedFresh(sim);
  const dialogs = nodeRedDialogs();
  await nodeRedDeploy(sim, [{ id: 'v', type: 'bmw-cardata-vehicles', account: 'acc', wires: [['out']] }, { id: 'out', type: 'helper' }]);
  const spent = meter(sim);
  let picked = 0;
  let refreshes = 0;
  const openAll = async () => {
    for (const d of dialogs) {
      for (const route of d.routes) {
        const res = await helper.request().get(route).expect(200);
        if (route.endsWith('/vehicles')) picked = res.body.vehicles.length;
      }
    }
  };
  // The picker is empty until the list was read once: the user clicks its refresh button.
  const openAllAsUser = async () => {
    await openAll();
    if (picked === 0) {
      await helper.request().post('/bmw-cardata/acc/vehicles/refresh').set('content-type', 'application/json').send({}).expect(200);
      refreshes += 1;
      await openAll();
    }
  };
  await openAllAsUser();
  await openAllAsUser();
  await helper.unload();
  await nodeRedDeploy(sim, [{ id: 'v', type: 'bmw-cardata-vehicles', account: 'acc', wires: [['out']] }, { id: 'out', type: 'helper' }]);
  await openAllAsUser();
  await helper.unload();
  return { spent: spent(), dialogs: dialogs.filter((d) => d.routes.length).length, refreshes };
}

/** A day of stream readings, one every 15 minutes, timestamped across the last 24 hours. */
async function publishDay(sim) {
  const start = Date.now() - DAY_MS;
  for (let i = 0; i < STREAM_MESSAGES; i++) {
    const soc = 20 + ((i * 7) % 70);
    const timestamp = new Date(start + i * 15 * 60_000).toISOString();
    const reading = (value) => ({ value, timestamp });
    await sim.stream.publish(VIN, { [SOC]: reading(soc), [RANGE]: reading(soc * 4), [PORT]: reading(i % 24 < 6 ? 'CONNECTED' : 'DISCONNECTED') }, { timestamp });
  }
}

/** Renews the stream login as its hourly expiry does: the broker drops the connection, the host logs in again. */
async function renewStreamLogin(sim) {
  const subscribed = () => sim.stream.log.filter((l) => l.event === 'subscribe').length;
  const before = subscribed();
  sim.expireIdTokens();
  await until(() => subscribed() > before && sim.stream.connections() === 1, 15_000, 'the stream to log in again');
}

async function nodeRedStream(sim) {
  await nodeRedFresh(sim);
  sim.stream.clearLog();
  const spent = meter(sim);
  await nodeRedDeploy(sim, [
    { id: 's', type: 'bmw-cardata-stream', account: 'acc', vin: VIN, descriptors: [], output: 'event', dedupe: true, streamUrl: sim.streamUrl, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  const got = nr.collector(helper.getNode('out'));
  await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 10_000, 'the stream node to subscribe');
  for (let r = 0; r <= STREAM_RENEWALS; r++) {
    if (r > 0) await renewStreamLogin(sim);
    await publishDay(sim);
    await got.wait(STREAM_MESSAGES * 3 * (r + 1), 20_000);
  }
  await helper.unload();
  return { spent: spent(), messages: got.messages.length };
}

// ---------------------------------------------------------------------------------------------- n8n

const vinParam = { __rl: true, mode: 'vin', value: VIN };

async function n8nExport(sim) {
  const credentials = n8n.authorizedCredentials(sim);
  const spent = meter(sim);
  const run = await n8n.runNode(credentials, {
    resource: 'chargingHistory',
    operation: 'getAll',
    vin: vinParam,
    range: 'lastMonth',
    returnAll: true,
    options: { timeZone: TIME_ZONE },
  });
  if (run.error) throw run.error;
  return { spent: spent(), sessions: run.items.length };
}

/** Runs one n8n process lifetime (bench/quota-n8n-life.js) with the credential and static data n8n kept. */
async function n8nLife(state, steps) {
  const planFile = path.join(os.tmpdir(), `quota-bench-${process.pid}-${Date.now()}.json`);
  fs.writeFileSync(planFile, JSON.stringify({ ...state, steps }));
  try {
    const { stdout } = await execFileAsync(process.execPath, [path.join(__dirname, 'quota-n8n-life.js'), planFile], { maxBuffer: 16 * 1024 * 1024 });
    const out = JSON.parse(stdout);
    for (const r of out.results) if (r.errors.length) throw new Error(`n8n ${r.op}: ${r.errors[0]}`);
    state.credentials = out.credentials;
    state.staticData = out.staticData;
    return out.results;
  } finally {
    fs.rmSync(planFile, { force: true });
  }
}

async function n8nSoc(sim) {
  const state = { credentials: n8n.authorizedCredentials(sim).data, staticData: {} };
  const read = { op: 'run', parameters: { resource: 'telematicData', operation: 'get', vin: vinParam, containerMode: 'managed', descriptors: [SOC] }, expect: SOC };
  let warmEnd = Infinity;
  const spent = meter(sim, () => warmEnd);
  let reads = 0;
  for (let life = 0; life < 3; life++) {
    // The first lifetime is the process that ran the workflow the day before (it found the container then).
    const steps = life === 0 ? [{ ...read, yesterday: true }, { ...read, times: READS_PER_DAY / 3 }] : [{ ...read, times: READS_PER_DAY / 3 }];
    const results = await n8nLife(state, steps);
    if (life === 0) warmEnd = results[0].endedAt;
    reads += results[results.length - 1].ok;
  }
  return { spent: spent(), reads };
}

async function n8nEditor(sim) {
  const state = { credentials: n8n.authorizedCredentials(sim).data, staticData: {} };
  const dialog = { op: 'dialog', parameters: { resource: 'telematicData', operation: 'get', vin: { __rl: true, mode: 'list', value: '' }, descriptors: [] } };
  const spent = meter(sim);
  // Opened three times, n8n restarted, opened again.
  await n8nLife(state, [{ ...dialog, times: 3 }]);
  await n8nLife(state, [dialog]);
  return { spent: spent(), opens: 4 };
}

const streamTrigger = new BmwCarDataStreamTrigger();
const streamNodeTypes = {
  getByName: () => streamTrigger,
  getByNameAndVersion: (_name, version) => NodeHelpers.getVersionedNodeType(streamTrigger, version),
  getKnownTypes: () => ({}),
};

async function n8nStream(sim) {
  const t = sim.issueTokens({ clientId: 'sim-client-id' });
  const credentials = new n8n.MemoryCredentialsHelper({
    clientId: 'sim-client-id',
    apiBaseUrl: sim.apiBaseUrl,
    authBaseUrl: sim.authBaseUrl,
    streamUrl: sim.streamUrl,
    accessToken: t.access_token,
    refreshToken: t.refresh_token,
    idToken: t.id_token,
    gcid: t.gcid,
    scope: t.scope,
    expiresAt: new Date(Date.now() + t.expires_in * 1000).toISOString(),
  });
  sim.stream.clearLog();
  const spent = meter(sim);
  const node = n8n.nodeOf('bmwCarDataStreamTrigger', { vins: VIN, descriptors: [], output: 'event' });
  const workflow = new Workflow({ id: 'wf-stream', name: 'stream', nodes: [node], connections: {}, active: true, nodeTypes: streamNodeTypes, staticData: {} });
  let items = 0;
  const errors = [];
  const ctx = new TriggerContext(workflow, node, n8n.additionalData(credentials), 'trigger', 'activate', (data) => (items += data[0].length), (e) => errors.push(e));
  const response = await streamTrigger.trigger.call(ctx);
  try {
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 10_000, 'the stream trigger to subscribe');
    for (let r = 0; r < STREAM_RENEWALS; r++) {
      await publishDay(sim);
      await renewStreamLogin(sim);
    }
    await publishDay(sim);
    await until(() => items >= STREAM_MESSAGES * 3 * (STREAM_RENEWALS + 1), 20_000, 'every stream item');
  } finally {
    await response.closeFunction();
  }
  if (errors.length) throw errors[0];
  return { spent: spent(), messages: items };
}

async function n8nPolling(sim) {
  const credentials = n8n.authorizedCredentials(sim);
  const parameters = { vin: vinParam, limit: 50, output: 'flat' };
  const spent = meter(sim);
  let staticData = {};
  let emitted = 0;
  let added = 0;
  for (let i = 0; i < READS_PER_DAY; i++) {
    // The car charges three times during the day.
    if (i === 10 || i === 25 || i === 40) {
      sim.addChargingSession(VIN, { startTime: Math.floor(Date.now() / 1000) - 3 * 3600 + i * 60 });
      added += 1;
    }
    const run = await n8n.poll(credentials, parameters, { staticData });
    staticData = run.staticData;
    emitted += run.result ? run.result[0].length : 0;
  }
  if (emitted !== added) throw new Error(`the trigger emitted ${emitted} sessions, ${added} were added`);
  return { spent: spent(), polls: READS_PER_DAY, emitted };
}

// ---------------------------------------------------------------------------------------------- the table

const pages = (sessions) => Math.max(1, Math.ceil(sessions / PAGE_SIZE));

/** The jobs: what each host does, the fewest calls it can cost, and why any call above that was spent. */
const JOBS = [
  {
    name: "1. export last month's sessions",
    hosts: { 'Node-RED': nodeRedExport, n8n: n8nExport },
    minimum: (r) => pages(r.sessions),
    did: (r) => `${r.sessions} sessions, ${pages(r.sessions)} page(s) of ${PAGE_SIZE}`,
  },
  {
    name: '2. SoC every 30 min for a day, 2 restarts',
    hosts: { 'Node-RED': nodeRedSoc, n8n: n8nSoc },
    minimum: () => READS_PER_DAY,
    did: (r) => `${r.reads} reads`,
    check: (r) => r.reads === READS_PER_DAY,
  },
  {
    name: '3. open the editor and the node dialogs',
    hosts: { 'Node-RED': nodeRedEditor, n8n: n8nEditor },
    // The vehicle list is read once a day; everything else the dialogs show is bundled or local.
    minimum: () => 1,
    did: (r) => (r.dialogs ? `${r.dialogs} dialogs opened twice, then once after a restart; picker refreshed ${r.refreshes} time(s)` : `node dialog opened ${r.opens - 1} times, then once after a restart`),
    why: {
      n8n:
        "n8n asks a list search with a temporary workflow of the node alone (nothing saved) and offers it no other storage, so the Vehicle picker's day-long list lives in the n8n process: the first dialog after a restart reads it again (one call a restart, none while n8n runs)",
    },
  },
  {
    name: '4. a day of stream',
    hosts: { 'Node-RED': nodeRedStream, n8n: n8nStream },
    minimum: () => 0,
    did: (r) => `${r.messages} readings, ${STREAM_RENEWALS} login renewals`,
    check: (r) => r.messages === STREAM_MESSAGES * 3 * (STREAM_RENEWALS + 1),
  },
  {
    name: '5. polling trigger every 30 min for a day',
    hosts: { n8n: n8nPolling },
    minimum: () => READS_PER_DAY,
    did: (r) => `${r.polls} polls, ${r.emitted} new sessions emitted`,
  },
];

function table(rows) {
  const head = ['job', 'host', 'calls spent', 'minimum', 'excess'];
  const cells = rows.map((r) => [r.job, r.host, String(r.spent), String(r.minimum), String(r.spent - r.minimum)]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => (i >= 2 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

async function main() {
  const started = Date.now();
  // The simulator stands for BMW; its own count is set high so that it never refuses across the jobs (each job
  // stands for a day of its own, and the hosts keep BMW's 50 themselves).
  const sim = await startSimulator({ stream: { checkIntervalMs: 100 }, dailyQuota: 1_000_000, chargingPageSize: PAGE_SIZE, chargingSessions: SESSIONS });
  await helper.startServer();
  const rows = [];
  let failed = false;
  try {
    for (const job of JOBS) {
      for (const [host, run] of Object.entries(job.hosts)) {
        const r = await run(sim);
        const minimum = job.minimum(r);
        rows.push({ job: job.name, host, spent: r.spent.total, minimum, what: spentText(r.spent.byOperation), did: job.did(r), why: job.why?.[host] });
        if (job.check && !job.check(r)) {
          failed = true;
          console.error(`${job.name} in ${host} did not do its work: ${job.did(r)}`);
        }
      }
    }
  } finally {
    await helper.stopServer();
    await sim.close();
    n8n.cleanup();
  }
  console.log(`quota: CarData REST calls per job against the simulator (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  console.log(table(rows));
  console.log('');
  for (const r of rows) console.log(`${r.job} · ${r.host}: ${r.did}; spent ${r.what}`);
  const above = rows.filter((r) => r.spent > r.minimum);
  if (above.length) console.log('\nabove the minimum:');
  for (const r of above) console.log(`${r.job} · ${r.host}: ${r.why ?? 'not explained: see what was spent above'}`);
  if (failed) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
