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

// A connection n8n refused or dropped before it read the request (it happens in the first seconds after n8n says its
// editor is up, on a loaded machine): the request is sent again, at most twice, a second apart.
const NOT_READ = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET']);

/**
 * The REST API of one n8n, cookie-authenticated as the editor is (n8n ties its login cookie to the browser ID it
 * was issued with): `call(method, route, body)` gives { ok, status, text, body }, body being the parsed JSON or
 * undefined.
 */
function n8nRestClient(baseUrl, browserId, timeoutMs = 15_000) {
  let cookie = '';
  const send = async (method, route, body, attempt = 1) => {
    try {
      return await fetch(`${baseUrl}/${route}`, {
        method,
        headers: { 'content-type': 'application/json', 'browser-id': browserId, ...(cookie ? { cookie } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      if (attempt >= 3 || !NOT_READ.has(e?.cause?.code)) throw e;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return send(method, route, body, attempt + 1);
    }
  };
  return async (method, route, body) => {
    const res = await send(method, route, body);
    const set = res.headers.getSetCookie().map((c) => c.split(';')[0]);
    if (set.length) cookie = set.join('; ');
    const text = await res.text();
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { ok: res.ok, status: res.status, text, body: parsed };
  };
}

module.exports = { n8nEnv, simulatorCredentialData, n8nRestClient };
