'use strict';
// Live data (pure): a saved state is checked field by field before it is used, updates say what changed, and
// snapshots are copies.
const assert = require('assert');
const core = require('../dist/src/node');

const { LiveData, restoreLiveDataState, initialChargingState } = core;

const VIN = 'WBA12345678901234';
const VIN2 = 'WBA12345678901235';
const SOC = 'vehicle.drivetrain.batteryManagement.header';
const STATUS = 'vehicle.drivetrain.electricEngine.charging.status';
const PORT = 'vehicle.body.chargingPort.status';
const T = (s) => new Date(Date.parse('2026-01-01T10:00:00Z') + s * 1000).toISOString();
const msg = (data, vin = VIN) => ({ vin, data });

function saved(vehicle = {}) {
  return {
    version: 1,
    vehicles: {
      [VIN]: { vin: VIN, updatedAt: T(0), values: { [SOC]: { value: 50, unit: '%', timestamp: T(0) } }, charging: initialChargingState(), ...vehicle },
    },
  };
}

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
      assert.deepStrictEqual(updates.map((u) => [u.vin, [...new Set(u.changes)]]), [
        [VIN2, [SOC]],
        [VIN, [SOC]],
      ]);
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

    it('a refreshed status still drives the charging tracker; the tracker\'s change alone is a change', () => {
      const live = new LiveData();
      live.ingest(msg({ [PORT]: { value: 'CONNECTED', timestamp: T(0) } }));
      const start = live.ingest(msg({ [STATUS]: { value: 'CHARGINGACTIVE', timestamp: T(1) } }));
      assert.deepStrictEqual(start.events.map((e) => e.kind), ['charging-started']);
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
});
