// The broker subscriptions of one stream connection (src/core/stream/topics.ts), driven with a client whose
// answers the test releases one by one: what is subscribed and dropped as subscribers come and go, one sync at a
// time, and what a refusal, an error or a replaced client leaves.
import assert from 'assert';
import { desiredTopics, TopicSync } from '../../../src/core/stream/topics';
import { compileFilter } from '../../../src/core/stream/message';

const GCID = 'gcid-1';
const A = 'WBA00000000000001';
const B = 'WBA00000000000002';

const sub = (vins: string[]) => ({ filter: compileFilter({ vins }) }) as any;

/** A client that records each call and answers when the test says. */
function client() {
  const calls: string[] = [];
  const pending: Array<(answer?: any) => void> = [];
  const rejects: Array<(e: Error) => void> = [];
  const answerLater = () =>
    new Promise<any>((resolve, reject) => {
      pending.push(resolve);
      rejects.push(reject);
    });
  return {
    calls,
    connected: true,
    subscribe(topics: string[]) {
      calls.push(`sub ${topics.join(' ')}`);
      return answerLater();
    },
    unsubscribe(topics: string[]) {
      calls.push(`unsub ${topics.join(' ')}`);
      return answerLater();
    },
    end: async () => {},
    /** Answers the oldest open call. */
    async answer(value: any = {}) {
      rejects.shift();
      pending.shift()!(value);
      await new Promise((r) => setImmediate(r));
    },
    async fail() {
      pending.shift();
      rejects.shift()!(new Error('gone'));
      await new Promise((r) => setImmediate(r));
    },
    get open() {
      return pending.length;
    },
  };
}

function hooks(current = () => true) {
  const said: string[] = [];
  return { said, current, refused: () => void said.push('refused'), again: () => void said.push('again') };
}

describe('stream topics', () => {
  it('desiredTopics: one topic per wanted VIN, or <gcid>/+ alone once anyone wants every car', () => {
    assert.deepStrictEqual([...desiredTopics(GCID, [])], []);
    assert.deepStrictEqual([...desiredTopics(GCID, [sub([A]), sub([A, B])])], [`${GCID}/${A}`, `${GCID}/${B}`]);
    assert.deepStrictEqual([...desiredTopics(GCID, [sub([A]), sub([]), sub([B])])], [`${GCID}/+`]);
  });

  it('subscribes what is missing, then drops what nobody wants; nothing when all is in place', async () => {
    const c = client();
    const sync = new TopicSync();
    const h = hooks();
    sync.sync(c as any, new Set([`${GCID}/${A}`]), h);
    assert.deepStrictEqual(c.calls, [`sub ${GCID}/${A}`]);
    assert.deepStrictEqual([...sync.topics], [], 'a topic counts once the broker accepted it');
    await c.answer();
    assert.deepStrictEqual([...sync.topics], [`${GCID}/${A}`]);
    sync.sync(c as any, new Set([`${GCID}/${A}`]), h);
    assert.strictEqual(c.calls.length, 1, 'nothing to do');
    sync.sync(c as any, new Set([`${GCID}/${B}`]), h);
    assert.deepStrictEqual(c.calls.slice(1), [`sub ${GCID}/${B}`]);
    await c.answer();
    assert.deepStrictEqual(c.calls.slice(2), [`unsub ${GCID}/${A}`], 'the new one first, then the old one goes');
    assert.deepStrictEqual([...sync.topics], [`${GCID}/${B}`]);
    await c.answer();
    sync.sync(c as any, new Set(), h);
    assert.deepStrictEqual(c.calls.slice(3), [`unsub ${GCID}/${B}`]);
    assert.deepStrictEqual([...sync.topics], [], 'dropped as soon as it is asked for');
    await c.fail();
    assert.deepStrictEqual(h.said, [], 'an unsubscribe that fails ends the sync all the same');
    sync.sync(c as any, new Set([`${GCID}/${A}`]), h);
    assert.strictEqual(c.calls.length, 5, 'and the next one runs');
  });

  it('one sync at a time: a sync asked for meanwhile is run once, after it', async () => {
    const c = client();
    const sync = new TopicSync();
    const h = hooks();
    sync.sync(c as any, new Set([`${GCID}/${A}`]), h);
    sync.sync(c as any, new Set([`${GCID}/${A}`, `${GCID}/${B}`]), h);
    sync.sync(c as any, new Set([`${GCID}/${B}`]), h);
    assert.deepStrictEqual(c.calls, [`sub ${GCID}/${A}`]);
    assert.deepStrictEqual(h.said, []);
    await c.answer();
    assert.deepStrictEqual(h.said, ['again'], 'told once, when the running sync ended');
    assert.strictEqual(c.open, 0);
    // The sync after it sees the state the first left.
    sync.sync(c as any, new Set([`${GCID}/${B}`]), h);
    assert.deepStrictEqual(c.calls.slice(1), [`sub ${GCID}/${B}`]);
    await c.answer();
    await c.answer();
    assert.deepStrictEqual(h.said, ['again']);
    assert.deepStrictEqual([...sync.topics], [`${GCID}/${B}`]);
  });

  it('a refusal is said and nothing is counted; the next sync tries again', async () => {
    const c = client();
    const sync = new TopicSync();
    const h = hooks();
    sync.sync(c as any, new Set([`${GCID}/${A}`]), h);
    sync.sync(c as any, new Set([`${GCID}/${A}`]), h);
    await c.answer({ refused: true });
    assert.deepStrictEqual(h.said, ['refused'], 'refused, and no second sync run for the one asked meanwhile');
    assert.deepStrictEqual([...sync.topics], []);
    sync.sync(c as any, new Set([`${GCID}/${A}`]), h);
    assert.deepStrictEqual(c.calls, [`sub ${GCID}/${A}`, `sub ${GCID}/${A}`]);
  });

  it('an answer with an error counts no topic, and still drops what is no longer wanted', async () => {
    const c = client();
    const sync = new TopicSync();
    sync.topics = new Set([`${GCID}/${A}`]);
    sync.sync(c as any, new Set([`${GCID}/${B}`]), hooks());
    await c.answer({ error: new Error('timeout') });
    assert.deepStrictEqual(c.calls, [`sub ${GCID}/${B}`, `unsub ${GCID}/${A}`]);
    assert.deepStrictEqual([...sync.topics], []);
  });

  it('what a replaced client answers does not count: no topic, no unsubscribe, and the sync ends', async () => {
    const c = client();
    const sync = new TopicSync();
    let current = true;
    const h = hooks(() => current);
    sync.topics = new Set([`${GCID}/${A}`]);
    sync.sync(c as any, new Set([`${GCID}/${B}`]), h);
    sync.sync(c as any, new Set([`${GCID}/${B}`]), h);
    current = false;
    await c.answer();
    assert.deepStrictEqual(c.calls, [`sub ${GCID}/${B}`]);
    assert.deepStrictEqual([...sync.topics], [`${GCID}/${A}`]);
    assert.deepStrictEqual(h.said, ['again']);
    // Only unsubscribing left, on a client that is no longer current: nothing is sent.
    sync.reset();
    assert.deepStrictEqual([...sync.topics], []);
    sync.topics = new Set([`${GCID}/${A}`]);
    sync.sync(c as any, new Set(), h);
    assert.strictEqual(c.calls.length, 1);
    assert.deepStrictEqual([...sync.topics], [`${GCID}/${A}`]);
    current = true;
    sync.sync(c as any, new Set(), h);
    assert.deepStrictEqual(c.calls.slice(1), [`unsub ${GCID}/${A}`], 'the sync before it had ended');
  });
});
