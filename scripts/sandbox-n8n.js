#!/usr/bin/env node
'use strict';
// The sandbox behind `npm run start:n8n`: the simulator plus a real n8n (the version the package is tested with,
// installed once into the cache) with this clone's n8n packages, a credential already logged in to the simulator,
// the example workflows imported and an owner account to sign in with. Nothing here needs a BMW account.
const fs = require('fs');
const { n8nEnv, n8nRestClient, simulatorCredentialData } = require('./n8n-process');
const path = require('path');
const { spawn } = require('child_process');
const { randomBytes } = require('crypto');
const { ROOT, buildIfNeeded, checkPortFree, logTail, playStreamStoryOnceListening, sandboxOptions } = require('./sandbox-support');
const { PACKAGES, assemble, manifestFor } = require('./packages');

const INSTALL_SCRIPT = path.join(ROOT, 'test', 'e2e', 'n8n-install.sh');
const CREDENTIAL = { id: 'bmwSandboxCredential', name: 'BMW CarData (simulator)', type: 'bmwCarDataApi' };
const CLIENT_ID = 'sandbox';
const OWNER_EMAIL = 'sandbox@example.com';
const N8N_PACKAGES = PACKAGES.filter((p) => manifestFor(p).n8n).map((p) => p.name);
const NODE_TYPE = `${require(path.join(ROOT, 'packages', 'n8n-nodes-bmw-cardata', 'package.json')).name}.bmwCarData`;
// What the state folder's workflows were imported for: older sandboxes loaded the nodes as CUSTOM.*.
const NODE_SOURCE = 'packages';
// Sent with every REST call: n8n ties its login cookie to the browser ID it was issued with.
const BROWSER_ID = 'bmw-cardata-sandbox';
const START_TIMEOUT_MS = 240_000; // n8n's first start runs its database migrations
const STREAM_LOOP_MINUTES = 18; // charging, doors, a trip and the car parked after it, a message every 5 s

const HELP = `Usage: npm run start:n8n [-- options]

Starts the CarData simulator and an n8n editor with this package, a credential logged in to the simulator and
the example workflows. The first start installs n8n into ~/.cache/bmw-cardata (about 5 minutes and 3 GB).
  --dir DIR         State folder (default .sandbox-n8n)
  --reset           Delete the state folder first and start over
  --port N          n8n editor port (default 5678); n8n's task runners use the next port
  --sim-port N      Simulator port (default 4020, beside npm start's 4010); the stream uses the next port
  -h, --help        This help`;

function options() {
  const opts = sandboxOptions({ dir: '.sandbox-n8n', port: 5678, simPort: 4020 });
  if (opts.port === 65535 || opts.simPort === 65535) throw new Error('--port and --sim-port need the next port too');
  return opts;
}

/**
 * The pinned n8n and its Node.js from test/e2e/n8n-install.sh, which installs them on first use. Its progress
 * goes to the terminal; its last lines name the binaries.
 */
function installN8n(track) {
  return new Promise((resolve, reject) => {
    const child = track(spawn('bash', [INSTALL_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const found = {};
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop();
      for (const line of lines) {
        const m = /^(node24|n8n): (.+)$/.exec(line);
        if (m) found[m[1]] = m[2];
        else process.stdout.write(`${line}\n`);
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0 || !found.node24 || !found.n8n) return reject(new Error(`installing n8n failed (${INSTALL_SCRIPT} exited with code ${code})`));
      const version = JSON.parse(fs.readFileSync(path.join(path.dirname(fs.realpathSync(found.n8n)), '..', 'package.json'), 'utf8')).version;
      resolve({ node: found.node24, bin: found.n8n, version });
    });
  });
}

/**
 * This clone's n8n packages where n8n loads community packages from: assembled into build/ from dist/ (the files
 * their tarballs hold) and linked into the nodes folder of the state folder, which n8n scans for n8n-nodes-*
 * packages at every start. Linked, not installed: a rebuilt clone is seen at the next start, nothing is packed or
 * fetched, and what the packages require resolves from the clone's node_modules. (The n8n tests install the
 * tarballs, as users get them.)
 */
function linkPackages(stateDir) {
  const nodeModules = path.join(stateDir, '.n8n', 'nodes', 'node_modules');
  fs.mkdirSync(nodeModules, { recursive: true });
  for (const spec of PACKAGES.filter((p) => N8N_PACKAGES.includes(p.name))) {
    const { dir } = assemble(spec);
    const link = path.join(nodeModules, spec.name);
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(dir, link, process.platform === 'win32' ? 'junction' : 'dir');
  }
}

const ours = (node) => N8N_PACKAGES.some((name) => node.type.startsWith(`${name}.`));

/** The example workflows as the sandbox imports them, with its credential. */
function exampleWorkflows() {
  const dir = path.join(ROOT, 'n8n-examples');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file, index) => {
      const workflow = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      const nodes = workflow.nodes.map((node) => {
        if (!ours(node) || !node.credentials || !node.credentials[CREDENTIAL.type]) return node;
        const sandboxed = { ...node, credentials: { ...node.credentials, [CREDENTIAL.type]: { id: CREDENTIAL.id, name: CREDENTIAL.name } } };
        // The simulator delivers every reading on time: a finished charge or trip need not wait for late ones here.
        if (node.parameters?.output === 'charging' || node.parameters?.output === 'trips') sandboxed.parameters = { ...node.parameters, settleSeconds: 0 };
        return sandboxed;
      });
      return {
        ...workflow,
        id: `bmwSandboxWorkflow${String(index + 1).padStart(2, '0')}`,
        active: false,
        nodes,
        meta: { ...workflow.meta, templateCredsSetupCompleted: true },
      };
    });
}

/** What the banner says of an imported workflow: how it starts, the first BMW CarData node, the last node. */
function summary(workflow) {
  const cardata = workflow.nodes.find(ours);
  const ends = workflow.nodes.filter((n) => !workflow.connections[n.name]);
  return {
    id: workflow.id,
    name: workflow.name,
    manual: workflow.nodes.some((n) => n.type === 'n8n-nodes-base.manualTrigger'),
    node: cardata && cardata.name,
    last: ends.length ? ends[ends.length - 1].name : undefined,
  };
}

/** `n8n <args>` in the sandbox's environment; rejects with the end of its output when it fails. */
function n8nCommand(n8n, env, args, track) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(n8n.node, [n8n.bin, ...args], { env, cwd: env.N8N_USER_FOLDER, stdio: ['ignore', 'pipe', 'pipe'] }));
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve(output);
      else reject(new Error(`n8n ${args[0]} failed (${signal ?? `code ${code}`}):\n${output.trimEnd().split('\n').slice(-15).join('\n')}`));
    });
  });
}

/**
 * The credential with tokens the simulator has just issued. The simulator starts empty every time, so the
 * credential gets fresh tokens at every start (and with them n8n's rotated ones of an earlier run are replaced).
 */
async function importCredential(n8n, env, sim, track, stateDir) {
  const credential = { ...CREDENTIAL, data: simulatorCredentialData(sim, CLIENT_ID) };
  const file = path.join(stateDir, 'credential-import.json');
  fs.writeFileSync(file, JSON.stringify([credential]), { mode: 0o600 });
  try {
    await n8nCommand(n8n, env, ['import:credentials', `--input=${file}`], track);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** The cookie-authenticated API of the n8n started here: `call('GET', 'rest/settings')` gives { status, body }. */
const restClient = (baseUrl) => n8nRestClient(baseUrl, BROWSER_ID);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Set by Ctrl-C: whatever fails from then on fails because it is being stopped.
let stopping = false;

/** Waits until the n8n started here is ready: its readiness check and then its own settings answer. */
async function waitForN8n(url, child) {
  const started = Date.now();
  const call = restClient(url);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`n8n exited (${child.signalCode ?? `code ${child.exitCode}`})`);
    if (Date.now() - started > START_TIMEOUT_MS) throw new Error(`n8n did not start within ${START_TIMEOUT_MS / 1000} s`);
    try {
      const ready = await fetch(`${url}/healthz/readiness`, { signal: AbortSignal.timeout(2000) });
      const body = ready.ok ? await ready.json() : undefined;
      if (body && body.status === 'ok') {
        const settings = await call('GET', 'rest/settings');
        if (settings.status === 200 && settings.body && settings.body.data && settings.body.data.userManagement) return settings.body.data;
      }
    } catch {
      // Not listening yet.
    }
    await sleep(1000);
  }
}

/**
 * The owner account, created on the first start with a password kept in the state folder, then signed in: the
 * editor opens on the sign-in page, not the set-up form.
 */
async function signIn(url, publicSettings, stateDir) {
  const ownerFile = path.join(stateDir, 'owner.json');
  const call = restClient(url);
  if (publicSettings.userManagement.showSetupOnFirstLoad) {
    const owner = { email: OWNER_EMAIL, password: `Sandbox-${randomBytes(6).toString('hex')}` };
    const res = await call('POST', 'rest/owner/setup', { ...owner, firstName: 'Sandbox', lastName: 'Owner' });
    if (res.status !== 200) throw new Error(`n8n refused the owner set-up (HTTP ${res.status})`);
    fs.writeFileSync(ownerFile, JSON.stringify(owner, null, 2), { mode: 0o600 });
  }
  let owner;
  try {
    owner = JSON.parse(fs.readFileSync(ownerFile, 'utf8'));
  } catch {
    throw new Error(`n8n already has an owner but ${ownerFile} is missing: start over with --reset`);
  }
  const login = await call('POST', 'rest/login', { emailOrLdapLoginId: owner.email, password: owner.password });
  if (login.status !== 200)
    throw new Error(`the owner in ${ownerFile} cannot sign in (HTTP ${login.status}); was the password changed? Start over with --reset`);
  return { owner, call };
}

/** After signing in: n8n answers as the version started here, with this clone's packages and the credential. */
async function checkN8n(call, version) {
  const settings = await call('GET', 'rest/settings');
  const answered = settings.body && settings.body.data && settings.body.data.versionCli;
  if (answered !== version) throw new Error(`the editor's port answers as n8n ${answered ?? '(no version)'}, not as the n8n ${version} started here`);
  const types = await call('GET', 'types/nodes.json');
  const names = Array.isArray(types.body) ? types.body.map((t) => t.name) : [];
  const missing = N8N_PACKAGES.filter((name) => !names.some((n) => n.startsWith(`${name}.`)));
  if (missing.length || !names.includes(NODE_TYPE)) throw new Error(`n8n did not load ${missing.join(' and ') || NODE_TYPE}`);
  const credential = await call('GET', `rest/credentials/${CREDENTIAL.id}`);
  if (credential.status !== 200) throw new Error(`n8n has no credential "${CREDENTIAL.name}" (HTTP ${credential.status})`);
}

/** Stops with a clear way out when a port the sandbox needs is taken. */
async function checkPorts(opts) {
  const wayOut = (flag, port) => `npm run start:n8n -- ${flag} ${port + 10}`;
  await checkPortFree(opts.port, 'n8n editor', { wayOut: wayOut('--port', opts.port), busyNote: opts.port === 5678 ? ' (is another n8n running?)' : '' });
  await checkPortFree(opts.port + 1, "n8n's task runners (the editor port + 1)", { wayOut: wayOut('--port', opts.port) });
  await checkPortFree(opts.simPort, 'simulator', { wayOut: wayOut('--sim-port', opts.simPort) });
  await checkPortFree(opts.simPort + 1, "simulator's stream (the simulator port + 1)", { wayOut: wayOut('--sim-port', opts.simPort) });
}

/**
 * What Ctrl-C stops: every child process tracked (n8n in its own process group, with its task runner) and the
 * simulator, also while n8n is still being installed or started.
 */
function stopper() {
  const children = new Set();
  const stopped = { sim: undefined };
  const track = (child) => {
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  const stopChild = (child) =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const signal = (s) => {
        try {
          process.kill(child.detachedGroup ? -child.pid : child.pid, s);
        } catch {
          // Already gone.
        }
      };
      const timer = setTimeout(() => signal('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      signal('SIGTERM');
    });
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping the sandbox…');
    await Promise.all([...children].map(stopChild));
    if (stopped.sim) await stopped.sim.close();
    console.log('Stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  return { track, stop, stopAlso: (sim) => (stopped.sim = sim) };
}

/** The simulator, with every request n8n makes to it in one line of simulator.log (method, path, status; no tokens). */
async function startSandboxSimulator(opts) {
  const { startSimulator, SIM_VINS } = require(path.join(ROOT, 'dist/src/simulator'));
  const simLog = fs.openSync(path.join(opts.dir, 'simulator.log'), 'a');
  const onRequest = (e) => fs.writeSync(simLog, `${new Date(e.at).toISOString()} ${e.kind} ${e.method} ${e.path} -> ${e.status}\n`);
  const sim = await startSimulator({ port: opts.simPort, host: '127.0.0.1', stream: { port: opts.simPort + 1 }, onRequest });
  return { sim, vins: SIM_VINS };
}

/**
 * The credential, logged in to this simulator (every start), and the example workflows (once: edits made in the
 * editor survive the next start; --reset brings the examples back). Returns what sandbox.json says of them.
 */
async function prepareN8nState(n8n, env, sim, track, dir) {
  const stateFile = path.join(dir, 'sandbox.json');
  const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : {};
  if (state.workflows && state.nodes !== NODE_SOURCE) {
    console.log('The example workflows in this state folder name the nodes as an older sandbox loaded them (CUSTOM.*): importing them again, over any edits.');
    delete state.workflows;
  }
  console.log(`Preparing n8n ${n8n.version}: the credential${state.workflows ? '' : ' and the example workflows'}…`);
  await importCredential(n8n, env, sim, track, dir);
  if (!state.workflows) {
    const workflows = exampleWorkflows();
    const file = path.join(dir, 'workflow-import.json');
    fs.writeFileSync(file, JSON.stringify(workflows, null, 2));
    await n8nCommand(n8n, env, ['import:workflow', `--input=${file}`], track);
    fs.rmSync(file, { force: true });
    state.workflows = workflows.map(summary);
    state.nodes = NODE_SOURCE;
    fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));
  }
  return state;
}

/**
 * Starts n8n in its own process group (Ctrl-C reaches it once, from here, and its task runner goes with it),
 * waits until it answers, signs in as the owner and checks that it loaded our nodes and the credential.
 * Returns the signed-in owner, or undefined when it could not (the sandbox is then stopping).
 */
async function startN8n(n8n, env, url, dir, { track, stop }) {
  console.log(`Starting n8n ${n8n.version} on ${url} (about a minute; its log is ${path.join(dir, 'n8n.log')})…`);
  const logFile = path.join(dir, 'n8n.log');
  const log = fs.openSync(logFile, 'a');
  const child = track(spawn(n8n.node, [n8n.bin, 'start'], { env, cwd: dir, stdio: ['ignore', log, log], detached: true }));
  child.detachedGroup = true;
  let ready = false;
  child.once('exit', (code, signal) => {
    if (!stopping && ready) {
      console.error(`n8n stopped unexpectedly (${signal ?? `code ${code}`}); its log is ${logFile}`);
      stop(1);
    }
  });
  try {
    const publicSettings = await waitForN8n(url, child);
    const signedIn = await signIn(url, publicSettings, dir);
    await checkN8n(signedIn.call, n8n.version);
    ready = true;
    return signedIn;
  } catch (e) {
    if (stopping) return undefined;
    console.error(`The sandbox could not start n8n: ${e.message}. The end of ${logFile}:\n${logTail(logFile)}`);
    await stop(1);
    return undefined;
  }
}

/** What is running and what to click first: the workflow run by hand, then the ones the stream starts. */
function printWelcome({ url, n8n, signedIn, sim, vins, dir, workflows }) {
  const first = workflows.find((w) => w.manual) ?? workflows[0];
  const others = workflows.filter((w) => w !== first);
  const look = [
    first.node && `"${first.node}" to see what the simulator returned`,
    first.last && first.last !== first.node && `"${first.last}" for the result`,
  ].filter(Boolean);
  console.log(`
BMW CarData n8n sandbox is running (no BMW account needed).

  n8n editor        ${url}  (n8n ${n8n.version})
  Sign in with      ${signedIn.owner.email}, password ${signedIn.owner.password}
  Simulator         ${sim.url}  (API ${sim.apiBaseUrl}, login ${sim.authBaseUrl}, stream ${sim.streamUrl})
  Test vehicles     ${vins.bev} (BEV), ${vins.phev} (PHEV)
  State folder      ${dir}   (npm run start:n8n -- --reset starts over)
  Daily quota       50 calls; nothing is spent until you click. The simulator and n8n count afresh at every
                    start (a published workflow keeps its count until --reset). Every call n8n makes to the
                    simulator is listed in ${path.join(dir, 'simulator.log')}

What to click first:
  1. Open ${url}/workflow/${first.id} and sign in: the workflow "${first.name}" opens.
  2. Click "Execute workflow" below the canvas.${look.length ? `\n  3. Double-click ${look.join(', and ')}.` : ''}
  The credential "${CREDENTIAL.name}" (Overview, Credentials) is already logged in to the simulator.
${
  others.length
    ? `
Also imported, started by the simulator's stream: click Publish. The stream starts playing once a workflow
listens: a charging session within a minute, then every ${STREAM_LOOP_MINUTES} minutes; each run shows under Executions.
${others.map((w) => `  "${w.name}"\n      ${url}/workflow/${w.id}`).join('\n')}
`
    : ''
}
Press Ctrl-C to stop.`);
}

async function main() {
  const opts = options();
  if (opts.help) {
    console.log(HELP);
    return;
  }
  await checkPorts(opts);
  const lifecycle = stopper();
  if (opts.reset) fs.rmSync(opts.dir, { recursive: true, force: true });
  fs.mkdirSync(opts.dir, { recursive: true });
  const n8n = await installN8n(lifecycle.track);
  if (stopping) return;
  buildIfNeeded();
  linkPackages(opts.dir);
  const { sim, vins } = await startSandboxSimulator(opts);
  lifecycle.stopAlso(sim);
  const url = `http://127.0.0.1:${opts.port}`;
  const env = n8nEnv({ nodeBin: n8n.node, userFolder: opts.dir, port: opts.port, brokerPort: opts.port + 1, extra: { N8N_EDITOR_BASE_URL: url } });
  const state = await prepareN8nState(n8n, env, sim, lifecycle.track, opts.dir);
  if (stopping) return;
  const signedIn = await startN8n(n8n, env, url, opts.dir, lifecycle);
  if (!signedIn || stopping) return;
  playStreamStoryOnceListening(sim, () => stopping);
  printWelcome({ url, n8n, signedIn, sim, vins, dir: opts.dir, workflows: state.workflows });
}

main().catch((e) => {
  if (stopping) return;
  console.error(`sandbox: ${e.message}`);
  process.exit(1);
});
