// The ledger: charging cost under a tariff, the energy counter and the monthly figures, from the stream's finished
// charges and trips (scripted replays with exact figures), across restarts, with the charging history imported
// over REST, and at the end of a month in the tariff's time zone.
import assert from 'assert';
import fc from 'fast-check';
import * as core from '../../../src/node';
import { CHARGING_SCRIPTS, chargingScriptItems } from '../../../src/simulator/charging-scripts';
import { TRIP_SCRIPTS, tripScriptItems } from '../../../src/simulator/trip-scripts';
import { SIM_VINS } from '../../../src/simulator';
import { streamed } from '../../support/stream-message';
import type { ChargingFinishedEvent, ChargingSession, Tariff } from '../../../src/core';

const { LiveData, createLiveFeed, parseTariff, flattenChargingSessionWithCost, LEDGER_MONTHS } = core;
const BEV = SIM_VINS.bev;
const PHEV = SIM_VINS.phev;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FLAT = parseTariff({ currency: 'EUR', pricePerKwh: 0.3, perSession: 1, timeZone: 'Europe/Berlin' });
const r2 = (n) => Math.round(n * 100) / 100;

/** Items of a script placed at `start` (epoch ms), for `vin`. */
function charge(name, start, vin = CHARGING_SCRIPTS[name].vin) {
  return chargingScriptItems(CHARGING_SCRIPTS[name], { vin, start });
}
function drive(name, start, vin = TRIP_SCRIPTS[name].vin) {
  return tripScriptItems(TRIP_SCRIPTS[name], { vin, start });
}

/**
 * Plays items (in time order) as a host with timers does: the clock follows the messages, and whenever it passes
 * nextSettleAt() the finishes and month ends due go out. With `restartEvery`, the host restarts from the saved
 * state after every that many messages and the broker delivers the last message again.
 */
function play(
  items,
  { tariff, until, restartEvery, timers = true, saved }: { tariff?: Tariff; until?: number; restartEvery?: number; timers?: boolean; saved?: any } = {},
) {
  let clock = 0;
  const now = () => clock;
  let live = new LiveData({ now, tariff, state: saved });
  const out = [];
  const take = (updates) => {
    for (const u of updates) out.push(...u.events, ...u.trips, ...u.ledger);
  };
  const runTo = (t) => {
    for (;;) {
      const next = timers ? Math.min(live.nextSettleAt() ?? Infinity, live.nextMonthEnd() ?? Infinity) : Infinity;
      if (next > t) break;
      clock = Math.max(clock, next);
      take(live.settle());
    }
    clock = Math.max(clock, t);
  };
  let n = 0;
  for (const item of items.sort((a, b) => Date.parse(a.at) - Date.parse(b.at))) {
    if ('marker' in item) continue;
    runTo(Date.parse(item.at));
    const u = live.ingest(item.message, '');
    if (u) take([u]);
    if (restartEvery && ++n % restartEvery === 0) {
      live = new LiveData({ now, tariff, state: JSON.parse(live.serializeText()) });
      const again = live.ingest(item.message, '');
      if (again) take([again]);
    }
  }
  runTo(until ?? clock + DAY);
  return { out, live };
}

/** How long after its first message the AC script's charge ends (CHARGINGENDED). */
const AC_SPAN = Date.parse(
  chargingScriptItems(CHARGING_SCRIPTS['ac-session'], { start: 0 }).find(
    (i) => 'message' in i && Object.values(i.message.data).some((d) => d.value === 'CHARGINGENDED'),
  ).at,
);
const finishedCharges = (out) => out.filter((e) => e.kind === 'charging-finished');
const summaries = (out) => out.filter((e) => e.kind === 'summary');
const closed = (out) => out.filter((e) => e.kind === 'month-closed');

/** The figures of a summary that the test compares. */
function figures(e) {
  const { sessions, kwh, kwhMeasured, kwhEstimate, trips, distanceKm, kwhPer100Km, cost, currency, costPer100Km, energyCounterKwh } = e;
  return { sessions, kwh, kwhMeasured, kwhEstimate, trips, distanceKm, kwhPer100Km, cost, currency, costPer100Km, energyCounterKwh };
}

describe('Ledger: charging cost, energy counter and monthly figures from the stream', () => {
  // Energy added and distances as the charging and trip replays establish them (test/core/live/charging-events.test.ts, test/core/live/trips.test.ts).
  const AC_KWH = 25.82; // estimate
  const DC_KWH = 54.6; // measured
  const COMMUTE_KM = 6;
  const TUNNEL_KM = 31;
  const month = () => [
    ...charge('ac-session', Date.UTC(2026, 10, 10, 17)),
    ...drive('commute', Date.UTC(2026, 10, 11, 6, 30)),
    ...charge('dc-session', Date.UTC(2026, 10, 12, 12), BEV),
    ...drive('tunnel', Date.UTC(2026, 10, 13, 6, 30)),
  ];

  it('a month of two charges and two trips: each finished charge with its cost, a summary after each, the exact figures', () => {
    const { out, live } = play(month(), { tariff: FLAT, until: Date.UTC(2026, 10, 20) });
    const charges = finishedCharges(out);
    assert.deepStrictEqual(
      charges.map((e) => e.cost),
      [
        { currency: 'EUR', kwh: AC_KWH, energy: 'estimate', perSession: 1, amount: r2(AC_KWH * 0.3 + 1), method: 'flat' },
        { currency: 'EUR', kwh: DC_KWH, energy: 'measured', perSession: 1, amount: r2(DC_KWH * 0.3 + 1), method: 'flat' },
      ],
    );
    const s = summaries(out);
    assert.deepStrictEqual(
      s.map((e) => [e.month, e.timeZone, e.sessions, e.trips]),
      [
        ['2026-11', 'Europe/Berlin', 1, 0],
        ['2026-11', 'Europe/Berlin', 1, 1],
        ['2026-11', 'Europe/Berlin', 2, 1],
        ['2026-11', 'Europe/Berlin', 2, 2],
      ],
    );
    const cost = r2(AC_KWH * 0.3 + 1) + r2(DC_KWH * 0.3 + 1);
    const kwh = AC_KWH + DC_KWH;
    const km = COMMUTE_KM + TUNNEL_KM;
    assert.deepStrictEqual(figures(s[3]), {
      sessions: 2,
      kwh: Math.round(kwh * 1000) / 1000,
      kwhMeasured: DC_KWH,
      kwhEstimate: AC_KWH,
      trips: 2,
      distanceKm: km,
      kwhPer100Km: r2((kwh / km) * 100),
      cost: r2(cost),
      currency: 'EUR',
      costPer100Km: r2((cost / km) * 100),
      energyCounterKwh: Math.round(kwh * 1000) / 1000,
    });
    assert.deepStrictEqual(
      [s[3].from, s[3].to, s[3].at],
      ['2026-11-01T00:00:00+01:00', '2026-12-01T00:00:00+01:00', out.filter((e) => e.kind === 'trip-finished')[1].at],
    );
    // Each summary comes after the finish it follows from, before the next one.
    const order = out.filter((e) => ['charging-finished', 'trip-finished', 'summary'].includes(e.kind)).map((e) => e.kind);
    assert.deepStrictEqual(order, ['charging-finished', 'summary', 'trip-finished', 'summary', 'charging-finished', 'summary', 'trip-finished', 'summary']);
    assert.strictEqual(closed(out).length, 0);
    assert.strictEqual(live.vehicle(BEV).ledger.energyKwh, kwh);
  });

  it('no tariff: no cost anywhere, the energy counter and the other figures all the same', () => {
    const { out } = play(month(), { until: Date.UTC(2026, 10, 20) });
    for (const e of [...finishedCharges(out), ...summaries(out)]) {
      assert.deepStrictEqual(
        ['cost', 'currency', 'costPer100Km'].filter((k) => k in e),
        [],
      );
    }
    const last = summaries(out).at(-1);
    assert.deepStrictEqual(
      [last.timeZone, last.sessions, last.trips, last.kwh, last.distanceKm],
      ['UTC', 2, 2, Math.round((AC_KWH + DC_KWH) * 1000) / 1000, COMMUTE_KM + TUNNEL_KM],
    );
  });

  it('a restart after every message (the broker delivering the last one again) counts nothing twice and loses nothing', () => {
    const once = play(month(), { tariff: FLAT, until: Date.UTC(2026, 10, 20) });
    for (const every of [1, 3, 7]) {
      const restarted = play(month(), { tariff: FLAT, until: Date.UTC(2026, 10, 20), restartEvery: every });
      assert.deepStrictEqual(summaries(restarted.out), summaries(once.out), `restart every ${every}`);
      assert.deepStrictEqual(restarted.live.vehicle(BEV).ledger, once.live.vehicle(BEV).ledger);
    }
  });

  it('the restart script (a host restart mid-charge) gives one session in the counter', () => {
    const items = charge('restart', Date.UTC(2026, 10, 10, 17));
    const { out, live } = play(items, { tariff: FLAT, restartEvery: 1 });
    assert.strictEqual(finishedCharges(out).length, 1);
    assert.strictEqual(summaries(out).length, 1);
    assert.strictEqual(live.vehicle(CHARGING_SCRIPTS.restart.vin).ledger.energyKwh, finishedCharges(out)[0].energyAdded.kwh);
  });

  it("the month closes at its end in the tariff's time zone, exactly once, with the final figures; the next month starts at zero", () => {
    // 23:30 UTC on 30 November is 00:30 on 1 December in Berlin: a charge ending then belongs to December there.
    const endingAt = (end) => charge('ac-session', end - AC_SPAN);
    const { out } = play([...month(), ...endingAt(Date.UTC(2026, 10, 30, 23, 30))], { tariff: FLAT, until: Date.UTC(2026, 11, 2) });
    const c = closed(out);
    assert.strictEqual(c.length, 1);
    assert.deepStrictEqual([c[0].month, c[0].at, c[0].sessions, c[0].trips], ['2026-11', '2026-11-30T23:00:00.000Z', 2, 2]);
    assert.deepStrictEqual(figures(c[0]), figures(summaries(out)[3]));
    const december = summaries(out).at(-1);
    assert.deepStrictEqual(
      [december.month, december.sessions, december.trips, december.kwh, december.from],
      ['2026-12', 1, 0, AC_KWH, '2026-12-01T00:00:00+01:00'],
    );
    // In UTC the same charge is still November's.
    const utc = play([...month(), ...endingAt(Date.UTC(2026, 10, 30, 23, 30))], { until: Date.UTC(2026, 11, 2) });
    assert.deepStrictEqual(summaries(utc.out).at(-1).month, '2026-11');
    assert.deepStrictEqual(
      closed(utc.out).map((e) => [e.month, e.at, e.sessions]),
      [['2026-11', '2026-12-01T00:00:00.000Z', 3]],
    );
  });

  it("a charge that ended just before the month's end holds the month until its finish has gone out; without timers the month closes at the first reading after", () => {
    // Ends at 23:58 in Berlin on 30 November; its finish waits five minutes for late readings, into December.
    const late = charge('ac-session', Date.UTC(2026, 10, 30, 22, 58) - AC_SPAN);
    const { out } = play([...month(), ...late], { tariff: FLAT, until: Date.UTC(2026, 11, 2) });
    const c = closed(out);
    assert.strictEqual(c.length, 1);
    assert.deepStrictEqual([c[0].month, c[0].sessions, c[0].kwhEstimate], ['2026-11', 3, Math.round(AC_KWH * 2 * 1000) / 1000]);
    assert.ok(out.indexOf(c[0]) > out.indexOf(finishedCharges(out)[2]));

    // Without timers: nothing closes until the car sends something in December.
    const quiet = play(month(), { tariff: FLAT, timers: false, until: Date.UTC(2026, 11, 5) });
    assert.strictEqual(closed(quiet.out).length, 0);
    const more = play([...month(), ...drive('commute', Date.UTC(2026, 11, 5, 6, 30))], { tariff: FLAT, timers: false });
    assert.deepStrictEqual(
      closed(more.out).map((e) => [e.month, e.at, e.sessions, e.trips]),
      [['2026-11', '2026-11-30T23:00:00.000Z', 2, 2]],
    );
    assert.deepStrictEqual(more.live.vehicle(BEV).ledger.open, '2026-12');
  });

  it('months are kept for two years at most; a restart after the end does not close the month again', () => {
    const items = [];
    for (let m = 0; m < LEDGER_MONTHS + 6; m += 1) items.push(...drive('commute', Date.UTC(2025, m, 10, 6, 30)));
    const { out, live } = play(items, { tariff: FLAT });
    assert.strictEqual(closed(out).length, LEDGER_MONTHS + 5);
    assert.strictEqual(new Set(closed(out).map((e) => e.month)).size, LEDGER_MONTHS + 5);
    const months = live.vehicle(BEV).ledger.months;
    assert.strictEqual(months.length, LEDGER_MONTHS);
    assert.strictEqual(months.at(-1).month, '2027-06');
    const again = new LiveData({ now: () => Date.UTC(2027, 5, 20), tariff: FLAT, state: live.serialize() });
    assert.deepStrictEqual(again.settle(), []);
  });
});

describe('Ledger: the charging history imported over REST', () => {
  const sec = (iso) => Date.parse(iso) / 1000;
  const session = (start, end, kwh) => ({
    startTime: sec(start),
    endTime: end === null ? null : sec(end),
    energyConsumedFromPowerGridKwh: kwh,
    timeZone: 'Europe/Berlin',
    displayedSoc: 80,
    displayedStartSoc: 20,
    totalChargingDurationSec: 3600,
    isPreconditioningActivated: false,
    mileage: 1,
    mileageUnits: 'MileageUnits.KM',
  });

  it('counts the sessions once; one overlapping a stream session, one still in progress and a repeated one are left out; a second import counts nothing', async () => {
    let clock = Date.UTC(2026, 10, 10, 17);
    const texts = [];
    const feed = createLiveFeed({ now: () => clock, tariff: FLAT, save: (t) => void texts.push(t) });
    for (const item of charge('ac-session', Date.UTC(2026, 10, 10, 17))) {
      clock = Date.parse(item.at);
      if ('message' in item) await feed.push(streamed(item.message));
    }
    clock += DAY;
    const car = feed.live.vehicle(BEV);
    assert.strictEqual(car.ledger.energyKwh, 25.82);
    const history = [
      session('2026-11-10T16:55:00Z', '2026-11-10T19:40:00Z', 27.1), // the stream's session, as BMW lists it
      session('2026-11-02T18:00:00Z', '2026-11-02T21:00:00Z', 12.5),
      session('2026-11-02T18:00:00Z', '2026-11-02T21:00:00Z', 12.5), // the same again
      session('2026-10-28T07:00:00Z', '2026-10-28T07:40:00Z', 31.25),
      session('2026-11-11T07:00:00Z', null, 3), // in progress
    ];
    const result = await feed.importChargingHistory(BEV, history);
    assert.deepStrictEqual(result, { counted: 2, kwh: 43.75, skipped: 3, alreadyImported: false, energyCounterKwh: 69.57 });
    // Saved before it resolved.
    assert.strictEqual(JSON.parse(texts.at(-1)).vehicles[BEV].ledger.energyKwh, 25.82 + 43.75);
    assert.deepStrictEqual(await feed.importChargingHistory(BEV, history), { counted: 0, kwh: 0, skipped: 5, alreadyImported: true, energyCounterKwh: 69.57 });
    // The monthly figures stay the stream's.
    assert.strictEqual(feed.live.vehicle(BEV).ledger.months.at(-1).sessions, 1);
    await feed.close();
  });

  it('a stream finish arriving after the import of the same session adds to the month, not to the counter again', () => {
    let clock = Date.UTC(2026, 10, 10, 19, 27);
    const live = new LiveData({ now: () => clock });
    const items = charge('ac-session', Date.UTC(2026, 10, 10, 17)).filter((i) => 'message' in i);
    for (const item of items) live.ingest(item.message, '');
    // The finish waits for late readings; meanwhile the history lists the session.
    live.importChargingHistory(BEV, [session('2026-11-10T17:00:00Z', '2026-11-10T19:26:00Z', 26.4)]);
    clock += DAY;
    const [u] = live.settle();
    assert.deepStrictEqual(
      u.ledger.map((e) => [e.kind, e.sessions, e.kwh, e.energyCounterKwh]),
      [['summary', 1, 25.82, 26.4]],
    );
  });

  it('the energy counter only ever increases, whatever the order of charges, restarts, imports and month ends (property)', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('charge'),
        day: fc.integer({ min: 0, max: 400 }),
        kwh: fc.oneof(fc.constant(null), fc.double({ min: -5, max: 120, noNaN: true })),
        estimate: fc.boolean(),
      }),
      fc.record({
        kind: fc.constant('import'),
        days: fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 6 }),
        kwh: fc.double({ min: 0, max: 90, noNaN: true }),
      }),
      fc.record({ kind: fc.constant('restart') }),
      fc.record({ kind: fc.constant('wait'), days: fc.integer({ min: 1, max: 60 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.boolean(), (ops, withTariff) => {
        let clock = Date.UTC(2026, 0, 1);
        const tariff = withTariff ? FLAT : undefined;
        let live = new LiveData({ now: () => clock, tariff });
        let counter = 0;
        const check = () => {
          const now = live.vehicle(BEV)?.ledger?.energyKwh ?? 0;
          assert.ok(now >= counter, `${now} < ${counter}`);
          counter = now;
        };
        for (const o of ops) {
          if (o.kind === 'charge') {
            const start = Date.UTC(2026, 0, 1) + o.day * DAY;
            const finished = {
              kind: 'charging-finished',
              vin: BEV,
              at: new Date(start + HOUR).toISOString(),
              startedAt: new Date(start).toISOString(),
              endedAt: new Date(start + HOUR).toISOString(),
              energyAdded: o.kwh === null ? null : { kwh: o.kwh, estimate: o.estimate, method: 'soc-x-battery-size' },
            } as ChargingFinishedEvent;
            const record = live.vehicle(BEV) ?? { ledger: undefined };
            const state = record.ledger ?? core.initialLedgerState();
            core.recordLedger(BEV, state, [finished], [], { now: clock, tariff });
            const saved = live.serialize();
            saved.vehicles[BEV] ??= { vin: BEV, updatedAt: null, values: {}, charging: core.initialChargingState(), trips: core.initialTripState() };
            saved.vehicles[BEV].ledger = state;
            live = new LiveData({ now: () => clock, tariff, state: saved });
          } else if (o.kind === 'import') {
            live.importChargingHistory(
              BEV,
              o.days.map((d) =>
                session(
                  new Date(Date.UTC(2026, 0, 1) + d * DAY + 2 * HOUR).toISOString(),
                  new Date(Date.UTC(2026, 0, 1) + d * DAY + 3 * HOUR).toISOString(),
                  o.kwh,
                ),
              ),
            );
          } else if (o.kind === 'restart') {
            live = new LiveData({ now: () => clock, tariff, state: live.serialize() });
          } else {
            clock += o.days * DAY;
            live.settle();
          }
          check();
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('Ledger: the live feed and the charging-history rows', () => {
  it('the feed hands out summaries after the finish they follow, each saved before it goes out; ledgerKinds limits them', async () => {
    let clock = 0;
    let saved = '';
    const seen = [];
    const feed = createLiveFeed({
      now: () => clock,
      tariff: FLAT,
      save: (t) => {
        saved = t;
      },
      onChargingEvent: (e) => seen.push(e.kind),
      onLedgerEvent: (e) => seen.push([e.kind, e.energyCounterKwh, JSON.parse(saved).vehicles[e.vin].ledger.energyKwh]),
      ledgerKinds: ['summary'],
    });
    for (const item of charge('phev-no-soc', Date.UTC(2026, 10, 10, 17))) {
      clock = Date.parse(item.at);
      if ('message' in item) await feed.push(streamed(item.message));
    }
    clock += DAY;
    await feed.push(streamed({ vin: PHEV, data: { 'vehicle.vehicle.travelledDistance': { value: 1, timestamp: new Date(clock).toISOString() } } }));
    assert.deepStrictEqual(
      seen.filter((x) => Array.isArray(x) || x === 'charging-finished'),
      ['charging-finished', ['summary', 10.5, 10.5]],
    );
    await feed.close();
  });

  it("with timers, the month's end is a timer of at most 2^31 - 1 ms (a longer one would fire at once), and month-closed goes out when it is due", async () => {
    // Charged on 2 November: the month ends 29 days later.
    let clock = Date.UTC(2026, 10, 2, 17);
    const delays = [];
    const pending = [];
    const timers = {
      setTimeout: (fn, ms) => (delays.push(ms), pending.push({ fn, at: clock + ms }), pending.length),
      clearTimeout: (id) => (pending[id - 1] = undefined),
    };
    const seen = [];
    const feed = createLiveFeed({ now: () => clock, timers, tariff: FLAT, onLedgerEvent: (e) => seen.push([e.kind, e.month]) });
    for (const item of charge('ac-session', Date.UTC(2026, 10, 2, 17))) {
      clock = Date.parse(item.at);
      if ('message' in item) await feed.push(streamed(item.message));
    }
    // Run the timers as the clock passes them, up to 2 December.
    for (let guard = 0; guard < 50; guard += 1) {
      const next = pending
        .map((p, i) => [p, i])
        .filter(([p]) => p)
        .sort((a, b) => a[0].at - b[0].at)[0];
      if (!next || next[0].at > Date.UTC(2026, 11, 2)) break;
      pending[next[1]] = undefined;
      clock = next[0].at;
      next[0].fn();
      await feed.flush();
    }
    assert.ok(
      delays.every((ms) => ms >= 0 && ms <= 2_147_483_647),
      delays.join(),
    );
    assert.deepStrictEqual(seen, [
      ['summary', '2026-11'],
      ['month-closed', '2026-11'],
    ]);
    await feed.close();
  });

  it("a charging-history row gains our cost in columns of its own beside BMW's cost; the session from 21:00 to 01:00 under a night price", () => {
    const tariff = parseTariff({ currency: 'EUR', pricePerKwh: 0.4, timeOfUse: [{ from: '22:00', to: '06:00', pricePerKwh: 0.2 }], timeZone: 'Europe/Berlin' });
    const s = {
      startTime: Date.UTC(2026, 10, 2, 20) / 1000,
      endTime: Date.UTC(2026, 10, 3, 0) / 1000,
      energyConsumedFromPowerGridKwh: 20,
      timeZone: 'Europe/Berlin',
      chargingCostInformation: { currency: 'EUR', calculatedChargingCost: 7.1, calculatedSavings: 0 },
    } as ChargingSession;
    const row = flattenChargingSessionWithCost(s, tariff);
    // One hour at 0.40, three at 0.20: 5 kWh × 0.40 + 15 kWh × 0.20.
    assert.deepStrictEqual(
      [row.cost, row.currency, row.tariffCost, row.tariffCurrency, row.tariffKwh, row.tariffMethod],
      [7.1, 'EUR', 5, 'EUR', 20, 'time-of-use'],
    );
    const open = flattenChargingSessionWithCost({ ...s, endTime: null }, tariff);
    assert.deepStrictEqual([open.tariffCost, open.tariffKwh, open.tariffMethod], [null, null, '']);
    assert.ok(!('tariffCost' in core.flattenChargingSession(s)));
  });
});
