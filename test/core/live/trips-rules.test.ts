// The trip tracker's rules one by one, each on a small hand-written timeline: how flags and numbers are read, when
// a position is motion, where a trip starts and ends, the figures of the finish (slack, refuels, energy, missing),
// the settle clock and what the tracker keeps while parked. Fed through trackTrips / settleTrips as LiveData does.
import assert from 'assert';
import * as core from '../../../src/node';
import type {
  EnergyUsed,
  StateScalar,
  StateValue,
  StreamRawMessage,
  TrackedReading,
  TripEvent,
  TripFinishedEvent,
  TripStartedEvent,
  TripTrackOptions,
} from '../../../src/node';
import { IGNITION, ENGINE_ACTIVE as ENGINE, MOVING, SPEED, ODOMETER as ODO, LAT, LON, SOC } from '../../../src/simulator/descriptor-names';
import { SOC_DISPLAYED as SOC2, ENERGY as CONTENT, BATTERY as SIZE, FUEL as LITRES, FUEL_LEVEL as LEVEL } from '../../../src/simulator/descriptor-names';

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
const MIN = 60;
const DUE = (TRIP_PAUSE_MS + FINISH_SETTLE_MS) / 1000;

const START = Date.parse('2026-03-02T08:00:00.000Z');
const ms = (s: number) => START + s * 1000;
const T = (s: number) => new Date(ms(s)).toISOString();

/** Readings of one moment as a test writes them: descriptor -> value. */
type Data = Record<string, StateScalar>;

/** The first event of `events`, which must be a finished trip. */
function firstFinished(events: readonly TripEvent[]): TripFinishedEvent {
  const [e] = events;
  assert.ok(e?.kind === 'trip-finished', `expected a finished trip first, got ${e?.kind ?? 'no event'}`);
  return e;
}

/** The first event of `events`, which must be a started trip. */
function firstStarted(events: readonly TripEvent[]): TripStartedEvent {
  const [e] = events;
  assert.ok(e?.kind === 'trip-started', `expected a started trip first, got ${e?.kind ?? 'no event'}`);
  return e;
}

/** Each event as [kind, its time]: the start of a started trip, the end of a finished one. */
const kindsOf = (events: readonly TripEvent[]) => events.map((e) => [e.kind, e.kind === 'trip-started' ? e.at : e.endedAt]);

/**
 * One car's trip tracker fed reading by reading, as LiveData feeds it: `values` holds the latest value of each
 * descriptor (the battery size, the fuel unit and the drivetrain are read from there), the clock follows the readings.
 */
function tracker(opts: TripTrackOptions = {}) {
  const state = initialTripState();
  const values: Record<string, StateValue> = {};
  const events: TripEvent[] = [];
  let now = START;
  const t = {
    state,
    values,
    events,
    /** Readings `data` (descriptor: value) measured `s` seconds after START; `units` by descriptor. */
    feed(s: number, data: Data, units: Record<string, string> = {}) {
      now = Math.max(now, ms(s));
      const readings: TrackedReading[] = Object.entries(data).map(([descriptor, value]) => ({
        descriptor,
        value,
        unit: units[descriptor] ?? null,
        time: ms(s),
      }));
      for (const r of readings) {
        const held = values[r.descriptor];
        if (!held || Date.parse(held.timestamp) <= r.time) values[r.descriptor] = { value: r.value, unit: r.unit, timestamp: new Date(r.time).toISOString() };
      }
      const out = trackTrips(VIN, state, values, readings, { now, ...opts });
      events.push(...out);
      return out;
    },
    /** The host's timer at `s` seconds after START. */
    settle(s: number) {
      now = ms(s);
      const out = settleTrips(VIN, state, values, { now, ...opts });
      events.push(...out);
      return out;
    },
    kinds: () => kindsOf(events),
    finish: () => events.find((e) => e.kind === 'trip-finished'),
  };
  return t;
}

/** A short drive with the ignition: on at 0, moving from 10 s, odometer 100 -> 105, off at 5 min. */
function shortDrive(t: ReturnType<typeof tracker>, extra: { start?: Data; end?: Data } = {}) {
  t.feed(0, { [IGNITION]: true, [ODO]: 100, ...(extra.start ?? {}) });
  t.feed(10, { [MOVING]: true });
  t.feed(5 * MIN, { [ODO]: 105, [MOVING]: false, ...(extra.end ?? {}) });
  t.feed(5 * MIN + 10, { [IGNITION]: false });
  t.settle(5 * MIN + 10 + DUE);
  return t.finish();
}

describe('Trip rules: reading the stream', () => {
  it('reads the descriptors it needs and no other', () => {
    assert.deepStrictEqual(
      [TRIP_DESCRIPTORS.ignition, TRIP_DESCRIPTORS.moving, TRIP_DESCRIPTORS.odometer, TRIP_DESCRIPTORS.fuel],
      [[IGNITION, ENGINE], MOVING, ODO, [LITRES, LEVEL]],
    );
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
    const f = firstFinished(t.settle(6 * MIN + 30 + DUE));
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
    assert.deepStrictEqual(
      [f.startOdometerKm, f.endOdometerKm, f.distanceKm, f.startSoc, f.endSoc, f.socUsed, f.endFuel],
      [100, 105.5, 5.5, 80, 79.5, 0.5, 0.5],
    );
    assert.deepStrictEqual(
      t.state.samples[ODO].map(([, v]) => v),
      [105.5],
    );
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

  it('the engine flag is the ignition only for a car that never sends isIgnitionOn; once that comes, it decides', () => {
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
    assert.deepStrictEqual(t.kinds(), [
      ['trip-started', T(0)],
      ['trip-finished', T(4 * MIN + 30)],
    ]);
    assert.strictEqual(t.finish().endedBy, 'ignition-off');
  });
});

/** Degrees of latitude for `m` metres (the tracker's sphere), and of longitude at latitude `lat`. */
const R = 6_371_000;
const latDeg = (m: number) => (m / R) * (180 / Math.PI);
const lonDeg = (m: number, lat: number) => latDeg(m) / Math.cos((lat * Math.PI) / 180);
const LAT0 = 48.1;
const LON0 = 11.5;

describe('Trip rules: when a position is motion', () => {
  it(`a car that streams only its position: a fix more than ${TRIP_MOVE_METRES} m from the one before is motion, GPS jitter is none`, () => {
    const t = tracker();
    const at = (dLat: number, dLon: number) => ({ [LAT]: LAT0 + latDeg(dLat), [LON]: LON0 + lonDeg(dLon, LAT0) });
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
    const f = firstFinished(t.settle(7 * MIN + DUE));
    assert.deepStrictEqual([f.startedAt, f.endedAt, f.endedBy, f.stops, f.startObserved], [T(4 * MIN), T(7 * MIN), 'no-motion', 0, true]);
    assert.deepStrictEqual(f.startPosition, { lat: LAT0 + latDeg(97), lon: LON0 });
    assert.deepStrictEqual(f.endPosition, { lat: LAT0 + latDeg(268.5), lon: LON0 + lonDeg(285, LAT0) });
  });

  it('a diagonal move of more than 100 m whose steps north and east are each shorter is motion', () => {
    const t = tracker();
    const at = (dLat: number, dLon: number) => ({ [LAT]: LAT0 + latDeg(dLat), [LON]: LON0 + lonDeg(dLon, LAT0) });
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
    const f = firstFinished(t.settle(2 * MIN + DUE));
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

  it("the same, arriving late and out of order: the tracker decides from the readings' own times", () => {
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

describe('Trip rules: where a trip starts and ends', () => {
  it('the start is the ignition going on within the pause before the first motion, else the motion itself', () => {
    const near = tracker();
    near.feed(0, { [IGNITION]: true, [ODO]: 100 });
    near.feed(TRIP_PAUSE_MS / 1000, { [MOVING]: true });
    assert.deepStrictEqual(near.kinds(), [['trip-started', T(0)]]);
    const far = tracker();
    far.feed(0, { [IGNITION]: true, [ODO]: 100 });
    far.feed(TRIP_PAUSE_MS / 1000 + 1, { [MOVING]: true });
    assert.deepStrictEqual(far.kinds(), [['trip-started', T(TRIP_PAUSE_MS / 1000 + 1)]]);
  });

  it('the start is the first of several ignition-on readings in a row, not the latest', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: false, [ODO]: 100 });
    t.feed(MIN, { [IGNITION]: true });
    t.feed(2 * MIN, { [IGNITION]: true });
    t.feed(3 * MIN, { [IGNITION]: true });
    t.feed(4 * MIN, { [MOVING]: true });
    assert.deepStrictEqual(t.kinds(), [['trip-started', T(MIN)]]);
  });

  it("the ignition on before the last trip's end is not the start of the next", () => {
    const t = tracker({ pauseMs: 5 * MIN * 1000 });
    t.feed(0, { [IGNITION]: true, [ODO]: 100 });
    t.feed(10, { [MOVING]: true });
    t.feed(MIN, { [MOVING]: false, [IGNITION]: false, [ODO]: 101 });
    t.settle(MIN + 5 * MIN + FINISH_SETTLE_MS / 1000);
    assert.deepStrictEqual(t.kinds(), [
      ['trip-started', T(0)],
      ['trip-finished', T(MIN)],
    ]);
    // Moving again without an ignition-on reading since: the new trip starts at its motion.
    t.feed(12 * MIN, { [MOVING]: true });
    assert.deepStrictEqual(t.kinds().slice(2), [['trip-started', T(12 * MIN)]]);
  });

  it(`motion exactly the pause after the end is a stop; a second later it is the next trip`, () => {
    const within = tracker();
    within.feed(0, { [IGNITION]: true, [ODO]: 100 });
    within.feed(10, { [MOVING]: true });
    within.feed(MIN, { [IGNITION]: false, [ODO]: 101 });
    within.feed(MIN + TRIP_PAUSE_MS / 1000, { [MOVING]: true, [IGNITION]: true });
    within.feed(20 * MIN, { [IGNITION]: false, [ODO]: 109 });
    within.settle(20 * MIN + DUE);
    assert.deepStrictEqual(within.kinds(), [
      ['trip-started', T(0)],
      ['trip-finished', T(20 * MIN)],
    ]);
    assert.deepStrictEqual([within.finish().stops, within.finish().distanceKm], [1, 9]);

    const after = tracker();
    after.feed(0, { [IGNITION]: true, [ODO]: 100 });
    after.feed(10, { [MOVING]: true });
    after.feed(MIN, { [IGNITION]: false, [ODO]: 101 });
    // The next drive shows the pause is over: the first trip finishes with it, before the settle window.
    const out = after.feed(MIN + TRIP_PAUSE_MS / 1000 + 1, { [MOVING]: true, [IGNITION]: true });
    assert.deepStrictEqual(kindsOf(out), [
      ['trip-finished', T(MIN)],
      ['trip-started', T(MIN + TRIP_PAUSE_MS / 1000 + 1)],
    ]);
    const first = firstFinished(out);
    assert.deepStrictEqual([first.stops, first.distanceKm, first.durationSeconds], [0, 1, 60]);
  });

  it('a morning delivered in one message (BMW held it back): each trip in turn, finished before the next starts', () => {
    const t = tracker();
    const readings = (
      [
        [0, IGNITION, true],
        [0, ODO, 100],
        [10, MOVING, true],
        [5 * MIN, ODO, 105],
        [5 * MIN, IGNITION, false],
        [30 * MIN, IGNITION, true],
        [31 * MIN, MOVING, true],
        [40 * MIN, ODO, 112],
        [40 * MIN, IGNITION, false],
      ] satisfies Array<[number, string, StateScalar]>
    ).map(([s, descriptor, value]): TrackedReading => ({ descriptor, value, unit: null, time: ms(s) }));
    for (const r of readings) t.values[r.descriptor] = { value: r.value, unit: null, timestamp: new Date(r.time).toISOString() };
    const kinds = (out: TripEvent[]) => out.map((e) => (e.kind === 'trip-started' ? [e.kind, e.at, e.odometerKm] : [e.kind, e.endedAt, e.distanceKm]));
    const out = trackTrips(VIN, t.state, t.values, readings, { now: ms(40 * MIN + DUE) });
    assert.deepStrictEqual(kinds(out), [
      ['trip-started', T(0), 100],
      ['trip-finished', T(5 * MIN), 5],
      ['trip-started', T(30 * MIN), 105],
      ['trip-finished', T(40 * MIN), 7],
    ]);
    assert.deepStrictEqual([t.state.driving, t.state.trip, t.state.lastEndedAt], [false, null, T(40 * MIN)]);
    // Delivered a second before the second finish is due: that one waits.
    const early = tracker();
    assert.deepStrictEqual(kinds(trackTrips(VIN, early.state, t.values, readings, { now: ms(40 * MIN + DUE - 1) })).length, 3);
    assert.deepStrictEqual([early.state.driving, early.state.lastEndedAt, early.state.trip.endMs], [true, T(5 * MIN), ms(40 * MIN)]);
  });

  it('a car with the motion flag but no ignition: a stand still is a stop, "not moving" the end; repeated "not moving" does not move it', () => {
    const t = tracker();
    t.feed(0, { [MOVING]: true, [ODO]: 10 });
    t.feed(2 * MIN, { [MOVING]: false });
    t.feed(3 * MIN, { [MOVING]: false });
    t.feed(4 * MIN, { [MOVING]: true });
    t.feed(6 * MIN, { [MOVING]: false, [ODO]: 14 });
    t.feed(7 * MIN, { [MOVING]: false });
    // While the car says it is not moving, an odometer tick is no motion (the flag stands in for the ignition).
    t.feed(8 * MIN, { [ODO]: 15 });
    t.feed(9 * MIN, { [MOVING]: false });
    assert.deepStrictEqual(t.settle(6 * MIN + DUE - 1), []);
    const f = firstFinished(t.settle(6 * MIN + DUE));
    assert.deepStrictEqual([f.startedAt, f.endedAt, f.endedBy, f.stops, f.distanceKm], [T(0), T(6 * MIN), 'stopped', 1, 4]);
  });

  it('a car with the motion flag: an odometer tick while it is moving or not yet known is motion', () => {
    const t = tracker();
    t.feed(0, { [ODO]: 10 });
    t.feed(MIN, { [ODO]: 11 });
    assert.deepStrictEqual(t.kinds(), [['trip-started', T(MIN)]]);
    t.feed(2 * MIN, { [MOVING]: true });
    t.feed(3 * MIN, { [ODO]: 12 });
    t.feed(4 * MIN, { [MOVING]: false });
    const f = firstFinished(t.settle(4 * MIN + DUE));
    assert.deepStrictEqual([f.startedAt, f.endedAt, f.endedBy, f.distanceKm, f.startObserved], [T(MIN), T(4 * MIN), 'stopped', 2, true]);
  });

  it('a position-only car counts no stops: its pauses are only gaps between fixes', () => {
    const t = tracker();
    const at = (m: number) => ({ [LAT]: LAT0 + latDeg(m), [LON]: LON0 });
    t.feed(0, at(0));
    t.feed(MIN, at(200));
    t.feed(6 * MIN, at(400));
    t.feed(12 * MIN, at(600));
    const f = firstFinished(t.settle(12 * MIN + DUE));
    assert.deepStrictEqual([f.startedAt, f.endedAt, f.endedBy, f.stops], [T(MIN), T(12 * MIN), 'no-motion', 0]);
  });

  it('a trip without an end signal finishes at its last motion exactly an hour and the settle window after it', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: 100 });
    t.feed(10, { [MOVING]: true });
    t.feed(20 * MIN, { [ODO]: 120 });
    // A figure after the last motion moves nothing.
    t.feed(30 * MIN, { [SOC]: 50 });
    const due = 20 * MIN + (TRIP_SILENCE_MS + FINISH_SETTLE_MS) / 1000;
    assert.strictEqual(tripDueAt(t.state), ms(due));
    assert.strictEqual(tripDueAt(t.state, { settleMs: 0 }), ms(20 * MIN + TRIP_SILENCE_MS / 1000));
    assert.deepStrictEqual(t.settle(due - 1), []);
    const f = firstFinished(t.settle(due));
    assert.deepStrictEqual([f.endedAt, f.endedBy, f.distanceKm, f.durationSeconds], [T(20 * MIN), 'silence', 20, 20 * MIN]);
    assert.deepStrictEqual([tripDueAt(t.state), t.state.driving, t.state.trip], [undefined, false, null]);
  });

  it('the finish is due the pause and the settle window after the end, with the pause and window the host chose', () => {
    const t = tracker({ pauseMs: 2 * MIN * 1000, settleMs: 30_000 });
    t.feed(0, { [IGNITION]: true, [ODO]: 100 });
    t.feed(10, { [MOVING]: true });
    assert.strictEqual(tripDueAt(t.state, { pauseMs: 2 * MIN * 1000, settleMs: 30_000 }), ms(10 + TRIP_SILENCE_MS / 1000 + 30));
    t.feed(5 * MIN, { [IGNITION]: false, [ODO]: 103 });
    assert.strictEqual(tripDueAt(t.state, { pauseMs: 2 * MIN * 1000, settleMs: 30_000 }), ms(7 * MIN + 30));
    assert.strictEqual(tripDueAt(t.state), ms(5 * MIN + DUE));
    // Three minutes standing is longer than this host's pause: the next motion is the next trip.
    assert.deepStrictEqual(t.settle(7 * MIN + 29), []);
    const f = firstFinished(t.settle(7 * MIN + 30));
    assert.deepStrictEqual([f.endedAt, f.distanceKm], [T(5 * MIN), 3]);
  });

  it('motion that arrived late after the finish was due moves the end: the finish waits for the new end', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: 100 });
    t.feed(10, { [MOVING]: true });
    for (let m = 1; m < 5; m += 1) t.feed(m * MIN, { [ODO]: 100 + m / 2 });
    t.feed(5 * MIN, { [IGNITION]: false, [ODO]: 103 });
    t.feed(8 * MIN, { [IGNITION]: true, [MOVING]: true });
    t.feed(9 * MIN, { [IGNITION]: false, [ODO]: 104 });
    assert.deepStrictEqual(t.settle(5 * MIN + DUE), []);
    assert.deepStrictEqual(t.settle(9 * MIN + DUE - 1), []);
    const f = firstFinished(t.settle(9 * MIN + DUE));
    assert.deepStrictEqual([f.endedAt, f.stops, f.startOdometerKm, f.distanceKm], [T(9 * MIN), 1, 100, 4]);
  });

  it("without the host's clock, the car's is used: the latest reading's time with the settle window passed", () => {
    const state = initialTripState();
    const values: Record<string, StateValue> = {};
    const feed = (s: number, data: Data) =>
      trackTrips(
        VIN,
        state,
        values,
        Object.entries(data).map(([descriptor, value]): TrackedReading => ({ descriptor, value, unit: null, time: ms(s) })),
      );
    feed(0, { [IGNITION]: true, [ODO]: 100 });
    assert.deepStrictEqual(
      feed(10, { [MOVING]: true }).map((e) => e.kind),
      ['trip-started'],
    );
    assert.deepStrictEqual(feed(5 * MIN, { [IGNITION]: false, [ODO]: 103 }), []);
    assert.deepStrictEqual(settleTrips(VIN, state, values), []);
    assert.deepStrictEqual(feed(5 * MIN + TRIP_PAUSE_MS / 1000 - 1, { [SOC]: 70 }), []);
    const out = feed(5 * MIN + TRIP_PAUSE_MS / 1000, { [SOC]: 70 });
    assert.deepStrictEqual(kindsOf(out), [['trip-finished', T(5 * MIN)]]);
    assert.deepStrictEqual(settleTrips(VIN, state, values), []);
  });
});

describe("Trip rules: the finish's figures", () => {
  it(`a first value up to ${TRIP_SLACK_MS / 1000} s after the start is the start value; a later one is not`, () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true });
    t.feed(10, { [MOVING]: true });
    t.feed(60, { [SOC]: 80, [ODO]: 200 });
    t.feed(61, { [LAT]: LAT0, [LON]: LON0 });
    t.feed(5 * MIN, { [SOC]: 78, [ODO]: 203, [LAT]: LAT0 + 0.01, [LON]: LON0 });
    t.feed(5 * MIN + 10, { [IGNITION]: false });
    // At the first motion nothing of the figures is known yet; the ignition before it shows the start was seen.
    assert.deepStrictEqual(t.events[0], {
      kind: 'trip-started',
      vin: VIN,
      at: T(0),
      tripId: `${VIN}/${T(0)}`,
      odometerKm: null,
      position: null,
      soc: null,
      startObserved: true,
    });
    t.settle(5 * MIN + 10 + DUE);
    const f = t.finish();
    assert.deepStrictEqual([f.startSoc, f.startOdometerKm, f.distanceKm, f.startPosition, f.endSoc, f.socUsed], [80, 200, 3, null, 78, 2]);
    assert.deepStrictEqual(f.missing, ['startPosition', 'energyUsed']);
  });

  it(`a value up to ${TRIP_SLACK_MS / 1000} s after the end is the end value; a later one is the next trip's`, () => {
    const within = tracker();
    within.feed(0, { [IGNITION]: true, [ODO]: 100, [SOC]: 80 });
    within.feed(10, { [MOVING]: true });
    within.feed(5 * MIN, { [ODO]: 105, [MOVING]: false });
    within.feed(5 * MIN + 10, { [IGNITION]: false });
    within.feed(5 * MIN + 10 + 60, { [SOC]: 77 });
    within.settle(5 * MIN + 10 + DUE);
    assert.deepStrictEqual([within.finish().endSoc, within.finish().socUsed], [77, 3]);

    const after = tracker();
    after.feed(0, { [IGNITION]: true, [ODO]: 100, [SOC]: 80 });
    after.feed(10, { [MOVING]: true });
    after.feed(4 * MIN, { [SOC]: 79 });
    after.feed(5 * MIN, { [ODO]: 105, [MOVING]: false });
    after.feed(5 * MIN + 10, { [IGNITION]: false });
    after.feed(5 * MIN + 10 + 61, { [SOC]: 77, [ODO]: 106 });
    after.settle(5 * MIN + 10 + DUE);
    assert.deepStrictEqual([after.finish().endSoc, after.finish().socUsed, after.finish().endOdometerKm], [79, 1, 105]);
  });

  it("the start values are those from before the first motion; a moved odometer at the first motion is the trip's own", () => {
    const t = tracker();
    t.feed(0, { [ODO]: 100, [SOC]: 60 });
    // No ignition before it: the trip starts at the motion, its start values read just before it.
    t.feed(MIN, { [MOVING]: true, [ODO]: 101, [SOC]: 59 });
    const started = firstStarted(t.events);
    assert.deepStrictEqual([started.at, started.odometerKm, started.soc, started.startObserved], [T(MIN), 100, 60, true]);
    t.feed(5 * MIN, { [MOVING]: false, [ODO]: 104 });
    t.settle(5 * MIN + DUE);
    const f = t.finish();
    assert.deepStrictEqual([f.startOdometerKm, f.distanceKm, f.startSoc, f.durationSeconds, f.averageSpeedKmh], [100, 4, 60, 4 * MIN, 60]);
  });

  it('distance and average speed over the whole trip, stops included; no distance when the odometer went back', () => {
    const t = tracker();
    const f = shortDrive(t, { start: { [ODO]: 100 }, end: { [ODO]: 112.345 } });
    // 12.345 km in 5 min 10 s: 12.3 km at 142.8 km/h.
    assert.deepStrictEqual([f.distanceKm, f.durationSeconds, f.averageSpeedKmh], [12.3, 310, 142.8]);
    const back = shortDrive(tracker(), { start: { [ODO]: 100 }, end: { [ODO]: 99 } });
    assert.deepStrictEqual([back.startOdometerKm, back.endOdometerKm, back.distanceKm, back.averageSpeedKmh], [100, 99, null, null]);
    assert.ok(back.missing.includes('distanceKm') && back.missing.includes('averageSpeedKmh'), back.missing.join());
    const still = shortDrive(tracker(), { start: { [ODO]: 100 }, end: { [ODO]: 100 } });
    assert.deepStrictEqual([still.distanceKm, still.averageSpeedKmh], [0, 0]);
  });

  it("energy: the battery's energy content when it agrees with state of charge x battery size within 1 kWh or 25 %, else the estimate", () => {
    const energy = (startKwh: number, endKwh: number, startSoc: number, endSoc: number, size: number | null = 80) => {
      const t = tracker();
      if (size !== null) t.values[SIZE] = { value: size, unit: 'kWh', timestamp: T(0) };
      return shortDrive(t, { start: { [CONTENT]: startKwh, [SOC]: startSoc }, end: { [CONTENT]: endKwh, [SOC]: endSoc } });
    };
    const measured = (kwh: number): EnergyUsed => ({ kwh, estimate: false, method: 'battery-energy-content' });
    const estimated = (kwh: number): EnergyUsed => ({ kwh, estimate: true, method: 'soc-x-battery-size' });
    // 2 % of 80 kWh = 1.6 kWh.
    assert.deepStrictEqual(energy(60, 58.5, 80, 78).energyUsed, measured(1.5));
    assert.deepStrictEqual(energy(60, 57.4, 80, 78).energyUsed, measured(2.6));
    assert.deepStrictEqual(energy(60, 57.3, 80, 78).energyUsed, estimated(1.6));
    assert.deepStrictEqual(energy(60, 59.4, 80, 78).energyUsed, measured(0.6));
    assert.deepStrictEqual(energy(60, 59.5, 80, 78).energyUsed, estimated(1.6));
    // 20 % of 80 kWh = 16 kWh: 25 % is 4 kWh.
    assert.deepStrictEqual(energy(60, 40, 80, 60).energyUsed, measured(20));
    assert.deepStrictEqual(energy(60, 39.9, 80, 60).energyUsed, estimated(16));
    assert.deepStrictEqual(energy(60, 48, 80, 60).energyUsed, measured(12));
    assert.deepStrictEqual(energy(60, 47.9, 80, 60).energyUsed, measured(12.1));
    assert.deepStrictEqual(energy(60, 48.1, 80, 60).energyUsed, estimated(16));
    // The content did not fall (charged on the way, or a reading of another scale): the estimate.
    assert.deepStrictEqual(energy(60, 60, 80, 78).energyUsed, estimated(1.6));
    assert.deepStrictEqual(energy(60, 61, 80, 78).energyUsed, estimated(1.6));
    // No battery size: the content alone, whatever it says; nothing when it did not fall.
    assert.deepStrictEqual(energy(60, 50, 80, 78, null).energyUsed, measured(10));
    assert.deepStrictEqual(energy(60, 60, 80, 78, null).energyUsed, null);
    assert.deepStrictEqual(energy(60, 50, 80, 78, 0).energyUsed, measured(10));
  });

  it('the estimate uses the second battery size descriptor when the first is missing, and a state of charge of either descriptor', () => {
    const t = tracker();
    t.values['vehicle.drivetrain.electricEngine.hvsMaxEnergyAbsolute'] = { value: 50, unit: 'kWh', timestamp: T(0) };
    const f = shortDrive(t, { start: { [SOC2]: 90.5 }, end: { [SOC2]: 80.25 } });
    assert.deepStrictEqual([f.startSoc, f.endSoc, f.socUsed, f.energyUsed], [90.5, 80.25, 10.25, { kwh: 5.13, estimate: true, method: 'soc-x-battery-size' }]);
    assert.deepStrictEqual(f.missing, ['startPosition', 'endPosition']);
  });

  it('fuel: litres in the unit the car sent, else the tank level in %; each refuel of more than 3 starts a new count', () => {
    const litres = tracker();
    litres.feed(0, { [IGNITION]: true, [ODO]: 100, [LITRES]: 40 }, { [LITRES]: 'L' });
    litres.feed(10, { [MOVING]: true });
    litres.feed(2 * MIN, { [LITRES]: 38 }, { [LITRES]: 'L' });
    // +3 is no refuel (a tank sloshing on a slope): it counts back.
    litres.feed(3 * MIN, { [LITRES]: 41 }, { [LITRES]: 'L' });
    litres.feed(4 * MIN, { [LITRES]: 39 }, { [LITRES]: 'L' });
    // +3.5 is a refuel.
    litres.feed(5 * MIN, { [LITRES]: 42.5 }, { [LITRES]: 'L' });
    litres.feed(6 * MIN, { [LITRES]: 42 }, { [LITRES]: 'L' });
    litres.feed(7 * MIN, { [IGNITION]: false, [ODO]: 104 });
    litres.settle(7 * MIN + DUE);
    const f = litres.finish();
    assert.deepStrictEqual([f.fuelUnit, f.startFuel, f.endFuel, f.fuelUsed], ['l', 40, 42, 1.5]);
    // A BEV's figures are not missing for a car that sends only fuel.
    assert.deepStrictEqual(f.missing, ['startPosition', 'endPosition']);

    const level = tracker();
    const g = shortDrive(level, { start: { [LEVEL]: 55 }, end: { [LEVEL]: 52 } });
    assert.deepStrictEqual([g.fuelUnit, g.startFuel, g.endFuel, g.fuelUsed], ['%', 55, 52, 3]);

    const unitless = tracker();
    const h = shortDrive(unitless, { start: { [LITRES]: 20 }, end: { [LITRES]: 19.25 } });
    assert.deepStrictEqual([h.fuelUnit, h.fuelUsed], ['l', 0.75]);
  });

  it('fuel readings before the start and after the end (and its slack) do not count; a refuel right after the end neither', () => {
    const t = tracker();
    t.feed(0, { [LITRES]: 50 });
    t.feed(MIN, { [LITRES]: 30 });
    t.feed(2 * MIN, { [IGNITION]: true, [ODO]: 100 });
    t.feed(2 * MIN + 10, { [MOVING]: true });
    t.feed(5 * MIN, { [LITRES]: 29 });
    t.feed(6 * MIN, { [IGNITION]: false, [ODO]: 104 });
    t.feed(6 * MIN + 30, { [LITRES]: 28.5 });
    t.feed(6 * MIN + 61, { [LITRES]: 60 });
    t.settle(6 * MIN + DUE);
    const f = t.finish();
    assert.deepStrictEqual([f.startFuel, f.endFuel, f.fuelUsed], [30, 28.5, 1.5]);
  });

  it('what is missing depends on what the car is: a car that sent nothing of a battery or a tank misses both', () => {
    const none = shortDrive(tracker());
    assert.deepStrictEqual(none.missing, [
      'startPosition',
      'endPosition',
      'startSoc',
      'endSoc',
      'socUsed',
      'energyUsed',
      'fuelUnit',
      'startFuel',
      'endFuel',
      'fuelUsed',
    ]);
    const combustion = tracker();
    combustion.values['vehicle.drivetrain.internalCombustionEngine.engine.ect'] = { value: 90, unit: 'C', timestamp: T(0) };
    assert.deepStrictEqual(shortDrive(combustion).missing, ['startPosition', 'endPosition', 'fuelUnit', 'startFuel', 'endFuel', 'fuelUsed']);
    for (const id of [
      'vehicle.drivetrain.electricEngine.charging.status',
      'vehicle.drivetrain.electricEngine.charging.hvStatus',
      'vehicle.body.chargingPort.status',
      SIZE,
      CONTENT,
    ]) {
      const bev = tracker();
      bev.values[id] = { value: id === SIZE || id === CONTENT ? 70 : 'x', unit: null, timestamp: T(0) };
      assert.deepStrictEqual(shortDrive(bev).missing, ['startPosition', 'endPosition', 'startSoc', 'endSoc', 'socUsed', 'energyUsed'], id);
    }
    const phev = tracker();
    phev.values[SOC] = { value: 50, unit: '%', timestamp: T(0) };
    phev.values[LEVEL] = { value: 50, unit: '%', timestamp: T(0) };
    assert.strictEqual(shortDrive(phev).missing.length, 10);
  });
});

describe('Trip rules: readings in the order they come', () => {
  for (const order of ['ignition first', 'odometer first']) {
    it(`the last odometer tick stamped with the ignition going off (${order}) is the end, not a stop`, () => {
      const t = tracker();
      t.feed(0, { [IGNITION]: true, [ODO]: 100 });
      t.feed(10, { [MOVING]: true });
      t.feed(MIN, { [ODO]: 101 });
      t.feed(5 * MIN, order === 'ignition first' ? { [IGNITION]: false, [ODO]: 105 } : { [ODO]: 105, [IGNITION]: false });
      t.settle(5 * MIN + DUE);
      const f = t.finish();
      assert.deepStrictEqual([f.endedAt, f.stops, f.distanceKm, f.endedBy], [T(5 * MIN), 0, 5, 'ignition-off']);
    });
  }

  it('motion seconds after the ignition went off is a stop, and the end moves to the next ignition off', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: 100 });
    t.feed(10, { [MOVING]: true });
    t.feed(5 * MIN, { [IGNITION]: false });
    t.feed(5 * MIN + 5, { [SPEED]: 5 });
    t.feed(6 * MIN, { [IGNITION]: false, [ODO]: 105 });
    t.settle(6 * MIN + DUE);
    const f = t.finish();
    assert.deepStrictEqual([f.endedAt, f.stops, f.distanceKm], [T(6 * MIN), 1, 5]);
  });

  it('the ignition on and off again without motion: the trip ended at the first off after the last motion', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: 100 });
    t.feed(10, { [MOVING]: true });
    t.feed(5 * MIN, { [IGNITION]: false, [ODO]: 105 });
    t.feed(7 * MIN, { [IGNITION]: true });
    t.feed(8 * MIN, { [IGNITION]: false });
    assert.deepStrictEqual(t.settle(5 * MIN + DUE - 1), []);
    const f = firstFinished(t.settle(5 * MIN + DUE));
    assert.deepStrictEqual([f.endedAt, f.stops, f.endedBy], [T(5 * MIN), 0, 'ignition-off']);
  });

  it('with the ignition on again, a fix that moved is a stop; while it stays off, one that moved is nothing', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: 100, [LAT]: LAT0, [LON]: LON0 });
    t.feed(10, { [MOVING]: true });
    t.feed(5 * MIN, { [IGNITION]: false, [ODO]: 105 });
    t.feed(6 * MIN, { [LAT]: LAT0 + latDeg(300), [LON]: LON0 });
    t.feed(7 * MIN, { [IGNITION]: true });
    t.feed(8 * MIN, { [LAT]: LAT0 + latDeg(300), [LON]: LON0 + lonDeg(50, LAT0) });
    assert.deepStrictEqual(t.settle(5 * MIN + DUE), []);
    t.feed(9 * MIN, { [LAT]: LAT0 + latDeg(500), [LON]: LON0 + lonDeg(50, LAT0) });
    t.feed(10 * MIN, { [IGNITION]: false, [ODO]: 106 });
    t.settle(10 * MIN + DUE);
    const f = t.finish();
    assert.deepStrictEqual([f.endedAt, f.stops, f.distanceKm, f.endPosition], [T(10 * MIN), 1, 6, { lat: LAT0 + latDeg(500), lon: LON0 + lonDeg(50, LAT0) }]);
  });

  it('an odometer reading that did not rise is no motion after the end; one that rose, with the ignition on again, is', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: 100 });
    t.feed(10, { [MOVING]: true });
    t.feed(5 * MIN, { [IGNITION]: false, [ODO]: 105 });
    t.feed(6 * MIN, { [IGNITION]: true });
    t.feed(7 * MIN, { [ODO]: 105 });
    assert.deepStrictEqual([t.state.trip.endMs, t.state.trip.lastMoveMs], [ms(5 * MIN), ms(5 * MIN)]);
    t.feed(8 * MIN, { [ODO]: 106 });
    t.feed(9 * MIN, { [IGNITION]: false });
    t.settle(9 * MIN + DUE);
    assert.deepStrictEqual([t.finish().endedAt, t.finish().stops, t.finish().distanceKm], [T(9 * MIN), 1, 6]);
  });

  it("a saved state restored mid-trip, with or without the latest reading's time, gives the same trip as one run through", () => {
    const steps: Array<[number, Data]> = [
      [0, { [IGNITION]: true, [ODO]: 100, [SOC]: 80 }],
      [10, { [MOVING]: true }],
      [3 * MIN, { [ODO]: 103, [LAT]: LAT0, [LON]: LON0 }],
      [4 * MIN, { [LAT]: LAT0 + latDeg(400), [LON]: LON0 }],
      [5 * MIN, { [IGNITION]: false, [ODO]: 105, [SOC]: 78 }],
      [6 * MIN, { [IGNITION]: true, [ODO]: 106 }],
      [9 * MIN, { [IGNITION]: false, [ODO]: 109, [SOC]: 77 }],
    ];
    const run = (restart: { at?: number; dropLatest?: boolean }) => {
      let clock = START;
      let live = new LiveData({ now: () => clock });
      const trips: TripEvent[] = [];
      steps.forEach(([s, data], i) => {
        if (i === restart.at) {
          const state = live.serialize();
          if (restart.dropLatest) for (const r of Object.values(state.vehicles)) delete r.trips.trip.latestMs;
          live = new LiveData({ state, now: () => clock });
        }
        clock = ms(s);
        const message: StreamRawMessage = {
          vin: VIN,
          data: Object.fromEntries(Object.entries(data).map(([k, value]) => [k, { value, unit: null, timestamp: T(s) }])),
        };
        trips.push(...live.ingest(message).trips);
      });
      clock = ms(9 * MIN + DUE);
      for (const u of live.settle()) trips.push(...u.trips);
      return trips;
    };
    const straight = run({});
    assert.deepStrictEqual(
      straight.map((e) => (e.kind === 'trip-finished' ? [e.kind, e.endedAt, e.stops, e.distanceKm] : [e.kind, e.at, null, null])),
      [
        ['trip-started', T(0), null, null],
        ['trip-finished', T(9 * MIN), 1, 9],
      ],
    );
    for (let at = 2; at < steps.length; at += 1) {
      assert.deepStrictEqual(run({ at }), straight, `restart before step ${at}`);
      assert.deepStrictEqual(run({ at, dropLatest: true }), straight, `restart before step ${at}, no latest time`);
    }
  });
});

describe('Trip rules: what the tracker keeps', () => {
  it('parked, only the latest four readings of each descriptor are kept', () => {
    const t = tracker();
    for (let i = 0; i < 10; i += 1) t.feed(i * MIN, { [SOC]: 90 - i, [IGNITION]: i % 2 === 0 });
    assert.deepStrictEqual(
      t.state.samples[SOC],
      [6, 7, 8, 9].map((i) => [ms(i * MIN), 90 - i]),
    );
    assert.deepStrictEqual(t.state.samples[IGNITION].length, 4);
    // A batch of several readings at once while parked keeps the latest four too.
    const readings = [10, 11, 12, 13, 14, 15].map((i): TrackedReading => ({ descriptor: SOC, value: 90 - i, unit: null, time: ms(i * MIN) }));
    trackTrips(VIN, t.state, t.values, readings, { now: ms(15 * MIN) });
    assert.deepStrictEqual(
      t.state.samples[SOC].map(([, v]) => v),
      [78, 77, 76, 75],
    );
  });

  it('after a trip, the readings before its end go but the last one before it (where the car stood)', () => {
    const t = tracker();
    for (let i = 0; i < 3; i += 1) t.feed(i, { [SOC]: 80 - i });
    shortDrive(t, { start: { [SOC]: 70 }, end: { [SOC]: 69 } });
    assert.deepStrictEqual(t.state.samples[SOC], [[ms(5 * MIN), 69]]);
    assert.deepStrictEqual(t.state.samples[IGNITION], [[ms(5 * MIN + 10), 0]]);
    assert.deepStrictEqual([t.state.driving, t.state.trip, t.state.lastEndedAt], [false, null, T(5 * MIN + 10)]);
  });

  it('a long trip keeps at most 1,000 readings of a descriptor, its first and last among them', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: 1000 });
    t.feed(1, { [MOVING]: true });
    for (let i = 1; i <= 1200; i += 1) t.feed(1 + i, { [ODO]: 1000 + i / 10 });
    assert.strictEqual(t.state.samples[ODO].length, 1000);
    assert.deepStrictEqual(
      [t.state.samples[ODO][0], t.state.samples[ODO][999]],
      [
        [ms(0), 1000],
        [ms(1201), 1120],
      ],
    );
    t.feed(1300, { [IGNITION]: false });
    t.settle(1300 + DUE);
    assert.deepStrictEqual([t.finish().startOdometerKm, t.finish().distanceKm], [1000, 120]);
  });

  it('trip ids and times are ISO 8601 in UTC to the millisecond, across leap days, centuries and before 1970', () => {
    for (const iso of [
      '2024-02-29T23:59:59.999Z',
      '2000-02-29T12:00:00.001Z',
      '2100-03-01T00:00:00.010Z',
      '1999-12-31T23:59:59.100Z',
      '2026-12-31T23:00:00.000Z',
      '2400-02-29T07:08:09.000Z',
      '2023-01-01T00:00:00.000Z',
      '1969-12-31T23:59:00.000Z',
    ]) {
      const at = Date.parse(iso);
      const state = initialTripState();
      const r = (s: number, descriptor: string, value: StateScalar): TrackedReading => ({ descriptor, value, unit: null, time: at + s * 1000 });
      const [e] = trackTrips(VIN, state, {}, [r(0, IGNITION, true), r(0, ODO, 1), r(1, MOVING, true)], { now: at + 1000 });
      assert.deepStrictEqual([e.at, e.tripId], [iso, `${VIN}/${iso}`]);
      const f = firstFinished(trackTrips(VIN, state, {}, [r(2, IGNITION, false), r(2, ODO, 2)], { now: at + 2000 + TRIP_PAUSE_MS + FINISH_SETTLE_MS }));
      assert.deepStrictEqual(
        [f.startedAt, f.endedAt, f.at, state.lastEndedAt],
        [iso, new Date(at + 2000).toISOString(), new Date(at + 2000).toISOString(), new Date(at + 2000).toISOString()],
      );
    }
  });
});

describe('Trip rules: when the finish is due, after every reading', () => {
  const E = (s: number) => ms(s) + TRIP_PAUSE_MS + FINISH_SETTLE_MS;
  const S = (s: number) => ms(s) + TRIP_SILENCE_MS + FINISH_SETTLE_MS;

  it('each motion moves it to an hour after, the ignition going off to the pause after; what is neither changes nothing', () => {
    const t = tracker();
    const steps: Array<[number, Data, number | undefined]> = [
      [0, { [IGNITION]: true, [ODO]: 100, [LAT]: LAT0, [LON]: LON0 }, undefined],
      [10, { [MOVING]: true }, S(10)],
      [60, { [ODO]: 101 }, S(60)],
      [90, { [ODO]: 101 }, S(60)],
      [120, { [LAT]: LAT0 + latDeg(150) }, S(120)],
      [150, { [LAT]: LAT0 + latDeg(200) }, S(120)],
      [160, { [LON]: LON0 + lonDeg(20, LAT0) }, S(120)],
      [180, { [SPEED]: 0 }, S(120)],
      // A car with the ignition: "not moving" ends nothing.
      [200, { [MOVING]: false }, S(120)],
      [240, { [SPEED]: 20 }, S(240)],
      [300, { [IGNITION]: false }, E(300)],
      [310, { [ODO]: 102, [LAT]: LAT0 + latDeg(900) }, E(300)],
      [320, { [IGNITION]: false }, E(300)],
      [330, { [ENGINE]: false }, E(300)],
      [400, { [IGNITION]: true }, E(300)],
      [430, { [ODO]: 103 }, S(430)],
      [500, { [IGNITION]: false }, E(500)],
      [530, { [ODO]: 104 }, E(500)],
      // The ignition comes on 30 s after the odometer ticked: that tick was motion.
      [560, { [IGNITION]: true }, S(530)],
      [570, { [MOVING]: true }, S(570)],
      // Motion stamped with the ignition going off comes first: the end stands.
      [600, { [IGNITION]: false, [SPEED]: 10 }, E(600)],
      [610, { [SPEED]: 0, [MOVING]: false }, E(600)],
    ];
    for (const [s, data, due] of steps) {
      t.feed(s, data);
      assert.strictEqual(tripDueAt(t.state), due, `after second ${s}`);
    }
    assert.deepStrictEqual(t.settle(600 + DUE - 1), []);
    const f = firstFinished(t.settle(600 + DUE));
    assert.deepStrictEqual([f.startedAt, f.endedAt, f.stops, f.distanceKm, f.endedBy], [T(0), T(600), 2, 4, 'ignition-off']);
  });

  it('the same readings fed to a tracker restored before each of them give the same due times and finish', () => {
    const steps: Array<[number, Data]> = [
      [0, { [IGNITION]: true, [ODO]: 100 }],
      [10, { [MOVING]: true }],
      [60, { [ODO]: 101 }],
      [300, { [IGNITION]: false }],
      [310, { [ODO]: 102 }],
      [400, { [IGNITION]: true }],
      [430, { [ODO]: 103 }],
      [500, { [IGNITION]: false }],
    ];
    const straight = tracker();
    const dues = steps.map(([s, data]) => {
      straight.feed(s, data);
      return tripDueAt(straight.state);
    });
    const restored = tracker();
    steps.forEach(([s, data], i) => {
      if (restored.state.trip) delete restored.state.trip.latestMs;
      restored.feed(s, data);
      assert.strictEqual(tripDueAt(restored.state), dues[i], `after second ${s}`);
    });
    assert.deepStrictEqual(dues.slice(1), [S(10), S(60), E(300), E(300), E(300), S(430), E(500)]);
  });

  it('an ignition off that arrives after a later motion reading is no end; one after the latest motion is', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: 100 });
    t.feed(10, { [MOVING]: true });
    t.feed(300, { [SPEED]: 30, [ODO]: 103 });
    t.feed(250, { [IGNITION]: false });
    assert.strictEqual(tripDueAt(t.state), S(300));
    t.feed(290, { [IGNITION]: true });
    assert.strictEqual(tripDueAt(t.state), S(300));
    t.feed(320, { [IGNITION]: false });
    assert.strictEqual(tripDueAt(t.state), E(320));
    t.feed(280, { [SPEED]: 30 });
    assert.strictEqual(tripDueAt(t.state), E(320));
    t.settle(320 + DUE);
    assert.deepStrictEqual([t.finish().endedAt, t.finish().stops], [T(320), 1]);
  });

  it('parked, every kind of motion opens a trip at once: the motion flag, a speed, the odometer, a position', () => {
    const open = (first: Data, second: Data) => {
      const t = tracker();
      t.feed(0, first);
      t.feed(60, second);
      return t.kinds();
    };
    assert.deepStrictEqual(open({ [IGNITION]: false }, { [MOVING]: true }), [['trip-started', T(60)]]);
    assert.deepStrictEqual(open({ [IGNITION]: false }, { [SPEED]: 5 }), [['trip-started', T(60)]]);
    assert.deepStrictEqual(open({ [ODO]: 5 }, { [ODO]: 6 }), [['trip-started', T(60)]]);
    assert.deepStrictEqual(open({ [ODO]: 5 }, { [ODO]: 5 }), []);
    assert.deepStrictEqual(open({ [LAT]: LAT0, [LON]: LON0 }, { [LON]: LON0 + lonDeg(150, LAT0) }), [['trip-started', T(60)]]);
    assert.deepStrictEqual(open({ [LAT]: LAT0, [LON]: LON0 }, { [LON]: LON0 + lonDeg(50, LAT0) }), []);
    // The ignition on is the start of the motion that follows.
    assert.deepStrictEqual(open({ [IGNITION]: true, [ODO]: 5 }, { [ODO]: 6 }), [['trip-started', T(0)]]);
    // Latitude and longitude of one fix in two messages: the position moved once.
    const t = tracker();
    t.feed(0, { [LAT]: LAT0, [LON]: LON0 });
    t.feed(30, { [LAT]: LAT0 + latDeg(60) });
    t.feed(31, { [LON]: LON0 + lonDeg(60, LAT0) });
    assert.deepStrictEqual(t.kinds(), []);
    t.feed(60, { [LAT]: LAT0 + latDeg(200) });
    assert.deepStrictEqual(t.kinds(), [['trip-started', T(60)]]);
  });
});

describe('Trip rules: figures at the edges', () => {
  it('with the ignition on before the first motion, the start values are those at the ignition, not just before the motion', () => {
    const t = tracker();
    t.feed(0, { [IGNITION]: true, [ODO]: 100, [SOC]: 80, [LAT]: LAT0, [LON]: LON0 });
    t.feed(30, { [SOC]: 79, [ODO]: 100.4 });
    t.feed(60, { [MOVING]: true });
    const started = firstStarted(t.events);
    assert.deepStrictEqual([started.at, started.soc, started.odometerKm, started.position], [T(0), 80, 100, { lat: LAT0, lon: LON0 }]);
    t.feed(5 * MIN, { [IGNITION]: false, [ODO]: 105, [SOC]: 77 });
    t.settle(5 * MIN + DUE);
    const f = t.finish();
    assert.deepStrictEqual([f.startSoc, f.socUsed, f.startOdometerKm, f.distanceKm], [80, 3, 100, 5]);
  });

  it('a trip of no time has no average speed', () => {
    const t = tracker();
    t.feed(0, { [ODO]: 100 });
    t.feed(60, { [IGNITION]: true, [SPEED]: 10, [ODO]: 101 });
    t.feed(60, { [IGNITION]: false });
    assert.deepStrictEqual(t.kinds(), [['trip-started', T(60)]]);
    const f = firstFinished(t.settle(60 + DUE));
    assert.deepStrictEqual([f.durationSeconds, f.distanceKm, f.averageSpeedKmh, f.missing.includes('averageSpeedKmh')], [0, 1, null, true]);
  });

  it('fuel: no start value, no fuel used; a reading exactly the slack after the end still counts', () => {
    const late = tracker();
    const f = shortDrive(late, { end: { [LITRES]: 30 } });
    assert.deepStrictEqual([f.fuelUnit, f.startFuel, f.endFuel, f.fuelUsed], ['l', null, 30, null]);
    assert.deepStrictEqual(f.missing, ['startPosition', 'endPosition', 'startFuel', 'fuelUsed']);

    const edge = tracker();
    edge.feed(0, { [IGNITION]: true, [ODO]: 100, [LITRES]: 40 });
    edge.feed(10, { [MOVING]: true });
    edge.feed(5 * MIN, { [IGNITION]: false, [ODO]: 105, [LITRES]: 39 });
    edge.feed(6 * MIN, { [LITRES]: 38.5 });
    edge.settle(5 * MIN + DUE);
    const g = edge.finish();
    assert.deepStrictEqual([g.startFuel, g.endFuel, g.fuelUsed], [40, 38.5, 1.5]);
  });
});
