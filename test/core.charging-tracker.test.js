'use strict';
// The charging tracker's rules (pure), one at a time: plug readings, the status source, power units, the
// session's slack, the energy figures, the target and the end of a session.
const assert = require('assert');
const core = require('../dist/src/node');

const { trackCharging, initialChargingState, pluggedFrom, CHARGING_DESCRIPTORS: D, SESSION_SLACK_MS } = core;

const VIN = 'WBA12345678901234';
const START = Date.parse('2026-01-01T10:00:00Z');
const T = (s) => new Date(START + s * 1000).toISOString();
const PORT = D.plug[0];
const ISPLUGGED = D.plug[D.plug.length - 1];
const SOC = D.soc[0];

/** A car the tracker follows: `send` applies readings { id: [value, second, unit?] } and returns the events. */
function car() {
  const state = initialChargingState();
  const values = {};
  return {
    state,
    values,
    send(readings) {
      for (const [id, [value, s, unit]] of Object.entries(readings)) values[id] = { value, unit: unit ?? null, timestamp: T(s) };
      return trackCharging(VIN, state, values, Object.keys(readings));
    },
  };
}

const kinds = (events) => events.map((e) => e.kind);

/** A car that is plugged in and charging since second 0. */
function charging(extra = {}) {
  const c = car();
  c.send({ [PORT]: ['CONNECTED', -10] });
  const started = c.send({ [D.status]: ['CHARGINGACTIVE', 0], ...extra });
  assert.deepStrictEqual(kinds(started), ['charging-started']);
  return c;
}

describe('core charging tracker', function () {
  it('plug readings: any plugged wins, unplugged only when one says so and none says plugged', () => {
    const v = (value) => ({ value, unit: null, timestamp: T(0) });
    assert.strictEqual(pluggedFrom({}), null);
    assert.strictEqual(pluggedFrom({ [PORT]: v('UNKNOWN') }), null);
    assert.strictEqual(pluggedFrom({ [PORT]: v('DISCONNECTED') }), false);
    assert.strictEqual(pluggedFrom({ [PORT]: v('CONNECTED') }), true);
    assert.strictEqual(pluggedFrom({ [ISPLUGGED]: v(true) }), true);
    assert.strictEqual(pluggedFrom({ [ISPLUGGED]: v(false) }), false);
    assert.strictEqual(pluggedFrom({ [PORT]: v('DISCONNECTED'), [ISPLUGGED]: v(true) }), true);
    assert.strictEqual(pluggedFrom({ [PORT]: v('CONNECTED'), [ISPLUGGED]: v(false) }), true);
    assert.strictEqual(pluggedFrom({ [PORT]: v('DISCONNECTED'), [ISPLUGGED]: v('x') }), false);
    assert.strictEqual(pluggedFrom({ [PORT]: v(1) }), null);
    assert.strictEqual(pluggedFrom({ 'vehicle.other': v(true) }), null);
  });

  it('plugged in once, at the latest plug reading of the message, with the state of charge', () => {
    const c = car();
    c.send({ [SOC]: [40, -100, '%'] });
    const events = c.send({ [PORT]: ['CONNECTED', 5], [ISPLUGGED]: [true, 7], [D.plug[1]]: ['CONNECTED', 6] });
    assert.deepStrictEqual(events, [{ kind: 'plugged-in', vin: VIN, at: T(7), soc: 40 }]);
    assert.deepStrictEqual(c.send({ [PORT]: ['CONNECTED', 8] }), [], 'already plugged');
    assert.deepStrictEqual(c.send({ [SOC]: [41, 9, '%'] }), [], 'no plug reading: nothing about the plug');
    const out = c.send({ [PORT]: ['DISCONNECTED', 20], [ISPLUGGED]: [false, 19], [D.plug[1]]: ['DISCONNECTED', 18] });
    assert.deepStrictEqual(out, [{ kind: 'unplugged', vin: VIN, at: T(20), soc: 41 }]);
    assert.strictEqual(c.state.plugged, false);
    assert.deepStrictEqual(c.send({ [PORT]: ['DISCONNECTED', 21] }), []);
  });

  it('the first plug reading being "unplugged" says nothing, but is remembered', () => {
    const c = car();
    assert.deepStrictEqual(c.send({ [PORT]: ['DISCONNECTED', 0] }), []);
    assert.strictEqual(c.state.plugged, false);
    assert.deepStrictEqual(kinds(c.send({ [PORT]: ['CONNECTED', 1] })), ['plugged-in']);
  });

  it('status is read from charging.status, else hvStatus; unknown values change nothing', () => {
    const hv = car();
    hv.send({ [PORT]: ['CONNECTED', -5] });
    assert.deepStrictEqual(kinds(hv.send({ [D.hvStatus]: ['CHARGING', 0] })), ['charging-started']);
    assert.strictEqual(hv.state.phase, 'charging');
    assert.deepStrictEqual(kinds(hv.send({ [D.hvStatus]: ['FINISHED_NOT_FULL', 60] })), ['charging-finished']);

    const both = car();
    both.send({ [PORT]: ['CONNECTED', -5], [D.status]: ['NOCHARGING', -5] });
    assert.deepStrictEqual(both.send({ [D.hvStatus]: ['CHARGING', 0] }), [], 'hvStatus is ignored while status is known');
    const c = car();
    assert.deepStrictEqual(c.send({ [D.status]: ['UNKNOWN', 0] }), []);
    assert.strictEqual(c.state.phase, null);
    assert.deepStrictEqual(c.send({ [D.status]: [5, 1] }), []);
    assert.strictEqual(c.state.status, null);
  });

  it('a session whose charging is the first thing heard was not observed starting; one after a plug reading was', () => {
    const blind = car();
    const [e] = blind.send({ [D.status]: ['CHARGINGACTIVE', 0] });
    assert.deepStrictEqual([e.kind, e.startObserved, e.sessionId, e.at], ['charging-started', false, `${VIN}/${T(0)}`, T(0)]);
    const seen = car();
    seen.send({ [D.status]: ['NOCHARGING', -1] });
    assert.strictEqual(seen.send({ [D.status]: ['CHARGINGACTIVE', 0] })[0].startObserved, true);
  });

  it('charging power in kW or W, the highest of the session, and 0 once it is not charging', () => {
    const c = charging({ [D.power]: [7400, 0, 'W'] });
    assert.deepStrictEqual([c.state.charging, c.state.powerKw], [true, 7.4]);
    c.send({ [D.power]: [11, 10, 'kW'] });
    assert.strictEqual(c.state.powerKw, 11);
    c.send({ [D.power]: [3, 20, 'KW'] });
    assert.strictEqual(c.state.powerKw, 3);
    c.send({ [D.power]: [2500, 30] });
    assert.strictEqual(c.state.powerKw, 2.5, 'no unit: watts');
    c.send({ [D.power]: [11, 40, 'kW'] });
    const [done] = c.send({ [D.status]: ['CHARGINGENDED', 50] });
    assert.strictEqual(done.maxPowerKw, 11);
    assert.deepStrictEqual([c.state.charging, c.state.powerKw, c.state.session], [false, 0, null]);
  });

  it('paused: not charging, no power, the session stays open', () => {
    const c = charging({ [D.power]: [7, 0, 'kW'] });
    assert.deepStrictEqual(c.send({ [D.status]: ['CHARGINGPAUSED', 10] }), []);
    assert.deepStrictEqual([c.state.phase, c.state.charging, c.state.powerKw, !!c.state.session], ['paused', false, 0, true]);
  });

  it('a power reading from long before the session does not count; one just within the slack does', () => {
    const old = car();
    old.send({ [PORT]: ['CONNECTED', -200], [D.power]: [50, -61, 'kW'] });
    old.send({ [D.status]: ['CHARGINGACTIVE', 0] });
    assert.deepStrictEqual([old.state.session.maxPowerKw, old.state.powerKw], [null, 0]);
    const edge = car();
    edge.send({ [PORT]: ['CONNECTED', -200], [D.power]: [50, -SESSION_SLACK_MS / 1000, 'kW'] });
    edge.send({ [D.status]: ['CHARGINGACTIVE', 0] });
    assert.deepStrictEqual([edge.state.session.maxPowerKw, edge.state.powerKw], [50, 50]);
  });

  it('start values: held at the start or arriving within the slack after it; later ones are not start values', () => {
    const late = charging();
    late.send({ [SOC]: [30, 60, '%'] });
    assert.strictEqual(late.state.session.startSoc, 30, 'exactly the slack after the start');
    const later = charging();
    later.send({ [SOC]: [30, 61, '%'] });
    assert.strictEqual(later.state.session.startSoc, null);
    const second = charging({ [D.soc[1]]: [22, 0, '%'] });
    assert.strictEqual(second.state.session.startSoc, 22, 'the second state-of-charge key when the first is missing');
  });

  it('energy: the grid counter first, then the battery content, then an estimate from the battery size', () => {
    const grid = charging({ [D.gridEnergy]: [1000, 0, 'kWh'], [D.energyContent]: [40, 0, 'kWh'], [SOC]: [20, 0, '%'] });
    const [g] = grid.send({ [D.gridEnergy]: [1012.345, 100, 'kWh'], [D.energyContent]: [50, 100, 'kWh'], [SOC]: [40, 100, '%'], [D.status]: ['CHARGINGENDED', 100] });
    assert.deepStrictEqual(g.energyAdded, { kwh: 12.35, estimate: false, method: 'grid-energy-counter' });
    assert.deepStrictEqual([g.startSoc, g.endSoc, g.socAdded, g.durationSeconds, g.endedBy, g.endStatus], [20, 40, 20, 100, 'status', 'CHARGINGENDED']);

    const same = charging({ [D.gridEnergy]: [1000, 0, 'kWh'] });
    const [s] = same.send({ [D.status]: ['CHARGINGENDED', 10] });
    assert.deepStrictEqual(s.energyAdded, { kwh: 0, estimate: false, method: 'grid-energy-counter' }, 'no energy through the cable is 0, not unknown');

    const back = charging({ [D.gridEnergy]: [1000, 0, 'kWh'], [D.energyContent]: [40, 0, 'kWh'], [SOC]: [20, 0, '%'], [D.batterySize[0]]: [80, -1000, 'kWh'] });
    const [b] = back.send({ [D.gridEnergy]: [999, 10, 'kWh'], [D.energyContent]: [45.5, 10, 'kWh'], [SOC]: [27, 10, '%'], [D.status]: ['CHARGINGENDED', 10] });
    assert.deepStrictEqual(b.energyAdded, { kwh: 5.5, estimate: false, method: 'battery-energy-content' }, 'a counter that went back is not used; the content agrees with 7 % of 80 kWh');

    // maxEnergy sent as the usable capacity, about constant over a charge: its rise (0) disagrees with the SoC, so
    // the estimate is taken, with maxEnergy as the battery's size when the car sends no size of its own.
    const capacity = charging({ [D.energyContent]: [74, 0, 'kWh'], [SOC]: [20, 0, '%'] });
    const [cap] = capacity.send({ [D.energyContent]: [74.2, 100, 'kWh'], [SOC]: [50, 100, '%'], [D.status]: ['CHARGINGENDED', 100] });
    assert.deepStrictEqual(cap.energyAdded, { kwh: 22.26, estimate: true, method: 'soc-x-battery-size' });

    // Within 30 % of SoC added × size (or 1 kWh): measured; beyond: the estimate.
    const near = (end) => charging({ [D.energyContent]: [40, 0, 'kWh'], [SOC]: [20, 0, '%'], [D.batterySize[0]]: [80, -1000, 'kWh'] }).send({ [D.energyContent]: [end, 100, 'kWh'], [SOC]: [45, 100, '%'], [D.status]: ['CHARGINGENDED', 100] })[0].energyAdded;
    assert.deepStrictEqual(near(66), { kwh: 26, estimate: false, method: 'battery-energy-content' }, '26 of 20 kWh: within 30 %');
    assert.deepStrictEqual(near(54), { kwh: 14, estimate: false, method: 'battery-energy-content' }, '14 of 20 kWh: within 30 %');
    assert.deepStrictEqual(near(66.5), { kwh: 20, estimate: true, method: 'soc-x-battery-size' }, '26.5 of 20 kWh: not');
    assert.deepStrictEqual(near(53.5), { kwh: 20, estimate: true, method: 'soc-x-battery-size' }, '13.5 of 20 kWh: not');

    const content0 = charging({ [D.energyContent]: [40, 0, 'kWh'] });
    const [c0] = content0.send({ [D.status]: ['CHARGINGENDED', 10] });
    assert.strictEqual(c0.energyAdded, null, 'a rise of the content without the SoC to check it against is not taken');

    const est = charging({ [SOC]: [20, 0, '%'], [D.batterySize[1]]: [80, -1000, 'kWh'] });
    const [e] = est.send({ [SOC]: [50, 100, '%'], [D.energyContent]: [10, 100, 'kWh'], [D.status]: ['CHARGINGENDED', 100] });
    assert.deepStrictEqual(e.energyAdded, { kwh: 24, estimate: true, method: 'soc-x-battery-size' });

    const none = charging({ [SOC]: [20, 0, '%'], [D.batterySize[0]]: [0, -1000, 'kWh'] });
    const [n] = none.send({ [SOC]: [50, 100, '%'], [D.status]: ['CHARGINGENDED', 100] });
    assert.strictEqual(n.energyAdded, null, 'a battery of size 0 gives no estimate');
    assert.deepStrictEqual(n.missing, ['maxPowerKw', 'energyAdded', 'targetSoc']);
  });

  it('interruptions and errors are counted in the session and reported with the status; an error without a session has no session', () => {
    const c = charging({ [SOC]: [30, 0, '%'] });
    const [i] = c.send({ [D.status]: ['CHARGINGINTERRUPTED', 10] });
    assert.deepStrictEqual(i, { kind: 'charging-interrupted', vin: VIN, at: T(10), status: 'CHARGINGINTERRUPTED', sessionId: `${VIN}/${T(0)}`, soc: 30 });
    c.send({ [D.status]: ['CHARGINGACTIVE', 20] });
    const [err] = c.send({ [D.status]: ['CHARGINGERROR', 30] });
    assert.deepStrictEqual([err.kind, err.status], ['charging-error', 'CHARGINGERROR']);
    c.send({ [D.status]: ['CHARGINGACTIVE', 40] });
    c.send({ [D.status]: ['CHARGINGDISRUPTED', 50] });
    const [done] = c.send({ [D.status]: ['CHARGINGENDED', 60] });
    assert.deepStrictEqual([done.interruptions, done.errors], [2, 1]);
    const idle = car();
    idle.send({ [PORT]: ['CONNECTED', 0] });
    const [e] = idle.send({ [D.status]: ['CHARGINGERROR', 1] });
    assert.deepStrictEqual([e.kind, e.sessionId, e.soc], ['charging-error', null, null]);
  });

  it('the target: reached once per target when the state of charge gets to it, again for a higher one', () => {
    const c = charging({ [D.targetSoc]: [80, 0, '%'], [SOC]: [70, 0, '%'] });
    assert.deepStrictEqual(c.send({ [SOC]: [79, 10, '%'] }), []);
    const [t] = c.send({ [SOC]: [80, 20, '%'] });
    assert.deepStrictEqual(t, { kind: 'target-reached', vin: VIN, at: T(20), sessionId: `${VIN}/${T(0)}`, soc: 80, targetSoc: 80 });
    assert.deepStrictEqual(c.send({ [SOC]: [81, 30, '%'] }), [], 'once');
    assert.deepStrictEqual(c.send({ [D.targetSoc]: [70, 35, '%'] }), [], 'a lower target is not a new one');
    const [again] = c.send({ [D.targetSoc]: [85, 40, '%'], [SOC]: [85, 39, '%'] });
    assert.deepStrictEqual([again.kind, again.targetSoc, again.at], ['target-reached', 85, T(40)]);
    const [done] = c.send({ [D.status]: ['CHARGINGENDED', 50] });
    assert.deepStrictEqual([done.targetReached, done.targetSoc], [true, 85]);
    const zero = charging({ [D.targetSoc]: [0, 0, '%'], [SOC]: [50, 0, '%'] });
    assert.deepStrictEqual(zero.send({ [SOC]: [51, 10, '%'] }), [], 'a target of 0 is no target');
  });

  it('the end: by status at or after the start; by unplugging, which also sets the phase to idle', () => {
    const c = charging();
    const [byStatus] = c.send({ [D.status]: ['NOCHARGING', 0] });
    assert.deepStrictEqual([byStatus.kind, byStatus.durationSeconds, byStatus.endStatus], ['charging-finished', 0, 'NOCHARGING']);

    const u = charging();
    const events = u.send({ [PORT]: ['DISCONNECTED', 30] });
    assert.deepStrictEqual(kinds(events), ['charging-finished', 'unplugged']);
    assert.deepStrictEqual([events[0].endedBy, events[0].endStatus, events[0].endedAt], ['unplugged', null, T(30)]);
    assert.deepStrictEqual([u.state.phase, u.state.session, u.state.charging], ['idle', null, false]);

    const atStart = charging();
    assert.deepStrictEqual(kinds(atStart.send({ [PORT]: ['DISCONNECTED', 0] })), ['charging-finished', 'unplugged']);

    const before = charging();
    assert.deepStrictEqual(kinds(before.send({ [PORT]: ['DISCONNECTED', -5] })), ['unplugged'], 'a plug reading older than the session does not end it');
    assert.ok(before.state.session);

    const ended = car();
    ended.send({ [PORT]: ['CONNECTED', 0], [D.status]: ['CHARGINGENDED', 0] });
    ended.send({ [PORT]: ['DISCONNECTED', 10] });
    assert.strictEqual(ended.state.phase, 'ended', 'ended stays ended when unplugged');
    const paused = car();
    paused.send({ [PORT]: ['CONNECTED', 0], [D.status]: ['INITIALIZATION', 0] });
    paused.send({ [PORT]: ['DISCONNECTED', 10] });
    assert.strictEqual(paused.state.phase, 'idle');
    const never = car();
    never.send({ [PORT]: ['DISCONNECTED', 10] });
    assert.strictEqual(never.state.phase, null, 'no status ever: the phase stays unknown');
  });

  it('unplugged: the same charging status sent again starts nothing; a new value does', () => {
    const c = charging();
    c.send({ [PORT]: ['DISCONNECTED', 30] });
    assert.deepStrictEqual(c.send({ [D.status]: ['CHARGINGACTIVE', 40] }), []);
    assert.strictEqual(c.state.phase, 'idle');
    c.send({ [D.status]: ['NOCHARGING', 50] });
    c.send({ [PORT]: ['CONNECTED', 60] });
    assert.deepStrictEqual(kinds(c.send({ [D.status]: ['CHARGINGACTIVE', 70] })), ['charging-started']);
  });

  it('a status older than the open session does not end it', () => {
    const c = charging();
    assert.deepStrictEqual(c.send({ [D.status]: ['CHARGINGENDED', -1] }), []);
    assert.ok(c.state.session);
  });
});
