// subscribeStream's promises to its caller against the simulated broker: what is refused before connecting,
// a subscription without a login, waitFor's timeouts and closes, handlers that throw, and a broker that is not
// there.
import assert from 'assert';
import { startSimulator, SIM_VINS } from '../../../src/simulator';
import * as core from '../../../src/node';
import { failure } from '../../support/failure';

const { createAccount, tokenSetFromResponse, subscribeStream, streamConnections, StreamError, CarDataError, DEFAULT_STREAM_URL } = core;

const SOC = 'vehicle.drivetrain.batteryManagement.header';
const FAST = { backoffMinMs: 50, backoffMaxMs: 200, notConfiguredRetryMs: 0 };
const noLogin = { current: () => undefined, refresh: async () => Promise.reject(new Error('no login')) };

describe('core stream API', function () {
  this.timeout(20_000);
  let sim;
  const subs = [];
  afterEach(async () => {
    for (const s of subs.splice(0)) await s.close();
    if (sim) await sim.close();
    sim = undefined;
    assert.deepStrictEqual(streamConnections(), []);
  });
  const tokensOf = (s) =>
    createAccount({
      clientId: 'api-client',
      apiBaseUrl: s.apiBaseUrl,
      authBaseUrl: s.authBaseUrl,
      tokens: tokenSetFromResponse(s.issueTokens({ clientId: 'api-client' }), Date.now()),
    }).tokens;
  const open = (tokens, opts) => {
    const sub = subscribeStream(tokens, { ...FAST, ...opts });
    subs.push(sub);
    return sub;
  };

  it('refuses a URL that is not MQTT, and a bad VIN, before anything connects', () => {
    for (const url of ['http://broker.example', 'broker.example:9000', 'ftp://x']) {
      assert.throws(
        () => subscribeStream(noLogin, { url }),
        (e) =>
          e instanceof CarDataError &&
          e.kind === 'input' &&
          e.parameter === 'streamUrl' &&
          e.message === `The stream URL must start with mqtts:// or mqtt://, got "${url}"` &&
          e.hint === `BMW's stream is ${DEFAULT_STREAM_URL}.`,
        url,
      );
    }
    assert.throws(
      () => subscribeStream(noLogin, { vins: ['WBA123'] }),
      (e: any) => e.kind === 'input' && e.parameter === 'vin',
    );
    assert.deepStrictEqual(streamConnections(), []);
  });

  it('without a login: "unauthorized" at once, nothing opened, waitFor and close answer', async () => {
    const states = [];
    for (const url of [undefined, '  ', 'MQTTS://Broker.Example:9000', 'wss://x.example/mqtt', 'tcp://x.example', 'ssl://x.example', 'tls://x.example']) {
      const sub = subscribeStream(noLogin, { url, onState: (s) => states.push(s) });
      assert.strictEqual(sub.status.state, 'unauthorized', String(url));
      assert.ok(sub.status.error instanceof StreamError);
      assert.deepStrictEqual(
        [sub.status.error.code, sub.status.error.kind, sub.status.error.retryable, sub.status.error.name],
        ['no-login', 'auth', false, 'StreamError'],
      );
      assert.strictEqual(sub.status.reason, 'The account is not authorized, so the stream cannot log in');
      assert.deepStrictEqual(sub.status.topics, []);
      assert.strictEqual((await sub.waitFor('unauthorized')).state, 'unauthorized');
      assert.strictEqual(await failure(sub.waitFor('connected')), sub.status.error);
      sub.retry();
      await sub.close();
    }
    assert.strictEqual(states.length, 7, 'told once each');
    assert.deepStrictEqual(streamConnections(), []);
  });

  it('a connection error is a retryable StreamError whose code is the stream code', () => {
    const e = new StreamError({ streamCode: 'connection', message: 'm' });
    assert.deepStrictEqual([e.code, e.kind, e.retryable, e.name, e.message], ['connection', 'bmw', true, 'StreamError', 'm']);
    const n = new StreamError({ streamCode: 'not-configured', message: 'm', reasonCode: 0x80 });
    assert.deepStrictEqual([n.code, n.retryable, n.reasonCode], ['not-configured', false, 0x80]);
    assert.strictEqual(new StreamError({ streamCode: 'unauthorized', message: 'm', retryable: true }).retryable, true);
    assert.ok(e instanceof CarDataError);
  });

  it('waitFor: resolves at once for the current state, times out naming both states, rejects when closed', async () => {
    sim = await startSimulator({ stream: true });
    const sub = open(tokensOf(sim), { url: sim.streamUrl });
    const connected = await sub.waitFor('connected', 5000);
    assert.deepStrictEqual(connected.topics, [`${sim.gcid}/+`]);
    assert.strictEqual((await sub.waitFor('connected', 1)).state, 'connected');
    const timeout = await failure(sub.waitFor('not-configured', 100));
    assert.strictEqual(timeout.message, 'The stream did not reach "not-configured" within 100 ms (it is "connected")');
    const waiting = failure(sub.waitFor('unauthorized', 5000));
    await sub.close();
    assert.strictEqual((await waiting).message, 'The stream closed while waiting for "unauthorized"');
    assert.deepStrictEqual([sub.status.state, sub.status.topics], ['closed', []]);
    assert.strictEqual((await sub.waitFor('closed')).state, 'closed');
    const late = await failure(sub.waitFor('connected', 50));
    assert.strictEqual(late.message, 'The stream did not reach "connected" within 50 ms (it is "closed")');
    sub.retry();
    await new Promise((r) => setTimeout(r, 100));
    assert.strictEqual(sim.stream.connections(), 0, 'retry after close opens nothing');
    await sub.close();
  });

  it('a handler that throws is told through onError; other subscribers and the connection go on', async () => {
    sim = await startSimulator({ stream: true });
    const tokens = tokensOf(sim);
    const errors = [];
    const good = [];
    const bad = open(tokens, {
      url: sim.streamUrl,
      onEvent: () => {
        throw new Error('host broke');
      },
      onError: (e) => errors.push(e.message),
      onState: () => {
        throw new Error('status handler broke');
      },
    });
    const other = open(tokens, { url: sim.streamUrl, onEvent: (e) => good.push(e.value), onMessage: () => {} });
    await bad.waitFor('connected', 5000);
    await other.waitFor('connected', 5000);
    const noisy = open(tokens, {
      url: sim.streamUrl,
      onMessage: () => {
        throw 'not an Error';
      },
      onError: (e) => errors.push(`${e instanceof Error}:${e.message}`),
    });
    await noisy.waitFor('connected', 5000);
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 61 });
    const end = Date.now() + 3000;
    while ((good.length < 1 || errors.length < 2) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.deepStrictEqual(good, [61]);
    assert.deepStrictEqual(errors.sort(), ['host broke', 'true:not an Error']);
    assert.strictEqual(sim.stream.connections(), 1, 'one shared connection');
  });

  it("a broker that is not there: reconnecting, with the network's code in the reason", async () => {
    sim = await startSimulator({});
    const states = [];
    const sub = open(tokensOf(sim), { url: 'mqtt://127.0.0.1:9', onState: (s) => states.push(s) });
    await sub.waitFor('reconnecting', 5000);
    const end = Date.now() + 3000;
    while (!states.some((s) => /ECONNREFUSED/.test(s.reason ?? '')) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    const refused = states.find((s) => /ECONNREFUSED/.test(s.reason ?? ''));
    assert.ok(refused, states.map((s) => `${s.state}: ${s.reason}`).join(' | '));
    assert.strictEqual(refused.state, 'reconnecting');
    assert.ok(refused.error instanceof StreamError);
    assert.deepStrictEqual([refused.error.code, refused.error.retryable], ['connection', true]);
    assert.strictEqual(states[0].state, 'connecting', 'the first state told is connecting');
  });
});
