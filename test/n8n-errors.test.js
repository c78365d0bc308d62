'use strict';
// n8n shows an error's description under its message: every error with a hint carries it there, whatever its kind.
const assert = require('assert');
const { toNodeError, errorJson } = require('../dist/src/n8n/errors');
const { CarDataError, CU_CODES } = require('../dist/src/core/errors');

const node = { id: 'n1', name: 'BMW CarData', type: 'n8n-nodes-bmw-cardata.bmwCarData', typeVersion: 1, position: [0, 0], parameters: {} };

describe('n8n errors carry the hint', function () {
  const errors = [
    ...Object.entries(CU_CODES).map(([code, { message, hint }]) => new CarDataError({ kind: 'bmw', status: 400, exveErrorId: code, message: `${code}: ${message}`, hint })),
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
