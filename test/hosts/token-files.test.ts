// Where the rotated refresh token is kept: the command line's account file and Node-RED's token file. A refresh is
// made only when its new token can be saved; a save that fails anyway is said loudly; a broken token file is kept
// aside and said once, never overwritten or downgraded.
import assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFile } from 'child_process';
import { PassThrough } from 'stream';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { main } from '../../src/cli/main';
import { TokenFile } from '../../src/node-red/token-file';
import { helper, freshUserDir, loadAction, sleep, serverPerTest } from '../support/nodered';

const CLI = path.join(__dirname, '../../dist/src/cli/main.js');
const reEscape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function runCli(args, options = {}) {
  return new Promise<{ code: number | string | null | undefined; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000, ...options }, (error, stdout, stderr) =>
      resolve({ code: error ? error.code : 0, stdout, stderr }),
    );
  });
}

/** The command line in this process (so a file can be put in the way of its own process id's temporary file). */
async function runCliHere(args) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await main(args, stdout, stderr);
  return { code, stdout: out, stderr: err };
}

/**
 * Options that run a process that may read the folder but not write in it: another user when the tests run as
 * root (root writes anywhere), else the folder made read-only.
 */
function readOnlyFolder(dir) {
  for (const name of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, name), 0o644);
  if (process.getuid && process.getuid() === 0) {
    fs.chmodSync(dir, 0o755);
    // That user must reach the command line: a checkout in a private folder (mktemp -d) gets the right to pass through.
    for (let up = path.resolve(__dirname, '../..'); up !== path.dirname(up); up = path.dirname(up)) {
      const mode = fs.statSync(up).mode;
      if (!(mode & 0o001)) fs.chmodSync(up, (mode & 0o7777) | 0o001);
    }
    return { options: { uid: 65534, gid: 65534 }, restore: () => {} };
  }
  fs.chmodSync(dir, 0o555);
  return { options: {}, restore: () => fs.chmodSync(dir, 0o700) };
}

describe('token files', function () {
  this.timeout(60_000);
  let sim;
  before(async () => {
    sim = await startSimulator({ autoApprove: true, pollIntervalSec: 0, dailyQuota: 1000 });
  });
  after(() => sim.close());
  const refreshes = () => sim.requests.filter((r) => r.grantType === 'refresh_token').length;

  describe('command line account file', () => {
    let dir;
    let config;
    const urls = () => ['--base-url', sim.apiBaseUrl, '--auth-url', sim.authBaseUrl, '--config', config];

    beforeEach(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-tokens-'));
      config = path.join(dir, 'account.json');
      const res = await runCli(['login', '--client-id', 'files-client', ...urls()]);
      assert.strictEqual(res.code, 0, res.stderr);
      // The access token is due: the next command refreshes first.
      const saved = JSON.parse(fs.readFileSync(config, 'utf8'));
      saved.tokens.expiresAt = 0;
      fs.writeFileSync(config, JSON.stringify(saved));
      sim.clearLog();
    });

    it('a read-only account folder: no refresh is made, the error names the folder, and the saved login still works', async () => {
      const saved = fs.readFileSync(config, 'utf8');
      const readOnly = readOnlyFolder(dir);
      const res = await runCli(['vehicles', ...urls()], readOnly.options);
      readOnly.restore();
      assert.strictEqual(res.code, 1, res.stderr);
      assert.match(res.stderr, new RegExp(`Cannot save the BMW tokens in ${reEscape(dir)} \\(EACCES\\)`));
      assert.match(res.stderr, /hint: Nothing was spent and a saved login still works: make the folder .* writable/);
      assert.strictEqual(refreshes(), 0, 'no refresh was made');
      assert.strictEqual(fs.readFileSync(config, 'utf8'), saved);

      const again = await runCli(['vehicles', ...urls()]);
      assert.strictEqual(again.code, 0, again.stderr);
      assert.strictEqual(JSON.parse(again.stdout).length, 3);
      assert.strictEqual(refreshes(), 1, 'the saved refresh token was still good');
    });

    it('new tokens that cannot be saved after the refresh: the command says so loudly, does its work, and exits 1', async () => {
      // The refresh is allowed (the folder can be written), but the save itself fails.
      fs.mkdirSync(`${config}.${process.pid}.tmp`);
      const res = await runCliHere(['vehicles', ...urls()]);
      assert.strictEqual(res.code, 1, res.stderr);
      assert.strictEqual(JSON.parse(res.stdout).length, 3, 'the answer is still written');
      assert.match(res.stderr, new RegExp(`bmw-cardata: ERROR: Cannot save the BMW tokens in ${reEscape(dir)} \\(EISDIR\\)`));
      assert.match(res.stderr, /run bmw-cardata login again/);
      const saved = JSON.parse(fs.readFileSync(config, 'utf8'));
      for (const secret of [saved.tokens.refreshToken, saved.tokens.accessToken]) assert.ok(!res.stderr.includes(secret), 'no token on the terminal');
    });

    it('a login into a folder that cannot be written stops before the device login starts', async () => {
      const readOnly = readOnlyFolder(dir);
      const res = await runCli(['login', '--client-id', 'files-client', ...urls()], readOnly.options);
      readOnly.restore();
      assert.strictEqual(res.code, 1, res.stderr);
      assert.match(res.stderr, new RegExp(`Cannot save the BMW tokens in ${reEscape(dir)} \\(EACCES\\)`));
      assert.ok(!/Open this link/.test(res.stderr), 'no device login was started');
    });

    it('temporary files of a run that crashed while saving are removed', async () => {
      const dead = `${config}.999999999.tmp`;
      fs.writeFileSync(dead, '{');
      const res = await runCli(['quota', ...urls()]);
      assert.strictEqual(res.code, 0, res.stderr);
      assert.ok(!fs.existsSync(dead));
    });
  });

  describe('Node-RED token file', () => {
    let userDir;
    serverPerTest(async () => {
      sim.clearLog();
    });

    const tokenFile = () => path.join(userDir, 'bmw-cardata-tokens.json');
    const logged = (level) =>
      helper
        .log()
        .getCalls()
        .map((c) => c.args[0])
        .filter((m) => m && m.level === level)
        .map((m) => String(m.msg));

    async function readOnce(loaded) {
      loaded.node.receive({});
      return Promise.race([
        loaded.out.wait(loaded.out.messages.length + 1).then((m) => m.at(-1)),
        loaded.caught.wait(loaded.caught.messages.length + 1).then((m) => ({ error: m.at(-1) })),
      ]);
    }

    const broken: [string, () => unknown, string][] = [
      ['truncated', () => fs.writeFileSync(tokenFile(), '{"version":1,"accounts":{"acc":{"issuedAt":17'), 'not JSON'],
      ['not JSON', () => fs.writeFileSync(tokenFile(), '<html>'), 'not JSON'],
      [
        'a newer version',
        () => fs.writeFileSync(tokenFile(), JSON.stringify({ version: 2, accounts: { acc: { issuedAt: 1, sealed: 'x' } } })),
        'a newer format (version 2)',
      ],
      ['a folder', () => (fs.mkdirSync(tokenFile()), fs.writeFileSync(path.join(tokenFile(), 'inside'), 'x')), 'a folder, not a file'],
    ];
    for (const [label, make, problem] of broken) {
      it(`a token file that is ${label} is kept aside, said once, and never overwritten`, async () => {
        userDir = freshUserDir();
        make();
        const before = fs.statSync(tokenFile()).isFile() ? fs.readFileSync(tokenFile(), 'utf8') : undefined;
        const loaded = await loadAction(sim, 'basic-data', { vin: SIM_VINS.bev, cacheMaxAge: '0' });
        // The deployed tokens are used; a refresh writes a new file of this version next to the kept one.
        sim.expireAccessTokens();
        assert.strictEqual((await readOnce(loaded)).payload.vin, SIM_VINS.bev);
        await sleep(50);
        const warnings = logged(30).filter((m) => m.includes('token file'));
        assert.strictEqual(warnings.length, 1, warnings.join('\n'));
        assert.ok(warnings[0].includes(`the token file ${tokenFile()} could not be read (${problem}); it was kept as ${tokenFile()}.broken-`), warnings[0]);
        assert.match(warnings[0], /authorize the account again/);
        const aside = fs.readdirSync(userDir).filter((f) => f.startsWith('bmw-cardata-tokens.json.broken-'));
        assert.strictEqual(aside.length, 1);
        if (before !== undefined) assert.strictEqual(fs.readFileSync(path.join(userDir, aside[0]), 'utf8'), before, 'kept as it was');
        else assert.ok(fs.statSync(path.join(userDir, aside[0])).isDirectory());
        assert.strictEqual(JSON.parse(fs.readFileSync(tokenFile(), 'utf8')).version, 1);
        assert.ok(JSON.parse(fs.readFileSync(tokenFile(), 'utf8')).accounts.acc);
      });
    }

    it('a token file that cannot be written: the refresh is refused before it is made, naming the folder; the deployed token still works', async () => {
      userDir = freshUserDir();
      const loaded = await loadAction(sim, 'basic-data', { vin: SIM_VINS.bev, cacheMaxAge: '0' });
      // Something that is not a file where the tokens go (it appeared after the start).
      fs.mkdirSync(tokenFile());
      fs.writeFileSync(path.join(tokenFile(), 'inside'), 'x');
      sim.expireAccessTokens();
      const failed = await readOnce(loaded);
      assert.ok(failed.error, 'the read failed');
      assert.strictEqual(failed.error.cardataError.kind, 'storage');
      assert.ok(failed.error.error.message.includes(`Cannot save the BMW tokens in ${userDir} (EISDIR)`), failed.error.error.message);
      assert.strictEqual(refreshes(), 0, 'no refresh was made');
      fs.rmSync(tokenFile(), { recursive: true });
      assert.strictEqual((await readOnce(loaded)).payload.vin, SIM_VINS.bev);
      assert.strictEqual(
        sim.requests.filter((r) => r.grantType === 'refresh_token' && r.status === 200).length,
        1,
        'the deployed refresh token was still good',
      );
    });

    it('new tokens that cannot be saved after the refresh: an error naming the folder, and the tokens are used from memory', async () => {
      userDir = freshUserDir();
      const loaded = await loadAction(sim, 'basic-data', { vin: SIM_VINS.bev, cacheMaxAge: '0' });
      // The folder can be written, but the save's own temporary file cannot be.
      fs.mkdirSync(`${tokenFile()}.${process.pid}.tmp`);
      sim.expireAccessTokens();
      assert.strictEqual((await readOnce(loaded)).payload.vin, SIM_VINS.bev);
      await sleep(50);
      const errors = logged(20).filter((m) => m.includes('BMW tokens'));
      assert.strictEqual(errors.length, 1, errors.join('\n'));
      assert.ok(errors[0].startsWith(`Cannot save the BMW tokens in ${userDir} (EISDIR): BMW has replaced the saved refresh token`), errors[0]);
      assert.match(errors[0], /kept in memory until Node-RED stops/);
      // From memory: the next read needs no refresh, and the one after the next expiry uses the new refresh token.
      assert.strictEqual((await readOnce(loaded)).payload.vin, SIM_VINS.bev);
      assert.strictEqual(refreshes(), 1);
      sim.expireAccessTokens();
      assert.strictEqual((await readOnce(loaded)).payload.vin, SIM_VINS.bev);
      assert.deepStrictEqual(
        sim.requests.filter((r) => r.grantType === 'refresh_token').map((r) => r.status),
        [200, 200],
      );
    });
  });

  describe('Node-RED token file on disk', () => {
    let dir;
    let file;
    let warnings;
    const tokens = (refreshToken = 'refresh-1') => ({ accessToken: 'access-1', refreshToken, idToken: 'id-1', gcid: 'gcid-1', expiresAt: 1_800_000_000_000 });
    const open = (secret?: string) => new TokenFile(file, secret, (m) => warnings.push(m));
    const write = (value) => fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nr-token-file-'));
      file = path.join(dir, 'bmw-cardata-tokens.json');
      warnings = [];
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const broken = [
      ['', 'empty'],
      ['  \n', 'empty'],
      ['{"version":1,', 'not JSON'],
      ['null', 'not an object'],
      ['[{"version":1}]', 'not an object'],
      ['"text"', 'not an object'],
      [{ version: 2, accounts: {} }, 'a newer format (version 2)'],
      [{ version: 0, accounts: {} }, 'an unknown format'],
      [{ version: '2', accounts: {} }, 'an unknown format'],
      [{ accounts: {} }, 'an unknown format'],
      [{ version: 1, accounts: [] }, 'accounts is not an object'],
      [{ version: 1, accounts: 'acc' }, 'accounts is not an object'],
      [{ version: 1, accounts: { acc: null } }, 'an entry is not a token set'],
      [{ version: 1, accounts: { acc: 'x' } }, 'an entry is not a token set'],
      [{ version: 1, accounts: { acc: { tokens: {} } } }, 'an entry is not a token set'],
    ];
    for (const [content, problem] of broken) {
      it(`a file that is ${JSON.stringify(content)} is kept aside, and the log says why: ${problem}`, async () => {
        write(content);
        const before = fs.readFileSync(file, 'utf8');
        assert.strictEqual(open().loadSync('acc'), undefined);
        assert.strictEqual(warnings.length, 1);
        assert.ok(warnings[0].includes(`could not be read (${problem}); it was kept as ${file}.broken-`), warnings[0]);
        const aside = fs.readdirSync(dir).filter((f) => f.startsWith('bmw-cardata-tokens.json.broken-'));
        assert.strictEqual(aside.length, 1);
        assert.match(aside[0], /\.broken-\d{8}T\d{6}$/, 'the time it was kept, in the name');
        assert.strictEqual(fs.readFileSync(path.join(dir, aside[0]), 'utf8'), before);
        assert.strictEqual(fs.existsSync(file), false);
      });
    }

    it('a file without accounts yet is a good, empty file', async () => {
      write({ version: 1 });
      const store = open();
      assert.strictEqual(store.loadSync('acc'), undefined);
      assert.strictEqual(await store.load('acc'), undefined);
      await store.save('acc', tokens(), 1234);
      assert.deepStrictEqual(await store.load('acc'), { issuedAt: 1234, tokens: tokens() });
      assert.deepStrictEqual(warnings, []);
    });

    for (const secret of [undefined, 'a-credential-secret']) {
      it(`saves, loads and removes each account's tokens (${secret ? 'sealed' : 'in clear'}), mode 0600`, async () => {
        const store = open(secret);
        assert.strictEqual(store.encrypted, Boolean(secret));
        assert.strictEqual(await store.load('acc'), undefined);
        await store.save('acc', tokens('refresh-a'), 1000);
        await store.save('other', tokens('refresh-b'), 2000);
        assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
        const text = fs.readFileSync(file, 'utf8');
        assert.strictEqual(text.includes('refresh-a'), !secret);
        assert.strictEqual(JSON.parse(text).version, 1);
        // A restart reads the file again, with the same secret.
        const again = open(secret);
        assert.deepStrictEqual(again.loadSync('acc'), { issuedAt: 1000, tokens: tokens('refresh-a') });
        assert.deepStrictEqual(await again.load('other'), { issuedAt: 2000, tokens: tokens('refresh-b') });
        assert.strictEqual(again.loadSync('toString'), undefined, 'only accounts of the file');
        await again.remove('acc');
        assert.strictEqual(await again.load('acc'), undefined);
        assert.deepStrictEqual(await again.load('other'), { issuedAt: 2000, tokens: tokens('refresh-b') });
        assert.deepStrictEqual(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).accounts), ['other']);
        assert.deepStrictEqual(warnings, []);
      });
    }

    it('entries sealed with another secret, or in clear without a refresh token, count as absent', async () => {
      await open('the-first-secret').save('acc', tokens());
      assert.strictEqual(open('another-secret').loadSync('acc'), undefined);
      assert.strictEqual(await open('another-secret').load('acc'), undefined);
      assert.strictEqual(await open().load('acc'), undefined, 'a sealed entry cannot be read without the secret');
      assert.deepStrictEqual(open('the-first-secret').loadSync('acc').tokens, tokens());
      write({ version: 1, accounts: { acc: { issuedAt: 1, tokens: { accessToken: 'a' } } } });
      assert.strictEqual(open().loadSync('acc'), undefined);
      assert.strictEqual(await open().load('acc'), undefined);
      assert.deepStrictEqual(warnings, []);
    });

    it('removing an account the file does not hold writes nothing', async () => {
      await open().remove('acc');
      assert.strictEqual(fs.existsSync(file), false);
    });

    it('a file that cannot be read is said once, with the folder, and the accounts start from their deployed tokens', async () => {
      // The folder of the file is a file: ENOTDIR on every read.
      fs.writeFileSync(path.join(dir, 'not-a-folder'), '');
      file = path.join(dir, 'not-a-folder', 'bmw-cardata-tokens.json');
      const store = open();
      assert.strictEqual(store.loadSync('acc'), undefined);
      assert.strictEqual(store.loadSync('other'), undefined);
      assert.strictEqual(store.loadSync('acc'), undefined);
      assert.deepStrictEqual(warnings, [
        `BMW CarData: Cannot read the saved BMW tokens in ${path.dirname(file)} (ENOTDIR); the accounts start from their deployed tokens.`,
      ]);
      await assert.rejects(store.load('acc'), /Cannot read the saved BMW tokens in .* \(ENOTDIR\)/);
    });
  });
});
