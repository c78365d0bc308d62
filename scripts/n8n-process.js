'use strict';
// What the n8n sandbox, the quota benchmark and the n8n tests share: the environment of an n8n process on
// loopback, and the credential data of an account logged in at the simulator.
const path = require('path');

/**
 * The environment of an n8n process listening on 127.0.0.1:`port`, with `nodeBin`'s folder first on PATH and no
 * call home (telemetry, version checks, templates, banners). `extra` adds or overrides variables.
 */
function n8nEnv({ nodeBin, userFolder, port, brokerPort, extra = {} }) {
  return {
    ...process.env,
    PATH: `${path.dirname(nodeBin)}${path.delimiter}${process.env.PATH}`,
    N8N_USER_FOLDER: userFolder,
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_PORT: String(port),
    N8N_RUNNERS_BROKER_PORT: String(brokerPort),
    N8N_SECURE_COOKIE: 'false',
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    N8N_HIRING_BANNER_ENABLED: 'false',
    N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '5',
    N8N_LOG_LEVEL: 'info',
    ...extra,
  };
}

/**
 * The data of a BMW CarData credential logged in at the simulator `sim` (tokens it issued without the device
 * login), in the fields the credential stores.
 */
function simulatorCredentialData(sim, clientId) {
  const { storedTokens, tokenSetFromResponse } = require('../dist/src/core');
  const tokens = tokenSetFromResponse(sim.issueTokens({ clientId }), Date.now());
  return { clientId, apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, streamUrl: sim.streamUrl, ...storedTokens(tokens) };
}

module.exports = { n8nEnv, simulatorCredentialData };
