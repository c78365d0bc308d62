// The axios adapter against a loopback server: bodies sent and read back, headers, redirects, the deadline, a
// cancelled request and a refused connection, and one kept-alive connection for calls in a row.
import assert from 'assert';
import * as http from 'http';
import { AxiosTransport, TransportError } from '../../src/node';
import { failure } from '../support/failure';
import type { Socket } from 'net';

async function server(handler) {
  const seen = [];
  const sockets = new Set<Socket>();
  const s = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body, port: req.socket.remotePort });
      handler(req, res, body);
    });
  });
  s.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as { port: number }).port}`,
    seen,
    close: () => {
      for (const sock of sockets) sock.destroy();
      return new Promise((r) => s.close(r));
    },
  };
}

const reply =
  (status, type, body, extra = {}) =>
  (req, res) => {
    res.writeHead(status, { ...(type ? { 'content-type': type } : {}), ...extra });
    res.end(body);
  };

describe('core axios transport', function () {
  let srv;
  afterEach(async () => {
    if (srv) await srv.close();
    srv = undefined;
  });
  const t = new AxiosTransport();

  it('JSON answers are parsed; headers come lower-case, repeated ones joined', async () => {
    srv = await server((req, res) => {
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.setHeader('X-Thing', 'Yes');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"a":[1,2]}');
    });
    const r = await t.request({ method: 'GET', url: `${srv.url}/x`, query: { q: 'a b', n: '1' }, headers: { 'x-version': 'v1' } });
    assert.deepStrictEqual([r.status, r.body], [200, { a: [1, 2] }]);
    assert.strictEqual(r.headers['x-thing'], 'Yes');
    assert.strictEqual(r.headers['set-cookie'], 'a=1, b=2');
    assert.strictEqual(r.headers['content-type'], 'application/json');
    assert.strictEqual(srv.seen[0].url, '/x?q=a+b&n=1');
    assert.strictEqual(srv.seen[0].headers['x-version'], 'v1');
  });

  it('a body that looks like JSON is parsed without a JSON type, unless bytes were asked for', async () => {
    srv = await server(reply(200, 'text/plain', '[1,{"b":2}]'));
    assert.deepStrictEqual((await t.request({ method: 'GET', url: srv.url })).body, [1, { b: 2 }]);
    assert.deepStrictEqual((await t.request({ method: 'GET', url: srv.url, responseType: 'json' })).body, [1, { b: 2 }]);
    const bytes = (await t.request({ method: 'GET', url: srv.url, responseType: 'binary' })).body;
    assert.ok(Buffer.isBuffer(bytes));
    assert.strictEqual(bytes.toString(), '[1,{"b":2}]');
  });

  it('text stays text, broken JSON too, bytes stay bytes, and no body is undefined', async () => {
    const answers = [
      reply(200, 'text/html', '<html>x</html>'),
      reply(200, 'application/json', '{"truncated":'),
      reply(200, 'text/plain', '{not json'),
      reply(200, 'text/plain', ' {"spaced":1}'),
      reply(200, 'image/png', Buffer.from([0x89, 0x50])),
      reply(204, 'application/json', ''),
    ];
    let i = 0;
    srv = await server((req, res) => answers[i++](req, res));
    const get = (responseType) => t.request({ method: 'GET', url: srv.url, responseType }).then((r) => r.body as any);
    assert.strictEqual(await get('json'), '<html>x</html>');
    assert.strictEqual(await get('json'), '{"truncated":');
    assert.strictEqual(await get('json'), '{not json');
    assert.strictEqual(await get('json'), ' {"spaced":1}', 'only a body that starts with [ or { is tried as JSON');
    assert.deepStrictEqual([...(await get('binary'))], [0x89, 0x50]);
    assert.strictEqual(await get('json'), undefined);
  });

  it('sends JSON and form bodies with their types; nothing without a body', async () => {
    srv = await server(reply(200, 'application/json', '{}'));
    await t.request({ method: 'POST', url: srv.url, json: { name: 'x', list: [1] } });
    await t.request({ method: 'POST', url: srv.url, form: { grant_type: 'refresh_token', client_id: 'a b&c' } });
    await t.request({ method: 'POST', url: srv.url, json: { a: 1 }, form: { b: '2' } });
    await t.request({ method: 'DELETE', url: srv.url });
    const [json, form, both, none] = srv.seen;
    assert.deepStrictEqual([json.headers['content-type'], JSON.parse(json.body)], ['application/json', { name: 'x', list: [1] }]);
    assert.deepStrictEqual([form.headers['content-type'], form.body], ['application/x-www-form-urlencoded', 'grant_type=refresh_token&client_id=a+b%26c']);
    assert.deepStrictEqual([both.headers['content-type'], both.body], ['application/x-www-form-urlencoded', 'b=2'], 'a form wins over JSON');
    assert.deepStrictEqual([none.method, none.body, none.headers['content-type']], ['DELETE', '', undefined]);
  });

  it('every status is an answer, and redirects are not followed', async () => {
    srv = await server((req, res) =>
      req.url === '/moved' ? reply(302, 'text/plain', 'moved', { location: '/elsewhere' })(req, res) : reply(503, 'application/json', '{"e":1}')(req, res),
    );
    const moved = await t.request({ method: 'GET', url: `${srv.url}/moved` });
    assert.deepStrictEqual([moved.status, moved.headers.location, moved.body], [302, '/elsewhere', 'moved']);
    assert.strictEqual((await t.request({ method: 'GET', url: `${srv.url}/x` })).status, 503);
    assert.deepStrictEqual(
      srv.seen.map((s) => s.url),
      ['/moved', '/x'],
    );
  });

  it('a deadline ends an answer that never comes or drips in: ETIMEDOUT, naming only the host', async () => {
    srv = await server((req, res) => {
      if (req.url === '/drip') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('[');
        const timer = setInterval(() => res.write(' '), 50);
        res.on('close', () => clearInterval(timer));
      }
    });
    for (const p of ['/hang', '/drip']) {
      const started = Date.now();
      const e = await failure(t.request({ method: 'GET', url: `${srv.url}${p}?token=secret`, timeoutMs: 300 }));
      assert.ok(e instanceof TransportError);
      assert.strictEqual(e.code, 'ETIMEDOUT', p);
      assert.strictEqual(e.message, `no answer from ${new URL(srv.url).host} (ETIMEDOUT)`);
      assert.ok(Date.now() - started < 3000, p);
    }
  });

  it("the default deadline is the adapter's own", async () => {
    srv = await server(() => {});
    const quick = new AxiosTransport(200);
    const e = await failure(quick.request({ method: 'GET', url: srv.url }));
    assert.strictEqual(e.code, 'ETIMEDOUT');
  });

  it('a request aborted by its signal is ECANCELED; a signal that never fires changes nothing', async () => {
    srv = await server((req, res) => (req.url === '/ok' ? reply(200, 'application/json', '{"ok":true}')(req, res) : undefined));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const e = await failure(t.request({ method: 'GET', url: `${srv.url}/hang`, signal: controller.signal, timeoutMs: 5000 }));
    assert.strictEqual(e.code, 'ECANCELED');
    const idle = new AbortController();
    assert.deepStrictEqual((await t.request({ method: 'GET', url: `${srv.url}/ok`, signal: idle.signal })).body, { ok: true });
  });

  it("a refused connection keeps Node's code", async () => {
    const e = await failure(t.request({ method: 'GET', url: 'http://127.0.0.1:9/x' }));
    assert.strictEqual(e.code, 'ECONNREFUSED');
    assert.strictEqual(e.message, 'no answer from 127.0.0.1:9 (ECONNREFUSED)');
  });

  it('calls in a row share one kept-alive connection', async () => {
    srv = await server(reply(200, 'application/json', '{}'));
    const own = new AxiosTransport();
    for (let i = 0; i < 3; i += 1) await own.request({ method: 'GET', url: srv.url });
    assert.strictEqual(new Set(srv.seen.map((s) => s.port)).size, 1);
  });
});
