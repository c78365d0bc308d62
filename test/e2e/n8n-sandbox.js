#!/usr/bin/env node
'use strict';
// The n8n sandbox as a newcomer starts it: `npm run start:n8n` refuses a busy port before starting anything;
// started, it prints the URL and what to click only once n8n answers as the pinned version with the clone's n8n
// packages (assembled in build/ and linked into the state folder's nodes folder); the credential (logged in to the simulator) and the example workflow exist; nothing called CarData at
// start; the example, run once as the editor's "Execute workflow" runs it, returns last month's sessions from
// the simulator as a CSV file; no token appears in any output; Ctrl-C stops everything; the next start runs the
// workflow again against the restarted simulator. Prints `n8n sandbox: N passed, M failed` and the start times.
//
//   node test/e2e/n8n-sandbox.js [--keep] [--empty-cache]
//
// Needs a build (dist/) and the n8n install made by test/e2e/n8n-install.sh (BMW_CARDATA_CACHE, default
// ~/.cache/bmw-cardata). With --empty-cache the cache folder (BMW_CARDATA_CACHE, set by n8n-sandbox.sh to a new
// folder) holds no n8n yet: the first start installs it, as `npm run start:n8n` does on a newcomer's machine.
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { DateTime } = require('luxon');
const { SIM_VINS } = require('../../dist/src/simulator');
const h = require('../browser/harness');
const { PACKAGES, TYPES } = require('../support/n8n-packages');
const { restClient } = require('../support/n8n-server');

const ROOT = path.join(__dirname, '..', '..');
const EMPTY_CACHE = process.argv.includes('--empty-cache');
// An install from an empty cache takes about 5 minutes (Node 24, n8n, SQLite built for Node 24).
const INSTALL_MS = EMPTY_CACHE ? 900_000 : 0;
const TIMEOUT_MS = Number(process.env.N8N_SANDBOX_TIMEOUT_MS || 600_000) + INSTALL_MS;
const CACHE = process.env.BMW_CARDATA_CACHE || path.join(os.homedir(), '.cache', 'bmw-cardata');
const N8N_VERSION = process.env.N8N_VERSION || '2.41.1';
const N8N_DIR = path.join(CACHE, `n8n-${N8N_VERSION}`);
const N8N_BIN = path.join(N8N_DIR, 'node_modules', 'n8n', 'bin', 'n8n');
const NODE24 = path.join(CACHE, 'node24', 'bin', 'node');
const EXAMPLE = JSON.parse(fs.readFileSync(path.join(ROOT, 'n8n-examples', 'charging-history-last-month-to-csv.json'), 'utf8'));
const SESSIONS_NODE = EXAMPLE.nodes.find((n) => n.type.endsWith('.bmwCarData')).name;
const CSV_NODE = EXAMPLE.nodes.find((n) => n.type === 'n8n-nodes-base.convertToFile').name;
const TRIGGER_NODE = EXAMPLE.nodes.find((n) => n.type === 'n8n-nodes-base.manualTrigger').name;
const STREAM_EXAMPLE = JSON.parse(fs.readFileSync(path.join(ROOT, 'n8n-examples', 'charging-finished-chat-message.json'), 'utf8'));
const MESSAGE_NODE = STREAM_EXAMPLE.nodes.find((n) => n.type === 'n8n-nodes-base.set').name;
const BANNER = 'Press Ctrl-C to stop.';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** A free port whose next port is free too (n8n's task runners and the simulator's stream use it). */
async function freePair() {
  for (;;) {
    const port = await h.freePort();
    if (port < 65535 && (await isFree(port + 1))) return port;
  }
}

function isFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The cookie-authenticated API of the sandbox's n8n. */
const client = (url) => restClient(url, 'n8n-sandbox-test').call;

async function main(run) {
  if (EMPTY_CACHE)
    h.assert(process.env.BMW_CARDATA_CACHE && !fs.existsSync(N8N_DIR), `--empty-cache needs BMW_CARDATA_CACHE set to an empty folder, not ${CACHE}`);
  else h.assert(fs.existsSync(N8N_BIN) && fs.existsSync(NODE24), `n8n ${N8N_VERSION} or Node 24 is not installed under ${CACHE}: run test/e2e/n8n-install.sh`);
  // n8n stores execution data with flatted; its own copy reads it back (once installed).
  const flatted = { parse: (text) => require(path.join(N8N_DIR, 'node_modules', 'flatted')).parse(text) };
  const work = run.tempDir('cardata-n8n-sandbox-');
  const state = path.join(work, 'state');
  const [port, simPort] = [await freePair(), await freePair()];
  const url = `http://127.0.0.1:${port}`;
  const args = ['run', 'start:n8n', '--', '--dir', state, '--port', String(port), '--sim-port', String(simPort)];
  const simLog = () => (fs.existsSync(path.join(state, 'simulator.log')) ? fs.readFileSync(path.join(state, 'simulator.log'), 'utf8') : '');
  const n8nEnv = {
    ...process.env,
    PATH: `${path.dirname(NODE24)}${path.delimiter}${process.env.PATH}`,
    N8N_USER_FOLDER: state,
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
  };
  const n8nCli = async (label, cliArgs) =>
    run.exec(label, NODE24, [N8N_BIN, ...cliArgs], { cwd: work, env: { ...n8nEnv, N8N_RUNNERS_BROKER_PORT: String(await h.freePort()) }, timeoutMs: 120_000 });
  const timings = {};

  await run.step('a busy editor port is refused before anything starts, naming the port and --port', async () => {
    const blocker = net.createServer();
    await new Promise((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const out = await new Promise((resolve) => {
        const proc = run.spawn('start:n8n (busy port)', npm, args, { cwd: ROOT });
        proc.child.on('close', (code) => resolve({ code, text: proc.output() }));
      });
      h.assert(out.code !== 0, 'npm run start:n8n succeeded on a busy port');
      h.assert(out.text.includes(`Port ${port} for the n8n editor is already in use`), `the refusal does not name port ${port}:\n${out.text.slice(-800)}`);
      h.assert(out.text.includes(`--port ${port + 10}`), 'the refusal does not say how to pick another port');
      h.assert(!/is running/.test(out.text), 'the sandbox said it is running on a busy port');
      h.assert(!fs.existsSync(state), 'the sandbox started something before checking its ports');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  /** Starts the sandbox and waits for its banner; the editor must answer the moment it is printed. */
  const start = async (label, installMs = 0) => {
    const t0 = Date.now();
    const proc = run.spawn(label, npm, args, { cwd: ROOT, group: true });
    await h.waitFor('the sandbox banner', () => proc.output().includes(BANNER), 300_000 + installMs, proc);
    const seconds = (Date.now() - t0) / 1000;
    const out = proc.output();
    h.assert(out.includes(`n8n editor        ${url}  (n8n ${N8N_VERSION})`), `the banner does not show ${url} and n8n ${N8N_VERSION}:\n${out.slice(-1500)}`);
    const ready = await fetch(`${url}/healthz/readiness`);
    h.assert(ready.ok && (await ready.json()).status === 'ok', `n8n is not ready when the banner is printed (HTTP ${ready.status})`);
    h.assert(!/could not start/.test(out), 'the sandbox reported a failed start');
    return { proc, seconds };
  };

  /** Ctrl-C (SIGINT to the process group, as a terminal sends it) stops n8n, its task runner and the simulator. */
  const ctrlC = async (sandbox) => {
    sandbox.proc.kill('SIGINT');
    await h.waitFor('the sandbox to exit', () => sandbox.proc.exited(), 30_000);
    // npm ends itself with the signal it got, once the sandbox has ended; the sandbox's own end is its "Stopped.".
    const { exitCode, signalCode } = sandbox.proc.child;
    h.assert(exitCode === 0 || signalCode === 'SIGINT', `the sandbox ended with ${signalCode ?? `code ${exitCode}`}`);
    h.assert(sandbox.proc.output().includes('Stopped.'), 'the sandbox did not say it stopped');
    for (const [p, what] of [
      [port, 'the editor'],
      [port + 1, "n8n's task runners"],
      [simPort, 'the simulator'],
      [simPort + 1, "the simulator's stream"],
    ]) {
      h.assert(await isFree(p), `port ${p} (${what}) is still taken after Ctrl-C`);
    }
  };

  /**
   * The example run once as the editor's "Execute workflow" runs it (n8n's REST API, in the sandbox's n8n): its
   * sessions and CSV file, and the CarData calls it made.
   */
  const execute = async (call, workflowId) => {
    const before = simLog().length;
    const { data: started } = await call('POST', `rest/workflows/${workflowId}/run`, { triggerToStartFrom: { name: TRIGGER_NODE } });
    h.assert(started.executionId, `n8n started no execution: ${JSON.stringify(started)}`);
    const execution = await h.waitFor(
      'the execution to finish',
      async () => {
        const { data } = await call('GET', `rest/executions/${started.executionId}`);
        return data.finished || data.status === 'error' || data.status === 'crashed' ? data : undefined;
      },
      60_000,
    );
    const result = flatted.parse(execution.data).resultData;
    h.assert(execution.status === 'success', `the execution ended ${execution.status}: ${JSON.stringify(result.error ?? {}).slice(0, 500)}`);
    const sessions = result.runData[SESSIONS_NODE][0].data.main[0].map((item) => item.json);
    const csv = result.runData[CSV_NODE][0].data.main[0][0].binary.data;
    const calls = simLog().slice(before).trim().split('\n');
    return { sessions, csv, calls };
  };

  const firstStart = EMPTY_CACHE ? 'the first start from an empty cache installs n8n, checks that it starts, and' : 'the first start (n8n cached)';
  const first = await run.step(`${firstStart} prints the URL and what to click once n8n is ready`, async () => {
    const sandbox = await start('start:n8n', INSTALL_MS);
    const out = sandbox.proc.output();
    if (EMPTY_CACHE) {
      h.assert(
        out.includes(`Installing n8n ${N8N_VERSION} into ${N8N_DIR}`),
        `the first start did not install n8n into the empty cache:\n${out.slice(0, 1500)}`,
      );
      h.assert(fs.existsSync(path.join(N8N_DIR, '.checked')), 'the install is not marked checked');
    }
    h.assert(out.includes(`${url}/workflow/`) && out.includes('Execute workflow'), 'the banner does not say what to click first');
    h.assert(/Sign in with +sandbox@example\.com, password \S+/.test(out), 'the banner does not give the sign-in');
    timings.first = sandbox.seconds;
    return sandbox;
  });

  const call = client(url);
  await run.step(`n8n answers as ${N8N_VERSION} with the packages linked from build/; the owner from the banner signs in`, async () => {
    for (const name of PACKAGES) {
      const link = path.join(state, '.n8n', 'nodes', 'node_modules', name);
      h.assert(fs.existsSync(link) && fs.realpathSync(link) === path.join(ROOT, 'build', name), `${link} is not the package assembled in build/`);
    }
    const password = /password (\S+)/.exec(first.proc.output())[1];
    await call('POST', 'rest/login', { emailOrLdapLoginId: 'sandbox@example.com', password });
    const settings = (await call('GET', 'rest/settings')).data;
    h.assert(settings.versionCli === N8N_VERSION, `n8n answers as ${settings.versionCli}`);
    h.assert(settings.userManagement.showSetupOnFirstLoad === false, 'n8n still asks for an owner set-up');
    const names = (await call('GET', 'types/nodes.json')).map((t) => t.name);
    const missing = Object.values(TYPES).filter((type) => !names.includes(type));
    h.assert(missing.length === 0, `n8n did not load ${missing.join(', ')}`);
  });

  const ids = await run.step('the credential and the example workflow exist, the workflow using the credential', async () => {
    const credentials = (await call('GET', 'rest/credentials')).data.filter((c) => c.type === 'bmwCarDataApi');
    h.assert(credentials.length === 1, `${credentials.length} BMW CarData credentials, expected 1`);
    const workflows = (await call('GET', 'rest/workflows')).data.filter((w) => w.name === EXAMPLE.name);
    h.assert(workflows.length === 1, `${workflows.length} workflows named "${EXAMPLE.name}", expected 1`);
    const workflow = (await call('GET', `rest/workflows/${workflows[0].id}`)).data;
    const node = workflow.nodes.find((n) => n.name === SESSIONS_NODE);
    h.assert(node && node.type === TYPES.bmwCarData, `the workflow's node is ${node && node.type}`);
    h.assert(node.credentials.bmwCarDataApi.id === credentials[0].id, 'the workflow does not use the sandbox credential');
    h.assert(first.proc.output().includes(`${url}/workflow/${workflow.id}`), "the banner's link is not the example workflow");
    return { credential: credentials[0].id, workflow: workflow.id };
  });

  await run.step('nothing called the simulator at start (no CarData call, no login)', async () => {
    h.assert(simLog().trim() === '', `the simulator saw requests at start:\n${simLog()}`);
  });

  await run.step("the stream example, published, runs on the simulator's charging session: its message", async () => {
    const [listed] = (await call('GET', 'rest/workflows')).data.filter((w) => w.name === STREAM_EXAMPLE.name);
    h.assert(listed, `no workflow named "${STREAM_EXAMPLE.name}"`);
    h.assert(first.proc.output().includes(`${url}/workflow/${listed.id}`), 'the banner does not list the stream example');
    const workflow = (await call('GET', `rest/workflows/${listed.id}`)).data;
    const t0 = Date.now();
    await call('POST', `rest/workflows/${workflow.id}/activate`, { versionId: workflow.versionId });
    const status = await h.waitFor(
      'the publication',
      async () => {
        const p = (await call('GET', `rest/workflows/${workflow.id}/publication-status`)).data;
        return p.status !== 'in_progress' && p;
      },
      30_000,
    );
    h.assert(status.status === 'published', `the stream example was not published: ${JSON.stringify(status)}`);
    const publishedAt = Date.now();
    const filter = encodeURIComponent(JSON.stringify({ workflowId: workflow.id }));
    const [execution] = await h.waitFor(
      'a run of the stream example',
      async () => {
        const list = (await call('GET', `rest/executions?limit=10&filter=${filter}`)).data.results;
        return list.length > 0 && list.every((e) => e.status === 'success') && list;
      },
      240_000,
      first.proc,
    );
    const data = flatted.parse((await call('GET', `rest/executions/${execution.id}`)).data.data);
    const output = (node) => data.resultData.runData[node][0].data.main[0].map((item) => item.json);
    const [event] = output(STREAM_EXAMPLE.nodes[0].name);
    const [{ text }] = output(MESSAGE_NODE);
    h.assert(event.kind === 'charging-finished' && event.vin === SIM_VINS.bev, `the trigger emitted ${JSON.stringify(event).slice(0, 300)}`);
    const energy = event.energyAdded && event.energyAdded.kwh != null ? `${event.energyAdded.kwh.toFixed(1)} kWh` : 'energy not reported';
    h.assert(
      typeof text === 'string' && text.startsWith(`Charging finished: ${event.startSoc} % to ${event.endSoc} %, ${energy}`),
      `the message is ${JSON.stringify(text)} for ${JSON.stringify(event).slice(0, 300)}`,
    );
    await call('POST', `rest/workflows/${workflow.id}/deactivate`, {});
    console.log(`    "${text}", ${((Date.now() - t0) / 1000).toFixed(0)} s after publishing (published in ${((publishedAt - t0) / 1000).toFixed(0)} s)`);
  });

  let tokens;
  await run.step('the credential holds tokens the simulator issued; none appears in any output or log', async () => {
    const file = path.join(work, 'credentials.json');
    await n8nCli('n8n export:credentials', ['export:credentials', `--id=${ids.credential}`, '--decrypted', `--output=${file}`]);
    const [exported] = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.rmSync(file);
    const simUrl = `http://127.0.0.1:${simPort}`;
    h.assert(exported.data.apiBaseUrl === simUrl && exported.data.authBaseUrl === `${simUrl}/gcdm`, 'the credential is not pointed at the simulator');
    tokens = [exported.data.accessToken, exported.data.refreshToken, exported.data.idToken];
    h.assert(
      tokens.every((t) => typeof t === 'string' && t.length > 20),
      'the credential has no tokens',
    );
    h.assert(Date.parse(exported.data.expiresAt) > Date.now(), 'the access token has expired already');
    const texts = [first.proc.output(), fs.readFileSync(path.join(state, 'n8n.log'), 'utf8'), simLog()];
    h.assert(!tokens.some((t) => texts.some((text) => text.includes(t))), 'a token appears in the output or a log');
    h.assert(!fs.readdirSync(state).some((f) => /import/.test(f)), 'an import file with tokens was left in the state folder');
  });

  await run.step("one run of the example returns last month's sessions from the simulator, as a CSV file", async () => {
    const { sessions, csv, calls } = await execute(call, ids.workflow);
    const zone = EXAMPLE.nodes.find((n) => n.name === SESSIONS_NODE).parameters.options.timeZone;
    const thisMonth = DateTime.now().setZone(zone).startOf('month');
    const [from, to] = [thisMonth.minus({ months: 1 }).toMillis(), thisMonth.toMillis()];
    h.assert(sessions.length > 0, 'no sessions');
    h.assert(
      sessions.every((s) => s.vin === SIM_VINS.bev),
      'a session of another vehicle',
    );
    const outside = sessions.filter((s) => !(Date.parse(s.start) >= from && Date.parse(s.start) < to));
    h.assert(outside.length === 0, `sessions outside last month (${zone}): ${outside.map((s) => s.start).join(', ')}`);
    h.assert(
      sessions.every((s) => typeof s.energyFromGridKwh === 'number' && typeof s.endSoc === 'number'),
      'sessions without their figures',
    );
    h.assert(csv.mimeType === 'text/csv' && csv.fileName === 'charging-sessions-last-month.csv', `the CSV file is ${csv.mimeType} ${csv.fileName}`);
    const rows = fs
      .readFileSync(path.join(state, '.n8n', 'storage', csv.id.replace(/^filesystem-v2:/, '')), 'utf8')
      .trim()
      .split('\n');
    h.assert(
      rows.length === sessions.length + 1 && rows[0].replace(/^\uFEFF/, '').startsWith('vin,start,end'),
      `the CSV has ${rows.length} lines for ${sessions.length} sessions: ${rows[0]}`,
    );
    const charging = `GET /customers/vehicles/${SIM_VINS.bev}/chargingHistory`;
    h.assert(
      calls.length > 0 && calls.every((l) => l.includes(`rest ${charging}`) && l.endsWith('-> 200')),
      `unexpected simulator calls:\n${calls.join('\n')}`,
    );
    console.log(`    ${sessions.length} sessions from ${calls.length} CarData call(s)`);
  });

  await run.step('Ctrl-C stops n8n, its task runner and the simulator', () => ctrlC(first));

  await run.step('the next start gives the credential fresh tokens: the example runs again against the new simulator', async () => {
    const sandbox = await start('start:n8n (next start)');
    timings.next = sandbox.seconds;
    h.assert(/Preparing n8n [\d.]+: the credential…/.test(sandbox.proc.output()), 'the next start imported the example workflows again');
    const again = client(url);
    await again('POST', 'rest/login', { emailOrLdapLoginId: 'sandbox@example.com', password: /password (\S+)/.exec(sandbox.proc.output())[1] });
    const { sessions, calls } = await execute(again, ids.workflow);
    h.assert(sessions.length > 0, 'no sessions after the restart');
    h.assert(
      calls.every((l) => l.endsWith('-> 200')),
      `calls after the restart:\n${calls.join('\n')}`,
    );
    await ctrlC(sandbox);
  });

  console.log(`    first start ${timings.first.toFixed(1)} s${EMPTY_CACHE ? ' (installing n8n)' : ''}, next start ${timings.next.toFixed(1)} s (n8n cached)`);
}

h.runTest({ name: 'n8n sandbox', timeoutMs: TIMEOUT_MS, keep: process.argv.includes('--keep') }, main);
