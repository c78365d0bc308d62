'use strict';
// A real n8n (the cached 2.41.1 on Node 24) in server mode for the e2e tests: started with the packed packages in
// its nodes folder, driven over its REST API (cookie-authenticated, as the editor does), workflows activated and
// deactivated as the editor publishes them. What the trigger and MCP tests share.
const os = require('os');
const path = require('path');
const fs = require('fs');
const { n8nEnv, n8nRestClient } = require('../../scripts/n8n-process');
const h = require('../browser/harness');
const { checkModuleTrace, traceModules } = require('./n8n-packages');

const CACHE = process.env.BMW_CARDATA_CACHE || path.join(os.homedir(), '.cache', 'bmw-cardata');
const N8N_VERSION = process.env.N8N_VERSION || '2.41.1';
const N8N_DIR = path.join(CACHE, `n8n-${N8N_VERSION}`);
const N8N_BIN = path.join(N8N_DIR, 'node_modules', 'n8n', 'bin', 'n8n');
const NODE24 = path.join(CACHE, 'node24', 'bin', 'node');

/** Fails unless test/e2e/n8n-install.sh has installed n8n and Node 24 in the cache. */
function assertInstalled() {
  h.assert(fs.existsSync(N8N_BIN) && fs.existsSync(NODE24), `n8n ${N8N_VERSION} or Node 24 is not installed under ${CACHE}: run test/e2e/n8n-install.sh`);
}

/** The cookie-authenticated REST API of one n8n instance: an answer other than 2xx fails the test. */
function restClient(baseUrl, browserId = 'e2e-test') {
  const raw = n8nRestClient(baseUrl, browserId, 30_000);
  const call = async (method, route, body) => {
    const res = await raw(method, route, body);
    h.assert(res.ok, `${method} /${route} answered ${res.status}: ${res.text.slice(0, 300)}`);
    return JSON.parse(res.text);
  };
  return { call, rest: async (method, route, body) => (await call(method, `rest/${route}`, body)).data };
}

/**
 * `n8n start` on free ports with `userFolder` (the packages installed there), registered with the test `run` so it
 * is always stopped; resolves once the editor is up. `extra` adds to the environment; `trace` names the module
 * trace file (checked against `install` and printed). Returns the REST client, the process and the base URL.
 */
async function startN8n(run, { userFolder, cwd, install, trace, extra = {} }) {
  const [port, brokerPort] = [await h.freePort(), await h.freePort()];
  const env = n8nEnv({ nodeBin: NODE24, userFolder, port, brokerPort, extra: { ...extra, ...(trace ? traceModules(trace) : {}) } });
  const proc = run.spawn('n8n', NODE24, [N8N_BIN, 'start'], { env, cwd, group: true });
  await h.waitFor('n8n to open its editor', () => /Editor is now accessible/.test(proc.output()), 150_000, proc);
  if (trace) for (const line of checkModuleTrace(trace, install, N8N_DIR)) console.log(`    ${line}`);
  const baseUrl = `http://127.0.0.1:${port}`;
  return { ...restClient(baseUrl), proc, baseUrl, port };
}

/** Activation ("publishing") of workflows in n8n 2.41, which settles in the background. */
function publishing(n8n) {
  const publication = (workflowId) =>
    h.waitFor(
      'n8n to settle the publication',
      async () => {
        const p = await n8n.rest('GET', `workflows/${workflowId}/publication-status`);
        return p.status !== 'in_progress' && p;
      },
      30_000,
      n8n.proc,
    );
  return {
    publication,
    activate: async (workflow) => {
      const active = await n8n.rest('POST', `workflows/${workflow.id}/activate`, { versionId: workflow.versionId });
      h.assert(active.active === true, `${workflow.name} is not active after activation`);
      return publication(workflow.id);
    },
    deactivate: async (workflow) => {
      const inactive = await n8n.rest('POST', `workflows/${workflow.id}/deactivate`, {});
      h.assert(inactive.active === false, `${workflow.name} is still active after deactivation`);
      return publication(workflow.id);
    },
  };
}

module.exports = { CACHE, N8N_VERSION, N8N_DIR, N8N_BIN, NODE24, assertInstalled, restClient, startN8n, publishing };
