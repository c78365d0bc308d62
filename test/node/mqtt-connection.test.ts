// The mqtt adapter of the stream's connection on a real broker (aedes on loopback, refusing the topics under
// `denied/`): what it reports, what a SUBACK refusal looks like, an address mqtt refuses, and a connection ended
// before it was opened, which must never reach the broker nor report anything.
import assert from 'assert';
import { createServer, type AddressInfo, type Server, type Socket } from 'net';
import { mqttConnect } from '../../src/node';
import { loadAedes } from '../../src/simulator/broker';
import { sleep, until } from '../support/wait';

const LOGIN = { clientId: 'adapter-test', username: 'user', password: 'secret', keepaliveSec: 30, connectTimeoutMs: 5000, rejectUnauthorized: true };

/** Records what the connection tells. */
function recorder() {
  const r = {
    connects: 0,
    closes: 0,
    messages: [] as [string, string][],
    errors: [] as (Error & { code?: unknown })[],
    events: {
      connect: () => (r.connects += 1),
      message: (topic: string, payload: Buffer | string) => r.messages.push([topic, payload.toString()]),
      error: (e: Error & { code?: unknown }) => r.errors.push(e),
      close: () => (r.closes += 1),
    },
  };
  return r;
}

describe('the mqtt connection adapter', () => {
  let aedes;
  let server: Server;
  let url: string;
  const sockets = new Set<Socket>();
  let clients = 0;

  before(async () => {
    const { Aedes } = await loadAedes();
    aedes = await Aedes.createBroker({
      authorizeSubscribe: (_client, sub, done) => done(null, sub.topic.startsWith('denied/') ? null : sub),
    });
    aedes.on('client', () => (clients += 1));
    aedes.on('clientError', () => undefined);
    server = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      aedes.handle(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('connects, subscribes, receives, unsubscribes, and once ended reports nothing more', async () => {
    const r = recorder();
    const conn = mqttConnect(url, LOGIN, r.events);
    assert.strictEqual(conn.connected, false);
    await until(() => r.connects === 1, 5000, 'the connection');
    assert.strictEqual(conn.connected, true);
    assert.deepStrictEqual(await conn.subscribe(['cars/+/data']), { refused: false, error: undefined });
    aedes.publish({ topic: 'cars/WBA1/data', payload: Buffer.from('{"a":1}'), qos: 1, retain: false, cmd: 'publish', dup: false });
    await until(() => r.messages.length === 1, 5000, 'the message');
    assert.deepStrictEqual(r.messages, [['cars/WBA1/data', '{"a":1}']]);
    await conn.unsubscribe(['cars/+/data']);
    aedes.publish({ topic: 'cars/WBA1/data', payload: Buffer.from('later'), qos: 0, retain: false, cmd: 'publish', dup: false });
    await conn.end(false);
    await sleep(100);
    assert.deepStrictEqual([r.messages.length, r.errors, r.closes], [1, [], 0], 'nothing after the end, not even its close');
  });

  it('a SUBACK that refuses a topic (alone or among others) is a refusal, not an error', async () => {
    const r = recorder();
    const conn = mqttConnect(url, LOGIN, r.events);
    await until(() => r.connects === 1, 5000, 'the connection');
    assert.deepStrictEqual(await conn.subscribe(['denied/WBA1']), { refused: true });
    assert.deepStrictEqual(await conn.subscribe(['cars/#', 'denied/WBA2']), { refused: true });
    assert.deepStrictEqual(r.errors, []);
    await conn.end(true);
  });

  it('a subscription mqtt cannot make is an error, not a refusal', async () => {
    const r = recorder();
    const conn = mqttConnect(url, LOGIN, r.events);
    await until(() => r.connects === 1, 5000, 'the connection');
    const result = await conn.subscribe(['cars/#/data']);
    assert.strictEqual(result.refused, false);
    assert.ok(result.error instanceof Error, String(result.error));
    assert.match(result.error.message, /Invalid topic/i);
    await conn.end(true);
  });

  it('the broker closing the connection is reported as an error of the network or a close, once', async () => {
    const r = recorder();
    const conn = mqttConnect(url, LOGIN, r.events);
    await until(() => r.connects === 1, 5000, 'the connection');
    for (const s of sockets) s.destroy();
    await until(() => r.closes === 1, 5000, 'the close');
    assert.strictEqual(conn.connected, false);
    await sleep(100);
    assert.strictEqual(r.closes, 1);
    await conn.end(true);
  });

  it('a broker that is not there is an error with the network code, then a close', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = recorder();
    const conn = mqttConnect(`mqtt://127.0.0.1:${port}`, LOGIN, r.events);
    await until(() => r.closes === 1, 5000, 'the close');
    assert.deepStrictEqual(
      r.errors.map((e) => e.code),
      ['ECONNREFUSED'],
    );
    assert.strictEqual(r.connects, 0);
    await conn.end(true);
  });

  it('an address mqtt refuses is a failed attempt: one error, one close', async () => {
    const r = recorder();
    const conn = mqttConnect('127.0.0.1', LOGIN, r.events);
    await until(() => r.closes === 1, 5000, 'the close');
    assert.deepStrictEqual(
      r.errors.map((e) => [e instanceof Error, e.message]),
      [[true, 'Missing protocol']],
    );
    await conn.end(true);
  });

  it('an address mqtt refuses reports nothing once the connection was ended', async () => {
    const r = recorder();
    const conn = mqttConnect('127.0.0.1', LOGIN, r.events);
    await conn.end(true);
    await sleep(50);
    assert.deepStrictEqual([r.errors, r.closes], [[], 0]);
  });

  it('a connection ended before it was opened never reaches the broker; it is not connected and refuses to subscribe', async () => {
    const before = clients;
    const r = recorder();
    const conn = mqttConnect(url, LOGIN, r.events);
    await conn.end(false);
    assert.strictEqual(conn.connected, false);
    const result = await conn.subscribe(['cars/#']);
    assert.strictEqual(result.refused, false);
    assert.strictEqual(result.error?.message, 'not connected');
    await conn.unsubscribe(['cars/#']);
    await sleep(200);
    assert.strictEqual(clients, before, 'no client reached the broker');
    assert.deepStrictEqual([r.connects, r.errors, r.closes], [0, [], 0]);
  });

  it('the first connection of a process loads mqtt (a fresh copy of the adapter)', async () => {
    const modulePath = require.resolve('../../src/node/mqtt-connection');
    const cached = require.cache[modulePath];
    delete require.cache[modulePath];
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require(modulePath) as { mqttConnect: typeof mqttConnect };
      assert.notStrictEqual(fresh.mqttConnect, mqttConnect);
      const r = recorder();
      const conn = fresh.mqttConnect(url, LOGIN, r.events);
      await until(() => r.connects === 1, 5000, 'the connection');
      await conn.end(true);
    } finally {
      if (cached) require.cache[modulePath] = cached;
    }
  });
});
