'use strict';
// A simulated week, at high speed, through the real processes a user runs at home: a Node-RED process with the
// stream node (charging events and the car's state, each to a file) and a polling job (an HTTP-in flow that reads the
// charging history of a car every 6 simulated hours), and the `bmw-cardata bridge` process relaying the stream to the
// user's own MQTT broker (the simulator's embedded broker behind a relay, so it can go down and come back).
// Two simulated accounts (BMW allows one stream connection per account), two cars each, two charges per car per day
// and the driving in between, replayed from the simulator's charging scripts with the timestamps of last week (so a
// finished charge is due at once and nothing waits for the clock). The stream login is renewed every ~75 s (the
// simulator's tokens live 6¼ minutes; renewal is 5 minutes ahead), as the hourly renewal is with BMW.
//
// Faults, each simulated day: a stream drop (every connection kicked), the login service answering the next token
// requests with a 503 HTML page, a 429 with Retry-After, a firewall's 403 page, a 404 maintenance page or an empty
// 502; on some days the user's broker going down and up (once with a SIGKILL of the bridge while it is down), the
// bridge killed with SIGKILL and started again, Node-RED stopped (SIGTERM) and started again. Messages are published
// only while the client is subscribed (what BMW sends to nobody is lost for every client, not a defect); after a kill
// of the bridge the car's messages of the day so far are sent again to it (as the car sends its state again; the
// bridge saves plain readings in batches, so a kill -9 loses the last ones by design).
//
// Prints the charging events expected (core's LiveData fed the same messages) against those delivered to the
// Node-RED flow and to the user's broker (duplicates: copies under the same id), the state messages, the polls and
// the REST quota spent against the floor (one call per page the answered polls needed), and the heap and handles of
// this process and the memory (VmRSS) and open files of Node-RED and the bridge at the start, after each day and at
// the end. Exits with 1 when an event was lost or differed, or a process died. Not part of `npm run bench`.
//
//   npm run bench:soak                 (SOAK_DAYS=7, SOAK_INTERVAL_MS=40, SOAK_SEED=1)
const fs = require('fs');
const os = require('os');
const path = require('path');
const { randomUUID } = require('crypto');
const mqtt = require('mqtt');
const { startSimulator, startPlainBroker, SIM_VINS } = require('../dist/src/simulator');
const { CHARGING_SCRIPTS, chargingScriptItems } = require('../dist/src/simulator/charging-scripts');
const { LiveData } = require('../dist/src/node');
const { startNodeRed } = require('../test/support/nodered-runtime');
const { Relay, spawnBridge, writeAccount, withId, seeded, until, sleep, CONNECTED } = require('../test/support/bridge');

const DAYS = Number(process.env.SOAK_DAYS || 7);
const INTERVAL_MS = Number(process.env.SOAK_INTERVAL_MS || 40);
const SEED = Number(process.env.SOAK_SEED || 1);
const TOKEN_TTL_SEC = 375;
const PAGE_SIZE = 25;
const DRIVE_MESSAGES = 250;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const ODOMETER = 'vehicle.vehicle.travelledDistance';
const RANGE = 'vehicle.drivetrain.electricEngine.remainingElectricRange';
const LAT = 'vehicle.cabin.infotainment.navigation.currentLocation.latitude';
const LON = 'vehicle.cabin.infotainment.navigation.currentLocation.longitude';
const SPEED = 'vehicle.vehicle.speed';

const SESSION_SCRIPTS = ['ac-session', 'dc-session', 'interrupted', 'duplicates-out-of-order'];

/** Answers of a login service that is having a bad day (none of them an OAuth error: all transient). */
const LOGIN_FAULTS = [
  { label: '503 HTML', answer: { status: 503, body: '<html><body><h1>503 Service Unavailable</h1></body></html>', contentType: 'text/html' } },
  { label: '429 Retry-After 2', answer: { status: 429, body: '', headers: { 'Retry-After': '2' } } },
  { label: "403 firewall's HTML", answer: { status: 403, body: '<html><body>Access denied (firewall)</body></html>', contentType: 'text/html' } },
  { label: '404 maintenance page', answer: { status: 404, body: '<html><body>Down for maintenance</body></html>', contentType: 'text/html' } },
  { label: '502 empty', answer: { status: 502, body: '' } },
];

/** One BMW stream message of `vin` with `data` measured at `at` (ms). */
function message(vin, at, data) {
  const timestamp = new Date(at).toISOString();
  const values = {};
  for (const [descriptor, value] of Object.entries(data))
    values[descriptor] = { timestamp, value, unit: descriptor === ODOMETER || descriptor === RANGE ? 'km' : null };
  return { vin, entityId: randomUUID(), topic: vin, timestamp, data: values };
}

function sessionMessages(name, vin, start) {
  return chargingScriptItems(CHARGING_SCRIPTS[name], { vin, start })
    .filter((i) => 'message' in i)
    .map((i) => i.message);
}

/** A drive: `count` messages from `start`, `stepMs` apart, the odometer going up and the range down. */
function driveMessages(vin, start, count, stepMs, car) {
  const out = [];
  for (let i = 0; i < count; i++) {
    car.odometer += 1;
    car.range = Math.max(20, car.range - 1);
    out.push(
      message(vin, start + i * stepMs, {
        [ODOMETER]: car.odometer,
        [RANGE]: car.range,
        [LAT]: 48.17 + i / 1000,
        [LON]: 11.55 + i / 1000,
        [SPEED]: 30 + (i % 90),
      }),
    );
  }
  return out;
}

/** Two lists merged by timestamp, each keeping its own order (a script's late messages stay late). */
function merge(a, b) {
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && Date.parse(a[i].timestamp) <= Date.parse(b[j].timestamp))) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}

/** The messages of simulated day `day` (starting at `dayStart`), in delivery order, and its sessions. */
function dayMessages(day, dayStart, cars) {
  const s = (k) => SESSION_SCRIPTS[(2 * day + k) % SESSION_SCRIPTS.length];
  const bevSessions = [s(0), s(1)];
  const phevSessions = ['phev-no-soc', SESSION_SCRIPTS[(day + 1) % SESSION_SCRIPTS.length]];
  const bev = [
    ...sessionMessages(bevSessions[0], SIM_VINS.bev, dayStart + 2 * HOUR),
    ...driveMessages(SIM_VINS.bev, dayStart + 6.5 * HOUR, DRIVE_MESSAGES, 2 * 60_000, cars.bev),
    ...sessionMessages(bevSessions[1], SIM_VINS.bev, dayStart + 15 * HOUR),
  ];
  const phev = [
    ...sessionMessages(phevSessions[0], SIM_VINS.phev, dayStart + 1 * HOUR),
    ...driveMessages(SIM_VINS.phev, dayStart + 13.1 * HOUR, DRIVE_MESSAGES, 30_000, cars.phev),
    ...sessionMessages(phevSessions[1], SIM_VINS.phev, dayStart + 15.5 * HOUR),
  ];
  return { messages: merge(bev, phev), sessions: [...bevSessions.map((n) => `bev ${n}`), ...phevSessions.map((n) => `phev ${n}`)] };
}

/**
 * Subscribed: one connection of the account, and a granted subscription since the last connection went (the broker
 * may log a client's subscription before its connect).
 */
function subscribed(sim) {
  if (sim.stream.connections() !== 1) return false;
  const log = sim.stream.log;
  for (let i = log.length - 1; i >= 0; i--) {
    const e = log[i].event;
    if (e === 'subscribe') return true;
    if (e !== 'connect' && e !== 'publish-refused') return false;
  }
  return false;
}

/** Set once the processes run: their recent output, for a failure's message. */
let diagnose = () => '';

const waitSubscribed = (sim, who, ms = 180_000) =>
  until(
    () => subscribed(sim),
    ms,
    () => `${who} to subscribe to the stream again; the stream's log: ${JSON.stringify(sim.stream.log.slice(-10))}\n${diagnose()}`,
  );

/** VmRSS (MB) and open file descriptors of a process. */
function procFigures(pid) {
  try {
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
    return { rss, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return { rss: NaN, fds: NaN };
  }
}

function benchFigures() {
  if (global.gc) global.gc();
  return { heap: process.memoryUsage().heapUsed / 1048576, handles: process._getActiveHandles().length };
}

function readLines(file) {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
}

/** Delivered events against the expected ones (each with its id). */
function compare(want, got) {
  const byId = new Map();
  for (const e of got) byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
  const wanted = new Map(want.map((e) => [e.id, JSON.stringify(e)]));
  return {
    delivered: got.length,
    distinct: byId.size,
    duplicates: got.length - byId.size,
    missing: want.filter((e) => !byId.has(e.id)),
    unexpected: got.filter((e) => !wanted.has(e.id)),
    wrong: got.filter((e) => wanted.has(e.id) && wanted.get(e.id) !== JSON.stringify(e)).length,
  };
}

/** A watcher on the user's broker: every charging event the bridge delivered (kept across broker restarts). */
async function watchEvents(url, into) {
  const client = mqtt.connect(url, { reconnectPeriod: 0, clean: true });
  client.on('message', (_topic, payload) => into.push(JSON.parse(payload.toString())));
  client.on('error', () => undefined);
  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  await client.subscribeAsync('bmw-cardata/+/event', { qos: 1 });
  return client;
}

const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '?');

async function main() {
  const started = Date.now();
  const random = seeded(SEED);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-soak-'));
  const simOptions = { stream: true, dailyQuota: 10_000, accessTokenTtlSec: TOKEN_TTL_SEC, chargingPageSize: PAGE_SIZE };
  const simNR = await startSimulator({ ...simOptions, seed: 1 });
  const simBR = await startSimulator({ ...simOptions, seed: 2 });
  let userBroker = await startPlainBroker();
  const brokerPort = userBroker.port;
  const relay = await Relay.start(brokerPort);
  const bridgeEvents = [];
  let watcher = await watchEvents(userBroker.url, bridgeEvents);

  const files = { charging: path.join(work, 'charging.jsonl'), state: path.join(work, 'state.jsonl') };
  const file = (id, filename) => ({
    id,
    z: 'tab',
    type: 'file',
    filename,
    filenameType: 'str',
    appendNewline: true,
    createDir: true,
    overwriteFile: 'false',
    encoding: 'none',
    wires: [],
  });
  const t = simNR.issueTokens({ clientId: 'soak-client' });
  const red = await startNodeRed({
    flows: [
      // Node ids differ from every property value (Node-RED takes such a value for a reference to the node).
      { id: 'tab', type: 'tab', label: 'soak' },
      {
        id: 'acc',
        type: 'bmw-cardata-account',
        name: 'sim',
        apiBaseUrl: simNR.apiBaseUrl,
        authBaseUrl: simNR.authBaseUrl,
        streamUrl: simNR.streamUrl,
        dailyQuota: 10_000,
      },
      { id: 'chargingStream', z: 'tab', type: 'bmw-cardata-stream', account: 'acc', vin: '', descriptors: [], output: 'charging', wires: [['chargingFile']] },
      { id: 'stateStream', z: 'tab', type: 'bmw-cardata-stream', account: 'acc', vin: '', descriptors: [], output: 'state', wires: [['stateFile']] },
      file('chargingFile', files.charging),
      file('stateFile', files.state),
      // The polling job: POST /poll {vin, from, to} reads the charging history; the answer says how many sessions.
      { id: 'pollIn', z: 'tab', type: 'http in', url: '/poll', method: 'post', wires: [['pollArgs']] },
      {
        id: 'pollArgs',
        z: 'tab',
        type: 'function',
        func: 'msg.vin = msg.payload.vin; msg.from = msg.payload.from; msg.to = msg.payload.to; return msg;',
        outputs: 1,
        wires: [['history']],
      },
      { id: 'history', z: 'tab', type: 'bmw-cardata-charging-history', account: 'acc', vin: '', output: 'array', wires: [['pollDone']] },
      { id: 'pollDone', z: 'tab', type: 'function', func: 'msg.payload = { sessions: msg.payload.length }; return msg;', outputs: 1, wires: [['pollOut']] },
      { id: 'pollCatch', z: 'tab', type: 'catch', scope: ['history'], uncaught: false, wires: [['pollFailed']] },
      {
        id: 'pollFailed',
        z: 'tab',
        type: 'function',
        func: 'msg.statusCode = 502; msg.payload = { error: msg.error && msg.error.message }; return msg;',
        outputs: 1,
        wires: [['pollOut']],
      },
      { id: 'pollOut', z: 'tab', type: 'http response', statusCode: '', headers: {}, wires: [] },
    ],
    credentials: {
      acc: {
        clientId: 'soak-client',
        accessToken: t.access_token,
        refreshToken: t.refresh_token,
        idToken: t.id_token,
        gcid: t.gcid,
        expiresAt: String(Date.now() + t.expires_in * 1000),
      },
    },
  });

  diagnose = () => `Node-RED:\n${red.log().slice(-4000)}\nbridge:\n${bridge.stderr.slice(-3000)}`;
  const account = writeAccount(simBR, work);
  const bridgeArgs = [...account.args, '--broker', relay.url];
  let brokerUp = true;
  let bridge = spawnBridge(bridgeArgs);
  const bridgeLogs = [];
  const startBridge = async () => {
    bridge = spawnBridge(bridgeArgs);
    await bridge.waitFor(brokerUp ? CONNECTED : /BMW stream: connected/, 60_000);
  };
  await bridge.waitFor(CONNECTED, 30_000);
  await waitSubscribed(simNR, 'Node-RED');
  await waitSubscribed(simBR, 'the bridge');

  const faults = { drops: 0, loginFaults: {}, brokerDowns: 0, bridgeKills: 0, redRestarts: 0, resent: 0 };
  const polls = { asked: 0, answered: 0, failed: [], floor: 0, ms: 0 };
  const samples = [];
  const sample = (label) =>
    samples.push({ label, at: (Date.now() - started) / 1000, bench: benchFigures(), red: procFigures(red.pid), bridge: procFigures(bridge.proc.pid) });
  sample('start');

  const poll = async (vin, from, to) => {
    polls.asked++;
    const t0 = Date.now();
    const res = await fetch(`${red.url}/poll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vin, from: new Date(from).toISOString(), to: new Date(to).toISOString() }),
    });
    const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    polls.ms += Date.now() - t0;
    if (res.ok) {
      polls.answered++;
      polls.floor += Math.max(1, Math.ceil(body.sessions / PAGE_SIZE));
    } else
      polls.failed.push(
        String(body.error)
          .replace(/^Error: /, '')
          .replace(/ \(This is .*$/, ''),
      );
  };

  const brokerDown = async () => {
    faults.brokerDowns++;
    brokerUp = false;
    relay.cut();
    await watcher.endAsync();
    await userBroker.close();
  };
  const brokerBack = async () => {
    userBroker = await startPlainBroker({ port: brokerPort });
    watcher = await watchEvents(userBroker.url, bridgeEvents);
    relay.restore();
    brokerUp = true;
  };
  const killBridge = async (today) => {
    faults.bridgeKills++;
    await sleep(100);
    bridgeLogs.push(bridge.stderr);
    bridge.proc.kill('SIGKILL');
    await bridge.exited;
    await startBridge();
    // The car sends its state again: the messages of the day so far, to the bridge only.
    for (const m of today) {
      await waitSubscribed(simBR, 'the bridge');
      await simBR.stream.publishRaw(m.vin, JSON.stringify(m));
      faults.resent++;
    }
  };

  const all = [];
  const cars = { bev: { odometer: 20_000, range: 380 }, phev: { odometer: 41_000, range: 60 } };
  const firstDay = Math.floor(Date.now() / DAY) * DAY - (DAYS + 1) * DAY;
  const sessions = [];
  for (let day = 0; day < DAYS; day++) {
    const dayStart = firstDay + day * DAY;
    const { messages, sessions: names } = dayMessages(day, dayStart, cars);
    sessions.push(...names);
    const at = (share) => Math.floor(share * messages.length);
    // The day's faults, at random places in its messages.
    const plan = new Map();
    const add = (index, what) => plan.set(index, [...(plan.get(index) ?? []), what]);
    add(at(0.05 + random() * 0.9), 'drop');
    add(at(0.05 + random() * 0.4), 'login');
    if (day % 2 === 1 && day < DAYS - 1) {
      add(at(0.3), 'broker-down');
      if (day === 3) add(at(0.45), 'kill-bridge');
      add(at(0.6), 'broker-up');
    }
    if (day % 2 === 0 && day > 0 && day < DAYS - 2) add(at(0.1 + random() * 0.8), 'kill-bridge');
    if ((day === 1 || day === 4) && day < DAYS - 2) add(at(0.2 + random() * 0.6), 'restart-red');
    let nextPoll = dayStart + 6 * HOUR;
    const today = [];
    const dayT0 = Date.now();
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      while (Date.parse(m.timestamp) >= nextPoll) {
        for (const vin of [SIM_VINS.bev, SIM_VINS.phev]) await poll(vin, nextPoll - 6 * HOUR, nextPoll);
        nextPoll += 6 * HOUR;
      }
      for (const what of plan.get(i) ?? []) {
        if (what === 'drop') {
          faults.drops++;
          await sleep(50);
          simNR.stream.kick();
          simBR.stream.kick();
        } else if (what === 'login') {
          const f = LOGIN_FAULTS[day % LOGIN_FAULTS.length];
          faults.loginFaults[f.label] = (faults.loginFaults[f.label] ?? 0) + 3;
          for (const sim of [simNR, simBR]) sim.faults.answerNext(3, f.answer, { path: /^\/gcdm\/oauth\/token$/ });
        } else if (what === 'broker-down') await brokerDown();
        else if (what === 'broker-up') await brokerBack();
        else if (what === 'kill-bridge') await killBridge(today);
        else if (what === 'restart-red') {
          faults.redRestarts++;
          await sleep(100);
          await red.restart();
        }
      }
      await waitSubscribed(simNR, 'Node-RED');
      await waitSubscribed(simBR, 'the bridge');
      await Promise.all([simNR.stream.publishRaw(m.vin, JSON.stringify(m)), simBR.stream.publishRaw(m.vin, JSON.stringify(m))]);
      all.push(m);
      today.push(m);
      if (INTERVAL_MS > 0) await sleep(INTERVAL_MS);
    }
    while (nextPoll <= dayStart + DAY) {
      for (const vin of [SIM_VINS.bev, SIM_VINS.phev]) await poll(vin, nextPoll - 6 * HOUR, nextPoll);
      nextPoll += 6 * HOUR;
    }
    sample(`day ${day + 1}`);
    const s = samples[samples.length - 1];
    console.log(
      `day ${day + 1}: ${messages.length} messages, ${[...plan.values()].flat().join(' ') || 'no faults'}; ${((Date.now() - dayT0) / 1000).toFixed(0)} s; ` +
        `Node-RED ${fmt(s.red.rss)} MB ${s.red.fds} fds, bridge ${fmt(s.bridge.rss)} MB ${s.bridge.fds} fds, bench heap ${fmt(s.bench.heap)} MB ${s.bench.handles} handles`,
    );
  }

  // What core derives from the same messages: the charging events (with the bridge's ids) and the state changes.
  const live = new LiveData();
  const want = [];
  let stateChanges = 0;
  for (const m of all) {
    const u = live.ingest(m);
    if (u?.changed) stateChanges++;
    for (const e of u?.events ?? []) want.push(withId(e));
  }
  const idsOf = (list) => new Set(list.map((e) => e.id));
  const redEvents = () => readLines(files.charging).map(withId);
  await until(() => {
    const r = idsOf(redEvents());
    const b = idsOf(bridgeEvents);
    return want.every((e) => r.has(e.id) && b.has(e.id));
  }, 30_000).catch(() => undefined);
  await sleep(500);
  sample('end');

  const redAlive = (() => {
    try {
      process.kill(red.pid, 0);
      return true;
    } catch {
      return false;
    }
  })();
  const bridgeAlive = bridge.proc.exitCode === null && bridge.proc.signalCode === null;
  const nr = compare(want, redEvents());
  const br = compare(want, bridgeEvents);
  const stateDelivered = readLines(files.state).length;
  const quotaNR = simNR.quota().used;
  const quotaBR = simBR.quota().used;
  let localCount = '?';
  try {
    localCount = JSON.stringify(JSON.parse(fs.readFileSync(path.join(red.userDir, 'bmw-cardata-quota.json'), 'utf8'))).match(/"used":(\d+)/)?.[1] ?? '?';
  } catch {
    // no ledger
  }
  const tokenRequests = (sim) => sim.requests.filter((r) => r.path === '/gcdm/oauth/token');
  const refused = (sim) => tokenRequests(sim).filter((r) => r.status >= 400).length;
  const warnings = (text) => [
    ...new Set(
      text
        .split('\n')
        .filter((l) => /\[warn\]|\[error\]|warning|Error/i.test(l))
        .map((l) =>
          l
            .replace(/^.*?\] /, '')
            .replace(/\d+/g, '#')
            .slice(0, 160),
        ),
    ),
  ];

  const line = (who, r) =>
    `  ${who}: delivered ${r.delivered} (${r.distinct} distinct, ${r.duplicates} duplicates under the same id), missing ${r.missing.length}` +
    `${
      r.missing.length
        ? ` (${r.missing
            .map((e) => `${e.vin.slice(-4)} ${e.kind} ${e.at}`)
            .slice(0, 6)
            .join('; ')})`
        : ''
    }, unexpected ${r.unexpected.length}, not as core derives ${r.wrong}`;
  const seconds = (Date.now() - started) / 1000;
  console.log('');
  console.log(
    `soak: ${DAYS} simulated days, 2 accounts × 2 cars, ${sessions.length} charging sessions, ${all.length} stream messages to each (+${faults.resent} sent again to the bridge after its kills); ${seconds.toFixed(0)} s`,
  );
  console.log(
    `faults: ${faults.drops} stream drops, login service ${Object.entries(faults.loginFaults)
      .map(([k, v]) => `${k} ×${v}`)
      .join(', ')} (per account), ` +
      `user's broker down ${faults.brokerDowns}×, bridge SIGKILL ${faults.bridgeKills}×, Node-RED restarted ${faults.redRestarts}×`,
  );
  console.log(
    `token requests: Node-RED account ${tokenRequests(simNR).length} (${refused(simNR)} failed), bridge account ${tokenRequests(simBR).length} (${refused(simBR)} failed)`,
  );
  console.log(`charging events expected ${want.length} (core's LiveData on the same messages)`);
  console.log(line('Node-RED flow       ', nr));
  console.log(line('bridge → user broker', br));
  console.log(`state messages (Node-RED): expected ${stateChanges}, delivered ${stateDelivered}`);
  console.log(
    `polls (Node-RED, every 6 simulated h, 2 cars): asked ${polls.asked}, answered ${polls.answered}, failed ${polls.failed.length}${polls.failed.length ? ` (${[...new Set(polls.failed)].join('; ')})` : ''}; ${fmt(polls.ms / Math.max(1, polls.asked), 0)} ms each on average`,
  );
  console.log(
    `REST quota: Node-RED account spent ${quotaNR} (BMW's count; the local count says ${localCount}), floor ${polls.floor}; bridge account spent ${quotaBR}, floor 0`,
  );
  console.log('resources:            Node-RED RSS / fds   bridge RSS / fds   bench heap / handles');
  for (const s of samples) {
    console.log(
      `  ${s.label.padEnd(8)} ${fmt(s.at, 0).padStart(5)} s   ${fmt(s.red.rss).padStart(6)} MB / ${String(s.red.fds).padStart(3)}   ${fmt(s.bridge.rss).padStart(6)} MB / ${String(s.bridge.fds).padStart(3)}   ${fmt(s.bench.heap).padStart(6)} MB / ${String(s.bench.handles).padStart(3)}`,
    );
  }
  console.log(`processes at the end: Node-RED ${redAlive ? 'running' : 'GONE'}, bridge ${bridgeAlive ? 'running' : 'GONE'}`);
  const redWarnings = warnings(red.log());
  const bridgeWarnings = warnings([...bridgeLogs, bridge.stderr].join('\n'));
  if (redWarnings.length) console.log(`Node-RED warnings (distinct):\n    ${redWarnings.slice(0, 15).join('\n    ')}`);
  if (bridgeWarnings.length) console.log(`bridge warnings (distinct):\n    ${bridgeWarnings.slice(0, 15).join('\n    ')}`);

  await bridge.stop();
  await red.stop();
  await watcher.endAsync();
  await relay.close();
  await userBroker.close();
  await simNR.close();
  await simBR.close();
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(red.userDir, { recursive: true, force: true });
  const failed = !redAlive || !bridgeAlive || nr.missing.length || br.missing.length || nr.wrong || br.wrong || nr.unexpected.length || br.unexpected.length;
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
