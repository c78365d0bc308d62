// A tariff (the price of charging) and the cost of a session under it: one price, a price per session, and
// time-of-use windows in the tariff's time zone, past midnight and by weekday.
import assert from 'assert';
import fc from 'fast-check';
import { parseTariff, chargingCost, CarDataError } from '../../src/core';

const cost = (tariff, startedAt, endedAt, kwh, estimate = false) => chargingCost(parseTariff(tariff), { startedAt, endedAt, kwh, estimate });
const NIGHT = { currency: 'EUR', pricePerKwh: 0.4, timeZone: 'Europe/Berlin', timeOfUse: [{ from: '22:00', to: '06:00', pricePerKwh: 0.2 }] };

describe('core tariff and charging cost', () => {
  it('one price: kWh × price plus the price per session, rounded to cents, saying how and on what energy', () => {
    assert.deepStrictEqual(cost({ currency: 'eur', pricePerKwh: '0.32', perSession: 1 }, '2026-12-01T10:00:00Z', '2026-12-01T11:00:00Z', 23.456), {
      amount: 8.51,
      currency: 'EUR',
      kwh: 23.456,
      energy: 'measured',
      method: 'flat',
      perSession: 1,
    });
    assert.strictEqual(cost({ currency: 'CHF', pricePerKwh: 0.5 }, '2026-12-01T10:00:00Z', '2026-12-01T11:00:00Z', 10, true).energy, 'estimate');
  });

  it('time of use: the energy spread over the charging time, each minute at its window, in the tariff time zone', () => {
    // 21:00 to 23:00 in Berlin (20:00 to 22:00 UTC): half at 0.40, half at 0.20.
    assert.deepStrictEqual(cost(NIGHT, '2026-12-01T20:00:00Z', '2026-12-01T22:00:00Z', 10), {
      amount: 3,
      currency: 'EUR',
      kwh: 10,
      energy: 'measured',
      method: 'time-of-use',
      perSession: 0,
    });
    // Entirely in the night window, across midnight.
    assert.strictEqual(cost(NIGHT, '2026-12-01T22:00:00Z', '2026-12-02T02:00:00Z', 8).amount, 1.6);
    // The same hours in UTC would be priced otherwise: the zone matters.
    assert.strictEqual(cost({ ...NIGHT, timeZone: 'UTC' }, '2026-12-01T20:00:00Z', '2026-12-01T22:00:00Z', 10).amount, 4);
  });

  it("a window past midnight belongs to the day it starts: Friday's 22:00-06:00 holds Saturday's early hours, not Monday's", () => {
    const fridays = { currency: 'EUR', pricePerKwh: 0.4, timeZone: 'UTC', timeOfUse: [{ days: ['fri'], from: '22:00', to: '06:00', pricePerKwh: 0.1 }] };
    // 2026-12-04 is a Friday.
    assert.strictEqual(cost(fridays, '2026-12-04T23:00:00Z', '2026-12-05T01:00:00Z', 10).amount, 1);
    assert.strictEqual(cost(fridays, '2026-12-07T01:00:00Z', '2026-12-07T02:00:00Z', 10).amount, 4, 'Monday morning follows Sunday: not in the window');
    assert.strictEqual(
      cost(fridays, '2026-12-03T23:00:00Z', '2026-12-04T01:00:00Z', 10).amount,
      4,
      "Thursday's late hour at 0.40, and Friday's first hour belongs to Thursday night",
    );
  });

  it('the first window that holds a minute prices it; a session without charging time is priced flat', () => {
    const two = {
      currency: 'EUR',
      pricePerKwh: 0.4,
      timeOfUse: [
        { from: '00:00', to: '24:00', pricePerKwh: 0.3 },
        { from: '10:00', to: '11:00', pricePerKwh: 0.1 },
      ],
    };
    assert.strictEqual(cost(two, '2026-12-01T10:00:00Z', '2026-12-01T11:00:00Z', 10).amount, 3);
    const zero = cost(NIGHT, '2026-12-01T22:00:00Z', '2026-12-01T22:00:00Z', 5);
    assert.deepStrictEqual([zero.amount, zero.method], [2, 'flat']);
  });

  it('generated: a window over the whole day costs as its price flat; more energy never costs less', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 1, max: 600 }),
        fc.double({ min: 0, max: 200, noNaN: true }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        (startMin, minutes, kwh, p) => {
          const startedAt = new Date(Date.UTC(2026, 0, 1) + startMin * 60_000).toISOString();
          const endedAt = new Date(Date.parse(startedAt) + minutes * 60_000).toISOString();
          const whole = cost(
            { currency: 'EUR', pricePerKwh: 9, timeZone: 'Europe/Berlin', timeOfUse: [{ from: '00:00', to: '24:00', pricePerKwh: p }] },
            startedAt,
            endedAt,
            kwh,
          );
          const flat = cost({ currency: 'EUR', pricePerKwh: p }, startedAt, endedAt, kwh);
          assert.ok(Math.abs(whole.amount - flat.amount) <= 0.011, `${whole.amount} vs ${flat.amount}`);
          assert.ok(cost(NIGHT, startedAt, endedAt, kwh + 1).amount >= cost(NIGHT, startedAt, endedAt, kwh).amount);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('reads a tariff from JSON text, with day names or numbers; refuses what it cannot price, naming the field', () => {
    const t = parseTariff(
      '{"currency":"GBP","pricePerKwh":0.25,"timeOfUse":[{"days":["Sat","sunday",6],"from":"0:30","to":"04:30","pricePerKwh":0.07}],"timeZone":"Europe/London"}',
    );
    assert.deepStrictEqual(t, {
      currency: 'GBP',
      pricePerKwh: 0.25,
      timeZone: 'Europe/London',
      timeOfUse: [{ days: [6, 7], from: '0:30', to: '04:30', pricePerKwh: 0.07 }],
    });
    const refused = (input, words) =>
      assert.throws(
        () => parseTariff(input),
        (e) => e instanceof CarDataError && e.kind === 'input' && e.parameter === 'tariff' && words.test(e.message),
        String(JSON.stringify(input)),
      );
    refused('not json', /not JSON/);
    refused(null, /must be an object/);
    refused([], /must be an object/);
    refused({ pricePerKwh: 1 }, /currency/);
    refused({ currency: 'EURO', pricePerKwh: 1 }, /currency/);
    refused({ currency: 'EUR' }, /pricePerKwh must be a number/);
    refused({ currency: 'EUR', pricePerKwh: -1 }, /pricePerKwh/);
    refused({ currency: 'EUR', pricePerKwh: 'abc' }, /pricePerKwh/);
    refused({ currency: 'EUR', pricePerKwh: 1, perSession: Infinity }, /perSession/);
    refused({ currency: 'EUR', pricePerKwh: 1, timeZone: 'Mars/Base' }, /time zone/);
    refused({ currency: 'EUR', pricePerKwh: 1, timeOfUse: {} }, /list of windows/);
    refused({ currency: 'EUR', pricePerKwh: 1, timeOfUse: [{ from: '25:00', to: '06:00', pricePerKwh: 1 }] }, /from of window 1/);
    refused({ currency: 'EUR', pricePerKwh: 1, timeOfUse: [{ from: '22:00', to: '6', pricePerKwh: 1 }] }, /to of window 1/);
    refused({ currency: 'EUR', pricePerKwh: 1, timeOfUse: [{ from: '22:00', to: '06:00', pricePerKwh: 1, days: ['xyz'] }] }, /day/);
    refused({ currency: 'EUR', pricePerKwh: 1, timeOfUse: [{ from: '22:00', to: '06:00', pricePerKwh: 1, days: [] }] }, /days of window 1/);
    refused({ currency: 'EUR', pricePerKwh: 1, timeOfUse: [{ from: '22:00', to: '06:00' }] }, /pricePerKwh of window 1/);
  });
  it('the edges of a tariff: prices from 0 to 1000, times up to 24:00, weekdays 1 to 7, empty optional fields left out', () => {
    const base = { currency: ' eur ', pricePerKwh: ' 0.5 ' };
    assert.deepStrictEqual(parseTariff({ ...base, perSession: null, timeZone: '' }), { currency: 'EUR', pricePerKwh: 0.5 });
    assert.deepStrictEqual(parseTariff({ ...base, perSession: '' }), { currency: 'EUR', pricePerKwh: 0.5 });
    assert.deepStrictEqual(parseTariff({ ...base, pricePerKwh: 1000, perSession: 0 }), { currency: 'EUR', pricePerKwh: 1000, perSession: 0 });
    const win = (w) => parseTariff({ ...base, timeOfUse: [{ from: '22:00', to: '06:00', pricePerKwh: 0.1, ...w }] }).timeOfUse[0];
    assert.deepStrictEqual(win({ from: ' 07:15 ', to: '24:00' }), { from: '07:15', to: '24:00', pricePerKwh: 0.1 });
    assert.deepStrictEqual(win({ days: [7, 1, ' Monday ', 'SUN'] }).days, [1, 7]);
    const refused = (input, words) =>
      assert.throws(
        () => parseTariff(input),
        (e) => e instanceof CarDataError && e.parameter === 'tariff' && words.test(e.message),
        JSON.stringify(input),
      );
    refused({ ...base, pricePerKwh: 1000.01 }, /pricePerKwh must be a number from 0 to 1000, got 1000.01/);
    refused({ ...base, pricePerKwh: '' }, /pricePerKwh must be a number/);
    refused({ ...base, pricePerKwh: '  ' }, /pricePerKwh must be a number/);
    refused({ ...base, timeZone: 5 }, /Unknown time zone 5/);
    refused({ ...base, timeOfUse: [{ from: '22:00', to: '06:00', pricePerKwh: 0.1 }, 'night'] }, /Window 2 of timeOfUse must be an object/);
    refused({ ...base, timeOfUse: [null] }, /Window 1 of timeOfUse must be an object/);
    refused({ ...base, timeOfUse: [{ from: '24:01', to: '06:00', pricePerKwh: 0.1 }] }, /from of window 1 must be a time of day/);
    refused({ ...base, timeOfUse: [{ from: '23:60', to: '06:00', pricePerKwh: 0.1 }] }, /from of window 1/);
    refused({ ...base, timeOfUse: [{ from: 2200, to: '06:00', pricePerKwh: 0.1 }] }, /from of window 1/);
    for (const day of [0, 8, 1.5, 'xy'])
      refused({ ...base, timeOfUse: [{ from: '22:00', to: '06:00', pricePerKwh: 0.1, days: [day] }] }, /A day must be 1 \(Monday\) to 7 \(Sunday\)/);
    refused({ ...base, timeOfUse: [{ from: '22:00', to: '06:00', pricePerKwh: 0.1, days: 'mon' }] }, /days of window 1 must be a list of weekdays/);
    refused({ ...base, pricePerKwh: null }, /pricePerKwh must be a number/);
    refused(5, /The tariff must be an object/);
    refused({ ...base, timeOfUse: [{ from: '122:00', to: '06:00', pricePerKwh: 0.1 }] }, /from of window 1/);
    refused({ ...base, timeOfUse: [{ from: '22:00', to: '06:000', pricePerKwh: 0.1 }] }, /to of window 1/);
    assert.deepStrictEqual(win({ from: '23:59', to: ' 24:00 ' }), { from: '23:59', to: '24:00', pricePerKwh: 0.1 });
    // Each refusal says what would do, with an example.
    const hints: [unknown, RegExp][] = [
      ['not json', /^For example \{"currency"/],
      [[], /^For example \{"currency"/],
      [{ currency: 'EURO', pricePerKwh: 1 }, /^For example EUR, CHF or GBP\.$/],
      [{ ...base, pricePerKwh: -1 }, /^For example 0\.32 for 32 cents per kWh\.$/],
      [{ ...base, timeZone: 'Mars/Base' }, /^An IANA name, for example Europe\/Berlin\.$/],
      [{ ...base, timeOfUse: {} }, /^For example \[\{"from": "22:00"/],
      [{ ...base, timeOfUse: [{ from: '7', to: '06:00', pricePerKwh: 0.1 }] }, /24:00 is the end of the day/],
      [{ ...base, timeOfUse: [{ from: '22:00', to: '06:00', pricePerKwh: 0.1, days: ['someday'] }] }, /^For example \[1, 2, 3, 4, 5\] or \["mon", "fri"\]\.$/],
    ];
    for (const [input, hint] of hints)
      assert.throws(
        () => parseTariff(input),
        (e: any) => hint.test(e.hint),
        JSON.stringify(input),
      );
  });

  it("a window's first minute is in it, its end is not; a night window's morning belongs to the day before, Sunday's to Monday", () => {
    const ten = { currency: 'EUR', pricePerKwh: 0.4, timeOfUse: [{ from: '10:00', to: '11:00', pricePerKwh: 0.1 }] };
    // Two minutes of 1 kWh each: one at 0.40 and one at 0.10.
    assert.strictEqual(cost(ten, '2026-12-01T09:59:00Z', '2026-12-01T10:01:00Z', 2).amount, 0.5);
    assert.strictEqual(cost(ten, '2026-12-01T10:59:00Z', '2026-12-01T11:01:00Z', 2).amount, 0.5);
    // A window that ends where it starts runs the whole day round.
    const allDay = { currency: 'EUR', pricePerKwh: 0.4, timeOfUse: [{ from: '10:00', to: '10:00', pricePerKwh: 0.1 }] };
    assert.strictEqual(cost(allDay, '2026-12-01T09:59:00Z', '2026-12-01T10:01:00Z', 2).amount, 0.2);
    const halfPast = { currency: 'EUR', pricePerKwh: 0.4, timeOfUse: [{ from: '10:30', to: '11:00', pricePerKwh: 0.1 }] };
    assert.strictEqual(cost(halfPast, '2026-12-01T10:29:00Z', '2026-12-01T10:31:00Z', 2).amount, 0.5);
    // A daytime window on Tuesdays only: not on Monday 2026-12-07.
    const tuesdays = { currency: 'EUR', pricePerKwh: 0.4, timeOfUse: [{ days: [2], from: '10:00', to: '11:00', pricePerKwh: 0.1 }] };
    assert.strictEqual(cost(tuesdays, '2026-12-07T10:00:00Z', '2026-12-07T10:01:00Z', 1).amount, 0.4);
    assert.strictEqual(cost(tuesdays, '2026-12-08T10:00:00Z', '2026-12-08T10:01:00Z', 1).amount, 0.1);
    const mondays = { currency: 'EUR', pricePerKwh: 0.4, timeOfUse: [{ days: [1], from: '22:00', to: '06:00', pricePerKwh: 0.1 }] };
    // 2026-12-07 is a Monday: 21:59 outside, 22:00 inside; Tuesday 05:59 inside, 06:00 outside.
    assert.strictEqual(cost(mondays, '2026-12-07T21:59:00Z', '2026-12-07T22:01:00Z', 2).amount, 0.5);
    assert.strictEqual(cost(mondays, '2026-12-08T05:59:00Z', '2026-12-08T06:01:00Z', 2).amount, 0.5);
    assert.strictEqual(cost(mondays, '2026-12-08T23:00:00Z', '2026-12-08T23:01:00Z', 1).amount, 0.4, 'Tuesday night is not Monday night');
    const sundays = { currency: 'EUR', pricePerKwh: 0.4, timeOfUse: [{ days: ['sun'], from: '22:00', to: '06:00', pricePerKwh: 0.1 }] };
    assert.strictEqual(cost(sundays, '2026-12-07T01:00:00Z', '2026-12-07T01:01:00Z', 1).amount, 0.1, "Monday's early hours end Sunday's night");
    assert.strictEqual(cost(sundays, '2026-12-08T01:00:00Z', '2026-12-08T01:01:00Z', 1).amount, 0.4);
    // A charge shorter than a minute is priced as one minute at its start, plus the price per session.
    assert.deepStrictEqual(
      [
        cost({ ...NIGHT, timeZone: 'UTC', perSession: 0.5 }, '2026-12-01T22:00:00Z', '2026-12-01T22:00:20Z', 1).amount,
        cost(NIGHT, '2026-12-01T22:00:00Z', '2026-12-01T22:00:20Z', 1).method,
      ],
      [0.7, 'time-of-use'],
    );
  });
});
