// Inputs that can never be right are refused by the client with a plain error before anything is sent: no
// request reaches the simulator and no quota is spent. Epoch numbers in from/to are read as seconds or
// milliseconds by their size.
import assert from 'assert';
import { startSimulator, SIM_VINS } from '../../../src/simulator';
import * as core from '../../../src/node';
import { failure } from '../../support/failure';
import { simulatorAccount } from '../../support/simulator-account';

const { CarDataError } = core;

const DAY_MS = 86_400_000;

describe('the client checks its inputs', function () {
  let sim;
  let client;
  before(async () => {
    sim = await startSimulator({ dailyQuota: 1000 });
    ({ client } = simulatorAccount(sim, { dailyQuota: 1000 }));
  });
  after(() => sim.close());

  describe('inputs refused before any request', function () {
    const bev = SIM_VINS.bev;
    const now = () => new Date().toISOString();
    const yearAgo = () => new Date(Date.now() - 365 * DAY_MS).toISOString();
    const inTwoYears = () => new Date(Date.now() + 2 * 365 * DAY_MS).toISOString();
    const nowS = () => Math.floor(Date.now() / 1000);

    const cases: [string, (c: any) => Promise<unknown>, string, RegExp][] = [
      // ISO 3779: I, O and Q are never used in a VIN (they look like 1 and 0).
      ['a VIN with an I', (c) => c.getBasicData('WBY31AW09IFP15732'), 'vin', /I, O or Q.*"I" at position 10/],
      ['a VIN with an O', (c) => c.getTyreDiagnosis('WBY31AW090FP1573O'), 'vin', /I, O or Q.*"O" at position 17/],
      ['a VIN with a Q', (c) => c.getImage('QBY31AW090FP15732'), 'vin', /I, O or Q.*"Q" at position 1/],
      ['a lower-case VIN with an o', (c) => c.paginate('getLocationBasedChargingSettings', { vin: 'wby31aw090fp1573o' }), 'vin', /I, O or Q/],
      ['a VIN with an O in a telematics read', (c) => c.getTelematicData('WBY31AW090FP1573O', 'CABCDEFGHJ123'), 'vin', /I, O or Q/],
      [
        'a VIN with an O in the charging history',
        (c) => c.paginate('getChargingHistory', { vin: 'WBY31AW090FP1573O', from: yearAgo(), to: now() }),
        'vin',
        /I, O or Q/,
      ],
      // A container ID is 13 letters and digits.
      ['a container ID with an underscore', (c) => c.getContainer('ABCDEF_123456'), 'containerId', /13 letters or digits/],
      ['a container ID with a hyphen', (c) => c.deleteContainer('ABCDEF-123456'), 'containerId', /13 letters or digits/],
      ['a container ID with a dot', (c) => c.getTelematicData(bev, 'ABCDEF.123456'), 'containerId', /13 letters or digits/],
      ['a container ID with an accented letter', (c) => c.getContainer('ABCDÉF1234567'), 'containerId', /13 letters or digits/],
      ['a container ID with a space inside', (c) => c.getContainer('ABCDEF 123456'), 'containerId', /13 letters or digits/],
      ['a container ID given to call()', (c) => c.call('getContainerDetails', { containerId: '../mappings__' }), 'containerId', /13 letters or digits/],
      // Years before 1970 or more than a year ahead.
      ['from in 1969', (c) => c.paginate('getChargingHistory', { vin: bev, from: '1969-12-31T23:59:59Z', to: now() }), 'from', /before 1970/],
      ['from in year 1', (c) => c.paginate('getChargingHistory', { vin: bev, from: '0001-01-01', to: now() }), 'from', /before 1970/],
      [
        'a page token that is not text',
        (c) => c.call('getChargingHistory', { vin: bev, from: yearAgo(), to: now(), nextToken: { token: 'x' } }),
        'nextToken',
        /page token text/,
      ],
      ['an unknown operation', (c) => c.call('__proto__'), 'operation', /Unknown operation __proto__/],
      [
        'from as a Date before 1970',
        (c) => c.paginate('getChargingHistory', { vin: bev, from: new Date('1960-05-01T00:00:00Z'), to: now() }),
        'from',
        /before 1970/,
      ],
      ['to two years ahead', (c) => c.paginate('getChargingHistory', { vin: bev, from: yearAgo(), to: inTwoYears() }), 'to', /more than a year ahead/],
      ['to in 2100', (c) => c.paginate('getChargingHistory', { vin: bev, from: yearAgo(), to: '2100-01-01T00:00:00Z' }), 'to', /more than a year ahead/],
      ['from far ahead as well', (c) => c.paginate('getChargingHistory', { vin: bev, from: '9999-01-01', to: '9999-12-31' }), 'from', /more than a year ahead/],
      [
        'to a year and a day ahead',
        (c) => c.paginate('getChargingHistory', { vin: bev, from: yearAgo(), to: new Date(Date.now() + 367 * DAY_MS) }),
        'to',
        /more than a year ahead/,
      ],
      ['from before 1970 through call()', (c) => c.call('getChargingHistory', { vin: bev, from: '1901-01-01', to: now() }), 'from', /before 1970/],
      // Numbers: seconds below 1e11, milliseconds from there on; neither reading may leave the window.
      ['negative epoch seconds', (c) => c.paginate('getChargingHistory', { vin: bev, from: -86400, to: nowS() }), 'from', /before 1970/],
      [
        'epoch seconds of the year 2100',
        (c) => c.paginate('getChargingHistory', { vin: bev, from: nowS() - 86400, to: 4_102_444_800 }),
        'to',
        /2100-01-01T00:00:00Z\) is more than a year ahead/,
      ],
      [
        'epoch milliseconds times a thousand',
        (c) => c.paginate('getChargingHistory', { vin: bev, from: Date.now() - DAY_MS, to: Date.now() * 1000 }),
        'to',
        /more than a year ahead/,
      ],
      ['NaN as from', (c) => c.paginate('getChargingHistory', { vin: bev, from: NaN, to: nowS() }), 'from', /not a date/],
      ['Infinity as to', (c) => c.paginate('getChargingHistory', { vin: bev, from: nowS() - 86400, to: Infinity }), 'to', /not a date/],
      ['epoch seconds as text', (c) => c.paginate('getChargingHistory', { vin: bev, from: String(nowS() - 86400), to: now() }), 'from', /not an ISO 8601/],
    ];

    for (const [name, run, parameter, message] of cases) {
      it(`refuses ${name}`, async () => {
        sim.clearLog();
        const localBefore = (await client.quotaState()).used;
        const bmwBefore = sim.quota().used;
        const e = await failure(run(client));
        assert.ok(e instanceof CarDataError, e && e.stack);
        assert.strictEqual(e.kind, 'input');
        assert.strictEqual(e.parameter, parameter);
        assert.match(e.message, message);
        assert.ok(e.hint.length > 10, 'a hint says what to do');
        assert.strictEqual(sim.requests.length, 0, 'the simulator received no request');
        assert.strictEqual((await client.quotaState()).used, localBefore, 'no local quota spent');
        assert.strictEqual(sim.quota().used, bmwBefore, 'no BMW quota spent');
      });
    }

    it('the date hints say how a number is read', async () => {
      for (const bad of [
        { from: -1, to: nowS() },
        { from: 'x', to: nowS() },
        { from: nowS() - 60, to: Date.now() * 1000 },
      ]) {
        const e = await failure(client.paginate('getChargingHistory', { vin: bev, ...bad }));
        assert.match(e.hint, /epoch seconds below 100000000000 and as epoch milliseconds from there on/);
      }
    });
  });

  describe('from/to as epoch numbers', function () {
    beforeEach(() => sim.clearLog());

    const wholeSecond = (ms) => Math.floor(ms / 1000) * 1000;
    const isoOf = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');

    it('reads epoch seconds as seconds (the unit of BMW session times) and sends the same range as ISO text', async () => {
      const toMs = wholeSecond(Date.now());
      const fromMs = toMs - 365 * DAY_MS;
      const iso = await client.paginate('getChargingHistory', { vin: SIM_VINS.bev, from: isoOf(fromMs), to: isoOf(toMs) }, { limit: 5 });
      const seconds = await client.paginate('getChargingHistory', { vin: SIM_VINS.bev, from: fromMs / 1000, to: toMs / 1000 }, { limit: 5 });
      assert.strictEqual(seconds.length, 5, 'a year of sessions, not an empty range in 1970');
      assert.deepStrictEqual(seconds, iso);
      const [first, second] = sim.restCalls();
      assert.deepStrictEqual([second.query.from, second.query.to], [isoOf(fromMs), isoOf(toMs)]);
      assert.deepStrictEqual([second.query.from, second.query.to], [first.query.from, first.query.to]);
    });

    it('reads epoch milliseconds as milliseconds, also mixed with seconds', async () => {
      const toMs = wholeSecond(Date.now());
      const fromMs = toMs - 365 * DAY_MS;
      const ms = await client.paginate('getChargingHistory', { vin: SIM_VINS.bev, from: fromMs, to: toMs }, { limit: 5 });
      const mixed = await client.paginate('getChargingHistory', { vin: SIM_VINS.bev, from: fromMs / 1000, to: toMs }, { limit: 5 });
      assert.strictEqual(ms.length, 5);
      assert.deepStrictEqual(mixed, ms);
      for (const call of sim.restCalls()) assert.deepStrictEqual([call.query.from, call.query.to], [isoOf(fromMs), isoOf(toMs)]);
    });

    it('a session time in seconds read back as from finds that session', async () => {
      const toMs = wholeSecond(Date.now());
      const [session] = await client.paginate('getChargingHistory', { vin: SIM_VINS.bev, from: toMs - 365 * DAY_MS, to: toMs }, { limit: 1 });
      assert.ok(session.startTime < 1e11, 'BMW session times are epoch seconds');
      const again = await client.paginate('getChargingHistory', { vin: SIM_VINS.bev, from: session.startTime, to: session.endTime + 1 }, { limit: 25 });
      assert.ok(
        again.some((s) => s.startTime === session.startTime),
        'the session is found',
      );
    });

    it('the threshold: just below 1e11 is seconds, 1e11 itself is milliseconds', () => {
      const clock = () => Date.parse('2026-06-01T00:00:00Z');
      // 99 999 999 999 seconds would be the year 5138: refused as seconds, never read as 1973 milliseconds.
      assert.throws(
        () => core.checkRange(99_999_999_999 - 1, 99_999_999_999, clock),
        (e: any) => e.parameter === 'from' && /more than a year ahead/.test(e.message),
      );
      assert.deepStrictEqual(core.checkRange(1e11, 1e11 + 1000, clock), { from: '1973-03-03T09:46:40Z', to: '1973-03-03T09:46:41Z' });
      assert.deepStrictEqual(core.checkRange(0, 1, clock), { from: '1970-01-01T00:00:00Z', to: '1970-01-01T00:00:01Z' });
    });

    it('the window: 1970 onwards, up to a year after the clock', () => {
      const nowMs = Date.parse('2026-06-01T12:00:00Z');
      const clock = () => nowMs;
      assert.deepStrictEqual(core.checkRange('1970-01-01T00:00:00Z', '2027-06-01T12:00:00Z', clock), {
        from: '1970-01-01T00:00:00Z',
        to: '2027-06-01T12:00:00Z',
      });
      assert.throws(
        () => core.checkRange('1970-01-01', '2027-06-01T12:00:01Z', clock),
        (e: any) => e.parameter === 'to' && /2027-06-01T12:00:01Z\) is more than a year ahead/.test(e.message),
      );
      assert.throws(
        () => core.checkRange('1969-12-31T23:59:59Z', '2026-01-01', clock),
        (e: any) => e.parameter === 'from' && /before 1970/.test(e.message),
      );
    });
  });
});

describe('web links', function () {
  it('accepts http and https links only', () => {
    for (const good of ['https://customer.bmwgroup.com/oneid/link?user_code=AB-12', 'http://127.0.0.1:4010/gcdm/oneid/link'])
      assert.strictEqual(core.isWebLink(good), true, good);
    for (const bad of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      'data:text/html,<b>x</b>',
      'file:///etc/passwd',
      '//evil.example/x',
      '/relative',
      'https://',
      ' https://a.example',
      '',
      undefined,
      42,
    ]) {
      assert.strictEqual(core.isWebLink(bad), false, String(bad));
    }
  });
});
