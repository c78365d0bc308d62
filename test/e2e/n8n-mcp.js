#!/usr/bin/env node
'use strict';
// The BMW CarData node as a tool, without a language model: a real n8n 2.41.1 (Node 24, server mode, the packed
// packages in its nodes folder) serves an active workflow whose MCP Server Trigger has two BMW CarData tools, "Get
// vehicles" and "Charging history" (the car and the period from the caller, through $fromAI). An MCP client (the
// official SDK, Streamable HTTP) lists the tools and calls them against the simulator, which runs in this process:
// the answers hold the simulator's VINs and the sessions of last month, Simplified, and the quota spent is what
// the tools' descriptions say. Bounded to 4 minutes; n8n is always stopped. Prints `n8n MCP: N passed, M failed`.
//
//   node test/e2e/n8n-mcp.js [--keep]
//
// Needs a build (dist/), the tarballs of `npm run packages` and the n8n install of test/e2e/n8n-install.sh.
const path = require('path');
const { DateTime } = require('luxon');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { startSimulator, SIM_VINS } = require('../../dist/src/simulator');
const { simulatorCredentialData } = require('../../scripts/n8n-process');
const h = require('../browser/harness');
const { installPackages, describeInstall, TYPES } = require('../support/n8n-packages');
const { N8N_VERSION, N8N_DIR, assertInstalled, startN8n, publishing } = require('../support/n8n-server');

const TIMEOUT_MS = Number(process.env.N8N_MCP_TIMEOUT_MS || 240_000);
const CLIENT_ID = '00000000-0000-4000-8000-000000000000'; // placeholder, as in the examples
const OWNER = { email: 'owner@example.com', firstName: 'Test', lastName: 'Owner', password: 'Mcp-test-1' };
const ZONE = 'Europe/Berlin';
const VIN = SIM_VINS.bev;
const PAGE_SIZE = 3;
const MCP_PATH = 'bmw-cardata';
const TOOL_TYPE = `${TYPES.bmwCarData}Tool`;

/** The workflow: an MCP Server Trigger with two BMW CarData tools. */
function mcpWorkflow(credentials) {
  const tool = (id, name, parameters, y) => ({ id, name, type: TOOL_TYPE, typeVersion: 1, position: [0, y], credentials, parameters });
  const toTrigger = { ai_tool: [[{ node: 'MCP Server Trigger', type: 'ai_tool', index: 0 }]] };
  return {
    name: 'Ask your car over MCP',
    active: false,
    settings: { executionOrder: 'v1', timezone: ZONE, saveDataSuccessExecution: 'all' },
    nodes: [
      {
        id: 'mcp',
        name: 'MCP Server Trigger',
        type: '@n8n/n8n-nodes-langchain.mcpTrigger',
        typeVersion: 2,
        position: [200, -200],
        webhookId: '5b0c6c83-1b8e-4d4a-9a51-5d0f1b7f0a11',
        parameters: { path: MCP_PATH },
      },
      tool('vehicles', 'Get vehicles', { resource: 'vehicle', operation: 'getAll' }, 0),
      tool(
        'sessions',
        'Charging history',
        {
          resource: 'chargingHistory',
          operation: 'getAll',
          vin: { __rl: true, mode: 'vin', value: "={{ $fromAI('vin', 'The VIN of the car, from Get vehicles', 'string') }}" },
          range: "={{ $fromAI('period', 'One of last24h, last7d, last30d, thisMonth, lastMonth', 'string') }}",
          returnAll: true,
        },
        200,
      ),
    ],
    connections: { 'Get vehicles': toTrigger, 'Charging history': toTrigger },
  };
}

/** The JSON a tool answered (n8n hands the node's items over as JSON text). */
function answerOf(result) {
  h.assert(!result.isError, `the tool failed: ${JSON.stringify(result.content).slice(0, 500)}`);
  const text = result.content
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('');
  return { text, json: JSON.parse(text) };
}

async function main(run) {
  assertInstalled();
  const work = run.tempDir('cardata-n8n-mcp-');
  const sim = await startSimulator({ port: 0, chargingPageSize: PAGE_SIZE });
  const stored = simulatorCredentialData(sim, CLIENT_ID);
  const userFolder = path.join(work, 'n8n');
  const trace = path.join(work, 'modules.trace');

  const install = await run.step("the packed n8n packages are installed into n8n's nodes folder", async () => {
    const installed = await installPackages(userFolder, N8N_DIR);
    console.log(`    ${describeInstall(installed)}`);
    return installed;
  });

  const n8n = await run.step(`n8n ${N8N_VERSION} starts in server mode on Node 24 with the BMW CarData packages`, () =>
    startN8n(run, { userFolder, cwd: work, install, trace, extra: { N8N_ENCRYPTION_KEY: 'mcp-test-only-key', EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'all' } }),
  );
  const { activate } = publishing(n8n);

  await run.step('the MCP workflow (trigger and two BMW CarData tools) is created over REST and activated', async () => {
    await n8n.rest('POST', 'owner/setup', OWNER);
    const names = (await n8n.call('GET', 'types/nodes.json')).map((t) => t.name);
    h.assert(names.includes(TOOL_TYPE), `n8n did not make ${TOOL_TYPE} of the node`);
    const credential = await n8n.rest('POST', 'credentials', { name: 'BMW CarData (simulator)', type: 'bmwCarDataApi', data: stored });
    const workflow = await n8n.rest('POST', 'workflows', mcpWorkflow({ bmwCarDataApi: { id: credential.id, name: credential.name } }));
    const status = await activate(workflow);
    h.assert(status.status === 'published', `the MCP workflow was not published: ${JSON.stringify(status)}`);
    h.assert(sim.restCalls().length === 0, 'activating asked BMW');
  });

  const client = new Client({ name: 'bmw-cardata-e2e', version: '1.0.0' });
  await run.step('an MCP client connects over Streamable HTTP and lists the two tools, each saying what it returns and costs', async () => {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${n8n.baseUrl}/mcp/${MCP_PATH}`)));
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    h.assert(JSON.stringify(Object.keys(byName).sort()) === JSON.stringify(['Charging_history', 'Get_vehicles']), `tools: ${Object.keys(byName).join(', ')}`);
    for (const t of tools) console.log(`    ${t.name}: ${t.description}`);
    h.assert(
      /^Lists the cars of the BMW account.*Costs 1 of the account's 50 CarData calls a day/.test(byName.Get_vehicles.description),
      byName.Get_vehicles.description,
    );
    h.assert(/charging sessions of a period.*per page of sessions/.test(byName.Charging_history.description), byName.Charging_history.description);
    const args = Object.keys(byName.Charging_history.inputSchema.properties || {}).sort();
    h.assert(JSON.stringify(args) === JSON.stringify(['period', 'vin']), `Charging history takes ${args.join(', ')}`);
    h.assert(sim.restCalls().length === 0, 'listing the tools asked BMW');
  });

  await run.step('"get vehicles": the simulator\'s cars, Simplified, for one call', async () => {
    const before = sim.quota().used;
    const { text, json } = answerOf(await client.callTool({ name: 'Get_vehicles', arguments: {} }));
    console.log(`    answer (${text.length} characters): ${text}`);
    const mapped = [SIM_VINS.bev, SIM_VINS.phev, SIM_VINS.secondary];
    h.assert(JSON.stringify(json.map((c) => c.vin).sort()) === JSON.stringify(mapped.sort()), `vehicles: ${json.map((c) => c.vin).join(', ')}`);
    h.assert(
      json.every((c) => c.mappingType && c.vehicleName && !('mappedSince' in c)),
      'Simplified: vin, vehicleName, mappingType',
    );
    h.assert(json.at(-1)._quota && json.at(-1)._quota.used === 1, `quota on the last car: ${JSON.stringify(json.at(-1)._quota)}`);
    const calls = sim.restCalls();
    h.assert(calls.length === 1 && calls[0].path === '/customers/vehicles/mappings', `calls: ${calls.map((c) => c.path).join(', ')}`);
    h.assert(sim.quota().used - before === 1, `the simulator counted ${sim.quota().used - before} calls`);
    console.log(`    quota: 1 call (the simulator counts ${sim.quota().used} of ${sim.quota().limit} today)`);
  });

  await run.step('"charging history of last month": the sessions of last month in the workflow\'s time zone, one call per page', async () => {
    sim.clearLog();
    const before = sim.quota().used;
    const { text, json } = answerOf(await client.callTool({ name: 'Charging_history', arguments: { vin: VIN, period: 'lastMonth' } }));
    const month = DateTime.now().setZone(ZONE).startOf('month').minus({ months: 1 });
    const [from, to] = [month.toUTC().toISO({ suppressMilliseconds: true }), month.plus({ months: 1 }).toUTC().toISO({ suppressMilliseconds: true })];
    const calls = sim.restCalls();
    const spent = sim.quota().used - before;
    h.assert(spent === calls.length, `the simulator counted ${spent} calls for ${calls.length} requests`);
    h.assert(
      calls.length >= 1 && calls.every((c) => c.path === `/customers/vehicles/${VIN}/chargingHistory` && c.status === 200),
      `calls: ${calls.map((c) => `${c.path} ${c.status}`).join(', ')}`,
    );
    h.assert(
      calls[0].query.from === from && calls[0].query.to === to,
      `asked ${calls[0].query.from}..${calls[0].query.to}, expected last month in ${ZONE}: ${from}..${to}`,
    );
    h.assert(json.length > 0, 'the simulator has sessions last month');
    for (const s of json) {
      const start = Date.parse(s.start);
      h.assert(start >= Date.parse(from) && start < Date.parse(to), `session ${s.start} is not in last month`);
      h.assert(s.vin === VIN && typeof s.energyFromGridKwh === 'number' && !('latitude' in s) && !('timeZone' in s), `not Simplified: ${JSON.stringify(s)}`);
    }
    // BMW's own answer for the same range, read page by page with the credential's token, at no cost to the test.
    const expected = [];
    let token;
    const { access_token: accessToken } = sim.issueTokens({ clientId: CLIENT_ID });
    do {
      const url = `${sim.apiBaseUrl}/customers/vehicles/${VIN}/chargingHistory?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`;
      const page = await (await fetch(url, { headers: { authorization: `Bearer ${accessToken}`, 'x-version': 'v1' } })).json();
      expected.push(...page.data);
      token = page.next_token;
    } while (token);
    const pagesRead = calls.length;
    sim.setQuotaUsed(before + pagesRead);
    h.assert(json.length === expected.length, `the tool gave ${json.length} sessions, BMW has ${expected.length} last month`);
    h.assert(pagesRead === Math.max(1, Math.ceil(expected.length / PAGE_SIZE)), `${pagesRead} pages for ${expected.length} sessions of ${PAGE_SIZE} a page`);
    h.assert(json.at(-1)._quota === undefined, 'no _quota unless Include Quota is on');
    console.log(`    answer (${text.length} characters, ${json.length} sessions): ${text.slice(0, 400)}…`);
    console.log(
      `    quota: ${pagesRead} calls (${pagesRead} pages of ${PAGE_SIZE} sessions); the simulator counts ${sim.quota().used} of ${sim.quota().limit} today`,
    );
  });

  await run.step("no token of the credential appears in n8n's log", async () => {
    const log = n8n.proc.output();
    const tokens = [stored.accessToken, stored.refreshToken, stored.idToken].filter(Boolean);
    h.assert(tokens.length >= 2 && !tokens.some((t) => log.includes(t)), "a token appears in n8n's log");
  });

  await client.close();
  await sim.close();
}

const keep = process.argv.includes('--keep');
h.runTest({ name: 'n8n MCP', timeoutMs: TIMEOUT_MS, keep }, main);
