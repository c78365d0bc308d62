// The n8n transport's deadline: a request ends at its timeoutMs (the whole answer, ETIMEDOUT) or when its signal
// aborts (ECANCELED), through n8n's request helpers, for the node's requests (httpRequestWithAuthentication) and
// for the credential's refresh (httpRequest), against servers that never answer or answer a byte at a time.
import assert from 'assert';
import * as http from 'http';
import { N8nTransport, HttpRequestTransport } from '../../src/n8n/transport';
import { TransportError, isRetryableNetworkCode, wasNotSent } from '../../src/core';
import { startSimulator } from '../../src/simulator';
import { executeContext, authorizedCredentials, cleanup } from '../support/n8n-harness';
import type { Socket } from 'net';
import type { TransportRequest } from '../../src/core';

/** A loopback server: `silent` accepts and never answers; `trickle` sends headers, then a byte every 100 ms. */
async function hostileServer(kind) {
  const open = new Set<Socket>();
  const server = http.createServer((req, res) => {
    if (kind === 'silent') return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('[');
    const timer = setInterval(() => res.write(' '), 100);
    res.on('close', () => clearInterval(timer));
  });
  server.on('connection', (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/customers/vehicles/mappings`,
    close: () => {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Runs `fn`, expects a TransportError, returns it with the time it took. */
async function failure(fn) {
  const started = Date.now();
  try {
    await fn();
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error('the request did not fail');
}

describe('n8n transport: timeout and abort signal reach n8n', function () {
  this.timeout(20000);
  let sim;
  const servers = [];
  const server = async (kind) => {
    const s = await hostileServer(kind);
    servers.push(s);
    return s;
  };
  before(async () => {
    sim = await startSimulator({ port: 0 });
  });
  afterEach(async () => {
    while (servers.length) await servers.pop().close();
  });
  after(async () => {
    await sim.close();
    cleanup();
  });

  it('a server that never answers: timeoutMs ends the request (ETIMEDOUT)', async () => {
    const { url } = await server('silent');
    const transport = new N8nTransport(executeContext(authorizedCredentials(sim)));
    const { error, ms } = await failure(() => transport.request({ method: 'GET', url, timeoutMs: 300 }));
    assert.ok(error instanceof TransportError, String(error));
    assert.strictEqual(error.code, 'ETIMEDOUT');
    assert.ok(ms < 3000, `took ${ms} ms`);
  });

  it("no server at the port, or no such host: a TransportError with the code core's retry rules know (never sent, so GETs retry)", async () => {
    const closed = await server('silent');
    const url = closed.url;
    await servers.pop().close();
    const transport = new N8nTransport(executeContext(authorizedCredentials(sim)));
    for (const [target, codes] of <[string, string[]][]>[
      [url, ['ECONNREFUSED']],
      ['http://bmw-cardata-simulator.invalid/customers/vehicles/mappings', ['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL']],
    ]) {
      const { error } = await failure(() => transport.request({ method: 'GET', url: target, timeoutMs: 5000 }));
      assert.ok(error instanceof TransportError, String(error));
      assert.ok(codes.includes(error.code), `${target}: ${error.code}`);
      assert.ok(isRetryableNetworkCode(error.code) && wasNotSent(error.code), error.code);
    }
  });

  it('a server that answers a byte at a time: timeoutMs ends the request although the socket is never idle', async () => {
    const { url } = await server('trickle');
    const transport = new N8nTransport(executeContext(authorizedCredentials(sim)));
    const { error, ms } = await failure(() => transport.request({ method: 'GET', url, timeoutMs: 600 }));
    assert.ok(error instanceof TransportError, String(error));
    assert.strictEqual(error.code, 'ETIMEDOUT');
    assert.ok(ms < 3000, `took ${ms} ms`);
  });

  it("the caller's signal ends the request (ECANCELED)", async () => {
    const { url } = await server('silent');
    const transport = new N8nTransport(executeContext(authorizedCredentials(sim)));
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 300);
    const { error, ms } = await failure(() => transport.request({ method: 'GET', url, timeoutMs: 10_000, signal: caller.signal }));
    assert.ok(error instanceof TransportError, String(error));
    assert.strictEqual(error.code, 'ECANCELED');
    assert.ok(ms < 3000, `took ${ms} ms`);
  });

  it("the execution's cancellation still ends a request that has its own deadline", async () => {
    const { url } = await server('silent');
    const cancel = new AbortController();
    const transport = new N8nTransport(executeContext(authorizedCredentials(sim), { abortSignal: cancel.signal }));
    setTimeout(() => cancel.abort(), 300);
    const { error, ms } = await failure(() => transport.request({ method: 'GET', url, timeoutMs: 10_000 }));
    assert.ok(error instanceof TransportError, String(error));
    assert.strictEqual(error.code, 'ECANCELED');
    assert.ok(ms < 3000, `took ${ms} ms`);
  });

  it('a request within its deadline is answered as before', async () => {
    const creds = authorizedCredentials(sim);
    const transport = new N8nTransport(executeContext(creds));
    const res = await transport.request({
      method: 'GET',
      url: `${sim.apiBaseUrl}/customers/vehicles/mappings`,
      headers: { 'x-version': 'v1' },
      timeoutMs: 5000,
      signal: AbortSignal.timeout(5000),
    });
    assert.strictEqual(res.status, 200);
    assert.ok(Array.isArray(res.body));
  });

  it("the credential's refresh request (n8n's httpRequest) ends at its deadline and at the signal too", async () => {
    const { url } = await server('trickle');
    const ctx = executeContext(authorizedCredentials(sim));
    const transport = new HttpRequestTransport({ helpers: { httpRequest: ctx.helpers.httpRequest } });
    const refresh = { method: 'POST', url, form: { grant_type: 'refresh_token' } } as TransportRequest;
    const late = await failure(() => transport.request({ ...refresh, timeoutMs: 600 }));
    assert.strictEqual(late.error.code, 'ETIMEDOUT');
    assert.ok(late.ms < 3000, `took ${late.ms} ms`);
    const aborted = await failure(() => transport.request({ ...refresh, timeoutMs: 10_000, signal: AbortSignal.timeout(300) }));
    assert.strictEqual(aborted.error.code, 'ECANCELED');
    assert.ok(aborted.ms < 3000, `took ${aborted.ms} ms`);
  });
});
