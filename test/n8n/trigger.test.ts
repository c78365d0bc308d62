import assert from 'assert';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { poll, authorizedCredentials, cleanup } from '../support/n8n-harness';
import { afterCarCheck, anyBusy, carsOf, knownOf, pickCar } from '../../nodes/BmwCarDataTrigger/cars';
import { decide } from '../../nodes/BmwCarDataTrigger/state';
import type { CarState, PollState } from '../../nodes/BmwCarDataTrigger/state';

const VIN = SIM_VINS.bev;
const NODE = 'node:BMW CarData Trigger';
const HOUR = 3600;
const DAY = 24 * HOUR;
const MINUTE_MS = 60_000;
const params = (extra: Record<string, unknown> = {}) => ({ vin: { __rl: true, mode: 'vin', value: VIN }, limit: 5, output: 'flat', ...extra });
const nowS = () => Math.floor(Date.now() / 1000);
/** The Vehicle field left empty: every car mapped as PRIMARY user (the simulator's BEV and PHEV, in that order). */
const EVERY_CAR = { vin: { __rl: true, mode: 'list', value: '' } };
const CARS = { [SIM_VINS.bev]: 'bev', [SIM_VINS.phev]: 'phev' };
const readOf = (call) => (/\/mappings$/.test(call.path) ? 'list' : (CARS[call.path.split('/')[3]] ?? call.path));

/**
 * The trigger's clock: Date.now stands still at `at` (epoch ms) and moves only when told. The simulator keeps the real
 * clock (it takes the one it was started with), which only serves the sessions the tests add with their own times.
 */
const clock = {
  realNow: Date.now,
  now: 0,
  set(at) {
    this.now = at;
    Date.now = () => this.now;
  },
  advance(ms) {
    this.now += ms;
  },
  restore() {
    Date.now = this.realNow;
  },
};
/** 00:00 UTC of a day after today, plus `hours`. */
function tomorrowAt(hours) {
  const d = new Date(clock.realNow.call(Date));
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) + hours * HOUR * 1000;
}

describe('n8n trigger bmwCarDataTrigger through n8n-core PollContext', function () {
  let sim;
  let creds;
  // Polls in a row, each with the static data the one before left; each poll comes once the one before is due
  // (4 hours and a minute later, night or day), unless `opts.after` says how many ms later it comes.
  let staticData;
  const next = async (extra?: Record<string, unknown>, opts: { after?: number; [option: string]: unknown } = {}) => {
    clock.advance(opts.after ?? 4 * HOUR * 1000 + MINUTE_MS);
    const run = await poll(creds, params(extra), { staticData, timezone: 'UTC', ...opts });
    staticData = run.staticData;
    return run.result ? run.result[0] : [];
  };
  const state = () => staticData[NODE];

  /**
   * Polls every `minutes` from now until `hours` later; returns the times (UTC HH:MM) of the polls that asked BMW,
   * with `byCar` followed by what each read (list: the vehicle list; bev, phev: a car's history). The items emitted
   * go to `into`.
   */
  const pollFor = async (
    hours: number,
    {
      minutes = 5,
      extra = {},
      each,
      byCar = false,
      into = [],
    }: { minutes?: number; extra?: Record<string, unknown>; each?: (hhmm: string) => unknown; byCar?: boolean; into?: any[] } = {},
  ) => {
    const checks = [];
    for (let t = 0; t < (hours * 60) / minutes; t++) {
      if (t > 0) clock.advance(minutes * MINUTE_MS);
      const before = sim.restCalls().length;
      const hhmm = new Date(Date.now()).toISOString().slice(11, 16);
      if (each) await each(hhmm);
      into.push(...(await next(extra, { after: 0 })).map((item) => item.json));
      const calls = sim.restCalls().slice(before);
      if (calls.length) checks.push(byCar ? `${hhmm} ${calls.map(readOf).join('+')}` : hhmm);
    }
    return checks;
  };

  beforeEach(async () => {
    // 60 sessions over two years: about one every twelve days, so the last week holds few or none.
    sim = await startSimulator({ port: 0, chargingSessions: 60, chargingPageSize: 10 });
    creds = authorizedCredentials(sim);
    staticData = {};
    clock.set(tomorrowAt(8));
  });
  afterEach(async () => {
    clock.restore();
    await sim.close();
  });
  after(() => cleanup());

  it('emits each new session once, with its VIN and vehicleName; a poll costs one call', async () => {
    creds.data.vehicleNames = `${VIN}=Blue i4`;
    assert.deepStrictEqual(await next(), [], 'first poll only remembers');
    assert.strictEqual(sim.restCalls().length, 1);
    assert.strictEqual(state().version, 2);
    assert.deepStrictEqual(Object.keys(state()).sort(), ['emitted', 'floor', 'pacing', 'version', 'vin'], 'one VIN: the state keeps the shape it had');

    sim.clearLog();
    assert.deepStrictEqual(await next(), [], 'nothing new');
    assert.strictEqual(sim.restCalls().length, 1);

    const added = sim.addChargingSession(VIN, { startTime: nowS() - 2 * HOUR });
    const third = await next();
    assert.strictEqual(third.length, 1);
    const item = third[0].json;
    assert.strictEqual(item.vin, VIN);
    assert.strictEqual(item.vehicleName, 'Blue i4');
    assert.strictEqual(item.key, `${VIN}-${added.startTime}`);
    assert.strictEqual(item.mileage, added.mileage);
    assert.strictEqual(Date.parse(item.start), added.startTime * 1000);

    assert.deepStrictEqual(await next(), [], 'emitted once');
  });

  for (const [name, ongoing] of <[string, Record<string, unknown>][]>[
    ['null', {}],
    ['0', { endTime: 0 }],
  ]) {
    it(`a session in progress (endTime ${name}) is emitted once, when it has finished, with its final data`, async () => {
      await next();
      const started = sim.startChargingSession(VIN, { startTime: nowS() - 3 * HOUR, ...ongoing });
      assert.ok(!started.endTime && started.energyConsumedFromPowerGridKwh === undefined, 'the simulator lists it as BMW does while it lasts');
      assert.deepStrictEqual(await next(), [], 'not while it lasts');
      assert.deepStrictEqual(await next(), [], 'still not');
      const done = sim.finishChargingSession(VIN, started.startTime);
      const items = await next({ output: 'raw' });
      assert.strictEqual(items.length, 1);
      assert.strictEqual(items[0].json.startTime, started.startTime);
      assert.strictEqual(items[0].json.vin, VIN);
      assert.strictEqual(items[0].json.vehicleName, VIN, 'no name given: the VIN');
      assert.strictEqual(items[0].json.endTime, done.endTime);
      assert.strictEqual(items[0].json.energyConsumedFromPowerGridKwh, done.energyConsumedFromPowerGridKwh);
      assert.ok(done.endTime > done.startTime && done.energyConsumedFromPowerGridKwh > 0);
      assert.deepStrictEqual(await next(), [], 'once');
    });
  }

  it('a correction by BMW (mileage, end time) does not emit the session again', async () => {
    await next();
    const added = sim.addChargingSession(VIN, { startTime: nowS() - 5 * HOUR });
    assert.strictEqual((await next()).length, 1);
    sim.updateChargingSession(VIN, added.startTime, { mileage: added.mileage + 3 });
    assert.deepStrictEqual(await next(), [], 'a new mileage is the same session');
    sim.updateChargingSession(VIN, added.startTime, { endTime: added.endTime + 60 });
    assert.deepStrictEqual(await next(), [], 'so is a new end time');
  });

  it('more new sessions than Max Sessions per Poll: the rest come with the next polls, oldest first', async () => {
    await next();
    const starts = [];
    for (let i = 6; i >= 1; i--) starts.push(sim.addChargingSession(VIN, { startTime: nowS() - i * 3 * HOUR }).startTime);
    const first = await next({ output: 'raw' });
    assert.deepStrictEqual(
      first.map((i) => i.json.startTime),
      starts.slice(0, 5),
    );
    const second = await next({ output: 'raw' });
    assert.deepStrictEqual(
      second.map((i) => i.json.startTime),
      starts.slice(5),
    );
    assert.deepStrictEqual(await next(), []);
  });

  it('more new sessions than a page holds: one call per poll, none lost, each once', async () => {
    await next();
    const starts = [];
    for (let i = 12; i >= 1; i--) starts.push(sim.addChargingSession(VIN, { startTime: nowS() - i * 4 * HOUR }).startTime);
    sim.clearLog();
    const emitted = [];
    for (let i = 0; i < 4; i++) emitted.push(...(await next({ output: 'raw', limit: 50 })).map((item) => item.json.startTime));
    assert.strictEqual(sim.restCalls().length, 4);
    assert.deepStrictEqual(
      [...emitted].sort((a, b) => a - b),
      starts,
    );
  });

  it('a session BMW reports late, older than the newest one, is emitted once', async () => {
    await next();
    sim.addChargingSession(VIN, { startTime: nowS() - 2 * HOUR });
    assert.strictEqual((await next()).length, 1);
    const late = sim.addChargingSession(VIN, { startTime: nowS() - 3 * DAY });
    const items = await next({ output: 'raw' });
    assert.deepStrictEqual(
      items.map((i) => i.json.startTime),
      [late.startTime],
    );
    assert.deepStrictEqual(await next(), []);
  });

  it('keeps a bounded state: only the sessions of the re-read window', async () => {
    // The first poll reads 30 days, the next ones a week.
    for (let i = 1; i <= 8; i++) sim.addChargingSession(VIN, { startTime: nowS() - i * 3 * DAY - HOUR });
    await next();
    const firstCount = state().emitted.length;
    assert.ok(firstCount >= 8, `the first poll remembers the month's sessions (${firstCount})`);
    await next();
    const weekAgo = nowS() - 7 * DAY - 60;
    assert.ok(state().emitted.length >= 2 && state().emitted.length < firstCount, JSON.stringify(state()));
    assert.ok(
      state().emitted.every((t) => t >= weekAgo),
      'nothing older than the window is kept',
    );
    assert.ok(state().floor >= weekAgo);
  });

  it('reads the state saved by earlier versions (high-water mark and keys) without emitting again', async () => {
    const newest = sim.addChargingSession(VIN, { startTime: nowS() - 6 * HOUR });
    staticData = { [NODE]: { highWater: newest.startTime, seenAtHighWater: [`${newest.startTime}-${newest.endTime}-${newest.mileage}`] } };
    assert.deepStrictEqual(await next(), []);
    assert.strictEqual(state().version, 2);
    assert.ok(!('highWater' in state()) && !('seenAtHighWater' in state()), 'the old shape is replaced');
    const added = sim.addChargingSession(VIN, { startTime: nowS() - HOUR });
    const items = await next({ output: 'raw' });
    assert.deepStrictEqual(
      items.map((i) => i.json.startTime),
      [added.startTime],
    );
  });

  it('Emit Existing Sessions: the first poll emits the latest finished sessions (oldest first, up to the limit), the next none', async () => {
    // Newer than every generated session (those end an hour or more before the simulator started).
    const older = sim.addChargingSession(VIN, { startTime: nowS() - 40 * 60 });
    const newer = sim.addChargingSession(VIN, { startTime: nowS() - 30 * 60 });
    const ongoing = sim.startChargingSession(VIN, { startTime: nowS() - 20 * 60 });
    const first = await next({ emitExisting: true, output: 'raw', limit: 2 });
    assert.deepStrictEqual(
      first.map((i) => i.json.startTime),
      [older.startTime, newer.startTime],
    );
    assert.deepStrictEqual(await next({ emitExisting: true }), []);
    sim.finishChargingSession(VIN, ongoing.startTime);
    const later = await next({ emitExisting: true, output: 'raw' });
    assert.deepStrictEqual(
      later.map((i) => i.json.startTime),
      [ongoing.startTime],
      'the session in progress comes when it has finished',
    );
  });

  it('another VIN starts afresh: its existing sessions are remembered, not emitted', async () => {
    await next();
    sim.addChargingSession(SIM_VINS.phev, { startTime: nowS() - 2 * HOUR });
    assert.deepStrictEqual(await next({ vin: { __rl: true, mode: 'vin', value: SIM_VINS.phev } }), []);
    assert.strictEqual(state().vin, SIM_VINS.phev);
  });

  it('manual mode returns the latest finished session as a sample and leaves the state alone', async () => {
    const done = sim.addChargingSession(VIN, { startTime: nowS() - 4 * HOUR });
    sim.startChargingSession(VIN, { startTime: nowS() - HOUR });
    const items = await next({ output: 'raw' }, { mode: 'manual' });
    assert.deepStrictEqual(
      items.map((i) => i.json.startTime),
      [done.startTime],
    );
    assert.strictEqual(Object.keys(state() || {}).length, 0);
    assert.strictEqual(sim.restCalls().length, 1);
  });

  describe('pacing: n8n polls every minute by default, the trigger asks BMW only when its time has come', () => {
    it('a day of polls: every 2 hours by day, twice as far apart at night (22:00 to 6:00) and at 6:00; nothing in between costs a call', async () => {
      clock.set(tomorrowAt(0));
      const checks = await pollFor(24);
      assert.deepStrictEqual(checks, ['00:00', '04:00', '06:00', '08:00', '10:00', '12:00', '14:00', '16:00', '18:00', '20:00', '22:00']);
      assert.strictEqual(sim.restCalls().length, 11);
    });

    it("night and day follow the workflow's time zone", async () => {
      // 6:00 in Berlin (winter) is 5:00 UTC.
      clock.set(Date.parse(`${new Date(tomorrowAt(0)).getUTCFullYear() + 1}-01-15T00:00:00Z`));
      const checks = [];
      for (let t = 0; t < 8 * 12; t++) {
        if (t > 0) clock.advance(5 * MINUTE_MS);
        const before = sim.restCalls().length;
        const run = await poll(creds, params(), { staticData, timezone: 'Europe/Berlin' });
        staticData = run.staticData;
        if (sim.restCalls().length > before) checks.push(new Date(Date.now()).toISOString().slice(11, 16));
      }
      assert.deepStrictEqual(checks, ['00:00', '04:00', '05:00', '07:00']);
    });

    it('a charge in progress: checked every 30 minutes by day, emitted within 30 minutes of its end, then back to every 2 hours', async () => {
      const start = Date.now();
      let started;
      let emittedAt;
      const checks = await pollFor(6, {
        extra: { output: 'raw' },
        each: async (hhmm) => {
          if (Date.now() - start === 60 * MINUTE_MS) started = sim.startChargingSession(VIN, { startTime: nowS() });
          if (Date.now() - start === 190 * MINUTE_MS) sim.finishChargingSession(VIN, started.startTime);
          const emitted = staticData[NODE]?.emitted ?? [];
          if (started && !emittedAt && emitted.includes(started.startTime)) emittedAt = hhmm;
        },
      });
      // 08:00 first check; the charge starts at 09:00, is seen at 10:00 and ends at 11:10.
      assert.deepStrictEqual(checks, ['08:00', '10:00', '10:30', '11:00', '11:30', '13:30']);
      assert.ok(emittedAt === '11:35', `emitted after the 11:30 check (seen at ${emittedAt})`);
    });

    it('closer checks are capped: a car that stays in progress all day costs 20 checks, not 40', async () => {
      clock.set(tomorrowAt(0));
      sim.startChargingSession(VIN, { startTime: nowS() - 60 });
      const checks = await pollFor(24, { minutes: 10 });
      // Night: 0:00, 4:00, 6:00; then 12 closer checks (6:30 to 12:00), then every 2 hours to 22:00.
      assert.strictEqual(checks.length, 20, checks.join(' '));
      assert.deepStrictEqual(checks.slice(0, 4), ['00:00', '04:00', '06:00', '06:30']);
      assert.deepStrictEqual(checks.slice(-6), ['12:00', '14:00', '16:00', '18:00', '20:00', '22:00']);
    });

    it('Check BMW at Most Every: at least 30 minutes, whatever is set', async () => {
      await next({ checkEvery: 5 });
      sim.clearLog();
      assert.deepStrictEqual(await next({ checkEvery: 5 }, { after: 29 * MINUTE_MS }), []);
      assert.strictEqual(sim.restCalls().length, 0, 'sooner than 30 minutes: no call');
      await next({ checkEvery: 5 }, { after: MINUTE_MS });
      assert.strictEqual(sim.restCalls().length, 1);
      await next({ checkEvery: 45 }, { after: 44 * MINUTE_MS });
      assert.strictEqual(sim.restCalls().length, 1, 'every 45 minutes: not after 44');
      await next({ checkEvery: 45 }, { after: MINUTE_MS });
      assert.strictEqual(sim.restCalls().length, 2);
    });

    it('Fetch Test Event (manual mode) asks BMW even right after a check', async () => {
      await next();
      sim.clearLog();
      await next({}, { after: MINUTE_MS, mode: 'manual' });
      assert.strictEqual(sim.restCalls().length, 1);
    });

    it('a check the quota refused (the reserve) says so once, and the next check waits for the reset at 00:00 UTC', async () => {
      creds.data.quotaReserve = 50;
      await assert.rejects(
        next(),
        (e: Error) => e.name === 'NodeApiError' && /kept in reserve/.test(e.message) && /Resets at \d{4}-\d{2}-\d{2}T00:00:00Z/.test(e.message),
      );
      assert.strictEqual(sim.restCalls().length, 0, 'BMW was not called');
      // The user lowers the reserve; the trigger still waits for the new day.
      creds.data.quotaReserve = 0;
      const midnight = Date.parse(new Date(Date.now()).toISOString().slice(0, 10)) + DAY * 1000;
      assert.deepStrictEqual(await next({}, { after: midnight - Date.now() - MINUTE_MS }), [], 'one minute before the reset: nothing');
      assert.strictEqual(sim.restCalls().length, 0);
      await next({}, { after: MINUTE_MS });
      assert.strictEqual(sim.restCalls().length, 1, 'at the reset it asks again');
    });
  });

  for (const [name, extra] of <[string, Record<string, unknown>][]>[
    ['the VIN set', {}],
    ['the Vehicle field emptied', EVERY_CAR],
  ]) {
    it(`a state saved for one VIN by the version before, with ${name}: what it emitted is not emitted again, a new session is`, async () => {
      const done = sim.addChargingSession(VIN, { startTime: nowS() - 6 * HOUR, endTime: nowS() - 5 * HOUR });
      // As the version before left it after the poll that emitted `done`, two hours ago.
      const checkedAt = Date.now() - 2 * HOUR * 1000;
      const day = new Date(checkedAt).toISOString().slice(0, 10);
      staticData = { [NODE]: { version: 2, vin: VIN, floor: done.startTime, emitted: [done.startTime], pacing: { checkedAt, busy: false, day, closer: 0 } } };
      const added = sim.addChargingSession(VIN, { startTime: nowS() - HOUR, endTime: nowS() - 30 * 60 });
      const items = [];
      // Every car: the PHEV, never checked, comes first, then the BEV.
      for (let i = 0; i < 3; i++) items.push(...(await next({ ...extra, output: 'raw' })));
      assert.deepStrictEqual(
        items.map((i) => [i.json.vin, i.json.startTime]),
        [[VIN, added.startTime]],
      );
    });
  }

  describe('no VIN set: every car mapped as PRIMARY user, in turn, on the calls of one car', () => {
    beforeEach(() => {
      creds.data.vehicleNames = `${SIM_VINS.bev}=Blue i4\n${SIM_VINS.phev}=Grey 330e`;
    });

    it("a day, and the next: each car's sessions emitted once each, never twice; the checks go round the cars and cost what one car's do", async () => {
      clock.set(tomorrowAt(0));
      const at = (hours) => Math.floor(tomorrowAt(hours) / 1000);
      const plan = {
        '03:00': [SIM_VINS.bev, 1, 2.5],
        '09:10': [SIM_VINS.phev, 8, 9],
        '13:10': [SIM_VINS.bev, 12, 13],
        '15:10': [SIM_VINS.phev, 14, 15],
      };
      const added = [];
      const emitted = [];
      const each = async (hhmm) => {
        if (plan[hhmm]) {
          const [vin, from, to] = plan[hhmm];
          added.push(`${vin}-${sim.addChargingSession(vin, { startTime: at(from), endTime: at(to) }).startTime}`);
        }
      };
      const first = await pollFor(24, { extra: EVERY_CAR, each, byCar: true, into: emitted });
      // One car's day (see the pacing tests): 11 checks, each of one car, in turn; the list once.
      assert.deepStrictEqual(first, [
        '00:00 list+bev',
        '04:00 phev',
        '06:00 bev',
        '08:00 phev',
        '10:00 bev',
        '12:00 phev',
        '14:00 bev',
        '16:00 phev',
        '18:00 bev',
        '20:00 phev',
        '22:00 bev',
      ]);
      assert.strictEqual(sim.restCalls().length, 12);
      assert.deepStrictEqual(emitted.map((i) => i.key).sort(), [...added].sort(), 'every session of both cars, once');
      for (const item of emitted) assert.strictEqual(item.vehicleName, item.vin === SIM_VINS.bev ? 'Blue i4' : 'Grey 330e');
      sim.clearLog();
      clock.advance(5 * MINUTE_MS);
      const second = await pollFor(24, { extra: EVERY_CAR, byCar: true, into: emitted });
      // The next day as one car's: after the check at 22:00 the night's next at 2:00; the list read again after 24 hours.
      assert.deepStrictEqual(second, [
        '02:00 list+phev',
        '06:00 bev',
        '08:00 phev',
        '10:00 bev',
        '12:00 phev',
        '14:00 bev',
        '16:00 phev',
        '18:00 bev',
        '20:00 phev',
        '22:00 bev',
      ]);
      assert.strictEqual(emitted.length, added.length, 'none twice');
      assert.deepStrictEqual(Object.keys(state().cars).sort(), [SIM_VINS.phev, SIM_VINS.bev].sort());
      // One car, the same two days: the same checks.
      staticData = {};
      clock.set(tomorrowAt(0));
      const one = await pollFor(48);
      assert.deepStrictEqual(
        one,
        [...first, ...second].map((check) => check.slice(0, 5)),
      );
    });

    it("a car's first check comes after the trigger began: a session that ended since then is emitted (Raw, with VIN and vehicleName), an older one is not", async () => {
      sim.addChargingSession(SIM_VINS.phev, { startTime: nowS() - 3 * HOUR, endTime: nowS() - 2 * HOUR });
      assert.deepStrictEqual(await next(EVERY_CAR), [], 'the BEV first, remembered');
      clock.advance(HOUR * 1000);
      const ended = sim.addChargingSession(SIM_VINS.phev, { startTime: nowS() - 50 * 60, endTime: nowS() - 10 * 60 });
      const items = await next({ ...EVERY_CAR, output: 'raw' });
      assert.deepStrictEqual(sim.restCalls().map(readOf), ['list', 'bev', 'phev']);
      assert.deepStrictEqual(
        items.map((i) => [i.json.vin, i.json.vehicleName, i.json.startTime]),
        [[SIM_VINS.phev, 'Grey 330e', ended.startTime]],
      );
      assert.deepStrictEqual(await next(EVERY_CAR), [], 'the BEV');
      assert.deepStrictEqual(await next(EVERY_CAR), [], 'the PHEV: not twice');
    });

    it('a charge in progress: its car is checked every 30 minutes, the other keeps its turn every 4 hours', async () => {
      const start = Date.now();
      let started;
      let emittedAt;
      const emitted = [];
      const checks = await pollFor(8, {
        extra: { ...EVERY_CAR, output: 'raw' },
        byCar: true,
        into: emitted,
        each: async (hhmm) => {
          if (Date.now() - start === 60 * MINUTE_MS) started = sim.startChargingSession(SIM_VINS.phev, { startTime: nowS() });
          if (Date.now() - start === 280 * MINUTE_MS) sim.finishChargingSession(SIM_VINS.phev, started.startTime);
          if (!emittedAt && emitted.length) emittedAt = hhmm;
        },
      });
      // 08:00 the BEV; the charge starts at 09:00, is seen at 10:00 and ends at 12:40.
      assert.deepStrictEqual(checks, [
        '08:00 list+bev',
        '10:00 phev',
        '10:30 phev',
        '11:00 phev',
        '11:30 phev',
        '12:00 bev',
        '12:30 phev',
        '13:00 phev',
        '15:00 bev',
      ]);
      assert.deepStrictEqual(
        emitted.map((i) => [i.vin, i.startTime]),
        [[SIM_VINS.phev, started.startTime]],
      );
      assert.strictEqual(emittedAt, '13:05', 'emitted by the 13:00 check');
    });

    it('Fetch Test Event: the latest finished session of the first car that has one, one call per car at most besides the list; the state is left alone', async () => {
      // A year on: neither car has a session in the 30 days read; the BEV's charge is still in progress.
      clock.set(tomorrowAt(365 * 24));
      sim.startChargingSession(SIM_VINS.bev, { startTime: nowS() - HOUR });
      const done = sim.addChargingSession(SIM_VINS.phev, { startTime: nowS() - 5 * HOUR, endTime: nowS() - 4 * HOUR });
      let items = await next({ ...EVERY_CAR, output: 'raw' }, { mode: 'manual', after: 0 });
      assert.deepStrictEqual(
        items.map((i) => [i.json.vin, i.json.vehicleName, i.json.startTime]),
        [[SIM_VINS.phev, 'Grey 330e', done.startTime]],
      );
      assert.deepStrictEqual(sim.restCalls().map(readOf), ['list', 'bev', 'phev']);
      assert.strictEqual(Object.keys(state() || {}).length, 0);
      // The BEV has a finished one too: it alone is read.
      sim.clearLog();
      const bev = sim.addChargingSession(SIM_VINS.bev, { startTime: nowS() - 8 * HOUR, endTime: nowS() - 7 * HOUR });
      items = await next(EVERY_CAR, { mode: 'manual', after: MINUTE_MS });
      assert.deepStrictEqual(
        items.map((i) => [i.json.vin, i.json.key]),
        [[SIM_VINS.bev, `${SIM_VINS.bev}-${bev.startTime}`]],
      );
      assert.deepStrictEqual(sim.restCalls().map(readOf), ['bev']);
    });
  });

  it('reports BMW errors as NodeApiError', async () => {
    await assert.rejects(
      poll(creds, { ...params(), vin: { __rl: true, mode: 'vin', value: SIM_VINS.secondary } }),
      (e: Error) => e.name === 'NodeApiError' && /CU-104/.test(e.message),
    );
  });
});

describe('n8n trigger: the decisions for every car (cars.ts), and what a first check after the trigger began emits (state.ts)', () => {
  const [A, B, C] = ['WBA00000000000001', 'WBA00000000000002', 'WBA00000000000003'];
  const H = HOUR * 1000;

  it('carsOf: the cars listed keep their state, one no longer listed is forgotten, one listed first starts now (since)', () => {
    const state: PollState = { version: 2, cars: { [A]: { floor: 5, emitted: [6], checkedAt: 1, busy: true }, [C]: { floor: 1 } }, pacing: { checkedAt: 1 } };
    assert.deepStrictEqual(carsOf(state, [A, B], 100), { [A]: { floor: 5, emitted: [6], checkedAt: 1, busy: true }, [B]: { since: 100 } });
    assert.deepStrictEqual(carsOf({ version: 2, cars: { [A]: 'junk' } as unknown as Record<string, CarState> }, [A], 100), { [A]: { since: 100 } });
  });

  it("carsOf: a state kept for one VIN becomes that car's, its turn the pacing's last check", () => {
    const state: PollState = {
      version: 2,
      vin: A,
      floor: 5,
      emitted: [6, 7],
      before: 9,
      pacing: { checkedAt: 1000, busy: true, day: '2026-01-01', closer: 0 },
    };
    assert.deepStrictEqual(carsOf(state, [B, A], 100), { [B]: { since: 100 }, [A]: { floor: 5, emitted: [6, 7], before: 9, checkedAt: 1000, busy: true } });
    assert.deepStrictEqual(knownOf(carsOf(state, [A], 100)[A]), { floor: 5, emitted: new Set([6, 7]), before: 9 });
    assert.strictEqual(knownOf({ since: 100 }), undefined, 'never checked');
  });

  it('pickCar: a car never checked first (in list order), else the one checked longest ago', () => {
    assert.strictEqual(pickCar({ [A]: { checkedAt: 5 }, [B]: { since: 1 }, [C]: { since: 1 } }, [A, B, C], 120, false), B);
    assert.strictEqual(pickCar({ [A]: { checkedAt: 5 * H }, [B]: { checkedAt: 3 * H }, [C]: { checkedAt: 4 * H } }, [A, B, C], 120, false), B);
  });

  it("pickCar: on a closer check a busy car's turn comes a quarter of the spacing after its check, the others' cars × spacing after theirs", () => {
    // A due at 4:00 (2 cars × 2 hours), B at 2:30.
    assert.strictEqual(pickCar({ [A]: { checkedAt: 0 }, [B]: { checkedAt: 2 * H, busy: true } }, [A, B], 120, true), B);
    // A due at 4:00, B at 4:06.
    assert.strictEqual(pickCar({ [A]: { checkedAt: 0 }, [B]: { checkedAt: 3.6 * H, busy: true } }, [A, B], 120, true), A);
    // Three cars: A due at 6:00, B at 4:36.
    assert.strictEqual(pickCar({ [A]: { checkedAt: 0 }, [B]: { checkedAt: 4.1 * H, busy: true }, [C]: { checkedAt: 4.2 * H } }, [A, B, C], 120, true), B);
    // Not a closer check (the day's closer checks spent, or night): in turn.
    assert.strictEqual(pickCar({ [A]: { checkedAt: 0 }, [B]: { checkedAt: 2 * H, busy: true } }, [A, B], 120, false), A);
  });

  it("afterCarCheck: the car's new state and turn, the others as they were; a failed check takes the car's turn only", () => {
    const cars = { [A]: { since: 100 }, [B]: { floor: 1, emitted: [2], checkedAt: 3, busy: true } };
    const next: PollState = { version: 2, vin: A, floor: 50, emitted: [60], before: 70 };
    assert.deepStrictEqual(afterCarCheck(cars, A, 1000, { next, busy: false }), {
      version: 2,
      cars: { [A]: { floor: 50, emitted: [60], before: 70, busy: false, checkedAt: 1000 }, [B]: cars[B] },
    });
    assert.deepStrictEqual(afterCarCheck(cars, A, 1000), { version: 2, cars: { [A]: { since: 100, checkedAt: 1000 }, [B]: cars[B] } });
    assert.strictEqual(anyBusy(cars), true);
    assert.strictEqual(anyBusy({ [A]: { busy: false } }), false);
  });

  it("decide: a car's first check with since emits the sessions that ended since then (oldest first, the limit's rest with the next), not the older", () => {
    const session = (startTime, endTime) => ({ startTime, endTime });
    const sessions = [session(100, 150), session(200, 260), session(300, 390), session(400, 450), session(500, null)];
    const range = { from: 0, to: 1000 };
    const first = decide(undefined, A, { sessions, more: false }, range, { limit: 1, emitExisting: false, since: 255 });
    assert.deepStrictEqual(
      first.emit.map((s) => s.startTime),
      [200],
    );
    assert.strictEqual(first.pending, true);
    assert.deepStrictEqual(first.next.emitted, [100, 200]);
    const again = decide({ floor: first.next.floor, emitted: new Set(first.next.emitted) }, A, { sessions, more: false }, range, {
      limit: 5,
      emitExisting: false,
    });
    assert.deepStrictEqual(
      again.emit.map((s) => s.startTime),
      [300, 400],
    );
    // One VIN (no since): the first poll remembers them all.
    assert.deepStrictEqual(decide(undefined, A, { sessions, more: false }, range, { limit: 5, emitExisting: false }).emit, []);
  });
});
