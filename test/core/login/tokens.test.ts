// The login against the simulator's GCDM: the token manager (when it refreshes, what it keeps, what it tells the
// host), the refresh grant's retries, and the device login's answers.
import assert from 'assert';
import { startSimulator } from '../../../src/simulator';
import * as core from '../../../src/node';
import { failure } from '../../support/failure';

const {
  TokenManager,
  AxiosTransport,
  tokenSetFromResponse,
  refreshTokens,
  startDeviceAuthorization,
  pollDeviceAuthorization,
  waitForDeviceAuthorization,
  isDeadLogin,
  CarDataError,
  DEFAULT_SCOPE,
  storedTokens,
  tokensFromStored,
  TokenRing,
} = core;

const CLIENT = 'tokens-client';

describe('core login', function () {
  let sim;
  beforeEach(async () => {
    sim = await startSimulator({ pollIntervalSec: 0 });
  });
  afterEach(() => sim.close());

  const refreshes = () => sim.requests.filter((r) => r.grantType === 'refresh_token').length;
  const endpoint = (extra = {}) => ({ transport: new AxiosTransport(), clientId: CLIENT, authBaseUrl: sim.authBaseUrl, sleep: async () => {}, ...extra });
  const issued = (now = Date.now()) => tokenSetFromResponse(sim.issueTokens({ clientId: CLIENT }), now);
  const manager = (extra = {}) => new TokenManager({ ...endpoint(), ...extra });

  describe('token manager', () => {
    it('without a login: not authorized, nothing asked', async () => {
      const tm = manager();
      assert.strictEqual(tm.current(), undefined);
      assert.strictEqual(tm.gcid, undefined);
      for (const call of <(() => Promise<unknown>)[]>[() => tm.getAccessToken(), () => tm.refresh(), () => tm.refreshAfterUnauthorized('x')]) {
        const e = await failure(Promise.resolve().then(call));
        assert.deepStrictEqual([e.kind, e.message], ['auth', 'The account is not authorized']);
        assert.match(e.hint, /device login/);
      }
      const noRefresh = manager({ tokens: { accessToken: 'a', refreshToken: '', expiresAt: Date.now() + 3_600_000 } });
      assert.strictEqual((await failure(noRefresh.getAccessToken())).kind, 'auth');
      assert.strictEqual(refreshes(), 0);
    });

    it('hands out the access token until the margin before expiry, then refreshes once and tells the host', async () => {
      let now = Date.now();
      const stored = [];
      const tokens = issued(now);
      const tm = manager({ tokens, now: () => now, onTokens: (t) => stored.push(t) });
      assert.strictEqual(tm.gcid, tokens.gcid);
      const copy = tm.current();
      copy.accessToken = 'changed';
      assert.strictEqual(tm.current().accessToken, tokens.accessToken, 'current() is a copy');
      now = tokens.expiresAt - 5 * 60_000 - 1;
      assert.strictEqual(await tm.getAccessToken(), tokens.accessToken);
      assert.strictEqual(refreshes(), 0);
      now = tokens.expiresAt - 5 * 60_000;
      const fresh = await tm.getAccessToken();
      assert.notStrictEqual(fresh, tokens.accessToken);
      assert.strictEqual(refreshes(), 1);
      assert.strictEqual(stored.length, 1);
      assert.strictEqual(stored[0].accessToken, fresh);
      assert.notStrictEqual(stored[0].refreshToken, tokens.refreshToken, 'the rotated refresh token is handed to the host');
      assert.strictEqual(await tm.getAccessToken(), fresh, 'the new one is used from then on');
      assert.strictEqual(refreshes(), 1);
    });

    it('a margin of its own, and an empty access token, are respected', async () => {
      let now = Date.now();
      const tokens = issued(now);
      const tm = manager({ tokens, now: () => now, refreshMarginMs: 1000 });
      now = tokens.expiresAt - 1001;
      assert.strictEqual(await tm.getAccessToken(), tokens.accessToken);
      now = tokens.expiresAt - 1000;
      assert.notStrictEqual(await tm.getAccessToken(), tokens.accessToken);
      const empty = manager({ tokens: { ...issued(), accessToken: '' } });
      assert.ok(await empty.getAccessToken());
      assert.strictEqual(refreshes(), 2);
    });

    it('setTokens replaces the set and tells the host; a host that cannot store is told, the tokens are still used', async () => {
      const errors = [];
      const tm = manager({ onTokens: () => Promise.reject(new Error('disk full')), onPersistError: (e) => errors.push(e.message) });
      const tokens = issued();
      await tm.setTokens(tokens);
      tokens.accessToken = 'mutated afterwards';
      assert.notStrictEqual(tm.current().accessToken, 'mutated afterwards');
      assert.deepStrictEqual(errors, ['disk full']);
      assert.ok(await tm.getAccessToken());
      await tm.refresh();
      assert.deepStrictEqual(errors, ['disk full', 'disk full']);
      // Without onTokens nothing is called and nothing fails.
      await manager().setTokens(issued());
    });

    it('setTokens of a set the host has stored already writes nothing, and a store that failed before is checked again no more', async () => {
      const written = [];
      let failing = true;
      const checks = [];
      const tm = manager({
        onTokens: (t) => (failing ? Promise.reject(new Error('disk full')) : void written.push(t.refreshToken)),
        onPersistError: () => {},
        checkStore: async () => void checks.push('checked'),
      });
      await tm.setTokens(issued());
      failing = false;
      const stored = issued();
      await tm.setTokens(stored, { stored: true });
      assert.deepStrictEqual(written, [], 'not written a second time');
      assert.strictEqual(tm.current().refreshToken, stored.refreshToken);
      await tm.refresh();
      assert.deepStrictEqual(checks, ['checked'], 'the store is checked before spending the refresh token again');
      assert.strictEqual(written.length, 1);
    });

    it('a refresh keeps the GCID and id_token when GCDM does not send them again', async () => {
      const tokens = { ...issued(), gcid: 'kept-gcid', idToken: 'kept-id' };
      const tm = manager({ tokens });
      sim.faults.answerNext(
        1,
        { status: 200, contentType: 'application/json', body: JSON.stringify({ access_token: 'a2', refresh_token: 'r2', expires_in: 3600 }) },
        { path: /oauth\/token/ },
      );
      const fresh = await tm.refresh();
      assert.deepStrictEqual([fresh.accessToken, fresh.refreshToken, fresh.gcid, fresh.idToken], ['a2', 'r2', 'kept-gcid', 'kept-id']);
      sim.faults.answerNext(
        1,
        {
          status: 200,
          contentType: 'application/json',
          body: JSON.stringify({ access_token: 'a3', refresh_token: 'r3', gcid: 'new-gcid', id_token: 'new-id' }),
        },
        { path: /oauth\/token/ },
      );
      const next = await tm.refresh();
      assert.deepStrictEqual([next.gcid, next.idToken], ['new-gcid', 'new-id']);
    });

    it('concurrent refreshes and 401s share one refresh; a token already replaced is not refreshed again', async () => {
      const tokens = issued();
      const tm = manager({ tokens });
      const [a, b, c] = await Promise.all([tm.refresh(), tm.refreshAfterUnauthorized(tokens.accessToken), tm.getAccessToken()]);
      assert.strictEqual(refreshes(), 1);
      assert.strictEqual(b, a.accessToken);
      assert.strictEqual(c, a.accessToken);
      // A 401 for the old token after the refresh: the new token, no second refresh.
      assert.strictEqual(await tm.refreshAfterUnauthorized(tokens.accessToken), a.accessToken);
      assert.strictEqual(refreshes(), 1);
      // A 401 for the current token: one more refresh.
      const again = await tm.refreshAfterUnauthorized(a.accessToken);
      assert.notStrictEqual(again, a.accessToken);
      assert.strictEqual(refreshes(), 2);
      // After a refresh ended, the next one is a new one.
      await tm.refresh();
      assert.strictEqual(refreshes(), 3);
    });

    it('a refused refresh token: the stored set is read again; a newer one with a good access token is used as it is', async () => {
      const mine = issued();
      const other = manager({ tokens: { ...mine } });
      const rotated = await other.refresh();
      let reloads = 0;
      const tm = manager({ tokens: { ...mine }, reload: async () => (reloads++, rotated) });
      const before = refreshes();
      const got = await tm.refresh();
      assert.strictEqual(reloads, 1);
      assert.strictEqual(got.accessToken, rotated.accessToken);
      assert.strictEqual(tm.current().refreshToken, rotated.refreshToken);
      assert.strictEqual(refreshes() - before, 1, 'only its own refused refresh');
    });

    it('a newer stored set whose access token is due is refreshed once with the stored refresh token', async () => {
      const mine = issued();
      const rotated = await manager({ tokens: { ...mine } }).refresh();
      const stored = [];
      const tm = manager({ tokens: { ...mine }, reload: async () => ({ ...rotated, expiresAt: Date.now() + 60_000 }), onTokens: (t) => stored.push(t) });
      const before = refreshes();
      const got = await tm.refresh();
      assert.strictEqual(refreshes() - before, 2, 'its own refused one, then one with the stored token');
      assert.notStrictEqual(got.refreshToken, rotated.refreshToken);
      assert.strictEqual(stored.at(-1).refreshToken, got.refreshToken);
    });

    it('the stored set is the same, missing, or unreadable: "authorize again" stands', async () => {
      const mine = issued();
      await manager({ tokens: { ...mine } }).refresh();
      for (const reload of [
        async () => ({ ...mine }),
        async () => undefined,
        async () => ({ ...mine, refreshToken: '' }),
        () => Promise.reject(new Error('EACCES')),
      ]) {
        const tm = manager({ tokens: { ...mine }, reload });
        const e = await failure(tm.refresh());
        assert.ok(isDeadLogin(e), e.message);
        assert.match(e.message, /authorize the account again/);
      }
    });

    it('a login-service hiccup is not a dead login: the store is not read', async () => {
      let reloads = 0;
      const tm = manager({ tokens: issued(), reload: async () => (reloads++, undefined), random: () => 0 });
      sim.faults.failNextRefresh(10, 503);
      const e = await failure(tm.refresh());
      assert.deepStrictEqual([e.kind, e.retryable, isDeadLogin(e)], ['http', true, false]);
      assert.strictEqual(reloads, 0);
    });

    it('a store that could not keep new tokens refuses the refresh before it is made: the refresh token stays good', async () => {
      const mine = issued();
      const refused = new CarDataError({ kind: 'storage', message: 'Cannot save the BMW tokens in /x (EACCES)' });
      let writable = false;
      const stored = [];
      const tm = manager({
        tokens: { ...mine },
        checkStore: async () => {
          if (!writable) throw refused;
        },
        onTokens: (t) => stored.push(t),
      });
      assert.strictEqual(await failure(tm.refresh()), refused);
      assert.strictEqual(await failure(tm.refreshAfterUnauthorized(mine.accessToken)), refused);
      assert.strictEqual(refreshes(), 0, 'no refresh was made');
      assert.deepStrictEqual(tm.current(), mine);
      writable = true;
      const fresh = await tm.refresh();
      assert.strictEqual(refreshes(), 1, 'the old refresh token still worked');
      assert.strictEqual(stored[0].refreshToken, fresh.refreshToken);
    });

    it('new tokens that could not be stored are said, kept in memory, and refreshed further without asking the store', async () => {
      const persistErrors = [];
      let checks = 0;
      const tm = manager({
        tokens: issued(),
        checkStore: async () => {
          checks += 1;
        },
        onTokens: () => Promise.reject(new Error('ENOSPC')),
        onPersistError: (e) => persistErrors.push(e.message),
      });
      const first = await tm.refresh();
      assert.deepStrictEqual([checks, persistErrors], [1, ['ENOSPC']]);
      assert.strictEqual(tm.current().refreshToken, first.refreshToken, 'kept in memory');
      // The stored token is spent already: the next refresh goes on with the one in memory.
      const second = await tm.refresh();
      assert.notStrictEqual(second.refreshToken, first.refreshToken);
      assert.deepStrictEqual([checks, persistErrors.length, refreshes()], [1, 2, 2]);
    });
  });

  describe('refresh grant', () => {
    it('rides out a few 5xx and dropped answers with backoff, then succeeds', async () => {
      const waits = [];
      sim.faults.failNextRefresh(2, 502);
      sim.faults.dropNextRefresh(1);
      const fresh = await refreshTokens(endpoint({ sleep: async (ms) => waits.push(ms), random: () => 1 }), issued().refreshToken);
      assert.ok(fresh.accessToken);
      assert.deepStrictEqual(waits, [500, 1000, 2000]);
    });

    it('gives up after four attempts with "unavailable, try later", keeping the login', async () => {
      const waits = [];
      sim.faults.failNextRefresh(4, 500);
      const e = await failure(refreshTokens(endpoint({ sleep: async (ms) => waits.push(ms), random: () => 1 }), issued().refreshToken));
      assert.strictEqual(waits.length, 3);
      assert.deepStrictEqual([e.kind, e.status, e.retryable], ['http', 500, true]);
      assert.match(e.message, /^Refreshing the BMW login: BMW's login service is unavailable/);
      assert.match(e.hint, /login, which is kept/);
    });

    it('a retired refresh token: "authorize again", not retried', async () => {
      const tokens = issued();
      await refreshTokens(endpoint(), tokens.refreshToken);
      const waits = [];
      const e = await failure(refreshTokens(endpoint({ sleep: async (ms) => waits.push(ms) }), tokens.refreshToken));
      assert.deepStrictEqual([e.kind, e.oauthError, e.retryable, waits.length], ['auth', 'invalid_grant', false, 0]);
      assert.strictEqual(e.message, 'BMW no longer accepts the saved refresh token: authorize the account again');
      assert.match(e.hint, /two weeks/);
    });

    it('an answer without tokens is a retryable response error that names only its size', async () => {
      sim.faults.answerNext(4, { status: 200, contentType: 'text/html', body: '<html>proxy</html>' }, { path: /oauth\/token/ });
      const e = await failure(refreshTokens(endpoint(), issued().refreshToken));
      assert.deepStrictEqual([e.kind, e.retryable], ['response', true]);
      assert.strictEqual(e.message, "BMW's login service answered without tokens (text, 18 bytes)");
      sim.faults.answerNext(4, { status: 200, contentType: 'application/json', body: '{"access_token":"a"}' }, { path: /oauth\/token/ });
      const j = await failure(refreshTokens(endpoint(), issued().refreshToken));
      assert.match(j.message, /\(JSON without access_token and refresh_token\)$/);
    });

    it('no answer at all is a network error', async () => {
      const e = await failure(refreshTokens({ ...endpoint(), authBaseUrl: 'http://127.0.0.1:9' }, 'r'));
      assert.deepStrictEqual([e.kind, e.retryable], ['network', true]);
      assert.strictEqual(e.message, "Refreshing the BMW login: no answer from BMW's login service (ECONNREFUSED)");
    });
  });

  describe('login service answers', () => {
    it('a base URL with trailing slashes and a padded client ID still reach the right endpoint as the right client', async () => {
      const padded = endpoint({ clientId: `  ${CLIENT}  `, authBaseUrl: `${sim.authBaseUrl}//` });
      const fresh = await refreshTokens(padded, issued().refreshToken);
      assert.ok(fresh.accessToken);
      const auth = await startDeviceAuthorization(padded);
      sim.approve(auth.userCode);
      assert.strictEqual((await pollDeviceAuthorization(padded, auth)).status, 'success');
      assert.ok(
        sim.requests.every((r) => !r.path.includes('//')),
        sim.requests.map((r) => r.path).join(),
      );
    });

    it('OAuth errors carry GCDM\'s description; any answer without one, and every 5xx, is "unavailable"', async () => {
      const answer = (status, body) =>
        sim.faults.answerNext(1, { status, contentType: 'application/json', body: JSON.stringify(body) }, { path: /device\/code/ });
      answer(400, { error: 'invalid_client', error_description: 'unknown client' });
      const described = await failure(startDeviceAuthorization(endpoint()));
      assert.strictEqual(described.message, 'Starting the BMW login: invalid_client (unknown client)');
      assert.deepStrictEqual([described.kind, described.oauthError, described.retryable], ['auth', 'invalid_client', false]);
      answer(400, { error: 'invalid_client', error_description: 42 });
      assert.strictEqual((await failure(startDeviceAuthorization(endpoint()))).message, 'Starting the BMW login: invalid_client');
      answer(400, { error: 5 });
      const numeric = await failure(startDeviceAuthorization(endpoint()));
      assert.deepStrictEqual(
        [numeric.kind, numeric.retryable, numeric.message],
        ['http', true, "Starting the BMW login: BMW's login service is unavailable (HTTP 400)"],
      );
      answer(499, {});
      assert.deepStrictEqual([(await failure(startDeviceAuthorization(endpoint()))).kind], ['http']);
      answer(400, { error: 'Rate <b>limited</b>, see https://example.invalid' });
      const odd = await failure(startDeviceAuthorization(endpoint()));
      assert.deepStrictEqual(
        [odd.kind, odd.oauthError, odd.message],
        ['http', undefined, "Starting the BMW login: BMW's login service is unavailable (HTTP 400)"],
        'a text that is no OAuth code is not repeated',
      );
      answer(429, { error: 'invalid_request' });
      assert.strictEqual((await failure(startDeviceAuthorization(endpoint()))).kind, 'http', 'a 429 is a hiccup whatever its body says');
      answer(500, { error: 'invalid_grant' });
      const five = await failure(startDeviceAuthorization(endpoint()));
      assert.deepStrictEqual([five.kind, five.retryable, five.oauthError], ['http', true, 'invalid_grant']);
      assert.strictEqual(five.message, "Starting the BMW login: BMW's login service is unavailable (invalid_grant)");
      answer(503, {});
      assert.strictEqual((await failure(startDeviceAuthorization(endpoint()))).oauthError, undefined, 'no OAuth error for a bare status');
    });

    it('a dead login is an auth error that is not retryable, nothing else', () => {
      assert.strictEqual(isDeadLogin(new CarDataError({ kind: 'auth', message: 'x' })), true);
      assert.strictEqual(isDeadLogin(new CarDataError({ kind: 'auth', message: 'x', retryable: true })), false);
      assert.strictEqual(isDeadLogin(new CarDataError({ kind: 'http', message: 'x' })), false);
      assert.strictEqual(isDeadLogin(Object.assign(new Error('x'), { kind: 'auth', retryable: false })), false);
      assert.strictEqual(isDeadLogin(undefined), false);
    });

    it('a device login with a negative or missing interval polls every 5 s; waiting sleeps the interval in ms', async () => {
      sim.faults.answerNext(
        1,
        { status: 200, contentType: 'application/json', body: JSON.stringify({ device_code: 'd', user_code: 'u', interval: 'soon' }) },
        { path: /device\/code/ },
      );
      const auth = await startDeviceAuthorization(endpoint());
      assert.strictEqual(auth.interval, 5);
      const real = await startDeviceAuthorization(endpoint());
      real.interval = 2;
      const waits = [];
      await waitForDeviceAuthorization(endpoint(), real, { sleep: async (ms) => (waits.push(ms), sim.approve(real.userCode)) });
      assert.deepStrictEqual(waits, [2000]);
    });

    it('a hiccup while the code is still alive keeps polling; one at its expiry ends the wait', async () => {
      const auth = await startDeviceAuthorization(endpoint());
      let now = auth.expiresAt - 10_000;
      sim.faults.answerNext(1, { status: 503, contentType: 'text/plain', body: 'x' }, { path: /oauth\/token/ });
      let polls = 0;
      const tokens = await waitForDeviceAuthorization({ ...endpoint(), now: () => now }, auth, {
        sleep: async () => {
          polls += 1;
          sim.approve(auth.userCode);
        },
      });
      assert.ok(tokens.accessToken);
      assert.strictEqual(polls, 1);
      const late = await startDeviceAuthorization(endpoint());
      now = late.expiresAt - 1;
      sim.faults.answerNext(1, { status: 503, contentType: 'text/plain', body: 'x' }, { path: /oauth\/token/ });
      const e = await failure(waitForDeviceAuthorization({ ...endpoint(), now: () => now }, late, { sleep: async () => void (now = late.expiresAt) }));
      assert.strictEqual(e.kind, 'auth', 'after the hiccup the code expired: expired_token');
      assert.strictEqual(e.oauthError, 'expired_token');
    });

    it('no answer from the login service names the code', async () => {
      const e = await failure(startDeviceAuthorization({ ...endpoint(), authBaseUrl: 'http://127.0.0.1:9' }));
      assert.strictEqual(e.message, "Starting the BMW login: no answer from BMW's login service (ECONNREFUSED)");
      assert.strictEqual(e.hint, 'Check the network and the auth base URL. The login is kept; try again in a few minutes.');
      const odd = await failure(startDeviceAuthorization({ ...endpoint(), transport: { request: async () => Promise.reject(new Error('boom')) } }));
      assert.strictEqual(odd.message, "Starting the BMW login: no answer from BMW's login service (ENETWORK)");
    });
  });

  describe('token answers', () => {
    it("maps GCDM's answer, with an hour by default and numbers given as text", () => {
      const body = { access_token: 'a', refresh_token: 'r', id_token: 'i', gcid: 'g', scope: 's', expires_in: 60 };
      assert.deepStrictEqual(tokenSetFromResponse(body, 1000), { accessToken: 'a', refreshToken: 'r', idToken: 'i', gcid: 'g', scope: 's', expiresAt: 61_000 });
      assert.strictEqual(tokenSetFromResponse({ access_token: 'a', refresh_token: 'r' }, 0).expiresAt, 3_599_000);
      assert.strictEqual(tokenSetFromResponse({ access_token: 'a', refresh_token: 'r', expires_in: '120' }, 0).expiresAt, 120_000);
      assert.strictEqual(tokenSetFromResponse({ access_token: 'a', refresh_token: 'r', expires_in: 'soon' }, 0).expiresAt, 3_599_000);
      const bare = tokenSetFromResponse({ access_token: 'a', refresh_token: 'r', id_token: 5, gcid: null, scope: [] }, 0);
      assert.deepStrictEqual([bare.idToken, bare.gcid, bare.scope], [undefined, undefined, undefined]);
      for (const body2 of [{ access_token: 'a' }, { refresh_token: 'r' }, null, 'x', Buffer.from('{}')]) {
        assert.throws(
          () => tokenSetFromResponse(body2, 0),
          (e) => e instanceof CarDataError && e.kind === 'response',
        );
      }
    });
  });

  describe('device login', () => {
    it('starts with PKCE, trims the client ID, and returns what the user must see', async () => {
      const auth = await startDeviceAuthorization({ ...endpoint(), clientId: `  ${CLIENT} `, now: () => 1_000_000 });
      const req = sim.requests.find((r) => r.path === '/gcdm/oauth/device/code') ?? sim.requests[0];
      assert.ok(req);
      assert.match(auth.userCode, /\S/);
      assert.match(auth.verificationUri, /^https?:\/\//);
      assert.ok(auth.verificationUriComplete.startsWith(auth.verificationUri));
      assert.ok(auth.interval >= 0);
      assert.ok(auth.expiresAt > 1_000_000);
      assert.match(auth.codeVerifier, /^[A-Za-z0-9_-]{43,128}$/);
      assert.ok(auth.deviceCode);
    });

    it('fills what GCDM leaves out: the complete link, a 5 s interval, 300 s of life', async () => {
      sim.faults.answerNext(
        1,
        {
          status: 200,
          contentType: 'application/json',
          body: JSON.stringify({ device_code: 'd', user_code: 'U C', verification_uri: 'https://x.example/verify', interval: -1 }),
        },
        { path: /device\/code/ },
      );
      const auth = await startDeviceAuthorization({ ...endpoint(), now: () => 1000 });
      assert.deepStrictEqual(
        { c: auth.verificationUriComplete, i: auth.interval, e: auth.expiresAt, u: auth.userCode, d: auth.deviceCode },
        { c: 'https://x.example/verify?user_code=U%20C', i: 5, e: 301_000, u: 'U C', d: 'd' },
      );
      sim.faults.answerNext(
        1,
        { status: 200, contentType: 'application/json', body: JSON.stringify({ device_code: 'd', user_code: 'u', interval: 0, expires_in: 60 }) },
        { path: /device\/code/ },
      );
      const zero = await startDeviceAuthorization({ ...endpoint(), now: () => 0 });
      assert.deepStrictEqual([zero.interval, zero.expiresAt, zero.verificationUri], [0, 60_000, '']);
    });

    it('refuses an empty client ID before asking, and an answer without codes', async () => {
      for (const clientId of ['', '   ']) {
        const e = await failure(startDeviceAuthorization({ ...endpoint(), clientId }));
        assert.deepStrictEqual([e.kind, e.parameter], ['input', 'clientId']);
      }
      assert.strictEqual(sim.requests.length, 0);
      sim.faults.answerNext(1, { status: 200, contentType: 'application/json', body: JSON.stringify({ user_code: 'u' }) }, { path: /device\/code/ });
      const e = await failure(startDeviceAuthorization(endpoint()));
      assert.deepStrictEqual([e.kind, e.message], ['auth', 'BMW login answered without a device code']);
      sim.faults.answerNext(1, { status: 503, contentType: 'text/plain', body: 'down' }, { path: /device\/code/ });
      const down = await failure(startDeviceAuthorization(endpoint()));
      assert.deepStrictEqual([down.kind, down.retryable, down.status], ['http', true, 503]);
      assert.strictEqual(down.message, "Starting the BMW login: BMW's login service is unavailable (HTTP 503)");
      sim.faults.answerNext(1, { status: 400, contentType: 'text/plain', body: 'no' }, { path: /device\/code/ });
      const plain = await failure(startDeviceAuthorization(endpoint()));
      assert.deepStrictEqual(
        [plain.kind, plain.status, plain.retryable, plain.message],
        ['http', 400, true, "Starting the BMW login: BMW's login service is unavailable (HTTP 400)"],
      );
      sim.faults.answerNext(1, { status: 400, contentType: 'application/json', body: '{"error":"temporarily_unavailable"}' }, { path: /device\/code/ });
      const busy = await failure(startDeviceAuthorization(endpoint()));
      assert.deepStrictEqual([busy.kind, busy.oauthError, busy.retryable], ['http', 'temporarily_unavailable', true]);
    });

    it('polling: pending until approved, a code past its life is refused without asking', async () => {
      const auth = await startDeviceAuthorization(endpoint());
      assert.deepStrictEqual(await pollDeviceAuthorization(endpoint(), auth), { status: 'pending', interval: auth.interval });
      sim.approve(auth.userCode);
      const done = await pollDeviceAuthorization(endpoint(), auth);
      assert.strictEqual(done.status, 'success');
      assert.ok(done.tokens.refreshToken);
      const asked = sim.requests.length;
      const late = await failure(pollDeviceAuthorization({ ...endpoint(), now: () => auth.expiresAt }, auth));
      assert.deepStrictEqual([late.kind, late.oauthError], ['auth', 'expired_token']);
      assert.strictEqual(sim.requests.length, asked);
    });

    it('waiting: counts down, keeps polling through login-service hiccups, stops when cancelled', async () => {
      const auth = await startDeviceAuthorization(endpoint());
      const left = [];
      const waits = [];
      sim.faults.answerNext(1, { status: 502, contentType: 'text/plain', body: 'bad gateway' }, { path: /oauth\/token/ });
      let polls = 0;
      const tokens = await waitForDeviceAuthorization(endpoint(), auth, {
        sleep: async (ms) => {
          waits.push(ms);
          polls += 1;
          if (polls === 2) sim.approve(auth.userCode);
        },
        onPending: (s) => left.push(s),
      });
      assert.ok(tokens.accessToken);
      assert.deepStrictEqual(waits, [auth.interval * 1000, auth.interval * 1000]);
      assert.strictEqual(left.length, 2);
      assert.ok(left.every((s) => Number.isInteger(s) && s > 0 && s <= Math.round((auth.expiresAt - Date.now()) / 1000) + 1));

      const controller = new AbortController();
      controller.abort();
      const again = await startDeviceAuthorization(endpoint());
      const e = await failure(waitForDeviceAuthorization(endpoint(), again, { signal: controller.signal }));
      assert.deepStrictEqual([e.kind, e.message], ['auth', 'BMW login cancelled']);
    });

    it('a hiccup after the code expired ends the wait', async () => {
      const auth = await startDeviceAuthorization(endpoint());
      let now = Date.now();
      sim.faults.answerNext(1, { status: 503, contentType: 'text/plain', body: 'x' }, { path: /oauth\/token/ });
      const e = await failure(
        waitForDeviceAuthorization({ ...endpoint(), now: () => now }, auth, {
          sleep: async () => {
            now = auth.expiresAt;
          },
          onPending: () => {
            now = auth.expiresAt - 1;
          },
        }),
      );
      assert.ok(e instanceof CarDataError);
      assert.ok(['http', 'auth'].includes(e.kind), e.kind);
    });

    it('asks for the CarData scopes by default', () => {
      assert.deepStrictEqual(DEFAULT_SCOPE.split(' ').sort(), ['authenticate_user', 'cardata:api:read', 'cardata:streaming:read', 'openid']);
    });
  });

  describe('one login, two holders in a process (TokenRing)', () => {
    it('the second holder takes the set the first one refreshed, instead of refreshing with a retired token', async () => {
      let now = Date.now();
      const tokens = issued(now);
      const ring = new TokenRing();
      const storedA = [];
      const storedB = [];
      const a = manager({ tokens: { ...tokens }, now: () => now, ring, onTokens: (t) => storedA.push(t) });
      const b = manager({ tokens: { ...tokens }, now: () => now, ring, onTokens: (t) => storedB.push(t) });
      now = tokens.expiresAt; // both are due
      const fromA = await a.getAccessToken();
      assert.strictEqual(refreshes(), 1);
      const fromB = await b.getAccessToken();
      assert.strictEqual(fromB, fromA, "B uses A's fresh access token");
      assert.strictEqual(refreshes(), 1, 'B did not refresh with the token A retired');
      assert.strictEqual(storedB.at(-1).refreshToken, storedA.at(-1).refreshToken, 'B stored the set it took');
      // Later B refreshes first, and A takes B's set.
      now = b.current().expiresAt;
      await b.refresh();
      assert.strictEqual(await a.getAccessToken(), b.current().accessToken);
      assert.strictEqual(refreshes(), 2);
    });

    it('a holder offers its set as it starts and withdraws it as it stops; a newer set that is itself due is refreshed once, from its own token', async () => {
      let now = Date.now();
      const older = issued(now);
      const newer = issued(now + 60_000);
      assert.strictEqual(newer.gcid, older.gcid, 'one login');
      const ring = new TokenRing();
      const key = TokenRing.key(sim.authBaseUrl, CLIENT, older.gcid);
      const a = manager({ tokens: { ...newer }, now: () => now, ring });
      const b = manager({ tokens: { ...older }, now: () => now, ring });
      // B renews: the set A started with is newer and still good, so B takes it and asks BMW nothing.
      assert.strictEqual((await b.refresh()).refreshToken, newer.refreshToken);
      assert.strictEqual(refreshes(), 0);
      // A stops: its set is no longer offered.
      a.release();
      assert.strictEqual(ring.newerThan(key, older), undefined);
      // A newer set that is due itself: taken, then refreshed once with its own refresh token.
      ring.offer(key, newer);
      const c = manager({ tokens: { ...older }, now: () => now, ring });
      now = newer.expiresAt - 60_000;
      const renewed = await c.refresh();
      assert.strictEqual(refreshes(), 1);
      assert.strictEqual(sim.requests.find((r) => r.grantType === 'refresh_token').refreshToken, newer.refreshToken);
      assert.notStrictEqual(renewed.accessToken, newer.accessToken);
    });

    it('without the ring the second holder refreshes with the retired token, and BMW refuses it', async () => {
      let now = Date.now();
      const tokens = issued(now);
      const a = manager({ tokens: { ...tokens }, now: () => now });
      const b = manager({ tokens: { ...tokens }, now: () => now });
      now = tokens.expiresAt;
      await a.getAccessToken();
      const e = await failure(b.getAccessToken());
      assert.strictEqual(e.kind, 'auth');
    });

    it('a login is its login service, client ID and GCID; the newest set by expiry is kept; a set without GCID is not shared', () => {
      const ring = new TokenRing();
      const key = TokenRing.key('http://auth/', 'c', 'g');
      assert.strictEqual(key, TokenRing.key('http://auth', ' c ', 'g'));
      assert.notStrictEqual(key, TokenRing.key('http://auth', 'other', 'g'));
      assert.notStrictEqual(key, TokenRing.key('http://other', 'c', 'g'));
      assert.strictEqual(TokenRing.key('http://auth', 'c', undefined), undefined);
      const set = (r, expiresAt) => ({ accessToken: `a-${r}`, refreshToken: r, gcid: 'g', expiresAt });
      ring.offer(key, set('r1', 100));
      ring.offer(key, set('r0', 50));
      assert.strictEqual(ring.newerThan(key, set('r0', 50)).refreshToken, 'r1');
      assert.strictEqual(ring.newerThan(key, set('r1', 100)), undefined, 'the same set is not newer');
      assert.strictEqual(ring.newerThan(key, set('r2', 200)), undefined, 'an older held set is not newer');
      ring.offer(key, set('r2', 200));
      assert.strictEqual(ring.newerThan(key, set('r1', 100)).refreshToken, 'r2');
      ring.release(key, set('r1', 100));
      assert.strictEqual(ring.newerThan(key, set('r1', 100)).refreshToken, 'r2', 'a holder of an older set releases nothing');
      ring.release(key, set('r2', 200));
      assert.strictEqual(ring.newerThan(key, set('r1', 100)), undefined, 'the holder of the set held releases it');
      ring.offer(key, set('r2', 200));
      ring.offer(undefined, set('r3', 300));
      ring.offer(key, { ...set('', 400) });
      assert.strictEqual(ring.newerThan(key, set('r1', 100)).refreshToken, 'r2', 'no login, or no refresh token: not kept');
    });
  });

  describe('stored tokens: one format for every host', () => {
    const set = { accessToken: 'a', refreshToken: 'r', idToken: 'i', gcid: 'g', scope: 's', expiresAt: Date.UTC(2026, 11, 6, 12) };

    it('a token set and its stored fields go both ways, the expiry as ISO 8601', () => {
      const stored = storedTokens(set);
      assert.deepStrictEqual(stored, { accessToken: 'a', refreshToken: 'r', idToken: 'i', gcid: 'g', scope: 's', expiresAt: '2026-12-06T12:00:00.000Z' });
      assert.deepStrictEqual(tokensFromStored(stored), set);
    });

    it('what BMW did not send again is kept from the fields stored before', () => {
      const again = storedTokens({ accessToken: 'a2', refreshToken: 'r2', expiresAt: set.expiresAt }, storedTokens(set));
      assert.deepStrictEqual([again.idToken, again.gcid, again.scope, again.refreshToken], ['i', 'g', 's', 'r2']);
      assert.deepStrictEqual([storedTokens({ ...set, idToken: undefined, gcid: undefined, scope: undefined }).gcid], ['']);
    });

    it('reads the expiry as ISO 8601 or epoch milliseconds (older Node-RED accounts), else 0', () => {
      const at = (expiresAt) => tokensFromStored({ refreshToken: 'r', expiresAt }).expiresAt;
      assert.strictEqual(at('2026-12-06T12:00:00.000Z'), set.expiresAt);
      assert.strictEqual(at(String(set.expiresAt)), set.expiresAt);
      assert.strictEqual(at(set.expiresAt), set.expiresAt);
      for (const junk of [undefined, '', 'soon', NaN, Infinity, {}, '12abc']) assert.strictEqual(at(junk), 0, String(junk));
    });

    it('trims pasted fields, leaves out empty ones, and has no token set without a refresh token', () => {
      assert.deepStrictEqual(tokensFromStored({ refreshToken: ' r \n', accessToken: ' a', idToken: ' ', gcid: 5, scope: '' }), {
        accessToken: 'a',
        refreshToken: 'r',
        idToken: undefined,
        gcid: undefined,
        scope: undefined,
        expiresAt: 0,
      });
      for (const none of [undefined, {}, { refreshToken: '  ' }, { refreshToken: 7, accessToken: 'a' }]) assert.strictEqual(tokensFromStored(none), undefined);
    });
  });
});
