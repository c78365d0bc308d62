// Stream messages (pure): timestamps, numeric values, topics, payload parsing, normalisation and filters; the
// typing of readings against the catalogue and how a reading changes the car's state.
import assert from 'assert';
import * as core from '../../../src/node';
import type { Raw } from '../../support/raw';

const { streamTimestamp, numericValueOf, vinOfTopic, parseStreamPayload, compileFilter } = core;
// Fed messages and units as a broker may deliver them: bare values, wrong types, parts missing.
const normalizeStreamMessage = core.normalizeStreamMessage as Raw<typeof core.normalizeStreamMessage>;
const filterStreamMessage = core.filterStreamMessage as Raw<typeof core.filterStreamMessage>;
const cleanUnit = core.cleanUnit as Raw<typeof core.cleanUnit>;
const { typeReading, applyReading, numberOf, timeOf, FUTURE_TOLERANCE_MS } = core;

const SOC = 'vehicle.drivetrain.batteryManagement.header';
const LOCKED = 'vehicle.body.trunk.isLocked';
const PORT = 'vehicle.body.chargingPort.status';
const VIN = 'WBA00000000000001';

describe('core stream messages', function () {
  it('timestamps: epoch seconds and milliseconds, digit strings, ISO text kept, nothing else', () => {
    assert.strictEqual(streamTimestamp(1767225600), '2026-01-01T00:00:00.000Z');
    assert.strictEqual(streamTimestamp(1767225600123), '2026-01-01T00:00:00.123Z');
    assert.strictEqual(streamTimestamp(999_999_999_999), new Date(999_999_999_999_000).toISOString(), 'just below 1e12: seconds');
    assert.strictEqual(streamTimestamp(1e12), '2001-09-09T01:46:40.000Z', '1e12: milliseconds');
    assert.strictEqual(streamTimestamp('1767225600'), '2026-01-01T00:00:00.000Z');
    assert.strictEqual(streamTimestamp(' 1767225600123 '), '2026-01-01T00:00:00.123Z');
    assert.strictEqual(streamTimestamp('176722560'), '176722560', 'nine digits: kept as text');
    assert.strictEqual(streamTimestamp('17672256001234'), '17672256001234', 'fourteen digits: kept as text');
    assert.strictEqual(streamTimestamp(' 2026-01-01T00:00:00Z '), '2026-01-01T00:00:00Z');
    for (const v of [NaN, Infinity, '', '  ', null, undefined, {}, true]) assert.strictEqual(streamTimestamp(v), null, String(v));
    // Beyond the dates JavaScript holds (±8.64e15 ms): no timestamp, never an exception.
    for (const v of [1e20, 9e15, -9e15, -1e20, Number.MAX_VALUE, -Number.MAX_VALUE, '99999999999999'])
      assert.strictEqual(streamTimestamp(v), v === '99999999999999' ? v : null, String(v));
    assert.strictEqual(streamTimestamp(8.64e15), '+275760-09-13T00:00:00.000Z', 'the last date JavaScript holds');
    assert.strictEqual(streamTimestamp(-1767225600), '1914-01-01T00:00:00.000Z', 'negative seconds');
  });

  it('numeric values: numbers and plain numeric text, nothing else', () => {
    assert.strictEqual(numericValueOf(80), 80);
    assert.strictEqual(numericValueOf(Infinity), undefined);
    assert.strictEqual(numericValueOf(NaN), undefined);
    for (const [text, n] of <[string, number][]>[
      ['80', 80],
      [' 48.16402 ', 48.16402],
      ['-3', -3],
      ['+2.5', 2.5],
      ['.5', 0.5],
      ['5.', 5],
      ['1e3', 1000],
      ['2E-2', 0.02],
    ]) {
      assert.strictEqual(numericValueOf(text), n, text);
    }
    for (const v of ['', 'abc', '1,5', '0x10', '1e', '--1', '1 2', true, null]) assert.strictEqual(numericValueOf(v), undefined, String(v));
    assert.strictEqual(numericValueOf('1e999'), undefined, 'too big for a number');
  });

  it('the VIN of a topic is what follows the last slash', () => {
    assert.strictEqual(vinOfTopic(`gcid/${VIN}`), VIN);
    assert.strictEqual(vinOfTopic(`a/b/${VIN}`), VIN);
    assert.strictEqual(vinOfTopic(VIN), VIN);
    assert.strictEqual(vinOfTopic('gcid/'), '');
    assert.strictEqual(vinOfTopic(`/${VIN}`), VIN);
  });

  it('payloads: JSON objects only', () => {
    assert.deepStrictEqual(parseStreamPayload(Buffer.from('{"vin":"A"}')), { vin: 'A' });
    assert.deepStrictEqual(parseStreamPayload('{"vin":"B"}'), { vin: 'B' });
    for (const p of ['not json', '[1]', 'null', '42', '"x"', Buffer.from('{')]) assert.strictEqual(parseStreamPayload(p), undefined, String(p));
  });

  it('normalises one event per descriptor, with units, times and the VIN of the message or the topic', () => {
    const raw = {
      vin: VIN,
      timestamp: '2026-01-01T00:00:00Z',
      data: {
        [SOC]: { value: '63.5', unit: '%', timestamp: 1767225601 },
        [PORT]: { value: 'CONNECTED', unit: '' },
        flag: true,
        list: { value: [1, 2] },
        nothing: null,
        obj: { value: { a: 1 }, unit: 5 },
      },
    };
    const events = normalizeStreamMessage(raw, `g/${VIN}`);
    assert.deepStrictEqual(events, [
      {
        vin: VIN,
        descriptor: SOC,
        value: '63.5',
        numericValue: 63.5,
        unit: '%',
        timestamp: '2026-01-01T00:00:01.000Z',
        messageTimestamp: '2026-01-01T00:00:00Z',
        topic: `g/${VIN}`,
      },
      {
        vin: VIN,
        descriptor: PORT,
        value: 'CONNECTED',
        unit: null,
        timestamp: '2026-01-01T00:00:00Z',
        messageTimestamp: '2026-01-01T00:00:00Z',
        topic: `g/${VIN}`,
      },
      { vin: VIN, descriptor: 'flag', value: true, unit: null, timestamp: '2026-01-01T00:00:00Z', messageTimestamp: '2026-01-01T00:00:00Z', topic: `g/${VIN}` },
      {
        vin: VIN,
        descriptor: 'list',
        value: '[1,2]',
        unit: null,
        timestamp: '2026-01-01T00:00:00Z',
        messageTimestamp: '2026-01-01T00:00:00Z',
        topic: `g/${VIN}`,
      },
      {
        vin: VIN,
        descriptor: 'nothing',
        value: null,
        unit: null,
        timestamp: '2026-01-01T00:00:00Z',
        messageTimestamp: '2026-01-01T00:00:00Z',
        topic: `g/${VIN}`,
      },
      {
        vin: VIN,
        descriptor: 'obj',
        value: '{"a":1}',
        unit: null,
        timestamp: '2026-01-01T00:00:00Z',
        messageTimestamp: '2026-01-01T00:00:00Z',
        topic: `g/${VIN}`,
      },
    ]);
    const fromTopic = normalizeStreamMessage({ vin: '', data: { a: { value: 1 } } }, `g/${VIN}`);
    assert.deepStrictEqual([fromTopic[0].vin, fromTopic[0].timestamp, fromTopic[0].messageTimestamp, fromTopic[0].topic], [VIN, null, null, `g/${VIN}`]);
    assert.strictEqual(normalizeStreamMessage({ vin: 7, data: { a: 1 } }, 'g/X')[0].vin, 'X');
    assert.strictEqual(normalizeStreamMessage({ data: { a: 1 } })[0].topic, '');
    assert.deepStrictEqual(normalizeStreamMessage({ vin: VIN, data: 'x' }), []);
    assert.deepStrictEqual(normalizeStreamMessage({ vin: VIN }), []);
  });

  describe('filters', () => {
    const raw = {
      vin: VIN,
      entityId: 'e-1',
      timestamp: 1767225600,
      data: { [SOC]: { value: 50, unit: '%' }, [PORT]: { value: 'CONNECTED' }, 'vehicle.cabin.door.row1.isOpen': false },
    };
    const events = normalizeStreamMessage(raw, `g/${VIN}`);

    it('no filter: every VIN, every descriptor, the message as BMW sent it', () => {
      const f = compileFilter({});
      assert.strictEqual(f.allVins, true);
      assert.strictEqual(f.matchesVin('anything'), true);
      const m = filterStreamMessage(raw, `g/${VIN}`, events, f);
      assert.deepStrictEqual(Object.keys(m.data), Object.keys(raw.data));
      assert.deepStrictEqual(m.data[SOC], raw.data[SOC]);
      assert.deepStrictEqual(m.data['vehicle.cabin.door.row1.isOpen'], { value: false }, 'a bare value becomes a point');
      assert.deepStrictEqual([m.vin, m.entityId, m.topic, m.timestamp, m.raw, m.events.length], [VIN, 'e-1', `g/${VIN}`, '2026-01-01T00:00:00.000Z', raw, 3]);
      assert.strictEqual(filterStreamMessage({ ...raw, entityId: 5 }, `g/${VIN}`, events, f).entityId, null);
    });

    it('VINs (trimmed, empty ones dropped) and descriptors, exact or by prefix with *', () => {
      const f = compileFilter({ vins: [` ${VIN} `, ''], descriptors: [' vehicle.cabin.door.* ', SOC, '  '] });
      assert.strictEqual(f.allVins, false);
      assert.deepStrictEqual([...f.vins], [VIN]);
      assert.strictEqual(f.matchesVin(VIN), true);
      assert.strictEqual(f.matchesVin('WBA00000000000002'), false);
      assert.strictEqual(f.matchesDescriptor(SOC), true);
      assert.strictEqual(f.matchesDescriptor('vehicle.cabin.door.row2.isOpen'), true);
      assert.strictEqual(f.matchesDescriptor('vehicle.cabin.door'), false);
      assert.strictEqual(f.matchesDescriptor(PORT), false);
      const m = filterStreamMessage(raw, `g/${VIN}`, events, f);
      assert.deepStrictEqual(Object.keys(m.data), [SOC, 'vehicle.cabin.door.row1.isOpen']);
      assert.deepStrictEqual(
        m.events.map((e) => e.descriptor),
        [SOC, 'vehicle.cabin.door.row1.isOpen'],
      );
      assert.strictEqual(m.raw, raw, 'raw stays unfiltered');
    });

    it('blank entries are no filter; an exact key is not a prefix', () => {
      const blank = compileFilter({ descriptors: ['  ', ''] });
      assert.strictEqual(blank.matchesDescriptor(PORT), true);
      const exact = compileFilter({ descriptors: ['vehicle.cabin.door'] });
      assert.strictEqual(exact.matchesDescriptor('vehicle.cabin.door'), true);
      assert.strictEqual(exact.matchesDescriptor('vehicle.cabin.doors'), false);
      assert.strictEqual(exact.matchesDescriptor('vehicle.cabin.doo'), false);
      const star = compileFilter({ descriptors: ['*'] });
      assert.strictEqual(star.matchesDescriptor(PORT), true, 'a lone * is every key');
    });

    it('bare values of any kind become points in data', () => {
      const bare = { vin: VIN, data: { n: 5, t: true, s: 'x' } };
      const m = filterStreamMessage(bare, `g/${VIN}`, normalizeStreamMessage(bare, `g/${VIN}`), compileFilter({}));
      assert.deepStrictEqual(m.data, { n: { value: 5 }, t: { value: true }, s: { value: 'x' } });
    });

    it('nothing passes: no message', () => {
      assert.strictEqual(filterStreamMessage(raw, `g/${VIN}`, events, compileFilter({ vins: ['WBA00000000000002'] })), undefined);
      assert.strictEqual(filterStreamMessage(raw, `g/${VIN}`, events, compileFilter({ descriptors: ['x.*'] })), undefined);
      assert.strictEqual(filterStreamMessage(raw, `g/${VIN}`, [], compileFilter({})), undefined);
    });

    it('the VIN of an empty message comes from the message, else the topic', () => {
      const only = compileFilter({ vins: ['WBA00000000000002'] });
      assert.strictEqual(filterStreamMessage({ vin: 'WBA00000000000002', data: {} }, 'g/other', [], only), undefined, 'no events: nothing to send');
      const f = compileFilter({ vins: ['X'] });
      assert.strictEqual(filterStreamMessage({ data: {} }, 'g/Y', [], f), undefined);
    });
  });
});

describe('core vehicle state', function () {
  it('units: trimmed, percent as %, empty and "null" as none', () => {
    assert.strictEqual(cleanUnit(' kW '), 'kW');
    assert.strictEqual(cleanUnit('percent'), '%');
    for (const u of ['', '  ', 'null', null, undefined, 5]) assert.strictEqual(cleanUnit(u), null, String(u));
  });

  const event = (descriptor, value, extra = {}) => ({
    vin: VIN,
    descriptor,
    value,
    unit: null,
    timestamp: '2026-01-01T00:00:00Z',
    messageTimestamp: null,
    topic: '',
    ...extra,
  });

  it('types numeric text of numeric descriptors as numbers and true/false of boolean ones as booleans', () => {
    assert.strictEqual(typeReading(event(SOC, ' 63.5 '), 0).value, 63.5);
    assert.strictEqual(typeReading(event(SOC, 'INVALID'), 0).value, 'INVALID');
    assert.strictEqual(typeReading(event(SOC, 63), 0).value, 63);
    assert.strictEqual(typeReading(event(LOCKED, ' TRUE '), 0).value, true);
    assert.strictEqual(typeReading(event(LOCKED, 'false'), 0).value, false);
    assert.strictEqual(typeReading(event(LOCKED, 'maybe'), 0).value, 'maybe');
    assert.strictEqual(typeReading(event(PORT, '12'), 0).value, '12', 'a state stays text');
    assert.strictEqual(typeReading(event(PORT, 'true'), 0).value, 'true');
    assert.strictEqual(typeReading(event('vehicle.not.in.catalogue', '5'), 0).value, '5');
    assert.strictEqual(typeReading(event(SOC, null), 0).value, null);
  });

  it("the unit BMW sent, else the catalogue's; the reading's time, else now", () => {
    assert.strictEqual(typeReading(event(SOC, '1', { unit: 'percent' }), 0).unit, '%');
    assert.strictEqual(typeReading(event(SOC, '1'), 0).unit, '%', 'from the catalogue');
    assert.strictEqual(typeReading(event('vehicle.not.in.catalogue', '1'), 0).unit, null);
    const timed = typeReading(event(SOC, '1'), Date.parse('2026-01-01T00:01:00Z'));
    assert.deepStrictEqual([timed.timestamp, timed.time, timed.vin, timed.descriptor], ['2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:00:00Z'), VIN, SOC]);
    assert.strictEqual(timed.future, undefined);
    const now = Date.parse('2026-02-02T00:00:00Z');
    for (const timestamp of [null, 'garbage']) {
      const r = typeReading(event(SOC, '1', { timestamp }), now);
      assert.deepStrictEqual([r.timestamp, r.time], ['2026-02-02T00:00:00.000Z', now], String(timestamp));
    }
  });

  it('a reading stamped more than five minutes ahead of the clock is taken as arriving now', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const within = typeReading(event(SOC, '1', { timestamp: new Date(now + FUTURE_TOLERANCE_MS).toISOString() }), now);
    assert.deepStrictEqual([within.time, within.future], [now + FUTURE_TOLERANCE_MS, undefined], 'at the tolerance: its own time');
    for (const timestamp of [new Date(now + FUTURE_TOLERANCE_MS + 1).toISOString(), '2027-06-01T00:00:00Z', '+100000-01-01T00:00:00Z']) {
      const r = typeReading(event(SOC, '1', { timestamp }), now);
      assert.deepStrictEqual([r.timestamp, r.time, r.future], ['2026-01-01T00:00:00.000Z', now, true], timestamp);
    }
    assert.strictEqual(FUTURE_TOLERANCE_MS, 5 * 60_000);
  });

  it('a reading is added, changed, refreshed, a duplicate, or stale', () => {
    const values = {};
    const reading = (value, t, unit = '%') => ({ vin: VIN, descriptor: SOC, value, unit, timestamp: new Date(t).toISOString(), time: t });
    assert.strictEqual(applyReading(values, reading(50, 1000)), 'added');
    assert.deepStrictEqual(values[SOC], { value: 50, unit: '%', timestamp: new Date(1000).toISOString() });
    assert.strictEqual(applyReading(values, reading(50, 1000)), 'duplicate');
    assert.strictEqual(applyReading(values, reading(51, 1000)), 'changed', 'another value at the same time');
    assert.strictEqual(applyReading(values, reading(51, 2000)), 'refreshed');
    assert.strictEqual(values[SOC].timestamp, new Date(2000).toISOString());
    assert.strictEqual(applyReading(values, reading(51, 2000, 'kWh')), 'changed', 'another unit');
    assert.strictEqual(applyReading(values, reading(40, 1999)), 'stale');
    assert.strictEqual(values[SOC].value, 51);
    assert.strictEqual(applyReading(values, reading(52, 3000)), 'changed');
  });

  it('numberOf: finite numbers only, with unit and time', () => {
    const values = {
      a: { value: 5, unit: 'kW', timestamp: '2026-01-01T00:00:00Z' },
      b: { value: '5', unit: null, timestamp: '2026-01-01T00:00:00Z' },
      c: { value: Infinity, unit: null, timestamp: '2026-01-01T00:00:00Z' },
    };
    assert.deepStrictEqual(numberOf(values, 'a'), { value: 5, unit: 'kW', time: Date.parse('2026-01-01T00:00:00Z') });
    assert.strictEqual(numberOf(values, 'b'), undefined);
    assert.strictEqual(numberOf(values, 'c'), undefined);
    assert.strictEqual(numberOf(values, 'd'), undefined);
    assert.strictEqual(timeOf(values.a), Date.parse('2026-01-01T00:00:00Z'));
  });
});
