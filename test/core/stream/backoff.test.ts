// The stream's reconnects, renewals and backoff on a fake clock: core's subscribeStream on a fake MQTT connection
// port and fake timers, so every wait is read exactly and passes without real waiting. Timings are the defaults
// (backoff 2 s doubling up to 60 s, reset after a minute up, renewal 5 min before the id_token expires).
import assert from 'assert';
import { subscribeStream, streamConnections, CarDataError, StreamError } from '../../../src/core';
import { fakeClock, fakeBroker, fakeLogin } from '../../support/stream-fakes';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('core stream: reconnects, renewals and backoff on a fake clock', function () {
  let clock;
  let broker;
  let login;
  let sub;
  let states;

  afterEach(async () => {
    if (sub) await sub.close();
    sub = undefined;
    assert.deepStrictEqual(streamConnections(), []);
  });

  /** A subscription on the fakes; `random: () => 1` puts every wait at the full backoff step. */
  async function start(extra = {}, prepare = () => undefined) {
    clock = fakeClock();
    broker = fakeBroker();
    login = fakeLogin(clock);
    states = [];
    prepare();
    sub = subscribeStream(login, { connect: broker.connect, timers: clock.timers, now: clock.now, random: () => 1, onState: (s) => states.push(s), ...extra });
    await clock.advance(0);
  }

  /** The wait of the next timer, run to the millisecond: nothing happens before it is over. Returns the wait. */
  async function nextWait() {
    const wait = clock.pending()[0];
    const attempts = broker.connections.length;
    if (wait > 0) await clock.advance(wait - 1);
    assert.strictEqual(broker.connections.length, attempts, `no new attempt before ${wait} ms`);
    await clock.advance(wait > 0 ? 1 : 0);
    assert.strictEqual(broker.connections.length, attempts + 1, `a new attempt after ${wait} ms`);
    return wait;
  }

  /** Drops the connection that is up, waits for the stream to reconnect; returns the wait it chose. */
  async function drop() {
    broker.current().drop();
    await clock.advance(0);
    assert.strictEqual(sub.status.state, 'reconnecting');
    const wait = await nextWait();
    assert.strictEqual(sub.status.state, 'connected');
    return wait;
  }

  it('doubles the wait on every drop of a short-lived connection, from 2 s up to the cap of 60 s', async () => {
    await start();
    assert.strictEqual(sub.status.state, 'connected');
    const waits = [];
    for (let i = 0; i < 7; i += 1) waits.push(await drop());
    assert.deepStrictEqual(waits, [2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    assert.strictEqual(sub.status.error, undefined, 'connected again: no error left in the status');
  });

  it('a connection that stayed up for a minute starts the backoff from the first delay again', async () => {
    await start();
    assert.deepStrictEqual([await drop(), await drop(), await drop()], [2000, 4000, 8000]);
    await clock.advance(MINUTE);
    assert.strictEqual(await drop(), 2000, 'reset after a stable connection');
    assert.strictEqual(await drop(), 4000, 'and doubling again from there');
  });

  it('a connection just short of a minute does not reset the backoff', async () => {
    await start();
    assert.deepStrictEqual([await drop(), await drop()], [2000, 4000]);
    await clock.advance(MINUTE - 1);
    assert.strictEqual(await drop(), 8000);
  });

  it('the jitter spreads each wait over the upper half of the step', async () => {
    for (const [random, waits] of [
      [0, [1000, 2000, 4000]],
      [0.5, [1500, 3000, 6000]],
    ]) {
      await start({ random: () => random });
      assert.deepStrictEqual([await drop(), await drop(), await drop()], waits, `random ${random}`);
      await sub.close();
    }
  });

  it('the backoff options set the first delay and the cap', async () => {
    await start({ backoffMinMs: 50, backoffMaxMs: 300 });
    const waits = [];
    for (let i = 0; i < 5; i += 1) waits.push(await drop());
    assert.deepStrictEqual(waits, [50, 100, 200, 300, 300]);
  });

  it('broker down: every failed attempt waits longer, up to the cap; once back up, a minute resets the backoff', async () => {
    await start();
    broker.answer = 'ECONNREFUSED';
    broker.current().drop();
    const waits = [];
    for (let i = 0; i < 7; i += 1) waits.push(await nextWait());
    assert.deepStrictEqual(waits, [2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    assert.strictEqual(sub.status.state, 'reconnecting');
    assert.match(sub.status.reason, /ECONNREFUSED/);
    assert.ok(sub.status.error instanceof StreamError);
    assert.deepStrictEqual([sub.status.error.code, sub.status.error.retryable], ['connection', true]);

    broker.answer = 'accept';
    assert.strictEqual(await nextWait(), 60000);
    assert.strictEqual(sub.status.state, 'connected');
    await clock.advance(MINUTE);
    broker.answer = 'ECONNREFUSED';
    broker.current().drop();
    assert.deepStrictEqual([await nextWait(), await nextWait()], [2000, 4000]);
    assert.ok(!states.some((s) => s.state === 'unauthorized' || s.state === 'not-configured'), 'never stops');
  });

  it('a login the broker refuses: retried at once with a renewed login, then with backoff; the refused id_token is never offered again', async () => {
    await start({}, () => (broker.answer = 5));
    assert.deepStrictEqual([broker.connections.length, clock.asked], [2, [0, 2000]], 'the first refusal is retried at once, the second waits');
    const waits = [];
    for (let i = 0; i < 3; i += 1) waits.push(await nextWait());
    assert.deepStrictEqual(waits, [2000, 4000, 8000]);
    const passwords = broker.connections.map((c) => c.login.password);
    assert.strictEqual(new Set(passwords).size, passwords.length, `a new id_token for every try: ${passwords.join(', ')}`);
    assert.strictEqual(login.refreshes, 4, 'one refresh before every retry');
    const st = sub.status;
    assert.strictEqual(st.state, 'reconnecting');
    assert.match(st.reason, /BMW refused the stream login \(not authorized\); trying again with a renewed login/);
    assert.deepStrictEqual([st.error.code, st.error.kind, st.error.reasonCode, st.error.retryable], ['unauthorized', 'auth', 5, true]);
    assert.match(st.error.hint, /CarData Stream/);

    broker.answer = 'accept';
    assert.strictEqual(await nextWait(), 16000);
    assert.strictEqual(sub.status.state, 'connected');
    assert.ok(!states.some((s) => s.state === 'unauthorized'), 'a refused login is not the end of the login');
  });

  it('renews the login 5 minutes before the id_token expires: a refresh, then a new connection with the new id_token', async () => {
    await start();
    const before = broker.current();
    await clock.advance(HOUR - 5 * MINUTE - 1);
    assert.deepStrictEqual([login.refreshes, broker.connections.length], [0, 1], 'not before the margin');
    await clock.advance(1);
    assert.strictEqual(login.refreshes, 1);
    assert.strictEqual(broker.connections.length, 2);
    assert.strictEqual(before.ended, 'disconnected', 'the old connection said goodbye');
    assert.deepStrictEqual([...before.topics], [], 'after unsubscribing, so the broker could finish delivering');
    assert.notStrictEqual(broker.current().login.password, before.login.password);
    assert.strictEqual(sub.status.state, 'connected');
    assert.ok(states.some((s) => s.state === 'reconnecting' && s.reason === 'renewing the stream login'));
    // And again an hour later.
    await clock.advance(HOUR - 5 * MINUTE);
    assert.deepStrictEqual([login.refreshes, broker.connections.length], [2, 3]);
  });

  it('a renewal whose refresh fails stays connected and is retried with backoff until it works', async () => {
    await start();
    login.failNext = 4;
    await clock.advance(HOUR - 5 * MINUTE);
    assert.strictEqual(login.refreshes, 1);
    const waits = [];
    for (let i = 0; i < 4; i += 1) {
      const wait = clock.pending()[0];
      waits.push(wait);
      assert.deepStrictEqual([sub.status.state, broker.connections.length], ['connected', 1], 'still connected on the old login');
      await clock.advance(wait - 1);
      assert.strictEqual(login.refreshes, i + 1, `no refresh before ${wait} ms`);
      await clock.advance(1);
      assert.strictEqual(login.refreshes, i + 2);
    }
    assert.deepStrictEqual(waits, [2000, 4000, 8000, 16000]);
    assert.deepStrictEqual([sub.status.state, broker.connections.length], ['connected', 2], 'renewed');
    assert.ok(!states.some((s) => /could not/.test(s.reason ?? '')), 'data kept flowing while the renewal was retried');
  });

  it('a refresh token BMW refuses at the renewal stops the stream at once, with nothing left to run', async () => {
    await start();
    login.failNext = 1;
    login.failWith = () =>
      new CarDataError({
        kind: 'auth',
        message: 'BMW refused the refresh token (invalid_grant)',
        hint: 'Authorize the account again (device login).',
        retryable: false,
      });
    await clock.advance(HOUR - 5 * MINUTE);
    const st = sub.status;
    assert.strictEqual(st.state, 'unauthorized');
    assert.deepStrictEqual([st.error.code, st.error.kind, st.error.retryable], ['refresh-failed', 'auth', false]);
    assert.strictEqual(broker.connections[0].ended, 'disconnected');
    assert.deepStrictEqual(clock.pending(), [], 'no timer left: nothing more is tried');
    await clock.advance(HOUR);
    assert.deepStrictEqual([login.refreshes, broker.connections.length], [1, 1]);
  });

  it('"not configured" (two SUBACK 0x80, the second with a renewed login) is looked at again after 15 minutes', async () => {
    await start({}, () => (broker.refuseSubscriptions = 2));
    assert.strictEqual(sub.status.state, 'not-configured');
    assert.deepStrictEqual([sub.status.error.code, sub.status.error.reasonCode], ['not-configured', 0x80]);
    assert.deepStrictEqual([broker.connections.length, login.refreshes], [2, 1], 'asked twice, the second time with a renewed login');
    assert.ok(
      broker.connections.every((c) => c.ended),
      'and let go of both connections',
    );
    assert.strictEqual(await nextWait(), 15 * MINUTE);
    assert.strictEqual(sub.status.state, 'connected');
  });

  it("waitFor times out on the stream's timers", async () => {
    await start();
    let outcome;
    sub.waitFor('not-configured', 30_000).then(
      () => (outcome = 'resolved'),
      (e) => (outcome = e.message),
    );
    await clock.advance(29_999);
    assert.strictEqual(outcome, undefined);
    await clock.advance(1);
    assert.strictEqual(outcome, 'The stream did not reach "not-configured" within 30000 ms (it is "connected")');
  });
});
