#!/usr/bin/env node
'use strict';
// The BMW CarData node in a real n8n 2.41.1 in queue mode: one main and two workers share a PostgreSQL database
// and a Redis queue (both started here on loopback ports, in temporary folders). An active workflow (Webhook ->
// BMW CarData "Vehicle > Get Many" -> Edit Fields) is called 20 times at once; the credential starts with an
// EXPIRED access token, so the executions race to refresh it with the same refresh token, which BMW (and the
// simulator) accepts once. Checks: all 20 succeed, both workers ran some, one refresh was accepted, the
// credential ends with the newest refresh token (the only one the simulator still accepts; the first one is
// refused when reused), and no token appears in n8n's logs. Prints what the local quota ledger counted on each
// worker against what the simulator counted, for 20 concurrent and then 6 sequential executions (see
// docs/n8n-queue-mode.md). Bounded to 5 minutes; everything it started is stopped.
//
//   node test/e2e/n8n-queue.js [--keep]      (--keep also keeps every process's log)
//
// Needs a build (dist/), the n8n install made by test/e2e/n8n-install.sh (BMW_CARDATA_CACHE, default
// ~/.cache/bmw-cardata), redis-server (REDIS_SERVER) and PostgreSQL's programs (PG_BIN); test/e2e/n8n-queue.sh
// installs what is missing.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { startSimulator } = require('../../dist/src/simulator');
const { refreshTokens, AxiosTransport } = require('../../dist/src/core');
const h = require('../browser/harness');

const ROOT = path.join(__dirname, '..', '..');
const TIMEOUT_MS = Number(process.env.N8N_QUEUE_TIMEOUT_MS || 300_000);
const CACHE = process.env.BMW_CARDATA_CACHE || path.join(os.homedir(), '.cache', 'bmw-cardata');
const N8N_VERSION = process.env.N8N_VERSION || '2.41.1';
const N8N_BIN = path.join(CACHE, `n8n-${N8N_VERSION}`, 'node_modules', 'n8n', 'bin', 'n8n');
const NODE24 = path.join(CACHE, 'node24', 'bin', 'node');
const REDIS = process.env.REDIS_SERVER || 'redis-server';
const PG_BIN = process.env.PG_BIN || '/usr/lib/postgresql/15/bin';
const CLIENT_ID = '00000000-0000-4000-8000-000000000000'; // placeholder, as in the examples
const CONCURRENT = 20;
const SEQUENTIAL = 6;
const WORKERS = 2;
const WEBHOOK_PATH = 'bmw-cardata-queue';
const CREDENTIAL_ID = 'bmwQueueCredential1';
const WORKFLOW_ID = 'bmwQueueWorkflow001';

function workflow() {
  return {
    id: WORKFLOW_ID,
    name: 'BMW CarData in queue mode',
    active: false,
    settings: { executionOrder: 'v1', saveDataSuccessExecution: 'all' },
    nodes: [
      {
        id: 'q1',
        name: 'Webhook',
        type: 'n8n-nodes-base.webhook',
        typeVersion: 2,
        position: [0, 0],
        webhookId: '5b3c2c52-6a1e-4c55-9a36-0d3f4c1e7a10',
        parameters: { httpMethod: 'GET', path: WEBHOOK_PATH, responseMode: 'lastNode', responseData: 'allEntries', options: {} },
      },
      {
        id: 'q2',
        name: 'Vehicles',
        type: 'CUSTOM.bmwCarData',
        typeVersion: 1,
        position: [220, 0],
        credentials: { bmwCarDataApi: { id: CREDENTIAL_ID, name: 'BMW CarData (simulator)' } },
        parameters: { resource: 'vehicle', operation: 'getAll' },
      },
      {
        // Which execution answered: the worker logs name the executions they ran.
        id: 'q3',
        name: 'Execution',
        type: 'n8n-nodes-base.set',
        typeVersion: 3.4,
        position: [440, 0],
        parameters: {
          mode: 'manual',
          includeOtherFields: true,
          assignments: { assignments: [{ id: 'e1', name: 'executionId', value: '={{ $execution.id }}', type: 'string' }] },
          options: {},
        },
      },
    ],
    connections: {
      Webhook: { main: [[{ node: 'Vehicles', type: 'main', index: 0 }]] },
      Vehicles: { main: [[{ node: 'Execution', type: 'main', index: 0 }]] },
    },
  };
}

/** Execution id -> worker, from the workers' "Worker started execution N" lines. */
function executionsByWorker(workers) {
  const map = new Map();
  for (const [i, w] of workers.entries()) {
    for (const m of w.output().matchAll(/Worker started execution (\d+)/g)) map.set(m[1], i + 1);
  }
  return map;
}

async function main(run) {
  h.assert(fs.existsSync(N8N_BIN) && fs.existsSync(NODE24), `n8n ${N8N_VERSION} or Node 24 is not installed under ${CACHE}: run test/e2e/n8n-install.sh`);
  h.assert(fs.existsSync(path.join(ROOT, 'dist', 'nodes', 'BmwCarData', 'BmwCarData.node.js')), 'dist/ is missing: build the package first');
  const work = run.tempDir('cardata-n8n-queue-');
  const sim = await startSimulator({ port: 0 });
  const tokens = sim.issueTokens({ clientId: CLIENT_ID });
  sim.expireAccessTokens();

  const redisPort = await run.step('Redis runs on a loopback port', async () => {
    const port = await h.freePort();
    const redis = run.spawn('redis', REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work]);
    await h.waitFor('Redis to accept connections', () => /Ready to accept connections/.test(redis.output()), 20_000, redis);
    return port;
  });

  const pgPort = await run.step('PostgreSQL runs on a loopback port (a new cluster in a temporary folder)', async () => {
    // PostgreSQL refuses to run as root: then its own user runs it.
    const asRoot = process.getuid() === 0;
    const as = (command, args) => (asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]);
    const dir = run.tempDir('cardata-n8n-queue-pg-');
    if (asRoot) {
      const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' })));
      fs.chownSync(dir, uid, gid);
    }
    await run.exec('initdb', ...as(path.join(PG_BIN, 'initdb'), ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']));
    const port = await h.freePort();
    const pg = run.spawn(
      'postgres',
      ...as(path.join(PG_BIN, 'postgres'), ['-D', dir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off']),
      { group: true },
    );
    await h.waitFor('PostgreSQL to accept connections', () => /ready to accept connections/.test(pg.output()), 30_000, pg);
    return port;
  });

  const env = {
    ...process.env,
    DB_TYPE: 'postgresdb',
    DB_POSTGRESDB_HOST: '127.0.0.1',
    DB_POSTGRESDB_PORT: String(pgPort),
    DB_POSTGRESDB_DATABASE: 'postgres',
    DB_POSTGRESDB_USER: 'postgres',
    PATH: `${path.dirname(NODE24)}${path.delimiter}${process.env.PATH}`,
    N8N_USER_FOLDER: path.join(work, 'n8n'),
    N8N_ENCRYPTION_KEY: 'queue-test-only-key',
    N8N_CUSTOM_EXTENSIONS: path.join(ROOT, 'dist'),
    EXECUTIONS_MODE: 'queue',
    QUEUE_BULL_REDIS_HOST: '127.0.0.1',
    QUEUE_BULL_REDIS_PORT: String(redisPort),
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '5',
    EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'all',
    N8N_LOG_LEVEL: 'info',
  };
  fs.mkdirSync(env.N8N_USER_FOLDER);
  const cli = async (args) => run.exec(`n8n ${args[0]}`, NODE24, [N8N_BIN, ...args], { cwd: work, env: { ...env, N8N_RUNNERS_BROKER_PORT: String(await h.freePort()) } });

  await run.step('the credential (expired access token) and the workflow are imported and the workflow published', async () => {
    const credential = {
      id: CREDENTIAL_ID,
      name: 'BMW CarData (simulator)',
      type: 'bmwCarDataApi',
      data: { clientId: CLIENT_ID, apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, accessToken: tokens.access_token, refreshToken: tokens.refresh_token, gcid: tokens.gcid },
    };
    fs.writeFileSync(path.join(work, 'creds.json'), JSON.stringify([credential]));
    fs.writeFileSync(path.join(work, 'wf.json'), JSON.stringify(workflow()));
    await cli(['import:credentials', `--input=${path.join(work, 'creds.json')}`]);
    await cli(['import:workflow', `--input=${path.join(work, 'wf.json')}`]);
    await cli(['publish:workflow', `--id=${WORKFLOW_ID}`]);
  });

  const { port, main: n8nMain, workers } = await run.step(`n8n ${N8N_VERSION} starts in queue mode: one main and ${WORKERS} workers`, async () => {
    const mainPort = await h.freePort();
    const n8nMain = run.spawn('n8n main', NODE24, [N8N_BIN, 'start'], {
      env: { ...env, N8N_PORT: String(mainPort), N8N_RUNNERS_BROKER_PORT: String(await h.freePort()), N8N_LOG_LEVEL: 'debug' },
      cwd: work,
      group: true,
    });
    const started = [];
    for (let i = 1; i <= WORKERS; i += 1) {
      started.push(
        run.spawn(`n8n worker ${i}`, NODE24, [N8N_BIN, 'worker', '--concurrency=10'], {
          env: { ...env, N8N_RUNNERS_BROKER_PORT: String(await h.freePort()) },
          cwd: work,
          group: true,
        }),
      );
    }
    await h.waitFor('n8n main to open its editor', () => /Editor is now accessible/.test(n8nMain.output()), 150_000, n8nMain);
    // n8n 2.41 publishes in the background; its debug log says when the webhook is live.
    await h.waitFor('n8n main to register the webhook', () => /Added webhook.* for workflow "BMW CarData in queue mode"/.test(n8nMain.output()), 90_000, n8nMain);
    for (const w of started) await h.waitFor(`${w.label} to be ready`, () => /n8n worker is now ready/.test(w.output()), 150_000, w);
    return { port: mainPort, main: n8nMain, workers: started };
  });

  const call = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/webhook/${WEBHOOK_PATH}`, { signal: AbortSignal.timeout(120_000) });
    const text = await res.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, body };
  };
  const results = [];
  await run.step(`${CONCURRENT} concurrent executions with an expired access token all succeed`, async () => {
    sim.clearLog();
    const t0 = Date.now();
    const answers = await Promise.all(Array.from({ length: CONCURRENT }, call));
    const seconds = (Date.now() - t0) / 1000;
    const failed = answers.filter((a) => a.status !== 200 || !Array.isArray(a.body) || !a.body.length || !a.body[0].vin);
    const refreshes = sim.requests.filter((r) => r.grantType === 'refresh_token');
    const refused = refreshes.filter((r) => r.oauthError === 'invalid_grant');
    const rest = sim.restCalls();
    const status = (s) => rest.filter((c) => c.status === s).length;
    const byWorker = executionsByWorker(workers);
    const perWorker = [1, 2].map((w) => [...byWorker.values()].filter((v) => v === w).length);
    console.log(`    ${CONCURRENT} executions in ${seconds.toFixed(1)} s, ${CONCURRENT - failed.length} succeeded; workers ran ${perWorker.join(' + ')}`);
    console.log(`    refresh requests: ${refreshes.length} (${refreshes.length - refused.length} accepted, ${refused.length} refused as an old refresh token); CarData calls: ${status(200)} x 200, ${status(401)} x 401`);
    h.assert(failed.length === 0, `${failed.length} of ${CONCURRENT} executions failed: ${JSON.stringify(failed.slice(0, 3)).slice(0, 1500)}`);
    for (const a of answers) results.push({ executionId: a.body[0].executionId, worker: byWorker.get(a.body[0].executionId), used: a.body[0]._quota.used });
    h.assert(new Set(results.map((r) => r.executionId)).size === CONCURRENT, 'the answers do not come from distinct executions');
    h.assert(results.every((r) => r.worker), `an execution is missing from the worker logs: ${JSON.stringify(results)}`);
    h.assert(perWorker.every((n) => n > 0), `one worker ran all executions: ${perWorker.join(' + ')}`);
    h.assert(refreshes.length - refused.length === 1, `${refreshes.length - refused.length} refreshes were accepted; the executions should share one`);
    h.assert(status(200) === CONCURRENT, `${status(200)} CarData calls answered 200, expected ${CONCURRENT}`);
  });

  // The ledger's count lives in each worker's memory and in the workflow's static data, but a new execution in
  // queue mode starts without the static data (n8n 2.41 does not hand it to the worker): each worker counts
  // only the calls it made itself.
  const perWorker = (list) => [1, 2].map((w) => list.filter((r) => r.worker === w).map((r) => r.used));
  await run.step('the local quota ledger: each worker counted its own calls only', async () => {
    const counts = perWorker(results);
    const highest = counts.map((u) => Math.max(...u));
    console.log(`    the simulator counted ${sim.quota().used} calls; the ledger's highest count: ${highest.map((s, i) => `worker ${i + 1} ${s}`).join(', ')}`);
    console.log(`    counts the executions reported: ${counts.map((u, i) => `worker ${i + 1} [${[...u].sort((a, b) => a - b).join(',')}]`).join(', ')}`);
    for (const [i, u] of counts.entries()) h.assert(Math.max(...u) <= u.length, `worker ${i + 1} counted ${Math.max(...u)} calls but made ${u.length}`);
    h.assert(highest.every((s) => s < sim.quota().used), 'a worker counted the calls of the other one');
  });

  const refreshCount = () => sim.requests.filter((r) => r.grantType === 'refresh_token').length;
  await run.step(`${SEQUENTIAL} sequential executions: each worker's count goes up by its own calls, the static data is not carried`, async () => {
    const before = sim.quota().used;
    const refreshesBefore = refreshCount();
    const highest = perWorker(results).map((u) => Math.max(...u));
    const sequential = [];
    for (let i = 0; i < SEQUENTIAL; i += 1) {
      const a = await call();
      h.assert(a.status === 200 && Array.isArray(a.body) && a.body[0].vin, `sequential execution ${i + 1} failed: ${JSON.stringify(a.body).slice(0, 500)}`);
      sequential.push({ executionId: a.body[0].executionId, used: a.body[0]._quota.used });
      await h.sleep(500); // the worker saves the static data after n8n answered the webhook
    }
    const byWorker = executionsByWorker(workers);
    for (const s of sequential) s.worker = byWorker.get(s.executionId);
    const list = sequential.map((s) => `${s.used} (worker ${s.worker})`).join(', ');
    console.log(`    the simulator counted ${before} + ${sim.quota().used - before} calls; the executions reported: ${list}`);
    h.assert(refreshCount() === refreshesBefore, 'a sequential execution refreshed the token although the stored one was valid');
    for (const s of sequential) {
      highest[s.worker - 1] += 1;
      h.assert(s.used === highest[s.worker - 1], `execution ${s.executionId} on worker ${s.worker} counted ${s.used}, not its worker's own calls: ${list}`);
    }
  });

  await run.step('the credential holds the newest refresh token: the one the simulator still accepts', async () => {
    const out = path.join(work, 'creds-out.json');
    await cli(['export:credentials', '--all', '--decrypted', `--output=${out}`]);
    const stored = JSON.parse(fs.readFileSync(out, 'utf8')).find((c) => c.id === CREDENTIAL_ID).data;
    const used = new Set(sim.requests.filter((r) => r.grantType === 'refresh_token').map((r) => r.refreshToken));
    h.assert(stored.refreshToken && stored.refreshToken !== tokens.refresh_token, 'the stored refresh token was not rotated');
    h.assert(!used.has(stored.refreshToken), 'the stored refresh token was already used');
    // Checked against the simulator outside n8n (this uses it up: the last step).
    const login = { transport: new AxiosTransport(), clientId: CLIENT_ID, authBaseUrl: sim.authBaseUrl };
    const refusal = await refreshTokens(login, tokens.refresh_token).then(
      () => undefined,
      (e) => e,
    );
    h.assert(refusal && refusal.oauthError === 'invalid_grant', 'the simulator accepted the first refresh token a second time');
    const next = await refreshTokens(login, stored.refreshToken);
    h.assert(next.refreshToken, 'the simulator refused the stored refresh token');
    const log = [n8nMain, ...workers].map((p) => p.output()).join('\n');
    h.assert(![tokens.access_token, tokens.refresh_token, stored.refreshToken, stored.accessToken].some((t) => log.includes(t)), "a token appears in n8n's log");
  });

  await sim.close();
}

const keep = process.argv.includes('--keep');
h.runTest({ name: 'n8n queue mode', timeoutMs: TIMEOUT_MS, keep }, main);
