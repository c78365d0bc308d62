// Trips from the stream: scripted drives replayed with their exact events (fed directly, late by minutes, over MQTT
// through the simulated broker), the rules for stops, silences and cars that stream less, and the logbook rows.
import assert from 'assert';
import * as core from '../../../src/node';
import { toCsv } from '../../../src/cli/csv';
import { TRIP_SCRIPTS, TRIP_SCRIPT_START, tripScriptItems, playTripScript } from '../../../src/simulator/trip-scripts';
import { CHARGING_SCRIPTS, chargingScriptItems } from '../../../src/simulator/charging-scripts';
import { SIM_VINS } from '../../../src/simulator';
import { streamed } from '../../support/stream-message';
import { seeded } from '../../support/random';
import { replayScriptsOverMqtt } from '../../support/stream-replay';
import { scenarioSteps, initialCarState, SCENARIO_NAMES } from '../../../src/simulator/broker-scenarios';
import { STREAM_INTERVAL_MS } from '../../../scripts/sandbox-support';
import { IGNITION, MOVING, ODOMETER as ODO, LAT, LON, SOC, FUEL } from '../../../src/simulator/descriptor-names';

const { LiveData, TRIP_DESCRIPTORS, TRIP_PAUSE_MS, FINISH_SETTLE_MS, findDescriptor, tripLogbookRows, createLiveFeed } = core;

const BEV = SIM_VINS.bev;
const PHEV = SIM_VINS.phev;
const MIN = 60;

const HOME = { lat: 48.16402, lon: 11.57118 };
const WORK = { lat: 48.18322, lon: 11.56945 };
const AIRPORT = { lat: 48.35378, lon: 11.78609 };
const FREISING = { lat: 48.40303, lon: 11.74876 };

/** ISO time `s` seconds after the trip scripts' start. */
const T = (s) => new Date(TRIP_SCRIPT_START + s * 1000).toISOString();
const tid = (vin, s) => `${vin}/${T(s)}`;

/** Feeds a script to LiveData as a host would (see the charging replay); the clock runs on a day at the end. */
function replay(name, { restart = 'restore' } = {}) {
  const script = TRIP_SCRIPTS[name];
  let clock = TRIP_SCRIPT_START;
  const now = () => clock;
  let live = new LiveData({ now });
  let dropped = false;
  const trips = [];
  const updates = [];
  for (const item of tripScriptItems(script)) {
    if ('marker' in item) {
      if (item.marker === 'stream-drop') dropped = true;
      else if (item.marker === 'stream-back') dropped = false;
      else if (restart === 'forget') live = new LiveData({ now });
      else {
        const state = JSON.parse(JSON.stringify(live.serialize()));
        // A state saved before the open trip kept its latest reading's time: the tracker reads it from the readings.
        if (restart === 'restore-without-latest') for (const record of Object.values<any>(state.vehicles)) delete record.trips.trip?.latestMs;
        live = new LiveData({ state, now });
      }
      continue;
    }
    clock = Math.max(clock, Date.parse(item.at));
    if (dropped) continue;
    const u = live.ingest(item.message, `gcid/${script.vin}`);
    updates.push(u);
    trips.push(...u.trips);
    assert.deepStrictEqual(u.events, [], 'no charging events on a drive');
  }
  clock += 24 * 3_600_000;
  for (const u of live.settle()) trips.push(...u.trips);
  return { trips, updates, live };
}

function started(vin, s, fields) {
  return { kind: 'trip-started', vin, at: T(s), tripId: tid(vin, s), startObserved: true, ...fields };
}

const NO_FUEL = { fuelUnit: null, startFuel: null, endFuel: null, fuelUsed: null };

function finished(vin, startS, endS, fields) {
  return {
    kind: 'trip-finished',
    vin,
    at: T(endS),
    tripId: tid(vin, startS),
    startedAt: T(startS),
    endedAt: T(endS),
    durationSeconds: endS - startS,
    ...fields,
    stops: fields.stops ?? 0,
    endedBy: fields.endedBy ?? 'ignition-off',
    startObserved: true,
    missing: fields.missing ?? [],
  };
}

function figuresOrder(e) {
  // The event's own key order, so that deepStrictEqual also holds for JSON consumers that keep it.
  return Object.keys(e);
}

describe('Trips: scripted drives', () => {
  it('the descriptors it reads exist in the catalogue and are streamable', () => {
    const ids = [
      ...TRIP_DESCRIPTORS.ignition,
      TRIP_DESCRIPTORS.moving,
      TRIP_DESCRIPTORS.speedLowerBound,
      TRIP_DESCRIPTORS.odometer,
      TRIP_DESCRIPTORS.latitude,
      TRIP_DESCRIPTORS.longitude,
      ...TRIP_DESCRIPTORS.fuel,
      TRIP_DESCRIPTORS.energyContent,
    ];
    assert.deepStrictEqual(
      ids.filter((id) => !findDescriptor(id)?.streamable),
      [],
    );
  });

  it('commute: started at the ignition, finished once at the ignition off, with distance, positions, state of charge and an estimated energy', () => {
    const { trips, live } = replay('commute');
    assert.deepStrictEqual(trips, [
      started(BEV, 20, { odometerKm: 23418, position: HOME, soc: 80 }),
      finished(BEV, 20, 17 * MIN + 20, {
        startOdometerKm: 23418,
        endOdometerKm: 23424,
        distanceKm: 6,
        startPosition: HOME,
        // The last fix came 5 s after the ignition went off: it is the end position, not new motion.
        endPosition: WORK,
        startSoc: 80,
        endSoc: 78,
        socUsed: 2,
        energyUsed: { kwh: 1.61, estimate: true, method: 'soc-x-battery-size' },
        ...NO_FUEL,
        averageSpeedKmh: 21.2,
      }),
    ]);
    assert.deepStrictEqual(figuresOrder(trips[1]).slice(0, 8), ['kind', 'vin', 'at', 'tripId', 'startedAt', 'endedAt', 'durationSeconds', 'startOdometerKm']);
    const car = live.vehicle(BEV);
    assert.deepStrictEqual([car.trips.driving, car.trips.trip, car.trips.lastEndedAt], [false, null, T(17 * MIN + 20)]);
  });

  it('tunnel: eight minutes without readings and the buffered odometer arriving late after it: one trip, its figures exact', () => {
    const { trips } = replay('tunnel');
    assert.deepStrictEqual(trips, [
      started(BEV, 0, { odometerKm: 23424, position: HOME, soc: 78, startObserved: true }),
      finished(BEV, 0, 34 * MIN + 30, {
        startOdometerKm: 23424,
        endOdometerKm: 23455,
        distanceKm: 31,
        startPosition: HOME,
        endPosition: AIRPORT,
        startSoc: 78,
        endSoc: 70,
        socUsed: 8,
        energyUsed: { kwh: 6.46, estimate: true, method: 'soc-x-battery-size' },
        ...NO_FUEL,
        averageSpeedKmh: 53.9,
      }),
    ]);
  });

  it('stop: a traffic light and four minutes standing with the engine on change nothing; six minutes with the ignition off are one stop', () => {
    const { trips } = replay('stop');
    assert.deepStrictEqual(trips, [
      started(BEV, 0, { odometerKm: 23455, position: HOME, soc: 70 }),
      finished(BEV, 0, 29 * MIN + 15, {
        startOdometerKm: 23455,
        endOdometerKm: 23464,
        distanceKm: 9,
        startPosition: HOME,
        endPosition: WORK,
        startSoc: 70,
        endSoc: 68,
        socUsed: 2,
        energyUsed: { kwh: 1.61, estimate: true, method: 'soc-x-battery-size' },
        ...NO_FUEL,
        averageSpeedKmh: 18.5,
        stops: 1,
      }),
    ]);
  });

  it('plug-in hybrid: the engine flag going off mid-drive ends nothing; fuel used leaves the refuel out; the energy content is measured', () => {
    const { trips } = replay('phev');
    assert.deepStrictEqual(trips, [
      started(PHEV, 0, { odometerKm: 41230, position: WORK, soc: 90 }),
      finished(PHEV, 0, 60 * MIN + 20, {
        startOdometerKm: 41230,
        endOdometerKm: 41288,
        distanceKm: 58,
        startPosition: WORK,
        endPosition: FREISING,
        startSoc: 90,
        endSoc: 14,
        socUsed: 76,
        // 10.8 - 1.7 kWh of energy content, within 25 % of 76 % × 12 kWh (9.12): measured.
        energyUsed: { kwh: 9.1, estimate: false, method: 'battery-energy-content' },
        // 9 -> 8.1 l before the fuel stop, 42 -> 40.2 l after it.
        fuelUnit: 'l',
        startFuel: 9,
        endFuel: 40.2,
        fuelUsed: 2.7,
        averageSpeedKmh: 57.7,
        stops: 1,
      }),
    ]);
  });

  it("stream drop mid-trip: one trip across the gap; the distance is the odometer's, lost readings included", () => {
    const { trips } = replay('stream-drop');
    assert.deepStrictEqual(trips, [
      started(BEV, 0, { odometerKm: 23464, position: WORK, soc: 68 }),
      finished(BEV, 0, 33 * MIN + 20, {
        startOdometerKm: 23464,
        endOdometerKm: 23490,
        distanceKm: 26,
        startPosition: WORK,
        endPosition: AIRPORT,
        startSoc: 68,
        endSoc: 64,
        socUsed: 4,
        energyUsed: { kwh: 3.23, estimate: true, method: 'soc-x-battery-size' },
        ...NO_FUEL,
        averageSpeedKmh: 46.8,
      }),
    ]);
  });

  it('restart mid-trip from the saved JSON (also one saved before the open trip kept its latest time): the redelivered message is a duplicate, exactly one trip', () => {
    const restarted = replay('restart');
    assert.deepStrictEqual(restarted.trips, [
      started(BEV, 0, { odometerKm: 23490, position: AIRPORT, soc: 64 }),
      finished(BEV, 0, 25 * MIN + 10, {
        startOdometerKm: 23490,
        endOdometerKm: 23520,
        distanceKm: 30,
        startPosition: AIRPORT,
        endPosition: HOME,
        startSoc: 64,
        endSoc: 59,
        socUsed: 5,
        energyUsed: { kwh: 4.04, estimate: true, method: 'soc-x-battery-size' },
        ...NO_FUEL,
        averageSpeedKmh: 71.5,
      }),
    ]);
    assert.deepStrictEqual(replay('restart', { restart: 'restore-without-latest' }).trips, restarted.trips);
    const redelivered = restarted.updates[8];
    assert.deepStrictEqual(
      { changed: redelivered.changed, duplicates: redelivered.duplicates, trips: redelivered.trips },
      { changed: false, duplicates: 2, trips: [] },
    );

    // A host that lost its state starts from nothing: the first trip never finishes, and a second one opens at the
    // next motion it can see (the odometer moving on). Restoring the state is what keeps the trip whole.
    const forgotten = replay('restart', { restart: 'forget' }).trips;
    assert.deepStrictEqual(
      forgotten.map((e) => [e.kind, e.at]),
      [
        ['trip-started', T(0)],
        ['trip-started', T(15 * MIN)],
        ['trip-finished', T(25 * MIN + 10)],
      ],
    );
    assert.deepStrictEqual([forgotten[2].startOdometerKm, forgotten[2].distanceKm], [23502, 18]);
  });
});

/** A hand-written stream for one car; `at` in seconds from the trip scripts' start; the clock follows. */
function drive(steps, { vin = BEV, live }: { vin?: string; live?: any } = {}) {
  let clock = TRIP_SCRIPT_START;
  live ??= new LiveData({ now: () => clock });
  const trips = [];
  for (const [at, data] of steps) {
    clock = Math.max(clock, TRIP_SCRIPT_START + at * 1000);
    const message = { vin, data: {} };
    for (const [k, v] of Object.entries(data)) message.data[k] = { value: v, unit: null, timestamp: T(at) };
    trips.push(...live.ingest(message).trips);
  }
  return { trips, live, advance: (s) => (clock += s * 1000) };
}

describe('Trips: stops, silences and cars that stream less', () => {
  it('a stop longer than the pause is two trips; the second starts at the ignition and the first finishes before it', () => {
    const { trips } = drive([
      [0, { [IGNITION]: true, [ODO]: 100, [SOC]: 50 }],
      [10, { [MOVING]: true }],
      [10 * MIN, { [ODO]: 108, [MOVING]: false }],
      [10 * MIN + 20, { [IGNITION]: false }],
      // 25 minutes at the supermarket.
      [35 * MIN + 20, { [IGNITION]: true }],
      [35 * MIN + 30, { [MOVING]: true }],
      [45 * MIN, { [ODO]: 116, [MOVING]: false }],
      [45 * MIN + 10, { [IGNITION]: false }],
    ]);
    assert.deepStrictEqual(
      trips.map((e) => [e.kind, e.at]),
      [
        ['trip-started', T(0)],
        ['trip-finished', T(10 * MIN + 20)],
        ['trip-started', T(35 * MIN + 20)],
      ],
    );
    // No battery size: no energy, and it says so.
    assert.deepStrictEqual([trips[1].distanceKm, trips[1].stops, trips[1].missing], [8, 0, ['startPosition', 'endPosition', 'energyUsed']]);
    // In the logbook: what the car did not send is empty, never 0, and the row names it.
    const row = tripLogbookRows([trips[1]])[0];
    assert.deepStrictEqual(
      [row.distanceKm, row.startLatitude, row.endLongitude, row.energyUsedKwh, row.energyUsedEstimate, row.fuelUsed, row.missing],
      [8, null, null, null, null, null, 'startPosition; endPosition; energyUsed'],
    );
  });

  it('the finish waits the pause and the settle window after the end, then goes out once; motion within the pause is a stop', () => {
    const { trips, live, advance } = drive([
      [0, { [IGNITION]: true, [ODO]: 100 }],
      [10, { [MOVING]: true }],
      [5 * MIN, { [ODO]: 104, [IGNITION]: false }],
    ]);
    assert.deepStrictEqual(
      trips.map((e) => e.kind),
      ['trip-started'],
    );
    const due = Date.parse(T(5 * MIN)) + TRIP_PAUSE_MS + FINISH_SETTLE_MS;
    assert.strictEqual(live.nextSettleAt(), due);
    advance(TRIP_PAUSE_MS / 1000 + FINISH_SETTLE_MS / 1000 - 1);
    assert.deepStrictEqual(live.settle(), []);
    advance(1);
    const [u] = live.settle();
    assert.deepStrictEqual([u.changed, u.events, u.trips.map((e) => [e.kind, e.endedAt, e.distanceKm])], [true, [], [['trip-finished', T(5 * MIN), 4]]]);
    assert.deepStrictEqual([live.settle(), live.nextSettleAt()], [[], undefined]);
  });

  it('ignition on and off without motion is no trip', () => {
    const { trips, live } = drive([
      [0, { [IGNITION]: true, [ODO]: 100, [SOC]: 50 }],
      [5 * MIN, { [IGNITION]: false }],
    ]);
    assert.deepStrictEqual([trips, live.vehicle(BEV).trips.driving, live.nextSettleAt()], [[], false, undefined]);
  });

  it('an ignition off lost in a dropped stream: the trip ends at its last motion after an hour without motion', () => {
    const { trips, live, advance } = drive([
      [0, { [IGNITION]: true, [ODO]: 100 }],
      [10, { [MOVING]: true }],
      [20 * MIN, { [ODO]: 120 }],
    ]);
    assert.deepStrictEqual(
      trips.map((e) => e.kind),
      ['trip-started'],
    );
    advance(59 * MIN);
    assert.deepStrictEqual(live.settle(), []);
    advance(2 * MIN + FINISH_SETTLE_MS / 1000);
    const [u] = live.settle();
    assert.deepStrictEqual(
      u.trips.map((e) => [e.kind, e.endedAt, e.endedBy, e.distanceKm]),
      [['trip-finished', T(20 * MIN), 'silence', 20]],
    );
  });

  it('a car that streams neither ignition nor motion (position and odometer only): the trip ends at the last motion, the fuel of a BEV is not missing', () => {
    const p = (f) => ({ [LAT]: HOME.lat + (WORK.lat - HOME.lat) * f, [LON]: HOME.lon });
    const { trips, advance, live } = drive([
      [0, { ...p(0), [ODO]: 500, [SOC]: 60 }],
      [3 * MIN, p(0.3)],
      [6 * MIN, { ...p(0.7), [ODO]: 502 }],
      [9 * MIN, { ...p(1), [SOC]: 59 }],
      // Parked: the same fix again a few minutes later is no motion.
      [12 * MIN, p(1)],
    ]);
    assert.deepStrictEqual(
      trips.map((e) => [e.kind, e.at, e.startObserved]),
      [['trip-started', T(3 * MIN), true]],
    );
    advance(TRIP_PAUSE_MS / 1000 + FINISH_SETTLE_MS / 1000);
    const [u] = live.settle();
    const f = u.trips[0];
    assert.deepStrictEqual(
      [f.startedAt, f.endedAt, f.endedBy, f.distanceKm, f.startPosition, f.socUsed, f.energyUsed, f.missing],
      [T(3 * MIN), T(9 * MIN), 'no-motion', 2, { lat: HOME.lat, lon: HOME.lon }, 1, null, ['energyUsed']],
    );
  });

  it('a car that streams motion but no ignition: a short stand still is no end; "not moving" for the pause ends it there', () => {
    const { trips, live, advance } = drive([
      [0, { [MOVING]: true, [ODO]: 10 }],
      [4 * MIN, { [MOVING]: false }],
      [5 * MIN, { [MOVING]: true }],
      [9 * MIN, { [ODO]: 15, [MOVING]: false }],
    ]);
    advance(TRIP_PAUSE_MS / 1000 + FINISH_SETTLE_MS / 1000);
    trips.push(...live.settle().flatMap((u) => u.trips));
    assert.deepStrictEqual(
      trips.map((e) => [e.kind, e.at, e.endedBy ?? null, e.stops ?? null, e.startObserved]),
      [
        ['trip-started', T(0), null, null, false],
        ['trip-finished', T(9 * MIN), 'stopped', 1, false],
      ],
    );
  });

  it('a combustion car: fuel figures, no state of charge missing; the odometer in miles is turned into km', () => {
    const { trips, live, advance } = drive([
      [0, { [IGNITION]: true, [FUEL]: 50 }],
      [1, { [MOVING]: true }],
      [20 * MIN, { [FUEL]: 48.5, [IGNITION]: false }],
    ]);
    live.ingest({ vin: BEV, data: { [ODO]: { value: 1000, unit: 'mi', timestamp: T(0) } } });
    live.ingest({ vin: BEV, data: { [ODO]: { value: 1010, unit: 'mi', timestamp: T(19 * MIN) } } });
    advance(20 * MIN + TRIP_PAUSE_MS / 1000 + FINISH_SETTLE_MS / 1000);
    const f = live.settle()[0].trips[0];
    assert.strictEqual(trips.length, 1);
    assert.deepStrictEqual(
      [f.startOdometerKm, f.distanceKm, f.fuelUnit, f.startFuel, f.endFuel, f.fuelUsed, f.startSoc, f.missing],
      [1609.344, 16.1, 'l', 50, 48.5, 1.5, null, ['startPosition', 'endPosition']],
    );
  });

  it('charging events are unchanged beside trips; every update carries a trips list', () => {
    let clock = Date.parse('2026-11-26T17:00:00.000Z');
    const live = new LiveData({ now: () => clock });
    const kinds = [];
    for (const item of chargingScriptItems(CHARGING_SCRIPTS['ac-session'])) {
      clock = Date.parse(item.at);
      const u = live.ingest((item as Extract<typeof item, { message: unknown }>).message, '');
      assert.deepStrictEqual(u.trips, []);
      kinds.push(...u.events.map((e) => e.kind));
    }
    assert.deepStrictEqual(kinds, ['plugged-in', 'charging-started', 'target-reached', 'charging-finished', 'unplugged']);
  });
});

describe('Trips: readings late by minutes', () => {
  /** A script's messages (markers left out), each arriving `delay()` ms after it was sent; the host's clock is the arrival. */
  function delayed(name, delay) {
    const items = tripScriptItems(TRIP_SCRIPTS[name]).filter((i): i is Extract<typeof i, { message: unknown }> => !('marker' in i));
    const arrivals = items.map((i, n) => ({ at: Date.parse(i.at) + delay(), n, message: i.message })).sort((a, b) => a.at - b.at || a.n - b.n);
    let clock = TRIP_SCRIPT_START;
    const live = new LiveData({ now: () => clock });
    const trips = [];
    for (const a of arrivals) {
      clock = a.at;
      trips.push(...live.ingest(a.message, '').trips);
    }
    clock += 3 * 3_600_000;
    for (const u of live.settle()) trips.push(...u.trips);
    return trips;
  }

  // The trip's id is fixed when it starts; a late ignition can move `startedAt` of the finish earlier, never the id.
  const figures = (e) => Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'tripId' && k !== 'at'));

  for (const name of ['commute', 'tunnel', 'stop', 'phev', 'restart']) {
    it(`${name}: every message late by 0 to 5 minutes, 200 times: one trip each time, its figures exact`, () => {
      const [expected] = replay(name).trips.filter((e) => e.kind === 'trip-finished');
      const next = seeded(20261127);
      let exact = 0;
      for (let run = 0; run < 200; run += 1) {
        const trips = delayed(name, () => Math.floor(next() * 5 * 60_000));
        assert.deepStrictEqual(
          trips.map((e) => e.kind),
          ['trip-started', 'trip-finished'],
          `run ${run}: one trip`,
        );
        assert.strictEqual(trips[1].tripId, trips[0].tripId, `run ${run}: one id`);
        if (JSON.stringify(figures(trips[1])) === JSON.stringify(figures(expected))) exact += 1;
      }
      assert.ok(exact >= 190, `${exact} of 200 exact`);
    });
  }
});

describe('Trips: the logbook', () => {
  it('one flat row per finished trip, times in the zone named, unknown values empty, purpose left for the user; as CSV', () => {
    const events = [...replay('commute').trips, ...replay('phev').trips];
    const rows = tripLogbookRows(events, { timeZone: 'Europe/Berlin' });
    assert.strictEqual(rows.length, 2);
    assert.deepStrictEqual(rows[0], {
      start: '2026-11-27T07:30:20+01:00',
      end: '2026-11-27T07:47:20+01:00',
      timeZone: 'Europe/Berlin',
      startOdometerKm: 23418,
      endOdometerKm: 23424,
      distanceKm: 6,
      purpose: '',
      startLatitude: HOME.lat,
      startLongitude: HOME.lon,
      endLatitude: WORK.lat,
      endLongitude: WORK.lon,
      durationMinutes: 17,
      averageSpeedKmh: 21.2,
      stops: 0,
      startSoc: 80,
      endSoc: 78,
      socUsed: 2,
      energyUsedKwh: 1.61,
      energyUsedEstimate: true,
      fuelUnit: '',
      startFuel: null,
      endFuel: null,
      fuelUsed: null,
      missing: '',
      vin: BEV,
      tripId: tid(BEV, 20),
    });
    assert.deepStrictEqual([rows[1].fuelUnit, rows[1].fuelUsed, rows[1].energyUsedEstimate, rows[1].stops], ['l', 2.7, false, 1]);
    const csv = toCsv(rows).split('\r\n');
    assert.strictEqual(
      csv[0],
      'start,end,timeZone,startOdometerKm,endOdometerKm,distanceKm,purpose,startLatitude,startLongitude,endLatitude,endLongitude,durationMinutes,averageSpeedKmh,stops,startSoc,endSoc,socUsed,energyUsedKwh,energyUsedEstimate,fuelUnit,startFuel,endFuel,fuelUsed,missing,vin,tripId',
    );
    assert.strictEqual(
      csv[1],
      `2026-11-27T07:30:20+01:00,2026-11-27T07:47:20+01:00,Europe/Berlin,23418,23424,6,,48.16402,11.57118,48.18322,11.56945,17,21.2,0,80,78,2,1.61,true,,,,,,${BEV},${tid(BEV, 20)}`,
    );
    assert.deepStrictEqual(
      tripLogbookRows(events).map((r) => [r.start, r.timeZone]),
      [
        ['2026-11-27T06:30:20Z', 'UTC'],
        ['2026-11-27T06:30:00Z', 'UTC'],
      ],
    );
    assert.throws(() => tripLogbookRows(events, { timeZone: 'Europe/Berln' }), /Unknown time zone/);
  });
});

describe('Trips: scripts replayed through the simulated stream', function () {
  this.timeout(60000);

  it('every script gives the same trips over MQTT (core client, reconnecting after the drop) as fed directly', async () => {
    let live;
    let clock = TRIP_SCRIPT_START;
    const now = () => clock;
    const trips = [];
    await replayScriptsOverMqtt({
      names: Object.keys(TRIP_SCRIPTS),
      play: playTripScript,
      messagesOf: (name) => replay(name).updates.length,
      host: {
        start: () => {
          clock = TRIP_SCRIPT_START;
          live = new LiveData({ now });
          trips.length = 0;
        },
        restart: () => (live = new LiveData({ state: JSON.parse(JSON.stringify(live.serialize())), now })),
        message: (m) => {
          // The host's clock follows the car's, as in the direct replay.
          clock = Math.max(clock, Date.parse(m.raw.timestamp));
          trips.push(...live.ingest(m.raw, m.topic).trips);
        },
        check: (name) => {
          clock += 24 * 3_600_000;
          for (const u of live.settle()) trips.push(...u.trips);
          assert.deepStrictEqual(trips, replay(name).trips, name);
        },
      },
    });
  });
});

describe("Trips: the sandboxes' stream story", () => {
  it("every round of the scenarios gives one trip, finished with the tracker's rules: the commute, then the way home with a stop", async () => {
    let clock = Date.parse('2026-12-01T07:00:00Z');
    const waiting = [];
    const timers = {
      setTimeout: (fn, ms) => {
        const t = { at: clock + ms, fn };
        waiting.push(t);
        return t;
      },
      clearTimeout: (t) => waiting.includes(t) && waiting.splice(waiting.indexOf(t), 1),
    };
    const seen = [];
    const feed = createLiveFeed({ now: () => clock, timers, onTripEvent: (e) => seen.push({ ...e, seenAt: clock }) });
    /** The host's clock moves on to `to`, the feed's timers firing on the way. */
    const advance = async (to) => {
      for (;;) {
        waiting.sort((a, b) => a.at - b.at);
        if (!waiting[0] || waiting[0].at > to) break;
        const t = waiting.shift();
        clock = Math.max(clock, t.at);
        t.fn();
        await feed.flush();
      }
      clock = to;
    };
    // As the simulator plays them (broker.ts, scenario-loop.ts): a step per interval, an interval between scenarios.
    const car = initialCarState();
    for (let round = 0; round < 3; round += 1) {
      for (const name of SCENARIO_NAMES) {
        const steps = scenarioSteps(name, car);
        for (let k = 0; k < steps.length; k += 1) {
          if (k > 0) await advance(clock + STREAM_INTERVAL_MS);
          if (Object.keys(steps[k]).length === 0) continue;
          const at = new Date(clock).toISOString();
          const data = Object.fromEntries(Object.entries(steps[k]).map(([d, value]) => [d, { value, timestamp: at, unit: null }]));
          const raw = { vin: BEV, entityId: `e${clock}`, topic: BEV, timestamp: at, data };
          await feed.push(streamed(raw));
        }
        await advance(clock + STREAM_INTERVAL_MS);
      }
    }
    await advance(clock + 3_600_000);
    assert.deepStrictEqual(
      seen.map((e) => e.kind),
      ['trip-started', 'trip-finished', 'trip-started', 'trip-finished', 'trip-started', 'trip-finished'],
    );
    const finished = seen.filter((e) => e.kind === 'trip-finished');
    assert.deepStrictEqual(
      finished.map((f) => [f.startOdometerKm, f.distanceKm, f.stops, f.startPosition, f.endPosition, f.endedBy, f.energyUsed?.estimate, f.missing]),
      [
        [23418, 4, 0, HOME, WORK, 'ignition-off', true, []],
        [23422, 6, 1, WORK, HOME, 'ignition-off', true, []],
        [23428, 4, 0, HOME, WORK, 'ignition-off', true, []],
      ],
    );
    for (const f of finished) {
      // At town speed, as a commute is driven (stops and the minutes before moving off included).
      assert.ok(f.socUsed > 0 && f.averageSpeedKmh > 20 && f.averageSpeedKmh < 50 && f.energyUsed.kwh > 0, JSON.stringify(f));
      const next = seen.find((e) => e.kind === 'trip-started' && e.seenAt > Date.parse(f.endedAt));
      // Each finish goes out before the next drive, or with it: the pause is over by then.
      if (next) assert.ok(f.seenAt <= next.seenAt && Date.parse(next.at) - Date.parse(f.endedAt) > TRIP_PAUSE_MS, JSON.stringify([f.endedAt, next.at]));
    }
  });
});
