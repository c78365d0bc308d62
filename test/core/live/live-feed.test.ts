// The live feed (pure): stream messages in, the car's state and charging events out, filtered by data key and event
// kind, one message after another; events saved before they go out, plain readings saved in batches on a timer,
// and a broken saved state, a failed save or dropped readings reported, not fatal.
import assert from 'assert';
import * as core from '../../../src/node';
import { fakeClock } from '../../support/stream-fakes';
import { streamed } from '../../support/stream-message';
import * as trips from '../../../src/simulator/trip-scripts';
import * as scripts from '../../../src/simulator/charging-scripts';
import type { StreamEvent, StreamMessage } from '../../../src/core/stream/message';
import { SOC, PORT, CHARGING_STATUS as STATUS } from '../../../src/simulator/descriptor-names';

const { createLiveFeed, ReadingDeduplicator } = core;

const VIN = 'WBA12345678901234';
const VIN2 = 'WBA12345678901235';
const T = (s) => new Date(Date.parse('2026-01-01T10:00:00Z') + s * 1000).toISOString();

/** A stream message as subscribeStream hands it to onMessage. */
function message(data, vin = VIN) {
  return streamed({ vin, timestamp: T(0), data });
}

function recorder(extra = {}) {
  const seen = { vehicles: [], events: [], saves: [], problems: [], order: [] };
  const feed = createLiveFeed({
    onVehicle: (v, u) => (seen.vehicles.push({ v, u }), seen.order.push('vehicle')),
    onChargingEvent: (e) => (seen.events.push(e), seen.order.push(`event:${e.kind}`)),
    save: (json) => void (seen.saves.push(JSON.parse(json)), seen.order.push('save')),
    onProblem: (m) => seen.problems.push(m),
    ...extra,
  });
  return { feed, seen };
}

describe('core live feed', function () {
  it("saves first, then hands out the car's state, then the events, in order", async () => {
    const { feed, seen } = recorder();
    await feed.push(message({ [PORT]: { value: 'CONNECTED', timestamp: T(0) }, [SOC]: { value: 40, unit: '%', timestamp: T(0) } }));
    await feed.push(message({ [STATUS]: { value: 'CHARGINGACTIVE', timestamp: T(1) } }));
    assert.deepStrictEqual(seen.order, ['save', 'vehicle', 'event:plugged-in', 'save', 'vehicle', 'event:charging-started']);
    assert.strictEqual(seen.saves.length, 2);
    assert.deepStrictEqual(seen.saves[1], feed.live.serialize());
    assert.strictEqual(seen.vehicles[0].v.values[SOC].value, 40);
    assert.strictEqual(seen.vehicles[0].u.vin, VIN);
    assert.deepStrictEqual(seen.problems, []);
  });

  it('a message that changes nothing saves and says nothing', async () => {
    const { feed, seen } = recorder();
    const m = message({ [SOC]: { value: 40, unit: '%', timestamp: T(0) } });
    await feed.push(m);
    await feed.push(m);
    await feed.push({ raw: { vin: VIN, data: {} }, topic: `gcid/${VIN}`, readings: [] } as unknown as StreamMessage);
    assert.deepStrictEqual(seen.order, ['save', 'vehicle']);
    assert.deepStrictEqual(seen.problems, []);
  });

  it('descriptors: the car only when one of them changed (or an event came), with only their values', async () => {
    const { feed, seen } = recorder({ descriptors: [SOC] });
    await feed.push(message({ 'vehicle.body.trunk.isLocked': { value: true, timestamp: T(0) } }));
    assert.strictEqual(seen.vehicles.length, 0);
    await feed.push(message({ [SOC]: { value: 41, unit: '%', timestamp: T(1) }, 'vehicle.cabin.x': { value: 1, timestamp: T(1) } }));
    assert.strictEqual(seen.vehicles.length, 1);
    assert.deepStrictEqual(Object.keys(seen.vehicles[0].v.values), [SOC]);
    await feed.push(message({ [PORT]: { value: 'CONNECTED', timestamp: T(2) } }));
    assert.strictEqual(seen.vehicles.length, 2, 'an event (plugged in) shows the car too');
    assert.deepStrictEqual(Object.keys(seen.vehicles[1].v.values), [SOC]);
    assert.ok(Object.keys(feed.live.vehicle(VIN).values).length > 1, 'the feed itself keeps everything');
    const all = recorder({ descriptors: [] });
    await all.feed.push(message({ 'vehicle.body.trunk.isLocked': { value: true, timestamp: T(0) } }));
    assert.strictEqual(all.seen.vehicles.length, 1, 'an empty list means every key');
  });

  it('kinds: only those events; an empty list means every kind', async () => {
    const only = recorder({ kinds: ['charging-started'] });
    const every = recorder({ kinds: [] });
    for (const { feed } of [only, every]) {
      await feed.push(message({ [PORT]: { value: 'CONNECTED', timestamp: T(0) } }));
      await feed.push(message({ [STATUS]: { value: 'CHARGINGACTIVE', timestamp: T(1) } }));
    }
    assert.deepStrictEqual(
      only.seen.events.map((e) => e.kind),
      ['charging-started'],
    );
    assert.deepStrictEqual(
      every.seen.events.map((e) => e.kind),
      ['plugged-in', 'charging-started'],
    );
  });

  it('continues from a saved state; a broken one is reported and dropped', async () => {
    const first = recorder();
    await first.feed.push(message({ [PORT]: { value: 'CONNECTED', timestamp: T(0) } }));
    const saved = first.seen.saves.at(-1);
    const again = recorder({ saved });
    await again.feed.push(message({ [PORT]: { value: 'CONNECTED', timestamp: T(5) } }));
    assert.deepStrictEqual(again.seen.events, [], 'already plugged in before the restart');
    for (const blank of [undefined, null]) {
      const fresh = recorder({ saved: blank });
      assert.deepStrictEqual([fresh.feed.live.vins(), fresh.seen.problems], [[], []]);
    }
    const broken = recorder({ saved: { version: 9 } });
    assert.deepStrictEqual(broken.feed.live.vins(), []);
    assert.deepStrictEqual(broken.seen.problems, [
      'The saved live state could not be used (Not a saved live-data state: version 9 (expected 1)); starting afresh.',
    ]);
  });

  it('a save that fails is reported and the car and events still go out', async () => {
    const { feed, seen } = recorder({
      save: async () => {
        throw new Error('disk full');
      },
    });
    await feed.push(message({ [PORT]: { value: 'CONNECTED', timestamp: T(0) } }));
    assert.deepStrictEqual(seen.problems, ['The live state could not be saved: disk full']);
    assert.deepStrictEqual(seen.order, ['vehicle', 'event:plugged-in']);
  });

  it('messages are handled one after another, and a handler that throws does not stop the next', async () => {
    const order = [];
    let release;
    const gate = new Promise((r) => (release = r));
    const problems = [];
    const feed = createLiveFeed({
      save: async (s) => {
        order.push(`save ${Object.keys(JSON.parse(s).vehicles[VIN].values).length}`);
        if (order.length === 1) await gate;
      },
      onVehicle: (v) => {
        order.push(`vehicle ${Object.keys(v.values).length}`);
        if (order.length === 2) throw new Error('host broke');
      },
      onProblem: (m) => problems.push(m),
    });
    const a = feed.push(message({ [SOC]: { value: 1, timestamp: T(0) } }));
    const b = feed.push(message({ [PORT]: { value: 'DISCONNECTED', timestamp: T(1) } }));
    await new Promise((r) => setTimeout(r, 10));
    assert.deepStrictEqual(order, ['save 1'], 'the second waits for the first');
    release();
    await Promise.all([a, b]);
    assert.deepStrictEqual(order, ['save 1', 'vehicle 1', 'save 2', 'vehicle 2']);
    assert.deepStrictEqual(problems, ['A stream message could not be handled: host broke']);
  });

  it('a REST telematics answer seeds the car like a streamed message; a newer streamed reading wins', async () => {
    const { feed, seen } = recorder();
    await feed.seed(VIN, { [SOC]: { value: '55', unit: '%', timestamp: T(0) }, [PORT]: { value: 'CONNECTED', timestamp: T(0) } });
    assert.strictEqual(feed.live.vehicle(VIN).values[SOC].value, 55);
    assert.deepStrictEqual(seen.order, ['save', 'vehicle', 'event:plugged-in']);
    await feed.seed(VIN, undefined);
    assert.strictEqual(seen.order.length, 3, 'an empty answer changes nothing');
    await feed.push(message({ [SOC]: { value: 60, unit: '%', timestamp: T(10) } }));
    await feed.seed(VIN, { [SOC]: { value: '50', unit: '%', timestamp: T(5) } });
    assert.strictEqual(feed.live.vehicle(VIN).values[SOC].value, 60);
  });

  it('an imported charging history is saved, then the car handed on, before it resolves; a second import saves and says nothing', async () => {
    const order = [];
    const saves = [];
    const feed = createLiveFeed({
      save: (json) => void (saves.push(JSON.parse(json)), order.push('save')),
      onVehicle: (v) => order.push(`vehicle ${v.ledger.energyKwh}`),
      subscriber: { beforeSave: (u) => void order.push(`before ${u.vin} ${u.changed}`), afterSave: (u) => void order.push(`after ${u.vin}`) },
    });
    const at = (h) => Date.parse('2025-12-20T00:00:00Z') / 1000 + h * 3600;
    const sessions = [
      {
        startTime: at(18),
        endTime: at(20),
        energyConsumedFromPowerGridKwh: 12.5,
        timeZone: 'Europe/Berlin',
        displayedSoc: 80,
        displayedStartSoc: 20,
        totalChargingDurationSec: 7200,
        isPreconditioningActivated: false,
        mileage: 1,
        mileageUnits: 'MileageUnits.KM',
      },
    ];
    const result = await feed.importChargingHistory(VIN, sessions);
    assert.strictEqual(result.counted, 1);
    assert.deepStrictEqual(order, [`before ${VIN} true`, 'save', 'vehicle 12.5', `after ${VIN}`]);
    assert.strictEqual(saves[0].vehicles[VIN].ledger.energyKwh, 12.5);
    assert.strictEqual((await feed.importChargingHistory(VIN, sessions)).alreadyImported, true);
    assert.strictEqual(order.length, 4);
  });

  it("without hosts' callbacks the feed only keeps the state", async () => {
    const feed = createLiveFeed({});
    await feed.push(message({ [PORT]: { value: 'CONNECTED', timestamp: T(0) } }));
    assert.strictEqual(feed.live.vehicle(VIN).charging.plugged, true);
  });

  it('repeated readings pass once per VIN and descriptor', () => {
    const d = new ReadingDeduplicator();
    const ev = (vin, descriptor, value, timestamp) => ({ vin, descriptor, value, timestamp }) as StreamEvent;
    assert.strictEqual(d.pass(ev('A', 'x', 1, 't1')), true);
    assert.strictEqual(d.pass(ev('B', 'x', 1, 't1')), true, 'another VIN');
    assert.strictEqual(d.pass(ev('A', 'y', 1, 't1')), true, 'another descriptor');
    assert.strictEqual(d.pass(ev('A', 'x', 1, 't2')), true, 'another time');
    assert.strictEqual(d.pass(ev('A', 'x', '1', 't2')), true, 'the same value as text is another reading');
    assert.strictEqual(d.pass(ev('A', 'x', '1', 't2')), false);
    assert.strictEqual(d.size, 3);
    const small = new ReadingDeduplicator(2);
    small.pass(ev('A', 'a', 1, 't'));
    small.pass(ev('A', 'b', 1, 't'));
    small.pass(ev('A', 'a', 2, 't'));
    small.pass(ev('A', 'c', 1, 't'));
    assert.strictEqual(small.size, 2);
    assert.strictEqual(small.pass(ev('A', 'a', 2, 't')), false, 'a changed recently: kept');
    assert.strictEqual(small.pass(ev('A', 'b', 1, 't')), true, 'b unchanged longest: forgotten');
  });

  describe('saving in batches', () => {
    /** A feed on a fake clock whose saves are recorded (as parsed state) in the order things happen. */
    function batched(extra = {}) {
      const clock = fakeClock(Date.parse(T(0)));
      const rec = recorder({ timers: clock.timers, now: clock.now, ...extra });
      return { clock, ...rec };
    }
    const soc = (v, s, vin = VIN) => message({ [SOC]: { value: v, unit: '%', timestamp: T(s) } }, vin);

    it('plain readings: many changes, one save per 30 s, holding the latest of each car', async () => {
      const { feed, seen, clock } = batched();
      for (let i = 0; i < 100; i += 1) await feed.push(soc(i, i, i % 2 ? VIN : 'WBA12345678909999'));
      assert.strictEqual(seen.saves.length, 0);
      assert.strictEqual(seen.vehicles.length, 100, "the car's state goes out at once all the same");
      assert.deepStrictEqual(clock.asked, [30000], 'one timer for the batch');
      await clock.advance(29999);
      assert.strictEqual(seen.saves.length, 0);
      await clock.advance(1);
      assert.strictEqual(seen.saves.length, 1);
      assert.deepStrictEqual(seen.saves[0], feed.live.serialize());
      assert.strictEqual(seen.saves[0].vehicles[VIN].values[SOC].value, 99);
      await clock.advance(60000);
      assert.strictEqual(seen.saves.length, 1, 'nothing new, nothing written');
      await feed.push(soc(99, 99));
      await feed.push(soc(99, 99));
      await clock.advance(60000);
      assert.strictEqual(seen.saves.length, 1, 'a refresh or a duplicate alone does not wake the disk');
      await feed.push(soc(5, 200));
      await clock.advance(30000);
      assert.strictEqual(seen.saves.length, 2);
      assert.strictEqual(seen.saves[1].vehicles[VIN].values[SOC].timestamp, T(200));
      const quick = batched({ saveAfterMs: 5000 });
      await quick.feed.push(soc(1, 0));
      assert.deepStrictEqual(quick.clock.asked, [5000]);
    });

    it('a message with charging events is on disk, awaited, before its events go out', async () => {
      const { feed, seen, clock } = batched({
        save: async (json) => {
          seen.order.push('save started');
          await new Promise((r) => setTimeout(r, 20));
          seen.saves.push(JSON.parse(json));
          seen.order.push('save done');
        },
      });
      await feed.push(soc(40, 0));
      await feed.push(soc(70, 0, VIN2));
      assert.deepStrictEqual(seen.order, ['vehicle', 'vehicle'], 'a plain reading waits for the batch');
      await feed.push(message({ [PORT]: { value: 'CONNECTED', timestamp: T(1) } }));
      assert.deepStrictEqual(seen.order, ['vehicle', 'vehicle', 'save started', 'save done', 'vehicle', 'event:plugged-in']);
      assert.strictEqual(seen.saves[0].vehicles[VIN].charging.plugged, true, 'the state that says it happened');
      assert.strictEqual(seen.saves[0].vehicles[VIN].values[SOC].value, 40, 'with the readings that waited');
      assert.deepStrictEqual(clock.pending(), [30000], "the other car's reading still waits for its batch");
      await clock.advance(30000);
      await feed.flush(); // waits for the timer's save under way, and finds nothing more to write
      assert.strictEqual(seen.saves.length, 2);
      assert.deepStrictEqual(seen.saves[1], feed.live.serialize());
    });

    it('flush() and close() write what waits; after close a change is saved at once and no timer is left', async () => {
      const { feed, seen, clock } = batched();
      await feed.flush();
      assert.strictEqual(seen.saves.length, 0, 'nothing to write');
      await feed.push(soc(40, 0));
      await feed.flush();
      assert.strictEqual(seen.saves.length, 1);
      assert.deepStrictEqual(clock.pending(), [], 'the batch timer is stopped');
      await feed.push(soc(41, 1));
      const pushed = feed.push(soc(42, 2));
      await feed.close();
      await pushed;
      assert.strictEqual(seen.saves.length, 2, 'the messages pushed before close are in its save');
      assert.strictEqual(seen.saves[1].vehicles[VIN].values[SOC].value, 42);
      assert.deepStrictEqual(clock.pending(), []);
      await feed.push(soc(43, 3));
      assert.strictEqual(seen.saves.length, 3);
      assert.deepStrictEqual(clock.pending(), []);
    });

    it('a crash between batches loses at most the readings since the last save, never an event', async () => {
      const disk = [];
      const events = [];
      const start = (saved?: string) => {
        const clock = fakeClock();
        const feed = createLiveFeed({ saved, save: (json) => void disk.push(json), timers: clock.timers, onChargingEvent: (e) => events.push(e.kind) });
        return { feed, clock };
      };
      let { feed, clock } = start();
      await feed.push(soc(40, 0));
      await feed.push(soc(70, 0, VIN2));
      await clock.advance(30000);
      await feed.push(soc(41, 60));
      await feed.push(soc(71, 60, VIN2));
      const plug = message({ [PORT]: { value: 'CONNECTED', timestamp: T(61) } });
      await feed.push(plug);
      await feed.push(soc(42, 62));
      assert.deepStrictEqual([disk.length, events], [2, ['plugged-in']]);
      // kill -9: no close, no flush; the next run starts from what is on disk.
      ({ feed, clock } = start(disk.at(-1)));
      assert.strictEqual(feed.live.vehicle(VIN).values[SOC].value, 41, 'the reading after the event is lost, the one before it is not');
      assert.strictEqual(feed.live.vehicle(VIN).charging.plugged, true);
      assert.strictEqual(feed.live.vehicle(VIN2).values[SOC].value, 70, 'another car: what the last batch saved (its reading since waited for the next)');
      // The broker delivers again what was not acknowledged: the event does not come twice.
      await feed.push(plug);
      await feed.push(soc(42, 62));
      assert.deepStrictEqual(events, ['plugged-in']);
      assert.strictEqual(feed.live.vehicle(VIN).values[SOC].value, 42);
    });

    it('a batch that cannot be saved is said once and tried again at the next interval', async () => {
      let fail = true;
      const { feed, seen, clock } = batched({
        save: (json) => {
          if (fail) throw new Error('read-only file system');
          seen.saves.push(JSON.parse(json));
        },
      });
      await feed.push(soc(40, 0));
      await clock.advance(30000);
      await feed.push(soc(41, 1));
      await clock.advance(30000);
      assert.deepStrictEqual(seen.problems, ['The live state could not be saved: read-only file system']);
      assert.deepStrictEqual(clock.pending(), [30000]);
      fail = false;
      await clock.advance(30000);
      assert.strictEqual(seen.saves.length, 1);
      assert.strictEqual(seen.saves[0].vehicles[VIN].values[SOC].value, 41);
      assert.deepStrictEqual(clock.pending(), []);
    });

    it('the saved text comes back, as text or parsed', async () => {
      const { feed, clock } = batched();
      let text;
      const first = createLiveFeed({ save: (json) => void (text = json), timers: clock.timers });
      await first.push(message({ [PORT]: { value: 'CONNECTED', timestamp: T(0) } }));
      assert.strictEqual(typeof text, 'string');
      for (const saved of [text, JSON.parse(text)]) assert.strictEqual(createLiveFeed({ saved }).live.vehicle(VIN).charging.plugged, true);
      const problems = [];
      createLiveFeed({ saved: '{"version":', onProblem: (m) => problems.push(m) });
      assert.strictEqual(problems.length, 1);
      assert.match(problems[0], /^The saved live state could not be used \(.*JSON.*\); starting afresh\.$/);
      await feed.close();
    });

    it('dropped readings are said once per car and limit, with the key cut short', async () => {
      const { feed, seen } = batched({ limits: { maxKeysPerCar: 2 } });
      const unknown = (from, vin = VIN) =>
        message(
          {
            [`x.a${from}`]: { value: 1, timestamp: T(0) },
            [`x.a${from + 1}`]: { value: 1, timestamp: T(0) },
            [`x.a${from + 2}`]: { value: 1, timestamp: T(0) },
          },
          vin,
        );
      await feed.push(unknown(0));
      await feed.push(unknown(10));
      await feed.push(unknown(0, VIN2));
      const long = `x.${'k'.repeat(20000)}`;
      await feed.push(message({ [long]: { value: 1, timestamp: T(1) } }));
      await feed.push(message({ [SOC]: { value: 'v'.repeat(20000), timestamp: T(1) } }));
      assert.deepStrictEqual(seen.problems, [
        `Car ${VIN} holds 2 data keys: new keys the catalogue does not know are dropped (first: x.a2).`,
        `Car ${VIN2} holds 2 data keys: new keys the catalogue does not know are dropped (first: x.a2).`,
        `Car ${VIN}: a reading longer than 16384 characters was dropped, the value held before stays (x.${'k'.repeat(78)}…); later ones are dropped too.`,
      ]);
    });
  });

  describe('trip events', () => {
    const items = trips.tripScriptItems(trips.TRIP_SCRIPTS.commute).filter((i): i is Extract<typeof i, { message: unknown }> => !('marker' in i));

    /** The commute fed on a fake clock as it was sent; saves recorded as the trips they hold. */
    async function commute(extra = {}) {
      const clock = fakeClock(trips.TRIP_SCRIPT_START);
      const order = [];
      const saved = [];
      const seen = [];
      const feed = createLiveFeed({
        timers: clock.timers,
        now: clock.now,
        save: async (json) => {
          await new Promise((r) => setTimeout(r, 5));
          saved.push(JSON.parse(json));
          order.push('save');
        },
        onTripEvent: (e) => (seen.push(e), order.push(e.kind)),
        onChargingEvent: (e) => order.push(e.kind),
        ...extra,
      });
      for (const i of items) {
        await clock.advance(Date.parse(i.at) - clock.now());
        await feed.push(streamed(i.message));
      }
      return { clock, feed, order, saved, seen };
    }

    it('each goes out once, after a save of the state that says it happened; the finish on the timer after the pause and the wait', async () => {
      const { clock, feed, order, saved, seen } = await commute();
      const started = order.indexOf('trip-started');
      assert.deepStrictEqual([order.filter((k) => k.startsWith('trip-')), order[started - 1]], [['trip-started'], 'save'], 'the start, saved first');
      const atStart = saved[order.slice(0, started).filter((k) => k === 'save').length - 1].vehicles[seen[0].vin].trips;
      assert.deepStrictEqual([atStart.driving, atStart.trip.id], [true, seen[0].tripId], 'the saved state has the trip open');
      const due = feed.live.nextSettleAt();
      const off = items.find((i) => i.message.data['vehicle.drivetrain.engine.isIgnitionOn']?.value === false);
      assert.strictEqual(due, Date.parse(off.at) + 10 * 60_000 + 5 * 60_000, 'the ignition off, then the pause (10 min) and the wait (5 min)');
      await clock.advance(due - 1 - clock.now());
      assert.ok(!order.includes('trip-finished'), 'not before the pause and the wait are over');
      await clock.advance(1);
      await feed.flush();
      const at = order.indexOf('trip-finished');
      assert.ok(at > 0 && order[at - 1] === 'save', order.join(' '));
      const finish = seen[1];
      assert.strictEqual(finish.kind, 'trip-finished');
      assert.strictEqual(finish.tripId, seen[0].tripId);
      const before = saved[saved.length - 1].vehicles[finish.vin].trips;
      assert.deepStrictEqual([before.driving, before.lastEndedAt], [false, finish.endedAt], 'the saved state has the trip finished');
      await clock.advance(3_600_000);
      await feed.flush();
      assert.strictEqual(order.filter((k) => k === 'trip-finished').length, 1, 'once');
      await feed.close();
    });

    it('tripKinds: only those; without onTripEvent nothing is said, and the charging events are unchanged', async () => {
      const only = await commute({ tripKinds: ['trip-finished'] });
      await only.clock.advance(3_600_000);
      await only.feed.flush();
      assert.deepStrictEqual(
        only.seen.map((e) => e.kind),
        ['trip-finished'],
      );
      const none = await commute({ onTripEvent: undefined });
      await none.clock.advance(3_600_000);
      await none.feed.flush();
      assert.deepStrictEqual(none.seen, []);
      assert.ok(!none.order.some((k) => k.startsWith('trip-')));
      await only.feed.close();
      await none.feed.close();
    });
  });

  describe('a finish that waits for late readings', () => {
    const items = scripts
      .chargingScriptItems(scripts.CHARGING_SCRIPTS['dc-session'])
      .filter((i): i is Extract<typeof i, { message: unknown }> => !('marker' in i));

    it('goes out on the timer five minutes after the end, saved first, with what the car did meanwhile behind it', async () => {
      const clock = fakeClock(scripts.CHARGING_SCRIPT_START);
      const order = [];
      const feed = createLiveFeed({
        timers: clock.timers,
        now: clock.now,
        save: () => void order.push('save'),
        onChargingEvent: (e) => order.push(e.kind),
      });
      for (const i of items) {
        await clock.advance(Date.parse(i.at) - clock.now());
        await feed.push(streamed(i.message));
      }
      const end = Date.parse(items.find((i) => i.message.data['vehicle.drivetrain.electricEngine.charging.status']?.value === 'CHARGINGENDED').at);
      assert.ok(!order.includes('charging-finished'), 'not before the wait is over');
      await clock.advance(end + 5 * 60_000 - 1 - clock.now());
      assert.ok(!order.includes('charging-finished'), 'not a millisecond early');
      await clock.advance(1);
      assert.deepStrictEqual(order.slice(-3), ['save', 'charging-finished', 'unplugged']);
      const finish = feed.live.vehicle(items[0].message.vin).charging;
      assert.strictEqual(finish.finishing, null);
      await clock.advance(3_600_000);
      assert.strictEqual(order.filter((k) => k === 'charging-finished').length, 1, 'once');
      await feed.close();
    });

    it('readings stamped ahead of the clock are said once per car, and the value is held with the arrival time', async () => {
      const problems = [];
      const now = Date.parse('2026-01-01T10:00:00Z');
      const feed = createLiveFeed({ now: () => now, onProblem: (m) => problems.push(m) });
      const ahead = (v) => message({ [SOC]: { value: v, unit: '%', timestamp: '2027-01-01T00:00:00Z' } });
      await feed.push(ahead(50));
      await feed.push(ahead(51));
      assert.deepStrictEqual(problems, [
        `Car ${VIN} sends readings stamped ahead of this machine's clock: they are taken as received now (is the clock right?).`,
      ]);
      assert.deepStrictEqual(feed.live.vehicle(VIN).values[SOC], { value: 51, unit: '%', timestamp: new Date(now).toISOString() });
    });

    it('a subscriber hears every update of the chosen cars, before and after its save; the finish of a car left out settles unheard and unsaved', async () => {
      const clock = fakeClock(scripts.CHARGING_SCRIPT_START);
      const vin = items[0].message.vin;
      const run = async (options?: Record<string, unknown>) => {
        const order = [];
        const feed = createLiveFeed({
          timers: clock.timers,
          now: clock.now,
          saveAfterMs: 0,
          save: async () => {
            await new Promise((r) => setTimeout(r, 5));
            order.push('save');
          },
          onChargingEvent: (e) => order.push(e.kind),
          subscriber: {
            beforeSave: async (u) => {
              await new Promise((r) => setTimeout(r, 5));
              order.push(`before ${u.vin} ${u.changed} ${u.events.length}`);
            },
            afterSave: (u) => void order.push(`after ${u.vin}`),
          },
          ...options,
        });
        return { feed, order };
      };
      const { feed, order } = await run();
      await feed.push(streamed(items[0].message));
      await feed.push(streamed(items[0].message));
      assert.deepStrictEqual(order.slice(-2), [`before ${vin} false 0`, `after ${vin}`], 'a message that changes nothing is heard, not saved');
      for (const i of items.slice(1, -2)) {
        await clock.advance(Date.parse(i.at) - clock.now());
        await feed.push(streamed(i.message));
      }
      const plugged = order.indexOf('plugged-in');
      assert.deepStrictEqual(order.slice(plugged - 2, plugged + 2), [`before ${vin} true 1`, 'save', 'plugged-in', `after ${vin}`]);
      await feed.close();
      const saved = feed.live.serialize();
      const others = await run({ saved, vins: [VIN2] });
      const mine = await run({ saved, vins: [vin] });
      await clock.advance(10 * 60_000);
      await others.feed.flush();
      await mine.feed.flush();
      assert.strictEqual(others.feed.live.vehicle(vin).charging.finishing, null, 'settled all the same');
      assert.deepStrictEqual(others.order, [], 'neither saved nor heard');
      assert.deepStrictEqual(mine.order, [`before ${vin} true 1`, 'save', 'charging-finished', `after ${vin}`]);
      await others.feed.close();
      await mine.feed.close();
    });

    it('a waiting finish saved before a restart goes out after it, once', async () => {
      const clock = fakeClock(scripts.CHARGING_SCRIPT_START);
      let saved;
      const kinds = [];
      let feed = createLiveFeed({
        timers: clock.timers,
        now: clock.now,
        save: (json) => (saved = JSON.parse(json)),
        onChargingEvent: (e) => kinds.push(e.kind),
      });
      for (const i of items.slice(0, -2)) {
        await clock.advance(Date.parse(i.at) - clock.now());
        await feed.push(streamed(i.message));
      }
      await feed.close();
      assert.ok(!kinds.includes('charging-finished'));
      feed = createLiveFeed({ saved, timers: clock.timers, now: clock.now, save: () => undefined, onChargingEvent: (e) => kinds.push(e.kind) });
      await clock.advance(10 * 60_000);
      assert.deepStrictEqual(
        kinds.filter((k) => k === 'charging-finished'),
        ['charging-finished'],
      );
      await feed.close();
    });
  });
});
