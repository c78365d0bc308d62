// One login error for every host: core's LoginError, born in the device flow and the refresh, wrapped by n8n's
// credential, and told apart with `instanceof` by n8n's transport and Node-RED, even across the two copies of
// core that n8n loads (the node package's and the stream package's).
import assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LoginError, CarDataError, refreshTokens, startDeviceAuthorization, AxiosTransport, nodeSleep } from '../../../src/node';
import { loginFailureIn } from '../../../src/n8n/transport';
import { startSimulator } from '../../../src/simulator';

const copies = [];

/** A second copy of core's errors module, as the n8n stream package carries one of its own. */
function secondCopy() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-copy-'));
  copies.push(dir);
  fs.copyFileSync(path.join(__dirname, '../../../src/core/errors.ts'), path.join(dir, 'errors.ts'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a second copy, loaded from its own path
  return require(path.join(dir, 'errors.ts'));
}

describe('LoginError', function () {
  let sim;
  before(async () => {
    sim = await startSimulator({ port: 0, pollIntervalSec: 0 });
  });
  after(async () => {
    await sim.close();
    for (const dir of copies) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is a CarDataError with its kind, code and hint', () => {
    const e = new LoginError({ kind: 'auth', message: 'm', oauthError: 'invalid_grant', hint: 'h' });
    assert.ok(e instanceof LoginError && e instanceof CarDataError && e instanceof Error);
    assert.deepStrictEqual([e.name, e.kind, e.code, e.hint, e.retryable], ['LoginError', 'auth', 'invalid_grant', 'h', false]);
    assert.strictEqual(e.toJSON().name, 'LoginError');
  });

  it("is what a refused refresh and a refused login throw; BMW's API errors are not login errors", async () => {
    const endpoint = { transport: new AxiosTransport(), sleep: nodeSleep, clientId: 'sim-client-id', authBaseUrl: sim.authBaseUrl };
    const refused = await refreshTokens(endpoint, 'no-such-refresh-token').catch((e) => e);
    assert.ok(refused instanceof LoginError, refused.stack);
    assert.strictEqual(refused.oauthError, 'invalid_grant');
    const down = await startDeviceAuthorization({ ...endpoint, authBaseUrl: 'http://127.0.0.1:1/gcdm' }).catch((e) => e);
    assert.ok(down instanceof LoginError && down.retryable, 'no answer from the login service: a login error worth retrying');
    assert.ok(!(new CarDataError({ kind: 'auth', message: 'CU-101' }) instanceof LoginError));
  });

  it('instanceof holds across two copies of core, and a look-alike by name is not one', () => {
    const other = secondCopy();
    assert.notStrictEqual(other.LoginError, LoginError);
    const fromOther = new other.LoginError({ kind: 'auth', message: 'refused' });
    assert.ok(fromOther instanceof LoginError);
    assert.ok(new LoginError({ kind: 'auth', message: 'refused' }) instanceof other.LoginError);
    const lookalike = Object.assign(new Error('refused'), { name: 'LoginError', oauthError: 'invalid_grant' });
    assert.ok(!(lookalike instanceof LoginError));
    assert.ok(!(new other.CarDataError({ kind: 'auth', message: 'x' }) instanceof LoginError));
    for (const value of [null, undefined, 'LoginError', {}, { name: 'BmwCarDataLoginError' }]) assert.ok(!(value instanceof LoginError));
  });

  it("n8n's transport finds the credential's login error in the causes n8n wraps it in, from either copy", () => {
    const other = secondCopy();
    const login = new other.LoginError({ kind: 'auth', message: 'BMW no longer accepts the saved refresh token', oauthError: 'invalid_grant' });
    const wrapped = new Error('n8n', { cause: new Error('words only', { cause: login }) });
    assert.strictEqual(loginFailureIn(wrapped), login);
    const named = Object.assign(new Error('x'), { name: 'BmwCarDataLoginError' });
    assert.strictEqual(loginFailureIn(new Error('n8n', { cause: named })), undefined);
    assert.strictEqual(loginFailureIn(new CarDataError({ kind: 'auth', message: 'CU-101' })), undefined);
  });
});
