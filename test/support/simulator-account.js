'use strict';
// An account of core's client logged in on a simulator, as a finished device-code login leaves it.
const { code } = require('./code');

const { createAccount, tokenSetFromResponse } = code('src/node');

/**
 * createAccount() on the simulator `sim`: its REST and login URLs, tokens it issued just now for `clientId`
 * ('test-client-id' unless given), and `options` on top (sleep, clock, quota, stores...).
 */
function simulatorAccount(sim, options = {}) {
  const clientId = options.clientId ?? 'test-client-id';
  return createAccount({
    clientId,
    apiBaseUrl: sim.apiBaseUrl,
    authBaseUrl: sim.authBaseUrl,
    tokens: tokenSetFromResponse(sim.issueTokens({ clientId }), Date.now()),
    ...options,
  });
}

module.exports = { simulatorAccount };
