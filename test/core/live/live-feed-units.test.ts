// The live feed's edges: no saved state, a host without onProblem or with half a subscriber, the quiet update of an
// imported charging history (saved at once, that car alone), saves that fail and work again, the batch save of a
// car not followed, empty filter lists, the kinds of trip and ledger events, and the settle timer's schedule.
import assert from 'assert';
import * as core from '../../../src/node';
import { fakeClock } from '../../support/stream-fakes';
import { streamed } from '../../support/stream-message';
import { CHARGING_SCRIPTS, chargingScriptItems } from '../../../src/simulator/charging-scripts';
import { TRIP_SCRIPTS, tripScriptItems } from '../../../src/simulator/trip-scripts';
import { SOC } from '../../../src/simulator/descriptor-names';
import type { ChargingSession } from '../../../src/core';
import type { LiveUpdate } from '../../../src/core/live/live-data';

const { createLiveFeed, liveStateFromCars, FINISH_SETTLE_MS } = core;

const VIN = 'WBA12345678901234';
const VIN2 = 'WBA12345678901235';
const T0 = Date.parse('2026-01-01T10:00:00Z');
const T = (s: number) => new Date(T0 + s * 1000).toISOString();
const soc = (v: number, s: number, vin = VIN) => streamed({ vin, timestamp: T(s), data: { [SOC]: { value: v, unit: '%', timestamp: T(s) } } });
const history = (): ChargingSession[] =>
  [{ startTime: T0 / 1000 - 7200, endTime: T0 / 1000 - 3600, energyConsumedFromPowerGridKwh: 12.5, timeZone: 'UTC' }] as unknown as ChargingSession[];
const QUIET = (vin: string): LiveUpdate => ({ vin, changed: true, changes: [], duplicates: 0, stale: 0, future: 0, events: [], trips: [], ledger: [] });

/** The items of a script with messages only, in time order. */
function messages(items: Array<{ at: string; message?: any; marker?: unknown }>) {
  return items.filter((i) => 'message' in i).sort((a, b) => Date.parse(a.at) - Date.parse(b.at)) as Array<{ at: string; message: any }>;
}

describe('core live feed: edges', () => {
  it('no saved state, undefined or null, starts afresh without a word', async () => {
    for (const saved of [undefined, null]) {
      const problems: string[] = [];
      const feed = createLiveFeed({ saved, onProblem: (m) => problems.push(m) });
      await feed.push(soc(40, 0));
      assert.deepStrictEqual([problems, Object.keys(feed.live.serialize().vehicles)], [[], [VIN]], String(saved));
    }
  });

  it('without onProblem the feed goes on past a broken saved state, failing saves, dropped readings, readings ahead of the clock and a throwing callback', async () => {
    const seen: string[] = [];
    const feed = createLiveFeed({
      saved: '{not json',
      now: () => T0,
      save: () => {
        throw new Error('disk full');
      },
      limits: { maxKeysPerCar: 2 },
      onVehicle: (v, u) => {
        seen.push(`${v.vin} ${u.changes.join(',')}`);
        if (u.changes.includes('x.boom')) throw new Error('host failed');
      },
    });
    await feed.push(soc(40, 0));
    await feed.push(streamed({ vin: VIN, data: { 'x.one': { value: 1, timestamp: T(1) }, 'x.two': { value: 2, timestamp: T(1) } } }));
    await feed.push(streamed({ vin: VIN2, data: { [SOC]: { value: 50, unit: '%', timestamp: '2027-01-01T00:00:00Z' } } }));
    await feed.push(streamed({ vin: VIN2, data: { 'x.boom': { value: 1, timestamp: T(2) } } }));
    await feed.push(soc(41, 3));
    assert.deepStrictEqual(seen, [`${VIN} ${SOC}`, `${VIN} x.one`, `${VIN2} ${SOC}`, `${VIN2} x.boom`, `${VIN} ${SOC}`]);
  });

  it('a key of 80 characters is named whole when it is dropped; a longer one is cut to 80', async () => {
    const problems: string[] = [];
    const feed = createLiveFeed({ limits: { maxKeysPerCar: 1 }, onProblem: (m) => problems.push(m) });
    const k80 = `x.${'k'.repeat(78)}`;
    await feed.push(streamed({ vin: VIN, data: { 'x.a': { value: 1, timestamp: T(0) }, [k80]: { value: 1, timestamp: T(0) } } }));
    await feed.push(streamed({ vin: VIN2, data: { 'x.a': { value: 1, timestamp: T(0) }, [`${k80}k`]: { value: 1, timestamp: T(0) } } }));
    assert.deepStrictEqual(problems, [
      `Car ${VIN} holds 1 data keys: new keys the catalogue does not know are dropped (first: ${k80}).`,
      `Car ${VIN2} holds 1 data keys: new keys the catalogue does not know are dropped (first: ${k80}…).`,
    ]);
  });

  it('a subscriber may have only beforeSave or only afterSave; an imported history reaches it as an update without changes or events', async () => {
    for (const which of ['beforeSave', 'afterSave'] as const) {
      const heard: LiveUpdate[] = [];
      const problems: string[] = [];
      const said: string[] = [];
      const feed = createLiveFeed({
        subscriber: { [which]: (u: LiveUpdate) => void heard.push(u) },
        onProblem: (m) => problems.push(m),
        onChargingEvent: (e) => said.push(e.kind),
        onTripEvent: (e) => said.push(e.kind),
        onLedgerEvent: (e) => said.push(e.kind),
      });
      const result = await feed.importChargingHistory(VIN, history());
      assert.deepStrictEqual([result.counted, result.energyCounterKwh], [1, 12.5]);
      assert.deepStrictEqual(heard, [QUIET(VIN)], which);
      assert.deepStrictEqual([problems, said], [[], []], which);
    }
  });

  it('with timers an imported history is saved before it resolves, that car alone, while the other car waits for its batch', async () => {
    const clock = fakeClock(T0);
    const saves: Array<Record<string, string>> = [];
    const feed = createLiveFeed({ timers: clock.timers, now: clock.now, saveCars: (cars) => void saves.push(cars) });
    await feed.push(soc(70, 0, VIN2));
    assert.deepStrictEqual([saves, clock.pending()], [[], [30000]]);
    await feed.importChargingHistory(VIN, history());
    assert.deepStrictEqual(
      saves.map((s) => Object.keys(s)),
      [[VIN]],
    );
    assert.strictEqual(JSON.parse(saves[0][VIN]).ledger.energyKwh, 12.5);
    assert.deepStrictEqual(clock.pending(), [30000]);
    await clock.advance(30000);
    assert.deepStrictEqual(
      saves.map((s) => Object.keys(s)),
      [[VIN], [VIN2]],
    );
    await feed.close();
  });

  it('an import that cannot read its list rejects, and the feed goes on', async () => {
    const feed = createLiveFeed({});
    await assert.rejects(feed.importChargingHistory(VIN, null as unknown as ChargingSession[]), TypeError);
    await feed.push(soc(40, 0));
    assert.strictEqual(feed.live.vehicle(VIN)?.values[SOC].value, 40);
  });

  it('a save failure is said again after a save that worked; flush with nothing new writes nothing', async () => {
    const problems: string[] = [];
    let calls = 0;
    const feed = createLiveFeed({
      save: () => {
        calls += 1;
        if (calls !== 2) throw new Error(`disk ${calls}`);
      },
      onProblem: (m) => problems.push(m),
    });
    for (let i = 0; i < 4; i += 1) await feed.push(soc(40 + i, i));
    assert.deepStrictEqual(problems, ['The live state could not be saved: disk 1', 'The live state could not be saved: disk 3']);
    const saves: string[] = [];
    const quiet = createLiveFeed({ save: (t) => void saves.push(t) });
    await quiet.push(soc(40, 0));
    await quiet.flush();
    await quiet.close();
    assert.strictEqual(saves.length, 1);
  });

  it('with saveAfterMs 0 a plain reading is saved before push resolves, with no timer', async () => {
    const clock = fakeClock(T0);
    const saves: string[] = [];
    const feed = createLiveFeed({ timers: clock.timers, now: clock.now, saveAfterMs: 0, save: (t) => void saves.push(t) });
    await feed.push(soc(40, 0));
    assert.deepStrictEqual([saves.length, clock.asked], [1, []]);
  });

  it('a save of every car holds the latest state of a car not followed; an empty list of cars follows every car', async () => {
    const saves: any[] = [];
    const feed = createLiveFeed({ vins: [VIN], save: (t) => void saves.push(JSON.parse(t)) });
    await feed.push(soc(10, 0, VIN2));
    await feed.push(soc(40, 1));
    await feed.push(soc(11, 2, VIN2));
    await feed.push(soc(41, 3));
    assert.deepStrictEqual(
      saves.map((s) => [s.vehicles[VIN].values[SOC].value, s.vehicles[VIN2].values[SOC].value]),
      [
        [40, 10],
        [41, 11],
      ],
    );
    const cars: string[] = [];
    const every = createLiveFeed({ vins: [], onVehicle: (v) => cars.push(v.vin) });
    await every.push(soc(10, 0, VIN2));
    await every.push(soc(40, 1));
    assert.deepStrictEqual(cars, [VIN2, VIN]);
  });

  it('the records saved per car come back as a saved state, as text or parsed; a broken record is named and left out', async () => {
    const records: Record<string, string> = {};
    const feed = createLiveFeed({ saveCars: (cars) => void Object.assign(records, cars) });
    await feed.push(soc(40, 0));
    await feed.push(soc(70, 1, VIN2));
    const { saved, broken } = liveStateFromCars({
      [VIN]: records[VIN],
      [VIN2]: JSON.parse(records[VIN2]),
      WBA00000000000003: '{not json',
      WBA00000000000004: { values: 5 },
      '': records[VIN], // no VIN
    });
    assert.deepStrictEqual(broken, ['WBA00000000000003', 'WBA00000000000004']);
    assert.deepStrictEqual(saved, feed.live.serialize());
    const again = createLiveFeed({ saved });
    assert.deepStrictEqual([again.live.vehicle(VIN)?.values[SOC].value, again.live.vehicle(VIN2)?.values[SOC].value], [40, 70]);
  });

  describe('trip and ledger event kinds', () => {
    const vin = TRIP_SCRIPTS.commute.vin;
    /** The commute on 10 November, then a reading on 5 December: the trip's finish, its month's summary and the month's close. */
    async function commute(extra: Parameters<typeof createLiveFeed>[0]) {
      let clock = 0;
      const said: string[] = [];
      const feed = createLiveFeed({
        now: () => clock,
        onTripEvent: (e) => said.push(e.kind),
        onLedgerEvent: (e) => said.push(`${e.kind} ${e.month}`),
        ...extra,
      });
      for (const i of messages(tripScriptItems(TRIP_SCRIPTS.commute, { vin, start: Date.UTC(2026, 10, 10, 6, 30) }))) {
        clock = Date.parse(i.at);
        await feed.push(streamed(i.message));
      }
      clock = Date.UTC(2026, 11, 5);
      await feed.push(streamed({ vin, data: { 'vehicle.vehicle.travelledDistance': { value: 1, timestamp: new Date(clock).toISOString() } } }));
      return said;
    }
    const ALL = ['trip-started', 'trip-finished', 'summary 2026-11', 'month-closed 2026-11'];

    it('no kinds, or empty lists: every trip and ledger event', async () => {
      assert.deepStrictEqual(await commute({}), ALL);
      assert.deepStrictEqual(await commute({ tripKinds: [], ledgerKinds: [] }), ALL);
    });

    it('without onTripEvent the trips are not handed out and nothing goes wrong', async () => {
      const problems: string[] = [];
      const said: string[] = [];
      let clock = 0;
      const feed = createLiveFeed({ now: () => clock, onProblem: (m) => problems.push(m), onLedgerEvent: (e) => said.push(e.kind) });
      for (const i of messages(tripScriptItems(TRIP_SCRIPTS.commute, { vin, start: Date.UTC(2026, 10, 10, 6, 30) }))) {
        clock = Date.parse(i.at);
        await feed.push(streamed(i.message));
      }
      clock += 24 * 3_600_000;
      await feed.push(streamed({ vin, data: { 'vehicle.vehicle.travelledDistance': { value: 1, timestamp: new Date(clock).toISOString() } } }));
      assert.deepStrictEqual([problems, said], [[], ['summary']]);
    });

    it('tripKinds and ledgerKinds keep only those', async () => {
      assert.deepStrictEqual(await commute({ tripKinds: ['trip-finished'], ledgerKinds: ['month-closed'] }), ['trip-finished', 'month-closed 2026-11']);
      assert.deepStrictEqual(await commute({ tripKinds: ['trip-started'], ledgerKinds: ['summary'] }), ['trip-started', 'summary 2026-11']);
    });
  });

  describe('the settle timer', () => {
    const vin = CHARGING_SCRIPTS['ac-session'].vin;

    it("the month's close on its timer is saved before it goes out, though plain readings wait for their batch", async () => {
      const clock = fakeClock(Date.UTC(2026, 10, 30, 12));
      const order: string[] = [];
      const feed = createLiveFeed({
        timers: clock.timers,
        now: clock.now,
        save: (t) => void order.push(`save ${JSON.parse(t).vehicles[vin].ledger.open}`),
        onLedgerEvent: (e) => order.push(`${e.kind} ${e.month}`),
      });
      for (const i of messages(chargingScriptItems(CHARGING_SCRIPTS['ac-session'], { vin, start: Date.UTC(2026, 10, 30, 12) }))) {
        await clock.advance(Date.parse(i.at) - clock.now());
        await feed.push(streamed(i.message));
      }
      await clock.advance(Date.UTC(2026, 11, 1) - clock.now());
      assert.deepStrictEqual(order.slice(-2), ['save 2026-12', 'month-closed 2026-11']);
      await feed.close();
    });

    it("none while nothing waits; a finish's timer when its wait ends, then the month's end; none new while that stays; none after close", async () => {
      const clock = fakeClock(Date.UTC(2026, 10, 10, 17));
      const said: string[] = [];
      const feed = createLiveFeed({
        timers: clock.timers,
        now: clock.now,
        saveAfterMs: 0,
        onChargingEvent: (e) => said.push(e.kind),
        onLedgerEvent: (e) => said.push(e.kind),
      });
      assert.deepStrictEqual(clock.asked, []);
      /** The AC session from `start` until the car says it ended. */
      const charge = async (start: number, car = vin) => {
        const items = messages(chargingScriptItems(CHARGING_SCRIPTS['ac-session'], { vin: car, start }));
        const ended = items.findIndex((i) => Object.values(i.message.data).some((d: any) => d.value === 'CHARGINGENDED'));
        for (const i of items.slice(0, ended + 1)) {
          await clock.advance(Date.parse(i.at) - clock.now());
          await feed.push(streamed(i.message));
        }
      };
      await charge(Date.UTC(2026, 10, 10, 17));
      // The charge has ended and waits for late readings: its timer is the one pending, well before the month's end.
      const due = feed.live.nextSettleAt() as number;
      assert.ok(due !== undefined && due - clock.now() <= FINISH_SETTLE_MS, String(due));
      assert.deepStrictEqual(clock.pending(), [due - clock.now()]);
      await clock.advance(due - clock.now());
      assert.ok(said.includes('charging-finished') && said.includes('summary'), said.join());
      // The month's end (1 December, UTC) is next.
      assert.deepStrictEqual(clock.pending(), [Date.UTC(2026, 11, 1) - clock.now()]);
      const asked = clock.asked.length;
      for (let s = 1; s <= 3; s += 1) {
        await clock.advance(60_000);
        await feed.push(streamed({ vin, data: { [SOC]: { value: 80 + s, unit: '%', timestamp: new Date(clock.now()).toISOString() } } }));
      }
      assert.strictEqual(clock.asked.length, asked, 'the same timer stays');
      assert.deepStrictEqual(clock.pending(), [Date.UTC(2026, 11, 1) - clock.now()]);
      // Another car's charge: its wait ends before the first car's month does, so its timer replaces the month's.
      await charge(Date.UTC(2026, 10, 12, 17), VIN2);
      const second = feed.live.nextSettleAt() as number;
      assert.ok(second !== undefined && second - clock.now() <= FINISH_SETTLE_MS, String(second));
      assert.deepStrictEqual(clock.pending(), [second - clock.now()]);
      await clock.advance(second - clock.now());
      // A third car's charge ending two minutes before the month's end: the month's end comes before its wait does.
      const probe = messages(chargingScriptItems(CHARGING_SCRIPTS['ac-session'], { vin, start: 0 }));
      const span = Date.parse(probe.find((i) => Object.values(i.message.data).some((d: any) => d.value === 'CHARGINGENDED'))!.at);
      await charge(Date.UTC(2026, 10, 30, 23, 58) - span, 'WBA12345678909999');
      assert.deepStrictEqual(clock.pending(), [Date.UTC(2026, 11, 1) - clock.now()]);
      await feed.close();
      assert.deepStrictEqual(clock.pending(), []);
    });
  });
});
