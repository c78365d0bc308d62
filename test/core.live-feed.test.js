'use strict';
// The live feed (pure): stream messages in, the car's state and charging events out, saved first, filtered by
// data key and event kind, one message after another, and a broken saved state or save reported, not fatal.
const assert = require('assert');
const core = require('../dist/src/node');

const { createLiveFeed, normalizeStreamMessage, filterStreamMessage, compileFilter, ReadingDeduplicator } = core;

const VIN = 'WBA12345678901234';
const SOC = 'vehicle.drivetrain.batteryManagement.header';
const PORT = 'vehicle.body.chargingPort.status';
const STATUS = 'vehicle.drivetrain.electricEngine.charging.status';
const T = (s) => new Date(Date.parse('2026-01-01T10:00:00Z') + s * 1000).toISOString();

/** A stream message as subscribeStream hands it to onMessage. */
function message(data, vin = VIN) {
  const raw = { vin, timestamp: T(0), data };
  const topic = `gcid/${vin}`;
  return filterStreamMessage(raw, topic, normalizeStreamMessage(raw, topic), compileFilter({}));
}

function recorder(extra = {}) {
  const seen = { vehicles: [], events: [], saves: [], problems: [], order: [] };
  const feed = createLiveFeed({
    onVehicle: (v, u) => (seen.vehicles.push({ v, u }), seen.order.push('vehicle')),
    onChargingEvent: (e) => (seen.events.push(e), seen.order.push(`event:${e.kind}`)),
    save: (json) => (seen.saves.push(JSON.parse(json)), seen.order.push('save')),
    onProblem: (m) => seen.problems.push(m),
    ...extra,
  });
  return { feed, seen };
}

describe('core live feed', function () {
  it('saves first, then hands out the car\'s state, then the events, in order', async () => {
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
    await feed.push({ raw: { vin: VIN, data: {} }, topic: `gcid/${VIN}` });
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
    assert.deepStrictEqual(only.seen.events.map((e) => e.kind), ['charging-started']);
    assert.deepStrictEqual(every.seen.events.map((e) => e.kind), ['plugged-in', 'charging-started']);
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
    assert.deepStrictEqual(broken.seen.problems, ['The saved live state could not be used (Not a saved live-data state: version 9 (expected 1)); starting afresh.']);
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

  it('without hosts\' callbacks the feed only keeps the state', async () => {
    const feed = createLiveFeed({});
    await feed.push(message({ [PORT]: { value: 'CONNECTED', timestamp: T(0) } }));
    assert.strictEqual(feed.live.vehicle(VIN).charging.plugged, true);
  });

  it('repeated readings pass once per VIN and descriptor', () => {
    const d = new ReadingDeduplicator();
    const ev = (vin, descriptor, value, timestamp) => ({ vin, descriptor, value, timestamp });
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
});
