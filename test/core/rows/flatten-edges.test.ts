// The flat charging rows, the session's cost under a tariff, the summary and the trip logbook row at their edges:
// values of the wrong type, sessions without an end or a zone, and what a row leaves out.
import assert from 'assert';
import {
  flattenChargingSession as flattenSession,
  chargingSessionCost as sessionCost,
  summarizeChargingSession as summarize,
  withoutEmptyColumns,
  flattenTrip as flattenTripEvent,
} from '../../../src/node';
import type { Raw } from '../../support/raw';

// Fed raw entries as BMW (or a stream event read back from a file) may send them.
const flattenChargingSession = flattenSession as Raw<typeof flattenSession>;
const chargingSessionCost = sessionCost as Raw<typeof sessionCost>;
const summarizeChargingSession = summarize as Raw<typeof summarize>;
const flattenTrip = flattenTripEvent as Raw<typeof flattenTripEvent>;

// 2023-11-14T22:13:20Z and one hour later, in epoch seconds.
const START = 1_700_000_000;
const END = START + 3600;
const TARIFF = { currency: 'EUR', pricePerKwh: 0.3 };

describe('core flat rows at their edges', function () {
  it('numbers sent as text are no numbers: no state of charge, mileage or charge added', () => {
    const row = flattenChargingSession({ displayedStartSoc: '20', displayedSoc: '80', mileage: '12000', totalChargingDurationSec: '600' });
    assert.deepStrictEqual([row.startSoc, row.endSoc, row.socAdded, row.mileage, row.chargingMinutes], [null, null, null, null, null]);
  });

  it('a session without a start or an end has empty times, not 1970', () => {
    const row = flattenChargingSession({ startTime: null, endTime: 0, timeZone: 'Europe/Berlin' });
    assert.deepStrictEqual([row.start, row.end, row.pluggedMinutes], ['', '', null]);
  });

  it('a session with its end has it, in its zone; without a zone, or with an unknown one, it is UTC', () => {
    const berlin = flattenChargingSession({ startTime: START, endTime: END, timeZone: 'Europe/Berlin' });
    assert.deepStrictEqual(
      [berlin.start, berlin.end, berlin.timeZone, berlin.pluggedMinutes],
      ['2023-11-14T23:13:20+01:00', '2023-11-15T00:13:20+01:00', 'Europe/Berlin', 60],
    );
    for (const timeZone of [undefined, 'Mars/Olympus', 7]) {
      const row = flattenChargingSession({ startTime: START, endTime: END, timeZone });
      assert.deepStrictEqual([row.start, row.end, row.timeZone], ['2023-11-14T22:13:20Z', '2023-11-14T23:13:20Z', 'UTC'], String(timeZone));
    }
  });

  it('a time beyond what a calendar holds is empty', () => {
    assert.strictEqual(flattenChargingSession({ startTime: 1e17 }).start, '');
  });

  it('one state of charge alone adds nothing; no grid energy or no charging time gives no average power', () => {
    assert.strictEqual(flattenChargingSession({ displayedSoc: 80 }).socAdded, null);
    assert.strictEqual(flattenChargingSession({ displayedStartSoc: 20 }).socAdded, null);
    assert.strictEqual(flattenChargingSession({ totalChargingDurationSec: 3600 }).averagePowerKw, null);
    assert.strictEqual(flattenChargingSession({ energyConsumedFromPowerGridKwh: 10, totalChargingDurationSec: 0 }).averagePowerKw, null);
  });

  it('a public charging point without a named provider gives no provider', () => {
    const row = flattenChargingSession({ publicChargingPoint: { potentialChargingPointMatches: [{ providerName: '' }, null, { providerName: 5 }] } });
    assert.strictEqual(row.publicProvider, '');
  });

  describe('the cost under a tariff', () => {
    const session = (extra = {}) => ({ startTime: START, endTime: END, energyConsumedFromPowerGridKwh: 10, ...extra });

    it('priced on the measured grid energy from start to end', () => {
      assert.deepStrictEqual(chargingSessionCost(session(), TARIFF), {
        currency: 'EUR',
        kwh: 10,
        energy: 'measured',
        perSession: 0,
        amount: 3,
        method: 'flat',
      });
    });

    it('none without a start, an end, an end after the start, or grid energy of 0 or more', () => {
      for (const extra of [
        { startTime: null },
        { endTime: 0 },
        { endTime: START - 60 },
        { energyConsumedFromPowerGridKwh: null },
        { energyConsumedFromPowerGridKwh: -1 },
      ]) {
        assert.strictEqual(chargingSessionCost(session(extra), TARIFF), null, JSON.stringify(extra));
      }
    });

    it('an end at the start and no energy are still a cost (of 0 kWh)', () => {
      assert.strictEqual(chargingSessionCost(session({ endTime: START }), TARIFF)?.amount, 3);
      assert.deepStrictEqual(chargingSessionCost(session({ energyConsumedFromPowerGridKwh: 0 }), TARIFF)?.amount, 0);
    });
  });

  it('without empty columns: null, empty text and undefined go, 0 and false stay', () => {
    assert.deepStrictEqual(withoutEmptyColumns({ a: null, b: '', c: undefined, d: 0, e: false, f: 'x' }), { d: 0, e: false, f: 'x' });
  });

  it('a session summarised: the summary columns that have a value', () => {
    assert.deepStrictEqual(
      summarizeChargingSession({
        startTime: START,
        endTime: END,
        timeZone: 'UTC',
        totalChargingDurationSec: 3000,
        energyConsumedFromPowerGridKwh: 10,
        displayedStartSoc: 20,
        displayedSoc: 80,
        mileage: 12000,
      }),
      { start: '2023-11-14T22:13:20Z', end: '2023-11-14T23:13:20Z', chargingMinutes: 50, energyFromGridKwh: 10, startSoc: 20, endSoc: 80, averagePowerKw: 12 },
    );
  });

  describe('a trip row', () => {
    const trip = (extra = {}) => ({ kind: 'trip-finished', startedAt: '2026-05-01T08:00:00Z', endedAt: '2026-05-01T08:30:00Z', ...extra });

    it('a duration sent as text is no duration', () => {
      assert.strictEqual(flattenTrip(trip({ durationSeconds: '1800' })).durationMinutes, null);
      assert.strictEqual(flattenTrip(trip({ durationSeconds: 1800 })).durationMinutes, 30);
    });

    it('the figures the car did not send: only their names, none when there is no list', () => {
      assert.strictEqual(flattenTrip(trip({ missing: ['startSoc', 5, 'endSoc'] })).missing, 'startSoc; endSoc');
      assert.strictEqual(flattenTrip(trip({ missing: 'startSoc' })).missing, '');
      assert.strictEqual(flattenTrip(trip()).missing, '');
    });
  });
});
