// Named date ranges and the flat rows for CSV (pure).
import assert from 'assert';
import {
  relativeRange,
  isRelativeRange,
  checkTimeZone,
  RELATIVE_RANGES,
  flattenChargingSession as flattenSession,
  flattenChargingSetting as flattenSetting,
  formatChargingWindow as formatWindow,
  isChargingSessionEntry,
  CarDataError,
} from '../../../src/node';
import type { Raw } from '../../support/raw';

// Fed raw entries as BMW may send them.
const flattenChargingSession = flattenSession as Raw<typeof flattenSession>;
const flattenChargingSetting = flattenSetting as Raw<typeof flattenSetting>;
const formatChargingWindow = formatWindow as Raw<typeof formatWindow>;

function inputFailure(fn) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CarDataError);
    assert.strictEqual(e.kind, 'input');
    return e;
  }
  assert.fail('expected an input error');
}

describe('core named ranges', function () {
  // 2026-03-15 10:20:30 UTC: 11:20:30 in Berlin (CET), the month started at 2026-02-28T23:00:00Z there.
  const now = () => Date.parse('2026-03-15T10:20:30.456Z');

  it('rolling ranges end now and reach back 24 hours, 7 or 30 days', () => {
    assert.deepStrictEqual(relativeRange('last24h', { now }), { from: '2026-03-14T10:20:30.456Z', to: '2026-03-15T10:20:30.456Z' });
    assert.deepStrictEqual(relativeRange('last7d', { now }), { from: '2026-03-08T10:20:30.456Z', to: '2026-03-15T10:20:30.456Z' });
    assert.deepStrictEqual(relativeRange('last30d', { now }), { from: '2026-02-13T10:20:30.456Z', to: '2026-03-15T10:20:30.456Z' });
  });

  it('calendar months start at midnight in the zone: this month up to now, last month whole', () => {
    assert.deepStrictEqual(relativeRange('thisMonth', { now }), { from: '2026-03-01T00:00:00Z', to: '2026-03-15T10:20:30.456Z' });
    assert.deepStrictEqual(relativeRange('lastMonth', { now }), { from: '2026-02-01T00:00:00Z', to: '2026-03-01T00:00:00Z' });
    assert.deepStrictEqual(relativeRange('thisMonth', { now, timeZone: 'Europe/Berlin' }), { from: '2026-02-28T23:00:00Z', to: '2026-03-15T10:20:30.456Z' });
    assert.deepStrictEqual(relativeRange('lastMonth', { now, timeZone: 'Europe/Berlin' }), { from: '2026-01-31T23:00:00Z', to: '2026-02-28T23:00:00Z' });
    assert.deepStrictEqual(relativeRange('lastMonth', { now, timeZone: ' America/New_York ' }), { from: '2026-02-01T05:00:00Z', to: '2026-03-01T05:00:00Z' });
  });

  it('uses the real clock without one', () => {
    const before = Date.now();
    const { to } = relativeRange('last24h');
    assert.ok(Math.abs(Date.parse(to) - before) < 5000);
  });

  it('an unknown range or zone is an input error naming the choices', () => {
    const e = inputFailure(() => relativeRange('lastYear', { now }));
    assert.strictEqual(e.parameter, 'range');
    assert.strictEqual(e.message, 'Unknown range: lastYear');
    assert.strictEqual(e.hint, `Use one of ${RELATIVE_RANGES.map((r) => r.id).join(', ')}.`);
    const z = inputFailure(() => relativeRange('last7d', { now, timeZone: 'Mars/Olympus' }));
    assert.strictEqual(z.parameter, 'timeZone');
    assert.strictEqual(z.message, 'Unknown time zone: Mars/Olympus');
    assert.match(z.hint, /IANA/);
    assert.strictEqual(inputFailure(() => checkTimeZone(42)).message, 'Unknown time zone: 42');
    assert.strictEqual(inputFailure(() => checkTimeZone('Z'.repeat(50))).message, `Unknown time zone: ${'Z'.repeat(40)}`);
    assert.strictEqual(inputFailure(() => relativeRange('y'.repeat(50), { now })).message, `Unknown range: ${'y'.repeat(40)}`);
  });

  it('checkTimeZone: empty means UTC, names are trimmed', () => {
    for (const empty of [undefined, null, '']) assert.strictEqual(checkTimeZone(empty), 'UTC');
    assert.strictEqual(checkTimeZone(' Europe/Berlin '), 'Europe/Berlin');
  });

  it('isRelativeRange knows exactly the five ranges', () => {
    assert.deepStrictEqual(
      RELATIVE_RANGES.map((r) => r.id),
      ['last24h', 'last7d', 'last30d', 'thisMonth', 'lastMonth'],
    );
    for (const r of RELATIVE_RANGES) assert.strictEqual(isRelativeRange(r.id), true);
    for (const v of ['lastYear', '', 7, null, undefined, 'LAST24H']) assert.strictEqual(isRelativeRange(v), false, String(v));
  });
});

describe('core flat rows', function () {
  const session = {
    startTime: 1767258000, // 2026-01-01T09:00:00Z
    endTime: 1767265200, // 11:00 UTC
    timeZone: 'Europe/Berlin',
    totalChargingDurationSec: 5430,
    energyConsumedFromPowerGridKwh: 30.12345,
    energyDischargedKwh: 0.5555,
    energyDecreaseHvbKwh: 1.23456,
    displayedStartSoc: 20,
    displayedSoc: 80,
    mileage: 12345,
    mileageUnits: 'KM',
    chargingLocation: { municipality: 'Munich', formattedAddress: 'Main St 1', mapMatchedLatitude: 48.1, mapMatchedLongitude: 11.5 },
    publicChargingPoint: { potentialChargingPointMatches: [{ providerName: '' }, { providerName: 'Ionity' }] },
    isPreconditioningActivated: true,
    chargingBlocks: [{}, {}, {}],
    chargingCostInformation: { calculatedChargingCost: 12.5, currency: 'EUR' },
    businessErrors: [{ hint: 'first' }, { hint: '' }, null, { hint: 'second' }],
  };

  it('a full session: local times, minutes, kWh, %, place, provider, cost and hints', () => {
    assert.deepStrictEqual(flattenChargingSession(session), {
      start: '2026-01-01T10:00:00+01:00',
      end: '2026-01-01T12:00:00+01:00',
      timeZone: 'Europe/Berlin',
      chargingMinutes: 90.5,
      pluggedMinutes: 120,
      energyFromGridKwh: 30.123,
      energyDischargedKwh: 0.556,
      energyDecreaseHvbKwh: 1.235,
      startSoc: 20,
      endSoc: 80,
      socAdded: 60,
      averagePowerKw: Math.round((30.12345 / (5430 / 3600)) * 100) / 100,
      mileage: 12345,
      mileageUnit: 'km',
      municipality: 'Munich',
      address: 'Main St 1',
      latitude: 48.1,
      longitude: 11.5,
      publicProvider: 'Ionity',
      preconditioning: true,
      chargingBlocks: 3,
      cost: 12.5,
      currency: 'EUR',
      businessErrors: 'first; second',
    });
  });

  it('an empty session: UTC, nulls, empty text, no blocks', () => {
    const flat = flattenChargingSession({});
    assert.deepStrictEqual(flat, {
      start: '',
      end: '',
      timeZone: 'UTC',
      chargingMinutes: null,
      pluggedMinutes: null,
      energyFromGridKwh: null,
      energyDischargedKwh: null,
      energyDecreaseHvbKwh: null,
      startSoc: null,
      endSoc: null,
      socAdded: null,
      averagePowerKw: null,
      mileage: null,
      mileageUnit: '',
      municipality: '',
      address: '',
      latitude: null,
      longitude: null,
      publicProvider: '',
      preconditioning: false,
      chargingBlocks: 0,
      cost: null,
      currency: '',
      businessErrors: '',
    });
  });

  it('times in milliseconds are read as such; an unknown zone falls back to UTC; miles stay miles', () => {
    const flat = flattenChargingSession({ startTime: 1767258000000, endTime: 1767258000000 + 90_000, timeZone: 'Nowhere/City', mileageUnits: 'MI' });
    assert.strictEqual(flat.start, '2026-01-01T09:00:00Z');
    assert.strictEqual(flat.timeZone, 'UTC');
    assert.strictEqual(flat.pluggedMinutes, 1.5);
    assert.strictEqual(flat.mileageUnit, 'mi');
    assert.strictEqual(flattenChargingSession({ mileageUnits: 'kilometers' }).mileageUnit, 'kilometers');
    assert.strictEqual(flattenChargingSession({ mileageUnits: 'UNIT_MILES_MI' }).mileageUnit, 'mi');
    assert.strictEqual(flattenChargingSession({ mileageUnits: 'UNIT_KM' }).mileageUnit, 'km');
    assert.strictEqual(flattenChargingSession({ timeZone: 42 }).timeZone, 'UTC');
  });

  it('numbers that are not finite are null; no average power without a duration', () => {
    const flat = flattenChargingSession({
      displayedSoc: Infinity,
      displayedStartSoc: '20',
      energyConsumedFromPowerGridKwh: 10,
      totalChargingDurationSec: 0,
      mileage: NaN,
    });
    assert.deepStrictEqual(
      [flat.endSoc, flat.startSoc, flat.socAdded, flat.averagePowerKw, flat.mileage, flat.chargingMinutes],
      [null, null, null, null, null, 0],
    );
    assert.strictEqual(flattenChargingSession({ energyConsumedFromPowerGridKwh: 10, totalChargingDurationSec: 1800 }).averagePowerKw, 20);
    assert.strictEqual(flattenChargingSession({ displayedStartSoc: 50 }).socAdded, null);
    assert.strictEqual(flattenChargingSession({ startTime: 1767258000 }).pluggedMinutes, null);
    assert.strictEqual(flattenChargingSession({ isPreconditioningActivated: 'true' }).preconditioning, false);
    assert.strictEqual(flattenChargingSession({ chargingBlocks: 'many' }).chargingBlocks, 0);
  });

  it('0 and negative times are no time; 1e12 is still seconds, above it milliseconds; an end before the start is unknown', () => {
    for (const t of [0, -5]) {
      const f = flattenChargingSession({ startTime: 1767258000, endTime: t });
      assert.deepStrictEqual([f.end, f.pluggedMinutes], ['', null], String(t));
    }
    assert.strictEqual(flattenChargingSession({ startTime: 0 }).start, '');
    assert.strictEqual(flattenChargingSession({ startTime: 1e12 + 1 }).start, '2001-09-09T01:46:40.001Z', 'just above 1e12: milliseconds');
    assert.notStrictEqual(flattenChargingSession({ startTime: 1e12 }).start, '2001-09-09T01:46:40Z', '1e12 itself: seconds');
    const backwards = flattenChargingSession({ startTime: 1767258000, endTime: 1767257999 });
    assert.deepStrictEqual([backwards.start !== '', backwards.end, backwards.pluggedMinutes], [true, '', null]);
    const same = flattenChargingSession({ startTime: 1767258000, endTime: 1767258000 });
    assert.deepStrictEqual([same.end, same.pluggedMinutes], ['2026-01-01T09:00:00Z', 0], 'an end equal to the start is kept');
    assert.strictEqual(flattenChargingSession({ endTime: 1767258000 }).end, '2026-01-01T09:00:00Z', 'an end without a start is kept');
    assert.strictEqual(flattenChargingSession({ endTime: 1767258000 }).pluggedMinutes, null);
  });

  it('entries that are not objects, and parts of the wrong type, give empty values', () => {
    for (const v of [null, 5, 'x', [], undefined]) assert.strictEqual(isChargingSessionEntry(v), false, String(v));
    assert.strictEqual(isChargingSessionEntry({}), true);
    const empty = flattenChargingSession({});
    for (const entry of [null, 'x', [{ startTime: 1767258000 }], 42]) assert.deepStrictEqual(flattenChargingSession(entry), empty, JSON.stringify(entry));
    const odd = flattenChargingSession({
      chargingLocation: ['Munich'],
      chargingCostInformation: 'free',
      publicChargingPoint: { potentialChargingPointMatches: [null, { providerName: 5 }, { providerName: 'EnBW' }] },
      businessErrors: 'oops',
      mileageUnits: 'MILES',
    });
    assert.deepStrictEqual(
      [odd.municipality, odd.cost, odd.currency, odd.publicProvider, odd.businessErrors, odd.mileageUnit],
      ['', null, '', 'EnBW', '', 'MILES'],
    );
    const hints = flattenChargingSession({ businessErrors: [null, { hint: 7 }, { hint: 'a' }] });
    assert.strictEqual(hints.businessErrors, 'a');
    assert.strictEqual(flattenChargingSession({ publicChargingPoint: { potentialChargingPointMatches: 'Ionity' } }).publicProvider, '');
    assert.strictEqual(flattenChargingSession({ mileageUnits: 'KMH' }).mileageUnit, 'KMH', 'only a unit that ends in KM is km');
    assert.strictEqual(flattenChargingSession({ mileageUnits: 'MIX' }).mileageUnit, 'MIX');
  });

  it('charging windows read HH:MM-HH:MM, minutes default to 00, an unset window is empty', () => {
    assert.strictEqual(
      formatChargingWindow({
        startChargingTimePeriodHour: 22,
        startChargingTimePeriodMinute: 5,
        stopChargingTimePeriodHour: 6,
        stopChargingTimePeriodMinute: 30,
      }),
      '22:05-06:30',
    );
    assert.strictEqual(formatChargingWindow({ startChargingTimePeriodHour: 7, stopChargingTimePeriodHour: 9 }), '07:00-09:00');
    assert.strictEqual(formatChargingWindow({ startChargingTimePeriodHour: 1 }), '01:00-');
    assert.strictEqual(formatChargingWindow({ stopChargingTimePeriodHour: 2, stopChargingTimePeriodMinute: 'x' }), '-02:00');
    assert.strictEqual(formatChargingWindow({}), '');
  });

  it('a charging setting: plain values, the main window and the additional ones', () => {
    const setting = {
      id: 'loc-1',
      lastUpdated: '2026-01-02T00:00:00Z',
      latitude: 48.1,
      longitude: 11.5,
      lastVisit: '2026-01-01T00:00:00Z',
      visits: 7,
      chargingMode: 'IMMEDIATE',
      optimizedChargingPreference: 'PRICE',
      startChargingTimePeriodHour: 22,
      stopChargingTimePeriodHour: 6,
      chargingTimeWindows: [
        { startChargingTimePeriodHour: 1, stopChargingTimePeriodHour: 2 },
        {},
        { startChargingTimePeriodHour: 13, startChargingTimePeriodMinute: 15, stopChargingTimePeriodHour: 14 },
      ],
      acCurrentLimit: 16,
      acCurrentLimitFlag: 'ON',
      acousticLimit: 'OFF',
      flapLock: 'AUTO',
      chargingPlug: 'TYPE2',
    };
    assert.deepStrictEqual(flattenChargingSetting(setting), {
      id: 'loc-1',
      lastUpdated: '2026-01-02T00:00:00Z',
      latitude: 48.1,
      longitude: 11.5,
      lastVisit: '2026-01-01T00:00:00Z',
      visits: 7,
      chargingMode: 'IMMEDIATE',
      optimizedChargingPreference: 'PRICE',
      chargingWindow: '22:00-06:00',
      additionalWindows: '01:00-02:00; 13:15-14:00',
      acCurrentLimit: 16,
      acCurrentLimitFlag: 'ON',
      acousticLimit: 'OFF',
      flapLock: 'AUTO',
      chargingPlug: 'TYPE2',
    });
    const empty = flattenChargingSetting({ id: 5, visits: '3', chargingTimeWindows: 'none' });
    assert.deepStrictEqual([empty.id, empty.visits, empty.chargingWindow, empty.additionalWindows, empty.latitude], ['', null, '', '', null]);
  });
});
