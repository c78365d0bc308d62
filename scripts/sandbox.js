#!/usr/bin/env node
'use strict';
// The sandbox behind `npm start`: the simulator plus a real Node-RED with this package, an account already
// authorized against the simulator, and the example flows deployed. Nothing here needs the internet or a BMW account.
const fs = require('fs');
const http = require('http');
const path = require('path');
const { spawn } = require('child_process');

const { ROOT, STREAM_INTERVAL_MS, buildIfNeeded, checkPortFree, logTail, playStreamStoryOnceListening, sandboxOptions } = require('./sandbox-support');
const ACCOUNT_ID = 'sandbox-account';
const NODE_RED_PACKAGE = 'node-red-contrib-bmw-cardata';
/** What the sandbox's simulator plays besides its defaults, so that every tab has something to show. */
const SIMULATOR_OPTIONS = { demo: true };
/**
 * An example's wait of minutes (a trigger) waits this long in the sandbox: less than the simulator's car stays
 * plugged in without charging in its stream story, so that "Plugged in but not charging" shows its notification.
 */
const SANDBOX_WAIT_MIN = 1;
/**
 * FlowFuse Dashboard 2, the one package besides this one that an example needs ("Car dashboard"): the sandbox
 * installs this version into its user directory once, from the npm registry, and deploys that example with it.
 */
const DASHBOARD = { name: '@flowfuse/node-red-dashboard', version: '1.31.0', example: 'Car dashboard' };

const HELP = `Usage: npm start [-- options]

Starts the CarData simulator and a Node-RED editor with this package and the example flows.
  --dir DIR         State folder (default .sandbox)
  --reset           Delete the state folder first and start over
  --port N          Node-RED editor port (default 1880)
  --sim-port N      Simulator port (default 4010; the example flows expect 4010); its stream listens on
                    N+1 and the local MQTT broker for "Bridge the stream to your MQTT broker" on N+2
  --n8n             The n8n sandbox instead (the same as npm run start:n8n; its options: npm start -- --n8n --help)
  -h, --help        This help`;

function options() {
  return sandboxOptions({ dir: '.sandbox', port: 1880, simPort: 4010 });
}

/** How to watch what arrives at the sandbox's local MQTT broker. */
function watchCommand(broker) {
  return `npx mqtt sub -h ${broker.host} -p ${broker.port} -t 'bmw-cardata/#' -v`;
}

/**
 * What the sandbox changes in an example's node so that its tab shows a result here, and the sentence the tab's
 * info says it with (undefined: nothing changed).
 */
function sandboxChange(copy, broker) {
  if (copy.type === 'trigger' && copy.units === 'min' && Number(copy.duration) > SANDBOX_WAIT_MIN) {
    const { PLUGGED_WAITING_INTERVALS } = require(path.join(ROOT, 'dist/src/simulator'));
    const example = copy.name;
    copy.duration = String(SANDBOX_WAIT_MIN);
    copy.name = `wait ${SANDBOX_WAIT_MIN} minute (sandbox)`;
    return `"${example}" waits ${SANDBOX_WAIT_MIN} minute here, so that it shows within minutes: once in every round of its stream, the simulator's car stays plugged in without charging for ${(PLUGGED_WAITING_INTERVALS * STREAM_INTERVAL_MS) / 1000} seconds.`;
  }
  if (copy.type === 'bmw-cardata-stream' && copy.output === 'charging') {
    copy.settle = 0;
    return 'Its stream node sends a finished charge at once here: the simulator delivers every reading on time, so there are no late readings to wait for (with BMW it waits 5 minutes for them).';
  }
  if (copy.type === 'bmw-cardata-stream' && copy.output === 'summary') {
    copy.settle = 0;
    return "Its stream node sends the month's figures at once after a finished charge or trip here: the simulator delivers every reading on time, so there are no late readings to wait for (with BMW a finish waits 5 minutes for them).";
  }
  if (copy.type === 'bmw-cardata-stream' && copy.output === 'trips') {
    copy.settle = 0;
    return 'Its stream node sends a finished trip once the 10 minutes that tell a stop from the end are over, without waiting for late readings here: the simulator delivers every reading on time (with BMW it waits 5 minutes more for them). The simulated car drives once in every round of its stream, about every 18 minutes.';
  }
  if (copy.type === 'mqtt-broker') {
    copy.broker = broker.host;
    copy.port = String(broker.port);
    return `"${copy.name}" is the sandbox's local MQTT broker at mqtt://${broker.host}:${broker.port}; watch what arrives with ${watchCommand(broker)} (mosquitto_sub takes the same options).`;
  }
  return undefined;
}

/** The sandbox account's tariff: the one the examples' account carries. */
const SANDBOX_TARIFF = JSON.stringify({ currency: 'EUR', pricePerKwh: 0.32, timeZone: 'Europe/Berlin' });

/** The example to start with: one button, one call, a result in the debug sidebar and a file. */
const START_TAB = /^Charging history/i;

/** The version of Dashboard 2 installed in the user directory, or undefined. */
function installedDashboard(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', DASHBOARD.name, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/**
 * Installs Dashboard 2 (the pinned version) into the user directory unless it is there: from the npm registry the
 * first time (npm's cache makes later installs faster). Resolves { ok, note }: without the registry (offline) the
 * sandbox runs without the dashboard, and the note says why.
 */
function installDashboard(dir) {
  if (installedDashboard(dir) === DASHBOARD.version) return Promise.resolve({ ok: true });
  console.log(
    `Installing FlowFuse Dashboard 2 (${DASHBOARD.name}@${DASHBOARD.version}) into ${dir} for the example "${DASHBOARD.example}"; only the first time…`,
  );
  fs.mkdirSync(dir, { recursive: true });
  const pkg = path.join(dir, 'package.json');
  if (!fs.existsSync(pkg)) fs.writeFileSync(pkg, `${JSON.stringify({ name: 'bmw-cardata-sandbox', private: true }, null, 2)}\n`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = [
    'install',
    '--save-exact',
    '--no-audit',
    '--no-fund',
    '--ignore-scripts',
    '--loglevel=error',
    '--fetch-retries=1',
    '--fetch-timeout=30000',
    `${DASHBOARD.name}@${DASHBOARD.version}`,
  ];
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(npm, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    const done = (reason) => {
      clearTimeout(timer);
      if (!reason && installedDashboard(dir) === DASHBOARD.version) return resolve({ ok: true });
      // npm's error code (ENOTFOUND, ECONNREFUSED, ETIMEDOUT…) says enough; its log has the rest.
      const code = /npm (?:error|ERR!) code (\S+)/.exec(output)?.[1];
      const why = reason || (code ? `npm error ${code}` : output.trim().split('\n').slice(-1)[0] || 'no reason given');
      resolve({ ok: false, note: `npm install ${DASHBOARD.name}@${DASHBOARD.version} failed (${why.slice(0, 200)}); is the npm registry reachable?` });
    };
    child.on('error', (e) => done(e.message));
    child.on('close', (code, signal) => done(code === 0 ? undefined : signal ? `stopped after 4 minutes` : undefined));
  });
}

/**
 * The example flows, one tab each (the one to start with first), all sharing the sandbox account pointed at the simulator; `broker` is the
 * local MQTT broker ({host, port}) the examples' broker nodes point at.
 */
function exampleFlows(simUrl, streamUrl, vin, broker, { dashboard = false } = {}) {
  const { VEHICLE_NODE_TYPES } = require(path.join(ROOT, 'dist/src/node-red/action'));
  const dir = path.join(ROOT, 'examples');
  const flows = [
    {
      id: ACCOUNT_ID,
      type: 'bmw-cardata-account',
      name: 'Sandbox (simulator)',
      apiBaseUrl: simUrl,
      authBaseUrl: `${simUrl}/gcdm`,
      streamUrl,
      dailyQuota: 50,
      // The examples' tariff, so that the dashboard and "Monthly charging cost report" show what charging cost.
      tariff: SANDBOX_TARIFF,
    },
  ];
  // The tab to start with first: Node-RED opens the first tab, and the printout names it. The dashboard's tab, when
  // Dashboard 2 is installed, comes last, so the other tabs keep their ids with it or without it.
  const dashboardFile = `${DASHBOARD.example}.json`;
  const start = (f) => (START_TAB.test(f) ? 0 : f === dashboardFile ? 2 : 1);
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json') && (dashboard || f !== dashboardFile))
    .sort((a, b) => start(a) - start(b) || a.localeCompare(b));
  files.forEach((file, index) => {
    const nodes = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    const accounts = new Set(nodes.filter((n) => n.type === 'bmw-cardata-account').map((n) => n.id));
    const tab = `sandbox-tab-${index + 1}`;
    const tabNode = { id: tab, type: 'tab', label: file.replace(/\.json$/, ''), disabled: false, info: '' };
    flows.push(tabNode);
    const changes = [];
    // Every id of the example gets the tab's prefix, the account's the sandbox account's; so does every value that
    // names one (wires, links, scope, config nodes such as account and broker), in arrays too.
    const ids = new Map(nodes.map((n) => [n.id, accounts.has(n.id) ? ACCOUNT_ID : `${tab}-${n.id}`]));
    const remap = (value) => (Array.isArray(value) ? value.map(remap) : typeof value === 'string' && ids.has(value) ? ids.get(value) : value);
    for (const node of nodes) {
      if (accounts.has(node.id)) continue;
      const copy = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, remap(value)]));
      copy.z = tab;
      // Nothing spends a call before the user clicks.
      if (copy.type === 'inject') copy.once = false;
      // The examples pick no vehicle; the simulator's account has two, so the sandbox picks its BEV.
      if (VEHICLE_NODE_TYPES.includes(copy.type) && !copy.vin) copy.vin = vin;
      const change = sandboxChange(copy, broker);
      if (change) changes.push(change);
      flows.push(copy);
    }
    if (changes.length > 0) tabNode.info = `In the sandbox: ${changes.join(' ')}`;
  });
  const csvFile = flows.find((n) => n.type === 'file' && /csv/i.test(String(n.filename)));
  return { flows, tabs: files.map((f) => f.replace(/\.json$/, '')), csvFile: csvFile && csvFile.filename };
}

/**
 * The dashboard's tab in a flow file written at an earlier start: added when Dashboard 2 is installed now and the
 * tab is missing, taken out when Dashboard 2 is not there (Node-RED would start no flow with its nodes unknown).
 * Returns what it did, for the printout, or undefined.
 */
function syncDashboardTab(flowFile, flows, dashboard) {
  const saved = JSON.parse(fs.readFileSync(flowFile, 'utf8'));
  const tab = (list) => list.find((n) => n.type === 'tab' && n.label === DASHBOARD.example);
  const savedTab = tab(saved);
  // Every node of an example is on its tab, its configuration nodes too.
  const ofTab = (t) => (n) => n.id === t.id || n.z === t.id;
  if (dashboard && !savedTab) {
    const newTab = tab(flows);
    const ids = new Set(saved.map((n) => n.id));
    const added = flows.filter(ofTab(newTab));
    if (added.some((n) => ids.has(n.id))) return undefined;
    fs.writeFileSync(flowFile, JSON.stringify([...saved, ...added], null, 2));
    return `the tab "${DASHBOARD.example}" was added to the flows of ${path.dirname(flowFile)}`;
  }
  if (!dashboard && savedTab) {
    fs.writeFileSync(
      flowFile,
      JSON.stringify(
        saved.filter((n) => !ofTab(savedTab)(n)),
        null,
        2,
      ),
    );
    return `the tab "${DASHBOARD.example}" was taken out of the flows, as Dashboard 2 is not installed`;
  }
  return undefined;
}

/** The sandbox's Node-RED settings. */
function nodeRedSettings(port) {
  return {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret: false,
    editorTheme: { tours: false, palette: { catalogues: [] } },
    // No consent dialog about update checks over the flow on first load (the sandbox is offline anyway).
    telemetry: { enabled: false, updateNotification: false },
    logging: { console: { level: 'info' } },
    // Flow context on disk: the dashboard's charging sessions of the month survive a restart.
    contextStorage: { default: { module: 'localfilesystem' } },
    // The nodes add this to a spent-quota error: here the way out is a fresh start, not waiting for midnight.
    bmwCardata: { quotaHint: 'In the sandbox, npm start -- --reset starts over with a fresh quota.' },
  };
}

function prepareUserDir(opts, sim, vin, broker, dashboard) {
  fs.mkdirSync(path.join(opts.dir, 'node_modules'), { recursive: true });
  // Node-RED finds the package in the user directory's node_modules, as if installed from the palette: the
  // Node-RED package as `npm run packages` assembles it (its editor files load resources/<package name>/).
  const { PACKAGES, assemble } = require('./packages');
  const { dir } = assemble(PACKAGES.find((p) => p.name === NODE_RED_PACKAGE));
  fs.rmSync(path.join(opts.dir, 'node_modules', 'n8n-nodes-bmw-cardata'), { force: true }); // the whole tree, linked by earlier versions
  const link = path.join(opts.dir, 'node_modules', NODE_RED_PACKAGE);
  fs.rmSync(link, { recursive: true, force: true }); // an earlier link, or a copy installed from the palette
  fs.symlinkSync(dir, link, 'dir');
  fs.writeFileSync(
    path.join(opts.dir, 'settings.js'),
    `module.exports = ${JSON.stringify(nodeRedSettings(opts.port), null, 2)};
`,
  );
  const flowFile = path.join(opts.dir, 'flows.json');
  const { flows, tabs, csvFile } = exampleFlows(sim.url, sim.streamUrl, vin, broker, { dashboard });
  let synced;
  if (!fs.existsSync(flowFile)) fs.writeFileSync(flowFile, JSON.stringify(flows, null, 2));
  else synced = syncDashboardTab(flowFile, flows, dashboard);
  // The simulator starts empty every time, so the sandbox account gets fresh tokens at every start.
  const t = sim.issueTokens({ clientId: 'sandbox' });
  const credFile = path.join(opts.dir, 'flows_cred.json');
  const creds = fs.existsSync(credFile) ? JSON.parse(fs.readFileSync(credFile, 'utf8')) : {};
  creds[ACCOUNT_ID] = {
    clientId: 'sandbox',
    accessToken: t.access_token,
    refreshToken: t.refresh_token,
    idToken: t.id_token,
    gcid: t.gcid,
    expiresAt: String(Date.now() + t.expires_in * 1000),
  };
  fs.writeFileSync(credFile, JSON.stringify(creds, null, 2), { mode: 0o600 });
  // Rotated tokens of an earlier run belong to an earlier simulator: drop them so the fresh ones are used.
  fs.rmSync(path.join(opts.dir, 'bmw-cardata-tokens.json'), { force: true });
  // The simulator's quota starts fresh at every start: so does the local count, or the two would disagree.
  fs.rmSync(path.join(opts.dir, 'bmw-cardata-quota.json'), { force: true });
  return { tabs, csvFile, synced };
}

/** Waits until the Node-RED started here answers its admin API with its version, not just any page. */
function waitForEditor(port, child, timeoutMs = 60_000) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`Node-RED exited (code ${child.exitCode})`));
      const req = http.get({ host: '127.0.0.1', port, path: '/settings', timeout: 2000, headers: { Accept: 'application/json' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => {
          let version;
          try {
            version = JSON.parse(body).version;
          } catch {
            version = undefined;
          }
          if (res.statusCode === 200 && typeof version === 'string') resolve(version);
          else retry();
        });
      });
      req.on('error', retry);
      req.on('timeout', () => req.destroy());
    };
    const retry = () => (Date.now() - started > timeoutMs ? reject(new Error('Node-RED did not start in time')) : setTimeout(attempt, 300));
    attempt();
  });
}

async function main() {
  const opts = options();
  if (opts.help) {
    console.log(HELP);
    return;
  }
  await checkPortFree(opts.port, 'Node-RED editor', {
    wayOut: `npm start -- --port ${opts.port + 10}`,
    busyNote: opts.port === 1880 ? ' (is another Node-RED running?)' : '',
  });
  await checkPortFree(opts.simPort, 'simulator', { wayOut: `npm start -- --sim-port ${opts.simPort + 10}` });
  await checkPortFree(opts.simPort + 1, "simulator's stream", { wayOut: `npm start -- --sim-port ${opts.simPort + 10}` });
  await checkPortFree(opts.simPort + 2, 'local MQTT broker', { wayOut: `npm start -- --sim-port ${opts.simPort + 10}` });
  buildIfNeeded();
  if (opts.reset) fs.rmSync(opts.dir, { recursive: true, force: true });
  // Before the simulator starts: Node-RED loads Dashboard 2 at its start, and the install takes a while the first time.
  const dashboard = await installDashboard(opts.dir);
  const { startSimulator, startPlainBroker, SIM_VINS } = require(path.join(ROOT, 'dist/src/simulator'));
  // The stream runs next to the API (the live example expects 4011) and plays its story in a loop once the flows
  // connect. demo: an old container for the housekeeping tab to delete, and a battery below 20 % for the low-battery tab.
  const sim = await startSimulator({ ...SIMULATOR_OPTIONS, port: opts.simPort, host: '127.0.0.1', stream: { port: opts.simPort + 1 } });
  let stopping = false;
  playStreamStoryOnceListening(sim, () => stopping);
  // "Your" MQTT broker, for the bridge example to publish to.
  const broker = await startPlainBroker({ host: '127.0.0.1', port: opts.simPort + 2 });
  const { tabs, csvFile, synced } = prepareUserDir(opts, sim, SIM_VINS.bev, broker, dashboard.ok);
  const logFile = path.join(opts.dir, 'node-red.log');
  const log = fs.openSync(logFile, 'a');
  const red = spawn(
    process.execPath,
    [require.resolve('node-red/red.js', { paths: [ROOT] }), '--userDir', opts.dir, '--settings', path.join(opts.dir, 'settings.js')],
    {
      cwd: opts.dir,
      stdio: ['ignore', log, log],
    },
  );
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping the sandbox…');
    if (red.exitCode === null) {
      red.kill('SIGINT');
      await new Promise((resolve) => {
        const timer = setTimeout(() => red.kill('SIGKILL'), 10_000);
        red.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await broker.close();
    await sim.close();
    console.log('Stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  let ready = false;
  red.once('exit', (code) => {
    if (!stopping && ready) {
      console.error(`Node-RED stopped unexpectedly (code ${code}); its log is ${logFile}`);
      stop(1);
    }
  });
  let version;
  try {
    version = await waitForEditor(opts.port, red);
    ready = true;
  } catch (e) {
    console.error(`The sandbox could not start Node-RED: ${e.message}. The end of ${logFile}:\n${logTail(logFile)}`);
    return stop(1);
  }
  const editor = `http://127.0.0.1:${opts.port}`;
  console.log(`
BMW CarData sandbox is running (no BMW account needed; the internet only once, for Dashboard 2).

  Node-RED editor   ${editor}  (Node-RED ${version})
  Dashboard         ${
    dashboard.ok
      ? `${editor}/dashboard  (the tab "${DASHBOARD.example}", FlowFuse Dashboard 2 ${DASHBOARD.version}): each car's charge, range,
                    charging, doors, this month's sessions, kWh, km and cost (the sandbox's account has the examples' tariff, 0.32 EUR per kWh),
                    the quota left and the last trip, live from the stream${synced ? `;\n                    ${synced}` : ''}`
      : `not available: ${dashboard.note}${synced ? `; ${synced}` : ''}`
  }
  Simulator         ${sim.url}  (API ${sim.apiBaseUrl}, login ${sim.authBaseUrl}, stream ${sim.streamUrl})
  Test vehicles     ${SIM_VINS.bev} (BEV), ${SIM_VINS.phev} (PHEV)
  Local MQTT broker ${broker.url}  for "Bridge the stream to your MQTT broker"; watch it:
                    ${watchCommand(broker)}
  State folder      ${opts.dir}   (npm start -- --reset starts over)
  Demo data         an old container (old-soc-export) for "Containers housekeeping" to delete, and a
                    battery below 20 % for the first 20 minutes of every hour for "Low state of charge notification"
  Stream            a charging session, the car plugged in without charging, doors and a trip, a round about
                    every 18 minutes once the flows connect (each trip finishes about 11 minutes after it ends); "Plugged in but not charging" waits ${SANDBOX_WAIT_MIN} minute here
                    (its tab's info says so) and shows its notification about 2 minutes after the start
  Daily quota       50 calls; nothing is spent until you click, and the simulator and the local count start
                    fresh at every npm start (the local count alone would say "resets at 00:00 UTC")

What to click first:
  1. Open ${editor}: it shows the tab "${tabs[0]}".
  2. Click the square button on the left of the inject node.
  3. Open the debug sidebar (the bug icon, top right) to see the sessions${csvFile ? `; the CSV file is ${csvFile}` : ''}.
  The account "Sandbox (simulator)" is already authorized; its Authorize button runs the login against the
  simulator, whose approval page opens in a new tab.

Press Ctrl-C to stop.`);
}

module.exports = { exampleFlows, syncDashboardTab, nodeRedSettings, SIMULATOR_OPTIONS, SANDBOX_WAIT_MIN, ACCOUNT_ID, DASHBOARD };

if (require.main !== module) {
  // Required by a test for its flows and options: start nothing.
} else if (process.argv.includes('--n8n')) {
  // `npm start -- --n8n` is `npm run start:n8n`: the n8n sandbox takes the other options.
  process.argv = process.argv.filter((arg) => arg !== '--n8n');
  require('./sandbox-n8n');
} else {
  main().catch((e) => {
    console.error(`sandbox: ${e.message}`);
    process.exit(1);
  });
}
