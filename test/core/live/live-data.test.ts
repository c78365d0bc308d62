// Live data (pure): a saved state is checked field by field before it is used, updates say what changed,
// snapshots are copies, a car's keys and a reading's size are bounded, and the saved text is built per car.
import assert from 'assert';
import fc from 'fast-check';
import * as core from '../../../src/node';
import { savedLiveState } from '../../support/live-state';
import { SOC, CHARGING_STATUS as STATUS, PORT } from '../../../src/simulator/descriptor-names';

const { LiveData, restoreLiveDataState, initialChargingState, initialTripState, DEFAULT_LIVE_DATA_LIMITS } = core;

const VIN = 'WBA12345678901234';
const VIN2 = 'WBA12345678901235';
const T = (s) => new Date(Date.parse('2026-01-01T10:00:00Z') + s * 1000).toISOString();
const msg = (data, vin = VIN) => ({ vin, data });

const saved = (vehicle = {}) => savedLiveState(VIN, T(0), vehicle);

function refused(state, what) {
  assert.throws(
    () => restoreLiveDataState(state),
    (e) => e instanceof TypeError && e.message === `Not a saved live-data state: ${what}`,
    what,
  );
}

describe('core live data', function () {
  describe('restoring a saved state', () => {
    it('a good state comes back as an equal copy', () => {
      const s = saved();
      const restored = restoreLiveDataState(s);
      assert.deepStrictEqual(restored, s);
      assert.notStrictEqual(restored.vehicles[VIN].values, s.vehicles[VIN].values);
      restored.vehicles[VIN].charging.plugged = true;
      assert.strictEqual(s.vehicles[VIN].charging.plugged, null, 'the charging state is copied too');
      restored.vehicles[VIN].trips.samples.x = [[1, 1]];
      assert.deepStrictEqual(s.vehicles[VIN].trips.samples, {}, 'the trip state is copied too');
    });

    it('a state saved before trips were tracked gets a fresh trip state; a trip state comes back as saved', () => {
      const old = saved();
      delete old.vehicles[VIN].trips;
      assert.deepStrictEqual(restoreLiveDataState(old).vehicles[VIN].trips, initialTripState());
      const trips = {
        driving: true,
        trip: {
          id: `${VIN}/${T(0)}`,
          startedAt: T(0),
          startObserved: true,
          lastMoveMs: Date.parse(T(60)),
          endMs: null,
          endedBy: null,
          latestMs: Date.parse(T(60)),
        },
        lastEndedAt: null,
        ignitionKey: 'vehicle.drivetrain.engine.isIgnitionOn',
        movingSeen: true,
        samples: {
          'vehicle.vehicle.travelledDistance': [
            [Date.parse(T(0)), 100],
            [Date.parse(T(60)), 101],
          ],
        },
      };
      assert.deepStrictEqual(restoreLiveDataState(saved({ trips })).vehicles[VIN].trips, trips);
    });

    it('refuses each part that is not what LiveData wrote, naming it', () => {
      refused(null, 'not an object');
      refused([], 'not an object');
      refused('x', 'not an object');
      refused({ version: 2, vehicles: {} }, 'version 2 (expected 1)');
      refused({ vehicles: {} }, 'version undefined (expected 1)');
      refused({ version: 1 }, 'no vehicles');
      refused({ version: 1, vehicles: [] }, 'no vehicles');
      refused({ version: 1, vehicles: { [VIN]: null } }, `vehicle ${VIN}`);
      refused({ version: 1, vehicles: { [VIN]: [] } }, `vehicle ${VIN}`);
      refused(saved({ values: null }), `vehicle ${VIN}`);
      refused(saved({ values: [] }), `vehicle ${VIN}`);
      refused(saved({ charging: null }), `vehicle ${VIN}`);
      refused(saved({ values: { [SOC]: null } }), `value ${SOC} of ${VIN}`);
      refused(saved({ values: { [SOC]: { value: 1 } } }), `value ${SOC} of ${VIN}`);
      refused(saved({ values: { [SOC]: { value: 1, timestamp: 5 } } }), `value ${SOC} of ${VIN}`);
      refused(saved({ values: { [SOC]: { value: 1, timestamp: 'yesterday' } } }), `value ${SOC} of ${VIN}`);
      refused(saved({ values: { [SOC]: { value: { a: 1 }, timestamp: T(0) } } }), `value ${SOC} of ${VIN}`);
      refused(saved({ values: { [SOC]: { value: [1], timestamp: T(0) } } }), `value ${SOC} of ${VIN}`);
      refused(saved({ charging: { ...initialChargingState(), phase: 'flying' } }), `charging phase of ${VIN}`);
      refused(saved({ charging: { ...initialChargingState(), session: 'open' } }), `charging session of ${VIN}`);
      refused(saved({ charging: { ...initialChargingState(), session: { id: 'x' } } }), `charging session of ${VIN}`);
      refused(saved({ trips: null }), `trips of ${VIN}`);
      refused(saved({ trips: { ...initialTripState(), samples: [] } }), `trips of ${VIN}`);
      refused(saved({ trips: { ...initialTripState(), lastEndedAt: 'yesterday' } }), `trips of ${VIN}`);
      refused(saved({ trips: { ...initialTripState(), trip: { id: 'x' } } }), `open trip of ${VIN}`);
      const open = { id: `${VIN}/${T(0)}`, startedAt: T(0), startObserved: true, lastMoveMs: Date.parse(T(60)), endMs: null, endedBy: null };
      refused(saved({ trips: { ...initialTripState(), driving: true, trip: { ...open, latestMs: 'soon' } } }), `open trip of ${VIN}`);
      refused(saved({ trips: { ...initialTripState(), samples: { a: [[1, 'x']] } } }), `trip readings a of ${VIN}`);
    });

    it('accepts every kind of value and phase, fills what is missing, and drops a unit or time that is not text', () => {
      const values = {
        a: { value: null, timestamp: T(0) },
        b: { value: 'OPEN', unit: 7, timestamp: T(0) },
        c: { value: true, unit: 'x', timestamp: T(0) },
        d: { value: 1.5, timestamp: T(0) },
      };
      for (const phase of [null, 'idle', 'preparing', 'charging', 'paused', 'ended', 'interrupted', 'error']) {
        const r = restoreLiveDataState(saved({ values, updatedAt: 5, charging: { phase } }));
        const v = r.vehicles[VIN];
        assert.strictEqual(v.updatedAt, null);
        assert.deepStrictEqual(v.values.b, { value: 'OPEN', unit: null, timestamp: T(0) });
        assert.deepStrictEqual(v.values.c, { value: true, unit: 'x', timestamp: T(0) });
        assert.deepStrictEqual(v.values.a, { value: null, unit: null, timestamp: T(0) });
        assert.deepStrictEqual(v.charging, { ...initialChargingState(), phase });
      }
      const session = { id: 's', startedAt: T(0) };
      assert.deepStrictEqual(restoreLiveDataState(saved({ charging: { ...initialChargingState(), session } })).vehicles[VIN].charging.session, session);
    });
  });

  describe('updates', () => {
    it('a message without readings is no update; readings without a VIN are skipped', () => {
      const live = new LiveData();
      assert.strictEqual(live.ingest({ vin: VIN, data: {} }), undefined);
      assert.deepStrictEqual(live.ingestEvents([{ vin: '', descriptor: SOC, value: 1, unit: null, timestamp: T(0), messageTimestamp: null, topic: '' }]), []);
      assert.deepStrictEqual(live.vins(), []);
    });

    it('one update per VIN, in order of appearance; the topic gives the VIN when the message has none', () => {
      const live = new LiveData();
      const ev = (vin, value) => ({ vin, descriptor: SOC, value, unit: '%', timestamp: T(1), messageTimestamp: null, topic: '' });
      const updates = live.ingestEvents([ev(VIN2, 10), ev(VIN, 20), ev(VIN2, 30)]);
      assert.deepStrictEqual(
        updates.map((u) => [u.vin, [...new Set(u.changes)]]),
        [
          [VIN2, [SOC]],
          [VIN, [SOC]],
        ],
      );
      assert.strictEqual(live.vehicle(VIN2).values[SOC].value, 30, 'later readings of the same time replace earlier ones');
      const byTopic = live.ingest({ data: { [SOC]: { value: 5, timestamp: T(2) } } }, `gcid/${VIN}`);
      assert.strictEqual(byTopic.vin, VIN);
      assert.deepStrictEqual(live.vins().sort(), [VIN, VIN2].sort());
    });

    it('updatedAt is the time of the latest reading that changed a value, never earlier', () => {
      const live = new LiveData();
      live.ingest(msg({ [SOC]: { value: 50, timestamp: T(10) } }));
      assert.strictEqual(live.vehicle(VIN).updatedAt, T(10));
      live.ingest(msg({ [PORT]: { value: 'DISCONNECTED', timestamp: T(5) } }));
      assert.strictEqual(live.vehicle(VIN).updatedAt, T(10), 'an older first reading of another key does not move it back');
      live.ingest(msg({ [SOC]: { value: 50, timestamp: T(20) } }));
      assert.strictEqual(live.vehicle(VIN).updatedAt, T(10), 'the same value again is a refresh, not a change');
      live.ingest(msg({ [SOC]: { value: 51, timestamp: T(30) } }));
      assert.strictEqual(live.vehicle(VIN).updatedAt, T(30));
    });

    it('says what changed, what was a duplicate and what was stale', () => {
      const live = new LiveData();
      const first = live.ingest(msg({ [SOC]: { value: 50, timestamp: T(10) }, [PORT]: { value: 'DISCONNECTED', timestamp: T(10) } }));
      assert.deepStrictEqual([first.changed, first.changes, first.duplicates, first.stale], [true, [SOC, PORT], 0, 0]);
      const again = live.ingest(msg({ [SOC]: { value: 50, timestamp: T(10) }, [PORT]: { value: 'CONNECTED', timestamp: T(9) } }));
      assert.deepStrictEqual([again.changed, again.changes, again.duplicates, again.stale, again.events], [false, [], 1, 1, []]);
      const refresh = live.ingest(msg({ [SOC]: { value: 50, timestamp: T(11) } }));
      assert.deepStrictEqual([refresh.changed, refresh.changes], [false, []]);
    });

    it("a refreshed status still drives the charging tracker; the tracker's change alone is a change", () => {
      const live = new LiveData();
      live.ingest(msg({ [PORT]: { value: 'CONNECTED', timestamp: T(0) } }));
      const start = live.ingest(msg({ [STATUS]: { value: 'CHARGINGACTIVE', timestamp: T(1) } }));
      assert.deepStrictEqual(
        start.events.map((e) => e.kind),
        ['charging-started'],
      );
      assert.strictEqual(live.vehicle(VIN).charging.charging, true);
      const power = 'vehicle.powertrain.electric.battery.charging.power';
      const p = live.ingest(msg({ [power]: { value: 11000, unit: 'W', timestamp: T(2) } }));
      assert.strictEqual(p.changed, true);
      assert.strictEqual(live.vehicle(VIN).charging.powerKw, 11);
    });

    it('snapshots and the serialized state are copies', () => {
      const live = new LiveData();
      live.ingest(msg({ [PORT]: { value: 'CONNECTED', timestamp: T(0) }, [STATUS]: { value: 'CHARGINGACTIVE', timestamp: T(1) } }));
      const snap = live.vehicle(VIN);
      assert.ok(snap.charging.session);
      snap.charging.session.interruptions = 99;
      snap.values[SOC] = { value: 1, unit: null, timestamp: T(0) };
      snap.charging.phase = 'error';
      const again = live.vehicle(VIN);
      assert.strictEqual(again.charging.session.interruptions, 0);
      assert.strictEqual(again.values[SOC], undefined);
      assert.strictEqual(again.charging.phase, 'charging');
      const ser = live.serialize();
      ser.vehicles[VIN].charging.phase = 'idle';
      assert.strictEqual(live.vehicle(VIN).charging.phase, 'charging');
      assert.strictEqual(live.vehicle('WBA00000000000000'), undefined);
      const restored = new LiveData({ state: live.serialize() });
      assert.deepStrictEqual(restored.vehicle(VIN), live.vehicle(VIN));
    });

    it('a reading without a time takes the clock', () => {
      const live = new LiveData({ now: () => Date.parse('2026-05-05T05:05:05Z') });
      live.ingest(msg({ [SOC]: { value: 10 } }));
      assert.strictEqual(live.vehicle(VIN).values[SOC].timestamp, '2026-05-05T05:05:05.000Z');
      assert.strictEqual(live.vehicle(VIN).updatedAt, '2026-05-05T05:05:05.000Z');
    });
  });

  describe('bounds', () => {
    const unknown = (n, from = 0) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x.unknown.key${from + i}`, { value: i, timestamp: T(0) }]));

    it('a car holds at most 1,000 keys: 50,000 unknown keys keep 1,000, catalogue keys are always kept', () => {
      assert.deepStrictEqual(DEFAULT_LIVE_DATA_LIMITS, { maxKeysPerCar: 1000, maxReadingChars: 16384 });
      const live = new LiveData();
      const u = live.ingest(msg({ [SOC]: { value: 50, timestamp: T(0) }, ...unknown(50000) }));
      assert.strictEqual(Object.keys(live.vehicle(VIN).values).length, 1000);
      assert.strictEqual(u.changes.length, 1000);
      assert.strictEqual(u.dropped.keys.length, 49001);
      assert.deepStrictEqual([u.dropped.keys[0], u.dropped.size], ['x.unknown.key999', []]);
      const later = live.ingest(
        msg({ [PORT]: { value: 'CONNECTED', timestamp: T(1) }, 'x.unknown.key5': { value: 'held', timestamp: T(1) }, 'x.new': { value: 1, timestamp: T(1) } }),
      );
      assert.deepStrictEqual(later.changes, [PORT, 'x.unknown.key5'], 'a catalogue key and a key held go on; a new unknown one does not');
      assert.deepStrictEqual(later.dropped, { keys: ['x.new'], size: [] });
      assert.strictEqual(live.vehicle(VIN).charging.plugged, true);
      const other = live.ingest(msg(unknown(3), VIN2));
      assert.strictEqual(other.dropped, undefined, 'the limit is per car');
      const small = new LiveData({ limits: { maxKeysPerCar: 2 } });
      small.ingest(msg(unknown(2)));
      assert.deepStrictEqual(small.ingest(msg(unknown(1, 2))).dropped, { keys: ['x.unknown.key2'], size: [] });
    });

    it('a reading longer than 16,384 characters (key, value, unit and time) is dropped whole, the value held stays', () => {
      const live = new LiveData();
      const name = 'vehicle.cabin.infotainment.navigation.currentLocation.address';
      live.ingest(msg({ [name]: { value: 'Main Street 1', timestamp: T(0) } }));
      const huge = 'x'.repeat(20_000_000);
      const u = live.ingest(msg({ [name]: { value: huge, timestamp: T(1) }, [SOC]: { value: 51, timestamp: T(1) } }));
      assert.deepStrictEqual(u.dropped, { keys: [], size: [name] });
      assert.deepStrictEqual(u.changes, [SOC]);
      assert.strictEqual(live.vehicle(VIN).values[name].value, 'Main Street 1');
      assert.ok(!live.serializeText().includes('xxxx'));
      const fits = 'y'.repeat(16384 - name.length - T(2).length);
      assert.strictEqual(live.ingest(msg({ [name]: { value: fits, timestamp: T(2) } })).dropped, undefined, 'exactly the limit is kept');
      assert.strictEqual(live.vehicle(VIN).values[name].value, fits);
      const bigKey = `x.${'k'.repeat(20000)}`;
      const bigUnit = live.ingest(msg({ [bigKey]: { value: 1, timestamp: T(3) }, [SOC]: { value: 52, unit: 'u'.repeat(20000), timestamp: T(3) } }));
      assert.deepStrictEqual(bigUnit.dropped, { keys: [], size: [bigKey, SOC] });
      assert.strictEqual(live.vehicle(VIN).values[SOC].value, 51);
    });
  });

  describe('saved text', () => {
    it('serializeText() is serialize() as text, and follows every change of every car', () => {
      const live = new LiveData();
      const same = () => assert.strictEqual(live.serializeText(), JSON.stringify(live.serialize()));
      same();
      live.ingest(msg({ [SOC]: { value: 50, timestamp: T(0) } }));
      same();
      live.ingest(msg({ [PORT]: { value: 'CONNECTED', timestamp: T(0) } }, VIN2));
      const before = live.serializeText();
      live.ingest(msg({ [SOC]: { value: 50, timestamp: T(5) } }));
      assert.notStrictEqual(live.serializeText(), before, 'a refresh (same value, later) moves the saved time on');
      assert.strictEqual(JSON.parse(live.serializeText()).vehicles[VIN].values[SOC].timestamp, T(5));
      live.ingest(msg({ [STATUS]: { value: 'CHARGINGACTIVE', timestamp: T(6) } }, VIN2));
      same();
      assert.strictEqual(JSON.parse(live.serializeText()).vehicles[VIN2].charging.phase, 'charging');
      const restored = new LiveData({ state: JSON.parse(live.serializeText()) });
      assert.strictEqual(restored.serializeText(), live.serializeText());
    });

    it('the saved text of each car is its state, whatever the order of messages and saves (generated)', () => {
      const keys = [SOC, STATUS, PORT, '123', ...Array.from({ length: 36 }, (_, i) => `vehicle.k${i}`)];
      const reading = fc.record({
        key: fc.constantFrom(...keys),
        value: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('CHARGINGACTIVE', 'CONNECTED', 'x')),
        at: fc.integer({ min: 0, max: 40 }),
      });
      const step = fc.oneof(
        fc.record({ vin: fc.constantFrom(VIN, VIN2), readings: fc.array(reading, { minLength: 1, maxLength: 10 }) }),
        fc.constantFrom('cars', 'text', 'one'),
      );
      const asSaved = (live, vin) => JSON.parse(JSON.stringify(live.vehicle(vin)));
      fc.assert(
        fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
          const live = new LiveData({ now: () => Date.parse(T(100)) });
          for (const s of steps) {
            if (s === 'cars') for (const [vin, text] of Object.entries(live.serializeCars())) assert.deepStrictEqual(JSON.parse(text), asSaved(live, vin));
            else if (s === 'one') for (const vin of live.vins()) assert.deepStrictEqual(JSON.parse(live.serializeCars([vin])[vin]), asSaved(live, vin));
            else if (s === 'text')
              for (const [vin, car] of Object.entries(JSON.parse(live.serializeText()).vehicles)) assert.deepStrictEqual(car, asSaved(live, vin));
            else live.ingest(msg(Object.fromEntries(s.readings.map((r) => [r.key, { value: r.value, timestamp: T(r.at) }])), s.vin));
          }
          for (const vin of live.vins()) assert.deepStrictEqual(JSON.parse(live.serializeCars([vin])[vin]), asSaved(live, vin));
        }),
        { numRuns: 300 },
      );
    });
  });
});
