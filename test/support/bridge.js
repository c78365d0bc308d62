'use strict';
// `bmw-cardata bridge` as a real child process, its MQTT broker (the simulator's embedded broker, or with
// BRIDGE_BROKER=mosquitto a real Mosquitto: Debian's `mosquitto`, started on free loopback ports with a temporary
// configuration), a relay in front of it that can be cut, and the kill -9 trials that the
// bridge tests and bench/bridge-kills.js run.
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const mqtt = require('mqtt');
const { code } = require('./code');
const { sleep, until } = require('./wait');
const { CHARGING_SCRIPTS, chargingScriptItems } = code('src/simulator/charging-scripts');
const { LiveData, tokenSetFromResponse } = code('src/node');
const { startPlainBroker } = code('src/simulator');
const { eventId } = code('src/cli/bridge-topics');
const { freePort } = require('./free-port');
const { seeded } = require('./random');

const CLI = path.join(__dirname, '../../dist/src/cli/main.js');
const CLIENT_ID = 'bridge-test-client';
const CONNECTED = /BMW stream: connected · broker \S+: connected/;

/** A Mosquitto of our own: a plain listener, one with a password, one with TLS and client certificates. */
class Mosquitto {
  static async start() {
    const m = new Mosquitto();
    m.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-mosquitto-'));
    m.ports = { plain: await freePort(), auth: await freePort(), tls: await freePort() };
    const file = (name) => path.join(m.dir, name);
    execFileSync('mosquitto_passwd', ['-c', '-b', file('passwd'), 'car', 'broker-secret-pw']);
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    const ssl = (...args) => execFileSync('openssl', args, { cwd: m.dir, stdio: 'pipe' });
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=bridge test CA');
    fs.writeFileSync(file('san'), 'subjectAltName=IP:127.0.0.1\n');
    for (const who of ['server', 'client']) {
      ssl('req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? '127.0.0.1' : 'bridge'}`);
      ssl(
        'x509',
        '-req',
        '-in',
        `${who}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${who}.pem`,
        '-days',
        '2',
        ...(who === 'server' ? ['-extfile', 'san'] : []),
      );
    }
    m.config = file('mosquitto.conf');
    fs.writeFileSync(
      m.config,
      [
        // As root Mosquitto would switch to its own user, which cannot read this directory.
        `user ${os.userInfo().username}`,
        'per_listener_settings true',
        'persistence false',
        'log_dest stderr',
        `listener ${m.ports.plain} 127.0.0.1`,
        'allow_anonymous true',
        `listener ${m.ports.auth} 127.0.0.1`,
        'allow_anonymous false',
        `password_file ${file('passwd')}`,
        `listener ${m.ports.tls} 127.0.0.1`,
        'allow_anonymous true',
        `cafile ${file('ca.pem')}`,
        `certfile ${file('server.pem')}`,
        `keyfile ${file('server.key')}`,
        'require_certificate true',
        '',
      ].join('\n'),
    );
    await m.run();
    return m;
  }

  file(name) {
    return path.join(this.dir, name);
  }

  url(kind = 'plain') {
    return `${kind === 'tls' ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.ports[kind]}`;
  }

  async run() {
    this.log = '';
    this.proc = spawn('mosquitto', ['-c', this.config], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr.on('data', (d) => (this.log += d));
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
    await until(
      () => /running/.test(this.log) || this.proc.exitCode !== null,
      5000,
      () => `mosquitto to start:\n${this.log}`,
    );
    assert.strictEqual(this.proc.exitCode, null, `mosquitto did not start:\n${this.log}`);
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    await this.exited;
  }

  async restart() {
    await this.stop();
    await this.run();
  }
}

/**
 * The simulator's embedded MQTT broker on a port of its own, in Mosquitto's place: the plain listener only (no
 * password, no TLS), stopped and started again on the same port, retained messages lost, as Mosquitto without
 * persistence.
 */
class EmbeddedBroker {
  static async start() {
    const b = new EmbeddedBroker();
    b.ports = { plain: await freePort() };
    await b.run();
    return b;
  }

  url(kind = 'plain') {
    assert.strictEqual(kind, 'plain', `the embedded broker has no ${kind} listener: BRIDGE_BROKER=mosquitto has`);
    return `mqtt://127.0.0.1:${this.ports.plain}`;
  }

  async run() {
    this.broker = await startPlainBroker({ host: '127.0.0.1', port: this.ports.plain });
  }

  async stop() {
    if (!this.broker) return;
    await this.broker.close();
    this.broker = undefined;
  }

  async restart() {
    await this.stop();
    await this.run();
  }
}

/**
 * The broker the bridge tests run against: the embedded one, which needs nothing but npm's packages, or a real
 * Mosquitto with BRIDGE_BROKER=mosquitto (which .ci/run sets for a second run of the bridge tests). `real` tells
 * which: the tests of passwords, TLS and Mosquitto's own log need the real one.
 */
async function startBroker() {
  if (process.env.BRIDGE_BROKER !== 'mosquitto') return EmbeddedBroker.start();
  try {
    execFileSync('mosquitto', ['-h'], { stdio: 'ignore' });
  } catch (e) {
    // mosquitto -h exits 3 after printing its help; only a missing program is a failure here.
    if (e.code === 'ENOENT') throw new Error('BRIDGE_BROKER=mosquitto needs Mosquitto: apt-get install -y mosquitto');
  }
  const m = await Mosquitto.start();
  m.real = true;
  return m;
}

/** A TCP relay to `port` that can be cut: the bridge loses the broker, a subscriber connected directly does not. */
class Relay {
  static async start(port) {
    const r = new Relay();
    r.open = true;
    r.sockets = new Set();
    r.server = net.createServer((client) => {
      if (!r.open) return client.destroy();
      const upstream = net.connect(port, '127.0.0.1');
      for (const s of [client, upstream]) {
        r.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          r.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.url = `mqtt://127.0.0.1:${r.server.address().port}`;
    return r;
  }

  cut() {
    this.open = false;
    for (const s of this.sockets) s.destroy();
  }

  restore() {
    this.open = true;
  }

  close() {
    this.cut();
    return new Promise((resolve) => this.server.close(resolve));
  }
}

/** Everything a client subscribed to `filter` receives; `retain` is true for what the broker held already. */
async function watch(url, filter = '#', options = {}) {
  const client = mqtt.connect(url, { reconnectPeriod: 0, ...options });
  const messages = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return { messages, close: () => client.endAsync() };
}

/** A logged-in account file in `dir`, as `bmw-cardata login` leaves it. */
function writeAccount(sim, dir) {
  const file = path.join(dir, 'account.json');
  const tokens = tokenSetFromResponse(sim.issueTokens({ clientId: CLIENT_ID }), Date.now());
  fs.writeFileSync(file, JSON.stringify({ clientId: CLIENT_ID, apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, tokens }), { mode: 0o600 });
  return { file, tokens, args: ['--config', file, '--stream-url', sim.streamUrl] };
}

/** The clone's `npx bmw-cardata` (builds when needed, then runs the compiled command). */
const NPX_BIN = path.join(__dirname, '../../scripts/bin/bmw-cardata.js');

/** Starts `bmw-cardata bridge ARGS` as a child process (`bin`: the compiled command, or NPX_BIN). */
function spawnBridge(args, env = {}, bin = CLI) {
  const proc = spawn(process.execPath, [bin, 'bridge', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const b = { proc, stdout: '', stderr: '' };
  proc.stdout.on('data', (d) => (b.stdout += d));
  proc.stderr.on('data', (d) => (b.stderr += d));
  b.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  /** Waits for `re` on standard error, in what came after `since` (a length of b.stderr). */
  b.waitFor = (re, timeoutMs = 10000, since = 0) =>
    until(
      () => re.test(b.stderr.slice(since)),
      timeoutMs,
      () => `${re} on the bridge's standard error:\n${b.stderr}`,
    );
  b.stop = async () => {
    proc.kill('SIGTERM');
    return b.exited;
  };
  return b;
}

/** An event as the bridge publishes it: with its id. */
const withId = (e) => ({ id: eventId(e), ...e });

/** The events a host gets from feeding the messages to LiveData itself, each with its id. */
function expectedEvents(messages) {
  const live = new LiveData();
  return messages.flatMap((m) => live.ingest(m).events.map(withId));
}

/** Charging scripts without stream drops or restarts of their own. */
const KILL_SCRIPTS = ['ac-session', 'dc-session', 'interrupted', 'phev-no-soc', 'duplicates-out-of-order'];

/**
 * One trial: a bridge relays a charging script (message after message, `intervalMs` apart) and is killed with
 * SIGKILL at a random moment (after a random message, 0 to `intervalMs` ms later), then started again on the same
 * files. The stream keeps no session for a killed client, so the messages up to the kill are sent again after
 * the restart (as the car re-sends its state; what the bridge already had is a duplicate to it); then the rest.
 * With `brokerUp` false the broker is unreachable for the bridge the whole time and reachable only at the end.
 * Returns what the subscriber received against what core derives from the same messages.
 */
async function killTrial({ sim, mosq, random, brokerUp, intervalMs = 20, spawn: start = spawnBridge }) {
  const name = KILL_SCRIPTS[Math.floor(random() * KILL_SCRIPTS.length)];
  const script = CHARGING_SCRIPTS[name];
  const messages = chargingScriptItems(script)
    .filter((i) => 'message' in i)
    .map((i) => i.message);
  const killAfter = Math.floor(random() * messages.length);
  const killDelay = random() * intervalMs;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-bridge-kill-'));
  const acc = writeAccount(sim, dir);
  const relay = await Relay.start(mosq.ports.plain);
  if (!brokerUp) relay.cut();
  const w = await watch(mosq.url(), `bmw-cardata/${script.vin}/event`);
  const args = [...acc.args, '--broker', relay.url];
  const ready = brokerUp ? CONNECTED : /BMW stream: connected/;
  const publish = (m) => sim.stream.publishRaw(script.vin, JSON.stringify(m));
  let b;
  try {
    b = start(args);
    await b.waitFor(ready);
    for (let i = 0; i < messages.length; i++) {
      await publish(messages[i]);
      if (i === killAfter) {
        await sleep(killDelay);
        b.proc.kill('SIGKILL');
        await b.exited;
        b = start(args);
        await b.waitFor(ready);
        for (let j = 0; j <= i; j++) await publish(messages[j]);
      }
      await sleep(intervalMs);
    }
    if (!brokerUp) relay.restore();
    const want = expectedEvents(messages);
    const ids = () => new Set(w.messages.map((m) => JSON.parse(m.payload).id));
    await until(
      () => want.every((e) => ids().has(e.id)),
      10000,
      () => `the events of ${name} (${want.length}, got ${w.messages.length}):\n${b.stderr}`,
    ).catch(() => undefined);
    await sleep(100);
    const got = w.messages.map((m) => JSON.parse(m.payload));
    const byId = new Map();
    for (const e of got) byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
    return {
      name,
      killAfter,
      killDelay,
      want,
      got,
      missing: want.filter((e) => !byId.has(e.id)),
      unexpected: got.filter((e) => !want.some((x) => x.id === e.id)),
      duplicates: got.length - byId.size,
      /** Copies under one id that are not the same event. */
      differing: [...byId.values()].filter((list) => list.some((e) => JSON.stringify(e) !== JSON.stringify(list[0]))).length,
      /** Copies whose payload is not the event core derives. */
      wrong: got.filter((e) => {
        const x = want.find((y) => y.id === e.id);
        return x && JSON.stringify(x) !== JSON.stringify(e);
      }).length,
    };
  } finally {
    if (b && b.proc.exitCode === null && b.proc.signalCode === null) await b.stop();
    await w.close();
    await relay.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = {
  CLI,
  NPX_BIN,
  CLIENT_ID,
  CONNECTED,
  Mosquitto,
  EmbeddedBroker,
  startBroker,
  Relay,
  sleep,
  until,
  watch,
  writeAccount,
  spawnBridge,
  withId,
  expectedEvents,
  seeded,
  killTrial,
  KILL_SCRIPTS,
};
