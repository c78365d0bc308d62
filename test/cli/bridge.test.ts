// `bmw-cardata bridge` as a real child process between the simulator's stream and an MQTT broker: the simulator's
// embedded broker, or with BRIDGE_BROKER=mosquitto a real Mosquitto (Debian's `mosquitto`, started here on free
// loopback ports with a temporary configuration and stopped afterwards), which the tests of passwords and TLS need.
import assert from 'assert';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { spawn, execFileSync } from 'child_process';
import * as mqtt from 'mqtt';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { CHARGING_SCRIPTS, chargingScriptItems, playChargingScript } from '../../src/simulator/charging-scripts';
import { TRIP_SCRIPTS, playTripScript } from '../../src/simulator/trip-scripts';
import { tripStart, directTrips } from '../support/trip-replay';
import { LiveData, FileOutbox, createAccount, isVin } from '../../src/node';
import {
  CLI,
  NPX_BIN,
  CLIENT_ID,
  CONNECTED,
  startBroker,
  Relay,
  sleep,
  until,
  watch,
  writeAccount,
  spawnBridge,
  withId,
  seeded,
  killTrial,
} from '../support/bridge';
import { helper, freshUserDir, accountNode, streamNode, authorizedCredentials, coreNode } from '../support/nodered';
import { SOC, PORT, LAT, LON } from '../../src/simulator/descriptor-names';

/** The retained messages under `filter`, topic -> payload. */
async function retained(url: string, filter = '#'): Promise<Map<string, string>> {
  const w = await watch(url, filter);
  await sleep(300);
  await w.close();
  return new Map(w.messages.filter((m) => m.retain).map((m): [string, string] => [m.topic, m.payload]));
}

/** The events and the state of the car a host gets from feeding the script to LiveData itself (restarts restored). */
function expected(name) {
  let live = new LiveData();
  let dropped = false;
  const events = [];
  for (const item of chargingScriptItems(CHARGING_SCRIPTS[name])) {
    if ('marker' in item) {
      if (item.marker === 'stream-drop') dropped = true;
      else if (item.marker === 'stream-back') dropped = false;
      else live = new LiveData({ state: JSON.parse(JSON.stringify(live.serialize())) });
    } else if (!dropped) events.push(...live.ingest(item.message).events.map(withId));
  }
  return { events, live };
}

/** The trip events a host gets from feeding the script to LiveData itself, each with its id. */
function expectedTrips(name, start) {
  return directTrips(name, start).map(withId);
}

const tripsOf = (w, vin) => w.messages.filter((m) => m.topic === `bmw-cardata/${vin}/trip`).map((m) => JSON.parse(m.payload));

const eventsOf = (w, vin) => w.messages.filter((m) => m.topic === `bmw-cardata/${vin}/event`).map((m) => JSON.parse(m.payload));

// Home Assistant's MQTT discovery: the configuration variables each component documents
// (home-assistant.io, integrations sensor.mqtt, binary_sensor.mqtt, device_tracker.mqtt), plus `origin`, which
// the MQTT discovery documentation allows in every discovery payload. `platform` belongs to device-based
// discovery only and is left out.
const AVAILABILITY = ['availability', 'availability_mode', 'availability_template', 'availability_topic', 'payload_available', 'payload_not_available'];
const ALLOWED = {
  sensor: [
    ...AVAILABILITY,
    ...['device', 'device_class', 'enabled_by_default', 'encoding', 'entity_category', 'entity_picture', 'expire_after', 'force_update', 'icon'],
    ...['json_attributes_template', 'json_attributes_topic', 'last_reset_value_template', 'name', 'object_id', 'options', 'suggested_display_precision'],
    ...['qos', 'state_class', 'state_topic', 'unique_id', 'unit_of_measurement', 'value_template', 'origin'],
  ],
  binary_sensor: [
    ...AVAILABILITY,
    ...['device', 'device_class', 'enabled_by_default', 'encoding', 'entity_category', 'entity_picture', 'expire_after', 'force_update', 'icon'],
    ...['json_attributes_template', 'json_attributes_topic', 'name', 'object_id', 'off_delay', 'payload_off', 'payload_on', 'qos', 'state_topic'],
    ...['unique_id', 'value_template', 'origin'],
  ],
  device_tracker: [
    ...AVAILABILITY,
    ...['device', 'icon', 'json_attributes_template', 'json_attributes_topic', 'name', 'object_id', 'payload_home', 'payload_not_home', 'payload_reset'],
    ...['qos', 'source_type', 'state_topic', 'unique_id', 'value_template', 'origin'],
  ],
};
const DEVICE_KEYS = {
  sensor: [
    'configuration_url',
    'connections',
    'hw_version',
    'identifiers',
    'manufacturer',
    'model',
    'model_id',
    'name',
    'serial_number',
    'suggested_area',
    'sw_version',
    'via_device',
  ],
  binary_sensor: [
    'configuration_url',
    'connections',
    'hw_version',
    'identifiers',
    'manufacturer',
    'model',
    'model_id',
    'name',
    'serial_number',
    'suggested_area',
    'sw_version',
    'via_device',
  ],
  device_tracker: [
    'configuration_url',
    'connections',
    'hw_version',
    'identifiers',
    'manufacturer',
    'model',
    'model_id',
    'name',
    'suggested_area',
    'sw_version',
    'via_device',
  ],
};
const ORIGIN_KEYS = ['name', 'sw_version', 'support_url'];
const BINARY_CLASSES = [
  'battery',
  'battery_charging',
  'carbon_monoxide',
  'cold',
  'connectivity',
  'door',
  'garage_door',
  'gas',
  'heat',
  'light',
  'lock',
  'moisture',
  'motion',
  'moving',
  'occupancy',
  'opening',
  'plug',
  'power',
  'presence',
  'problem',
  'running',
  'safety',
  'smoke',
  'sound',
  'tamper',
  'update',
  'vibration',
  'window',
];
/** The sensor device classes used here, with the units Home Assistant accepts for them. */
const SENSOR_UNITS = {
  battery: ['%'],
  distance: ['km', 'm', 'cm', 'mm', 'mi', 'yd', 'in', 'ft'],
  power: ['W', 'kW', 'MW', 'GW', 'TW'],
  energy: ['J', 'kJ', 'MJ', 'GJ', 'mWh', 'Wh', 'kWh', 'MWh', 'GWh', 'TWh', 'cal', 'kcal', 'Mcal', 'Gcal'],
};
/** Home Assistant's energy dashboard takes an energy sensor only with one of these state classes. */
const ENERGY_STATE_CLASSES = ['total', 'total_increasing'];

/** Checks one discovery config against the documented fields of its component; returns its problems. */
function discoveryProblems(topic, config) {
  const problems = [];
  const m = topic.match(/^homeassistant\/(sensor|binary_sensor|device_tracker)\/([a-zA-Z0-9_-]+)\/config$/);
  if (!m) return [`${topic}: not <discovery prefix>/<component>/<object_id>/config`];
  const [, component, objectId] = m;
  for (const key of Object.keys(config)) if (!ALLOWED[component].includes(key)) problems.push(`${topic}: ${key} is not a ${component} option`);
  if (component === 'device_tracker') {
    if (!config.state_topic && !config.json_attributes_topic) problems.push(`${topic}: needs state_topic or json_attributes_topic`);
    if (config.source_type && !['gps', 'router', 'bluetooth', 'bluetooth_le'].includes(config.source_type))
      problems.push(`${topic}: source_type ${config.source_type}`);
  } else if (typeof config.state_topic !== 'string') problems.push(`${topic}: state_topic is required`);
  if (config.unique_id !== objectId) problems.push(`${topic}: unique_id ${config.unique_id} is not the object id`);
  if (config.availability_topic && config.availability) problems.push(`${topic}: availability and availability_topic together`);
  const device = config.device ?? {};
  for (const key of Object.keys(device)) if (!DEVICE_KEYS[component].includes(key)) problems.push(`${topic}: device.${key}`);
  if (!device.identifiers?.length && !device.connections?.length) problems.push(`${topic}: device without identifiers`);
  for (const key of Object.keys(config.origin ?? {})) if (!ORIGIN_KEYS.includes(key)) problems.push(`${topic}: origin.${key}`);
  if (config.origin && !config.origin.name) problems.push(`${topic}: origin without name`);
  if (component === 'binary_sensor' && config.device_class && !BINARY_CLASSES.includes(config.device_class))
    problems.push(`${topic}: device_class ${config.device_class}`);
  if (component === 'sensor' && config.device_class) {
    const units = SENSOR_UNITS[config.device_class];
    // A monetary sensor's unit is an ISO 4217 currency code; it takes no state class of measurement.
    if (config.device_class === 'monetary') {
      if (!/^[A-Z]{3}$/.test(config.unit_of_measurement)) problems.push(`${topic}: unit ${config.unit_of_measurement} for monetary`);
      if (config.state_class === 'measurement') problems.push(`${topic}: state_class measurement for monetary`);
    } else if (!units) problems.push(`${topic}: device_class ${config.device_class} not checked here`);
    else if (!units.includes(config.unit_of_measurement)) problems.push(`${topic}: unit ${config.unit_of_measurement} for ${config.device_class}`);
  }
  if (config.state_class && !['measurement', 'total', 'total_increasing'].includes(config.state_class))
    problems.push(`${topic}: state_class ${config.state_class}`);
  if (config.device_class === 'energy' && !ENERGY_STATE_CLASSES.includes(config.state_class))
    problems.push(`${topic}: energy without total or total_increasing`);
  return problems;
}

describe('bmw-cardata bridge', function () {
  this.timeout(40000);
  let sim;
  let mosq;
  const running = new Set<ReturnType<typeof spawnBridge>>();

  before(async function () {
    this.timeout(30000);
    sim = await startSimulator({ stream: true, dailyQuota: 1000 });
    mosq = await startBroker();
  });
  after(async () => {
    if (mosq) await mosq.stop();
    if (sim) await sim.close();
  });
  afterEach(async () => {
    for (const b of running) {
      if (b.proc.exitCode === null && b.proc.signalCode === null) b.proc.kill('SIGKILL');
      await b.exited;
    }
    running.clear();
    if (sim.stream.paused) await sim.stream.resume();
    await until(() => sim.stream.connections() === 0, 5000, 'the stream connection of the last bridge to go');
  });

  function tmp() {
    return fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-bridge-'));
  }

  /** A logged-in account file, as `bmw-cardata login` leaves it. */
  const account = (dir) => writeAccount(sim, dir);

  /** Starts `bmw-cardata bridge ARGS` as a child process, killed after the test if still running. */
  function bridge(args, env = {}, bin = CLI) {
    const b = spawnBridge(args, env, bin);
    running.add(b);
    return b;
  }

  function assertNoSecrets(b, acc, extra = []) {
    for (const secret of [acc.tokens.refreshToken, acc.tokens.accessToken, acc.tokens.idToken, CLIENT_ID, ...extra]) {
      assert.ok(!b.stderr.includes(secret) && !b.stdout.includes(secret), 'no token, client ID or password in the output');
    }
  }

  it('with a tariff: the energy counter and this month retained, Home Assistant energy and cost sensors announced, the cost removed with the rest', async () => {
    const dir = tmp();
    const acc = account(dir);
    const vin = CHARGING_SCRIPTS['ac-session'].vin;
    const tariff = ['--tariff', '{"currency":"EUR","pricePerKwh":0.3,"perSession":1,"timeZone":"Europe/Berlin"}'];
    const b = bridge([...acc.args, '--broker', mosq.url(), '--ha-discovery', '--vin', vin, ...tariff]);
    await b.waitFor(CONNECTED);
    await playChargingScript(sim.stream, 'ac-session', { intervalMs: 30 });
    await until(async () => (await retained(mosq.url(), `bmw-cardata/${vin}/energy`)).size === 1, 5000, 'the energy counter');
    const r = await retained(mosq.url(), 'bmw-cardata/#');
    // 25.82 kWh estimated (test/core/live/charging-events.test.ts); the charge was in November, so this month (by this
    // machine's clock, in Berlin) may be a later one: its figures then start at 0.
    assert.strictEqual(r.get(`bmw-cardata/${vin}/energy`), '25.82');
    const month = JSON.parse(r.get(`bmw-cardata/${vin}/month`));
    assert.deepStrictEqual([month.vin, month.timeZone, month.currency, month.energyCounterKwh], [vin, 'Europe/Berlin', 'EUR', 25.82]);
    if (month.month === '2026-11') assert.deepStrictEqual([month.sessions, month.kwh, month.cost], [1, 25.82, 8.75]);
    else assert.deepStrictEqual([month.sessions, month.kwh, month.cost], [0, 0, 0]);

    const configs = await retained(mosq.url(), 'homeassistant/#');
    assert.deepStrictEqual(
      [...configs].flatMap(([topic, payload]) => discoveryProblems(topic, JSON.parse(payload))),
      [],
    );
    const energy = JSON.parse(configs.get(`homeassistant/sensor/bmw_cardata_${vin}_energy_charged/config`));
    assert.deepStrictEqual(
      [energy.device_class, energy.state_class, energy.unit_of_measurement, energy.state_topic],
      ['energy', 'total_increasing', 'kWh', `bmw-cardata/${vin}/energy`],
    );
    const cost = JSON.parse(configs.get(`homeassistant/sensor/bmw_cardata_${vin}_month_cost/config`));
    assert.deepStrictEqual(
      [cost.device_class, cost.unit_of_measurement, cost.state_topic, cost.state_class],
      ['monetary', 'EUR', `bmw-cardata/${vin}/month`, undefined],
    );
    // What Home Assistant reads through the value template is the month's cost.
    assert.strictEqual(cost.value_template, '{{ value_json.cost }}');
    assert.strictEqual(typeof month.cost, 'number');
    assert.strictEqual((await b.stop()).code, 0, b.stderr);

    const remove = bridge(['--config', acc.file, '--broker', mosq.url(), '--ha-discovery-remove', '--vin', vin, ...tariff]);
    assert.strictEqual((await remove.exited).code, 0, remove.stderr);
    assert.match(remove.stderr, new RegExp(`removed ${configs.size} Home Assistant discovery configs`));
    assert.strictEqual((await retained(mosq.url(), 'homeassistant/#')).size, 0);
    const refused = bridge([...acc.args, '--broker', mosq.url(), '--tariff', '{"currency":"EURO","pricePerKwh":0.3}']);
    const { code } = await refused.exited;
    assert.strictEqual(code, 2, refused.stderr);
    assert.match(refused.stderr, /--tariff: The currency must be a three-letter code/);
  });

  it('--import-history 12m: the charging history added to the energy counter once, without the sessions the stream counted, at one call a page said up front; a restart imports nothing again', async () => {
    const dir = tmp();
    const acc = account(dir);
    const vin = CHARGING_SCRIPTS['ac-session'].vin;
    const energyOf = async () => (await retained(mosq.url(), `bmw-cardata/${vin}/energy`)).get(`bmw-cardata/${vin}/energy`);
    const historyCalls = () => sim.restCalls().filter((r) => r.path === `/customers/vehicles/${vin}/chargingHistory`).length;

    // The stream's charge first, counted from the stream.
    const w = await watch(mosq.url(), `bmw-cardata/${vin}/event`);
    const first = bridge([...acc.args, '--broker', mosq.url(), '--vin', vin]);
    await first.waitFor(CONNECTED);
    await playChargingScript(sim.stream, 'ac-session', { intervalMs: 30 });
    await until(async () => (await energyOf()) === '25.82', 5000, 'the energy counter of the stream');
    const finished = eventsOf(w, vin).find((e) => e.kind === 'charging-finished');
    await w.close();
    assert.strictEqual((await first.stop()).code, 0, first.stderr);
    // BMW's history has the same charge too (a little shorter, as BMW's sessions are): it must not count twice.
    const charged = [Date.parse(finished.startedAt), Date.parse(finished.endedAt)];
    sim.addChargingSession(vin, { startTime: charged[0] / 1000 + 300, endTime: charged[1] / 1000 - 300, energyConsumedFromPowerGridKwh: 26.1 });

    // What the bridge will read: the history of the last 12 months, read here on an account of its own.
    const reader = createAccount({ clientId: CLIENT_ID, apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, tokens: acc.tokens });
    const to = new Date();
    const history = await reader.client.paginate('getChargingHistory', {
      vin,
      from: new Date(to.getTime() - 366 * 86_400_000).toISOString(),
      to: to.toISOString(),
    });
    const counted = [charged];
    let kwh = 25.82;
    for (const s of [...history].sort((a, b) => a.startTime - b.startTime)) {
      const [start, end] = [s.startTime * 1000, s.endTime * 1000];
      if (!(s.endTime > s.startTime) || typeof s.energyConsumedFromPowerGridKwh !== 'number' || counted.some(([a, b]) => start < b && a < end)) continue;
      counted.push([start, end]);
      kwh += s.energyConsumedFromPowerGridKwh;
    }
    assert.ok(counted.length > 30 && history.length > counted.length - 1, `${history.length} sessions read, ${counted.length - 1} to add`);

    sim.clearLog();
    const second = bridge([...acc.args, '--broker', mosq.url(), '--vin', vin, '--import-history', '12m']);
    await second.waitFor(/imported the charging history/, 20000);
    const spent = historyCalls();
    const pages = Math.ceil(history.length / 25);
    assert.strictEqual(spent, pages, 'one call per page');
    // Said before it started: the cost per page, the estimate, and the day's quota.
    assert.match(
      second.stderr,
      new RegExp(
        `${vin}: importing the charging history of \\d{4}-\\d\\d-\\d\\d to \\d{4}-\\d\\d-\\d\\d into the energy counter: 1 call per page of 25 sessions, about 15 if the car charged every day \\(50 of the day's 50 calls left, 10 kept in reserve\\)`,
      ),
    );
    assert.ok(second.stderr.indexOf('importing the charging history') < second.stderr.indexOf('imported the charging history'));
    assert.match(
      second.stderr,
      new RegExp(`\\(${pages} calls\\): ${counted.length - 1} sessions, [\\d.]+ kWh added, ${history.length - (counted.length - 1)} left out`),
    );
    await until(async () => Number(await energyOf()) > 25.82, 5000, 'the energy counter after the import');
    assert.ok(Math.abs(Number(await energyOf()) - kwh) < 0.001, `${await energyOf()} against ${kwh}`);
    assert.strictEqual((await second.stop()).code, 0, second.stderr);
    // The calls the account's quota counted are the pages.
    const quota = JSON.parse(execFileSync(process.execPath, [CLI, 'quota', '--config', acc.file], { encoding: 'utf8' }));
    assert.strictEqual(quota.used, pages);

    // Started again: nothing read, nothing added.
    sim.clearLog();
    const third = bridge([...acc.args, '--broker', mosq.url(), '--vin', vin, '--import-history', '12m']);
    await third.waitFor(CONNECTED);
    await sleep(1000);
    assert.strictEqual(historyCalls(), 0);
    assert.doesNotMatch(third.stderr, /charging history/);
    assert.ok(Math.abs(Number(await energyOf()) - kwh) < 0.001);
    assert.strictEqual((await third.stop()).code, 0, third.stderr);

    // Another state (the car not imported there yet), after other work spent calls today: when the calls left
    // before the reserve are fewer than the range may cost, refused up front with no call, and said why.
    const quotaFile = path.join(dir, 'quota.json');
    const ledger = JSON.parse(fs.readFileSync(quotaFile, 'utf8'));
    for (const record of Object.values<any>(ledger.accounts)) record.used = 30;
    fs.writeFileSync(quotaFile, JSON.stringify(ledger));
    const fourth = bridge([...acc.args, '--broker', mosq.url(), '--vin', vin, '--import-history', '12m', '--state', path.join(dir, 'other-state.json')]);
    await fourth.waitFor(/is not imported/, 10000);
    assert.match(
      fourth.stderr,
      /it may cost 15 calls \(1 per page of 25 sessions\), and only 10 are left today before the reserve \(20 of the day's 50 calls left, 10 kept in reserve\)/,
    );
    assert.strictEqual(historyCalls(), 0);
    assert.strictEqual((await fourth.stop()).code, 0, fourth.stderr);
    const wrong = bridge([...acc.args, '--broker', mosq.url(), '--import-history', 'a year']);
    assert.strictEqual((await wrong.exited).code, 2, wrong.stderr);
    assert.match(wrong.stderr, /--import-history "a year": give months \(1m to 24m\) or days \(1d to 730d\)/);
    assertNoSecrets(second, acc);
  });

  it('relays a charging session: retained values, state, charging and evcc topics, events not retained, online then offline', async () => {
    const dir = tmp();
    const acc = account(dir);
    const name = 'ac-session';
    const vin = CHARGING_SCRIPTS[name].vin;
    const w = await watch(mosq.url(), 'bmw-cardata/#');
    const b = bridge([...acc.args, '--broker', mosq.url()]);
    await b.waitFor(CONNECTED);
    await until(() => w.messages.some((m) => m.topic === 'bmw-cardata/status' && m.payload === 'online'), 5000, 'online');

    await playChargingScript(sim.stream, name, { intervalMs: 30 });
    const want = expected(name);
    await until(() => eventsOf(w, vin).length >= want.events.length, 5000, 'the charging events');
    await sleep(200);
    assert.deepStrictEqual(eventsOf(w, vin), want.events, 'the events core derives from the same messages, in order');
    assert.deepStrictEqual(
      want.events.map((e) => e.kind),
      ['plugged-in', 'charging-started', 'target-reached', 'charging-finished', 'unplugged'],
    );

    const r = await retained(mosq.url(), 'bmw-cardata/#');
    const car = want.live.vehicle(vin);
    assert.strictEqual(r.get('bmw-cardata/status'), 'online');
    assert.deepStrictEqual(JSON.parse(r.get(`bmw-cardata/${vin}/state`)), car);
    for (const [descriptor, e] of Object.entries(car.values)) assert.strictEqual(r.get(`bmw-cardata/${vin}/${descriptor}`), String(e.value), descriptor);
    const { plugged, status, phase, charging, powerKw } = car.charging;
    assert.deepStrictEqual(JSON.parse(r.get(`bmw-cardata/${vin}/charging`)), { plugged, status, phase, charging, powerKw, sessionId: null });
    assert.strictEqual(r.get(`bmw-cardata/${vin}/evcc/soc`), String(car.values[SOC].value));
    assert.strictEqual(r.get(`bmw-cardata/${vin}/evcc/plugged`), 'false');
    assert.strictEqual(r.get(`bmw-cardata/${vin}/evcc/charging`), 'false');
    assert.strictEqual(
      r.get(`bmw-cardata/${vin}/evcc/range`),
      String(Math.round(car.values['vehicle.drivetrain.electricEngine.remainingElectricRange'].value as number)),
    );
    assert.ok(!w.messages.some((m) => m.topic.endsWith('/evcc/odometer')), 'the script has no mileage: no odometer, not a 0');
    assert.ok(![...r.keys()].some((t) => t.endsWith('/event')), 'events are not retained');
    assert.ok(
      w.messages.some((m) => m.topic === `bmw-cardata/${vin}/evcc/charging` && m.payload === 'true'),
      'charging was true while it charged',
    );

    const { code } = await b.stop();
    assert.strictEqual(code, 0, b.stderr);
    const messages = chargingScriptItems(CHARGING_SCRIPTS[name]).filter((i) => 'message' in i).length;
    assert.match(b.stderr, new RegExp(`BMW stream: closed · broker mqtt://127\\.0\\.0\\.1:\\d+: closed · ${messages} messages relayed`));
    assert.strictEqual((await retained(mosq.url(), 'bmw-cardata/status')).get('bmw-cardata/status'), 'offline');
    const saved = path.join(dir, 'bridge-state.json');
    assert.strictEqual(fs.statSync(saved).mode & 0o777, 0o600);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(saved, 'utf8')).live, want.live.serialize(), 'the live data is saved beside the account file');
    assertNoSecrets(b, acc);
    await w.close();
  });

  it('relays trip events on <VIN>/trip, not retained, each with its id: the start at once, the finish on the timer once the pause and the wait are over', async () => {
    const acc = account(tmp());
    const vin = TRIP_SCRIPTS.commute.vin;
    const w = await watch(mosq.url(), 'bmw-cardata/#');
    const b = bridge([...acc.args, '--broker', mosq.url()]);
    await b.waitFor(CONNECTED);
    // The drive happened just now: its finish is due 3 s from here, after the script was played.
    const due = Date.now() + 3000;
    const start = tripStart('commute', 3000);
    await playTripScript(sim.stream, 'commute', { start, intervalMs: 20 });
    await until(() => tripsOf(w, vin).length >= 1, 5000, 'trip-started');
    if (Date.now() < due - 500)
      assert.deepStrictEqual(
        tripsOf(w, vin).map((e) => e.kind),
        ['trip-started'],
        'the finish waits',
      );
    await until(() => tripsOf(w, vin).length >= 2, 8000, 'trip-finished');
    assert.ok(Date.now() >= due, 'not before it is due');
    await sleep(200);
    const want = expectedTrips('commute', start);
    assert.deepStrictEqual(tripsOf(w, vin), want, 'the trips core derives from the same messages, each with its id first');
    assert.deepStrictEqual(
      want.map((e) => e.kind),
      ['trip-started', 'trip-finished'],
    );
    assert.ok(want[1].distanceKm > 0);
    for (const m of w.messages.filter((m) => m.topic.endsWith('/trip'))) assert.strictEqual(m.retain, false, 'events are not retained');
    assert.deepStrictEqual(eventsOf(w, vin), [], 'nothing on the charging events topic');
    const r = await retained(mosq.url(), 'bmw-cardata/#');
    assert.strictEqual(JSON.parse(r.get(`bmw-cardata/${vin}/state`)).trips.driving, false, 'the state says the trip is over');
    assert.deepStrictEqual(JSON.parse(r.get(`bmw-cardata/${vin}/trip/last`)), want[1], 'the last trip, retained');
    assert.strictEqual((await b.stop()).code, 0, b.stderr);
    await w.close();
  });

  it('logs each finished trip once beside its state (before it is announced), publishes the last one again after a restart, and bmw-cardata trips writes the log as CSV at no call', async () => {
    const dir = tmp();
    const acc = account(dir);
    const vin = TRIP_SCRIPTS.commute.vin;
    const log = path.join(dir, 'bridge-state.trips.jsonl');
    const lines = () =>
      fs.existsSync(log)
        ? fs
            .readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l))
        : [];
    const w = await watch(mosq.url(), `bmw-cardata/${vin}/#`);
    let b = bridge([...acc.args, '--broker', mosq.url(), '--ha-discovery']);
    await b.waitFor(CONNECTED);
    const start = tripStart('commute', 1000);
    await playTripScript(sim.stream, 'commute', { start, intervalMs: 20 });
    await until(() => tripsOf(w, vin).length >= 2, 8000, 'trip-finished');
    const want = expectedTrips('commute', start);
    assert.deepStrictEqual(lines(), [want[1]], 'the finished trip, as published, one line');
    // Home Assistant's last trip distance reads it from trip/last.
    const config = JSON.parse((await retained(mosq.url(), `homeassistant/sensor/bmw_cardata_${vin}_last_trip_distance/config`)).values().next().value);
    assert.deepStrictEqual(discoveryProblems(`homeassistant/sensor/bmw_cardata_${vin}_last_trip_distance/config`, config), []);
    assert.deepStrictEqual(
      [config.state_topic, config.json_attributes_topic, config.device_class, config.unit_of_measurement],
      [`bmw-cardata/${vin}/trip/last`, `bmw-cardata/${vin}/trip/last`, 'distance', 'km'],
    );
    const last = JSON.parse((await retained(mosq.url(), config.state_topic)).get(config.state_topic));
    assert.strictEqual(last[/value_json\.(\w+)/.exec(config.value_template)[1]], want[1].distanceKm);
    assert.strictEqual(fs.statSync(log).mode & 0o777, 0o600, 'only its owner reads where the car went');
    // The same messages again (the car re-sends its state after a reconnect): nothing new, logged once.
    await playTripScript(sim.stream, 'commute', { start, intervalMs: 5 });
    await sleep(500);
    assert.strictEqual((await b.stop()).code, 0, b.stderr);
    assert.deepStrictEqual(lines(), [want[1]], 'still one line');

    // A crash while a line was written leaves half of it: skipped with one warning, and the next start writes past it.
    fs.appendFileSync(log, JSON.stringify({ ...want[1], id: 'cut' }).slice(0, 80));
    await w.close();
    // The broker forgets the retained last trip: the bridge's next start brings it back from the log.
    const clear = mqtt.connect(mosq.url(), { reconnectPeriod: 0 });
    await clear.publishAsync(`bmw-cardata/${vin}/trip/last`, '', { retain: true, qos: 1 });
    await clear.endAsync();
    const again = await watch(mosq.url(), `bmw-cardata/${vin}/trip/last`);
    b = bridge([...acc.args, '--broker', mosq.url()]);
    await b.waitFor(CONNECTED);
    await until(() => again.messages.some((m) => m.payload !== ''), 5000, 'trip/last from the log');
    assert.deepStrictEqual(JSON.parse(again.messages.find((m) => m.payload !== '').payload), want[1], 'the last trip comes from the log after a restart');
    assert.strictEqual(b.stderr.match(/trip log .* holds 1 line that is not a trip \(the last one cut off/g)?.length, 1, b.stderr);
    assert.strictEqual((await b.stop()).code, 0, b.stderr);
    assert.ok(fs.readFileSync(log, 'utf8').endsWith('\n') && lines().length === 1, 'rewritten without the broken line');
    await again.close();

    sim.clearLog();
    const out = path.join(dir, 'logbook.csv');
    const day = (ms) => new Date(ms).toISOString().slice(0, 10);
    const cli = spawn(process.execPath, [
      CLI,
      'trips',
      '--config',
      acc.file,
      '--from',
      day(start),
      '--to',
      day(start + 2 * 86_400_000),
      '--vin',
      vin,
      '--time-zone',
      'Europe/Berlin',
      '--out',
      out,
    ]);
    let err = '';
    cli.stderr.on('data', (d) => (err += d));
    assert.strictEqual(await new Promise((resolve) => cli.on('exit', resolve)), 0, err);
    assert.match(err, /1 trip from .* times in Europe\/Berlin/);
    const [header, row] = fs.readFileSync(out, 'utf8').trim().split('\r\n');
    const cells = Object.fromEntries(header.split(',').map((h, i) => [h, row.split(',')[i]]));
    assert.strictEqual(cells.tripId, want[1].tripId);
    assert.strictEqual(cells.distanceKm, String(want[1].distanceKm));
    assert.strictEqual(cells.timeZone, 'Europe/Berlin');
    assert.strictEqual(cells.purpose, '');
    assert.strictEqual(new Date(cells.start).getTime(), Date.parse(want[1].startedAt));
    assert.strictEqual(sim.restCalls().length, 0, 'no call to BMW');
  });

  it('publishes nothing for evcc that the car did not send (a PHEV without state of charge)', async () => {
    const acc = account(tmp());
    const name = 'phev-no-soc';
    const vin = CHARGING_SCRIPTS[name].vin;
    const w = await watch(mosq.url(), 'bmw-cardata/#');
    const b = bridge([...acc.args, '--broker', mosq.url()]);
    await b.waitFor(CONNECTED);
    await sleep(200);
    assert.ok(!w.messages.some((m) => !m.retain && m.topic.includes('/evcc/')), 'nothing known yet: no evcc topic at all');
    await playChargingScript(sim.stream, name, { intervalMs: 30 });
    const want = expected(name);
    await until(() => eventsOf(w, vin).length >= want.events.length, 5000, 'the charging events');
    const evcc = (what) => w.messages.filter((m) => !m.retain && m.topic === `bmw-cardata/${vin}/evcc/${what}`).map((m) => m.payload);
    assert.deepStrictEqual(evcc('soc'), [], 'no state of charge, and no 0 instead');
    assert.deepStrictEqual(evcc('range'), []);
    assert.deepStrictEqual(evcc('odometer'), []);
    assert.deepStrictEqual(evcc('plugged'), ['true', 'false']);
    // Plugged in first, with no charging status yet: charging is unknown until the status comes.
    assert.deepStrictEqual(evcc('charging'), ['true', 'false']);
    await w.close();
  });

  it('announces one Home Assistant device per VIN with valid discovery configs, and removes them again', async () => {
    const dir = tmp();
    const acc = account(dir);
    const vins = [SIM_VINS.bev, SIM_VINS.phev];
    sim.clearLog();
    const b = bridge([...acc.args, '--broker', mosq.url(), '--ha-discovery', '--vin', vins.join(',')]);
    await b.waitFor(CONNECTED);
    await sim.stream.publish(SIM_VINS.bev, {
      [SOC]: 64,
      [PORT]: 'CONNECTED',
      'vehicle.drivetrain.electricEngine.charging.status': 'CHARGINGACTIVE',
      'vehicle.powertrain.electric.battery.charging.power': 7400,
      'vehicle.drivetrain.electricEngine.remainingElectricRange': 281,
      'vehicle.drivetrain.totalRemainingRange': 281,
      'vehicle.vehicle.travelledDistance': 23418,
      'vehicle.cabin.door.row1.driver.isOpen': false,
      'vehicle.body.trunk.isLocked': true,
      'vehicle.cabin.door.lock.status': 'SECURED',
    });
    await sim.stream.publish(SIM_VINS.bev, { [LAT]: 48.177, 'vehicle.cabin.infotainment.navigation.currentLocation.heading': 90 });
    await sim.stream.publish(SIM_VINS.bev, { [LON]: 11.556 });
    await until(async () => (await retained(mosq.url(), `bmw-cardata/${SIM_VINS.bev}/location`)).size === 1, 5000, 'the location');

    const configs = await retained(mosq.url(), 'homeassistant/#');
    const values = await retained(mosq.url(), 'bmw-cardata/#');
    const problems = [...configs].flatMap(([topic, payload]) => discoveryProblems(topic, JSON.parse(payload)));
    assert.deepStrictEqual(problems, []);
    const client = createAccount({ clientId: CLIENT_ID, apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, tokens: acc.tokens }).client;
    const devices = new Map();
    for (const [topic, payload] of configs) {
      const c = JSON.parse(payload);
      assert.strictEqual(c.availability_topic, 'bmw-cardata/status', topic);
      const vin = vins.find((v) => c.unique_id.includes(v));
      assert.ok(vin, topic);
      assert.ok((c.state_topic ?? c.json_attributes_topic).startsWith(`bmw-cardata/${vin}/`), topic);
      devices.set(JSON.stringify(c.device), vin);
      const state = values.get(c.state_topic ?? c.json_attributes_topic);
      if (state === undefined) continue;
      // What Home Assistant would read from the bridge's topics must fit the entity.
      if (topic.includes('/binary_sensor/')) assert.ok([c.payload_on, c.payload_off].includes(state), `${topic}: ${state}`);
      else if (c.value_template) assert.strictEqual(typeof JSON.parse(state)[/value_json\.(\w+)/.exec(c.value_template)[1]], 'number', `${topic}: ${state}`);
      else if (c.unit_of_measurement) assert.ok(Number.isFinite(Number(state)) && state !== '', `${topic}: ${state}`);
      if (topic.includes('/device_tracker/')) assert.deepStrictEqual([JSON.parse(state).latitude, JSON.parse(state).longitude], [48.177, 11.556]);
    }
    assert.strictEqual(devices.size, 2, 'one device per VIN, the same in every config');
    for (const [device, vin] of devices) {
      const basic = await client.getBasicData(vin);
      assert.deepStrictEqual(JSON.parse(device), {
        identifiers: [`bmw_cardata_${vin}`],
        name: `BMW ${basic.modelName}`,
        manufacturer: 'BMW',
        model: basic.modelName,
      });
    }
    const ids = [...configs.values()].map((p) => JSON.parse(p).unique_id);
    assert.strictEqual(new Set(ids).size, ids.length, 'unique ids');
    for (const vin of vins) {
      const keys = ids.filter((id) => id.startsWith(`bmw_cardata_${vin}_`)).map((id) => id.slice(`bmw_cardata_${vin}_`.length));
      for (const k of [
        'soc',
        'electric_range',
        'total_range',
        'odometer',
        'charging_status',
        'charging_power',
        'plugged',
        'charging',
        'door_front_left',
        'door_lock',
        'trunk_lock',
        'last_trip_distance',
        'position',
      ]) {
        assert.ok(keys.includes(k), `${vin}: ${k}`);
      }
    }
    assert.ok([...configs.keys()].some((t) => t === `homeassistant/device_tracker/bmw_cardata_${SIM_VINS.bev}_position/config`));
    const basicDataCalls = () => sim.restCalls().filter((r) => r.path.endsWith('/basicData')).length;
    assert.strictEqual(basicDataCalls(), 2 + vins.length, "one call per car by the bridge (and the test's own)");

    assert.strictEqual((await b.stop()).code, 0);
    const again = bridge([...acc.args, '--broker', mosq.url(), '--ha-discovery', '--vin', vins.join(',')]);
    await again.waitFor(CONNECTED);
    assert.strictEqual((await again.stop()).code, 0);
    assert.strictEqual(basicDataCalls(), 2 + vins.length, 'the models are kept: no call after a restart');

    const remove = bridge(['--config', acc.file, '--broker', mosq.url(), '--ha-discovery-remove']);
    const { code } = await remove.exited;
    assert.strictEqual(code, 0, remove.stderr);
    assert.match(remove.stderr, new RegExp(`removed ${configs.size} Home Assistant discovery configs of ${vins.join(', ')}`));
    assert.strictEqual((await retained(mosq.url(), 'homeassistant/#')).size, 0, 'every config is gone');
  });

  for (const signal of ['SIGTERM', 'SIGINT']) {
    it(`started as npx bmw-cardata bridge (the clone's command), ${signal} to its process stops the bridge: no bridge left holding the stream`, async () => {
      const acc = account(tmp());
      const b = bridge([...acc.args, '--broker', mosq.url()], {}, NPX_BIN);
      await b.waitFor(CONNECTED);
      assert.strictEqual(sim.stream.connections(), 1);
      b.proc.kill(signal); // as a service manager stops it: the one process it started, not a process group
      const { code } = await b.exited;
      assert.strictEqual(code, 0, b.stderr);
      assert.match(b.stderr, /BMW stream: closed · broker \S+: closed/);
      await until(() => sim.stream.connections() === 0, 3000, 'the stream connection to close');
      assert.strictEqual((await retained(mosq.url(), 'bmw-cardata/status')).get('bmw-cardata/status'), 'offline');
    });
  }

  it('leaves "offline" behind through its last will when it is killed', async () => {
    const acc = account(tmp());
    const b = bridge([...acc.args, '--broker', mosq.url()]);
    await b.waitFor(CONNECTED);
    assert.strictEqual((await retained(mosq.url(), 'bmw-cardata/status')).get('bmw-cardata/status'), 'online');
    const w = await watch(mosq.url(), 'bmw-cardata/status');
    b.proc.kill('SIGKILL');
    await b.exited;
    await until(() => w.messages.some((m) => !m.retain && m.payload === 'offline'), 5000, 'the last will');
    assert.strictEqual((await retained(mosq.url(), 'bmw-cardata/status')).get('bmw-cardata/status'), 'offline', 'retained');
    await w.close();
  });

  it('reconnects to the broker after it restarts and publishes everything again, also what came meanwhile', async () => {
    const dir = tmp();
    const acc = account(dir);
    const vin = SIM_VINS.bev;
    const b = bridge([...acc.args, '--broker', mosq.url()]);
    await b.waitFor(CONNECTED);
    await sim.stream.publish(vin, { [SOC]: 55, [PORT]: 'DISCONNECTED' });
    await until(async () => (await retained(mosq.url(), `bmw-cardata/${vin}/evcc/soc`)).get(`bmw-cardata/${vin}/evcc/soc`) === '55', 5000, 'soc 55');

    const mark = b.stderr.length;
    await mosq.stop();
    await b.waitFor(/broker \S+: reconnecting/, 10000, mark);
    await sim.stream.publish(vin, { [PORT]: 'CONNECTED' }); // while the broker is down
    const saved = () => JSON.parse(fs.readFileSync(path.join(dir, 'bridge-state.json'), 'utf8')).live.vehicles[vin].values[PORT].value;
    await until(() => saved() === 'CONNECTED', 3000, 'the message handled and saved');
    await mosq.run(); // no persistence: the broker comes back empty
    await b.waitFor(CONNECTED, 15000, mark);
    await until(async () => (await retained(mosq.url(), 'bmw-cardata/#')).get(`bmw-cardata/${vin}/evcc/plugged`) === 'true', 5000, 'the republished state');
    const r = await retained(mosq.url(), 'bmw-cardata/#');
    assert.strictEqual(r.get('bmw-cardata/status'), 'online');
    assert.strictEqual(r.get(`bmw-cardata/${vin}/evcc/soc`), '55');
    assert.strictEqual(r.get(`bmw-cardata/${vin}/${PORT}`), 'CONNECTED');
    await sim.stream.publish(vin, { [SOC]: 56 });
    await until(
      async () => (await retained(mosq.url(), `bmw-cardata/${vin}/evcc/soc`)).get(`bmw-cardata/${vin}/evcc/soc`) === '56',
      5000,
      'soc 56 after the restart',
    );
  });

  it('keeps the events of a broker outage and delivers them when the broker is reachable again', async () => {
    // A relay in front of the broker that can be cut: the bridge loses the broker, the test's subscriber does not.
    const relay = await Relay.start(mosq.ports.plain);
    const dir = tmp();
    const acc = account(dir);
    const vin = SIM_VINS.phev;
    const w = await watch(mosq.url(), `bmw-cardata/${vin}/event`);
    const b = bridge([...acc.args, '--broker', relay.url]);
    await b.waitFor(CONNECTED);
    const mark = b.stderr.length;
    relay.cut();
    await b.waitFor(/broker \S+: reconnecting/, 10000, mark);
    await sim.stream.publish(vin, { [PORT]: 'CONNECTED' });
    const saved = () => JSON.parse(fs.readFileSync(path.join(dir, 'bridge-state.json'), 'utf8')).live.vehicles[vin]?.charging.plugged;
    await until(() => fs.existsSync(path.join(dir, 'bridge-state.json')) && saved() === true, 5000, 'the plug-in handled while the broker is away');
    assert.deepStrictEqual(w.messages, [], 'nothing reached the broker yet');
    relay.restore();
    await b.waitFor(CONNECTED, 15000, mark);
    await until(() => w.messages.length > 0, 5000, 'the event of the outage');
    await sleep(200);
    assert.deepStrictEqual(
      w.messages.map((m) => JSON.parse(m.payload).kind),
      ['plugged-in'],
    );
    await w.close();
    await b.stop();
    await relay.close();
  });

  it('keeps the events of an outage through restarts (stopped, then killed) and sends them first when the broker is back', async () => {
    const relay = await Relay.start(mosq.ports.plain);
    relay.cut();
    const dir = tmp();
    const acc = account(dir);
    const vin = SIM_VINS.bev;
    const w = await watch(mosq.url(), `bmw-cardata/${vin}/event`);
    const args = [...acc.args, '--broker', relay.url];
    const state = () => JSON.parse(fs.readFileSync(path.join(dir, 'bridge-state.json'), 'utf8')).live.vehicles[vin]?.charging;
    const outbox = path.join(dir, 'bridge-state.outbox.json');
    const waiting = () => (fs.existsSync(outbox) ? JSON.parse(fs.readFileSync(outbox, 'utf8')).entries.map((e) => JSON.parse(e.payload).kind) : []);

    let b = bridge(args);
    await b.waitFor(/BMW stream: connected/);
    await sim.stream.publish(vin, { [PORT]: 'CONNECTED', [SOC]: 41 });
    await until(() => fs.existsSync(path.join(dir, 'bridge-state.json')) && state()?.plugged === true, 5000, 'the plug-in saved');
    assert.deepStrictEqual(waiting(), ['plugged-in'], 'the event waits on disk');
    assert.strictEqual((await b.stop()).code, 0, b.stderr);

    b = bridge(args);
    await b.waitFor(/BMW stream: connected/);
    await sim.stream.publish(vin, {
      'vehicle.drivetrain.electricEngine.charging.status': 'CHARGINGACTIVE',
      'vehicle.powertrain.electric.battery.charging.power': 11000,
    });
    await until(() => state()?.phase === 'charging', 5000, 'the start of the charge saved');
    b.proc.kill('SIGKILL');
    await b.exited;
    assert.deepStrictEqual(waiting(), ['plugged-in', 'charging-started']);
    assert.deepStrictEqual(w.messages, [], 'nothing reached the broker yet');

    b = bridge(args);
    await b.waitFor(/BMW stream: connected/);
    relay.restore();
    await b.waitFor(CONNECTED, 15000);
    await until(() => w.messages.length >= 2, 5000, 'the two events');
    await sleep(200);
    const got = w.messages.map((m) => JSON.parse(m.payload));
    assert.deepStrictEqual(
      got.map((e) => e.kind),
      ['plugged-in', 'charging-started'],
      'both, in the order they happened',
    );
    for (const e of got) assert.match(e.id, /^[0-9a-f]{24}$/);
    await until(() => waiting().length === 0, 5000, 'the outbox emptied once the broker acknowledged them');
    assert.strictEqual(fs.statSync(outbox).mode & 0o777, 0o600);
    assert.strictEqual((await b.stop()).code, 0, b.stderr);
    await w.close();
    await relay.close();
  });

  it('keeps the trip events of a broker outage through a kill and sends them on <VIN>/trip first when the broker is back', async () => {
    const relay = await Relay.start(mosq.ports.plain);
    relay.cut();
    const dir = tmp();
    const acc = account(dir);
    const vin = TRIP_SCRIPTS.commute.vin;
    const w = await watch(mosq.url(), `bmw-cardata/${vin}/+`);
    const args = [...acc.args, '--broker', relay.url];
    const outbox = path.join(dir, 'bridge-state.outbox.json');
    const waiting = () => (fs.existsSync(outbox) ? JSON.parse(fs.readFileSync(outbox, 'utf8')).entries.map((e) => [e.topic, JSON.parse(e.payload).kind]) : []);

    let b = bridge(args);
    await b.waitFor(/BMW stream: connected/);
    // The drive happened just now: its finish is due 2 s from here, after the script was played.
    const start = tripStart('commute', 2000);
    await playTripScript(sim.stream, 'commute', { start, intervalMs: 20 });
    await until(() => waiting().length === 2, 8000, 'both trip events on disk');
    assert.deepStrictEqual(waiting(), [
      ['trip', 'trip-started'],
      ['trip', 'trip-finished'],
    ]);
    const logged = fs
      .readFileSync(path.join(dir, 'bridge-state.trips.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepStrictEqual(
      logged.map((t) => t.id),
      [JSON.parse(JSON.parse(fs.readFileSync(outbox, 'utf8')).entries[1].payload).id],
      'logged before it went to the outbox',
    );
    b.proc.kill('SIGKILL');
    await b.exited;
    assert.deepStrictEqual(
      w.messages.filter((m) => m.topic.endsWith('/trip')),
      [],
      'nothing reached the broker yet',
    );

    b = bridge(args);
    await b.waitFor(/BMW stream: connected/);
    relay.restore();
    await b.waitFor(CONNECTED, 15000);
    await until(() => tripsOf(w, vin).length >= 2, 5000, 'the two trip events');
    await sleep(200);
    assert.deepStrictEqual(tripsOf(w, vin), expectedTrips('commute', start), 'both, in order, with their ids');
    assert.deepStrictEqual(eventsOf(w, vin), [], 'none on the charging events topic');
    await until(() => waiting().length === 0, 5000, 'the outbox emptied once the broker acknowledged them');
    assert.strictEqual((await b.stop()).code, 0, b.stderr);
    await w.close();
    await relay.close();
  });

  for (const brokerUp of [true, false]) {
    it(`killed with SIGKILL at random moments of a charge, ${brokerUp ? 'with the broker up' : 'while the broker is away'}: every event arrives, a repeated one with the same id`, async function () {
      // The same trials as bench/bridge-kills.js (50 each), a few of them here.
      const trials = 3;
      this.timeout(trials * 15000);
      const seed = Number(process.env.BRIDGE_KILL_SEED || Date.now() % 100000);
      const random = seeded(seed + (brokerUp ? 0 : 1));
      for (let t = 0; t < trials; t++) {
        const r = await killTrial({ sim, mosq, random, brokerUp, spawn: bridge });
        const what = `seed ${seed}, trial ${t}: ${r.name}, killed ${r.killDelay.toFixed(1)} ms after message ${r.killAfter}`;
        assert.deepStrictEqual(
          r.missing.map((e) => e.kind),
          [],
          `${what}: events lost`,
        );
        assert.deepStrictEqual(
          r.unexpected.map((e) => e.kind),
          [],
          `${what}: events that did not happen`,
        );
        assert.strictEqual(r.differing, 0, `${what}: copies under one id differ`);
        assert.strictEqual(r.wrong, 0, `${what}: an event not as core derives it`);
        await until(() => sim.stream.connections() === 0, 5000, 'the trial bridge to go');
      }
    });
  }

  it("reconnects to BMW's stream after the simulator's broker restarts", async () => {
    const acc = account(tmp());
    const vin = SIM_VINS.bev;
    const b = bridge([...acc.args, '--broker', mosq.url()]);
    await b.waitFor(CONNECTED);
    const mark = b.stderr.length;
    await sim.stream.pause();
    await b.waitFor(/BMW stream: reconnecting/, 10000, mark);
    await sleep(500);
    await sim.stream.resume();
    await b.waitFor(CONNECTED, 20000, mark);
    await sim.stream.publish(vin, { [SOC]: 71 });
    await until(
      async () => (await retained(mosq.url(), `bmw-cardata/${vin}/evcc/soc`)).get(`bmw-cardata/${vin}/evcc/soc`) === '71',
      5000,
      'a value after the outage',
    );
  });

  it('killed in the middle of a charge and started again, it gives one charging-finished (the saved live data)', async () => {
    const acc = account(tmp());
    const name = 'restart';
    const vin = CHARGING_SCRIPTS[name].vin;
    const args = [...acc.args, '--broker', mosq.url()];
    const w = await watch(mosq.url(), 'bmw-cardata/#');
    let b = bridge(args);
    await b.waitFor(CONNECTED);
    await playChargingScript(sim.stream, name, {
      intervalMs: 40,
      onMarker: async (marker) => {
        if (marker !== 'host-restart') return;
        await sleep(100);
        b.proc.kill('SIGKILL');
        await b.exited;
        b = bridge(args);
        await b.waitFor(CONNECTED);
      },
    });
    const want = expected(name);
    await until(() => eventsOf(w, vin).length >= want.events.length, 5000, 'the charging events');
    await sleep(200);
    const got = eventsOf(w, vin);
    assert.deepStrictEqual(got, want.events);
    assert.strictEqual(got.filter((e) => e.kind === 'charging-finished').length, 1);
    assert.strictEqual(got.filter((e) => e.kind === 'charging-started').length, 1);
    const statuses = w.messages.filter((m) => m.topic === 'bmw-cardata/status').map((m) => m.payload);
    assert.deepStrictEqual(statuses.slice(-3), ['online', 'offline', 'online'], 'the last will between the two runs');
    await w.close();
  });

  it('--dry-run prints what it would publish and connects to no broker', async () => {
    const dir = tmp();
    const acc = account(dir);
    let connections = 0;
    const trap = net.createServer((s) => {
      connections += 1;
      s.destroy();
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    sim.clearLog();
    const b = bridge([...acc.args, '--dry-run', '--ha-discovery', '--broker', `mqtt://127.0.0.1:${(trap.address() as net.AddressInfo).port}`]);
    await b.waitFor(/BMW stream: connected · broker: dry run/);
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 42 });
    await until(() => b.stdout.includes('/evcc/soc'), 5000, 'the printed publications');
    assert.strictEqual((await b.stop()).code, 0, b.stderr);
    const lines = b.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const find = (topic) => lines.find((l) => l.topic === topic);
    assert.deepStrictEqual(lines[0], { topic: 'bmw-cardata/status', payload: 'online', retain: true });
    assert.deepStrictEqual(lines[lines.length - 1], { topic: 'bmw-cardata/status', payload: 'offline', retain: true });
    assert.deepStrictEqual(find(`bmw-cardata/${SIM_VINS.bev}/${SOC}`), { topic: `bmw-cardata/${SIM_VINS.bev}/${SOC}`, payload: '42', retain: true });
    assert.strictEqual(find(`bmw-cardata/${SIM_VINS.bev}/evcc/soc`).payload, '42');
    const discovery = lines.filter((l) => l.topic.startsWith('homeassistant/'));
    assert.ok(discovery.length > 0 && discovery.every((l) => l.retain && discoveryProblems(l.topic, JSON.parse(l.payload)).length === 0));
    assert.strictEqual(connections, 0, 'no connection to the broker');
    assert.strictEqual(sim.restCalls().length, 0, 'no API call either');
    assert.ok(!fs.existsSync(path.join(dir, 'bridge-state.json')), 'nothing saved');
    trap.close();
  });

  it('logs in to the broker with a user name and password, and speaks TLS with client certificates, checked unless --insecure', async function () {
    if (!mosq.real) this.skip(); // BRIDGE_BROKER=mosquitto
    const acc = account(tmp());
    const password = 'broker-secret-pw';
    const withPassword = bridge([...acc.args, '--broker', mosq.url('auth'), '--username', 'car'], { BMW_CARDATA_BROKER_PASSWORD: password });
    await withPassword.waitFor(CONNECTED);
    assert.strictEqual((await withPassword.stop()).code, 0);
    assertNoSecrets(withPassword, acc, [password]);

    const wrong = bridge([...acc.args, '--broker', mosq.url('auth'), '--username', 'car', '--password', 'not-the-password']);
    await wrong.waitFor(/broker \S+: refuses the user name and password \(.*[Nn]ot authorized\)/);
    assert.ok(!wrong.stderr.includes('not-the-password'));
    await wrong.stop();

    const tls = ['--broker', mosq.url('tls'), '--cert', mosq.file('client.pem'), '--key', mosq.file('client.key')];
    const checked = bridge([...acc.args, ...tls, '--ca', mosq.file('ca.pem')]);
    await checked.waitFor(CONNECTED);
    assert.strictEqual((await checked.stop()).code, 0);

    const unknownCa = bridge([...acc.args, ...tls]);
    await unknownCa.waitFor(/broker mqtts:\S+: reconnecting \(.*(certificate|CERT)/);
    await unknownCa.stop();

    const insecure = bridge([...acc.args, ...tls, '--insecure']);
    await insecure.waitFor(CONNECTED);
    assert.strictEqual((await insecure.stop()).code, 0);
  });

  it('asks a broker that refuses its user name and password again, less and less often, says so, and connects once the broker takes it', async function () {
    if (!mosq.real) this.skip(); // BRIDGE_BROKER=mosquitto
    this.timeout(30000);
    const acc = account(tmp());
    const password = 'late-user-pw';
    const b = bridge([...acc.args, '--broker', mosq.url('auth'), '--username', 'late', '--password', password]);
    // Mosquitto logs each refused try: when it came.
    const mark = mosq.log.length;
    const refusals = [];
    const poll = setInterval(() => {
      const n = (mosq.log.slice(mark).match(/not authorised/g) ?? []).length;
      while (refusals.length < n) refusals.push(Date.now());
    }, 20);
    try {
      await until(
        () => refusals.length >= 2,
        10000,
        () => `two refusals:\n${b.stderr}`,
      );
    } finally {
      clearInterval(poll);
    }
    assert.match(
      b.stderr,
      /bridge: the broker mqtt:\/\/127\.0\.0\.1:\d+ refuses the user name and password \(Connection refused: Not authorized\)\. Check --username and --password/,
    );
    assert.strictEqual(b.stderr.match(/^bridge: the broker .* refuses/gm).length, 1, 'said once in the log');
    assert.match(b.stderr, /broker \S+: refuses the user name and password \(Connection refused: Not authorized\); next try in 2 s/);
    await b.waitFor(/broker \S+: refuses the user name and password \(Connection refused: Not authorized\); next try in 4 s/, 1000);
    assert.ok(refusals[1] - refusals[0] >= 1500, `about 2 s between the first two tries, not ${refusals[1] - refusals[0]} ms`);
    // The broker learns the user: the next try (4 s later) gets in, and the wait starts from 2 s again.
    execFileSync('mosquitto_passwd', ['-b', mosq.file('passwd'), 'late', password]);
    mosq.proc.kill('SIGHUP');
    await b.waitFor(CONNECTED, 10000);
    assert.ok(Date.now() - refusals[1] >= 3000, `the second wait was about 4 s, not ${Date.now() - refusals[1]} ms`);
    assert.strictEqual((await b.stop()).code, 0, b.stderr);
    assert.ok(!b.stderr.includes(password));
  });

  it('skips a VIN from the stream that is not a VIN (wildcards, a slash), once said, and stays connected; drops one from the saved state', async () => {
    const dir = tmp();
    const acc = account(dir);
    const good = SIM_VINS.bev;
    // What a previous version saved: the names that became broken topics, and a car that is fine.
    const stateFile = path.join(dir, 'bridge-state.json');
    const charging = { plugged: null, status: null, phase: null, charging: false, powerKw: null, session: null };
    const record = (vin) => ({ vin, updatedAt: null, values: {}, charging });
    fs.writeFileSync(
      stateFile,
      JSON.stringify({
        version: 1,
        live: { version: 1, vehicles: { 'WBY31AW090FP1573#': record('WBY31AW090FP1573#'), [SIM_VINS.phev]: record(SIM_VINS.phev) } },
        vehicles: { 'A/B': {} },
      }),
    );
    const w = await watch(mosq.url(), '#');
    const b = bridge([...acc.args, '--broker', mosq.url(), '--ha-discovery']);
    await b.waitFor(CONNECTED);
    assert.match(b.stderr, /bridge: dropping "WBY31AW090FP1573#" from .*bridge-state\.json: not a VIN/);
    assert.match(b.stderr, /bridge: dropping "A\/B" from .*bridge-state\.json: not a VIN/);
    const raw = (vin, value) =>
      JSON.stringify({
        vin,
        entityId: null,
        topic: good,
        timestamp: new Date().toISOString(),
        data: { [SOC]: { value, unit: '%', timestamp: new Date().toISOString() } },
      });
    const bad = ['WBY31AW090FP1573#', 'WBY31AW090FP157+2', 'WBY31AW0/0FP15732', 'wby31aw090fp15732', 'WBY31AW090FP15732X', 'WBI31AW090FP15732'];
    for (const vin of [...bad, ...bad]) await sim.stream.publishRaw(good, raw(vin, 12));
    await sim.stream.publishRaw(good, raw(good, 63));
    await until(
      async () => (await retained(mosq.url(), `bmw-cardata/${good}/evcc/soc`)).get(`bmw-cardata/${good}/evcc/soc`) === '63',
      5000,
      () => `the good message relayed:\n${b.stderr}`,
    );
    await sleep(300);
    for (const vin of bad)
      assert.strictEqual(b.stderr.split(`skipping the messages of ${JSON.stringify(vin)}: not a VIN`).length - 1, 1, `one warning for ${vin}`);
    assert.doesNotMatch(b.stderr, /reconnecting/, 'the broker never dropped the bridge');
    const topics = [...new Set<string>(w.messages.map((m) => m.topic))];
    const cars = new Set(topics.filter((t) => t.startsWith('bmw-cardata/') && t !== 'bmw-cardata/status').map((t) => t.split('/')[1]));
    assert.deepStrictEqual([...cars].sort(), [good, SIM_VINS.phev].sort(), 'topics for the real cars only');
    assert.ok(
      topics.filter((t) => t.startsWith('homeassistant/')).every((t) => /^homeassistant\/\w+\/bmw_cardata_[A-Z0-9]{17}_\w+\/config$/.test(t)),
      'discovery topics for the real cars only',
    );
    assert.strictEqual((await b.stop()).code, 0, b.stderr);
    const saved = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    assert.deepStrictEqual(Object.keys(saved.live.vehicles).sort(), [good, SIM_VINS.phev].sort());
    assert.ok(
      Object.keys(saved.vehicles).every((vin) => isVin(vin)),
      Object.keys(saved.vehicles).join(),
    );
    await w.close();
  });

  it("the simulator's VINs are VINs", () => {
    for (const vin of Object.values(SIM_VINS)) assert.ok(isVin(vin), vin);
    for (const script of Object.values(CHARGING_SCRIPTS)) assert.ok(isVin(script.vin), script.vin);
    for (const notVin of ['WBY31AW090FP1573', 'WBY31AW090FP15732 ', 'WBO31AW090FP15732', 'WBQ31AW090FP15732', 'wby31aw090fp15732', 'WBY31AW090FP1573/', '', 17])
      assert.ok(!isVin(notVin), String(notVin));
  });

  describe('the outbox', () => {
    const entry = (n) => ({ id: `e${n}`, vin: SIM_VINS.bev, payload: `{"n":${n}}` });

    it('keeps at most its limit, drops the oldest and says so once; what it held is there after a restart', async () => {
      const file = path.join(tmp(), 'outbox.json');
      const said = [];
      const box = await FileOutbox.open({ file, limit: 3, warn: (m) => said.push(m) });
      await box.add([entry(1), entry(2)]);
      await box.add([entry(2), entry(3), entry(4)]);
      await box.add([entry(5)]);
      assert.deepStrictEqual(
        box.pending().map((e) => e.id),
        ['e3', 'e4', 'e5'],
      );
      assert.strictEqual(said.length, 1, said.join('\n'));
      assert.match(said[0], /more than 3 messages wait for delivery in .*outbox\.json; the oldest are dropped/);
      box.remove('e4');
      await box.settled();
      const again = await FileOutbox.open({ file, limit: 3, warn: (m) => said.push(m) });
      assert.deepStrictEqual(again.pending(), [entry(3), entry(5)]);
      assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
      assert.deepStrictEqual(fs.readdirSync(path.dirname(file)), ['outbox.json'], 'no temporary file left');
    });

    it('keeps a file it cannot read aside, says so, and starts empty; drops entries that are not its own', async () => {
      const dir = tmp();
      const file = path.join(dir, 'outbox.json');
      fs.writeFileSync(file, '{"version": 1, "entr');
      const said = [];
      const box = await FileOutbox.open({ file, warn: (m) => said.push(m) });
      assert.strictEqual(box.size, 0);
      assert.match(said[0], /the outbox .*outbox\.json could not be read .*; it was kept as .*outbox\.json\.broken-/);
      assert.strictEqual(fs.readdirSync(dir).filter((f) => f.includes('.broken-')).length, 1);
      fs.writeFileSync(file, JSON.stringify({ version: 1, entries: [entry(1), { id: 7 }, { id: 'x', vin: 'A/B', payload: '{}' }, 'text'] }));
      const kept = await FileOutbox.open({ file, warn: (m) => said.push(m), accept: (e) => isVin(e.vin) });
      assert.deepStrictEqual(kept.pending(), [entry(1)]);
      assert.match(said[1], /held 3 messages that could not be read; dropped/);
    });
  });

  const refusals: [string, string[], number, RegExp][] = [
    ['no broker', [], 2, /--broker URL is required/],
    ['a broker that is not a URL', ['--broker', 'localhost:1883'], 2, /--broker must be an mqtt:\/\//],
    ['a prefix with a wildcard', ['--broker', 'mqtt://127.0.0.1:1', '--prefix', 'cars/#'], 2, /--prefix must not contain \+, #/],
    ['a malformed VIN', ['--broker', 'mqtt://127.0.0.1:1', '--vin', 'WBY31AW090FP1573'], 2, /VIN must be 17 characters/],
    ['a certificate without its key', ['--broker', 'mqtts://127.0.0.1:1', '--cert', __filename], 2, /--cert and --key go together/],
    ['a CA file that is not there', ['--broker', 'mqtts://127.0.0.1:1', '--ca', '/nonexistent/ca.pem'], 2, /cannot read --ca/],
  ];
  for (const [what, args, code, message] of refusals) {
    it(`refuses ${what} before connecting anything (exit ${code})`, async () => {
      const acc = account(tmp());
      const b = bridge([...acc.args, ...args]);
      const exit = await b.exited;
      assert.strictEqual(exit.code, code, b.stderr);
      assert.match(b.stderr, message);
      assert.strictEqual(sim.stream.connections(), 0);
    });
  }

  it('exits 3 when not logged in', async () => {
    const b = bridge(['--config', path.join(tmp(), 'none.json'), '--broker', mosq.url()]);
    assert.strictEqual((await b.exited).code, 3);
    assert.match(b.stderr, /bmw-cardata login/);
  });

  it('has help', async () => {
    const b = spawn(process.execPath, [CLI, 'bridge', '--help']);
    let out = '';
    b.stdout.on('data', (d) => (out += d));
    const code = await new Promise((resolve) => b.on('exit', resolve));
    assert.strictEqual(code, 0);
    assert.match(out, /Usage: bmw-cardata bridge --broker URL/);
  });

  describe('Node-RED example "Bridge the stream to your MQTT broker"', function () {
    afterEach(async () => {
      await helper.unload();
      await helper.stopServer();
    });

    it('publishes every value retained as bmw-cardata/<VIN>/<data key> through mqtt out, with online/offline', async () => {
      freshUserDir();
      await helper.startServer();
      const example = JSON.parse(fs.readFileSync(path.join(__dirname, '../../examples/Bridge the stream to your MQTT broker.json'), 'utf8'));
      const flow = [{ id: 'tab', type: 'tab' }];
      for (const n of example) {
        const node = { ...n };
        if (node.type === 'bmw-cardata-account') Object.assign(node, { apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, streamUrl: sim.streamUrl });
        else if (node.type === 'mqtt-broker') Object.assign(node, { broker: '127.0.0.1', port: String(mosq.ports.plain) });
        else node.z = 'tab';
        flow.push(node);
      }
      const accId = example.find((n) => n.type === 'bmw-cardata-account').id;
      const modules = ['function/10-switch.js', 'function/15-change.js', 'common/90-comment.js', 'network/10-mqtt.js'].map(coreNode);
      await helper.load([accountNode, streamNode, ...modules], flow, { [accId]: authorizedCredentials(sim) });
      await until(() => sim.stream.connections() === 1, 5000, 'the stream node connected');
      await until(async () => (await retained(mosq.url(), 'bmw-cardata/status')).get('bmw-cardata/status') === 'online', 5000, 'online');
      await sim.stream.publish(SIM_VINS.bev, { [SOC]: 77, [PORT]: 'CONNECTED' });
      await sim.stream.publish(SIM_VINS.bev, { [SOC]: 'INVALID' });
      const vin = SIM_VINS.bev;
      await until(async () => (await retained(mosq.url(), `bmw-cardata/${vin}/#`)).get(`bmw-cardata/${vin}/${SOC}`) === 'INVALID', 5000, 'the values');
      const r = await retained(mosq.url(), `bmw-cardata/${vin}/#`);
      assert.strictEqual(r.get(`bmw-cardata/${vin}/${PORT}`), 'CONNECTED');
      assert.strictEqual(r.get(`bmw-cardata/${vin}/evcc/soc`), '77', 'evcc keeps the last number');
      await helper.unload();
      await until(async () => (await retained(mosq.url(), 'bmw-cardata/status')).get('bmw-cardata/status') === 'offline', 5000, 'offline on stop');
    });
  });
});
