#!/usr/bin/env node
'use strict';
// Both triggers in ACTIVE workflows of a real n8n 2.41.1 (Node 24, server mode) against the simulator, which runs
// in this process so the test can grow the charging history and publish stream messages:
//  A. BMW CarData Trigger (polled once a minute, n8n's shortest interval) -> NoOp. Activation runs a first poll that
//     only remembers (one CarData call); the simulator then gets a new charging session and one still in progress;
//     the next polls come sooner than the trigger's own spacing and ask BMW nothing.
//  B. BMW CarData Stream Trigger -> NoOp. Two stream messages become executions with the normalised events; the
//     trigger holds one stream connection for the account, closed when the workflow is deactivated.
// Both come from the packed packages (n8n-nodes-bmw-cardata and n8n-nodes-bmw-cardata-stream, with mqtt from its
// tarball's install), installed into n8n's nodes folder as n8n installs community packages. Everything goes
// through n8n's REST API (owner, credential, workflows, activation, executions). Bounded to 5 minutes; n8n is
// always stopped. Prints `n8n triggers: N passed, M failed`.
//
//   node test/e2e/n8n-triggers.js [--keep]
//
// Needs a build (dist/, for the simulator), the tarballs of `npm run packages` and the n8n install made by
// test/e2e/n8n-install.sh (BMW_CARDATA_CACHE, default ~/.cache/bmw-cardata).
const path = require('path');
const { startSimulator, SIM_VINS } = require('../../dist/src/simulator');
const { playChargingScript } = require('../../dist/src/simulator/charging-scripts');
const h = require('../browser/harness');
const { installPackages, describeInstall, TYPES } = require('../support/n8n-packages');
const { N8N_VERSION, N8N_DIR, assertInstalled, startN8n, publishing } = require('../support/n8n-server');

const TIMEOUT_MS = Number(process.env.N8N_TRIGGERS_TIMEOUT_MS || 300_000);
const CLIENT_ID = '00000000-0000-4000-8000-000000000000'; // placeholder, as in the examples
const OWNER = { email: 'owner@example.com', firstName: 'Test', lastName: 'Owner', password: 'Triggers-test-1' };
const POLL_WORKFLOW = 'New charging sessions';
const STREAM_WORKFLOW = 'Live vehicle data';
const POLL_NODE = 'BMW CarData Trigger';
const STREAM_NODE = 'BMW CarData Stream Trigger';
const SOC = 'vehicle.drivetrain.batteryManagement.header';
const LOCK = 'vehicle.cabin.door.lock.status';
const VIN = SIM_VINS.bev;
const MINUTE = 60_000;

/** A poll trigger -> NoOp, or a stream trigger -> NoOp. */
function workflowBody(name, trigger) {
  return {
    name,
    active: false,
    settings: { executionOrder: 'v1', saveDataSuccessExecution: 'all', saveManualExecutions: true },
    nodes: [trigger, { id: 'noop', name: 'No Operation', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [240, 0], parameters: {} }],
    connections: { [trigger.name]: { main: [[{ node: 'No Operation', type: 'main', index: 0 }]] } },
  };
}

async function main(run) {
  assertInstalled();
  // n8n stores execution data with flatted; its own copy reads it back.
  const flatted = require(path.join(N8N_DIR, 'node_modules', 'flatted'));
  const work = run.tempDir('cardata-n8n-triggers-');

  const sim = await startSimulator({ port: 0, stream: true, chargingPageSize: 50 });
  const tokens = sim.issueTokens({ clientId: CLIENT_ID });
  const chargingPath = `/customers/vehicles/${VIN}/chargingHistory`;

  const userFolder = path.join(work, 'n8n');
  const trace = path.join(work, 'modules.trace');
  const install = await run.step("the packed n8n packages are installed into n8n's nodes folder, without n8n-workflow and luxon", async () => {
    const installed = await installPackages(userFolder, N8N_DIR);
    console.log(`    ${describeInstall(installed)}`);
    return installed;
  });

  const n8n = await run.step(`n8n ${N8N_VERSION} starts in server mode on Node 24 with the BMW CarData packages`, () =>
    startN8n(run, {
      userFolder,
      cwd: work,
      install,
      trace,
      extra: {
        N8N_ENCRYPTION_KEY: 'triggers-test-only-key',
        EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'all',
        // debug: n8n logs each poll it starts ("Poll trigger initiated for workflow ..."), counted below.
        N8N_LOG_LEVEL: 'debug',
      },
    }),
  );
  const { rest } = n8n;
  const pollsStarted = () => n8n.proc.output().split(`Poll trigger initiated for workflow "${POLL_WORKFLOW}"`).length - 1;

  const executions = async (workflowId) => {
    const list = await rest('GET', `executions?limit=100&filter=${encodeURIComponent(JSON.stringify({ workflowId }))}`);
    return list.results.sort((a, b) => Number(a.id) - Number(b.id));
  };
  /** The items a node emitted in one execution. */
  const output = async (executionId, node) => {
    const execution = await rest('GET', `executions/${executionId}`);
    const data = typeof execution.data === 'string' ? flatted.parse(execution.data) : execution.data;
    const runs = data.resultData.runData[node];
    h.assert(runs && runs.length === 1, `execution ${executionId} has no single run of ${node}`);
    return runs[0].data.main[0].map((item) => item.json);
  };
  const finished = (list) => list.length > 0 && list.every((e) => e.status === 'success');
  // n8n 2.41 activates ("publishes") in the background: each waits for the publication to settle.
  const { activate, deactivate } = publishing(n8n);

  // Once a minute is n8n's shortest poll interval. Its "Every Minute" is the cron `<random second> * * * * *`; the
  // same with the second pinned 20 s ahead makes the first scheduled poll come about 20 s after activation,
  // not anywhere within the minute (a poll right after activation would race with the test's checks).
  const everyMinute = () => ({ mode: 'custom', cronExpression: `${(new Date().getSeconds() + 20) % 60} * * * * *` });
  const pollParameters = (pollTimes) => ({
    pollTimes: { item: [pollTimes] },
    vin: { __rl: true, mode: 'vin', value: VIN },
    limit: 50,
    emitExisting: false,
    output: 'flat',
  });

  const ids = await run.step('the owner, a credential on the simulator and the stream workflow are set up over REST', async () => {
    await rest('POST', 'owner/setup', OWNER);
    const names = (await n8n.call('GET', 'types/nodes.json')).map((t) => t.name);
    h.assert(
      names.includes(TYPES.bmwCarDataTrigger) && names.includes(TYPES.bmwCarDataStreamTrigger),
      'n8n did not load the BMW CarData triggers from the packages',
    );
    const credential = await rest('POST', 'credentials', {
      name: 'BMW CarData (simulator)',
      type: 'bmwCarDataApi',
      data: {
        clientId: CLIENT_ID,
        apiBaseUrl: sim.apiBaseUrl,
        authBaseUrl: sim.authBaseUrl,
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token,
        idToken: tokens.id_token,
        gcid: tokens.gcid,
        scope: tokens.scope,
        expiresAt: new Date(Date.now() + tokens.expires_in * 1000).toISOString(),
      },
    });
    const credentials = { bmwCarDataApi: { id: credential.id, name: credential.name } };
    const stream = await rest(
      'POST',
      'workflows',
      workflowBody(STREAM_WORKFLOW, {
        id: 'stream',
        name: STREAM_NODE,
        type: TYPES.bmwCarDataStreamTrigger,
        typeVersion: 1,
        position: [0, 0],
        credentials,
        parameters: { vins: `${SIM_VINS.bev}, ${SIM_VINS.phev}`, descriptors: [], output: 'event', streamUrl: sim.streamUrl },
      }),
    );
    const charging = await rest(
      'POST',
      'workflows',
      workflowBody('Charging events', {
        id: 'charging',
        name: STREAM_NODE,
        type: TYPES.bmwCarDataStreamTrigger,
        typeVersion: 1,
        position: [0, 0],
        credentials,
        parameters: { vins: '', descriptors: [], output: 'charging', events: ['charging-started', 'charging-finished'], streamUrl: sim.streamUrl },
      }),
    );
    h.assert(credential.id && stream.id && stream.versionId && charging.id, 'no ids for the credential or the stream workflows');
    return { stream, charging, credentials };
  });

  await run.step('n8n refuses to activate a poll more often than once a minute', async () => {
    const fast = await rest(
      'POST',
      'workflows',
      workflowBody('Too often', {
        id: 'fast',
        name: POLL_NODE,
        type: TYPES.bmwCarDataTrigger,
        typeVersion: 1,
        position: [0, 0],
        credentials: ids.credentials,
        parameters: pollParameters({ mode: 'custom', cronExpression: '*/10 * * * * *' }),
      }),
    );
    const status = await activate(fast);
    const errors = status.triggers.map((t) => t.errorMessage).join(' ');
    h.assert(status.status === 'failed' && /polling interval is too short/i.test(errors), `a 10-second poll was not refused: ${JSON.stringify(status)}`);
    h.assert(sim.restCalls().length === 0, 'the refused workflow polled the simulator');
    await deactivate(fast);
  });

  // ---- A: the polling trigger --------------------------------------------------------------------------------
  let activatedAt;
  await run.step('the polling workflow, activated, runs a first poll: one CarData call, nothing emitted (it only remembers)', async () => {
    ids.poll = await rest(
      'POST',
      'workflows',
      workflowBody(POLL_WORKFLOW, {
        id: 'poll',
        name: POLL_NODE,
        type: TYPES.bmwCarDataTrigger,
        typeVersion: 1,
        position: [0, 0],
        credentials: ids.credentials,
        parameters: pollParameters(everyMinute()),
      }),
    );
    sim.clearLog();
    activatedAt = Date.now();
    const status = await activate(ids.poll);
    h.assert(status.status === 'published', `the polling workflow was not published: ${JSON.stringify(status)}`);
    await h.waitFor('the first poll', () => sim.restCalls().length >= 1 && pollsStarted() >= 1, 20_000, n8n.proc);
    await h.sleep(1500);
    const calls = sim.restCalls();
    h.assert(
      calls.length === 1 && calls[0].path === chargingPath && calls[0].status === 200,
      `the first poll made ${calls.length} CarData call(s): ${calls.map((c) => `${c.path} ${c.status}`).join(', ')}`,
    );
    h.assert(pollsStarted() === 1, `n8n started ${pollsStarted()} polls, expected 1`);
    const list = await executions(ids.poll.id);
    h.assert(list.length === 0, `the first poll started ${list.length} execution(s); it should only remember the sessions`);
    h.assert(
      !/Poll trigger[^\n]*error|There was a problem with the trigger node "BMW CarData Trigger"/i.test(n8n.proc.output()),
      'n8n logged a problem with the polling trigger',
    );
    // BMW's history grows meanwhile: the paced polls must not ask for it before their check is due.
    sim.addChargingSession(VIN);
    sim.startChargingSession(VIN, { startTime: Math.floor(Date.now() / 1000) - 300 });
  });

  // ---- B: the stream trigger (while the polling workflow waits for its next minute) ---------------------------
  const published = [];
  await run.step('activating the stream workflow opens one stream connection for the account', async () => {
    sim.stream.log.length = 0;
    const status = await activate(ids.stream);
    h.assert(status.status === 'published', `the stream workflow was not published: ${JSON.stringify(status)}`);
    await h.waitFor('the stream trigger to subscribe', () => sim.stream.log.some((e) => e.event === 'subscribe'), 20_000, n8n.proc);
    h.assert(sim.stream.connections() === 1, `the account has ${sim.stream.connections()} stream connections, expected 1`);
    const refused = sim.stream.log.filter((e) => /refused|replaced/.test(e.event));
    h.assert(refused.length === 0, `the broker refused something: ${refused.map((e) => e.event).join(', ')}`);
  });

  await run.step('two stream messages become executions with the normalised events; another VIN is filtered out', async () => {
    await h.sleep(500); // the broker logs the subscription as it grants it; let the SUBACK reach the trigger
    published.push(await sim.stream.publish(SIM_VINS.bev, { [SOC]: { value: 64, unit: '%', timestamp: '2026-01-02T03:04:05.000Z' } }));
    await h.waitFor('the first stream execution', async () => finished(await executions(ids.stream.id)), 20_000, n8n.proc);
    await sim.stream.publish(SIM_VINS.secondary, { [SOC]: 12 }); // not among the trigger's VINs
    published.push(await sim.stream.publish(SIM_VINS.phev, { [LOCK]: { value: 'SECURED', timestamp: '2026-01-02T03:05:06.000Z' } }));
    const list = await h.waitFor(
      'the second stream execution',
      async () => {
        const l = await executions(ids.stream.id);
        return l.length >= 2 && finished(l) && l;
      },
      20_000,
      n8n.proc,
    );
    await h.sleep(2000);
    const settled = await executions(ids.stream.id);
    h.assert(settled.length === 2, `the stream workflow ran ${settled.length} times, expected 2 (one per message of its VINs)`);
    h.assert(
      list.every((e) => e.mode === 'trigger'),
      `stream executions ran in mode ${list.map((e) => e.mode).join(', ')}`,
    );
    const items = [];
    for (const e of settled) items.push(await output(e.id, STREAM_NODE));
    h.assert(
      items.every((i) => i.length === 1),
      `each message should be one item: ${items.map((i) => i.length).join(', ')}`,
    );
    const expected = [
      // A car without a name in the credential is called by its VIN.
      { vin: SIM_VINS.bev, vehicleName: SIM_VINS.bev, descriptor: SOC, value: 64, unit: '%', timestamp: '2026-01-02T03:04:05.000Z', numericValue: 64 },
      { vin: SIM_VINS.phev, vehicleName: SIM_VINS.phev, descriptor: LOCK, value: 'SECURED', unit: null, timestamp: '2026-01-02T03:05:06.000Z' },
    ];
    for (const [i, want] of expected.entries()) {
      const got = items[i][0];
      h.assert(JSON.stringify(got) === JSON.stringify(want), `event ${i + 1} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    }
    const noop = await output(settled[1].id, 'No Operation');
    h.assert(noop.length === 1 && noop[0].descriptor === LOCK, 'the NoOp node did not receive the event');
    h.assert(sim.stream.connections() === 1, `the account has ${sim.stream.connections()} stream connections, expected 1`);
  });

  await run.step('deactivating the stream workflow closes its connection; later messages start nothing', async () => {
    await deactivate(ids.stream);
    await h.waitFor('the stream connection to close', () => sim.stream.connections() === 0, 10_000, n8n.proc);
    h.assert(
      sim.stream.log.some((e) => e.event === 'disconnect'),
      'the broker saw no disconnect',
    );
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 65 });
    await h.sleep(2000);
    const list = await executions(ids.stream.id);
    h.assert(list.length === 2, `the deactivated stream workflow ran again (${list.length} executions)`);
  });

  await run.step('an active workflow on charging events: an AC session gives charging started, then finished with its figures', async () => {
    sim.stream.log.length = 0;
    const status = await activate(ids.charging);
    h.assert(status.status === 'published', `the charging workflow was not published: ${JSON.stringify(status)}`);
    await h.waitFor('the charging trigger to subscribe', () => sim.stream.log.some((e) => e.event === 'subscribe'), 20_000, n8n.proc);
    await h.sleep(500);
    await playChargingScript(sim.stream, 'ac-session', { vin: SIM_VINS.bev, intervalMs: 20 });
    await h.waitFor(
      'two charging executions',
      async () => {
        const l = await executions(ids.charging.id);
        return l.length >= 2 && finished(l) && l;
      },
      30_000,
      n8n.proc,
    );
    await h.sleep(1000);
    const settled = (await executions(ids.charging.id)).slice().reverse();
    const kinds = [];
    for (const e of settled) for (const item of await output(e.id, STREAM_NODE)) kinds.push(item);
    kinds.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    h.assert(
      JSON.stringify(kinds.map((k) => k.kind)) === JSON.stringify(['charging-started', 'charging-finished']),
      `events: ${kinds.map((k) => k.kind).join(', ')}`,
    );
    const done = kinds[1];
    h.assert(done.vin === SIM_VINS.bev && done.socAdded > 0 && typeof done.energyAdded.kwh === 'number', `finished event: ${JSON.stringify(done)}`);
    await deactivate(ids.charging);
    await h.waitFor('the charging stream connection to close', () => sim.stream.connections() === 0, 10_000, n8n.proc);
  });

  // ---- A again: the next polls ---------------------------------------------------------------------------------
  // The trigger paces itself (at most every 2 hours by default, 30 minutes at the least): the polls n8n starts every
  // minute in between ask BMW nothing and start no execution, whatever the simulator's history holds meanwhile.
  // What a check emits once it is due is tested on a fake clock through n8n's own code (test/n8n/trigger.test.ts).
  await run.step('the next polls, once a minute, ask BMW nothing and start no execution: the trigger paces itself', async () => {
    await h.waitFor('two more polls', () => pollsStarted() >= 3, Math.max(5000, activatedAt + 2 * MINUTE + 15_000 - Date.now()), n8n.proc);
    await h.sleep(3000);
    const calls = sim.restCalls();
    h.assert(calls.length === 1, `${pollsStarted()} polls made ${calls.length} CarData calls, expected only the first poll's`);
    const list = await executions(ids.poll.id);
    h.assert(list.length === 0, `the polling workflow ran ${list.length} times before its next check was due`);
    h.assert(
      !/Poll trigger[^\n]*error|There was a problem with the trigger node "BMW CarData Trigger"/i.test(n8n.proc.output()),
      'n8n logged a problem with the polling trigger',
    );
    h.assert(sim.requests.filter((r) => r.kind === 'auth').length === 0, 'a trigger refreshed the token although the stored one was valid');
    const log = n8n.proc.output();
    h.assert(![tokens.access_token, tokens.refresh_token, tokens.id_token].some((t) => log.includes(t)), "a token appears in n8n's log");
    await deactivate(ids.poll);
  });

  await sim.close();
}

const keep = process.argv.includes('--keep');
h.runTest({ name: 'n8n triggers', timeoutMs: TIMEOUT_MS, keep }, main);
