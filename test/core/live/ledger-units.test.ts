// The ledger's functions on their own, with hand-made finished charges and trips and exact figures: the per-100-km
// figures and the cost of a month, late finishes and month boundaries, the energy counter's memory of sessions
// before and after the import of the charging history, the import's checks of BMW's rows, and a saved ledger's checks.
import assert from 'assert';
import {
  importChargingHistory,
  initialLedgerState,
  ledgerDue,
  openMonthSummary,
  parseTariff,
  recordLedger,
  restoreLedger,
  LEDGER_MAX_SESSIONS,
  type ChargingFinishedEvent,
  type ChargingSession,
  type LedgerState,
  type TripFinishedEvent,
} from '../../../src/core';

const VIN = 'WBY00000000LEDGER';
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
/** 0.30 per kWh plus 1 per session, months in UTC. */
const TARIFF = parseTariff({ currency: 'EUR', pricePerKwh: 0.3, perSession: 1 });

function charge(startMs: number, endMs: number, kwh: number | null, estimate = false): ChargingFinishedEvent {
  return {
    kind: 'charging-finished',
    vin: VIN,
    at: iso(endMs),
    sessionId: `s${startMs}`,
    startedAt: iso(startMs),
    endedAt: iso(endMs),
    durationSeconds: (endMs - startMs) / 1000,
    energyAdded: kwh === null ? null : { kwh, estimate, method: estimate ? 'soc-x-battery-size' : 'battery-energy-content' },
  } as ChargingFinishedEvent;
}

function trip(endMs: number, distanceKm: number | null): TripFinishedEvent {
  return {
    kind: 'trip-finished',
    vin: VIN,
    at: iso(endMs),
    tripId: `t${endMs}`,
    startedAt: iso(endMs - HOUR),
    endedAt: iso(endMs),
    distanceKm,
  } as TripFinishedEvent;
}

/** A row of BMW's charging history; times in epoch seconds unless given otherwise. */
function row(startMs: unknown, endMs: unknown, kwh: unknown, unit: 'seconds' | 'ms' = 'seconds'): ChargingSession {
  const t = (v: unknown) => (typeof v === 'number' && unit === 'seconds' ? v / 1000 : v);
  return { startTime: t(startMs), endTime: t(endMs), energyConsumedFromPowerGridKwh: kwh, timeZone: 'UTC' } as unknown as ChargingSession;
}

const pick = (e: object, keys: string[]) => Object.fromEntries(keys.map((k) => [k, (e as Record<string, unknown>)[k]]));
const FIGURES = [
  'kind',
  'month',
  'sessions',
  'sessionsWithoutEnergy',
  'kwh',
  'distanceKm',
  'kwhPer100Km',
  'cost',
  'currency',
  'costPer100Km',
  'energyCounterKwh',
];

describe('Ledger: the figures of a month', () => {
  const NOV = (day: number, hour = 10) => Date.UTC(2026, 10, day, hour);

  it('a month of a trip, a charge without energy and a charge with it: cost and kWh per 100 km only once both sides are known', () => {
    const s = initialLedgerState();
    assert.strictEqual(s.timeZone, 'UTC');
    const first = recordLedger(VIN, s, [], [trip(NOV(5), 50)], { now: NOV(5), tariff: TARIFF });
    // With a tariff a month costs 0 from its start; no charge with energy yet, so no kWh per 100 km.
    assert.deepStrictEqual(
      first.map((e) => pick(e, FIGURES)),
      [
        {
          kind: 'summary',
          month: '2026-11',
          sessions: 0,
          sessionsWithoutEnergy: 0,
          kwh: 0,
          distanceKm: 50,
          kwhPer100Km: null,
          cost: 0,
          currency: 'EUR',
          costPer100Km: 0,
          energyCounterKwh: 0,
        },
      ],
    );
    const noEnergy = charge(NOV(6), NOV(6) + HOUR, null);
    const second = recordLedger(VIN, s, [noEnergy], [], { now: NOV(6) + HOUR, tariff: TARIFF });
    assert.strictEqual(noEnergy.cost, null);
    assert.deepStrictEqual(pick(second[0], FIGURES), { ...pick(first[0], FIGURES), sessions: 1, sessionsWithoutEnergy: 1 });
    // 20 kWh measured: 20 × 0.30 + 1 = 7.00; 20 kWh over 50 km, 7.00 over 50 km.
    const measured = charge(NOV(7), NOV(7) + 2 * HOUR, 20);
    const third = recordLedger(VIN, s, [measured], [], { now: NOV(7) + 2 * HOUR, tariff: TARIFF });
    assert.strictEqual(measured.cost?.amount, 7);
    assert.deepStrictEqual(pick(third[0], FIGURES), {
      kind: 'summary',
      month: '2026-11',
      sessions: 2,
      sessionsWithoutEnergy: 1,
      kwh: 20,
      distanceKm: 50,
      kwhPer100Km: 40,
      cost: 7,
      currency: 'EUR',
      costPer100Km: 14,
      energyCounterKwh: 20,
    });
  });

  it('a month of charges only has no per-100-km figures; a trip without a distance or with a negative one adds no km', () => {
    const s = initialLedgerState();
    const [summary] = recordLedger(VIN, s, [charge(NOV(3), NOV(3) + HOUR, 10, true)], [trip(NOV(4), null), trip(NOV(4, 12), -3)], {
      now: NOV(4, 12),
      tariff: TARIFF,
    });
    assert.deepStrictEqual(pick(summary, [...FIGURES, 'trips', 'kwhEstimate']), {
      kind: 'summary',
      month: '2026-11',
      sessions: 1,
      sessionsWithoutEnergy: 0,
      kwh: 10,
      kwhEstimate: 10,
      distanceKm: 0,
      trips: 2,
      kwhPer100Km: null,
      cost: 4,
      currency: 'EUR',
      costPer100Km: null,
      energyCounterKwh: 10,
    });
  });

  it('finishes of one update in one month give one summary, made at the latest of them; the month does not close while it runs', () => {
    const s = initialLedgerState();
    const out = recordLedger(VIN, s, [charge(NOV(3), NOV(3) + HOUR, 10), charge(NOV(4), NOV(4) + HOUR, 5)], [trip(NOV(5), 12)], { now: NOV(5) });
    assert.deepStrictEqual(
      out.map((e) => [e.kind, e.month, e.at, e.sessions, e.trips, e.kwh]),
      [['summary', '2026-11', iso(NOV(5)), 2, 1, 15]],
    );
    assert.deepStrictEqual([s.open, s.endsAt], ['2026-11', Date.UTC(2026, 11, 1)]);
  });

  it('a late finish of the month before goes to that month, kept in order: priced with the tariff it has no cost, only a currency', () => {
    const s = initialLedgerState();
    recordLedger(VIN, s, [charge(Date.UTC(2026, 11, 3, 8), Date.UTC(2026, 11, 3, 9), 10)], [], { now: Date.UTC(2026, 11, 3, 9), tariff: TARIFF });
    const out = recordLedger(VIN, s, [charge(NOV(28), NOV(28) + HOUR, null)], [trip(NOV(28, 18), 40)], { now: Date.UTC(2026, 11, 4), tariff: TARIFF });
    assert.deepStrictEqual(
      out.map((e) => pick(e, FIGURES)),
      [
        {
          kind: 'summary',
          month: '2026-11',
          sessions: 1,
          sessionsWithoutEnergy: 1,
          kwh: 0,
          distanceKm: 40,
          kwhPer100Km: null,
          cost: null,
          currency: 'EUR',
          costPer100Km: null,
          energyCounterKwh: 10,
        },
      ],
    );
    assert.deepStrictEqual(
      s.months.map((m) => m.month),
      ['2026-11', '2026-12'],
    );
    assert.strictEqual(s.open, '2026-12');
    assert.deepStrictEqual(pick(openMonthSummary(s, VIN) as object, ['month', 'sessions', 'kwh', 'cost']), { month: '2026-12', sessions: 1, kwh: 10, cost: 4 });
  });

  it("a charge ending at the month's last instant is the month's; one ending at the next month's first instant closes it", () => {
    const s = initialLedgerState();
    const end = Date.UTC(2026, 11, 1);
    const last = recordLedger(VIN, s, [charge(end - HOUR, end - 1, 5)], [], { now: end - 1 });
    assert.deepStrictEqual(
      last.map((e) => [e.kind, e.month]),
      [['summary', '2026-11']],
    );
    const out = recordLedger(VIN, s, [charge(end - 30 * MIN + 1, end, 3)], [], { now: end + MIN });
    assert.deepStrictEqual(
      out.map((e) => [e.kind, e.month, e.at, e.sessions, e.kwh]),
      [
        ['month-closed', '2026-11', '2026-12-01T00:00:00.000Z', 1, 5],
        ['summary', '2026-12', iso(end), 1, 3],
      ],
    );
  });

  it('the month closes when the clock has passed its end, not before, and not while a finish is held back', () => {
    assert.strictEqual(ledgerDue(undefined, Date.UTC(2030, 0, 1)), false);
    const s = initialLedgerState();
    assert.strictEqual(ledgerDue(s, Date.UTC(2030, 0, 1)), false);
    recordLedger(VIN, s, [], [trip(NOV(10), 5)], { now: NOV(10), tariff: TARIFF });
    const end = Date.UTC(2026, 11, 1);
    assert.deepStrictEqual([ledgerDue(s, end - 1), ledgerDue(s, end)], [false, true]);
    assert.deepStrictEqual(recordLedger(VIN, s, [], [], { now: end - 1, tariff: TARIFF }), []);
    assert.deepStrictEqual(recordLedger(VIN, s, [], [], { now: end + HOUR, tariff: TARIFF, held: true }), []);
    const out = recordLedger(VIN, s, [], [], { now: end + HOUR, tariff: TARIFF });
    assert.deepStrictEqual(
      out.map((e) => [e.kind, e.month, e.at, e.trips]),
      [['month-closed', '2026-11', iso(end), 1]],
    );
    // December is open from its first instant, costing 0 so far.
    assert.deepStrictEqual(pick(openMonthSummary(s, VIN) as object, ['month', 'at', 'sessions', 'trips', 'cost', 'currency', 'from', 'to']), {
      month: '2026-12',
      at: iso(end),
      sessions: 0,
      trips: 0,
      cost: 0,
      currency: 'EUR',
      from: '2026-12-01T00:00:00Z',
      to: '2027-01-01T00:00:00Z',
    });
    assert.deepStrictEqual(recordLedger(VIN, s, [], [], { now: end + 2 * HOUR, tariff: TARIFF }), []);
  });

  it("a month closes once when the tariff's time zone changes: the month after it opens, though the new zone's clock is still in it", () => {
    const berlin = parseTariff({ currency: 'EUR', pricePerKwh: 0.3, perSession: 1, timeZone: 'Europe/Berlin' });
    const s = initialLedgerState();
    recordLedger(VIN, s, [charge(NOV(10), NOV(10) + HOUR, 10)], [], { now: NOV(10) + HOUR, tariff: berlin });
    // November ends at 23:00 UTC in Berlin; the tariff is now in UTC, where November has an hour to go.
    const end = Date.UTC(2026, 10, 30, 23);
    assert.strictEqual(s.endsAt, end);
    const out = recordLedger(VIN, s, [], [], { now: end, tariff: TARIFF });
    assert.deepStrictEqual(
      out.map((e) => [e.kind, e.month, e.at, e.cost]),
      [['month-closed', '2026-11', iso(end), 4]],
    );
    assert.deepStrictEqual([s.timeZone, s.open, s.endsAt], ['UTC', '2026-12', Date.UTC(2027, 0, 1)]);
    assert.deepStrictEqual(recordLedger(VIN, s, [], [], { now: Date.UTC(2026, 11, 1, 1), tariff: TARIFF }), []);
    assert.deepStrictEqual(
      recordLedger(VIN, s, [], [], { now: Date.UTC(2027, 0, 1), tariff: TARIFF }).map((e) => [e.kind, e.month]),
      [['month-closed', '2026-12']],
    );
  });

  it('months the car was not followed in are skipped: the month of the next finish opens, and only the open month closes', () => {
    const s = initialLedgerState();
    recordLedger(VIN, s, [charge(NOV(10), NOV(10) + HOUR, 10)], [], { now: NOV(10) + HOUR });
    const feb = Date.UTC(2027, 1, 3, 9);
    const out = recordLedger(VIN, s, [charge(feb - HOUR, feb, 6)], [], { now: feb });
    assert.deepStrictEqual(
      out.map((e) => [e.kind, e.month, e.kwh]),
      [
        ['month-closed', '2026-11', 10],
        ['summary', '2027-02', 6],
      ],
    );
    assert.deepStrictEqual([s.open, s.endsAt], ['2027-02', Date.UTC(2027, 2, 1)]);
  });

  it("the first finish opens its month in the tariff's time zone, with the month's bounds there", () => {
    const kathmandu = parseTariff({ currency: 'EUR', pricePerKwh: 0.3, timeZone: 'Asia/Kathmandu' });
    const s = initialLedgerState('Asia/Kathmandu');
    // 19:00 UTC on 31 March 2031 is 00:45 on 1 April in Kathmandu (UTC+05:45).
    const end = Date.UTC(2031, 2, 31, 19);
    const [summary] = recordLedger(VIN, s, [charge(end - HOUR, end, 8)], [], { now: end, tariff: kathmandu });
    assert.deepStrictEqual(pick(summary, ['month', 'timeZone', 'from', 'to', 'cost']), {
      month: '2031-04',
      timeZone: 'Asia/Kathmandu',
      from: '2031-04-01T00:00:00+05:45',
      to: '2031-05-01T00:00:00+05:45',
      cost: 2.4,
    });
  });

  it('the open month summary: none before the first finish, none when its figures are gone, at "" when a saved month has no time', () => {
    assert.strictEqual(openMonthSummary(undefined, VIN), undefined);
    assert.strictEqual(openMonthSummary(initialLedgerState(), VIN), undefined);
    const s = initialLedgerState();
    recordLedger(VIN, s, [charge(NOV(2), NOV(2) + HOUR, 4)], [], { now: NOV(2) + HOUR });
    recordLedger(VIN, s, [charge(Date.UTC(2026, 9, 30), Date.UTC(2026, 9, 30, 1), 6)], [], { now: NOV(3) });
    assert.deepStrictEqual(
      s.months.map((m) => m.month),
      ['2026-10', '2026-11'],
    );
    const open = openMonthSummary(s, VIN);
    assert.deepStrictEqual(pick(open as object, ['vin', 'month', 'at', 'kwh', 'energyCounterKwh']), {
      vin: VIN,
      month: '2026-11',
      at: iso(NOV(2) + HOUR),
      kwh: 4,
      energyCounterKwh: 10,
    });
    const older = { ...s, months: s.months.map((m) => ({ ...m, at: undefined })) };
    assert.strictEqual(openMonthSummary(older, VIN)?.at, '');
    assert.strictEqual(openMonthSummary({ ...s, months: s.months.slice(0, 1) }, VIN), undefined);
  });
});

describe('Ledger: the energy counter counts each session once', () => {
  const T = Date.UTC(2026, 10, 10, 10);

  it('sessions that touch are both counted; one overlapping a counted one only in its month; the memory is kept in order of end', () => {
    const s = initialLedgerState();
    recordLedger(VIN, s, [charge(T, T + HOUR, 10)], [], { now: T + HOUR });
    recordLedger(VIN, s, [charge(T + HOUR, T + 2 * HOUR, 5)], [], { now: T + 2 * HOUR });
    // A finish arriving late, ending where the first began.
    recordLedger(VIN, s, [charge(T - HOUR, T, 2)], [], { now: T + 3 * HOUR });
    assert.strictEqual(s.energyKwh, 17);
    assert.deepStrictEqual(s.sessions, [
      [T - HOUR, T],
      [T, T + HOUR],
      [T + HOUR, T + 2 * HOUR],
    ]);
    // The first again (a restart): the month counts it, the counter does not.
    const [again] = recordLedger(VIN, s, [charge(T + 30 * MIN, T + 90 * MIN, 3)], [], { now: T + 4 * HOUR });
    assert.deepStrictEqual([again.sessions, again.kwh, again.energyCounterKwh, s.sessions.length], [4, 20, 17, 3]);
  });

  it(`before the import the latest ${LEDGER_MAX_SESSIONS} sessions are kept; the history up to the end of the last dropped one is taken as counted`, () => {
    const T0 = Date.UTC(2024, 0, 1, 10);
    const s = initialLedgerState();
    const n = LEDGER_MAX_SESSIONS + 2;
    for (let i = 0; i < n; i += 1) recordLedger(VIN, s, [charge(T0 + i * DAY, T0 + i * DAY + HOUR, 1)], [], { now: T0 + i * DAY + HOUR });
    assert.strictEqual(s.energyKwh, n);
    assert.strictEqual(s.sessions.length, LEDGER_MAX_SESSIONS);
    assert.deepStrictEqual(s.sessions[0], [T0 + 2 * DAY, T0 + 2 * DAY + HOUR]);
    // The second session's end: the later of the two dropped.
    assert.strictEqual(s.droppedUntil, T0 + DAY + HOUR);
    const now = T0 + n * DAY;
    const result = importChargingHistory(
      s,
      [
        row(T0 + HOUR, T0 + 2 * HOUR, 5), // between the two dropped sessions
        row(T0 + DAY + HOUR, T0 + DAY + 2 * HOUR, 7), // starts as the last dropped one ended
        row(T0 - 10 * DAY, T0 - 10 * DAY + HOUR, 9), // before them all
      ],
      now,
    );
    assert.deepStrictEqual(result, { counted: 1, kwh: 7, skipped: 2, alreadyImported: false, energyCounterKwh: n + 7 });
    assert.deepStrictEqual([s.historyImportedAt, s.droppedUntil, s.sessions.length], [iso(now), null, 20]);
    assert.deepStrictEqual(s.sessions.at(-1), [T0 + (n - 1) * DAY, T0 + (n - 1) * DAY + HOUR]);
  });

  it('after the import only the latest 20 sessions are kept and none dropped counts: a late finish older than them is counted', () => {
    const s = initialLedgerState();
    for (let i = 0; i < 25; i += 1) recordLedger(VIN, s, [charge(T + i * DAY, T + i * DAY + HOUR, 1)], [], { now: T + i * DAY + HOUR });
    const now = T + 30 * DAY;
    assert.deepStrictEqual(importChargingHistory(s, [], now), { counted: 0, kwh: 0, skipped: 0, alreadyImported: false, energyCounterKwh: 25 });
    assert.strictEqual(s.sessions.length, 20);
    assert.deepStrictEqual(s.sessions[0], [T + 5 * DAY, T + 5 * DAY + HOUR]);
    recordLedger(VIN, s, [charge(T + 40 * DAY, T + 40 * DAY + HOUR, 1)], [], { now: T + 40 * DAY + HOUR });
    assert.deepStrictEqual([s.sessions.length, s.droppedUntil], [20, null]);
    assert.deepStrictEqual(s.sessions[0], [T + 6 * DAY, T + 6 * DAY + HOUR]);
    recordLedger(VIN, s, [charge(T - 5 * DAY, T - 5 * DAY + HOUR, 2)], [], { now: T + 41 * DAY });
    assert.strictEqual(s.energyKwh, 28);
  });
});

describe('Ledger: the import of the charging history checks each row', () => {
  const T = Date.UTC(2026, 10, 2, 18);

  it('rows without a usable start, end or grid energy, and rows that are not objects, are skipped; a row of 0 kWh is counted', () => {
    const s = initialLedgerState();
    const rows = [
      row(0, T + HOUR, 5),
      row(NaN, T + HOUR, 5),
      row(-T, T + HOUR, 5),
      row(undefined, T + HOUR, 5),
      row(String(T / 1000), T + HOUR, 5),
      row(T, Infinity, 5),
      row(T, null, 5), // still in progress
      row(T + 2 * HOUR, T + HOUR, 5), // ends before it starts
      row(T + 3 * HOUR, T + 3 * HOUR, 5), // no time at all
      row(T + 4 * HOUR, T + 5 * HOUR, -1),
      row(T + 4 * HOUR, T + 5 * HOUR, undefined),
      row(T + 4 * HOUR, T + 5 * HOUR, NaN),
      null,
      row(T + 6 * HOUR, T + 7 * HOUR, 0),
      row(T + 8 * HOUR, T + 9 * HOUR, 12.5),
    ] as ChargingSession[];
    assert.deepStrictEqual(importChargingHistory(s, rows, T + DAY), { counted: 2, kwh: 12.5, skipped: 13, alreadyImported: false, energyCounterKwh: 12.5 });
    assert.deepStrictEqual(s.sessions, [
      [T + 6 * HOUR, T + 7 * HOUR],
      [T + 8 * HOUR, T + 9 * HOUR],
    ]);
  });

  it('of overlapping rows the one that started first is counted, whatever the order of the list; rows that touch are both counted', () => {
    const s = initialLedgerState();
    const rows = [
      row(T + 30 * MIN, T + 2 * HOUR, 10), // overlaps the first and the last
      row(T, T + HOUR, 20),
      row(T + HOUR, T + 90 * MIN, 3), // starts as the first ends
    ];
    assert.deepStrictEqual(importChargingHistory(s, rows, T + DAY), { counted: 2, kwh: 23, skipped: 1, alreadyImported: false, energyCounterKwh: 23 });
  });

  it('times in milliseconds are read as milliseconds: the stream session listed so is not counted again', () => {
    const s = initialLedgerState();
    recordLedger(VIN, s, [charge(T, T + 2 * HOUR, 15)], [], { now: T + 2 * HOUR });
    const result = importChargingHistory(s, [row(T - 5 * MIN, T + 2 * HOUR, 16, 'ms'), row(T - 2 * DAY, T - 2 * DAY + HOUR, 8, 'ms')], T + DAY);
    assert.deepStrictEqual(result, { counted: 1, kwh: 8, skipped: 1, alreadyImported: false, energyCounterKwh: 23 });
  });
});

describe('Ledger: a saved ledger is checked before it is used', () => {
  function saved(): LedgerState {
    const s = initialLedgerState();
    recordLedger(VIN, s, [charge(Date.UTC(2026, 10, 2, 18), Date.UTC(2026, 10, 2, 20), 12)], [trip(Date.UTC(2026, 10, 3), 8)], {
      now: Date.UTC(2026, 10, 3),
      tariff: TARIFF,
    });
    return JSON.parse(JSON.stringify(s));
  }

  it('none saved: undefined; a good one: an equal copy', () => {
    assert.strictEqual(restoreLedger(undefined, VIN), undefined);
    assert.strictEqual(restoreLedger(null, VIN), undefined);
    const good = saved();
    const back = restoreLedger(good, VIN);
    assert.deepStrictEqual(back, good);
    assert.notStrictEqual(back, good);
    assert.notStrictEqual(back?.months, good.months);
  });

  const broken: Array<[string, (s: Record<string, any>) => unknown]> = [
    ['not an object', () => 5],
    ['a text', () => 'ledger'],
    ['a time zone that is no text', (s) => ({ ...s, timeZone: 1 })],
    ['an energy counter that is text', (s) => ({ ...s, energyKwh: '12' })],
    ['an energy counter that is not finite', (s) => ({ ...s, energyKwh: Infinity })],
    ['a negative energy counter', (s) => ({ ...s, energyKwh: -1 })],
    ['sessions that are no list', (s) => ({ ...s, sessions: {} })],
    ['months that are no list', (s) => ({ ...s, months: {} })],
    ['a session that is no pair', (s) => ({ ...s, sessions: [5] })],
    ['a session that is null', (s) => ({ ...s, sessions: [null] })],
    ['a session of three numbers', (s) => ({ ...s, sessions: [[1, 2, 3]] })],
    ['a session that only looks like a pair', (s) => ({ ...s, sessions: [{ 0: 1, 1: 2, length: 2 }] })],
    ['a session whose start is text', (s) => ({ ...s, sessions: [['1', 2]] })],
    ['a session whose end is text', (s) => ({ ...s, sessions: [[1, '2']] })],
    ['a month that is null', (s) => ({ ...s, months: [null] })],
    ['a month that is a number', (s) => ({ ...s, months: [5] })],
    ['a month named by a number', (s) => ({ ...s, months: [{ ...s.months[0], month: 202611 }] })],
    ['a month name with a prefix', (s) => ({ ...s, months: [{ ...s.months[0], month: 'x2026-11' }] })],
    ['a month name with a suffix', (s) => ({ ...s, months: [{ ...s.months[0], month: '2026-11x' }] })],
    ['a month name in a list', (s) => ({ ...s, months: [{ ...s.months[0], month: ['2026-11'] }] })],
    ['a month name of one digit', (s) => ({ ...s, months: [{ ...s.months[0], month: '2026-1' }] })],
    ['a month whose sessions are text', (s) => ({ ...s, months: [{ ...s.months[0], sessions: '1' }] })],
    ['a month whose measured kWh are null', (s) => ({ ...s, months: [{ ...s.months[0], kwhMeasured: null }] })],
    ['a month whose estimated kWh are text', (s) => ({ ...s, months: [{ ...s.months[0], kwhEstimate: '0' }] })],
    ['a month whose trips are missing', (s) => ({ ...s, months: [{ ...s.months[0], trips: undefined }] })],
    ['a month whose km are text', (s) => ({ ...s, months: [{ ...s.months[0], distanceKm: '8' }] })],
    ['an open month that is a number', (s) => ({ ...s, open: 202611 })],
    ['an end that is text', (s) => ({ ...s, endsAt: 'soon' })],
  ];
  for (const [what, make] of broken) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => restoreLedger(make(saved()), VIN),
        (e: Error) => e instanceof TypeError && e.message === `Not a saved live-data state: ledger of ${VIN}`,
      );
    });
  }
});
