// The account of the Node.js hosts on a simulator over loopback: before a refresh, the token file is checked to be
// writable (a refresh whose tokens could not be kept would retire the saved login); a failed check spends nothing and
// names the folder; a host's own check is taken instead of the file's.
import assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { CarDataError, createAccount, tokenSetFromResponse } from '../../src/node';
import { checkTokenFile } from '../../src/node/node-account';
import { startSimulator } from '../../src/simulator';
import { failure } from '../support/failure';
import { tmpFolders } from '../support/tmp-folders';

describe('the account of the Node.js hosts', () => {
  let sim;
  before(async () => {
    sim = await startSimulator({ port: 0 });
  });
  after(async () => {
    await sim?.close();
  });
  const tmpFolder = tmpFolders('cardata-account-');
  /** A folder that cannot hold a token file: a plain file stands where it should be. */
  const blockedFile = () => {
    const dir = tmpFolder();
    fs.writeFileSync(path.join(dir, 'state'), 'a file, not a folder');
    return path.join(dir, 'state', 'tokens.json');
  };
  /** An account on the simulator whose access token has expired: its first call refreshes. */
  const expiredAccount = (options = {}) =>
    createAccount({
      clientId: 'test-client-id',
      apiBaseUrl: sim.apiBaseUrl,
      authBaseUrl: sim.authBaseUrl,
      tokens: { ...tokenSetFromResponse(sim.issueTokens({ clientId: 'test-client-id' }), Date.now()), expiresAt: 0 },
      ...options,
    });
  const tokenCalls = () => sim.requests.filter((r) => r.path.includes('/token')).length;

  it('checkTokenFile passes for a folder it can write (made if missing), leaving nothing in it', async () => {
    const dir = tmpFolder();
    await checkTokenFile(path.join(dir, 'a', 'tokens.json'));
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'a')), []);
  });

  it('checkTokenFile refuses a folder it cannot write with a storage error naming the folder, saying nothing was spent', async () => {
    const file = blockedFile();
    const e = await failure(checkTokenFile(file));
    assert.ok(e instanceof CarDataError);
    assert.strictEqual(e.kind, 'storage');
    assert.match(e.message, new RegExp(`^Cannot save the BMW tokens in ${path.dirname(file)} \\((EEXIST|ENOTDIR)\\)$`));
    assert.strictEqual(
      e.hint,
      `Nothing was spent and a saved login still works: make the folder ${path.dirname(file)} writable by this process, then try again.`,
    );
  });

  it('refreshes over HTTP when the token file can be written', async () => {
    const before = tokenCalls();
    const account = expiredAccount({ tokenFile: path.join(tmpFolder(), 'tokens.json') });
    const token = await account.tokens.getAccessToken();
    assert.strictEqual(typeof token, 'string');
    assert.strictEqual(tokenCalls(), before + 1);
  });

  it('makes no refresh when the token file cannot be written, and says which folder', async () => {
    const before = tokenCalls();
    const file = blockedFile();
    const e = await failure(expiredAccount({ tokenFile: file }).tokens.getAccessToken());
    assert.strictEqual(e.kind, 'storage');
    assert.ok(e.message.startsWith(`Cannot save the BMW tokens in ${path.dirname(file)} (`), e.message);
    assert.strictEqual(tokenCalls(), before, 'nothing was asked of the login service');
  });

  it("a host's own store check is taken instead of the token file's", async () => {
    const before = tokenCalls();
    const refused = new Error('the host cannot keep tokens now');
    const account = expiredAccount({ tokenFile: path.join(tmpFolder(), 'tokens.json'), checkTokenStore: () => Promise.reject(refused) });
    assert.strictEqual(await failure(account.tokens.getAccessToken()), refused);
    assert.strictEqual(tokenCalls(), before);
  });
});
