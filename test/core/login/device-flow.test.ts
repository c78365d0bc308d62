// The device login and the refresh against a scripted login service on loopback: what each request carries, which
// answers end a login and which are hiccups, the words a user reads, and how a refresh keeps to its deadline.
import assert from 'assert';
import * as http from 'http';
import * as core from '../../../src/node';
import { failure } from '../../support/failure';
import type { DeviceAuthorization, Transport, TransportRequest, TransportResponse } from '../../../src/core';

const {
  AxiosTransport,
  CarDataError,
  LoginError,
  startDeviceAuthorization,
  pollDeviceAuthorization,
  waitForDeviceAuthorization,
  refreshTokens,
  tokenSetFromResponse,
  isRefusedGrant,
} = core;

type Answer = { status?: number; body?: unknown; headers?: Record<string, string>; type?: string };
type Seen = { path: string; accept: string | undefined; form: URLSearchParams };

/** A login service whose every answer is scripted: `answer(req, n)` for the n-th request. */
async function loginService(answer: (req: Seen, n: number) => Answer) {
  const requests: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const seen = { path: new URL(req.url as string, 'http://x').pathname, accept: req.headers.accept, form: new URLSearchParams(body) };
      requests.push(seen);
      const a = answer(seen, requests.length);
      res.writeHead(a.status ?? 200, { 'content-type': a.type ?? 'application/json', ...(a.headers ?? {}) });
      res.end(typeof a.body === 'string' ? a.body : JSON.stringify(a.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests, close: () => new Promise((r) => server.close(r)) };
}

/** The axios transport, remembering what was asked of it. */
function recordingTransport() {
  const axios = new AxiosTransport();
  const asked: TransportRequest[] = [];
  return {
    asked,
    request: (req: TransportRequest) => {
      asked.push(req);
      return axios.request(req);
    },
  };
}

const TOKENS = { access_token: 'at', refresh_token: 'rt', expires_in: 3600, scope: 'cardata:api:read' };
const HICCUP_HINT = "This is a problem on BMW's side or on the way to it, not with your login, which is kept. Try again in a few minutes.";

describe('core device login and refresh', function () {
  let service: Awaited<ReturnType<typeof loginService>> | undefined;
  let now = Date.UTC(2026, 5, 1, 12);
  const clock = () => now;
  afterEach(async () => {
    if (service) await service.close();
    service = undefined;
  });
  const endpoint = (extra = {}) => ({
    transport: new AxiosTransport() as Transport,
    clientId: ' client-1 ',
    authBaseUrl: service?.url,
    now: clock,
    sleep: async () => {},
    random: () => 0,
    ...extra,
  });
  const auth = (extra: Partial<DeviceAuthorization> = {}): DeviceAuthorization => ({
    userCode: 'ABCD',
    verificationUri: 'https://example.test/device',
    verificationUriComplete: 'https://example.test/device?user_code=ABCD',
    interval: 5,
    expiresAt: now + 300_000,
    deviceCode: 'dc',
    codeVerifier: 'cv',
    ...extra,
  });

  describe('starting', () => {
    it('asks for JSON with the attempt time of the endpoint', async () => {
      service = await loginService(() => ({
        body: { device_code: 'dc', user_code: 'ABCD', verification_uri: 'https://example.test/device', interval: 7, expires_in: 600 },
      }));
      const transport = recordingTransport();
      const started = await startDeviceAuthorization(endpoint({ transport, timeoutMs: 5000 }));
      assert.deepStrictEqual([started.interval, started.expiresAt, started.deviceCode], [7, now + 600_000, 'dc']);
      assert.deepStrictEqual(
        transport.asked.map((r) => [r.method, r.responseType, r.timeoutMs, r.headers]),
        [['POST', 'json', 5000, { Accept: 'application/json' }]],
      );
      assert.strictEqual(service.requests[0].accept, 'application/json');
      assert.strictEqual(service.requests[0].form.get('client_id'), 'client-1');
    });

    it('an interval that is negative or not a number is 5 seconds', async () => {
      for (const interval of [-1, '10', null]) {
        service = await loginService(() => ({ body: { device_code: 'dc', user_code: 'ABCD', interval } }));
        assert.strictEqual((await startDeviceAuthorization(endpoint())).interval, 5, String(interval));
        await service.close();
      }
      service = undefined;
    });

    it('refuses a missing client ID in words, before any request', async () => {
      service = await loginService(() => ({ body: {} }));
      const e = await failure(startDeviceAuthorization(endpoint({ clientId: '  ' })));
      assert.ok(e instanceof CarDataError);
      assert.deepStrictEqual(
        [e.kind, e.parameter, e.message, e.hint],
        ['input', 'clientId', 'A client ID is required to log in', 'Create one in the BMW CarData portal and paste it here.'],
      );
      assert.strictEqual(service.requests.length, 0);
    });

    it('an answer without a device code or without a user code is an error, not a login', async () => {
      for (const body of [{ user_code: 'ABCD' }, { device_code: 'dc' }]) {
        service = await loginService(() => ({ body }));
        const e = await failure(startDeviceAuthorization(endpoint()));
        assert.ok(e instanceof LoginError);
        assert.deepStrictEqual([e.kind, e.status, e.message, e.hint], ['auth', 200, 'BMW login answered without a device code', 'Try again later.']);
        await service.close();
      }
      service = undefined;
    });
  });

  describe('polling', () => {
    it('an expired code is not polled: it is said so', async () => {
      service = await loginService(() => ({ body: TOKENS }));
      const e = await failure(pollDeviceAuthorization(endpoint(), auth({ expiresAt: now })));
      assert.ok(e instanceof LoginError);
      assert.deepStrictEqual([e.kind, e.oauthError, e.message], ['auth', 'expired_token', 'BMW login: expired_token (The code is expired)']);
      assert.strictEqual(service.requests.length, 0);
    });

    it('a hiccup and a silent login service are reported as the BMW login', async () => {
      service = await loginService(() => ({ status: 503, body: 'down', type: 'text/plain' }));
      const e = await failure(pollDeviceAuthorization(endpoint(), auth()));
      assert.deepStrictEqual([e.kind, e.message, e.hint, e.retryable], ['http', "BMW login: BMW's login service is unavailable (HTTP 503)", HICCUP_HINT, true]);
      const url = service.url;
      await service.close();
      service = undefined;
      const silent = await failure(pollDeviceAuthorization(endpoint({ authBaseUrl: url }), auth()));
      assert.deepStrictEqual([silent.kind, silent.message], ['network', "BMW login: no answer from BMW's login service (ECONNREFUSED)"]);
    });

    it('waiting: cancelled in words; a hiccup once the code has expired ends the wait', async () => {
      service = await loginService(() => ({ status: 403, body: { error: 'authorization_pending' } }));
      const controller = new AbortController();
      controller.abort();
      const cancelled = await failure(waitForDeviceAuthorization(endpoint(), auth(), { signal: controller.signal }));
      assert.deepStrictEqual([cancelled.kind, cancelled.message, cancelled.hint], ['auth', 'BMW login cancelled', 'Start the authorization again.']);
      await service.close();

      const started = auth({ expiresAt: now + 10_000 });
      // The service answers its hiccup at the very moment the code expires.
      service = await loginService(() => {
        now = started.expiresAt;
        return { status: 503, body: {} };
      });
      const e = await failure(waitForDeviceAuthorization(endpoint(), started));
      assert.deepStrictEqual([e.kind, e.status, e.retryable], ['http', 503, true]);
      assert.strictEqual(service.requests.length, 1);
    });

    it('a final OAuth error while waiting ends the wait at once', async () => {
      service = await loginService(() => ({ status: 400, body: { error: 'access_denied' } }));
      const e = await failure(waitForDeviceAuthorization(endpoint(), auth()));
      assert.deepStrictEqual([e.kind, e.oauthError, e.retryable], ['auth', 'access_denied', false]);
      assert.strictEqual(service.requests.length, 1);
    });
  });

  describe('refresh', () => {
    it('statuses that mean "later" (408, 429, 5xx, below 400) are hiccups even with a final OAuth error', async () => {
      for (const status of [408, 429, 500, 302]) {
        service = await loginService(() => ({ status, body: { error: 'invalid_grant' } }));
        const e = await failure(refreshTokens(endpoint(), 'rt', { deadline: now }));
        assert.deepStrictEqual([e.kind, e.retryable, e.oauthError], ['http', true, 'invalid_grant'], String(status));
        await service.close();
      }
      service = undefined;
    });

    it('only an OAuth error word is repeated: not text, not another JSON value', async () => {
      for (const error of ['server_error: see https://status.example', true]) {
        service = await loginService(() => ({ status: 503, body: { error } }));
        const e = await failure(refreshTokens(endpoint(), 'rt', { deadline: now }));
        assert.deepStrictEqual(
          [e.oauthError, e.message],
          [undefined, "Refreshing the BMW login: BMW's login service is unavailable (HTTP 503)"],
          String(error),
        );
        await service.close();
      }
      service = undefined;
    });

    it('an answer without headers (a host transport) is still a hiccup', async () => {
      const transport = { request: async () => ({ status: 503, body: {} }) as unknown as TransportResponse };
      const e = await failure(refreshTokens({ transport, clientId: 'c', now: clock, sleep: async () => {} }, 'rt', { deadline: now }));
      assert.deepStrictEqual([e.kind, e.retryAfterMs], ['http', undefined]);
    });

    it('each attempt gets what is left of the deadline, at most the attempt time', async () => {
      service = await loginService(() => ({ body: TOKENS }));
      const transport = recordingTransport();
      await refreshTokens(endpoint({ transport }), 'rt', { deadline: now + 5000 });
      await refreshTokens(endpoint({ transport, timeoutMs: 3000 }), 'rt', { deadline: now + 5000 });
      assert.deepStrictEqual(
        transport.asked.map((r) => r.timeoutMs),
        [5000, 3000],
      );
    });

    it('a wait is started only if it and one more attempt fit in the deadline', async () => {
      // Retry-After 2 s: the wait is 2 s, and an attempt needs at least 1 s.
      service = await loginService((req, n) => (n === 1 ? { status: 503, body: {}, headers: { 'retry-after': '2' } } : { body: TOKENS }));
      const waits: number[] = [];
      const sleep = async (ms: number) => {
        waits.push(ms);
      };
      const tokens = await refreshTokens(endpoint({ sleep }), 'rt', { deadline: now + 3000 });
      assert.strictEqual(tokens.accessToken, 'at');
      assert.deepStrictEqual(waits, [2000]);
      await service.close();

      service = await loginService((req, n) => (n === 1 ? { status: 503, body: {}, headers: { 'retry-after': '2' } } : { body: TOKENS }));
      const e = await failure(refreshTokens(endpoint({ sleep }), 'rt', { deadline: now + 2999 }));
      assert.deepStrictEqual([e.kind, e.status], ['http', 503]);
      assert.strictEqual(service.requests.length, 1);
      assert.deepStrictEqual(waits, [2000]);
    });
  });

  it('a token answer that is no JSON object is kept apart from the tokens', () => {
    for (const body of [null, 'tokens', Buffer.from(JSON.stringify(TOKENS))]) {
      const e = (() => {
        try {
          tokenSetFromResponse(body, now);
        } catch (err) {
          return err as InstanceType<typeof LoginError>;
        }
        assert.fail('expected a refusal');
      })();
      assert.ok(e instanceof LoginError, String(body));
      assert.strictEqual(e.kind, 'response');
    }
  });

  it('a refused grant is a final refusal of the refresh token, by an error BMW gave', () => {
    const error = (retryable: boolean, oauthError?: string) => new CarDataError({ kind: 'auth', message: 'x', retryable, oauthError });
    assert.strictEqual(isRefusedGrant(error(false, 'invalid_grant')), true);
    assert.strictEqual(isRefusedGrant(error(true, 'invalid_grant')), false);
    assert.strictEqual(isRefusedGrant(error(false)), false);
    assert.strictEqual(isRefusedGrant(error(false, 'access_denied')), false);
    assert.strictEqual(isRefusedGrant({ retryable: false, oauthError: 'invalid_grant' }), false);
  });
});
