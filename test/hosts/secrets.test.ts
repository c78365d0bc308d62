// A BMW (or something posing as BMW) that echoes the request's credentials in its error text: the tokens and the
// client ID it repeats never reach an error message, whatever the host. Core, Node-RED (its runtime), n8n (its
// execution code) and the command line (a process) all run against one loopback server that answers every API call
// with a CarData error quoting the Authorization header, and every token request with an OAuth error quoting the form.
import assert from 'assert';
import { randomBytes, randomUUID } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { execFile } from 'child_process';
import { createAccount, redactSecrets } from '../../src/node';
import { helper, loadAction, freshUserDir, lastStatus, sleep } from '../support/nodered';
import { runNode, MemoryCredentialsHelper, cleanup } from '../support/n8n-harness';
import { failure } from '../support/failure';

const CLI = path.join(__dirname, '../../dist/src/cli/main.js');
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
// Tokens shaped as BMW's: opaque base64url access and refresh tokens, a JWT as the ID token; a UUID client ID.
const CLIENT_ID = randomUUID();
const ACCESS = randomBytes(38).toString('base64url');
const REFRESH = randomBytes(34).toString('base64url');
const ID_TOKEN = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: CLIENT_ID, iat: 1 })}.${randomBytes(64).toString('base64url')}`;
const SECRETS = { ACCESS, REFRESH, ID_TOKEN, CLIENT_ID };

/** Fails when `text` holds a secret, or a 16-character piece of one. */
function noSecret(text, where) {
  assert.ok(text, `${where}: nothing to look at`);
  for (const [name, secret] of Object.entries(SECRETS)) {
    for (let i = 0; i + 16 <= secret.length; i += 8) assert.ok(!text.includes(secret.slice(i, i + 16)), `${where} shows ${name}: ${text}`);
  }
}

async function echoingBmw() {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      res.writeHead(400, { 'content-type': 'application/json' });
      if (req.url.endsWith('/oauth/token')) {
        const form = new URLSearchParams(body);
        res.end(
          JSON.stringify({
            error: 'invalid_client',
            error_description: `refused ${body}; token ${form.get('refresh_token')} for client ${form.get('client_id')}`,
          }),
        );
        return;
      }
      const auth = req.headers.authorization ?? '';
      res.end(
        JSON.stringify({
          exveErrorId: 'CU-400',
          exveErrorMsg: `Bad request with Authorization: ${auth}; token ${auth.replace(/^Bearer /, '')}, id token ${ID_TOKEN}`,
          exveErrorRef: auth.replace(/^Bearer /, ''),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { apiBaseUrl: url, authBaseUrl: `${url}/gcdm`, close: () => new Promise((resolve) => server.close(resolve)) };
}

const tokens = (expiresAt) => ({ accessToken: ACCESS, refreshToken: REFRESH, idToken: ID_TOKEN, gcid: 'gcid-1', expiresAt });
// What each case puts in front of the server: a valid access token (the API call fails), or an expired one (the
// refresh fails; n8n refreshes when the access token is empty).
const CASES: [string, () => number, RegExp, string][] = [
  ['an API call', () => Date.now() + 3600_000, /CU-400/, ACCESS],
  ['a token refresh', () => Date.now() - 1000, /invalid_client/, ''],
];

describe('tokens and client IDs a server echoes never reach an error message', function () {
  this.timeout(30_000);
  let bmw;
  before(async () => {
    bmw = await echoingBmw();
  });
  after(async () => {
    await bmw.close();
    cleanup();
  });

  it('core redacts token-shaped text: JWTs, Bearer credentials, token and client ID fields, long opaque strings', () => {
    const text = `Authorization: Bearer ${ACCESS} / ${ID_TOKEN} / {"refresh_token":"${REFRESH}","client_id":"${CLIENT_ID}"} / refresh_token=${REFRESH}&client_id=${CLIENT_ID} / ${REFRESH}`;
    const out = redactSecrets(text);
    noSecret(out, 'redacted text');
    assert.strictEqual(
      out,
      'Authorization: Bearer [redacted] / [redacted] / {"refresh_token":"[redacted]","client_id":"[redacted]"} / refresh_token=[redacted]&client_id=[redacted] / [redacted]',
    );
    // What BMW says without secrets stays as it is.
    for (const plain of [
      'CU-402: Telematic key vehicle.drivetrain.electricEngine.kombiRemainingElectricRange is invalid',
      'Bearer token missing',
      'authorization_pending',
      'client_id: unknown',
    ]) {
      assert.strictEqual(redactSecrets(plain), plain);
    }
    // A UUID may be the client ID; BMW's error reference is one too, and is kept where it is asked to be.
    assert.strictEqual(redactSecrets(`unknown client ${CLIENT_ID}`), 'unknown client [redacted]');
    assert.strictEqual(redactSecrets('123e4567-e89b-12d3-a456-426614174000', { uuids: false }), '123e4567-e89b-12d3-a456-426614174000');
    assert.strictEqual(redactSecrets(`${ACCESS}`, { uuids: false }), '[redacted]');
  });

  for (const [name, expiresAt, code, n8nAccess] of CASES) {
    describe(`in ${name}`, function () {
      it('core: the CarDataError', async () => {
        const { client } = createAccount({
          clientId: CLIENT_ID,
          apiBaseUrl: bmw.apiBaseUrl,
          authBaseUrl: bmw.authBaseUrl,
          tokens: tokens(expiresAt()),
          dailyQuota: 50,
        });
        const e = await failure(client.getMappings());
        assert.match(`${e.code} ${e.message}`, code);
        noSecret(`${e.message} ${e.hint} ${JSON.stringify(e)} ${e.stack}`, 'the error');
      });

      it("Node-RED: msg.error, the node's status and the log", async () => {
        freshUserDir();
        const credentials = { clientId: CLIENT_ID, ...tokens(String(expiresAt())) };
        const { node, caught } = await loadAction(bmw, 'vehicles', {}, { credentials });
        try {
          node.receive({});
          const [msg] = await caught.wait(1);
          await sleep(50);
          assert.match(JSON.stringify(msg.error), code);
          noSecret(JSON.stringify(msg.error), 'msg.error');
          noSecret(JSON.stringify(msg.cardataError ?? msg.error), 'msg.cardataError');
          noSecret(JSON.stringify(lastStatus(node)), 'the status');
          noSecret(JSON.stringify(helper.log().args), 'the log');
        } finally {
          await helper.unload();
        }
      });

      it('n8n: the NodeApiError', async () => {
        const credentials = new MemoryCredentialsHelper({
          clientId: CLIENT_ID,
          apiBaseUrl: bmw.apiBaseUrl,
          authBaseUrl: bmw.authBaseUrl,
          ...tokens(new Date(expiresAt()).toISOString()),
          accessToken: n8nAccess,
        });
        const { error } = await runNode(credentials, { resource: 'vehicle', operation: 'getAll' });
        assert.ok(error, 'the node failed');
        const shown = `${error.message} ${error.description} ${JSON.stringify(error)}`;
        assert.match(shown, code);
        noSecret(shown, 'the n8n error');
      });

      it('command line: stderr', async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-echo-'));
        const config = path.join(dir, 'account.json');
        fs.writeFileSync(
          config,
          JSON.stringify({ clientId: CLIENT_ID, apiBaseUrl: bmw.apiBaseUrl, authBaseUrl: bmw.authBaseUrl, tokens: tokens(expiresAt()) }),
        );
        const res = await new Promise<{ code: number | string | null | undefined; stdout: string; stderr: string }>((resolve) =>
          execFile(process.execPath, [CLI, 'vehicles', '--config', config], { timeout: 30_000 }, (error, stdout, stderr) =>
            resolve({ code: error ? error.code : 0, stdout, stderr }),
          ),
        );
        assert.notStrictEqual(res.code, 0);
        assert.match(res.stderr, code);
        noSecret(`${res.stdout} ${res.stderr}`, 'the output');
      });
    });
  }
});
