// n8n shows an error's description under its message: every error with a hint carries it there, whatever its kind.
import assert from 'assert';
import { toNodeError, errorJson } from '../../src/n8n/errors';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type { INode } from 'n8n-workflow';
import { CarDataError, LoginError, CU_CODES } from '../../src/core/errors';

const node: INode = { id: 'n1', name: 'BMW CarData', type: 'n8n-nodes-bmw-cardata.bmwCarData', typeVersion: 1, position: [0, 0], parameters: {} };

describe('n8n errors carry the hint', function () {
  const errors = [
    ...Object.entries(CU_CODES).map(
      ([code, { message, hint }]) => new CarDataError({ kind: 'bmw', status: 400, exveErrorId: code, message: `${code}: ${message}`, hint }),
    ),
    new CarDataError({ kind: 'quota', status: 403, exveErrorId: 'CU-429', message: 'daily quota spent', hint: CU_CODES['CU-429'].hint }),
    new CarDataError({ kind: 'input', parameter: 'vin', message: 'The VIN must be 17 characters', hint: 'Pick the vehicle.' }),
    // Words n8n replaces by its own message must not cost the hint.
    new CarDataError({ kind: 'network', message: 'connect ECONNREFUSED 127.0.0.1:4010', hint: 'Check the API base URL.' }),
    new CarDataError({ kind: 'network', message: 'no answer within 20 s (ETIMEDOUT)', hint: 'Try again later.' }),
    new CarDataError({ kind: 'auth', message: 'The login is no longer valid', hint: 'Authorize again.' }),
    new CarDataError({ kind: 'response', status: 200, message: 'BMW answered with something that is not CarData JSON', hint: 'Try again later.' }),
  ];

  for (const e of errors) {
    it(`${e.kind}, ${e.message}: description and continueOnFail item both have the hint`, () => {
      assert.ok(e.hint);
      assert.strictEqual(toNodeError(node, e, 0).description, e.hint);
      assert.strictEqual(errorJson(e).hint, e.hint);
    });
  }
});

describe('n8n errors: what a failed item and the error panel show', function () {
  const login = (init = {}) =>
    new LoginError({
      kind: 'auth',
      oauthError: 'invalid_grant',
      message: 'BMW no longer accepts the saved refresh token: authorize the account again',
      hint: 'Run the device login again.',
      ...init,
    });
  // How n8n hands back a refresh that failed inside the credential: its own error, the login error as the cause.
  const wrapped = () => new NodeApiError(node, { message: 'Request failed' }, { message: 'Request failed' });
  const wrap = (e) => Object.assign(wrapped(), { cause: e });

  it('a failed login, even wrapped in n8n’s request error, is reported as the login, with its OAuth code and hint', () => {
    for (const error of [login(), wrap(login())]) {
      const shown = toNodeError(node, error, 2);
      assert.strictEqual(shown.name, 'NodeApiError');
      assert.strictEqual(shown.message, 'BMW no longer accepts the saved refresh token: authorize the account again');
      assert.strictEqual(shown.description, 'Run the device login again.');
      assert.strictEqual(shown.context.itemIndex, 2);
      assert.deepStrictEqual(errorJson(error), {
        error: 'BMW no longer accepts the saved refresh token: authorize the account again',
        code: 'invalid_grant',
        kind: 'auth',
        hint: 'Run the device login again.',
      });
    }
  });

  it('a failed login without an OAuth code or hint: code "login", and no empty hint', () => {
    const bare = login({ kind: 'network', oauthError: undefined, hint: undefined, message: "BMW's login service is unavailable" });
    assert.deepStrictEqual(errorJson(wrap(bare)), { error: "BMW's login service is unavailable", code: 'login', kind: 'auth' });
    const shown = toNodeError(node, wrap(bare));
    assert.strictEqual(shown.message, "BMW's login service is unavailable");
    assert.strictEqual(shown.description, undefined);
  });

  it("BMW's answer keeps its HTTP status; an error without a status or hint has neither", () => {
    const answered = new CarDataError({ kind: 'bmw', status: 404, exveErrorId: 'CU-104', message: 'CU-104: no permission', hint: 'Map the vehicle.' });
    assert.deepStrictEqual(errorJson(answered), { error: 'CU-104: no permission', code: 'CU-104', kind: 'bmw', hint: 'Map the vehicle.', status: 404 });
    assert.strictEqual((toNodeError(node, answered) as NodeApiError).httpCode, '404');
    const silent = new CarDataError({ kind: 'network', message: 'no answer within 20 s (ETIMEDOUT)' });
    const json = errorJson(silent);
    assert.deepStrictEqual(Object.keys(json).sort(), ['code', 'error', 'kind']);
    assert.strictEqual(json.kind, 'network');
  });

  it("n8n's own errors pass through unchanged, their description kept as the item's hint", () => {
    const own = new NodeOperationError(node, 'Binary property missing', { description: 'Name the binary property.' });
    assert.strictEqual(toNodeError(node, own), own);
    assert.deepStrictEqual(errorJson(own), { error: 'Binary property missing', hint: 'Name the binary property.' });
    const api = new NodeApiError(node, { message: 'Bad gateway' }, { message: 'Bad gateway', description: 'Try later.' });
    assert.strictEqual(toNodeError(node, api), api);
    assert.deepStrictEqual(errorJson(api), { error: 'Bad gateway', hint: 'Try later.' });
  });

  it('anything else is an operation error with its text', () => {
    const shown = toNodeError(node, new TypeError('x is not a function'), 1);
    assert.strictEqual(shown.name, 'NodeOperationError');
    assert.strictEqual(shown.message, 'x is not a function');
    assert.deepStrictEqual(errorJson('plain text'), { error: 'plain text' });
    assert.strictEqual(toNodeError(node, 'plain text').message, 'plain text');
  });
});
