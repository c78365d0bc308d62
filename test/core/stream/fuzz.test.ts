// Property-based fuzzing of every step from an MQTT payload to the user's flow: generated and mutated BMW-format
// batches (numbers at the limits, wrong types, deep nesting, huge strings, prototype keys, unknown descriptors,
// timestamps in every spelling and out of range) through the parser, the normaliser, LiveData with the charging
// tracker, the live feed, and the stream connection's message handler. Nothing may throw; the state stays
// restorable; a good message after the bad ones still gets through.
import assert from 'assert';
import fc from 'fast-check';
import * as core from '../../../src/node';
import { fakeClock, fakeBroker, fakeLogin } from '../../support/stream-fakes';
import { streamed } from '../../support/stream-message';

const {
  parseStreamPayload,
  normalizeStreamMessage,
  compileFilter,
  filterStreamMessage,
  LiveData,
  createLiveFeed,
  restoreLiveDataState,
  subscribeStream,
  streamConnections,
  CHARGING_DESCRIPTORS: D,
} = core;

const VIN = 'WBA00000000000001';
const SOC = D.soc[0];
const RUNS = Number(process.env.FUZZ_RUNS || 300);

const descriptors = fc.oneof(
  fc.constantFrom(SOC, D.status, D.hvStatus, D.power, D.targetSoc, D.energyContent, D.gridEnergy, ...D.plug, ...D.batterySize),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype', '', 'vehicle.unknown.thing'),
  fc.string({ maxLength: 40 }),
);
const extremeNumbers = fc.constantFrom(
  0,
  -0,
  1e20,
  -1e20,
  9e15,
  8.64e15,
  8.64e12,
  1e12 - 1,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  -Number.MAX_VALUE,
  2 ** 53,
  -(2 ** 53),
);
const timestamps = fc.oneof(
  fc.date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer({ min: 0, max: 4_102_444_800 }),
  fc.integer({ min: 0, max: 4_102_444_800_000 }),
  extremeNumbers,
  fc.double(),
  fc.constantFrom(
    '2027-01-01T00:00:00Z',
    '+275760-09-13T00:00:00.000Z',
    '-271821-04-20T00:00:00.000Z',
    '99999999999999',
    '1e20',
    'garbage',
    '',
    'Mon, 01 Jan 2026 10:00:00 GMT',
  ),
  fc.string({ maxLength: 30 }),
  fc.constant(null),
  fc.boolean(),
  fc.jsonValue({ maxDepth: 2 }),
);
const values = fc.oneof(
  fc.double(),
  extremeNumbers,
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(
    'CHARGINGACTIVE',
    'CHARGINGENDED',
    'NOCHARGING',
    'CHARGINGINTERRUPTED',
    'CHARGINGERROR',
    'CONNECTED',
    'DISCONNECTED',
    'CHARGING',
    'NOT_CHARGING',
    'true',
    '80',
    '1e999',
    'NaN',
  ),
  fc.string({ maxLength: 50 }),
  fc.jsonValue({ maxDepth: 6 }),
  fc.nat({ max: 3 }).map((n) => 'x'.repeat(10 ** (n + 2))),
);
const point = fc.oneof(
  fc.record(
    { value: values, unit: fc.oneof(fc.constantFrom('%', 'kW', 'W', 'kWh', '', null), fc.jsonValue({ maxDepth: 1 })), timestamp: timestamps },
    { requiredKeys: [] },
  ),
  values,
);
const data = fc.oneof(fc.dictionary(descriptors, point, { maxKeys: 12 }), fc.jsonValue({ maxDepth: 3 }));
const message = fc.record(
  {
    vin: fc.oneof(
      fc.constant(VIN),
      fc.constantFrom('__proto__', 'constructor', '', 'A/B', '#', '+'),
      fc.string({ maxLength: 20 }),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    entityId: fc.oneof(fc.uuid(), fc.jsonValue({ maxDepth: 1 })),
    topic: fc.string({ maxLength: 20 }),
    timestamp: timestamps,
    data,
  },
  { requiredKeys: [] },
);
/** A payload as bytes: a generated message, sometimes cut short or with bytes changed, or not JSON at all. */
const payload = fc.oneof(
  message.map((m) => JSON.stringify(m)),
  fc.tuple(message, fc.nat(), fc.nat()).map(([m, cut, at]) => {
    const text = JSON.stringify(m);
    const i = at % (text.length || 1);
    return text.slice(0, i) + text.slice(i + 1, Math.max(i + 1, cut % (text.length + 1)));
  }),
  fc.constantFrom(
    '{"vin":"__proto__","data":{"__proto__":{"value":1}}}',
    '{"data":{"constructor":{"value":{"prototype":1}}}}',
    '[1,2]',
    'null',
    '',
    '{',
    '\u0000\uffff',
  ),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
);

const good = (soc) =>
  JSON.stringify({
    vin: VIN,
    timestamp: '2026-12-01T10:00:00Z',
    data: { [SOC]: { value: soc, unit: '%', timestamp: new Date(Date.parse('2026-12-01T10:00:00Z') + soc * 1000).toISOString() } },
  });

describe('stream fuzzing: no message can throw, the state stays sound, a good message still passes', function () {
  this.timeout(120_000);

  it('parse, normalise and filter never throw, whatever the payload', () => {
    const filter = compileFilter({ vins: [VIN], descriptors: ['vehicle.*'] });
    fc.assert(
      fc.property(payload, (p) => {
        const raw = parseStreamPayload(p);
        if (!raw) return;
        const events = normalizeStreamMessage(raw, `gcid/${VIN}`);
        for (const e of events) assert.ok(e.timestamp === null || typeof e.timestamp === 'string');
        filterStreamMessage(raw, `gcid/${VIN}`, events, filter);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('LiveData and the charging tracker take any sequence of messages, and their state survives a restart', () => {
    fc.assert(
      fc.property(fc.array(payload, { maxLength: 25 }), fc.integer({ min: 0, max: 10 * 86_400_000 }), (payloads, offset) => {
        let clock = Date.parse('2026-12-01T10:00:00Z') + offset;
        const live = new LiveData({ now: () => clock });
        for (const p of payloads) {
          const raw = parseStreamPayload(p);
          if (raw) live.ingest(raw, `gcid/${VIN}`);
          clock += 60_000;
        }
        live.settle();
        const saved = JSON.parse(JSON.stringify(live.serialize()));
        const again = new LiveData({ state: restoreLiveDataState(saved, clock), now: () => clock });
        assert.deepStrictEqual(again.serialize(), saved, 'what was saved is what comes back');
        assert.ok(Object.getPrototypeOf(saved.vehicles) === Object.prototype, 'no prototype was replaced');
        const u = again.ingest(JSON.parse(good(50)), `gcid/${VIN}`);
        assert.ok(u, 'a good message after the bad ones is read');
        assert.ok(again.vehicle(VIN).values[SOC], 'and its value is held');
        for (const record of Object.values<any>(saved.vehicles))
          for (const v of Object.values<any>(record.values)) assert.ok(!Number.isNaN(Date.parse(v.timestamp)));
      }),
      { numRuns: RUNS },
    );
  });

  it('the live feed goes on after any batch and delivers the good message that follows', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(payload, { maxLength: 15 }), async (payloads) => {
        const seen = [];
        const problems = [];
        // The host's clock stands before the good message: nothing generated can be newer than it.
        const feed = createLiveFeed({
          now: () => Date.parse('2026-12-01T09:00:00Z'),
          save: () => undefined,
          onVehicle: (v) => seen.push(v),
          onProblem: (m) => problems.push(m),
        });
        for (const p of payloads) {
          const raw = parseStreamPayload(p);
          const m = raw && streamed(raw, `gcid/${VIN}`);
          if (m) await feed.push(m);
        }
        await feed.push(streamed(JSON.parse(good(77))));
        assert.strictEqual(feed.live.vehicle(VIN).values[SOC].value, 77);
        assert.ok(seen.some((v) => v.vin === VIN && v.values[SOC]?.value === 77));
        for (const m of problems) assert.ok(m.length < 400, 'problems are short and carry no payload');
      }),
      { numRuns: RUNS },
    );
  });

  describe('the stream connection', () => {
    afterEach(() => assert.deepStrictEqual(streamConnections(), []));

    it('skips what it cannot read, tells at most once a minute without the payload, and relays the next good message', async () => {
      const clock = fakeClock(Date.parse('2026-12-01T10:00:00Z'));
      const broker = fakeBroker();
      const login = fakeLogin(clock);
      const received = [];
      const errors = [];
      const sub = subscribeStream(login, {
        connect: broker.connect,
        timers: clock.timers,
        now: clock.now,
        onMessage: (m) => received.push(m),
        onError: (e) => errors.push(e.message),
      });
      try {
        await clock.advance(0);
        const c = broker.current();
        let soc = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(payload, { maxLength: 10 }), async (payloads) => {
            for (const p of payloads) c.receive(`gcid-fake/${VIN}`, p);
            soc = (soc % 100) + 1;
            const before = received.length;
            c.receive(`gcid-fake/${VIN}`, good(soc));
            assert.strictEqual(received.length, before + 1);
            assert.strictEqual(received[received.length - 1].data[SOC].value, soc);
            await clock.advance(1000);
          }),
          { numRuns: RUNS },
        );
        // The fake clock moved RUNS seconds: at most one report per minute of it (and the first at once).
        assert.ok(errors.length <= Math.ceil(RUNS / 60) + 1, `${errors.length} reports`);
        assert.ok(errors.length >= 1, 'skipped messages were told');
        for (const e of errors) {
          assert.match(e, /could not be read and (was|were) skipped/);
          assert.ok(!/x{50}|__proto__|CHARGING/.test(e), `no payload in "${e}"`);
        }
        assert.strictEqual(sub.status.state, 'connected');
      } finally {
        await sub.close();
      }
    });

    it('a subscriber whose handlers throw neither stops the others nor the connection', async () => {
      const clock = fakeClock();
      const broker = fakeBroker();
      const login = fakeLogin(clock);
      const got = [];
      const a = subscribeStream(login, {
        connect: broker.connect,
        timers: clock.timers,
        now: clock.now,
        onMessage: () => {
          throw new Error('flow failed');
        },
        onError: () => {
          throw new Error('and so did its error handler');
        },
      });
      const b = subscribeStream(login, { connect: broker.connect, timers: clock.timers, now: clock.now, onMessage: (m) => got.push(m.data[SOC].value) });
      try {
        await clock.advance(0);
        broker.current().receive(`gcid-fake/${VIN}`, good(10));
        broker.current().receive(`gcid-fake/${VIN}`, '{"vin":1,"timestamp":1e20,"data":{"x":{"timestamp":9e15}}}');
        broker.current().receive(`gcid-fake/${VIN}`, good(11));
        assert.deepStrictEqual(got, [10, 11]);
        assert.strictEqual(b.status.state, 'connected');
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
});
