'use strict';
const assert = require('assert');

/** The error a promise rejects with; fails the test when it resolves. */
async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail('expected a rejection');
}

module.exports = { failure };
