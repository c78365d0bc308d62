// The login a stream connection offers the broker (src/core/stream/login.ts), driven with a token source the test
// controls: when the current id_token is used, when it is refreshed, what a failed refresh falls back to, and what
// the stream says when no login can be had.
import assert from 'assert';
import { loginFailure, StreamLogin } from '../../../src/core/stream/login';
import { StreamError } from '../../../src/core/stream/types';
import { CarDataError, LoginError } from '../../../src/core/errors';

const MARGIN = 5 * 60_000;
const NOW = 1_800_000_000_000;

const set = (id: string, extra = {}) => ({
  accessToken: `a-${id}`,
  refreshToken: `r-${id}`,
  idToken: `id-${id}`,
  gcid: 'gcid-1',
  expiresAt: NOW + 3_600_000,
  ...extra,
});

function source(current: any, refresh: () => Promise<any> = async () => set('fresh')) {
  const log = { refreshes: 0 };
  return {
    log,
    src: {
      current: () => current,
      refresh: () => {
        log.refreshes++;
        return refresh();
      },
    },
  };
}

const dead = () => new LoginError({ kind: 'auth', message: 'The login is no longer valid', hint: 'Authorize again.' });
const hiccup = () => new CarDataError({ kind: 'network', message: 'The login service did not answer', retryable: true });

describe('stream login', () => {
  let now = NOW;
  const login = (s: ReturnType<typeof source>) =>
    new StreamLogin(
      () => s.src,
      MARGIN,
      () => now,
    );
  beforeEach(() => (now = NOW));

  it('offers the current id_token while it is good for longer than the margin, without a refresh', async () => {
    const s = source(set('current'));
    assert.strictEqual((await login(s).tokens({ orCurrent: false })).idToken, 'id-current');
    assert.strictEqual(s.log.refreshes, 0);
  });

  it('refreshes at the margin: expiring is true from exactly margin before the expiry', async () => {
    const current = set('current');
    const s = source(current);
    const l = login(s);
    now = current.expiresAt - MARGIN - 1;
    assert.strictEqual(l.expiring(current), false);
    assert.strictEqual((await l.tokens({ orCurrent: false })).idToken, 'id-current');
    now = current.expiresAt - MARGIN;
    assert.strictEqual(l.expiring(current), true);
    assert.strictEqual((await l.tokens({ orCurrent: false })).idToken, 'id-fresh');
    assert.strictEqual(s.log.refreshes, 1);
  });

  it('renews a connection margin before the expiry, and never sooner than a second from now', () => {
    const l = login(source(undefined));
    assert.strictEqual(l.renewDelay(set('x', { expiresAt: NOW + MARGIN + 60_000 })), 60_000);
    assert.strictEqual(l.renewDelay(set('x', { expiresAt: NOW + MARGIN + 1_001 })), 1_001);
    assert.strictEqual(l.renewDelay(set('x', { expiresAt: NOW + MARGIN })), 1_000);
    assert.strictEqual(l.renewDelay(set('x', { expiresAt: NOW })), 1_000);
  });

  it('never offers an id_token the broker refused, nor the one being replaced: it refreshes', async () => {
    const current = set('current');
    const s = source(current);
    const l = login(s);
    assert.strictEqual((await l.tokens({ orCurrent: false, replacing: 'id-current' })).idToken, 'id-fresh');
    assert.strictEqual((await l.tokens({ orCurrent: false, replacing: 'id-other' })).idToken, 'id-current');
    l.reject(current);
    assert.strictEqual((await l.tokens({ orCurrent: false })).idToken, 'id-fresh');
    assert.strictEqual(s.log.refreshes, 2);
  });

  it('a set without id_token or GCID is refreshed; without a refresh token there is no stream login', async () => {
    for (const current of [set('c', { idToken: undefined }), set('c', { gcid: undefined }), set('c', { idToken: '' })]) {
      const s = source(current);
      assert.strictEqual((await login(s).tokens({ orCurrent: true })).idToken, 'id-fresh');
      assert.strictEqual(s.log.refreshes, 1);
    }
    for (const current of [undefined, set('c', { refreshToken: '', idToken: undefined })]) {
      const s = source(current);
      await assert.rejects(login(s).tokens({ orCurrent: true }), (e: any) => {
        assert.ok(e instanceof StreamError);
        assert.strictEqual(e.streamCode, 'no-login');
        assert.strictEqual(e.kind, 'auth');
        assert.match(e.hint, /openid and cardata:streaming:read/);
        return true;
      });
      assert.strictEqual(s.log.refreshes, 0);
    }
  });

  it('a refresh that brings no id_token or no GCID is no stream login', async () => {
    for (const fresh of [set('f', { idToken: undefined }), set('f', { gcid: undefined })]) {
      const s = source(set('c', { expiresAt: NOW }), async () => fresh);
      await assert.rejects(login(s).tokens({ orCurrent: false }), (e: any) => e.streamCode === 'no-login');
    }
  });

  it('orCurrent: a hiccup of the login service falls back to a current id_token valid for 5 more seconds', async () => {
    const fails = (current: any) => source(current, async () => Promise.reject(hiccup()));
    // Expiring within the margin, still valid: used.
    const expiring = set('c', { expiresAt: NOW + 60_000 });
    assert.strictEqual((await login(fails(expiring)).tokens({ orCurrent: true })).idToken, 'id-c');
    // Not with orCurrent off.
    await assert.rejects(login(fails(expiring)).tokens({ orCurrent: false }), /did not answer/);
    // Valid for exactly 5 s or less: not used.
    await assert.rejects(login(fails(set('c', { expiresAt: NOW + 5_000 }))).tokens({ orCurrent: true }), /did not answer/);
    assert.strictEqual((await login(fails(set('c', { expiresAt: NOW + 5_001 }))).tokens({ orCurrent: true })).idToken, 'id-c');
    // Not one the broker refused, and never for a dead login.
    const refused = login(fails(expiring));
    refused.reject(expiring);
    await assert.rejects(refused.tokens({ orCurrent: true }), /did not answer/);
    await assert.rejects(login(source(expiring, async () => Promise.reject(dead()))).tokens({ orCurrent: true }), /no longer valid/);
    // The one being replaced is still a fallback: a hiccup need not stop a reconnect.
    assert.strictEqual((await login(fails(expiring)).tokens({ orCurrent: true, replacing: 'id-c' })).idToken, 'id-c');
  });

  it('loginFailure: a dead login says to authorize again; anything else that the stream retries', () => {
    const fields = (e: StreamError) => ({ streamCode: e.streamCode, kind: e.kind, retryable: e.retryable, message: e.message, hint: e.hint });
    assert.deepStrictEqual(fields(loginFailure(dead())), {
      streamCode: 'refresh-failed',
      kind: 'auth',
      retryable: false,
      message: 'The stream login could not be renewed: The login is no longer valid',
      hint: 'Authorize again.',
    });
    assert.strictEqual(loginFailure(new LoginError({ kind: 'auth', message: 'x' })).hint, 'Authorize the account again.');
    const own = new StreamError({ streamCode: 'no-login', kind: 'auth', message: 'none' });
    assert.strictEqual(loginFailure(own), own, 'a stream error of its own is passed on as it is');

    assert.deepStrictEqual(fields(loginFailure(hiccup())), {
      streamCode: 'connection',
      kind: 'network',
      retryable: true,
      message: 'The stream login could not be renewed: The login service did not answer',
      hint: 'Check the network; the stream retries by itself.',
    });
    assert.strictEqual(loginFailure(new CarDataError({ kind: 'network', message: 'm', hint: 'Wait.' })).hint, 'Wait.');
    const reset = loginFailure(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    assert.strictEqual(reset.message, 'The stream login could not be renewed: socket hang up (ECONNRESET)');
    assert.strictEqual(reset.hint, 'Check the network; the stream retries by itself.');
    assert.strictEqual((reset as any).cause.code, 'ECONNRESET');
  });
});
