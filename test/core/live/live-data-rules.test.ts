// LiveData's own rules beyond the trackers: which saved trip and charging states it takes back, keys that are members
// of every object, readings from the future, the key limit within one message, when a car is waiting for a finish or
// a month's end, and what a save of some cars writes.
import assert from 'assert';
import * as core from '../../../src/node';
import type {
  ChargingSession,
  ChargingSessionState,
  FinishingState,
  LiveData as Live,
  OpenTripState,
  StateScalar,
  StateValue,
  StreamEvent,
  StreamRawMessage,
} from '../../../src/node';
import { savedLiveState } from '../../support/live-state';
import { SOC, CHARGING_STATUS as STATUS, PORT, IGNITION, MOVING, ODOMETER as ODO } from '../../../src/simulator/descriptor-names';

const { LiveData, restoreLiveDataState, initialChargingState, initialTripState, FINISH_SETTLE_MS, TRIP_PAUSE_MS } = core;

const VIN = 'WBA00000000000003';
const VIN2 = 'WBA00000000000004';
const START = Date.parse('2026-03-31T22:00:00.000Z');
const ms = (s: number) => START + s * 1000;
const T = (s: number) => new Date(ms(s)).toISOString();
const MIN = 60;

/** The readings of one message as a test writes them: descriptor -> value. */
type Data = Record<string, StateScalar>;

const msg = (s: number, data: Data, vin = VIN): StreamRawMessage => ({
  vin,
  data: Object.fromEntries(Object.entries(data).map(([k, value]) => [k, { value, timestamp: T(s) }])),
});

/**
 * A session of the charging history with only the fields the import reads (its times and the grid energy); BMW's
 * other fields do not matter to it, so they are left out on purpose.
 */
const historySession = (fields: Pick<ChargingSession, 'startTime' | 'endTime' | 'energyConsumedFromPowerGridKwh'>) => fields as ChargingSession;

const saved = (vehicle = {}) => savedLiveState(VIN, T(0), vehicle);

function refused(state: unknown, what: string) {
  assert.throws(
    () => restoreLiveDataState(state, ms(0)),
    (e) => e instanceof TypeError && e.message === `Not a saved live-data state: ${what}`,
    what,
  );
}

const OPEN: OpenTripState = { id: `${VIN}/${T(0)}`, startedAt: T(0), startObserved: true, lastMoveMs: ms(60), endMs: null, endedBy: null };
const trips = (fields: Record<string, unknown>) => ({ trips: { ...initialTripState(), ...fields } });

describe('Live data rules: saved states', () => {
  it('refuses a trip state whose every part is not what the tracker wrote, naming it', () => {
    refused(saved({ trips: [] }), `trips of ${VIN}`);
    refused(saved({ trips: 'x' }), `trips of ${VIN}`);
    refused(saved(trips({ samples: null })), `trips of ${VIN}`);
    refused(saved(trips({ lastEndedAt: 5 })), `trips of ${VIN}`);
    refused(saved(trips({ ignitionKey: 5 })), `trips of ${VIN}`);
    refused(saved(trips({ trip: 'open' })), `open trip of ${VIN}`);
    refused(saved(trips({ trip: [] })), `open trip of ${VIN}`);
    refused(saved(trips({ trip: { ...OPEN, id: 7 } })), `open trip of ${VIN}`);
    refused(saved(trips({ trip: { ...OPEN, startedAt: 'now' } })), `open trip of ${VIN}`);
    refused(saved(trips({ trip: { ...OPEN, startedAt: ms(0) } })), `open trip of ${VIN}`);
    refused(saved(trips({ trip: { ...OPEN, lastMoveMs: '60' } })), `open trip of ${VIN}`);
    refused(saved(trips({ trip: { ...OPEN, lastMoveMs: null } })), `open trip of ${VIN}`);
    refused(saved(trips({ trip: { ...OPEN, endMs: 'later' } })), `open trip of ${VIN}`);
    refused(saved(trips({ trip: { ...OPEN, endMs: Infinity } })), `open trip of ${VIN}`);
    refused(saved(trips({ trip: { ...OPEN, latestMs: null } })), `open trip of ${VIN}`);
    for (const list of [null, 'x', [[1]], [[1, 2, 3]], [[NaN, 1]], [[1, Infinity]], [['1', 2]], [5], [[1, 2], null]]) {
      refused(saved(trips({ samples: { [ODO]: list } })), `trip readings ${ODO} of ${VIN}`);
    }
  });

  it('takes back a trip state as saved: readings in time order, the open trip copied, flags only when true', () => {
    const restored = restoreLiveDataState(
      saved(
        trips({
          trip: { ...OPEN, endMs: ms(120), latestMs: ms(130) },
          ignitionKey: IGNITION,
          lastEndedAt: T(-600),
          movingSeen: 'yes',
          driving: false,
          samples: {
            [ODO]: [
              [ms(60), 101],
              [ms(0), 100],
              [ms(30), 100.5],
            ],
          },
        }),
      ),
      ms(0),
    ).vehicles[VIN].trips;
    assert.deepStrictEqual(restored, {
      driving: true,
      trip: { ...OPEN, endMs: ms(120), latestMs: ms(130) },
      lastEndedAt: T(-600),
      ignitionKey: IGNITION,
      movingSeen: false,
      samples: {
        [ODO]: [
          [ms(0), 100],
          [ms(30), 100.5],
          [ms(60), 101],
        ],
      },
    });
    const parked = restoreLiveDataState(saved(trips({ driving: true, movingSeen: true })), ms(0)).vehicles[VIN].trips;
    assert.deepStrictEqual([parked.driving, parked.trip, parked.movingSeen], [false, null, true]);
  });

  it('refuses a charging finish that is not what the tracker wrote; takes back one that is, due as saved', () => {
    const session: ChargingSessionState = {
      id: `${VIN}/${T(0)}`,
      startedAt: T(0),
      startObserved: true,
      startSoc: 40,
      startEnergyContentKwh: null,
      startGridEnergyKwh: null,
      maxPowerKw: null,
      targetReachedSoc: null,
      interruptions: 0,
      errors: 0,
      samples: {
        [SOC]: [
          [ms(0), 40],
          [ms(500), 55],
        ],
      },
    };
    const finishing: FinishingState = { session, endedAt: T(600), endedBy: 'status', endStatus: 'CHARGINGENDED', after: [] };
    const charging = (f: unknown) => ({ charging: { ...initialChargingState(), phase: 'ended', finishing: f } });
    const broken: unknown[] = [
      'x',
      [],
      { ...finishing, session: null },
      { ...finishing, session: { ...session, startedAt: 5 } },
      { ...finishing, endedAt: ms(600) },
      { ...finishing, after: null },
      { ...finishing, after: {} },
    ];
    for (const f of broken) {
      refused(saved(charging(f)), `finishing charging session of ${VIN}`);
    }
    refused(saved({ charging: { ...initialChargingState(), session: [] } }), `charging session of ${VIN}`);
    assert.strictEqual(restoreLiveDataState(saved(charging(null)), ms(0)).vehicles[VIN].charging.finishing, null);
    assert.strictEqual(restoreLiveDataState(saved(charging(undefined)), ms(0)).vehicles[VIN].charging.finishing, null);

    let clock = ms(700);
    const live = new LiveData({ state: saved(charging(finishing)), now: () => clock });
    assert.strictEqual(live.nextSettleAt(), ms(600) + FINISH_SETTLE_MS);
    clock = ms(600) + FINISH_SETTLE_MS;
    const [u] = live.settle();
    assert.deepStrictEqual([u.vin, u.changed, u.changes, u.duplicates, u.stale, u.future, u.trips], [VIN, true, [], 0, 0, 0, []]);
    assert.deepStrictEqual(
      u.events.map((e) => (e.kind === 'charging-finished' ? [e.kind, e.endedAt, e.startSoc, e.endSoc] : [e.kind])),
      [['charging-finished', T(600), 40, 55]],
    );
    assert.deepStrictEqual([live.nextSettleAt(), live.settle()], [undefined, []]);
  });

  it('a car restored with an open trip is waiting for its finish', () => {
    let clock = ms(120);
    const live = new LiveData({
      state: saved(
        trips({
          trip: OPEN,
          ignitionKey: IGNITION,
          samples: {
            [ODO]: [
              [ms(0), 100],
              [ms(60), 103],
            ],
          },
        }),
      ),
      now: () => clock,
    });
    assert.strictEqual(live.nextSettleAt(), ms(60) + 3600_000 + FINISH_SETTLE_MS);
    clock = live.nextSettleAt();
    const [u] = live.settle();
    assert.deepStrictEqual(
      u.trips.map((e) => (e.kind === 'trip-finished' ? [e.kind, e.endedAt, e.endedBy, e.distanceKm] : [e.kind])),
      [['trip-finished', T(60), 'silence', 3]],
    );
    assert.strictEqual(live.nextSettleAt(), undefined);
  });

  it('keys that are members of every object are no VIN, no data key and no trip reading: they are left out', () => {
    const state = JSON.parse(
      `{"version":1,"vehicles":{"__proto__":{"vin":"x"},"${VIN}":{"vin":"${VIN}","updatedAt":null,"values":{"constructor":{"value":1,"timestamp":"${T(0)}"},"${SOC}":{"value":5,"timestamp":"${T(0)}"}},"charging":{"phase":null},"trips":{"driving":false,"trip":null,"lastEndedAt":null,"ignitionKey":null,"samples":{"__proto__":[[1,1]],"${ODO}":[[1,1]]}}}}}`,
    );
    const restored = restoreLiveDataState(state, ms(0));
    assert.deepStrictEqual(Object.keys(restored.vehicles), [VIN]);
    assert.deepStrictEqual(Object.keys(restored.vehicles[VIN].values), [SOC]);
    assert.deepStrictEqual(Object.keys(restored.vehicles[VIN].trips.samples), [ODO]);
    const live = new LiveData({ now: () => ms(0) });
    const u = live.ingestEvents([
      { vin: 'toString', descriptor: SOC, value: 1, unit: null, timestamp: T(0), messageTimestamp: null, topic: '' },
      { vin: VIN, descriptor: 'hasOwnProperty', value: 1, unit: null, timestamp: T(0), messageTimestamp: null, topic: '' },
      { vin: VIN, descriptor: SOC, value: 2, unit: null, timestamp: T(0), messageTimestamp: null, topic: '' },
    ]);
    assert.deepStrictEqual([u.length, u[0].vin, u[0].changes, live.vins()], [1, VIN, [SOC], [VIN]]);
  });

  it('a saved value stamped more than five minutes ahead of the clock is restamped with the clock; one within is kept', () => {
    const values: Record<string, StateValue> = {
      [SOC]: { value: 50, unit: '%', timestamp: T(5 * MIN) },
      [PORT]: { value: 'CONNECTED', unit: null, timestamp: T(5 * MIN + 1) },
    };
    const restored = restoreLiveDataState(saved({ values }), ms(0)).vehicles[VIN].values;
    assert.deepStrictEqual([restored[SOC].timestamp, restored[PORT].timestamp], [T(5 * MIN), T(0)]);
  });
});

describe('Live data rules: readings', () => {
  it('a reading stamped more than five minutes ahead counts as arriving now, and the update says so', () => {
    const live = new LiveData({ now: () => ms(0) });
    const u = live.ingest(msg(5 * MIN + 1, { [SOC]: 50 }));
    assert.deepStrictEqual([u.future, live.vehicle(VIN).values[SOC].timestamp, live.vehicle(VIN).updatedAt], [1, T(0), T(0)]);
    const within = live.ingest(msg(5 * MIN, { [SOC]: 51 }));
    assert.deepStrictEqual([within.future, live.vehicle(VIN).values[SOC].timestamp], [0, T(5 * MIN)]);
  });

  it('the key limit counts the new keys of one message one by one, a key sent twice once', () => {
    const live = new LiveData({ now: () => ms(0), limits: { maxKeysPerCar: 3 } });
    const ev = (descriptor: string, value: StateScalar): StreamEvent => ({
      vin: VIN,
      descriptor,
      value,
      unit: null,
      timestamp: T(0),
      messageTimestamp: null,
      topic: '',
    });
    const [u] = live.ingestEvents([ev('x.a', 1), ev('x.b', 1), ev('x.a', 2), ev(SOC, 50), ev('x.c', 1), ev('x.d', 1), ev(PORT, 'CONNECTED')]);
    // The catalogue's keys are always kept but count: the third key is the state of charge.
    assert.deepStrictEqual(u.dropped, { keys: ['x.c', 'x.d'], size: [] });
    assert.deepStrictEqual(Object.keys(live.vehicle(VIN).values), ['x.a', 'x.b', SOC, PORT]);
    assert.strictEqual(live.vehicle(VIN).values['x.a'].value, 2);
    const [v] = live.ingestEvents([ev(SOC, 51), ev('x.e', 1)]);
    assert.deepStrictEqual(v.dropped, { keys: ['x.e'], size: [] });
    const wide = new LiveData({ now: () => ms(0), limits: { maxReadingChars: 40 } });
    const [w] = wide.ingestEvents([ev('x.a', 'y'.repeat(10)), ev('x.b', 'y'.repeat(11))]);
    // Key, value and time: 3 + 10 + 24 = 37 and 38 characters, both within 40.
    assert.strictEqual(w.dropped, undefined);
    const [x] = wide.ingestEvents([{ ...ev('x.c', 'y'.repeat(14)), unit: 'k' }]);
    assert.deepStrictEqual(x.dropped, { keys: [], size: ['x.c'] });
  });

  it('a message whose readings only open a trip (the car moving, its first odometer tick) is a change', () => {
    const live = new LiveData({ now: () => ms(0) });
    live.ingest(msg(0, { [IGNITION]: true, [ODO]: 100 }));
    const u = live.ingest(msg(10, { [MOVING]: true }));
    assert.deepStrictEqual([u.changed, u.trips.map((e) => e.kind), live.vehicle(VIN).trips.driving], [true, ['trip-started'], true]);
    const again = live.ingest(msg(10, { [MOVING]: true }));
    assert.deepStrictEqual([again.changed, again.duplicates, again.trips], [false, 1, []]);
  });
});

describe('Live data rules: months and saves', () => {
  /** A car that finished a trip at 23:10 UTC on 31 March: its ledger's month ends at midnight. */
  function afterTrip(live: Live, vin = VIN) {
    const steps: Array<[number, Data]> = [
      [0, { [IGNITION]: true, [ODO]: 100 }],
      [10, { [MOVING]: true }],
      [10 * MIN, { [IGNITION]: false, [ODO]: 110 }],
    ];
    for (const [s, data] of steps) {
      clock = ms(s);
      live.ingest(msg(s, data, vin));
    }
  }
  let clock: number;

  it("a month closes at its end by the host's timer, for each car at once, after the trip that finishes in it", () => {
    clock = ms(0);
    const live = new LiveData({ now: () => clock });
    afterTrip(live);
    afterTrip(live, VIN2);
    const due = ms(10 * MIN) + TRIP_PAUSE_MS + FINISH_SETTLE_MS;
    assert.deepStrictEqual([live.nextSettleAt(), live.nextMonthEnd()], [due, undefined]);
    clock = due;
    const finishes = live.settle();
    assert.deepStrictEqual(
      finishes.map((u) => [u.vin, u.trips.map((e) => e.kind), u.ledger.map((e) => e.kind)]),
      [
        [VIN, ['trip-finished'], ['summary']],
        [VIN2, ['trip-finished'], ['summary']],
      ],
    );
    const midnight = Date.parse('2026-04-01T00:00:00.000Z');
    assert.deepStrictEqual([live.nextSettleAt(), live.nextMonthEnd()], [undefined, midnight]);
    clock = midnight - 1;
    assert.deepStrictEqual(live.settle(), []);
    clock = midnight;
    const closed = live.settle();
    assert.deepStrictEqual(
      closed.map((u) => [u.vin, u.changed, u.events, u.trips, u.ledger.map((e) => [e.kind, e.at, e.trips, e.distanceKm])]),
      [
        [VIN, true, [], [], [['month-closed', '2026-04-01T00:00:00.000Z', 1, 10]]],
        [VIN2, true, [], [], [['month-closed', '2026-04-01T00:00:00.000Z', 1, 10]]],
      ],
    );
    assert.deepStrictEqual(live.settle(), []);
    assert.strictEqual(live.nextMonthEnd(), Date.parse('2026-05-01T00:00:00.000Z'));
    assert.ok(live.serializeText().includes('"months"'));
  });

  it('a car on a trip that moved before the month ended holds its month until the trip is finished', () => {
    clock = ms(0);
    const live = new LiveData({ now: () => clock });
    afterTrip(live);
    clock = ms(10 * MIN) + TRIP_PAUSE_MS + FINISH_SETTLE_MS;
    live.settle();
    const midnight = Date.parse('2026-04-01T00:00:00.000Z');
    // Out again at 23:50, still driving at midnight.
    clock = ms(110 * MIN);
    live.ingest(msg(110 * MIN, { [IGNITION]: true }));
    live.ingest(msg(110 * MIN + 10, { [MOVING]: true }));
    assert.strictEqual(live.nextMonthEnd(), undefined);
    clock = midnight;
    assert.deepStrictEqual(live.settle(), []);
    clock = ms(130 * MIN);
    const u = live.ingest(msg(130 * MIN, { [IGNITION]: false, [ODO]: 125 }));
    assert.deepStrictEqual(u.ledger, []);
    clock = ms(130 * MIN) + TRIP_PAUSE_MS + FINISH_SETTLE_MS;
    const [done] = live.settle();
    // The trip ended in April: March closes first with one trip, then April counts this one.
    assert.deepStrictEqual(
      done.ledger.map((e) => [e.kind, e.month ?? null, e.trips]),
      [
        ['month-closed', '2026-03', 1],
        ['summary', '2026-04', 1],
      ],
    );
  });

  it('serializeText(only) brings only the cars named up to date; serializeCars names only the cars it has', () => {
    const live = new LiveData({ now: () => ms(0) });
    live.ingest(msg(0, { [SOC]: 50 }));
    live.ingest(msg(0, { [SOC]: 60 }, VIN2));
    live.serializeText();
    live.ingest(msg(1, { [SOC]: 51 }));
    live.ingest(msg(1, { [SOC]: 61 }, VIN2));
    const partial = JSON.parse(live.serializeText([VIN2]));
    assert.deepStrictEqual([partial.vehicles[VIN].values[SOC].value, partial.vehicles[VIN2].values[SOC].value], [50, 61]);
    assert.deepStrictEqual(Object.keys(live.serializeCars()), [VIN]);
    assert.strictEqual(JSON.parse(live.serializeCars()[VIN] ?? live.serializeCars([VIN])[VIN]).values[SOC].value, 51);
    assert.deepStrictEqual(live.serializeCars(), {});
    assert.deepStrictEqual(Object.keys(live.serializeCars([VIN2, 'WBA00000000000009'])), [VIN2]);
    const full = JSON.parse(live.serializeText());
    assert.deepStrictEqual([full.vehicles[VIN].values[SOC].value, full.vehicles[VIN2].values[SOC].value], [51, 61]);
  });

  it('the charging history of a car not yet heard of is counted once into a new ledger', () => {
    const live = new LiveData({ now: () => ms(0) });
    const sessions = [historySession({ startTime: ms(-7200) / 1000, endTime: ms(-3600) / 1000, energyConsumedFromPowerGridKwh: 12.5 })];
    const first = live.importChargingHistory(VIN, sessions);
    assert.deepStrictEqual([first.counted, first.kwh, first.alreadyImported, first.energyCounterKwh], [1, 12.5, false, 12.5]);
    assert.deepStrictEqual(live.vins(), [VIN]);
    assert.strictEqual(live.vehicle(VIN).ledger.energyKwh, 12.5);
    assert.strictEqual(live.importChargingHistory(VIN, sessions).alreadyImported, true);
    assert.strictEqual(JSON.parse(live.serializeCars()[VIN]).ledger.energyKwh, 12.5);
    // A car with a charging state already keeps it.
    live.ingest(msg(1, { [PORT]: 'CONNECTED', [STATUS]: 'CHARGINGACTIVE' }, VIN2));
    live.importChargingHistory(VIN2, sessions);
    assert.deepStrictEqual([live.vehicle(VIN2).charging.phase, live.vehicle(VIN2).ledger.energyKwh], ['charging', 12.5]);
  });
});

describe('Live data rules: a charge across the month end, sizes without unit or time', () => {
  it('a charge that ended before midnight holds the month until its finish; then the month closes with it', () => {
    let clock = ms(0);
    const live = new LiveData({ now: () => clock });
    const send = (s: number, data: Data) => {
      clock = Math.max(clock, ms(s));
      return live.ingest(msg(s, data));
    };
    // A first charge in March opens the car's ledger.
    send(0, { [PORT]: 'CONNECTED', [SOC]: 40 });
    send(60, { [STATUS]: 'CHARGINGACTIVE' });
    send(20 * MIN, { [STATUS]: 'CHARGINGENDED', [SOC]: 50 });
    clock = ms(25 * MIN);
    assert.deepStrictEqual(
      live.settle().map((u) => u.ledger.map((e) => e.kind)),
      [['summary']],
    );
    const midnight = Date.parse('2026-04-01T00:00:00.000Z');
    assert.strictEqual(live.nextMonthEnd(), midnight);
    // A second one ends at 23:58; its finish is due at 00:03.
    send(100 * MIN, { [STATUS]: 'CHARGINGACTIVE' });
    send(118 * MIN, { [STATUS]: 'CHARGINGENDED', [SOC]: 60 });
    assert.deepStrictEqual([live.nextMonthEnd(), live.nextSettleAt()], [undefined, ms(123 * MIN)]);
    clock = midnight;
    assert.deepStrictEqual(live.settle(), []);
    clock = ms(123 * MIN);
    const [u] = live.settle();
    assert.deepStrictEqual(
      [u.events.map((e) => e.kind), u.ledger.map((e) => [e.kind, e.month, e.sessions])],
      [
        ['charging-finished'],
        [
          ['summary', '2026-03', 2],
          ['month-closed', '2026-03', 2],
        ],
      ],
    );
    assert.strictEqual(live.nextMonthEnd(), Date.parse('2026-05-01T00:00:00.000Z'));
  });

  it('the next month end is the earliest over the cars', () => {
    let clock = ms(0);
    const zoned = new LiveData({ now: () => clock, tariff: core.parseTariff({ currency: 'EUR', pricePerKwh: 0.3, timeZone: 'Asia/Tokyo' }) });
    const plain = new LiveData({ now: () => clock });
    for (const live of [zoned, plain]) {
      for (const vin of [VIN, VIN2]) {
        clock = ms(0);
        live.ingest(msg(0, { [PORT]: 'CONNECTED' }, vin));
        live.ingest(msg(0, { [STATUS]: 'CHARGINGACTIVE' }, vin));
        clock = ms(10);
        live.ingest(msg(10, { [STATUS]: 'CHARGINGENDED' }, vin));
      }
      clock = ms(10 + FINISH_SETTLE_MS / 1000);
      live.settle();
    }
    // 22:00 UTC on 31 March is 07:00 on 1 April in Tokyo: its month ends at the end of April, Tokyo time.
    assert.deepStrictEqual([zoned.nextMonthEnd(), plain.nextMonthEnd()], [Date.parse('2026-04-30T15:00:00.000Z'), Date.parse('2026-04-01T00:00:00.000Z')]);
  });

  it('a reading without unit or time is sized by its key and value alone', () => {
    const live = new LiveData({ now: () => ms(0), limits: { maxReadingChars: 10 } });
    const ev = (value: StateScalar, extra: Partial<StreamEvent> = {}): StreamEvent => ({
      vin: VIN,
      descriptor: 'x.a',
      value,
      unit: null,
      timestamp: null,
      messageTimestamp: null,
      topic: '',
      ...extra,
    });
    assert.strictEqual(live.ingestEvents([ev('y'.repeat(7))])[0].dropped, undefined);
    assert.deepStrictEqual(live.ingestEvents([ev('y'.repeat(8))])[0].dropped, { keys: [], size: ['x.a'] });
    assert.deepStrictEqual(live.ingestEvents([ev('y'.repeat(6), { unit: 'kW' })])[0].dropped, { keys: [], size: ['x.a'] });
    assert.strictEqual(live.ingestEvents([ev(1234567890)])[0].dropped, undefined);
  });
});

describe('Live data rules: the host options and what waits', () => {
  it("the host's trip pause and settle window decide when a trip ends and its finish goes out", () => {
    let clock = ms(0);
    const live = new LiveData({ now: () => clock, tripPauseMs: 60_000, settleMs: 30_000 });
    const send = (s: number, data: Data) => {
      clock = ms(s);
      return live.ingest(msg(s, data)).trips.map((e) => [e.kind, e.at]);
    };
    send(0, { [IGNITION]: true, [ODO]: 100 });
    send(10, { [MOVING]: true });
    send(5 * MIN, { [IGNITION]: false, [ODO]: 105 });
    assert.strictEqual(live.nextSettleAt(), ms(5 * MIN + 60 + 30));
    // Two minutes standing is longer than this host's pause: the next motion is a new trip, and the first finishes with it.
    assert.deepStrictEqual(send(7 * MIN, { [IGNITION]: true, [MOVING]: true }), [
      ['trip-finished', T(5 * MIN)],
      ['trip-started', T(7 * MIN)],
    ]);
    assert.strictEqual(live.nextSettleAt(), ms(7 * MIN) + 3600_000 + 30_000);
  });

  it("the next finish due is the earliest of every car's charge and trip", () => {
    let clock = ms(0);
    const live = new LiveData({ now: () => clock });
    const send = (s: number, data: Data, vin = VIN) => {
      clock = Math.max(clock, ms(s));
      live.ingest(msg(s, data, vin));
    };
    send(0, { [PORT]: 'CONNECTED', [IGNITION]: false });
    send(1, { [STATUS]: 'CHARGINGACTIVE' });
    send(10 * MIN, { [STATUS]: 'CHARGINGENDED' });
    assert.strictEqual(live.nextSettleAt(), ms(10 * MIN) + FINISH_SETTLE_MS);
    // The same car drives off a minute later: its trip's finish (silence) is due after the charge's.
    send(11 * MIN, { [IGNITION]: true, [MOVING]: true });
    assert.strictEqual(live.nextSettleAt(), ms(10 * MIN) + FINISH_SETTLE_MS);
    send(12 * MIN, { [IGNITION]: true, [ODO]: 5 }, VIN2);
    send(12 * MIN + 10, { [MOVING]: true }, VIN2);
    send(13 * MIN, { [IGNITION]: false }, VIN2);
    assert.strictEqual(live.nextSettleAt(), ms(10 * MIN) + FINISH_SETTLE_MS);
    clock = ms(10 * MIN) + FINISH_SETTLE_MS;
    assert.deepStrictEqual(
      live.settle().map((u) => [u.vin, u.events.map((e) => e.kind), u.trips.map((e) => e.kind)]),
      [[VIN, ['charging-finished'], []]],
    );
    // Now the second car's trip end (ignition off at 13 min) comes before the first car's silence.
    assert.strictEqual(live.nextSettleAt(), ms(13 * MIN) + TRIP_PAUSE_MS + FINISH_SETTLE_MS);
    clock = live.nextSettleAt();
    assert.deepStrictEqual(
      live.settle().map((u) => [u.vin, u.trips.map((e) => e.kind)]),
      [[VIN2, ['trip-finished']]],
    );
    assert.strictEqual(live.nextSettleAt(), ms(11 * MIN) + 3600_000 + FINISH_SETTLE_MS);
  });

  it("a car's snapshot is a copy: its trip state and ledger can be changed without touching LiveData", () => {
    let clock = ms(0);
    const live = new LiveData({ now: () => clock });
    live.ingest(msg(0, { [IGNITION]: true, [ODO]: 100 }));
    clock = ms(10);
    live.ingest(msg(10, { [MOVING]: true }));
    live.importChargingHistory(VIN, [historySession({ startTime: ms(-7200) / 1000, endTime: ms(-3600) / 1000, energyConsumedFromPowerGridKwh: 3 })]);
    const snap = live.vehicle(VIN);
    snap.trips.trip.lastMoveMs = 0;
    snap.trips.samples[ODO].push([ms(20), 999]);
    snap.ledger.energyKwh = 99;
    const again = live.vehicle(VIN);
    assert.deepStrictEqual([again.trips.trip.lastMoveMs, again.trips.samples[ODO].length, again.ledger.energyKwh], [ms(10), 1, 3]);
  });
});
