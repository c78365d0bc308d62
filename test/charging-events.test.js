'use strict';
const assert = require('assert');
const core = require('../dist/src/node');
const scripts = require('../dist/src/simulator/charging-scripts');
const { SIM_VINS } = require('../dist/src/simulator');
const { scenarioSteps, initialCarState, PLUGGED_WAITING_INTERVALS } = require('../dist/src/simulator/broker-scenarios');

const { LiveData, CHARGING_DESCRIPTORS, findDescriptor, restoreLiveDataState } = core;
const { CHARGING_SCRIPTS, CHARGING_SCRIPT_START, chargingScriptItems, playChargingScript } = scripts;
const { replayScriptsOverMqtt } = require('./support/stream-replay');

const BEV = SIM_VINS.bev;
const PHEV = SIM_VINS.phev;
const SOC = 'vehicle.drivetrain.batteryManagement.header';
const STATUS = 'vehicle.drivetrain.electricEngine.charging.status';
const PORT = 'vehicle.body.chargingPort.status';
const POWER = 'vehicle.powertrain.electric.battery.charging.power';
const MIN = 60;
const { seeded } = require('./support/random');

/** ISO time `s` seconds after the scripts' start. */
const T = (s) => new Date(CHARGING_SCRIPT_START + s * 1000).toISOString();
const sid = (vin, s) => `${vin}/${T(s)}`;

/**
 * Feeds a script to LiveData as a host would: lost messages while the stream is down, a restart from saved JSON.
 * The host's clock follows the messages (each arrives when it was sent); at the end it runs on past the settle
 * window, as the host's timer would.
 */
function replay(name, { restart = 'restore' } = {}) {
  const script = CHARGING_SCRIPTS[name];
  let clock = CHARGING_SCRIPT_START;
  const now = () => clock;
  let live = new LiveData({ now });
  let dropped = false;
  const events = [];
  const updates = [];
  for (const item of chargingScriptItems(script)) {
    if ('marker' in item) {
      if (item.marker === 'stream-drop') dropped = true;
      else if (item.marker === 'stream-back') dropped = false;
      else live = new LiveData(restart === 'restore' ? { state: JSON.parse(JSON.stringify(live.serialize())), now } : { now });
      continue;
    }
    clock = Math.max(clock, Date.parse(item.at));
    if (dropped) continue;
    const u = live.ingest(item.message, `gcid/${script.vin}`);
    updates.push(u);
    events.push(...u.events);
  }
  clock += 24 * 3_600_000;
  for (const u of live.settle()) events.push(...u.events);
  return { events, updates, live };
}

function finished(vin, fields) {
  return {
    kind: 'charging-finished',
    vin,
    at: fields.endedAt,
    interruptions: 0,
    errors: 0,
    startObserved: true,
    missing: [],
    ...fields,
  };
}

describe('Live data: charging events from scripted streams', () => {
  it('the descriptors it reads exist in the catalogue (apart from the Neue Klasse state of charge)', () => {
    const ids = [
      CHARGING_DESCRIPTORS.status,
      CHARGING_DESCRIPTORS.hvStatus,
      CHARGING_DESCRIPTORS.soc[0],
      CHARGING_DESCRIPTORS.targetSoc,
      CHARGING_DESCRIPTORS.power,
      CHARGING_DESCRIPTORS.energyContent,
      CHARGING_DESCRIPTORS.gridEnergy,
      ...CHARGING_DESCRIPTORS.batterySize,
      ...CHARGING_DESCRIPTORS.plug,
    ];
    assert.deepStrictEqual(ids.filter((id) => !findDescriptor(id)), []);
    assert.strictEqual(findDescriptor(CHARGING_DESCRIPTORS.soc[1]), undefined);
  });

  it('AC session: plugged in, started, target reached, finished with an estimated energy, unplugged', () => {
    const { events, live } = replay('ac-session');
    assert.deepStrictEqual(events, [
      { kind: 'plugged-in', vin: BEV, at: T(0), soc: 48 },
      { kind: 'charging-started', vin: BEV, at: T(4), sessionId: sid(BEV, 4), startSoc: 48, targetSoc: 80, startObserved: true },
      { kind: 'target-reached', vin: BEV, at: T(146 * MIN), sessionId: sid(BEV, 4), soc: 80, targetSoc: 80 },
      finished(BEV, {
        sessionId: sid(BEV, 4),
        startedAt: T(4),
        endedAt: T(146 * MIN + 3),
        durationSeconds: 146 * MIN + 3 - 4,
        startSoc: 48,
        endSoc: 80,
        socAdded: 32,
        maxPowerKw: 11.04,
        // 32 % of the 80.7 kWh battery: no energy reading from the car, so an estimate, and labelled so.
        energyAdded: { kwh: 25.82, estimate: true, method: 'soc-x-battery-size' },
        targetSoc: 80,
        targetReached: true,
        endedBy: 'status',
        endStatus: 'CHARGINGENDED',
      }),
      { kind: 'unplugged', vin: BEV, at: T(206 * MIN), soc: 80 },
    ]);
    const car = live.vehicle(BEV);
    // BMW stopped sending power at the end: the last reading stays in the values, the charging state says 0.
    assert.strictEqual(car.values[POWER].value, 9870);
    assert.deepStrictEqual(
      { plugged: car.charging.plugged, phase: car.charging.phase, charging: car.charging.charging, powerKw: car.charging.powerKw, session: car.charging.session },
      { plugged: false, phase: 'idle', charging: false, powerKw: 0, session: null },
    );
  });

  it('DC session: the energy added is the change of the battery energy content the car reports', () => {
    const { events } = replay('dc-session');
    assert.deepStrictEqual(events, [
      { kind: 'plugged-in', vin: BEV, at: T(0), soc: 12 },
      { kind: 'charging-started', vin: BEV, at: T(20), sessionId: sid(BEV, 20), startSoc: 12, targetSoc: 80, startObserved: true },
      finished(BEV, {
        sessionId: sid(BEV, 20),
        startedAt: T(20),
        endedAt: T(29 * MIN),
        durationSeconds: 29 * MIN - 20,
        startSoc: 12,
        endSoc: 79,
        socAdded: 67,
        maxPowerKw: 205,
        energyAdded: { kwh: 54.6, estimate: false, method: 'battery-energy-content' },
        targetSoc: 80,
        targetReached: false,
        endedBy: 'status',
        endStatus: 'CHARGINGENDED',
      }),
      { kind: 'unplugged', vin: BEV, at: T(30 * MIN), soc: 79 },
    ]);
  });

  it('interrupted session: interrupted, resumed in the same session, error, finished once with both counted', () => {
    const { events } = replay('interrupted');
    const id = sid(BEV, 6);
    assert.deepStrictEqual(events, [
      { kind: 'plugged-in', vin: BEV, at: T(0), soc: 30 },
      { kind: 'charging-started', vin: BEV, at: T(6), sessionId: id, startSoc: 30, targetSoc: 90, startObserved: true },
      { kind: 'charging-interrupted', vin: BEV, at: T(31 * MIN), status: 'CHARGINGINTERRUPTED', sessionId: id, soc: 33 },
      { kind: 'charging-error', vin: BEV, at: T(70 * MIN), status: 'CHARGINGERROR', sessionId: id, soc: 38 },
      finished(BEV, {
        sessionId: id,
        startedAt: T(6),
        endedAt: T(72 * MIN),
        durationSeconds: 72 * MIN - 6,
        startSoc: 30,
        endSoc: 38,
        socAdded: 8,
        maxPowerKw: 7.23,
        energyAdded: { kwh: 6.46, estimate: true, method: 'soc-x-battery-size' },
        targetSoc: 90,
        targetReached: false,
        endedBy: 'status',
        endStatus: 'NOCHARGING',
        interruptions: 1,
        errors: 1,
      }),
      { kind: 'unplugged', vin: BEV, at: T(75 * MIN), soc: 38 },
    ]);
  });

  it('stream drop mid-session: one session across the gap; what was lost is not in the figures', () => {
    const { events, updates } = replay('stream-drop');
    assert.deepStrictEqual(events, [
      { kind: 'plugged-in', vin: BEV, at: T(0), soc: 52 },
      { kind: 'charging-started', vin: BEV, at: T(3), sessionId: sid(BEV, 3), startSoc: 52, targetSoc: 80, startObserved: true },
      finished(BEV, {
        sessionId: sid(BEV, 3),
        startedAt: T(3),
        endedAt: T(118 * MIN),
        durationSeconds: 118 * MIN - 3,
        startSoc: 52,
        endSoc: 75,
        socAdded: 23,
        // The 11.2 kW reading was sent while the stream was down.
        maxPowerKw: 11.05,
        energyAdded: { kwh: 18.56, estimate: true, method: 'soc-x-battery-size' },
        targetSoc: 80,
        targetReached: false,
        endedBy: 'status',
        endStatus: 'CHARGINGENDED',
      }),
      { kind: 'unplugged', vin: BEV, at: T(150 * MIN), soc: 75 },
    ]);
    // After the drop the car re-sent plug and status unchanged: a change of state of charge and power only.
    const back = updates[3];
    assert.deepStrictEqual(back.changes, [SOC, POWER]);
    assert.deepStrictEqual(back.events, []);
  });

  it('restart mid-session from the saved JSON: the redelivered message is a duplicate, exactly one finished event', () => {
    const restarted = replay('restart');
    const finishedEvents = restarted.events.filter((e) => e.kind === 'charging-finished');
    assert.strictEqual(finishedEvents.length, 1);
    assert.deepStrictEqual(restarted.events, [
      { kind: 'plugged-in', vin: BEV, at: T(0), soc: 40 },
      { kind: 'charging-started', vin: BEV, at: T(3), sessionId: sid(BEV, 3), startSoc: 40, targetSoc: 70, startObserved: true },
      { kind: 'target-reached', vin: BEV, at: T(128 * MIN), sessionId: sid(BEV, 3), soc: 70, targetSoc: 70 },
      finished(BEV, {
        sessionId: sid(BEV, 3),
        startedAt: T(3),
        endedAt: T(128 * MIN + 2),
        durationSeconds: 128 * MIN + 2 - 3,
        startSoc: 40,
        endSoc: 70,
        socAdded: 30,
        maxPowerKw: 11.03,
        energyAdded: { kwh: 24.21, estimate: true, method: 'soc-x-battery-size' },
        targetSoc: 70,
        targetReached: true,
        endedBy: 'status',
        endStatus: 'CHARGINGENDED',
      }),
      { kind: 'unplugged', vin: BEV, at: T(140 * MIN), soc: 70 },
    ]);
    const redelivered = restarted.updates[3];
    assert.deepStrictEqual({ changed: redelivered.changed, duplicates: redelivered.duplicates, events: redelivered.events }, { changed: false, duplicates: 2, events: [] });

    // A host that lost its state instead starts from nothing: no open session, so neither target reached nor
    // finished, and no unplugging from a plug state it never knew. Restoring the state is what keeps the session.
    const forgotten = replay('restart', { restart: 'forget' });
    assert.deepStrictEqual(forgotten.events.map((e) => e.kind), ['plugged-in', 'charging-started']);
  });

  it('duplicated and out-of-order readings: the events of the plain session, nothing more', () => {
    const { events, updates } = replay('duplicates-out-of-order');
    assert.deepStrictEqual(events, [
      { kind: 'plugged-in', vin: BEV, at: T(0), soc: null },
      // The state of charge and power came 3 s before the status: they count for the session.
      { kind: 'charging-started', vin: BEV, at: T(5), sessionId: sid(BEV, 5), startSoc: 20, targetSoc: 60, startObserved: true },
      { kind: 'target-reached', vin: BEV, at: T(180 * MIN), sessionId: sid(BEV, 5), soc: 60, targetSoc: 60 },
      finished(BEV, {
        sessionId: sid(BEV, 5),
        startedAt: T(5),
        endedAt: T(180 * MIN + 4),
        durationSeconds: 180 * MIN + 4 - 5,
        startSoc: 20,
        endSoc: 60,
        socAdded: 40,
        maxPowerKw: 11.1,
        energyAdded: { kwh: 32.28, estimate: true, method: 'soc-x-battery-size' },
        targetSoc: 60,
        targetReached: true,
        endedBy: 'status',
        endStatus: 'CHARGINGENDED',
      }),
      { kind: 'unplugged', vin: BEV, at: T(240 * MIN), soc: 60 },
    ]);
    assert.deepStrictEqual(
      updates.map((u) => [u.changed, u.duplicates, u.stale]),
      [
        [true, 0, 0],
        [false, 1, 0],
        [true, 0, 0],
        [true, 0, 0],
        [false, 1, 0],
        [true, 0, 0],
        [false, 0, 2],
        [true, 0, 0],
        [true, 0, 0],
        [false, 1, 0],
        [true, 0, 0],
        [false, 0, 2],
        [true, 0, 0],
        [false, 0, 1],
        [false, 2, 0],
      ],
    );
  });

  it('PHEV without state of charge: the finished event names what is missing; the grid energy counter gives the energy', () => {
    const { events } = replay('phev-no-soc');
    assert.deepStrictEqual(events, [
      { kind: 'plugged-in', vin: PHEV, at: T(0), soc: null },
      { kind: 'charging-started', vin: PHEV, at: T(10), sessionId: sid(PHEV, 10), startSoc: null, targetSoc: 100, startObserved: true },
      finished(PHEV, {
        sessionId: sid(PHEV, 10),
        startedAt: T(10),
        endedAt: T(171 * MIN),
        durationSeconds: 171 * MIN - 10,
        startSoc: null,
        endSoc: null,
        socAdded: null,
        maxPowerKw: 3.7,
        energyAdded: { kwh: 10.5, estimate: false, method: 'grid-energy-counter' },
        targetSoc: 100,
        targetReached: false,
        endedBy: 'status',
        endStatus: 'CHARGINGENDED',
        missing: ['startSoc', 'endSoc', 'socAdded'],
      }),
      { kind: 'unplugged', vin: PHEV, at: T(12 * 60 * MIN), soc: null },
    ]);
  });
});

/** A hand-written stream for one car; `at` in seconds from the scripts' start. */
function feed(live, vin, steps) {
  const events = [];
  for (const [at, data] of steps) {
    const message = { vin, timestamp: T(at), data: {} };
    for (const [k, v] of Object.entries(data)) message.data[k] = { value: v, unit: null, timestamp: T(at) };
    events.push(...live.ingest(message).events);
  }
  return events;
}

describe('Live data: charging edge cases', () => {
  it('a cable pulled without an end status finishes the session (ended by unplugging), and no energy without a battery size', () => {
    const events = feed(new LiveData(), BEV, [
      [0, { [PORT]: 'CONNECTED', [STATUS]: 'NOCHARGING', [SOC]: 50 }],
      [10, { [STATUS]: 'CHARGINGACTIVE', [POWER]: 7000 }],
      [1800, { [SOC]: 58 }],
      [1900, { [PORT]: 'DISCONNECTED' }],
    ]);
    assert.deepStrictEqual(
      events.map((e) => e.kind),
      ['plugged-in', 'charging-started', 'charging-finished', 'unplugged'],
    );
    const f = events[2];
    assert.deepStrictEqual(
      [f.endedBy, f.endStatus, f.endedAt, f.durationSeconds, f.socAdded, f.energyAdded, f.targetSoc, f.missing],
      ['unplugged', null, T(1900), 1890, 8, null, null, ['energyAdded', 'targetSoc']],
    );
  });

  it('the same status sent again after unplugging starts nothing; plugging in again and charging does', () => {
    const live = new LiveData();
    const first = feed(live, BEV, [
      [0, { [PORT]: 'CONNECTED', [STATUS]: 'CHARGINGACTIVE', [SOC]: 40 }],
      [600, { [PORT]: 'DISCONNECTED' }],
      [700, { [STATUS]: 'CHARGINGACTIVE' }],
    ]);
    // The first message of all already said "charging": the start was not observed, and the event says so.
    assert.deepStrictEqual(first.map((e) => [e.kind, e.startObserved]), [
      ['plugged-in', undefined],
      ['charging-started', false],
      ['charging-finished', false],
      ['unplugged', undefined],
    ]);
    const second = feed(live, BEV, [
      [900, { [PORT]: 'CONNECTED' }],
      [905, { [STATUS]: 'CHARGINGACTIVE' }],
    ]);
    assert.deepStrictEqual(second.map((e) => [e.kind, e.startObserved, e.at]), [
      ['plugged-in', undefined, T(900)],
      ['charging-started', true, T(905)],
    ]);
    assert.strictEqual(live.vehicle(BEV).charging.charging, true);
  });

  it('a state of charge that arrives only long after the start is no start value; a raised target is reached again', () => {
    const target = CHARGING_DESCRIPTORS.targetSoc;
    const events = feed(new LiveData(), BEV, [
      [0, { [PORT]: 'CONNECTED', [target]: 60 }],
      [5, { [STATUS]: 'CHARGINGACTIVE' }],
      [1200, { [SOC]: 61 }],
      [1300, { [target]: 70 }],
      [2400, { [SOC]: 70 }],
      [2500, { [STATUS]: 'CHARGINGENDED' }],
    ]);
    assert.deepStrictEqual(
      events.map((e) => [e.kind, e.soc ?? null, e.targetSoc ?? null]),
      [
        ['plugged-in', null, null],
        ['charging-started', null, 60],
        ['target-reached', 61, 60],
        ['target-reached', 70, 70],
        ['charging-finished', null, 70],
      ],
    );
    assert.deepStrictEqual(events[4].missing, ['startSoc', 'socAdded', 'maxPowerKw', 'energyAdded']);
    assert.strictEqual(events[4].endSoc, 70);
  });

  it('cars that stream only hvStatus (the simulator\'s charging scenario) get the same events, the power, the target and the energy', () => {
    let clock = CHARGING_SCRIPT_START;
    const live = new LiveData({ now: () => clock });
    const events = [];
    scenarioSteps('charging', initialCarState()).forEach((step, i) => {
      const data = {};
      clock = CHARGING_SCRIPT_START + i * 60_000;
      for (const [k, v] of Object.entries(step)) data[k] = { value: v, unit: null, timestamp: T(i * 60) };
      events.push(...live.ingest({ vin: BEV, data }).events);
    });
    clock += 3_600_000;
    for (const u of live.settle()) events.push(...u.events);
    assert.deepStrictEqual(events.map((e) => e.kind), ['plugged-in', 'charging-started', 'target-reached', 'charging-finished', 'unplugged']);
    const f = events[3];
    assert.deepStrictEqual([f.startSoc, f.endSoc, f.endStatus, f.startObserved], [48, 80, 'NOT_CHARGING', false]);
    // 32 % of the 80.7 kWh battery, at up to 11 kW: a dashboard has a session's energy and power.
    assert.deepStrictEqual([f.energyAdded.kwh, f.energyAdded.estimate, f.maxPowerKw, f.targetSoc, f.targetReached], [25.82, true, 11, 80, true]);
  });

  it("the simulator's plugged-waiting scenario: plugged in, nothing sent for a while, unplugged, no charge", () => {
    const live = new LiveData({ now: () => CHARGING_SCRIPT_START });
    const steps = scenarioSteps('plugged-waiting', initialCarState());
    assert.deepStrictEqual(steps.map((s) => Object.keys(s).length > 0), [true, ...Array(PLUGGED_WAITING_INTERVALS - 1).fill(false), true]);
    const events = [];
    steps.forEach((step, i) => {
      const data = {};
      for (const [k, v] of Object.entries(step)) data[k] = { value: v, unit: null, timestamp: T(i * 5) };
      if (Object.keys(data).length > 0) events.push(...live.ingest({ vin: BEV, data }).events);
    });
    assert.deepStrictEqual(events.map((e) => e.kind), ['plugged-in', 'unplugged']);
  });

  it('event times are ISO 8601 with milliseconds whatever BMW\'s spelling (no milliseconds, epoch seconds)', () => {
    const live = new LiveData();
    const a = live.ingest({ vin: BEV, data: { [PORT]: { value: 'CONNECTED', timestamp: '2026-11-26T17:00:00Z' } } });
    const b = live.ingest({ vin: BEV, data: { [STATUS]: { value: 'CHARGINGACTIVE', timestamp: 1795712405 } } });
    assert.deepStrictEqual([...a.events, ...b.events].map((e) => [e.kind, e.at]), [
      ['plugged-in', '2026-11-26T17:00:00.000Z'],
      ['charging-started', '2026-11-26T17:00:05.000Z'],
    ]);
    assert.strictEqual(b.events[0].sessionId, `${BEV}/2026-11-26T17:00:05.000Z`);
  });

  it('keeps the cars of an account apart', () => {
    const live = new LiveData();
    feed(live, BEV, [[0, { [PORT]: 'CONNECTED', [STATUS]: 'CHARGINGACTIVE' }]]);
    const phev = feed(live, PHEV, [[10, { [PORT]: 'DISCONNECTED', [STATUS]: 'NOCHARGING' }]]);
    assert.deepStrictEqual(phev, []);
    assert.deepStrictEqual(live.vins(), [BEV, PHEV]);
    assert.strictEqual(live.vehicle(BEV).charging.charging, true);
    assert.strictEqual(live.vehicle(PHEV).charging.plugged, false);
  });
});

describe('Live data: the car\'s state', () => {
  const LOCK = 'vehicle.cabin.door.lock.status';
  const TRUNK = 'vehicle.body.trunk.isLocked';
  const RANGE = 'vehicle.drivetrain.electricEngine.kombiRemainingElectricRange';

  it('types values with the catalogue and keeps the unit BMW sent, else the catalogue\'s', () => {
    const live = new LiveData();
    const u = live.ingest({
      vin: BEV,
      data: {
        [SOC]: { value: '62', unit: '', timestamp: T(0) },
        [TRUNK]: { value: 'true', timestamp: T(0) },
        [RANGE]: { value: 180, unit: 'mi', timestamp: T(0) },
        [POWER]: { value: 'INVALID', timestamp: T(0) },
        [LOCK]: { value: 'SECURED', timestamp: T(0) },
        'vehicle.future.descriptor': { value: '17', unit: 'x', timestamp: T(0) },
      },
    });
    assert.strictEqual(u.changed, true);
    assert.deepStrictEqual(live.vehicle(BEV).values, {
      [SOC]: { value: 62, unit: '%', timestamp: T(0) },
      [TRUNK]: { value: true, unit: null, timestamp: T(0) },
      [RANGE]: { value: 180, unit: 'mi', timestamp: T(0) },
      [POWER]: { value: 'INVALID', unit: 'W', timestamp: T(0) },
      [LOCK]: { value: 'SECURED', unit: null, timestamp: T(0) },
      'vehicle.future.descriptor': { value: '17', unit: 'x', timestamp: T(0) },
    });
    assert.deepStrictEqual(u.changes, [SOC, TRUNK, RANGE, POWER, LOCK, 'vehicle.future.descriptor']);
    assert.strictEqual(live.vehicle(BEV).updatedAt, T(0));
  });

  it('reports a change only when a value changes: re-sent, refreshed and older readings leave it alone', () => {
    const live = new LiveData();
    const at = (s, value) => ({ vin: BEV, data: { [SOC]: { value, timestamp: T(s) } } });
    const outcome = (u) => [u.changed, u.changes.length, u.duplicates, u.stale, live.vehicle(BEV).values[SOC].value];
    assert.deepStrictEqual(outcome(live.ingest(at(0, 50))), [true, 1, 0, 0, 50]);
    assert.deepStrictEqual(outcome(live.ingest(at(0, 50))), [false, 0, 1, 0, 50], 'the same message again');
    assert.deepStrictEqual(outcome(live.ingest(at(60, 50))), [false, 0, 0, 0, 50], 'the same value, later');
    assert.deepStrictEqual(outcome(live.ingest(at(30, 49))), [false, 0, 0, 1, 50], 'older than the value held');
    assert.deepStrictEqual(outcome(live.ingest(at(120, 51))), [true, 1, 0, 0, 51]);
    const car = live.vehicle(BEV);
    assert.deepStrictEqual(car.values[SOC], { value: 51, unit: '%', timestamp: T(120) });
    // The refreshed reading moved the timestamp on: the 49 at 0:30 stayed out although it was newer than 0:00.
    assert.strictEqual(car.updatedAt, T(120));
  });

  it('takes the injected clock for readings BMW sent without any timestamp', () => {
    const live = new LiveData({ now: () => Date.parse('2026-12-01T08:00:00.000Z') });
    live.ingest({ vin: BEV, data: { [LOCK]: { value: 'LOCKED' } } });
    assert.strictEqual(live.vehicle(BEV).values[LOCK].timestamp, '2026-12-01T08:00:00.000Z');
    assert.strictEqual(live.ingest({ vin: BEV }), undefined, 'a message without data');
  });

  it('snapshots do not move when the state goes on', () => {
    const live = new LiveData();
    live.ingest({ vin: BEV, data: { [SOC]: { value: 50, timestamp: T(0) } } });
    const first = live.vehicle(BEV);
    live.ingest({ vin: BEV, data: { [SOC]: { value: 51, timestamp: T(60) } } });
    assert.strictEqual(first.values[SOC].value, 50);
    first.values[SOC] = { value: 1, unit: null, timestamp: T(0) };
    assert.strictEqual(live.vehicle(BEV).values[SOC].value, 51);
  });

  it('serialises to plain JSON and refuses what is not a saved state', () => {
    const { live } = replay('ac-session');
    const saved = live.serialize();
    assert.deepStrictEqual(JSON.parse(JSON.stringify(saved)), saved);
    assert.deepStrictEqual(new LiveData({ state: saved }).serialize(), saved);
    for (const bad of [null, [], { version: 2, vehicles: {} }, { version: 1 }, { version: 1, vehicles: { [BEV]: { values: {} } } }, { version: 1, vehicles: { [BEV]: { values: { [SOC]: { value: {}, timestamp: T(0) } }, charging: {} } } }]) {
      assert.throws(() => restoreLiveDataState(bad), TypeError, JSON.stringify(bad));
    }
  });
});

describe('Live data: readings out of order and from the future', () => {
  /** A script's messages (markers left out), each arriving `delay()` ms after it was sent; the host's clock is the arrival. */
  function delayed(name, delay) {
    const items = chargingScriptItems(CHARGING_SCRIPTS[name]).filter((i) => !('marker' in i));
    const arrivals = items.map((i, n) => ({ at: Date.parse(i.at) + delay(), n, message: i.message })).sort((a, b) => a.at - b.at || a.n - b.n);
    let clock = CHARGING_SCRIPT_START;
    const live = new LiveData({ now: () => clock });
    const events = [];
    for (const a of arrivals) {
      clock = a.at;
      events.push(...live.ingest(a.message, `gcid/${a.message.vin}`).events);
    }
    clock += 3_600_000;
    for (const u of live.settle()) events.push(...u.events);
    return events;
  }

  const FIGURES = ['sessionId', 'startedAt', 'endedAt', 'durationSeconds', 'startSoc', 'endSoc', 'socAdded', 'maxPowerKw', 'energyAdded', 'targetSoc', 'targetReached', 'endedBy', 'endStatus', 'startObserved'];
  const figures = (e) => Object.fromEntries(FIGURES.map((k) => [k, e[k]]));

  for (const name of ['ac-session', 'dc-session', 'duplicates-out-of-order', 'phev-no-soc']) {
    it(`${name}: every message late by 0 to 5 minutes, 200 times: one finish each time, its figures exact`, () => {
      const [expected] = replay(name).events.filter((e) => e.kind === 'charging-finished');
      const next = seeded(20261206);
      let exact = 0;
      for (let run = 0; run < 200; run += 1) {
        const finishes = delayed(name, () => Math.floor(next() * 5 * 60_000)).filter((e) => e.kind === 'charging-finished');
        assert.strictEqual(finishes.length, 1, `run ${run}: one finish`);
        if (JSON.stringify(figures(finishes[0])) === JSON.stringify(figures(expected))) exact += 1;
      }
      assert.ok(exact >= 190, `${exact} of 200 exact`);
    });
  }

  it('without the settle window a late state of charge falsifies the finish (the window is what makes it exact)', () => {
    const live = new LiveData({ now: () => Date.parse(T(146 * MIN + 10)), settleMs: 0 });
    const items = chargingScriptItems(CHARGING_SCRIPTS['ac-session']).map((i) => i.message);
    const late = items[6]; // the 80 % at 146 min
    const events = [];
    for (const m of items.filter((m) => m !== late)) events.push(...live.ingest(m, '').events);
    live.ingest(late, '');
    const finish = events.find((e) => e.kind === 'charging-finished');
    assert.deepStrictEqual([finish.endSoc, finish.socAdded], [74, 26], 'decided before the 80 % came');
  });

  it('a reading stamped a day or a year ahead does not hold its value: later readings still count, and the charge gives its events', () => {
    let clock = CHARGING_SCRIPT_START;
    const live = new LiveData({ now: () => clock });
    const items = chargingScriptItems(CHARGING_SCRIPTS['ac-session']).filter((i) => !('marker' in i));
    const events = [];
    // Before the charge: a status and a state of charge stamped far ahead.
    const u = live.ingest({ vin: BEV, data: { [STATUS]: { value: 'NOCHARGING', timestamp: '2027-06-01T00:00:00Z' }, [SOC]: { value: 40, timestamp: T(86_400) } } }, '');
    assert.strictEqual(u.future, 2);
    for (const i of items) {
      clock = Date.parse(i.at);
      events.push(...live.ingest(i.message, '').events);
    }
    clock += 3_600_000;
    for (const s of live.settle()) events.push(...s.events);
    assert.deepStrictEqual(events.map((e) => e.kind), ['plugged-in', 'charging-started', 'target-reached', 'charging-finished', 'unplugged']);
    assert.strictEqual(live.vehicle(BEV).values[SOC].value, 80);
    // A state saved with a value from the future is restamped when it is restored.
    const saved = live.serialize();
    saved.vehicles[BEV].values[SOC].timestamp = '2030-01-01T00:00:00.000Z';
    const again = new LiveData({ state: saved, now: () => clock });
    assert.strictEqual(again.vehicle(BEV).values[SOC].timestamp, new Date(clock).toISOString());
  });

  it('a finish waits five minutes of the host clock after its end, and what the car did meanwhile waits behind it', () => {
    let clock = CHARGING_SCRIPT_START;
    const live = new LiveData({ now: () => clock });
    const items = chargingScriptItems(CHARGING_SCRIPTS['dc-session']).filter((i) => !('marker' in i));
    const kinds = [];
    for (const i of items) {
      clock = Date.parse(i.at);
      kinds.push(...live.ingest(i.message, '').events.map((e) => e.kind));
    }
    // Ended at 29 min, unplugged at 30 min: the finish is not due before 34 min; the unplugging waits behind it.
    assert.deepStrictEqual(kinds, ['plugged-in', 'charging-started']);
    assert.strictEqual(live.nextSettleAt(), Date.parse(T(29 * MIN)) + 5 * 60_000);
    clock = Date.parse(T(34 * MIN)) - 1;
    assert.deepStrictEqual(live.settle(), []);
    clock += 1;
    const [u] = live.settle();
    assert.deepStrictEqual(u.events.map((e) => e.kind), ['charging-finished', 'unplugged']);
    assert.strictEqual(live.nextSettleAt(), undefined);
    assert.deepStrictEqual(live.settle(), [], 'once');
  });
});

describe('Live data: scripts replayed through the simulated stream', function () {
  this.timeout(60000);

  it('every script gives the same events over MQTT (core client, reconnecting after the drop) as fed directly', async () => {
    let live;
    const events = [];
    await replayScriptsOverMqtt({
      names: Object.keys(CHARGING_SCRIPTS),
      play: playChargingScript,
      messagesOf: (name) => replay(name).updates.length,
      host: {
        start: () => {
          live = new LiveData();
          events.length = 0;
        },
        restart: () => (live = new LiveData({ state: JSON.parse(JSON.stringify(live.serialize())) })),
        message: (m) => events.push(...live.ingest(m.raw, m.topic).events),
        check: (name) => assert.deepStrictEqual(events, replay(name).events, name),
      },
    });
  });
});
