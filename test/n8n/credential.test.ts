import assert from 'assert';
import { MemoryCredentialsHelper, testCredential, runNode, authorizedCredentials, useSimulator } from '../support/n8n-harness';
import { BmwCarDataApi } from '../../credentials/BmwCarDataApi.credentials.js';
import type { IHttpRequestOptions } from 'n8n-workflow';

describe('n8n credential bmwCarDataApi: device login and test through n8n-core', function () {
  let sim;
  useSimulator({}, (s) => (sim = s));

  const fresh = (clientId = 'my-client-id') => new MemoryCredentialsHelper({ clientId, apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl });

  it('Save starts the device login and stores link and code; Retry after approval completes it', async () => {
    const creds = fresh();
    const first = await testCredential(creds);
    assert.strictEqual(first.status, 'Error');
    assert.match(first.message, /reopen this credential/i);
    assert.match(first.message, /Retry/);
    assert.match(creds.data.userCode, /\S+/);
    assert.ok(creds.data.verificationUrl.startsWith(`${sim.authBaseUrl}/oneid/link`), creds.data.verificationUrl);
    assert.ok(creds.data.verificationUrl.includes(encodeURIComponent(creds.data.userCode)) || creds.data.verificationUrl.includes(creds.data.userCode));
    assert.ok(creds.data.deviceCode && creds.data.codeVerifier, 'device code and PKCE verifier kept in hidden fields');
    assert.doesNotMatch(first.message, new RegExp(creds.data.deviceCode));

    // Retry before approving: still pending, same code, nothing started anew.
    const userCode = creds.data.userCode;
    const pending = await testCredential(creds);
    assert.strictEqual(pending.status, 'Error');
    assert.strictEqual(creds.data.userCode, userCode);

    sim.approve(userCode);
    const done = await testCredential(creds);
    assert.deepStrictEqual(done, { status: 'OK', message: 'Connection successful!' });
    assert.ok(creds.data.accessToken && creds.data.refreshToken);
    assert.strictEqual(creds.data.gcid, sim.gcid);
    assert.strictEqual(creds.data.deviceCode, '');
    assert.strictEqual(creds.data.userCode, '');

    // The stored login now works in a workflow.
    sim.clearLog();
    const { error } = await runNode(creds, { resource: 'container', operation: 'getAll' });
    assert.ifError(error);
    assert.strictEqual(sim.requests.filter((r) => r.kind === 'auth').length, 0, 'no login call: the access token is valid');
  });

  it('a declined login starts a new code on the next Retry', async () => {
    const creds = fresh();
    await testCredential(creds);
    const first = creds.data.userCode;
    sim.deny(first);
    const again = await testCredential(creds);
    assert.strictEqual(again.status, 'Error');
    assert.notStrictEqual(creds.data.userCode, first);
  });

  it('a token without the CarData scope: the test names CU-103 and what to do, and keeps the rotated token', async () => {
    const creds = authorizedCredentials(sim, { scope: 'authenticate_user openid' });
    const before = creds.data.refreshToken;
    const result = await testCredential(creds);
    assert.strictEqual(result.status, 'Error');
    assert.match(result.message, /CU-103/);
    assert.match(result.message, /subscribe the client ID to "CarData API"/);
    assert.notStrictEqual(creds.data.refreshToken, before, 'the refresh that showed the scope was stored');
    assert.strictEqual(creds.data.scope, 'authenticate_user openid');
  });

  it('a client ID BMW does not know for the code: the test says so in words', async () => {
    const creds = fresh('client-a');
    await testCredential(creds);
    creds.data.clientId = 'client-b';
    const result = await testCredential(creds);
    assert.strictEqual(result.status, 'Error');
    assert.match(result.message, /invalid_client/);
    assert.match(result.message, /client ID/);
  });

  it('a working login: the test refreshes, stores the rotated token and reports success, at no CarData call', async () => {
    const creds = authorizedCredentials(sim);
    for (let i = 0; i < 3; i += 1) {
      const before = creds.data.refreshToken;
      const result = await testCredential(creds);
      assert.deepStrictEqual(result, { status: 'OK', message: 'Connection successful!' });
      assert.notStrictEqual(creds.data.refreshToken, before);
      assert.ok(Date.now() - Date.parse(creds.data.renewedAt) < 5000, creds.data.renewedAt);
    }
    assert.strictEqual(sim.requests.filter((r) => r.kind === 'rest').length, 0, 'no CarData call');
    const check = sim.requests.filter((r) => r.kind === 'auth' && r.method === 'GET');
    assert.strictEqual(check.length, 3, 'one GET of the token service per test');
    for (const r of check) assert.strictEqual(r.bearer, undefined, 'the check carries no token');
    // The login the tests left works in a workflow.
    const { error } = await runNode(creds, { resource: 'container', operation: 'getAll' });
    assert.ifError(error);
  });

  it("the test's check: a login renewed in the last 10 minutes passes as it is, an older one is renewed first (401), a missing token or scope fails", async () => {
    const credential = new BmwCarDataApi();
    const check: IHttpRequestOptions = { baseURL: sim.authBaseUrl, url: '/oauth/token', method: 'GET', ignoreHttpStatusErrors: true };
    const ago = (ms) => new Date(Date.now() - ms).toISOString();
    const good = { accessToken: 'a', scope: 'openid cardata:api:read', renewedAt: ago(9 * 60_000) };
    const passed = await credential.authenticate({ ...good }, { ...check });
    assert.deepStrictEqual(passed, check, 'the check goes out as it is, without the token');
    for (const renewedAt of [ago(11 * 60_000), '', 'not a date', ago(-5 * 60_000)]) {
      await assert.rejects(credential.authenticate({ ...good, renewedAt }, { ...check }), (e: any) => e.response?.status === 401, renewedAt);
    }
    await assert.rejects(credential.authenticate({ ...good, accessToken: '' }, { ...check }), /Not logged in yet/);
    await assert.rejects(credential.authenticate({ ...good, scope: 'openid' }, { ...check }), /CU-103/);
    // Every other request carries the access token, renewed or not.
    const call = await credential.authenticate(
      { accessToken: ' t ', renewedAt: '' },
      { url: '/customers/containers', method: 'GET', headers: { 'x-version': 'v1' } },
    );
    assert.deepStrictEqual(call.headers, { 'x-version': 'v1', Authorization: 'Bearer t' });
  });

  it('as in n8n 2.41, where a test runs no login step of its own: an old login is renewed through the 401 retry and stored, a recent one is not', async () => {
    const creds = authorizedCredentials(sim);
    // n8n 2.41's credential tester leaves the temporary node's parameters empty, so its preAuthentication sees no test.
    creds.preAuthentication = function (helpers, data, type, node, expired) {
      return MemoryCredentialsHelper.prototype.preAuthentication.call(this, helpers, data, type, { ...node, parameters: {} }, expired);
    };
    const before = creds.data.refreshToken;
    assert.deepStrictEqual(await testCredential(creds), { status: 'OK', message: 'Connection successful!' });
    assert.strictEqual(creds.preAuthCalls, 1, 'renewed once, after the check answered 401');
    assert.notStrictEqual(creds.data.refreshToken, before, 'the rotated token was stored');
    assert.deepStrictEqual(await testCredential(creds), { status: 'OK', message: 'Connection successful!' });
    assert.strictEqual(creds.preAuthCalls, 1, 'renewed minutes ago: not again');
    creds.data.renewedAt = new Date(Date.now() - 3_600_000).toISOString();
    creds.data.refreshToken = 'a-token-bmw-no-longer-knows';
    const dead = await testCredential(creds);
    assert.strictEqual(dead.status, 'Error');
    assert.match(dead.message, /invalid_grant|authoriz/i);
    assert.strictEqual(sim.requests.filter((r) => r.kind === 'rest').length, 0, 'no CarData call');
  });

  it('two credentials of one login in this n8n process: the second takes the set the first refreshed, and both work', async () => {
    const a = authorizedCredentials(sim);
    const b = new MemoryCredentialsHelper({ ...a.data });
    assert.deepStrictEqual(await testCredential(a), { status: 'OK', message: 'Connection successful!' });
    const refreshes = () => sim.requests.filter((r) => r.grantType === 'refresh_token').length;
    assert.strictEqual(refreshes(), 1);
    assert.deepStrictEqual(await testCredential(b), { status: 'OK', message: 'Connection successful!' });
    assert.strictEqual(refreshes(), 1, "B took A's set instead of refreshing with the token A retired");
    assert.strictEqual(b.data.refreshToken, a.data.refreshToken);
    for (const creds of [a, b]) assert.ifError((await runNode(creds, { resource: 'container', operation: 'getAll' })).error);
  });

  it('a refresh token BMW no longer knows: the test says to log in again and spends nothing', async () => {
    const creds = authorizedCredentials(sim);
    creds.data.refreshToken = 'not-a-token-bmw-knows';
    const result = await testCredential(creds);
    assert.strictEqual(result.status, 'Error');
    assert.match(result.message, /invalid_grant|authoriz|log in/i);
    assert.strictEqual(sim.requests.filter((r) => r.kind === 'rest').length, 0);
  });

  it('no client ID: the test asks for it', async () => {
    const creds = new MemoryCredentialsHelper({ clientId: '', apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl });
    const result = await testCredential(creds);
    assert.strictEqual(result.status, 'Error');
    assert.match(result.message, /client ID/);
  });
});
