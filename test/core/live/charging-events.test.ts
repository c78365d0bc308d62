// Charging sessions from the stream: LiveData's charging events from scripted streams, edge cases, readings out of
// order and replays over MQTT; then the charging tracker's rules (pure), one at a time.
import assert from 'assert';
import * as core from '../../../src/node';
import * as scripts from '../../../src/simulator/charging-scripts';
import { SIM_VINS } from '../../../src/simulator';
import { scenarioSteps, initialCarState, PLUGGED_WAITING_INTERVALS } from '../../../src/simulator/broker-scenarios';
import { replayScriptsOverMqtt } from '../../support/stream-replay';
import { seeded } from '../../support/random';
import type { StreamRawMessage } from '../../../src/core/stream/message';
import type { ChargingScriptMarker } from '../../../src/simulator/charging-scripts';
import type { ChargingStartedEvent } from '../../../src/core/live/charging-events';
import { SOC, CHARGING_STATUS as STATUS, PORT, POWER } from '../../../src/simulator/descriptor-names';

const { LiveData, CHARGING_DESCRIPTORS, findDescriptor, restoreLiveDataState } = core;
const { CHARGING_SCRIPTS, CHARGING_SCRIPT_START, playChargingScript } = scripts;
/** A script's items as the tests read them: a message, or a marker (which has none). */
const chargingScriptItems = scripts.chargingScriptItems as (
  ...args: Parameters<typeof scripts.chargingScriptItems>
) => { at: string; message?: StreamRawMessage; marker?: ChargingScriptMarker }[];

const BEV = SIM_VINS.bev;
const PHEV = SIM_VINS.phev;
const MIN = 60;

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
    assert.deepStrictEqual(
      ids.filter((id) => !findDescriptor(id)),
      [],
    );
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
      {
        plugged: car.charging.plugged,
        phase: car.charging.phase,
        charging: car.charging.charging,
        powerKw: car.charging.powerKw,
        session: car.charging.session,
      },
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
    assert.deepStrictEqual(
      { changed: redelivered.changed, duplicates: redelivered.duplicates, events: redelivered.events },
      { changed: false, duplicates: 2, events: [] },
    );

    // A host that lost its state instead starts from nothing: no open session, so neither target reached nor
    // finished, and no unplugging from a plug state it never knew. Restoring the state is what keeps the session.
    const forgotten = replay('restart', { restart: 'forget' });
    assert.deepStrictEqual(
      forgotten.events.map((e) => e.kind),
      ['plugged-in', 'charging-started'],
    );
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
    assert.deepStrictEqual(
      first.map((e) => [e.kind, e.startObserved]),
      [
        ['plugged-in', undefined],
        ['charging-started', false],
        ['charging-finished', false],
        ['unplugged', undefined],
      ],
    );
    const second = feed(live, BEV, [
      [900, { [PORT]: 'CONNECTED' }],
      [905, { [STATUS]: 'CHARGINGACTIVE' }],
    ]);
    assert.deepStrictEqual(
      second.map((e) => [e.kind, e.startObserved, e.at]),
      [
        ['plugged-in', undefined, T(900)],
        ['charging-started', true, T(905)],
      ],
    );
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

  it("cars that stream only hvStatus (the simulator's charging scenario) get the same events, the power, the target and the energy", () => {
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
    assert.deepStrictEqual(
      events.map((e) => e.kind),
      ['plugged-in', 'charging-started', 'target-reached', 'charging-finished', 'unplugged'],
    );
    const f = events[3];
    assert.deepStrictEqual([f.startSoc, f.endSoc, f.endStatus, f.startObserved], [48, 80, 'NOT_CHARGING', false]);
    // 32 % of the 80.7 kWh battery, at up to 11 kW: a dashboard has a session's energy and power.
    assert.deepStrictEqual([f.energyAdded.kwh, f.energyAdded.estimate, f.maxPowerKw, f.targetSoc, f.targetReached], [25.82, true, 11, 80, true]);
  });

  it("the simulator's plugged-waiting scenario: plugged in, nothing sent for a while, unplugged, no charge", () => {
    const live = new LiveData({ now: () => CHARGING_SCRIPT_START });
    const steps = scenarioSteps('plugged-waiting', initialCarState());
    assert.deepStrictEqual(
      steps.map((s) => Object.keys(s).length > 0),
      [true, ...Array(PLUGGED_WAITING_INTERVALS - 1).fill(false), true],
    );
    const events = [];
    steps.forEach((step, i) => {
      const data = {};
      for (const [k, v] of Object.entries(step)) data[k] = { value: v, unit: null, timestamp: T(i * 5) };
      if (Object.keys(data).length > 0) events.push(...live.ingest({ vin: BEV, data }).events);
    });
    assert.deepStrictEqual(
      events.map((e) => e.kind),
      ['plugged-in', 'unplugged'],
    );
  });

  it("event times are ISO 8601 with milliseconds whatever BMW's spelling (no milliseconds, epoch seconds)", () => {
    const live = new LiveData();
    const a = live.ingest({ vin: BEV, data: { [PORT]: { value: 'CONNECTED', timestamp: '2026-11-26T17:00:00Z' } } });
    const b = live.ingest({ vin: BEV, data: { [STATUS]: { value: 'CHARGINGACTIVE', timestamp: 1795712405 } } });
    assert.deepStrictEqual(
      [...a.events, ...b.events].map((e) => [e.kind, e.at]),
      [
        ['plugged-in', '2026-11-26T17:00:00.000Z'],
        ['charging-started', '2026-11-26T17:00:05.000Z'],
      ],
    );
    assert.strictEqual((b.events[0] as ChargingStartedEvent).sessionId, `${BEV}/2026-11-26T17:00:05.000Z`);
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

describe("Live data: the car's state", () => {
  const LOCK = 'vehicle.cabin.door.lock.status';
  const TRUNK = 'vehicle.body.trunk.isLocked';
  const RANGE = 'vehicle.drivetrain.electricEngine.kombiRemainingElectricRange';

  it("types values with the catalogue and keeps the unit BMW sent, else the catalogue's", () => {
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
    for (const bad of [
      null,
      [],
      { version: 2, vehicles: {} },
      { version: 1 },
      { version: 1, vehicles: { [BEV]: { values: {} } } },
      { version: 1, vehicles: { [BEV]: { values: { [SOC]: { value: {}, timestamp: T(0) } }, charging: {} } } },
    ]) {
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

  const FIGURES = [
    'sessionId',
    'startedAt',
    'endedAt',
    'durationSeconds',
    'startSoc',
    'endSoc',
    'socAdded',
    'maxPowerKw',
    'energyAdded',
    'targetSoc',
    'targetReached',
    'endedBy',
    'endStatus',
    'startObserved',
  ];
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
    const u = live.ingest(
      { vin: BEV, data: { [STATUS]: { value: 'NOCHARGING', timestamp: '2027-06-01T00:00:00Z' }, [SOC]: { value: 40, timestamp: T(86_400) } } },
      '',
    );
    assert.strictEqual(u.future, 2);
    for (const i of items) {
      clock = Date.parse(i.at);
      events.push(...live.ingest(i.message, '').events);
    }
    clock += 3_600_000;
    for (const s of live.settle()) events.push(...s.events);
    assert.deepStrictEqual(
      events.map((e) => e.kind),
      ['plugged-in', 'charging-started', 'target-reached', 'charging-finished', 'unplugged'],
    );
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
    assert.deepStrictEqual(
      u.events.map((e) => e.kind),
      ['charging-finished', 'unplugged'],
    );
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

// The charging tracker's rules (pure), one at a time: plug readings, the status source, power units, the
// session's slack, the energy figures, the target and the end of a session.
describe('core charging tracker', function () {
  const { trackCharging, initialChargingState, pluggedFrom, CHARGING_DESCRIPTORS: D, SESSION_SLACK_MS } = core;

  const VIN = 'WBA12345678901234';
  const START = Date.parse('2026-01-01T10:00:00Z');
  const T = (s) => new Date(START + s * 1000).toISOString();
  const PORT = D.plug[0];
  const ISPLUGGED = D.plug[D.plug.length - 1];
  const SOC = D.soc[0];

  /** A car the tracker follows: `send` applies readings { id: [value, second, unit?] } and returns the events. */
  function car() {
    const state = initialChargingState();
    const values = {};
    return {
      state,
      values,
      send(readings: Record<string, unknown[]>): any[] {
        for (const [id, [value, s, unit]] of Object.entries(readings)) values[id] = { value, unit: unit ?? null, timestamp: T(s) };
        return trackCharging(VIN, state, values, Object.keys(readings));
      },
    };
  }

  const kinds = (events) => events.map((e) => e.kind);

  /** A car that is plugged in and charging since second 0. */
  function charging(extra = {}) {
    const c = car();
    c.send({ [PORT]: ['CONNECTED', -10] });
    const started = c.send({ [D.status]: ['CHARGINGACTIVE', 0], ...extra });
    assert.deepStrictEqual(kinds(started), ['charging-started']);
    return c;
  }

  it('plug readings: any plugged wins, unplugged only when one says so and none says plugged', () => {
    const v = (value) => ({ value, unit: null, timestamp: T(0) });
    assert.strictEqual(pluggedFrom({}), null);
    assert.strictEqual(pluggedFrom({ [PORT]: v('UNKNOWN') }), null);
    assert.strictEqual(pluggedFrom({ [PORT]: v('DISCONNECTED') }), false);
    assert.strictEqual(pluggedFrom({ [PORT]: v('CONNECTED') }), true);
    assert.strictEqual(pluggedFrom({ [ISPLUGGED]: v(true) }), true);
    assert.strictEqual(pluggedFrom({ [ISPLUGGED]: v(false) }), false);
    assert.strictEqual(pluggedFrom({ [PORT]: v('DISCONNECTED'), [ISPLUGGED]: v(true) }), true);
    assert.strictEqual(pluggedFrom({ [PORT]: v('CONNECTED'), [ISPLUGGED]: v(false) }), true);
    assert.strictEqual(pluggedFrom({ [PORT]: v('DISCONNECTED'), [ISPLUGGED]: v('x') }), false);
    assert.strictEqual(pluggedFrom({ [PORT]: v(1) }), null);
    assert.strictEqual(pluggedFrom({ 'vehicle.other': v(true) }), null);
  });

  it('plugged in once, at the latest plug reading of the message, with the state of charge', () => {
    const c = car();
    c.send({ [SOC]: [40, -100, '%'] });
    const events = c.send({ [PORT]: ['CONNECTED', 5], [ISPLUGGED]: [true, 7], [D.plug[1]]: ['CONNECTED', 6] });
    assert.deepStrictEqual(events, [{ kind: 'plugged-in', vin: VIN, at: T(7), soc: 40 }]);
    assert.deepStrictEqual(c.send({ [PORT]: ['CONNECTED', 8] }), [], 'already plugged');
    assert.deepStrictEqual(c.send({ [SOC]: [41, 9, '%'] }), [], 'no plug reading: nothing about the plug');
    const out = c.send({ [PORT]: ['DISCONNECTED', 20], [ISPLUGGED]: [false, 19], [D.plug[1]]: ['DISCONNECTED', 18] });
    assert.deepStrictEqual(out, [{ kind: 'unplugged', vin: VIN, at: T(20), soc: 41 }]);
    assert.strictEqual(c.state.plugged, false);
    assert.deepStrictEqual(c.send({ [PORT]: ['DISCONNECTED', 21] }), []);
  });

  it('the first plug reading being "unplugged" says nothing, but is remembered', () => {
    const c = car();
    assert.deepStrictEqual(c.send({ [PORT]: ['DISCONNECTED', 0] }), []);
    assert.strictEqual(c.state.plugged, false);
    assert.deepStrictEqual(kinds(c.send({ [PORT]: ['CONNECTED', 1] })), ['plugged-in']);
  });

  it('status is read from charging.status, else hvStatus; unknown values change nothing', () => {
    const hv = car();
    hv.send({ [PORT]: ['CONNECTED', -5] });
    assert.deepStrictEqual(kinds(hv.send({ [D.hvStatus]: ['CHARGING', 0] })), ['charging-started']);
    assert.strictEqual(hv.state.phase, 'charging');
    assert.deepStrictEqual(kinds(hv.send({ [D.hvStatus]: ['FINISHED_NOT_FULL', 60] })), ['charging-finished']);

    const both = car();
    both.send({ [PORT]: ['CONNECTED', -5], [D.status]: ['NOCHARGING', -5] });
    assert.deepStrictEqual(both.send({ [D.hvStatus]: ['CHARGING', 0] }), [], 'hvStatus is ignored while status is known');
    const c = car();
    assert.deepStrictEqual(c.send({ [D.status]: ['UNKNOWN', 0] }), []);
    assert.strictEqual(c.state.phase, null);
    assert.deepStrictEqual(c.send({ [D.status]: [5, 1] }), []);
    assert.strictEqual(c.state.status, null);
  });

  it('a session whose charging is the first thing heard was not observed starting; one after a plug reading was', () => {
    const blind = car();
    const [e] = blind.send({ [D.status]: ['CHARGINGACTIVE', 0] });
    assert.deepStrictEqual([e.kind, e.startObserved, e.sessionId, e.at], ['charging-started', false, `${VIN}/${T(0)}`, T(0)]);
    const seen = car();
    seen.send({ [D.status]: ['NOCHARGING', -1] });
    assert.strictEqual(seen.send({ [D.status]: ['CHARGINGACTIVE', 0] })[0].startObserved, true);
  });

  it('charging power in kW or W, the highest of the session, and 0 once it is not charging', () => {
    const c = charging({ [D.power]: [7400, 0, 'W'] });
    assert.deepStrictEqual([c.state.charging, c.state.powerKw], [true, 7.4]);
    c.send({ [D.power]: [11, 10, 'kW'] });
    assert.strictEqual(c.state.powerKw, 11);
    c.send({ [D.power]: [3, 20, 'KW'] });
    assert.strictEqual(c.state.powerKw, 3);
    c.send({ [D.power]: [2500, 30] });
    assert.strictEqual(c.state.powerKw, 2.5, 'no unit: watts');
    c.send({ [D.power]: [11, 40, 'kW'] });
    const [done] = c.send({ [D.status]: ['CHARGINGENDED', 50] });
    assert.strictEqual(done.maxPowerKw, 11);
    assert.deepStrictEqual([c.state.charging, c.state.powerKw, c.state.session], [false, 0, null]);
  });

  it('paused: not charging, no power, the session stays open', () => {
    const c = charging({ [D.power]: [7, 0, 'kW'] });
    assert.deepStrictEqual(c.send({ [D.status]: ['CHARGINGPAUSED', 10] }), []);
    assert.deepStrictEqual([c.state.phase, c.state.charging, c.state.powerKw, !!c.state.session], ['paused', false, 0, true]);
  });

  it('a power reading from long before the session does not count; one just within the slack does', () => {
    const old = car();
    old.send({ [PORT]: ['CONNECTED', -200], [D.power]: [50, -61, 'kW'] });
    old.send({ [D.status]: ['CHARGINGACTIVE', 0] });
    assert.deepStrictEqual([old.state.session.maxPowerKw, old.state.powerKw], [null, 0]);
    const edge = car();
    edge.send({ [PORT]: ['CONNECTED', -200], [D.power]: [50, -SESSION_SLACK_MS / 1000, 'kW'] });
    edge.send({ [D.status]: ['CHARGINGACTIVE', 0] });
    assert.deepStrictEqual([edge.state.session.maxPowerKw, edge.state.powerKw], [50, 50]);
  });

  it('start values: held at the start or arriving within the slack after it; later ones are not start values', () => {
    const late = charging();
    late.send({ [SOC]: [30, 60, '%'] });
    assert.strictEqual(late.state.session.startSoc, 30, 'exactly the slack after the start');
    const later = charging();
    later.send({ [SOC]: [30, 61, '%'] });
    assert.strictEqual(later.state.session.startSoc, null);
    const second = charging({ [D.soc[1]]: [22, 0, '%'] });
    assert.strictEqual(second.state.session.startSoc, 22, 'the second state-of-charge key when the first is missing');
  });

  it('energy: the grid counter first, then the battery content, then an estimate from the battery size', () => {
    const grid = charging({ [D.gridEnergy]: [1000, 0, 'kWh'], [D.energyContent]: [40, 0, 'kWh'], [SOC]: [20, 0, '%'] });
    const [g] = grid.send({
      [D.gridEnergy]: [1012.345, 100, 'kWh'],
      [D.energyContent]: [50, 100, 'kWh'],
      [SOC]: [40, 100, '%'],
      [D.status]: ['CHARGINGENDED', 100],
    });
    assert.deepStrictEqual(g.energyAdded, { kwh: 12.35, estimate: false, method: 'grid-energy-counter' });
    assert.deepStrictEqual([g.startSoc, g.endSoc, g.socAdded, g.durationSeconds, g.endedBy, g.endStatus], [20, 40, 20, 100, 'status', 'CHARGINGENDED']);

    const same = charging({ [D.gridEnergy]: [1000, 0, 'kWh'] });
    const [s] = same.send({ [D.status]: ['CHARGINGENDED', 10] });
    assert.deepStrictEqual(s.energyAdded, { kwh: 0, estimate: false, method: 'grid-energy-counter' }, 'no energy through the cable is 0, not unknown');

    const back = charging({ [D.gridEnergy]: [1000, 0, 'kWh'], [D.energyContent]: [40, 0, 'kWh'], [SOC]: [20, 0, '%'], [D.batterySize[0]]: [80, -1000, 'kWh'] });
    const [b] = back.send({ [D.gridEnergy]: [999, 10, 'kWh'], [D.energyContent]: [45.5, 10, 'kWh'], [SOC]: [27, 10, '%'], [D.status]: ['CHARGINGENDED', 10] });
    assert.deepStrictEqual(
      b.energyAdded,
      { kwh: 5.5, estimate: false, method: 'battery-energy-content' },
      'a counter that went back is not used; the content agrees with 7 % of 80 kWh',
    );

    // maxEnergy sent as the usable capacity, about constant over a charge: its rise (0) disagrees with the SoC, so
    // the estimate is taken, with maxEnergy as the battery's size when the car sends no size of its own.
    const capacity = charging({ [D.energyContent]: [74, 0, 'kWh'], [SOC]: [20, 0, '%'] });
    const [cap] = capacity.send({ [D.energyContent]: [74.2, 100, 'kWh'], [SOC]: [50, 100, '%'], [D.status]: ['CHARGINGENDED', 100] });
    assert.deepStrictEqual(cap.energyAdded, { kwh: 22.26, estimate: true, method: 'soc-x-battery-size' });

    // Within 30 % of SoC added × size (or 1 kWh): measured; beyond: the estimate.
    const near = (end) =>
      charging({ [D.energyContent]: [40, 0, 'kWh'], [SOC]: [20, 0, '%'], [D.batterySize[0]]: [80, -1000, 'kWh'] }).send({
        [D.energyContent]: [end, 100, 'kWh'],
        [SOC]: [45, 100, '%'],
        [D.status]: ['CHARGINGENDED', 100],
      })[0].energyAdded;
    assert.deepStrictEqual(near(66), { kwh: 26, estimate: false, method: 'battery-energy-content' }, '26 of 20 kWh: within 30 %');
    assert.deepStrictEqual(near(54), { kwh: 14, estimate: false, method: 'battery-energy-content' }, '14 of 20 kWh: within 30 %');
    assert.deepStrictEqual(near(66.5), { kwh: 20, estimate: true, method: 'soc-x-battery-size' }, '26.5 of 20 kWh: not');
    assert.deepStrictEqual(near(53.5), { kwh: 20, estimate: true, method: 'soc-x-battery-size' }, '13.5 of 20 kWh: not');

    const content0 = charging({ [D.energyContent]: [40, 0, 'kWh'] });
    const [c0] = content0.send({ [D.status]: ['CHARGINGENDED', 10] });
    assert.strictEqual(c0.energyAdded, null, 'a rise of the content without the SoC to check it against is not taken');

    const est = charging({ [SOC]: [20, 0, '%'], [D.batterySize[1]]: [80, -1000, 'kWh'] });
    const [e] = est.send({ [SOC]: [50, 100, '%'], [D.energyContent]: [10, 100, 'kWh'], [D.status]: ['CHARGINGENDED', 100] });
    assert.deepStrictEqual(e.energyAdded, { kwh: 24, estimate: true, method: 'soc-x-battery-size' });

    const none = charging({ [SOC]: [20, 0, '%'], [D.batterySize[0]]: [0, -1000, 'kWh'] });
    const [n] = none.send({ [SOC]: [50, 100, '%'], [D.status]: ['CHARGINGENDED', 100] });
    assert.strictEqual(n.energyAdded, null, 'a battery of size 0 gives no estimate');
    assert.deepStrictEqual(n.missing, ['maxPowerKw', 'energyAdded', 'targetSoc']);
  });

  it('interruptions and errors are counted in the session and reported with the status; an error without a session has no session', () => {
    const c = charging({ [SOC]: [30, 0, '%'] });
    const [i] = c.send({ [D.status]: ['CHARGINGINTERRUPTED', 10] });
    assert.deepStrictEqual(i, { kind: 'charging-interrupted', vin: VIN, at: T(10), status: 'CHARGINGINTERRUPTED', sessionId: `${VIN}/${T(0)}`, soc: 30 });
    c.send({ [D.status]: ['CHARGINGACTIVE', 20] });
    const [err] = c.send({ [D.status]: ['CHARGINGERROR', 30] });
    assert.deepStrictEqual([err.kind, err.status], ['charging-error', 'CHARGINGERROR']);
    c.send({ [D.status]: ['CHARGINGACTIVE', 40] });
    c.send({ [D.status]: ['CHARGINGDISRUPTED', 50] });
    const [done] = c.send({ [D.status]: ['CHARGINGENDED', 60] });
    assert.deepStrictEqual([done.interruptions, done.errors], [2, 1]);
    const idle = car();
    idle.send({ [PORT]: ['CONNECTED', 0] });
    const [e] = idle.send({ [D.status]: ['CHARGINGERROR', 1] });
    assert.deepStrictEqual([e.kind, e.sessionId, e.soc], ['charging-error', null, null]);
  });

  it('the target: reached once per target when the state of charge gets to it, again for a higher one', () => {
    const c = charging({ [D.targetSoc]: [80, 0, '%'], [SOC]: [70, 0, '%'] });
    assert.deepStrictEqual(c.send({ [SOC]: [79, 10, '%'] }), []);
    const [t] = c.send({ [SOC]: [80, 20, '%'] });
    assert.deepStrictEqual(t, { kind: 'target-reached', vin: VIN, at: T(20), sessionId: `${VIN}/${T(0)}`, soc: 80, targetSoc: 80 });
    assert.deepStrictEqual(c.send({ [SOC]: [81, 30, '%'] }), [], 'once');
    assert.deepStrictEqual(c.send({ [D.targetSoc]: [70, 35, '%'] }), [], 'a lower target is not a new one');
    const [again] = c.send({ [D.targetSoc]: [85, 40, '%'], [SOC]: [85, 39, '%'] });
    assert.deepStrictEqual([again.kind, again.targetSoc, again.at], ['target-reached', 85, T(40)]);
    const [done] = c.send({ [D.status]: ['CHARGINGENDED', 50] });
    assert.deepStrictEqual([done.targetReached, done.targetSoc], [true, 85]);
    const zero = charging({ [D.targetSoc]: [0, 0, '%'], [SOC]: [50, 0, '%'] });
    assert.deepStrictEqual(zero.send({ [SOC]: [51, 10, '%'] }), [], 'a target of 0 is no target');
  });

  it('the end: by status at or after the start; by unplugging, which also sets the phase to idle', () => {
    const c = charging();
    const [byStatus] = c.send({ [D.status]: ['NOCHARGING', 0] });
    assert.deepStrictEqual([byStatus.kind, byStatus.durationSeconds, byStatus.endStatus], ['charging-finished', 0, 'NOCHARGING']);

    const u = charging();
    const events = u.send({ [PORT]: ['DISCONNECTED', 30] });
    assert.deepStrictEqual(kinds(events), ['charging-finished', 'unplugged']);
    assert.deepStrictEqual([events[0].endedBy, events[0].endStatus, events[0].endedAt], ['unplugged', null, T(30)]);
    assert.deepStrictEqual([u.state.phase, u.state.session, u.state.charging], ['idle', null, false]);

    const atStart = charging();
    assert.deepStrictEqual(kinds(atStart.send({ [PORT]: ['DISCONNECTED', 0] })), ['charging-finished', 'unplugged']);

    const before = charging();
    assert.deepStrictEqual(kinds(before.send({ [PORT]: ['DISCONNECTED', -5] })), ['unplugged'], 'a plug reading older than the session does not end it');
    assert.ok(before.state.session);

    const ended = car();
    ended.send({ [PORT]: ['CONNECTED', 0], [D.status]: ['CHARGINGENDED', 0] });
    ended.send({ [PORT]: ['DISCONNECTED', 10] });
    assert.strictEqual(ended.state.phase, 'ended', 'ended stays ended when unplugged');
    const paused = car();
    paused.send({ [PORT]: ['CONNECTED', 0], [D.status]: ['INITIALIZATION', 0] });
    paused.send({ [PORT]: ['DISCONNECTED', 10] });
    assert.strictEqual(paused.state.phase, 'idle');
    const never = car();
    never.send({ [PORT]: ['DISCONNECTED', 10] });
    assert.strictEqual(never.state.phase, null, 'no status ever: the phase stays unknown');
  });

  it('unplugged: the same charging status sent again starts nothing; a new value does', () => {
    const c = charging();
    c.send({ [PORT]: ['DISCONNECTED', 30] });
    assert.deepStrictEqual(c.send({ [D.status]: ['CHARGINGACTIVE', 40] }), []);
    assert.strictEqual(c.state.phase, 'idle');
    c.send({ [D.status]: ['NOCHARGING', 50] });
    c.send({ [PORT]: ['CONNECTED', 60] });
    assert.deepStrictEqual(kinds(c.send({ [D.status]: ['CHARGINGACTIVE', 70] })), ['charging-started']);
  });

  it('a status older than the open session does not end it', () => {
    const c = charging();
    assert.deepStrictEqual(c.send({ [D.status]: ['CHARGINGENDED', -1] }), []);
    assert.ok(c.state.session);
  });
});
