// The token manager against the simulator's GCDM at its edges: one refresh for callers that ask at once, when the
// store is checked before a refresh, hosts without a store or without an error handler, and a newer set taken at
// the very end of its margin.
import assert from 'assert';
import { startSimulator } from '../../../src/simulator';
import { TokenManager, TokenRing, AxiosTransport, tokenSetFromResponse, type TokenSet } from '../../../src/node';

const CLIENT = 'manager-client';
const MARGIN = 5 * 60_000;

describe('core token manager at its edges', function () {
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  beforeEach(async () => {
    sim = await startSimulator({ pollIntervalSec: 0 });
  });
  afterEach(() => sim.close());

  const refreshes = () => sim.requests.filter((r: { grantType?: string }) => r.grantType === 'refresh_token').length;
  const issued = (now = Date.now()): TokenSet => tokenSetFromResponse(sim.issueTokens({ clientId: CLIENT }), now);
  const manager = (extra = {}) =>
    new TokenManager({ transport: new AxiosTransport(), clientId: CLIENT, authBaseUrl: sim.authBaseUrl, sleep: async () => {}, ...extra });

  it('two refreshes asked at once are one refresh', async () => {
    const tm = manager({ tokens: issued() });
    const [a, b] = await Promise.all([tm.refresh(), tm.refresh()]);
    assert.strictEqual(refreshes(), 1);
    assert.deepStrictEqual(a, b);
  });

  it('the store is checked before every refresh while it keeps what it is given', async () => {
    let checks = 0;
    const stored: TokenSet[] = [];
    const tm = manager({ tokens: issued(), onTokens: (t: TokenSet) => void stored.push(t), checkStore: async () => void (checks += 1) });
    await tm.refresh();
    await tm.refresh();
    assert.deepStrictEqual([checks, stored.length, refreshes()], [2, 2, 2]);
  });

  it('a host that stores nothing is no failed store: no error is told and the store is still checked', async () => {
    const errors: unknown[] = [];
    let checks = 0;
    const tm = manager({ onPersistError: (e: unknown) => errors.push(e), checkStore: async () => void (checks += 1) });
    await tm.setTokens(issued());
    await tm.refresh();
    assert.deepStrictEqual([errors, checks], [[], 1]);
  });

  it('a store that fails without an error handler: the tokens are set and kept in memory', async () => {
    const tokens = issued();
    const tm = manager({
      onTokens: () => {
        throw new Error('EACCES');
      },
    });
    await tm.setTokens(tokens);
    assert.strictEqual(tm.current()?.accessToken, tokens.accessToken);
  });

  it('releasing without a ring is nothing', () => {
    const tm = manager({ tokens: issued() });
    assert.doesNotThrow(() => tm.release());
  });

  it('a reloaded set whose access token is exactly at the margin is refreshed', async () => {
    const now = Date.now();
    const mine = issued(now);
    const rotated = await manager({ tokens: { ...mine } }).refresh();
    const tm = manager({ tokens: { ...mine }, now: () => now, reload: async () => ({ ...rotated, expiresAt: now + MARGIN }) });
    const before = refreshes();
    const got = await tm.refresh();
    assert.strictEqual(refreshes() - before, 2, 'its own refused one, then one with the reloaded token');
    assert.notStrictEqual(got.accessToken, rotated.accessToken);
  });

  it('a newer set from the ring whose access token is exactly at the margin is refreshed with its token', async () => {
    const now = Date.now();
    const mine = issued(now - 3_500_000);
    const rotated = await manager({ tokens: { ...mine } }).refresh();
    const ring = new TokenRing();
    const tm = manager({ tokens: { ...mine }, now: () => now, ring });
    ring.offer(TokenRing.key(sim.authBaseUrl, CLIENT, mine.gcid), { ...rotated, expiresAt: now + MARGIN });
    const before = refreshes();
    const got = await tm.refresh();
    assert.strictEqual(refreshes() - before, 1);
    assert.notStrictEqual(got.refreshToken, rotated.refreshToken);
  });
});
