'use strict';
// The trip tracker's rules one by one, each on a small hand-written timeline: how flags and numbers are read, when
// a position is motion, where a trip starts and ends, the figures of the finish (slack, refuels, energy, missing),
// the settle clock and what the tracker keeps while parked. Fed through trackTrips / settleTrips as LiveData does.
const assert = require('assert');
const core = require('../dist/src/node');

const {
  LiveData,
  trackTrips,
  settleTrips,
  tripDueAt,
  initialTripState,
  isTripDescriptor,
  TRIP_DESCRIPTORS,
  TRIP_PAUSE_MS,
  TRIP_SILENCE_MS,
  TRIP_SLACK_MS,
  TRIP_MOVE_METRES,
  FINISH_SETTLE_MS,
} = core;

const VIN = 'WBA00000000000001';
const IGNITION = 'vehicle.drivetrain.engine.isIgnitionOn';
const ENGINE = 'vehicle.drivetrain.engine.isActive';
const MOVING = 'vehicle.isMoving';
const SPEED = 'vehicle.vehicle.speedRange.lowerBound';
const ODO = 'vehicle.vehicle.travelledDistance';
const LAT = 'vehicle.cabin.infotainment.navigation.currentLocation.latitude';
const LON = 'vehicle.cabin.infotainment.navigation.currentLocation.longitude';
const SOC = 'vehicle.drivetrain.batteryManagement.header';
const SOC2 = 'vehicle.powertrain.electric.battery.stateOfCharge.displayed';
const CONTENT = 'vehicle.drivetrain.batteryManagement.maxEnergy';
const SIZE = 'vehicle.drivetrain.batteryManagement.batterySizeMax';
const LITRES = 'vehicle.drivetrain.fuelSystem.remainingFuel';
const LEVEL = 'vehicle.drivetrain.fuelSystem.level';
const MIN = 60;
const HOUR = 3600;
const DUE = (TRIP_PAUSE_MS + FINISH_SETTLE_MS) / 1000;

const START = Date.parse('2026-03-02T08:00:00.000Z');
const ms = (s) => START + s * 1000;
const T = (s) => new Date(ms(s)).toISOString();

/**
 * One car's trip tracker fed reading by reading, as LiveData feeds it: `values` holds the latest value of each
 * descriptor (the battery size, the fuel unit and the drivetrain are read from there), the clock follows the readings.
 */
function tracker(opts = {}) {
  const state = initialTripState();
  const values = {};
  const events = [];
  let now = START;
  const t = {
    state,
    values,
    events,
    /** Readings `data` (descriptor: value) measured `s` seconds after START; `units` by descriptor. */
    feed(s, data, units = {}) {
      now = Math.max(now, ms(s));
      const readings = Object.entries(data).map(([descriptor, value]) => ({ descriptor, value, unit: units[descriptor] ?? null, time: ms(s) }));
      for (const r of readings) {
        const held = values[r.descriptor];
        if (!held || Date.parse(held.timestamp) <= r.time) values[r.descriptor] = { value: r.value, unit: r.unit, timestamp: new Date(r.time).toISOString() };
      }
      const out = trackTrips(VIN, state, values, readings, { now, ...opts });
      events.push(...out);
      return out;
    },
    /** The host's timer at `s` seconds after START. */
    settle(s) {
      now = ms(s);
      const out = settleTrips(VIN, state, values, { now, ...opts });
      events.push(...out);
      return out;
    },
    kinds: () => events.map((e) => [e.kind, e.kind === 'trip-started' ? e.at : e.endedAt]),
    finish: () => events.find((e) => e.kind === 'trip-finished'),
  };
  return t;
}

/** A short drive with the ignition: on at 0, moving from 10 s, odometer 100 -> 105, off at 5 min. */
function shortDrive(t, extra = {}) {
  t.feed(0, { [IGNITION]: true, [ODO]: 100, ...(extra.start ?? {}) });
  t.feed(10, { [MOVING]: true });
  t.feed(5 * MIN, { [ODO]: 105, [MOVING]: false, ...(extra.end ?? {}) });
  t.feed(5 * MIN + 10, { [IGNITION]: false });
  t.settle(5 * MIN + 10 + DUE);
  return t.finish();
}

describe('Trip rules: reading the stream', () => {
  it('reads the descriptors it needs and no other', () => {
    for (const id of [IGNITION, ENGINE, MOVING, SPEED, ODO, LAT, LON, SOC, SOC2, CONTENT, LITRES, LEVEL]) assert.strictEqual(isTripDescriptor(id), true, id);
    for (const id of [SIZE, 'vehicle.body.chargingPort.status', 'vehicle.cabin.door.status', '']) assert.strictEqual(isTripDescriptor(id), false, id);
  });

  it('flags in every spelling BMW uses: true / false, ASN_isTrue / ASN_isFalse, text in any case; anything else is no flag', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: 'ASN_isTrue', [ODO]: 100 });
    t.feed(10, { [MOVING]: ' TRUE ' });
    assert.deepStrictEqual(t.kinds(), [['trip-started', T(0)]]);
    t.feed(2 * MIN, { [IGNITION]: 'maybe', [ODO]: 102 });
    t.feed(3 * MIN, { [IGNITION]: 7 });
    t.feed(4 * MIN, { [IGNITION]: 'ASN_isFalse' });
    t.feed(5 * MIN, { [IGNITION]: ' true' });
    t.feed(5 * MIN + 5, { [MOVING]: 'True' });
    t.feed(6 * MIN, { [MOVING]: 'False', [ODO]: 104 });
    t.feed(6 * MIN + 30, { [IGNITION]: 'FALSE ' });
    assert.deepStrictEqual(t.settle(6 * MIN + 30 + DUE - 1), []);
    const [f] = t.settle(6 * MIN + 30 + DUE);
    assert.deepStrictEqual([f.startedAt, f.endedAt, f.endedBy, f.stops, f.distanceKm], [T(0), T(6 * MIN + 30), 'ignition-off', 1, 4]);
  });

  it('a flag of another spelling ("yes", "1") starts nothing', () => {
    const t = tracker();
    t.feed(0, { [MOVING]: 'yes' });
    t.feed(10, { [MOVING]: '1' });
    t.feed(20, { [IGNITION]: 'on' });
    assert.deepStrictEqual([t.events, t.state.movingSeen, t.state.ignitionKey], [[], false, null]);
  });

  it('numbers sent as text are numbers ("+100", " 105.5 ", ".5"); text that is no plain number is left out', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: '+100', [SOC]: ' 80 ' });
    t.feed(10, { [MOVING]: true });
    t.feed(2 * MIN, { [ODO]: '1e3' });
    t.feed(3 * MIN, { [ODO]: '101.' });
    t.feed(4 * MIN, { [ODO]: 'far', [SOC]: 'low' });
    t.feed(5 * MIN, { [ODO]: ' 105.5 ', [SOC]: '79.5', [MOVING]: false });
    t.feed(5 * MIN + 10, { [IGNITION]: false, [LITRES]: '.5' });
    t.feed(6 * MIN, { [ODO]: Infinity, [SOC]: NaN });
    t.settle(5 * MIN + 10 + DUE);
    const f = t.finish();
    assert.deepStrictEqual([f.startOdometerKm, f.endOdometerKm, f.distanceKm, f.startSoc, f.endSoc, f.socUsed, f.endFuel], [100, 105.5, 5.5, 80, 79.5, 0.5, 0.5]);
    assert.deepStrictEqual(t.state.samples[ODO].map(([, v]) => v), [105.5]);
  });

  it('an odometer in miles is turned into km (the unit in any case), to the metre', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: 1000 }, { [ODO]: 'MI' });
    t.feed(10, { [MOVING]: true });
    t.feed(5 * MIN, { [ODO]: 1003.3333 }, { [ODO]: 'mi' });
    t.feed(5 * MIN + 10, { [IGNITION]: false });
    t.settle(5 * MIN + 10 + DUE);
    const f = t.finish();
    assert.deepStrictEqual([f.startOdometerKm, f.endOdometerKm, f.distanceKm], [1609.344, 1614.708, 5.4]);
  });

  it('a speed range whose lower bound is above 0 is motion; a lower bound of 0 is none', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: 100 });
    t.feed(10, { [SPEED]: 0 });
    assert.deepStrictEqual(t.events, []);
    t.feed(20, { [SPEED]: 10 });
    assert.deepStrictEqual(t.kinds(), [['trip-started', T(0)]]);
    // Motion after the ignition went off, within the pause: a stop.
    t.feed(2 * MIN, { [IGNITION]: false });
    t.feed(4 * MIN, { [SPEED]: 0 });
    t.feed(5 * MIN, { [SPEED]: 30 });
    t.feed(6 * MIN, { [IGNITION]: false, [ODO]: 103 });
    t.settle(6 * MIN + DUE);
    const f = t.finish();
    assert.deepStrictEqual([f.endedAt, f.stops, f.distanceKm], [T(6 * MIN), 1, 3]);
  });

  it("the engine flag is the ignition only for a car that never sends isIgnitionOn; once that comes, it decides", () => {
    const t = tracker();
    t.feed(0, { [ENGINE]: true, [ODO]: 100 });
    assert.strictEqual(t.state.ignitionKey, ENGINE);
    t.feed(10, { [MOVING]: true });
    t.feed(2 * MIN, { [IGNITION]: true });
    assert.strictEqual(t.state.ignitionKey, IGNITION);
    // A PHEV's engine stops mid-drive: it ends nothing now.
    t.feed(3 * MIN, { [ENGINE]: false, [ODO]: 103 });
    t.feed(3 * MIN + 10, { [ENGINE]: true });
    t.feed(4 * MIN, { [ENGINE]: false });
    assert.deepStrictEqual(t.settle(4 * MIN + DUE + 1), []);
    t.feed(8 * MIN, { [IGNITION]: false, [ODO]: 106 });
    t.settle(8 * MIN + DUE);
    const f = t.finish();
    assert.deepStrictEqual([f.endedAt, f.endedBy, f.distanceKm, f.stops], [T(8 * MIN), 'ignition-off', 6, 0]);
    assert.strictEqual(t.state.ignitionKey, IGNITION);
  });

  it('a car with only the engine flag: its going off ends the trip', () => {
    const t = tracker();
    t.feed(0, { [ENGINE]: 'ASN_isTrue', [ODO]: 100 });
    t.feed(60, { [ODO]: 101 });
    t.feed(4 * MIN, { [ODO]: 104 });
    t.feed(4 * MIN + 30, { [ENGINE]: 'ASN_isFalse' });
    t.settle(4 * MIN + 30 + DUE);
    assert.deepStrictEqual(t.kinds(), [['trip-started', T(0)], ['trip-finished', T(4 * MIN + 30)]]);
    assert.strictEqual(t.finish().endedBy, 'ignition-off');
  });
});

/** Degrees of latitude for `m` metres (the tracker's sphere), and of longitude at latitude `lat`. */
const R = 6_371_000;
const latDeg = (m) => (m / R) * (180 / Math.PI);
const lonDeg = (m, lat) => latDeg(m) / Math.cos((lat * Math.PI) / 180);
const LAT0 = 48.1;
const LON0 = 11.5;

describe('Trip rules: when a position is motion', () => {
  it(`a car that streams only its position: a fix more than ${TRIP_MOVE_METRES} m from the one before is motion, GPS jitter is none`, () => {
    const t = tracker();
    const at = (dLat, dLon) => ({ [LAT]: LAT0 + latDeg(dLat), [LON]: LON0 + lonDeg(dLon, LAT0) });
    t.feed(0, at(0, 0));
    t.feed(1 * MIN, at(99, 0));
    t.feed(2 * MIN, at(0, 0));
    // Along the meridian: 99 m then 2 m more is 101 m from the first fix, but each step is short.
    t.feed(3 * MIN, at(97, 0));
    assert.deepStrictEqual(t.events, []);
    t.feed(4 * MIN, at(198.5, 0));
    assert.deepStrictEqual(t.kinds(), [['trip-started', T(4 * MIN)]]);
    // Along the parallel: 90 m east is no motion, though the degrees of longitude alone span more than 100 m of arc at the equator.
    t.feed(5 * MIN, at(198.5, 90));
    // Diagonal: 70 m north and 70 m east is 99 m; the sum of the two is 140 m.
    t.feed(6 * MIN, at(268.5, 160));
    // 120 m east: motion, the last.
    t.feed(7 * MIN, at(268.5, 280));
    t.feed(8 * MIN, at(268.5, 285));
    assert.deepStrictEqual(t.settle(7 * MIN + DUE - 1), []);
    const [f] = t.settle(7 * MIN + DUE);
    assert.deepStrictEqual([f.startedAt, f.endedAt, f.endedBy, f.stops, f.startObserved], [T(4 * MIN), T(7 * MIN), 'no-motion', 0, true]);
    assert.deepStrictEqual(f.startPosition, { lat: LAT0 + latDeg(97), lon: LON0 });
    assert.deepStrictEqual(f.endPosition, { lat: LAT0 + latDeg(268.5), lon: LON0 + lonDeg(285, LAT0) });
  });

  it('a diagonal move of more than 100 m whose steps north and east are each shorter is motion', () => {
    const t = tracker();
    const at = (dLat, dLon) => ({ [LAT]: LAT0 + latDeg(dLat), [LON]: LON0 + lonDeg(dLon, LAT0) });
    t.feed(0, at(0, 0));
    t.feed(MIN, at(75, 75));
    assert.deepStrictEqual(t.kinds(), [['trip-started', T(MIN)]]);
  });

  it('latitude and longitude sent apart: the position is the latest of each, and a fix repeated is no motion', () => {
    const t = tracker();
    t.feed(0, { [LAT]: LAT0, [LON]: LON0 });
    t.feed(MIN, { [LAT]: LAT0 + latDeg(150) });
    assert.deepStrictEqual(t.kinds(), [['trip-started', T(MIN)]]);
    t.feed(MIN + 1, { [LON]: LON0 + lonDeg(50, LAT0) });
    t.feed(2 * MIN, { [LAT]: LAT0 + latDeg(300) });
    t.feed(3 * MIN, { [LAT]: LAT0 + latDeg(300), [LON]: LON0 + lonDeg(50, LAT0) });
    const [f] = t.settle(2 * MIN + DUE);
    assert.deepStrictEqual([f.endedAt, f.endPosition], [T(2 * MIN), { lat: LAT0 + latDeg(300), lon: LON0 + lonDeg(50, LAT0) }]);
  });

  it('with the ignition off, a later fix or odometer tick is no motion; within a minute before the ignition comes on it is', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: 100, [LAT]: LAT0, [LON]: LON0 });
    t.feed(10, { [MOVING]: true });
    t.feed(5 * MIN, { [ODO]: 104, [IGNITION]: false });
    // Parked: the last fix and tick of the drive arrive stamped after the ignition went off.
    t.feed(5 * MIN + 20, { [ODO]: 105, [LAT]: LAT0 + latDeg(500) });
    // Moved off again: the odometer ticked 30 s before the ignition came on.
    t.feed(12 * MIN, { [ODO]: 106 });
    t.feed(12 * MIN + 30, { [IGNITION]: true });
    t.feed(14 * MIN, { [IGNITION]: false, [ODO]: 107 });
    t.settle(14 * MIN + DUE);
    const f = t.finish();
    assert.deepStrictEqual([f.endedAt, f.stops, f.startOdometerKm, f.endOdometerKm], [T(14 * MIN), 1, 100, 107]);
  });

  it('an odometer tick more than a minute before the ignition comes on is no motion: the trip ended at the ignition off', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: 100 });
    t.feed(10, { [MOVING]: true });
    t.feed(5 * MIN, { [ODO]: 104, [IGNITION]: false });
    t.feed(12 * MIN, { [ODO]: 105 });
    t.feed(13 * MIN + 1, { [IGNITION]: true });
    t.feed(14 * MIN, { [IGNITION]: false });
    t.settle(14 * MIN + DUE);
    const f = t.finish();
    assert.deepStrictEqual([f.endedAt, f.stops, f.endOdometerKm], [T(5 * MIN), 0, 104]);
  });

  it('the same, arriving late and out of order: the tracker decides from the readings\' own times', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: 100 });
    t.feed(10, { [MOVING]: true });
    t.feed(14 * MIN, { [IGNITION]: false });
    t.feed(12 * MIN + 30, { [IGNITION]: true });
    t.feed(12 * MIN, { [ODO]: 106 });
    t.feed(5 * MIN, { [ODO]: 104, [IGNITION]: false });
    t.settle(14 * MIN + DUE);
    const f = t.finish();
    assert.deepStrictEqual([f.endedAt, f.stops, f.endOdometerKm], [T(14 * MIN), 1, 106]);
  });
});
