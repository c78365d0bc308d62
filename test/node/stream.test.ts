import assert from 'assert';
import * as path from 'path';
import { spawn } from 'child_process';
import * as mqtt from 'mqtt';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import * as core from '../../src/node';
import { parseArgs } from '../../src/simulator/cli';
import { sleep, until } from '../support/wait';
import type { StreamEvent } from '../../src/core/stream/message';
import type { TokenSet } from '../../src/node';
import { SOC, PORT, HV_STATUS as HV, LAT, LON } from '../../src/simulator/descriptor-names';

const { createAccount, tokenSetFromResponse, subscribeStream, streamConnections, normalizeStreamMessage, StreamError, ReadingDeduplicator } = core;

const FAST = { refreshMarginMs: 1000, backoffMinMs: 50, backoffMaxMs: 400, notConfiguredRetryMs: 0 };

// Core's refresh retries a login-service hiccup a few times itself; here without waiting between the tries.
const noWait = () => new Promise<void>((resolve) => setImmediate(resolve));

function accountFor(sim, { scope, tokens }: { scope?: string; tokens?: TokenSet } = {}) {
  const rotations: TokenSet[] = [];
  const account = createAccount({
    clientId: 'test-client-id',
    apiBaseUrl: sim.apiBaseUrl,
    authBaseUrl: sim.authBaseUrl,
    tokens: tokens ?? tokenSetFromResponse(sim.issueTokens({ clientId: 'test-client-id', scope }), Date.now()),
    onTokens: (t) => {
      rotations.push(t);
    },
    sleep: noWait,
  });
  return { ...account, rotations };
}

// The waits themselves (backoff, jitter, its reset, renewal times) are read exactly on a fake clock in
// test/core/stream/backoff.test.ts; here the stream meets the simulated broker and login service, with short waits.

const refreshes = (sim) => sim.requests.filter((r) => r.grantType === 'refresh_token');
const refusals = (sim) => sim.stream.log.filter((l) => l.event === 'refused');

/** A subscriber that records everything it is told. */
function record(tokens, sim, opts = {}) {
  const rec: { events: any[]; messages: any[]; states: any[]; errors: any[]; sub?: ReturnType<typeof subscribeStream> } = {
    events: [],
    messages: [],
    states: [],
    errors: [],
  };
  rec.sub = subscribeStream(tokens, {
    url: sim.streamUrl,
    ...FAST,
    ...opts,
    onEvent: (e) => rec.events.push(e),
    onMessage: (m) => rec.messages.push(m),
    onState: (s) => rec.states.push(s),
    onError: (e) => rec.errors.push(e),
  });
  return rec;
}

describe('CarData stream: core client against the simulated broker', function () {
  this.timeout(20000);
  let sim;
  const open = [];
  const track = (rec) => {
    open.push(rec.sub);
    return rec;
  };

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    if (sim) await sim.close();
    sim = undefined;
    assert.deepStrictEqual(streamConnections(), [], 'every connection is closed after its subscribers left');
  });

  it('turns one message with three descriptors into three normalised events', async () => {
    sim = await startSimulator({ stream: true });
    const { tokens } = accountFor(sim);
    const rec = track(record(tokens, sim));
    await rec.sub.waitFor('connected', 5000);
    const sent = await sim.stream.publish(SIM_VINS.bev, { [SOC]: 63.5, [PORT]: 'CONNECTED', 'vehicle.body.trunk.isLocked': true });
    await until(() => rec.events.length >= 3, 3000, 'three events');
    assert.strictEqual(rec.events.length, 3);
    assert.strictEqual(rec.messages.length, 1);
    const bySoc = rec.events.find((e) => e.descriptor === SOC);
    assert.deepStrictEqual(
      { vin: bySoc.vin, value: bySoc.value, numericValue: bySoc.numericValue, unit: bySoc.unit, topic: bySoc.topic },
      { vin: SIM_VINS.bev, value: 63.5, numericValue: 63.5, unit: '%', topic: `${sim.gcid}/${SIM_VINS.bev}` },
    );
    assert.strictEqual(bySoc.timestamp, sent.data[SOC].timestamp);
    const port = rec.events.find((e) => e.descriptor === PORT);
    assert.strictEqual(port.value, 'CONNECTED');
    assert.strictEqual(port.numericValue, undefined);
    assert.strictEqual(port.unit, null);
    assert.strictEqual(rec.events.find((e) => e.descriptor === 'vehicle.body.trunk.isLocked').value, true);
    // The whole message is there too, raw as BMW sent it.
    const m = rec.messages[0];
    assert.strictEqual(m.entityId, sent.entityId);
    assert.deepStrictEqual(m.raw, JSON.parse(JSON.stringify(sent)));
    assert.deepStrictEqual(Object.keys(m.data).sort(), [PORT, SOC, 'vehicle.body.trunk.isLocked'].sort());
  });

  it('normalises epoch timestamps, numeric strings and data without units', () => {
    const events = normalizeStreamMessage(
      { vin: SIM_VINS.phev, timestamp: 1767225600000, data: { a: { value: '48.16402', timestamp: 1767225601 }, b: { value: 'OPEN' }, c: null } },
      'g/WBA',
    );
    assert.strictEqual(events.length, 3);
    assert.strictEqual(events[0].numericValue, 48.16402);
    assert.strictEqual(events[0].timestamp, '2026-01-01T00:00:01.000Z');
    assert.strictEqual(events[1].timestamp, '2026-01-01T00:00:00.000Z', 'falls back to the message time');
    assert.strictEqual(events[2].value, null);
  });

  it('deduplicate: a reading BMW sends again (same VIN, descriptor, value, timestamp) reaches onEvent once', async () => {
    sim = await startSimulator({ stream: true });
    const { tokens } = accountFor(sim);
    const once = track(record(tokens, sim, { deduplicate: true }));
    const all = track(record(tokens, sim));
    await once.sub.waitFor('connected', 5000);
    const at = '2026-11-26T14:03:12.000Z';
    const later = '2026-11-26T14:04:12.000Z';
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: { value: 64, timestamp: at }, [PORT]: { value: 'CONNECTED', timestamp: at } });
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: { value: 64, timestamp: at }, [PORT]: { value: 'CONNECTED', timestamp: at } });
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: { value: 64, timestamp: later }, [PORT]: { value: 'CONNECTED', timestamp: at } });
    await sim.stream.publish(SIM_VINS.phev, { [SOC]: { value: 64, timestamp: at } });
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: { value: '64', timestamp: later } });
    await until(() => all.events.length === 8, 3000, 'every event for the subscriber without deduplication');
    await sleep(100);
    assert.deepStrictEqual(
      once.events.map((e) => [e.vin, e.descriptor, e.value, e.timestamp]),
      [
        [SIM_VINS.bev, SOC, 64, at],
        [SIM_VINS.bev, PORT, 'CONNECTED', at],
        [SIM_VINS.bev, SOC, 64, later],
        [SIM_VINS.phev, SOC, 64, at],
        [SIM_VINS.bev, SOC, '64', later],
      ],
    );
    assert.strictEqual(once.messages.length, 5, 'onMessage sees every message');
  });

  it('the deduplicator keeps one reading per VIN and descriptor, for a bounded number of them', () => {
    const d = new ReadingDeduplicator(3);
    const ev = (vin, descriptor, value, timestamp = 't1') => ({ vin, descriptor, value, timestamp }) as StreamEvent;
    assert.deepStrictEqual(
      [ev('A', 'x', 1), ev('A', 'x', 1), ev('A', 'x', 2), ev('A', 'x', 1)].map((e) => d.pass(e)),
      [true, false, true, true],
    );
    assert.strictEqual(d.pass(ev('A', 'x', null, null)), true, 'no timestamp: cannot tell a repeat');
    assert.strictEqual(d.pass(ev('A', 'x', null, null)), true);
    for (let i = 0; i < 1000; i++) d.pass(ev('A', `d${i}`, i));
    assert.strictEqual(d.size, 3, 'bounded');
    assert.strictEqual(d.pass(ev('A', 'd999', 999)), false, 'the newest are remembered');
    assert.strictEqual(d.pass(ev('A', 'd0', 0)), true, 'the oldest were forgotten');
  });

  it('filters by VIN and descriptor, and subscribes only the topics needed', async () => {
    sim = await startSimulator({ stream: true });
    const { tokens } = accountFor(sim);
    const a = track(record(tokens, sim, { vins: [SIM_VINS.bev], descriptors: [SOC, 'vehicle.cabin.door.*'] }));
    await a.sub.waitFor('connected', 5000);
    assert.deepStrictEqual(a.sub.status.topics, [`${sim.gcid}/${SIM_VINS.bev}`], 'one VIN wanted: one VIN topic');

    await sim.stream.publish(SIM_VINS.phev, { [SOC]: 40 });
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 71, [PORT]: 'CONNECTED', 'vehicle.cabin.door.row1.driver.isOpen': true });
    await until(() => a.events.length >= 2, 3000, 'filtered events');
    await sleep(100);
    assert.deepStrictEqual(
      a.events.map((e) => [e.vin, e.descriptor]),
      [
        [SIM_VINS.bev, SOC],
        [SIM_VINS.bev, 'vehicle.cabin.door.row1.driver.isOpen'],
      ],
    );
    assert.strictEqual(a.messages.length, 1);
    assert.deepStrictEqual(Object.keys(a.messages[0].data), [SOC, 'vehicle.cabin.door.row1.driver.isOpen']);
    assert.strictEqual(Object.keys(a.messages[0].raw.data).length, 3, 'raw stays unfiltered');

    // A second subscriber wanting every VIN widens the shared subscription to <gcid>/+.
    const b = track(record(tokens, sim));
    await until(() => a.sub.status.topics.length === 1 && a.sub.status.topics[0] === `${sim.gcid}/+`, 3000, 'wildcard topic');
    await until(() => sim.stream.log.some((l) => l.event === 'unsubscribe' && l.topic === `${sim.gcid}/${SIM_VINS.bev}`), 3000, 'VIN topic dropped');
    await sim.stream.publish(SIM_VINS.phev, { [SOC]: 41 });
    await until(() => b.events.length === 1, 3000, 'event for b');
    await sleep(100);
    assert.strictEqual(a.events.length, 2, 'the PHEV is still filtered out for a');
    assert.strictEqual(sim.stream.connections(), 1);

    // b leaves: back to the single VIN topic.
    await b.sub.close();
    await until(() => a.sub.status.topics[0] === `${sim.gcid}/${SIM_VINS.bev}`, 3000, 'back to the VIN topic');
    assert.throws(
      () => subscribeStream(tokens, { url: sim.streamUrl, vins: ['wba123'] }),
      (e: any) => e.kind === 'input' && e.parameter === 'vin',
    );
  });

  it('shares one broker connection between two subscribers of one account', async () => {
    sim = await startSimulator({ stream: true });
    const acc1 = accountFor(sim);
    const a = track(record(acc1.tokens, sim));
    const b = track(record(acc1.tokens, sim, { vins: [SIM_VINS.phev] }));
    await a.sub.waitFor('connected', 5000);
    await b.sub.waitFor('connected', 5000);
    // A second account object for the same BMW account (another node) joins the same connection.
    const acc2 = accountFor(sim);
    const c = track(record(acc2.tokens, sim, { descriptors: [SOC] }));
    await c.sub.waitFor('connected', 5000);
    assert.strictEqual(sim.stream.connections(), 1);
    assert.strictEqual(sim.stream.log.filter((l) => l.event === 'connect').length, 1);
    assert.strictEqual(streamConnections().length, 1);
    assert.strictEqual(streamConnections()[0].subscribers, 3);
    await sim.stream.publish(SIM_VINS.phev, { [SOC]: 30, [PORT]: 'DISCONNECTED' });
    await until(() => a.events.length === 2 && b.events.length === 2 && c.events.length === 1, 3000, 'events for all three');
  });

  it('renews the login across id_token expiries by itself and loses nothing published while connected', async function () {
    this.timeout(30000);
    sim = await startSimulator({ stream: true, accessTokenTtlSec: 2 });
    const { tokens, rotations } = accountFor(sim);
    const rec = track(record(tokens, sim, { refreshMarginMs: 700 }));
    await rec.sub.waitFor('connected', 5000);

    const whileConnected = [];
    const all = [];
    let n = 0;
    const end = Date.now() + 5500;
    while (Date.now() < end) {
      const connected = rec.sub.status.state === 'connected';
      const soc = ++n;
      await sim.stream.publish(SIM_VINS.bev, { [SOC]: soc });
      all.push(soc);
      if (connected) whileConnected.push(soc);
      await sleep(25);
    }
    await until(() => rec.sub.status.state === 'connected', 5000, 'connected at the end');
    const afterLast = ++n;
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: afterLast });
    await until(() => rec.events.some((e) => e.value === afterLast), 3000, 'the message after the last renewal');

    const got = new Set(rec.events.map((e) => e.value));
    const lost = whileConnected.filter((v) => !got.has(v));
    assert.deepStrictEqual(lost, [], 'nothing published while connected is lost');
    assert.ok(rotations.length >= 3, `the token manager refreshed (${rotations.length} rotations)`);
    const connects = sim.stream.log.filter((l) => l.event === 'connect').length;
    assert.ok(connects >= 4, `reconnected with each new id_token (${connects} connects)`);
    assert.strictEqual(sim.stream.log.filter((l) => l.event === 'expired').length, 0, 'renewed before the broker had to close it');
    assert.ok(rec.states.some((s) => s.state === 'reconnecting' && /renewing/.test(s.reason)));
    assert.strictEqual(sim.stream.connections(), 1);
    assert.ok(got.size >= all.length * 0.8, `most messages arrive (${got.size}/${all.length})`);
  });

  it('after the broker closes on an expired id_token, refreshes once and reconnects', async () => {
    sim = await startSimulator({ stream: true });
    const { tokens, rotations } = accountFor(sim);
    const rec = track(record(tokens, sim));
    await rec.sub.waitFor('connected', 5000);
    sim.expireIdTokens();
    await until(() => sim.stream.log.some((l) => l.event === 'expired'), 3000, 'broker closes the expired connection');
    await until(() => rec.states.filter((s) => s.state === 'connected').length >= 2, 5000, 'connected again');
    assert.strictEqual(rotations.length, 1, 'one refresh');
    const refused = sim.stream.log.filter((l) => l.event === 'refused');
    assert.deepStrictEqual(
      refused.map((r) => r.returnCode),
      [5],
      'the old id_token was refused as not authorized, once',
    );
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 77 });
    await until(() => rec.events.some((e) => e.value === 77), 3000, 'message after reconnect');
  });

  it('a stale password gets one refresh and connects', async () => {
    sim = await startSimulator({ stream: true });
    const good = tokenSetFromResponse(sim.issueTokens({ clientId: 'test-client-id' }), Date.now());
    const { tokens, rotations } = accountFor(sim, { tokens: { ...good, idToken: 'not-a-valid-id-token' } });
    const rec = track(record(tokens, sim));
    await rec.sub.waitFor('connected', 5000);
    assert.strictEqual(rotations.length, 1);
    assert.deepStrictEqual(
      sim.stream.log.filter((l) => l.event === 'refused').map((r) => r.returnCode),
      [4],
    );
  });

  it('wrong credentials end in "unauthorized" with a clear error, without hammering the login', async () => {
    sim = await startSimulator({ stream: true });
    const good = tokenSetFromResponse(sim.issueTokens({ clientId: 'test-client-id' }), Date.now());
    const { tokens } = accountFor(sim, { tokens: { ...good, idToken: 'wrong', refreshToken: 'wrong-refresh-token' } });
    const rec = track(record(tokens, sim));
    const st = await rec.sub.waitFor('unauthorized', 5000);
    assert.ok(st.error instanceof StreamError);
    assert.strictEqual(st.error.code, 'refresh-failed');
    assert.strictEqual(st.error.kind, 'auth');
    assert.match(st.error.message, /authorize/i);
    assert.doesNotMatch(JSON.stringify(rec.states), /wrong-refresh-token|"wrong"/, 'no secret in a status');
    const refusedBefore = sim.stream.log.filter((l) => l.event === 'refused').length;
    await sleep(800);
    assert.strictEqual(sim.stream.log.filter((l) => l.event === 'refused').length, refusedBefore, 'no retry loop after the refresh token was refused');
    assert.strictEqual(sim.restCalls().length, 0);
    const refreshes = sim.requests.filter((r) => r.grantType === 'refresh_token').length;
    assert.strictEqual(refreshes, 1);
  });

  it('a login the broker keeps refusing (no streaming scope) is retried, each time with a renewed login', async () => {
    sim = await startSimulator({ stream: true });
    const { tokens, rotations } = accountFor(sim, { scope: 'authenticate_user openid cardata:api:read' });
    const rec = track(record(tokens, sim, { backoffMinMs: 40, backoffMaxMs: 160 }));
    await until(() => refusals(sim).length >= 6, 5000, 'six refusals');
    assert.ok(!rec.states.some((s) => s.state === 'unauthorized'), 'never stops: the broker refusing a login is not the end of the login');
    const st = rec.sub.status;
    assert.strictEqual(st.state, 'reconnecting');
    assert.match(st.reason, /BMW refused the stream login \(not authorized\)/);
    assert.strictEqual(st.error.code, 'unauthorized');
    assert.strictEqual(st.error.reasonCode, 5);
    assert.strictEqual(st.error.retryable, true);
    assert.match(st.error.hint, /CarData Stream/);
    // A refused id_token is never offered again: every new try starts with a refresh, however long it is valid.
    assert.ok(rotations.length >= refusals(sim).length - 1, `${rotations.length} refreshes for ${refusals(sim).length} refusals`);
  });

  it('"not configured" (SUBACK 0x80) gives a clear error and no reconnect loop; retry() after fixing it connects', async () => {
    sim = await startSimulator({ stream: { configured: false } });
    const { tokens, rotations } = accountFor(sim);
    const rec = track(record(tokens, sim));
    const st = await rec.sub.waitFor('not-configured', 5000);
    assert.strictEqual(st.error.code, 'not-configured');
    assert.strictEqual(st.error.reasonCode, 0x80);
    assert.match(st.error.hint, /Configure data stream/);
    await sleep(600);
    // A 0x80 may also be a refused login (seen at night): it is believed once it comes again with a renewed login.
    assert.strictEqual(sim.stream.log.filter((l) => l.event === 'subscribe-refused').length, 2, 'asked twice');
    assert.strictEqual(sim.stream.log.filter((l) => l.event === 'connect').length, 2, 'connected twice');
    assert.strictEqual(rotations.length, 1, 'the second time with a renewed login');
    assert.strictEqual(sim.stream.connections(), 0, 'and let go of the connection');

    sim.setStreamConfigured(true);
    rec.sub.retry();
    await rec.sub.waitFor('connected', 5000);
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 50 });
    await until(() => rec.events.length === 1, 3000, 'event after configuring');
  });

  it('recovers from a dropped connection (kick)', async () => {
    sim = await startSimulator({ stream: true });
    const { tokens } = accountFor(sim);
    const rec = track(record(tokens, sim));
    await rec.sub.waitFor('connected', 5000);
    assert.strictEqual(sim.stream.kick(), 1);
    await rec.sub.waitFor('reconnecting', 3000);
    await rec.sub.waitFor('connected', 5000);
    assert.strictEqual(sim.stream.connections(), 1);
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 66 });
    await until(() => rec.events.some((e) => e.value === 66), 3000, 'message after the kick');
  });

  it('says another client seems to take the stream over when the broker keeps closing it soon after each connect', async () => {
    sim = await startSimulator({ stream: true });
    const { tokens } = accountFor(sim);
    const rec = track(record(tokens, sim));
    const reasons = [];
    for (let i = 0; i < 3; i++) {
      await rec.sub.waitFor('connected', 5000);
      // As BMW's broker does when another client logs in with the same account.
      assert.strictEqual(sim.stream.kick(), 1);
      await rec.sub.waitFor('reconnecting', 3000);
      reasons.push(rec.sub.status.reason);
    }
    // One or two drops are a drop; the third in a row soon after connecting names the likely cause.
    assert.deepStrictEqual(reasons.slice(0, 2), ['the connection was closed by the broker', 'the connection was closed by the broker']);
    assert.match(reasons[2], /another client of this BMW account \(Home Assistant, evcc, a second bridge\) seems to take the stream over/);
    assert.match(rec.sub.status.error.hint, /one stream connection per account/);
    assert.strictEqual(sim.stream.log.filter((l) => l.event === 'kicked').length, 3);
    // It keeps trying, and connects again once the other client lets go.
    await rec.sub.waitFor('connected', 5000);
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 71 });
    await until(() => rec.events.some((e) => e.value === 71), 3000, 'message after the takeovers');
  });

  it('keeps going after a message that is not JSON', async () => {
    sim = await startSimulator({ stream: true });
    const { tokens } = accountFor(sim);
    const rec = track(record(tokens, sim));
    await rec.sub.waitFor('connected', 5000);
    await sim.stream.publishRaw(SIM_VINS.bev, 'not json');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 12 });
    await until(() => rec.events.length === 1, 3000, 'event');
    assert.strictEqual(rec.errors.length, 1);
    assert.strictEqual(rec.sub.status.state, 'connected');
  });

  it('closes the connection when the last subscriber leaves', async () => {
    sim = await startSimulator({ stream: true });
    const { tokens } = accountFor(sim);
    const a = record(tokens, sim);
    const b = record(tokens, sim);
    await a.sub.waitFor('connected', 5000);
    await a.sub.close();
    assert.strictEqual(a.sub.status.state, 'closed');
    await sleep(100);
    assert.strictEqual(sim.stream.connections(), 1, 'b still holds it');
    await b.sub.close();
    await until(() => sim.stream.connections() === 0, 2000, 'connection closed');
    assert.deepStrictEqual(streamConnections(), []);
    assert.ok(sim.stream.log.some((l) => l.event === 'disconnect'));
    // A new subscriber after that gets a new connection.
    const c = track(record(tokens, sim));
    await c.sub.waitFor('connected', 5000);
    assert.strictEqual(sim.stream.connections(), 1);
  });

  it('an account without a login reports "unauthorized" and opens nothing', async () => {
    sim = await startSimulator({ stream: true });
    const account = createAccount({ clientId: 'x', authBaseUrl: sim.authBaseUrl });
    const states = [];
    const sub = subscribeStream(account.tokens, { url: sim.streamUrl, onState: (s) => states.push(s) });
    assert.strictEqual(sub.status.state, 'unauthorized');
    assert.strictEqual(states[0].error.code, 'no-login');
    assert.strictEqual(sim.stream.connections(), 0);
    await sub.close();
  });

  it('nothing keeps the process alive after the last subscriber left', async () => {
    const script = `
      const { startSimulator, SIM_VINS } = require(${JSON.stringify(path.resolve(__dirname, '../../dist/src/simulator'))});
      const core = require(${JSON.stringify(path.resolve(__dirname, '../../dist/src/node'))});
      (async () => {
        const sim = await startSimulator({ stream: true });
        const account = core.createAccount({ clientId: 'c', authBaseUrl: sim.authBaseUrl, tokens: core.tokenSetFromResponse(sim.issueTokens(), Date.now()) });
        let got = 0;
        const sub = core.subscribeStream(account.tokens, { url: sim.streamUrl, onEvent: () => got++ });
        await sub.waitFor('connected', 5000);
        await sim.stream.publish(SIM_VINS.bev, { a: 1 });
        while (got === 0) await new Promise((r) => setTimeout(r, 10));
        await sub.close();
        await sim.close();
        process.stdout.write('closed\\n');
      })();`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise((resolve) => {
      const t = setTimeout(() => {
        child.kill();
        resolve('still running');
      }, 8000);
      child.on('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    assert.strictEqual(code, 0, out);
    assert.match(out, /closed/);
  });
});

describe('CarData stream: transient failures never stop it, a dead login does', function () {
  this.timeout(20000);
  let sim;
  const open = [];
  const track = (rec) => {
    open.push(rec.sub);
    return rec;
  };
  const TIMING = { backoffMinMs: 40, backoffMaxMs: 160, refreshMarginMs: 1000, notConfiguredRetryMs: 0 };

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    if (sim) await sim.close();
    sim = undefined;
    assert.deepStrictEqual(streamConnections(), []);
  });

  async function receives(rec, value) {
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: value });
    await until(() => rec.events.some((e) => e.value === value), 3000, `the reading ${value}`);
  }
  /** Connection attempts that failed with a reason matching `pattern`: each one is told as "reconnecting". */
  const failedAttempts = (rec, pattern) =>
    rec.states.filter((s) => s.state === 'reconnecting' && s.error?.code === 'connection' && pattern.test(s.reason ?? '')).length;
  const neverStopped = (rec) =>
    assert.deepStrictEqual(
      rec.states.filter((s) => s.state === 'unauthorized' || s.state === 'not-configured').map((s) => s.reason),
      [],
    );

  it('a valid id_token refused at night while the login service answers 500: keeps trying, reconnects and receives data', async () => {
    sim = await startSimulator({ stream: true });
    const { tokens } = accountFor(sim);
    const rec = track(record(tokens, sim, TIMING));
    await rec.sub.waitFor('connected', 5000);
    await receives(rec, 50);

    // The id_token has most of its hour left. The broker refuses it (and the next two logins), and the login
    // service answers 500 to the first six refresh requests (core tries four times per refresh).
    sim.stream.refuseNextLogins(3);
    sim.faults.failNextRefresh(6);
    sim.stream.kick();
    await until(() => rec.states.filter((s) => s.state === 'connected').length >= 2, 8000, 'connected again');
    await receives(rec, 51);

    neverStopped(rec);
    assert.strictEqual(refusals(sim).length, 3);
    const failed = refreshes(sim).filter((r) => r.status === 500).length;
    assert.strictEqual(failed, 6, 'every 500 was met');
    assert.ok(
      rec.states.some((s) => s.state === 'reconnecting' && /login could not be renewed.*unavailable/.test(s.reason)),
      'the 500s show as the reason',
    );
    // Three refused id_tokens, none offered twice: three successful refreshes after the failed ones.
    assert.strictEqual(refreshes(sim).filter((r) => r.status === 200).length, 3);
  });

  it('a SUBACK 0x80 right after an accepted login drops the client and tries again with a renewed login', async () => {
    sim = await startSimulator({ stream: true });
    const { tokens, rotations } = accountFor(sim);
    // Also on the very first connection: one 0x80 is not yet "not configured".
    sim.stream.refuseNextSubscriptions(1);
    const rec = track(record(tokens, sim, TIMING));
    await rec.sub.waitFor('connected', 5000);
    assert.strictEqual(rotations.length, 1);
    await receives(rec, 60);

    sim.stream.refuseNextSubscriptions(2);
    sim.stream.kick();
    await until(() => rec.states.filter((s) => s.state === 'connected').length >= 2, 5000, 'connected again');
    await receives(rec, 61);
    neverStopped(rec);
    assert.strictEqual(sim.stream.log.filter((l) => l.event === 'subscribe-refused').length, 3);
    assert.strictEqual(rotations.length, 3, 'a renewed login after each 0x80');
    assert.ok(rec.states.some((s) => s.state === 'reconnecting' && s.error?.reasonCode === 0x80));
    assert.strictEqual(sim.stream.connections(), 1, 'the refused clients are gone');
  });

  it('the hourly renewal meets login 500s: stays connected, retries, renews', async function () {
    sim = await startSimulator({ stream: true, accessTokenTtlSec: 3 });
    const { tokens, rotations } = accountFor(sim);
    const rec = track(record(tokens, sim, { ...TIMING, backoffMinMs: 60, backoffMaxMs: 240, refreshMarginMs: 1500 }));
    await rec.sub.waitFor('connected', 5000);
    // Three renewal refreshes fail (four requests each), the fourth works.
    sim.faults.failNextRefresh(12);
    await until(() => rotations.length >= 1, 8000, 'renewed');
    await until(() => rec.sub.status.state === 'connected', 5000, 'connected with the renewed login');
    await receives(rec, 70);
    neverStopped(rec);
    assert.strictEqual(refreshes(sim).filter((r) => r.status === 500).length, 12);
    assert.strictEqual(sim.stream.log.filter((l) => l.event === 'expired').length, 0, 'renewed before the broker closed it');
    assert.ok(!rec.states.some((s) => s.state === 'reconnecting' && /could not/.test(s.reason ?? '')), 'data kept flowing while the renewal was retried');
  });

  it('the hourly renewal meets a 429, a firewall page, a 408, a maintenance page, an empty 400, a bare 401: never stops, renews', async function () {
    sim = await startSimulator({ stream: true, accessTokenTtlSec: 3 });
    const { tokens, rotations } = accountFor(sim);
    const rec = track(record(tokens, sim, { ...TIMING, backoffMinMs: 60, backoffMaxMs: 240, refreshMarginMs: 1500 }));
    await rec.sub.waitFor('connected', 5000);
    const token = { path: /oauth\/token/ };
    const hiccups = [
      { status: 429, headers: { 'Retry-After': '0' }, body: 'slow down', contentType: 'text/plain' },
      { status: 403, body: '<html><body>Request blocked</body></html>', contentType: 'text/html' },
      { status: 408, body: '', contentType: 'text/plain' },
      { status: 404, body: '<html>Down for maintenance</html>', contentType: 'text/html' },
      { status: 400, body: '', contentType: 'application/json' },
      { status: 401, body: '{"message":"Unauthorized"}', contentType: 'application/json' },
    ];
    for (const answer of hiccups) sim.faults.answerNext(1, answer, token);
    await until(() => rotations.length >= 1, 8000, 'renewed');
    await until(() => rec.sub.status.state === 'connected', 5000, 'connected with the renewed login');
    await receives(rec, 75);
    neverStopped(rec);
    assert.deepStrictEqual(
      sim.requests.filter((r) => r.path === '/gcdm/oauth/token' && r.status !== 200).map((r) => r.status),
      hiccups.map((a) => a.status),
      'every answer was met, and the refresh was tried again after each',
    );
  });

  it('a reconnect while the login service is down uses the id_token it still has', async () => {
    sim = await startSimulator({ stream: true, accessTokenTtlSec: 20 });
    const { tokens, rotations } = accountFor(sim);
    // Inside the renewal margin: a refresh is due, but the id_token is good for a while yet.
    const rec = track(record(tokens, sim, { ...TIMING, refreshMarginMs: 25_000 }));
    sim.faults.dropNextRefresh(1000);
    await rec.sub.waitFor('connected', 5000);
    sim.stream.kick();
    await until(() => rec.states.filter((s) => s.state === 'connected').length >= 2, 5000, 'connected again');
    await receives(rec, 80);
    assert.strictEqual(rotations.length, 0);
    assert.ok(
      refreshes(sim).length >= 8,
      `the refresh was tried (${refreshes(sim).length} times) ${JSON.stringify(rec.states.map((s) => [s.state, s.reason]))}`,
    );
    neverStopped(rec);
  });

  it('broker down: keeps retrying, and reconnects once it is back', async () => {
    sim = await startSimulator({ stream: true });
    const { tokens } = accountFor(sim);
    const rec = track(record(tokens, sim, TIMING));
    await rec.sub.waitFor('connected', 5000);
    await sim.stream.pause();
    await until(() => failedAttempts(rec, /ECONNREFUSED/) >= 4, 5000, 'four failed attempts');
    assert.strictEqual(rec.sub.status.state, 'reconnecting');
    await sim.stream.resume();
    await rec.sub.waitFor('connected', 5000);
    await receives(rec, 90);
    neverStopped(rec);
  });

  it('a broker name that does not resolve (DNS) is retried, not given up', async () => {
    sim = await startSimulator({ stream: true });
    const { tokens } = accountFor(sim);
    const rec = track(record(tokens, { streamUrl: 'mqtt://cardata-stream.invalid:1883' }, TIMING));
    await until(() => failedAttempts(rec, /ENOTFOUND|EAI_AGAIN/) >= 4, 8000, 'four failed attempts');
    assert.strictEqual(rec.sub.status.state, 'reconnecting');
    neverStopped(rec);
  });

  it('a refresh token BMW refuses (invalid_grant) at the renewal stops the stream with "authorize again"', async () => {
    sim = await startSimulator({ stream: true, accessTokenTtlSec: 3 });
    const good = tokenSetFromResponse(sim.issueTokens({ clientId: 'test-client-id' }), Date.now());
    const { tokens } = accountFor(sim, { tokens: { ...good, refreshToken: 'revoked-refresh-token' } });
    const rec = track(record(tokens, sim, { ...TIMING, refreshMarginMs: 1500 }));
    await rec.sub.waitFor('connected', 5000);
    const st = await rec.sub.waitFor('unauthorized', 5000);
    assert.strictEqual(st.error.code, 'refresh-failed');
    assert.strictEqual(st.error.kind, 'auth');
    assert.strictEqual(st.error.retryable, false);
    assert.match(st.reason, /authorize the account again/);
    assert.match(st.error.hint, /device login again/);
    assert.strictEqual(st.error.cause.oauthError, 'invalid_grant');
    // Stopped at once: the connection is closed now, not when the broker ends it at the id_token's expiry.
    await until(() => sim.stream.connections() === 0, 500, 'the connection is closed');
    const seen = [sim.stream.log.length, refreshes(sim).length];
    await sleep(2500);
    assert.deepStrictEqual([sim.stream.log.length, refreshes(sim).length], seen, 'nothing more is tried');
    const after = rec.states.slice(rec.states.findIndex((s) => s.state === 'unauthorized'));
    assert.deepStrictEqual([...new Set(after.map((s) => s.state))], ['unauthorized'], 'and it stays stopped');
    assert.doesNotMatch(JSON.stringify(rec.states), /revoked-refresh-token/);
  });

  it('after refused logins and login 500s, a refresh token BMW refuses stops the stream', async () => {
    sim = await startSimulator({ stream: true });
    const good = tokenSetFromResponse(sim.issueTokens({ clientId: 'test-client-id' }), Date.now());
    const { tokens } = accountFor(sim, { tokens: { ...good, refreshToken: 'revoked-refresh-token' } });
    const rec = track(record(tokens, sim, TIMING));
    await rec.sub.waitFor('connected', 5000);
    sim.stream.refuseNextLogins(1);
    sim.faults.failNextRefresh(8);
    sim.stream.kick();
    const st = await rec.sub.waitFor('unauthorized', 8000);
    assert.strictEqual(st.error.code, 'refresh-failed');
    assert.match(st.reason, /authorize the account again/);
    assert.strictEqual(refreshes(sim).filter((r) => r.status === 500).length, 8, 'the 500s were retried');
    assert.strictEqual(refreshes(sim).at(-1).oauthError, 'invalid_grant');
    assert.strictEqual(sim.stream.connections(), 0);
    assert.ok(rec.states.some((s) => s.state === 'reconnecting' && /unavailable/.test(s.reason)));
  });
});

describe('CarData stream: the simulated broker keeps BMW rules', function () {
  this.timeout(15000);
  let sim;
  const clients = [];
  beforeEach(async () => {
    sim = await startSimulator({ stream: true });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await sim.close();
  });

  function raw(username, password, clientId = `raw-${clients.length}`) {
    const c = mqtt.connect(sim.streamUrl, { protocolVersion: 4, username, password, clientId, reconnectPeriod: 0, clean: true });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  }
  const connected = (c) =>
    new Promise((resolve, reject) => {
      c.once('connect', resolve);
      c.once('error', reject);
    });
  const closed = (c) => new Promise<void>((resolve) => (c.connected || c.reconnecting || !c.disconnected ? c.once('close', resolve) : resolve()));

  it('refuses a wrong password (4), an expired id_token (5) and another account (5)', async () => {
    const t = sim.issueTokens();
    let c = raw(t.gcid, 'nope');
    await assert.rejects(connected(c), (e: any) => e.code === 4);
    c = raw('someone-else', t.id_token);
    await assert.rejects(connected(c), (e: any) => e.code === 5);
    sim.expireIdTokens();
    c = raw(t.gcid, t.id_token);
    await assert.rejects(connected(c), (e: any) => e.code === 5);
  });

  it('drops the whole connection on a foreign topic, allows <gcid>/+ and <gcid>/<VIN>', async () => {
    const t = sim.issueTokens();
    const c = raw(t.gcid, t.id_token);
    await connected(c);
    const granted = await c.subscribeAsync([`${t.gcid}/+`, `${t.gcid}/${SIM_VINS.phev}`], { qos: 1 });
    assert.deepStrictEqual(
      granted.map((g) => g.qos),
      [1, 1],
    );
    const gone = closed(c);
    c.subscribe('other-gcid/+', { qos: 1 }, () => undefined);
    await gone;
    assert.ok(sim.stream.log.some((l) => l.event === 'topic-refused' && l.topic === 'other-gcid/+'));
    assert.strictEqual(sim.stream.connections(), 0);
  });

  it('allows one connection per account: a second one drops the first', async () => {
    const t = sim.issueTokens();
    const first = raw(t.gcid, t.id_token, 'first');
    await connected(first);
    const gone = closed(first);
    const second = raw(t.gcid, t.id_token, 'second');
    await connected(second);
    await gone;
    assert.strictEqual(sim.stream.connections(), 1);
    assert.ok(sim.stream.log.some((l) => l.event === 'replaced' && l.clientId === 'first'));
  });

  it('closes a connection when its id_token expires', async () => {
    const t = sim.issueTokens();
    const c = raw(t.gcid, t.id_token);
    await connected(c);
    const gone = closed(c);
    sim.expireIdTokens();
    await gone;
    assert.ok(sim.stream.log.some((l) => l.event === 'expired'));
  });

  it('refuses SUBSCRIBE with 0x80 when no stream is configured, and any publication', async () => {
    const t = sim.issueTokens();
    sim.setStreamConfigured(false);
    const c = raw(t.gcid, t.id_token);
    await connected(c);
    await assert.rejects(c.subscribeAsync(`${t.gcid}/+`, { qos: 1 }), (e: any) => e.packet.granted[0] === 128);
    assert.ok(c.connected, 'the connection stays');
    const gone = closed(c);
    c.publish(`${t.gcid}/${SIM_VINS.bev}`, '{}', { qos: 0 });
    await gone;
  });

  it('faults: refuses valid logins N times, refuses subscriptions with 0x80 N times, goes down and comes back', async () => {
    const t = sim.issueTokens();
    sim.stream.refuseNextLogins(2);
    sim.stream.refuseNextLogins(1, 4);
    for (const code of [5, 5, 4]) await assert.rejects(connected(raw(t.gcid, t.id_token)), (e: any) => e.code === code);
    const c = raw(t.gcid, t.id_token);
    await connected(c);
    sim.stream.refuseNextSubscriptions(1);
    await assert.rejects(c.subscribeAsync(`${t.gcid}/+`, { qos: 1 }), (e: any) => e.packet.granted[0] === 128);
    assert.deepStrictEqual(
      (await c.subscribeAsync(`${t.gcid}/+`, { qos: 1 })).map((g) => g.qos),
      [1],
      'the stream is configured',
    );
    assert.deepStrictEqual(
      sim.stream.log.filter((l) => l.event === 'refused').map((l) => l.returnCode),
      [5, 5, 4],
    );

    const gone = closed(c);
    await sim.stream.pause();
    await gone;
    assert.strictEqual(sim.stream.paused, true);
    await assert.rejects(connected(raw(t.gcid, t.id_token)), (e: any) => e.code === 'ECONNREFUSED');
    await sim.stream.resume();
    await connected(raw(t.gcid, t.id_token));
    assert.strictEqual(sim.stream.connections(), 1);
  });

  it('plays scenarios in BMW message format: charging, doors, trip', async () => {
    const t = sim.issueTokens();
    const c = raw(t.gcid, t.id_token);
    await connected(c);
    await c.subscribeAsync(`${t.gcid}/+`, { qos: 1 });
    const messages = [];
    c.on('message', (topic, payload) => messages.push({ topic, body: JSON.parse(payload.toString()) }));

    const charging = sim.stream.startScenario('charging', { intervalMs: 10 });
    await charging.done;
    await until(() => messages.length === charging.published.length, 3000, 'charging messages');
    const socs = messages.map((m) => m.body.data[SOC]?.value).filter((v) => v !== undefined);
    assert.ok(socs.length >= 5, 'several state-of-charge readings');
    assert.deepStrictEqual(
      [...socs].sort((a, b) => a - b),
      socs,
      'rising',
    );
    assert.strictEqual(socs[socs.length - 1], 80);
    assert.strictEqual(messages[0].body.data[HV].value, 'CHARGING');
    for (const m of messages) {
      assert.strictEqual(m.topic, `${t.gcid}/${SIM_VINS.bev}`);
      assert.strictEqual(m.body.vin, SIM_VINS.bev);
      assert.match(m.body.timestamp, /^\d{4}-\d\d-\d\dT/);
      assert.ok(m.body.entityId);
      for (const point of Object.values(m.body.data)) assert.deepStrictEqual(Object.keys(point).sort(), ['timestamp', 'unit', 'value']);
    }

    messages.length = 0;
    await sim.stream.startScenario('doors', { intervalMs: 10, vin: SIM_VINS.phev }).done;
    await until(() => messages.length === 6, 3000, `door messages (${messages.length}: ${JSON.stringify(messages.map((m) => m.body.data))})`);
    assert.strictEqual(messages[0].body.data['vehicle.cabin.door.lock.status'].value, 'UNLOCKED');
    assert.strictEqual(messages[5].body.data['vehicle.cabin.door.lock.status'].value, 'SECURED');

    messages.length = 0;
    const trip = sim.stream.startScenario('trip', { intervalMs: 10 });
    await trip.done;
    await until(() => messages.length === trip.published.length, 3000, 'trip messages');
    const lat = messages.filter((m) => LAT in m.body.data);
    const lon = messages.filter((m) => LON in m.body.data);
    assert.ok(lat.length >= 3 && lon.length === lat.length);
    assert.ok(
      lat.every((m) => !(LON in m.body.data)),
      'latitude and longitude arrive in separate messages',
    );
    assert.strictEqual(typeof lat[0].body.data[LAT].value, 'number');
  });
});

describe('CarData stream: simulator command line', () => {
  it('runs the stream by default with every scenario, and takes stream options', () => {
    const d = parseArgs([]);
    assert.deepStrictEqual([d.stream, d.streamPort, d.scenarios, d.streamIntervalSec], [true, undefined, ['charging', 'plugged-waiting', 'doors', 'trip'], 5]);
    const o = parseArgs(['--stream-port', '0', '--stream-scenarios', 'trip,doors', '--stream-interval=2']);
    assert.deepStrictEqual([o.streamPort, o.scenarios, o.streamIntervalSec], [0, ['trip', 'doors'], 2]);
    assert.deepStrictEqual(parseArgs(['--stream-scenarios', 'none']).scenarios, []);
    assert.strictEqual(parseArgs(['--no-stream']).stream, false);
    assert.throws(() => parseArgs(['--stream-scenarios', 'flying']), /unknown stream scenario "flying"/);
  });
});
