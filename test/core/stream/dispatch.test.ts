// The dispatch of one connection's messages to its subscribers (src/core/stream/dispatch.ts) and the small helpers
// every subscriber shares (subscriber.ts), driven directly: which subscriber gets what, what a bad message or a
// throwing handler costs the others, and how often a skipped message is reported.
import assert from 'assert';
import { MessageDispatch } from '../../../src/core/stream/dispatch';
import { compileFilter, ReadingDeduplicator } from '../../../src/core/stream/message';
import { clip, describe as describeError, report, type Subscriber } from '../../../src/core/stream/subscriber';
import { CarDataError } from '../../../src/core/errors';
import { SOC, RANGE } from '../../../src/simulator/descriptor-names';

const GCID = 'gcid-1';
const VIN_A = 'WBA00000000000001';
const VIN_B = 'WBA00000000000002';

function subscriber(filter = {}, extra: Partial<Subscriber> = {}) {
  const seen = { messages: [] as any[], events: [] as any[], errors: [] as string[] };
  const s: Subscriber = {
    filter: compileFilter(filter),
    tokens: {} as any,
    waiters: new Set(),
    opts: {
      onMessage: (m) => seen.messages.push(m),
      onEvent: (e) => seen.events.push(e),
      onError: (e) => seen.errors.push(e.message),
    },
    ...extra,
  };
  return { s, seen };
}

const payload = (vin: string, data: Record<string, unknown>, timestamp = '2026-12-01T10:00:00Z') =>
  JSON.stringify({
    vin,
    entityId: 'e',
    topic: `${GCID}/${vin}`,
    timestamp,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, { value: v, timestamp }])),
  });

describe('stream dispatch', () => {
  it('gives each subscriber the part of a message its filter wants, and nothing to one that wants none of it', () => {
    const all = subscriber();
    const socOfA = subscriber({ vins: [VIN_A], descriptors: [SOC] });
    const ofB = subscriber({ vins: [VIN_B] });
    const dispatch = new MessageDispatch(new Set([all.s, socOfA.s, ofB.s]), () => 0);
    dispatch.dispatch(`${GCID}/${VIN_A}`, Buffer.from(payload(VIN_A, { [SOC]: 80, [RANGE]: 300 })));
    assert.deepStrictEqual(
      all.seen.events.map((e) => [e.vin, e.descriptor, e.value]),
      [
        [VIN_A, SOC, 80],
        [VIN_A, RANGE, 300],
      ],
    );
    assert.strictEqual(all.seen.messages.length, 1);
    assert.deepStrictEqual(Object.keys(socOfA.seen.messages[0].data), [SOC]);
    assert.deepStrictEqual(
      socOfA.seen.events.map((e) => e.descriptor),
      [SOC],
    );
    assert.deepStrictEqual([ofB.seen.messages, ofB.seen.events, ofB.seen.errors], [[], [], []]);
  });

  it('passes a repeated reading once to a subscriber with a deduplicator, every time to one without', () => {
    const dedupe = subscriber({}, { dedupe: new ReadingDeduplicator() });
    const plain = subscriber();
    const dispatch = new MessageDispatch(new Set([dedupe.s, plain.s]), () => 0);
    for (let i = 0; i < 3; i++) dispatch.dispatch(`${GCID}/${VIN_A}`, payload(VIN_A, { [SOC]: 80 }));
    assert.strictEqual(dedupe.seen.events.length, 1);
    assert.strictEqual(dedupe.seen.messages.length, 3, 'the message itself still reaches onMessage');
    assert.strictEqual(plain.seen.events.length, 3);
  });

  it('a subscriber without onEvent gets the message only', () => {
    const only = subscriber();
    delete only.s.opts.onEvent;
    new MessageDispatch(new Set([only.s]), () => 0).dispatch(`${GCID}/${VIN_A}`, payload(VIN_A, { [SOC]: 80 }));
    assert.strictEqual(only.seen.messages.length, 1);
    assert.strictEqual(only.seen.events.length, 0);
  });

  it('a handler that throws is told its error; the other subscribers still get the message', () => {
    const throwing = subscriber();
    throwing.s.opts.onMessage = () => {
      throw new Error('flow broke');
    };
    const throwsText = subscriber();
    throwsText.s.opts.onEvent = () => {
      throw 'not an Error';
    };
    const fine = subscriber();
    const dispatch = new MessageDispatch(new Set([throwing.s, throwsText.s, fine.s]), () => 0);
    assert.doesNotThrow(() => dispatch.dispatch(`${GCID}/${VIN_A}`, payload(VIN_A, { [SOC]: 80, [RANGE]: 1 })));
    assert.deepStrictEqual(throwing.seen.errors, ['flow broke']);
    assert.deepStrictEqual(throwsText.seen.errors, ['not an Error'], 'a thrown non-Error becomes an Error with its text');
    assert.strictEqual(fine.seen.events.length, 2);
    assert.deepStrictEqual(fine.seen.errors, []);
  });

  it('works on the subscribers as they were when the message came: one leaving meanwhile still gets it', () => {
    const subs = new Set<Subscriber>();
    const second = subscriber();
    const first = subscriber();
    first.s.opts.onMessage = () => void subs.delete(second.s);
    subs.add(first.s).add(second.s);
    new MessageDispatch(subs, () => 0).dispatch(`${GCID}/${VIN_A}`, payload(VIN_A, { [SOC]: 80 }));
    assert.strictEqual(second.seen.messages.length, 1);
  });

  it('skips a message that is not a JSON object, tells every subscriber once a minute with the count, never the payload', () => {
    let now = 1_000_000;
    const a = subscriber();
    const b = subscriber();
    const dispatch = new MessageDispatch(new Set([a.s, b.s]), () => now);
    dispatch.dispatch(`${GCID}/${VIN_A}`, '["secret-token-in-an-array"]');
    assert.deepStrictEqual(a.seen.errors, [`A stream message could not be read and was skipped; the last, for ${VIN_A}, because it is not a JSON object`]);
    assert.deepStrictEqual(b.seen.errors, a.seen.errors);
    // Within the minute: counted, not said.
    dispatch.dispatch(`${GCID}/${VIN_B}`, '{"cut');
    now += 59_999;
    dispatch.dispatch('no-slash-topic', 'null');
    assert.strictEqual(a.seen.errors.length, 1);
    // A minute after the last report: the count since then, and the last one's car.
    now += 1;
    dispatch.dispatch(`${GCID}/`, '42');
    assert.strictEqual(a.seen.errors.length, 2);
    assert.strictEqual(
      a.seen.errors[1],
      '3 stream messages (since the last report) could not be read and were skipped; the last, for an unknown car, because it is not a JSON object',
    );
    assert.ok(!a.seen.errors.join(' ').includes('secret-token'));
    // The count starts again after a report.
    now += 60_000;
    dispatch.dispatch('no-slash-topic', 'true');
    assert.match(a.seen.errors[2], /^A stream message could not be read and was skipped; the last, for no-slash-topic, because/);
    assert.strictEqual(a.seen.messages.length, 0);
  });
});

describe('stream subscriber helpers', () => {
  it('clip keeps text up to the limit and cuts longer text with an ellipsis', () => {
    assert.strictEqual(clip('x'.repeat(120)), 'x'.repeat(120));
    assert.strictEqual(clip('x'.repeat(121)), `${'x'.repeat(120)}…`);
    assert.strictEqual(clip('abcdef', 3), 'abc…');
    assert.strictEqual(clip('abc', 3), 'abc');
    assert.strictEqual(clip(''), '');
  });

  it('report hands the error to the subscriber; a handler that throws, or none, takes nothing down', () => {
    const { s, seen } = subscriber();
    report(s, new Error('one'));
    assert.deepStrictEqual(seen.errors, ['one']);
    s.opts.onError = () => {
      throw new Error('handler broke');
    };
    assert.doesNotThrow(() => report(s, new Error('two')));
    delete s.opts.onError;
    assert.doesNotThrow(() => report(s, new Error('three')));
  });

  it("describe: the message, with a network error's code; a CarDataError's own message; anything else as text", () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    assert.strictEqual(describeError(reset), 'socket hang up (ECONNRESET)');
    assert.strictEqual(describeError(Object.assign(new Error('odd'), { code: 42 })), 'odd');
    assert.strictEqual(describeError(Object.assign(new Error('blank'), { code: '' })), 'blank');
    assert.strictEqual(describeError(new Error('plain')), 'plain');
    const carData = new CarDataError({ kind: 'network', message: 'BMW did not answer' });
    assert.ok(typeof (carData as any).code === 'string' && (carData as any).code, 'a CarDataError has a code of its own');
    assert.strictEqual(describeError(carData), 'BMW did not answer', 'which is not added');
    assert.strictEqual(describeError('text'), 'text');
    assert.strictEqual(describeError(undefined), 'undefined');
  });
});
