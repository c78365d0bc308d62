// The charging tracker's rules for readings that come late, out of order or in great numbers, and for states saved
// by earlier versions: which end signal ends a session, what a late reading does to the figures and the target, when
// the finish is due. Through LiveData, as hosts feed it, and trackCharging / settleCharging where the clock is the
// point.
import assert from 'assert';
import * as core from '../../../src/node';
import type {
  ChargingEvent,
  ChargingFinishedEvent,
  ChargingStartedEvent,
  LiveDataOptions,
  StateScalar,
  StateValue,
  StreamDataPoint,
  StreamRawMessage,
  TrackOptions,
} from '../../../src/node';

const { LiveData, trackCharging, settleCharging, settleDueAt, initialChargingState, CHARGING_DESCRIPTORS: D, FINISH_SETTLE_MS, SESSION_SLACK_MS } = core;

const VIN = 'WBA00000000000002';
const STATUS = D.status;
const HV = D.hvStatus;
const PORT = D.plug[0];
const ISPLUGGED = D.plug[D.plug.length - 1];
const SOC = D.soc[0];
const TARGET = D.targetSoc;
const POWER = D.power;
const CONTENT = D.energyContent;
const GRID = D.gridEnergy;
const SIZE = D.batterySize[0];
const MIN = 60;
const SETTLE = FINISH_SETTLE_MS / 1000;

const START = Date.parse('2026-05-04T18:00:00.000Z');
const ms = (s: number) => START + s * 1000;
const T = (s: number) => new Date(ms(s)).toISOString();
const SID = `${VIN}/${T(0)}`;

/** A reading as a test writes it: the value, or `[value, unit, second]` for another unit or time. */
type Sent = StateScalar | [StateScalar, string | null, number?];
/** The readings of one message: descriptor -> reading. */
type Data = Record<string, Sent>;

/** The event at `index` of `events`, which must be a finished charge. */
function finished(events: readonly ChargingEvent[], index = 0): ChargingFinishedEvent {
  const e = events[index];
  assert.ok(e?.kind === 'charging-finished', `expected a finished charge at ${index}, got ${e?.kind ?? 'no event'}`);
  return e;
}

/** The event at `index` of `events`, which must be a started charge. */
function started(events: readonly ChargingEvent[], index = 0): ChargingStartedEvent {
  const e = events[index];
  assert.ok(e?.kind === 'charging-started', `expected a started charge at ${index}, got ${e?.kind ?? 'no event'}`);
  return e;
}

/**
 * A car fed through LiveData. `send(s, data)` sends one message measured at second `s` (a value may be
 * `[value, unit, second]` for another unit or time) arriving at `arrive` (default `s`); the host's clock follows the
 * arrivals. `at(s)` is the host's timer at second `s`.
 */
function car(opts: LiveDataOptions = {}) {
  let clock = START - 3600_000;
  const live = new LiveData({ now: () => clock, ...opts });
  const events: ChargingEvent[] = [];
  const c = {
    live,
    events,
    send(s: number, data: Data, arrive = s) {
      clock = Math.max(clock, ms(arrive));
      const points: Record<string, StreamDataPoint> = {};
      for (const [id, v] of Object.entries(data)) {
        const [value, unit, at] = Array.isArray(v) ? v : [v, null, s];
        points[id] = { value, unit, timestamp: T(at ?? s) };
      }
      const message: StreamRawMessage = { vin: VIN, data: points };
      const out = live.ingest(message).events;
      events.push(...out);
      return out;
    },
    at(s: number) {
      clock = ms(s);
      const out = live.settle().flatMap((u) => u.events);
      events.push(...out);
      return out;
    },
    kinds: () => events.map((e) => [e.kind, e.at]),
    finish: () => events.find((e) => e.kind === 'charging-finished'),
  };
  return c;
}

/** Plugged in at -60 s, charging from 0 with the state of charge at 40 %. */
function charging(opts?: LiveDataOptions, extra: Data = {}) {
  const c = car(opts);
  c.send(-60, { [PORT]: 'CONNECTED', [SOC]: [40, '%'] });
  c.send(0, { [STATUS]: 'CHARGINGACTIVE', ...extra });
  return c;
}

describe('Charging rules: the end of a session, whatever order its signals came in', () => {
  it('an unplugging stamped before the end status that arrives after it ends the session there, and goes out behind the finish', () => {
    const c = charging();
    assert.deepStrictEqual(c.send(60 * MIN, { [STATUS]: 'CHARGINGENDED', [SOC]: [70, '%'] }), []);
    // It arrives after its own settle window: the finish goes out with it.
    const out = c.send(50 * MIN, { [PORT]: 'DISCONNECTED' }, 61 * MIN);
    assert.deepStrictEqual(
      out.map((e) => [e.kind, e.at]),
      [
        ['charging-finished', T(50 * MIN)],
        ['unplugged', T(50 * MIN)],
      ],
    );
    const f = finished(out);
    assert.deepStrictEqual([f.endedAt, f.endedBy, f.endStatus, f.durationSeconds, f.endSoc], [T(50 * MIN), 'unplugged', null, 50 * MIN, 40]);
    assert.deepStrictEqual(c.at(60 * MIN + SETTLE), []);
  });

  it('an unplugging stamped before the end that arrives within the window moves the end; the finish waits for its window', () => {
    const c = charging();
    c.send(60 * MIN, { [STATUS]: 'CHARGINGENDED' });
    c.send(58 * MIN, { [ISPLUGGED]: false }, 60 * MIN + 30);
    assert.strictEqual(c.live.nextSettleAt(), ms(58 * MIN + SETTLE));
    assert.deepStrictEqual(c.at(58 * MIN + SETTLE - 1), []);
    const f = finished(c.at(58 * MIN + SETTLE));
    assert.deepStrictEqual([f.kind, f.endedAt, f.endedBy, f.endStatus], ['charging-finished', T(58 * MIN), 'unplugged', null]);
  });

  it('an idle status stamped before the end that arrives after it ends the session there, with its status', () => {
    const c = charging();
    c.send(60 * MIN, { [PORT]: 'DISCONNECTED' });
    c.send(45 * MIN, { [STATUS]: 'NOCHARGING' }, 61 * MIN);
    const f = c.finish();
    assert.deepStrictEqual([f.endedAt, f.endedBy, f.endStatus], [T(45 * MIN), 'status', 'NOCHARGING']);
    assert.deepStrictEqual(c.kinds(), [
      ['plugged-in', T(-60)],
      ['charging-started', T(0)],
      ['charging-finished', T(45 * MIN)],
      ['unplugged', T(60 * MIN)],
    ]);
  });

  it('late readings that are no end signal (paused, charging, plugged, an unknown status) or lie before the start or after the end move nothing', () => {
    const c = charging();
    c.send(60 * MIN, { [STATUS]: 'CHARGINGENDED' });
    c.send(30 * MIN, { [STATUS]: 'CHARGINGPAUSED' }, 61 * MIN);
    c.send(31 * MIN, { [STATUS]: 'UNKNOWN' }, 61 * MIN);
    c.send(32 * MIN, { [PORT]: 'CONNECTED' }, 61 * MIN);
    c.send(33 * MIN, { [ISPLUGGED]: 'maybe' }, 61 * MIN);
    c.send(-30, { [ISPLUGGED]: false }, 62 * MIN);
    c.send(62 * MIN, { [ISPLUGGED]: false }, 62 * MIN);
    const f = c.at(60 * MIN + SETTLE).find((e) => e.kind === 'charging-finished');
    assert.deepStrictEqual([f.endedAt, f.endedBy, f.endStatus], [T(60 * MIN), 'status', 'CHARGINGENDED']);
  });

  it('a car that streams only hvStatus: a late FINISHED_NOT_FULL ends the session at its time', () => {
    const c = car();
    c.send(-60, { [PORT]: 'CONNECTED' });
    c.send(0, { [HV]: 'CHARGING' });
    c.send(60 * MIN, { [PORT]: 'DISCONNECTED' });
    c.send(40 * MIN, { [HV]: 'FINISHED_NOT_FULL' }, 60 * MIN + 1);
    c.at(60 * MIN + SETTLE);
    const f = c.finish();
    assert.deepStrictEqual([f.endedAt, f.endedBy, f.endStatus], [T(40 * MIN), 'status', 'FINISHED_NOT_FULL']);
  });

  it('a status or plug reading from before the start that arrives late shows the start was observed; a figure does not', () => {
    const seen = car();
    seen.send(0, { [STATUS]: 'CHARGINGACTIVE', [SOC]: [40, '%'] });
    assert.strictEqual(started(seen.events).startObserved, false);
    seen.send(-120, { [PORT]: 'CONNECTED' }, 10);
    seen.send(30 * MIN, { [STATUS]: 'CHARGINGENDED' });
    seen.at(30 * MIN + SETTLE);
    assert.strictEqual(seen.finish().startObserved, true);

    const status = car();
    status.send(0, { [STATUS]: 'CHARGINGACTIVE' });
    status.send(-120, { [STATUS]: 'NOCHARGING' }, 10);
    status.send(30 * MIN, { [STATUS]: 'CHARGINGENDED' });
    status.at(30 * MIN + SETTLE);
    assert.strictEqual(status.finish().startObserved, true);

    const unseen = car();
    unseen.send(0, { [STATUS]: 'CHARGINGACTIVE' });
    unseen.send(-120, { [SOC]: [39, '%'], [TARGET]: [80, '%'] }, 10);
    unseen.send(30 * MIN, { [STATUS]: 'CHARGINGENDED' });
    unseen.at(30 * MIN + SETTLE);
    assert.strictEqual(unseen.finish().startObserved, false);
  });
});

describe("Charging rules: a session's figures from readings by their own times", () => {
  it('a state of charge reaching the target that arrives after the end: target-reached at its time, before the finish', () => {
    const c = charging(undefined, { [TARGET]: [80, '%'] });
    c.send(60 * MIN, { [STATUS]: 'CHARGINGENDED' });
    c.send(55 * MIN, { [SOC]: [80, '%'] }, 61 * MIN);
    const out = c.at(60 * MIN + SETTLE);
    assert.deepStrictEqual(
      out.map((e) => [e.kind, e.at]),
      [
        ['target-reached', T(55 * MIN)],
        ['charging-finished', T(60 * MIN)],
      ],
    );
    assert.deepStrictEqual(out[0], { kind: 'target-reached', vin: VIN, at: T(55 * MIN), sessionId: SID, soc: 80, targetSoc: 80 });
    const f = finished(out, 1);
    assert.deepStrictEqual([f.targetReached, f.endSoc, f.socAdded], [true, 80, 40]);
  });

  it('a late state of charge below the target, or above it only after the end, reaches nothing', () => {
    const below = charging(undefined, { [TARGET]: [80, '%'] });
    below.send(60 * MIN, { [STATUS]: 'CHARGINGENDED' });
    below.send(55 * MIN, { [SOC]: [79, '%'] }, 61 * MIN);
    below.send(60 * MIN + 30, { [SOC]: [85, '%'] }, 61 * MIN);
    const out = below.at(60 * MIN + SETTLE);
    assert.deepStrictEqual(
      out.map((e) => e.kind),
      ['charging-finished'],
    );
    const f = finished(out);
    assert.deepStrictEqual([f.targetReached, f.endSoc, f.targetSoc], [false, 79, 80]);
  });

  it('a target of 0 is no target, at the finish too', () => {
    const c = charging(undefined, { [TARGET]: [0, '%'] });
    c.send(60 * MIN, { [STATUS]: 'CHARGINGENDED' });
    c.send(55 * MIN, { [SOC]: [80, '%'] }, 61 * MIN);
    const out = c.at(60 * MIN + SETTLE);
    assert.deepStrictEqual([out.map((e) => e.kind), finished(out).targetReached, finished(out).targetSoc], [['charging-finished'], false, 0]);
  });

  it('the end state of charge is the latest at or before the end; a start value arriving late within the slack counts', () => {
    const c = car();
    c.send(-60, { [PORT]: 'CONNECTED' });
    c.send(0, { [STATUS]: 'CHARGINGACTIVE' });
    c.send(20 * MIN, { [SOC]: [60, '%'] });
    c.send(30 * MIN, { [STATUS]: 'CHARGINGENDED', [SOC]: [70, '%'] });
    c.send(30 * MIN + 1, { [SOC]: [71, '%'] });
    // Late: a reading from 40 s after the start (within the slack) and one from just before the end.
    c.send(40, { [SOC]: [41, '%'] }, 31 * MIN);
    c.send(30 * MIN - 1, { [SOC]: [69, '%'] }, 31 * MIN);
    c.at(30 * MIN + SETTLE);
    const f = c.finish();
    assert.deepStrictEqual([f.startSoc, f.endSoc, f.socAdded], [41, 70, 29]);
  });

  it('a state of charge arriving late from more than the slack after the start is no start value', () => {
    const c = car();
    c.send(-60, { [PORT]: 'CONNECTED' });
    c.send(0, { [STATUS]: 'CHARGINGACTIVE' });
    c.send(30 * MIN, { [STATUS]: 'CHARGINGENDED', [SOC]: [70, '%'] });
    c.send(SESSION_SLACK_MS / 1000 + 1, { [SOC]: [41, '%'] }, 31 * MIN);
    c.at(30 * MIN + SETTLE);
    const f = c.finish();
    assert.deepStrictEqual([f.startSoc, f.endSoc, f.socAdded, f.missing], [null, 70, null, ['startSoc', 'socAdded', 'maxPowerKw', 'energyAdded', 'targetSoc']]);
  });

  it('a state of charge only from long before the session is its start value but no end value', () => {
    const c = car();
    c.send(-2 * 3600, { [SOC]: [50, '%'] });
    c.send(-60, { [PORT]: 'CONNECTED' });
    c.send(0, { [STATUS]: 'CHARGINGACTIVE' });
    c.send(30 * MIN, { [STATUS]: 'CHARGINGENDED' });
    c.at(30 * MIN + SETTLE);
    const f = c.finish();
    assert.deepStrictEqual([f.startSoc, f.endSoc, f.socAdded], [50, null, null]);
  });

  it('the highest power is that of the readings from the slack before the start to the end, in kW whatever the unit', () => {
    const c = car();
    c.send(-5 * MIN, { [PORT]: 'CONNECTED', [POWER]: [99_000, 'W'] });
    c.send(-30, { [POWER]: [7000, 'W'] });
    c.send(0, { [STATUS]: 'CHARGINGACTIVE' });
    c.send(10 * MIN, { [POWER]: [6.5, 'KW'] });
    c.send(30 * MIN, { [STATUS]: 'CHARGINGENDED' });
    // Late: a higher power from within the session, and one after its end.
    c.send(20 * MIN, { [POWER]: [11_234, 'W'] }, 31 * MIN);
    c.send(30 * MIN + 10, { [POWER]: [22, 'kW'] }, 31 * MIN);
    c.at(30 * MIN + SETTLE);
    assert.strictEqual(c.finish().maxPowerKw, 11.23);
  });

  it('energy from readings that arrived late: the grid counter by time, the content checked against the estimate', () => {
    const grid = charging(undefined, { [GRID]: [1000, 'kWh'] });
    grid.send(30 * MIN, { [STATUS]: 'CHARGINGENDED' });
    grid.send(29 * MIN, { [GRID]: [1007.5, 'kWh'] }, 31 * MIN);
    grid.send(30 * MIN + 30, { [GRID]: [1009, 'kWh'] }, 31 * MIN);
    grid.at(30 * MIN + SETTLE);
    assert.deepStrictEqual(grid.finish().energyAdded, { kwh: 7.5, estimate: false, method: 'grid-energy-counter' });

    const content = (end: number) => {
      const c = charging(undefined, { [CONTENT]: [30, 'kWh'], [SIZE]: [50, 'kWh'] });
      c.send(30 * MIN, { [STATUS]: 'CHARGINGENDED' });
      c.send(29 * MIN, { [SOC]: [60, '%'], [CONTENT]: [end, 'kWh'] }, 31 * MIN);
      c.at(30 * MIN + SETTLE);
      return c.finish().energyAdded;
    };
    // 20 % of 50 kWh: 10 kWh, 30 % of it 3 kWh.
    assert.deepStrictEqual(content(43), { kwh: 13, estimate: false, method: 'battery-energy-content' });
    assert.deepStrictEqual(content(43.1), { kwh: 10, estimate: true, method: 'soc-x-battery-size' });
    assert.deepStrictEqual(content(37), { kwh: 7, estimate: false, method: 'battery-energy-content' });
    assert.deepStrictEqual(content(36.9), { kwh: 10, estimate: true, method: 'soc-x-battery-size' });
    // The content fell: no measurement.
    assert.deepStrictEqual(content(29), { kwh: 10, estimate: true, method: 'soc-x-battery-size' });
  });

  it('a small charge: the content counts within 1 kWh of the estimate even beyond 30 %', () => {
    const small = (end: number) => {
      const c = charging(undefined, { [CONTENT]: [30, 'kWh'], [SIZE]: [50, 'kWh'] });
      c.send(10 * MIN, { [STATUS]: 'CHARGINGENDED', [SOC]: [42, '%'], [CONTENT]: [end, 'kWh'] });
      c.at(10 * MIN + SETTLE);
      return c.finish().energyAdded;
    };
    // 2 % of 50 kWh: 1 kWh.
    assert.deepStrictEqual(small(32), { kwh: 2, estimate: false, method: 'battery-energy-content' });
    assert.deepStrictEqual(small(32.1), { kwh: 1, estimate: true, method: 'soc-x-battery-size' });
    assert.deepStrictEqual(small(30), { kwh: 0, estimate: false, method: 'battery-energy-content' });
  });

  it('a long session keeps at most 1,000 readings of a figure, and its start and end values among them', () => {
    const c = charging();
    for (let i = 1; i <= 1100; i += 1) c.send(i * 2, { [SOC]: [40 + i / 100, '%'] });
    c.send(2201, { [STATUS]: 'CHARGINGENDED' });
    assert.strictEqual(c.live.vehicle(VIN).charging.finishing.session.samples[SOC].length, 1000);
    c.at(2201 + SETTLE);
    const f = c.finish();
    assert.deepStrictEqual([f.startSoc, f.endSoc, f.socAdded], [40, 51, 11]);
  });
});

describe('Charging rules: states saved by earlier versions and the clock', () => {
  it('a session saved before sessions kept their readings: its start values stand at its start', () => {
    const c = charging(undefined, { [CONTENT]: [30, 'kWh'], [SIZE]: [50, 'kWh'], [POWER]: [11, 'kW'], [GRID]: [500, 'kWh'] });
    const state = c.live.serialize();
    const session = state.vehicles[VIN].charging.session;
    delete session.samples;
    Object.assign(session, { startSoc: 35, startEnergyContentKwh: 28, startGridEnergyKwh: 490, maxPowerKw: 22 });
    let clock = ms(1);
    const live = new LiveData({ state, now: () => clock });
    const send = (s: number, data: Record<string, [StateScalar, string | null]>) => {
      clock = ms(s);
      return live.ingest({ vin: VIN, data: Object.fromEntries(Object.entries(data).map(([id, [value, unit]]) => [id, { value, unit, timestamp: T(s) }])) })
        .events;
    };
    send(10 * MIN, { [SOC]: [45, '%'], [CONTENT]: [33, 'kWh'], [GRID]: [496, 'kWh'], [POWER]: [7, 'kW'] });
    send(20 * MIN, { [STATUS]: ['CHARGINGENDED', null] });
    clock = ms(20 * MIN + SETTLE);
    const f = finished(live.settle()[0].events);
    assert.deepStrictEqual(
      [f.startSoc, f.endSoc, f.socAdded, f.maxPowerKw, f.energyAdded],
      [35, 45, 10, 22, { kwh: 6, estimate: false, method: 'grid-energy-counter' }],
    );
  });

  it('the finish is due the settle window after the end, the window the host chose; without a clock it goes out at once', () => {
    const c = charging({ settleMs: 60_000 });
    c.send(10 * MIN, { [STATUS]: 'CHARGINGENDED' });
    assert.strictEqual(c.live.nextSettleAt(), ms(11 * MIN));
    assert.strictEqual(settleDueAt(c.live.vehicle(VIN).charging), ms(10 * MIN + SETTLE));
    assert.strictEqual(settleDueAt(c.live.vehicle(VIN).charging, 1000), ms(10 * MIN + 1));
    assert.deepStrictEqual(c.at(11 * MIN - 1), []);
    assert.deepStrictEqual(
      c.at(11 * MIN).map((e) => e.kind),
      ['charging-finished'],
    );
    assert.strictEqual(settleDueAt(c.live.vehicle(VIN).charging), undefined);

    const state = initialChargingState();
    const values: Record<string, StateValue> = {};
    const send = (s: number, data: Record<string, StateScalar>, opts?: TrackOptions) => {
      for (const [id, value] of Object.entries(data)) values[id] = { value, unit: null, timestamp: T(s) };
      return trackCharging(VIN, state, values, Object.keys(data), opts);
    };
    send(-60, { [PORT]: 'CONNECTED' });
    send(0, { [STATUS]: 'CHARGINGACTIVE' });
    assert.deepStrictEqual(send(60, { [STATUS]: 'CHARGINGENDED' }, { now: ms(60) }), []);
    assert.deepStrictEqual(settleCharging(VIN, state, values, { now: ms(60) + FINISH_SETTLE_MS - 1 }), []);
    assert.deepStrictEqual(
      settleCharging(VIN, state, values, { now: ms(60), settleMs: 0 }).map((e) => e.kind),
      ['charging-finished'],
    );
    send(120, { [STATUS]: 'CHARGINGACTIVE' });
    assert.deepStrictEqual(
      send(180, { [STATUS]: 'CHARGINGENDED' }).map((e) => e.kind),
      ['charging-finished'],
    );
  });

  it('a new end while a finish still waits sends the waiting finish first, then what came after it', () => {
    const c = charging();
    c.send(10 * MIN, { [STATUS]: 'CHARGINGENDED' });
    c.send(11 * MIN, { [PORT]: 'DISCONNECTED' });
    c.send(12 * MIN, { [PORT]: 'CONNECTED' });
    c.send(13 * MIN, { [STATUS]: 'CHARGINGACTIVE' });
    const out = c.send(14 * MIN, { [STATUS]: 'CHARGINGENDED' });
    assert.deepStrictEqual(
      out.map((e) => [e.kind, e.at]),
      [
        ['charging-finished', T(10 * MIN)],
        ['unplugged', T(11 * MIN)],
        ['plugged-in', T(12 * MIN)],
        ['charging-started', T(13 * MIN)],
      ],
    );
    assert.deepStrictEqual(
      c.at(14 * MIN + SETTLE).map((e) => [e.kind, e.at]),
      [['charging-finished', T(14 * MIN)]],
    );
  });
});

describe('Charging rules: edges of the figures and of the signals', () => {
  it('a fresh state knows nothing and charges nothing', () => {
    assert.deepStrictEqual(initialChargingState(), {
      plugged: null,
      status: null,
      statusAt: null,
      phase: null,
      charging: false,
      powerKw: 0,
      session: null,
      finishing: null,
    });
  });

  it('the open session keeps its start values and its highest power as later readings come', () => {
    const c = charging(undefined, { [CONTENT]: [30, 'kWh'], [GRID]: [100, 'kWh'], [POWER]: [11, 'kW'] });
    c.send(10 * MIN, { [SOC]: [50, '%'], [CONTENT]: [35, 'kWh'], [GRID]: [105, 'kWh'], [POWER]: [7, 'kW'] });
    c.send(20 * MIN, { [POWER]: [11, 'kW'] });
    const s = c.live.vehicle(VIN).charging;
    assert.deepStrictEqual(
      [s.session.startSoc, s.session.startEnergyContentKwh, s.session.startGridEnergyKwh, s.session.maxPowerKw, s.powerKw],
      [40, 30, 100, 11, 11],
    );
    c.send(21 * MIN, { [POWER]: [12.5, 'kW'] });
    assert.strictEqual(c.live.vehicle(VIN).charging.session.maxPowerKw, 12.5);
  });

  it('a first state of charge exactly the slack after the start is the start value of the finish too', () => {
    const c = car();
    c.send(-60, { [PORT]: 'CONNECTED' });
    c.send(0, { [STATUS]: 'CHARGINGACTIVE' });
    c.send(20 * MIN, { [STATUS]: 'CHARGINGENDED', [SOC]: [70, '%'] });
    c.send(SESSION_SLACK_MS / 1000, { [SOC]: [41, '%'] }, 21 * MIN);
    c.at(20 * MIN + SETTLE);
    assert.deepStrictEqual([c.finish().startSoc, c.finish().socAdded], [41, 29]);
  });

  it('power readings exactly the slack before the start and exactly at the end count', () => {
    const atEnd = car();
    atEnd.send(-60, { [PORT]: 'CONNECTED' });
    atEnd.send(0, { [STATUS]: 'CHARGINGACTIVE', [POWER]: [7, 'kW'] });
    atEnd.send(20 * MIN, { [STATUS]: 'CHARGINGENDED' });
    atEnd.send(20 * MIN, { [POWER]: [9, 'kW'] }, 21 * MIN);
    atEnd.at(20 * MIN + SETTLE);
    assert.strictEqual(atEnd.finish().maxPowerKw, 9);

    const before = car();
    before.send(-SESSION_SLACK_MS / 1000, { [PORT]: 'CONNECTED', [POWER]: [8, 'kW'] });
    before.send(0, { [STATUS]: 'CHARGINGACTIVE' });
    before.send(20 * MIN, { [STATUS]: 'CHARGINGENDED' });
    before.at(20 * MIN + SETTLE);
    assert.strictEqual(before.finish().maxPowerKw, 8);
  });

  it('a grid counter without a start value gives no energy: the estimate is taken; a tiny estimate without content is still the estimate', () => {
    const c = charging(undefined, { [SIZE]: [50, 'kWh'] });
    c.send(10 * MIN, { [GRID]: [1005, 'kWh'] });
    c.send(20 * MIN, { [STATUS]: 'CHARGINGENDED', [SOC]: [60, '%'], [GRID]: [1010, 'kWh'] });
    c.at(20 * MIN + SETTLE);
    assert.deepStrictEqual(c.finish().energyAdded, { kwh: 10, estimate: true, method: 'soc-x-battery-size' });

    const tiny = charging(undefined, { [SIZE]: [50, 'kWh'] });
    tiny.send(5 * MIN, { [STATUS]: 'CHARGINGENDED', [SOC]: [41, '%'] });
    tiny.at(5 * MIN + SETTLE);
    assert.deepStrictEqual(tiny.finish().energyAdded, { kwh: 0.5, estimate: true, method: 'soc-x-battery-size' });
  });

  it('a late state of charge reaching the target exactly at the end reaches it', () => {
    const c = charging(undefined, { [TARGET]: [80, '%'] });
    c.send(60 * MIN, { [STATUS]: 'CHARGINGENDED' });
    c.send(60 * MIN, { [SOC]: [80, '%'] }, 61 * MIN);
    c.at(60 * MIN + SETTLE);
    assert.deepStrictEqual(c.kinds().slice(2), [
      ['target-reached', T(60 * MIN)],
      ['charging-finished', T(60 * MIN)],
    ]);
  });

  it('a state of charge that is no number is no figure', () => {
    const c = charging();
    c.send(10 * MIN, { [SOC]: [55, '%'] });
    c.send(20 * MIN, { [STATUS]: 'CHARGINGENDED' });
    c.send(15 * MIN, { [SOC]: ['N/A', '%'], [POWER]: ['high', 'kW'] }, 21 * MIN);
    c.at(20 * MIN + SETTLE);
    assert.deepStrictEqual([c.finish().endSoc, c.finish().socAdded, c.finish().maxPowerKw], [55, 15, null]);
  });

  it('a plug reading stamped exactly at the start, arriving late, does not show the start was observed', () => {
    const c = car();
    c.send(0, { [STATUS]: 'CHARGINGACTIVE' });
    c.send(0, { [PORT]: 'CONNECTED' }, 10);
    c.send(30 * MIN, { [STATUS]: 'CHARGINGENDED' });
    c.at(30 * MIN + SETTLE);
    assert.strictEqual(c.finish().startObserved, false);
  });

  it('a late unplugging stamped exactly at the end leaves the end to the status; a late idle status exactly at the start ends the session there', () => {
    const same = charging();
    same.send(20 * MIN, { [STATUS]: 'CHARGINGENDED' });
    same.send(20 * MIN, { [ISPLUGGED]: false }, 21 * MIN);
    same.at(20 * MIN + SETTLE);
    assert.deepStrictEqual([same.finish().endedBy, same.finish().endStatus], ['status', 'CHARGINGENDED']);

    const start = car();
    start.send(-60, { [PORT]: 'CONNECTED' });
    start.send(0, { [STATUS]: 'CHARGINGACTIVE' });
    start.send(20 * MIN, { [PORT]: 'DISCONNECTED' });
    start.send(0, { [HV]: 'NOT_CHARGING' }, 21 * MIN);
    start.send(0, { [STATUS]: 'NOCHARGING' }, 21 * MIN);
    assert.deepStrictEqual([start.finish().endedAt, start.finish().endedBy, start.finish().durationSeconds], [T(0), 'status', 0]);
  });

  it('unplugged at the time of the plug reading, not of other readings in the same message', () => {
    const c = car();
    c.send(-60, { [PORT]: 'CONNECTED' });
    const out = c.send(100, { [PORT]: ['DISCONNECTED', null, 50], [SOC]: [40, '%', 100] });
    assert.deepStrictEqual(out, [{ kind: 'unplugged', vin: VIN, at: T(50), soc: 40 }]);
  });

  it('an interruption sent again is one interruption', () => {
    const c = charging();
    assert.deepStrictEqual(
      c.send(10 * MIN, { [STATUS]: 'CHARGINGINTERRUPTED' }).map((e) => e.kind),
      ['charging-interrupted'],
    );
    assert.deepStrictEqual(c.send(11 * MIN, { [STATUS]: 'CHARGINGINTERRUPTED' }), []);
    c.send(12 * MIN, { [STATUS]: 'CHARGINGERROR' });
    assert.deepStrictEqual(c.send(13 * MIN, { [STATUS]: 'CHARGINGERROR' }), []);
    c.send(20 * MIN, { [STATUS]: 'CHARGINGENDED' });
    c.at(20 * MIN + SETTLE);
    assert.deepStrictEqual([c.finish().interruptions, c.finish().errors], [1, 1]);
  });
});
