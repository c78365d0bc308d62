// The n8n stream trigger through n8n's own TriggerContext (n8n-core): request helpers, credential refresh via
// preAuthentication (the in-memory credential store of the harness follows n8n's rules), emit / emitError.
import assert from 'assert';
import { MemoryCredentialsHelper, CREDENTIAL } from '../support/n8n-harness';
import { simulatorCredentialData } from '../../scripts/n8n-process';
import { TriggerContext } from 'n8n-core';
import { Workflow, NodeHelpers } from 'n8n-workflow';
import type { INode, IWorkflowExecuteAdditionalData, WorkflowExecuteMode } from 'n8n-workflow';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { streamConnections, LiveData, LoginError, CarDataError } from '../../src/core';
import { BmwCarDataStreamTrigger } from '../../nodes/BmwCarDataStreamTrigger/BmwCarDataStreamTrigger.node.js';
import { playChargingScript } from '../../src/simulator/charging-scripts';
import { playTripScript } from '../../src/simulator/trip-scripts';
import { tripStart, directTrips } from '../support/trip-replay';
import { CredentialStreamTokens } from '../../src/n8n/stream-tokens';
import { BmwCarDataApi } from '../../credentials/BmwCarDataApi.credentials.js';
import { sleep, until } from '../support/wait';
import { SOC, PORT } from '../../src/simulator/descriptor-names';

const trigger = new BmwCarDataStreamTrigger();
const nodeTypes = {
  getByName: () => trigger,
  getByNameAndVersion: (_name, version) => NodeHelpers.getVersionedNodeType(trigger, version),
  getKnownTypes: () => ({}),
};

function credentialsFor(sim, extra = {}) {
  // The broker comes from the node's Stream URL unless a test gives the credential one.
  return new MemoryCredentialsHelper({ ...simulatorCredentialData(sim, 'sim-client-id'), streamUrl: '', ...extra });
}

/** The part of n8n's additional data the trigger reads. */
function additionalData(credentialsHelper): IWorkflowExecuteAdditionalData {
  return <IWorkflowExecuteAdditionalData>(<unknown>{
    credentialsHelper,
    getRunExecutionData: async () => undefined,
    getRuntimeCredential: async () => undefined,
    currentNodeExecutionIndex: 0,
    restApiUrl: 'http://127.0.0.1:5678/rest',
    instanceBaseUrl: 'http://127.0.0.1:5678/',
    webhookBaseUrl: 'http://127.0.0.1:5678/webhook',
    webhookWaitingBaseUrl: 'http://127.0.0.1:5678/webhook-waiting',
    webhookTestBaseUrl: 'http://127.0.0.1:5678/webhook-test',
    variables: {},
    logAiEvent: () => {},
  });
}

/** Activates the trigger as n8n does: a TriggerContext with emit / emitError, then trigger(). */
async function activate(credentials, parameters, mode: WorkflowExecuteMode = 'trigger', staticData = {}) {
  const node: INode = {
    id: 'node-stream',
    name: 'BMW CarData Stream Trigger',
    type: 'CUSTOM.bmwCarDataStreamTrigger',
    typeVersion: 1,
    position: [0, 0],
    parameters,
    credentials: { bmwCarDataApi: CREDENTIAL },
  };
  const workflow = new Workflow({ id: 'wf-stream', name: 'stream', nodes: [node], connections: {}, active: mode === 'trigger', nodeTypes, staticData });
  const items = [];
  const errors = [];
  const ctx = new TriggerContext(
    workflow,
    node,
    additionalData(credentials),
    mode,
    'activate',
    (data) => items.push(...data[0].map((i) => i.json)),
    (error) => errors.push(error),
  );
  const response = await trigger.trigger.call(ctx);
  return { response, items, errors };
}

describe('n8n stream trigger (n8n-core TriggerContext) against the simulated broker', function () {
  this.timeout(20000);
  let sim;
  let active;
  afterEach(async () => {
    if (active) await active.response.closeFunction();
    active = undefined;
    if (sim) await sim.close();
    sim = undefined;
    assert.deepStrictEqual(streamConnections(), []);
  });

  it('describes a trigger node with the account credential', () => {
    const d = trigger.description;
    assert.strictEqual(d.name, 'bmwCarDataStreamTrigger');
    assert.deepStrictEqual(d.group, ['trigger']);
    assert.deepStrictEqual(d.inputs, []);
    assert.strictEqual(d.credentials[0].name, 'bmwCarDataApi');
    // Empty on the node: the credential's stream URL applies, BMW's unless changed there.
    assert.strictEqual(d.properties.find((p) => p.name === 'streamUrl').default, '');
    const credentialType = new BmwCarDataApi();
    assert.strictEqual(credentialType.properties.find((p) => p.name === 'streamUrl').default, 'mqtts://customer.streaming-cardata.bmwgroup.com:9000');
  });

  it('emits one item per value as messages arrive, filtered, and disconnects in closeFunction', async () => {
    sim = await startSimulator({ stream: true });
    const credentials = credentialsFor(sim);
    active = await activate(credentials, { vins: SIM_VINS.bev, descriptors: [SOC, PORT], streamUrl: sim.streamUrl });
    await until(() => sim.stream.connections() === 1, 5000, 'connection');
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 3000, 'subscription');
    await sim.stream.publish(SIM_VINS.phev, { [SOC]: 20 });
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 58, [PORT]: 'CONNECTED', 'vehicle.body.trunk.isLocked': true });
    await until(() => active.items.length >= 2, 3000, 'items');
    await sleep(100);
    assert.deepStrictEqual(
      active.items.map((i) => [i.vin, i.descriptor, i.value]),
      [
        [SIM_VINS.bev, SOC, 58],
        [SIM_VINS.bev, PORT, 'CONNECTED'],
      ],
    );
    assert.strictEqual(active.items[0].numericValue, 58);
    assert.strictEqual(active.items[0].unit, '%');
    assert.strictEqual(active.items[0].vehicleName, SIM_VINS.bev, 'a car without a name is called by its VIN');
    assert.deepStrictEqual(Object.keys(active.items[0]).slice(0, 2), ['vin', 'vehicleName']);
    assert.deepStrictEqual(active.errors, []);
    assert.strictEqual(sim.restCalls().length, 0, 'streaming costs no CarData call');

    await active.response.closeFunction();
    active = undefined;
    await until(() => sim.stream.connections() === 0, 3000, 'disconnected');
  });

  it('emits one item per BMW message in "message" mode', async () => {
    sim = await startSimulator({ stream: true });
    // The broker comes from the credential here: the node leaves its own stream URL empty.
    active = await activate(credentialsFor(sim, { streamUrl: sim.streamUrl, vehicleNames: `${SIM_VINS.bev}=iX\n${SIM_VINS.phev}=X5` }), { output: 'message' });
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 61, [PORT]: 'CONNECTED' });
    await until(() => active.items.length === 1, 3000, 'item');
    const [item] = active.items;
    assert.strictEqual(item.vin, SIM_VINS.bev);
    assert.strictEqual(item.vehicleName, 'iX', "the credential's Car Names");
    assert.deepStrictEqual(Object.keys(item.data).sort(), [PORT, SOC].sort());
    assert.strictEqual(item.events.length, 2);
  });

  it('renews the stream login through the credential, storing the rotated refresh token', async () => {
    sim = await startSimulator({ stream: true });
    const credentials = credentialsFor(sim);
    const firstRefresh = credentials.data.refreshToken;
    active = await activate(credentials, { descriptors: [SOC], streamUrl: sim.streamUrl });
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    sim.expireIdTokens();
    await until(() => sim.stream.log.filter((l) => l.event === 'subscribe').length === 2, 8000, 'subscribed again');
    assert.strictEqual(credentials.updates, 1, 'n8n stored the refreshed credential once');
    assert.notStrictEqual(credentials.data.refreshToken, firstRefresh);
    assert.ok(credentials.data.idToken && credentials.data.idToken !== undefined);
    assert.strictEqual(sim.restCalls().length, 0, 'no CarData call spent on the refresh');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 90 });
    await until(() => active.items.some((i) => i.value === 90), 3000, 'item after renewal');
    // The stored refresh token is the live one: refreshing with it works.
    const res = await fetch(`${sim.authBaseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.data.refreshToken, client_id: 'sim-client-id' }),
    });
    assert.strictEqual(res.status, 200);
  });

  it('a credential pasted with spaces around its tokens and a slash after the Auth Base URL: connects, and renews there', async () => {
    sim = await startSimulator({ stream: true });
    const t = sim.issueTokens({ clientId: 'sim-client-id' });
    const credentials = credentialsFor(sim, { idToken: ` ${t.id_token}\n`, gcid: `${t.gcid} `, authBaseUrl: `${sim.authBaseUrl}//` });
    active = await activate(credentials, { descriptors: [SOC], streamUrl: sim.streamUrl });
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    sim.expireIdTokens();
    await until(() => sim.stream.log.filter((l) => l.event === 'subscribe').length === 2, 8000, 'subscribed again');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 77 });
    await until(() => active.items.some((i) => i.value === 77), 3000, 'item after renewal');
    assert.deepStrictEqual(active.errors, []);
  });

  it('the renewal meets a login service answering 500 and then not at all: the trigger keeps going, no error', async function () {
    this.timeout(30000);
    sim = await startSimulator({ stream: true });
    // The stored login is due for renewal in about 3 s (5 min margin).
    const credentials = credentialsFor(sim, { expiresAt: new Date(Date.now() + 5 * 60_000 + 3000).toISOString() });
    const firstRefresh = credentials.data.refreshToken;
    active = await activate(credentials, { descriptors: [SOC], streamUrl: sim.streamUrl });
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    // One whole refresh fails: core tries four times, meeting 500, 500, no answer, no answer.
    sim.faults.failNextRefresh(2);
    sim.faults.dropNextRefresh(2);
    await until(() => sim.stream.log.filter((l) => l.event === 'subscribe').length === 2, 20000, 'subscribed again with the renewed login');
    const tried = sim.requests.filter((r) => r.refreshToken).map((r) => r.status);
    assert.deepStrictEqual(tried, [500, 500, 0, 0, 200]);
    assert.deepStrictEqual(active.errors, [], 'nothing reported: the login is fine');
    assert.notStrictEqual(credentials.data.refreshToken, firstRefresh, 'the rotated refresh token was stored');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 47 });
    await until(() => active.items.some((i) => i.value === 47), 3000, 'item after the renewal');
  });

  it("the renewal meets a firewall's 403 page and a 429 from the login service: the trigger keeps going, no error", async function () {
    this.timeout(30000);
    sim = await startSimulator({ stream: true });
    const credentials = credentialsFor(sim, { expiresAt: new Date(Date.now() + 5 * 60_000 + 3000).toISOString() });
    const firstRefresh = credentials.data.refreshToken;
    active = await activate(credentials, { descriptors: [SOC], streamUrl: sim.streamUrl });
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    const token = { path: /oauth\/token/ };
    // The trigger's bare request that makes n8n refresh goes through; the credential's refresh meets the faults.
    sim.faults.answerNext(1, { status: 403, body: '<html><body>Request blocked</body></html>', contentType: 'text/html' }, { ...token, skip: 1 });
    sim.faults.answerNext(1, { status: 429, headers: { 'Retry-After': '0' }, body: '', contentType: 'text/plain' }, token);
    await until(() => sim.stream.log.filter((l) => l.event === 'subscribe').length === 2, 25000, 'subscribed again with the renewed login');
    const met = sim.requests.filter((r) => r.path === '/gcdm/oauth/token' && (r.status === 403 || r.status === 429)).map((r) => r.status);
    assert.deepStrictEqual(met, [403, 429]);
    assert.deepStrictEqual(active.errors, [], 'nothing reported: the login is fine');
    assert.notStrictEqual(credentials.data.refreshToken, firstRefresh, 'renewed and stored');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 48 });
    await until(() => active.items.some((i) => i.value === 48), 3000, 'item after the renewal');
  });

  it('skips repeated readings by default, and emits each with the switch off', async () => {
    sim = await startSimulator({ stream: true });
    const at = '2026-11-26T14:03:12.000Z';
    const send = async () => {
      for (const [value, timestamp] of [
        [64, at],
        [64, at],
        [65, at],
      ])
        await sim.stream.publish(SIM_VINS.bev, { [SOC]: { value, timestamp } });
    };
    active = await activate(credentialsFor(sim), { descriptors: [SOC], streamUrl: sim.streamUrl });
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    await send();
    await until(() => active.items.length === 2, 3000, 'items');
    await sleep(100);
    assert.deepStrictEqual(
      active.items.map((i) => i.value),
      [64, 65],
    );
    await active.response.closeFunction();

    active = await activate(credentialsFor(sim), { descriptors: [SOC], streamUrl: sim.streamUrl, deduplicate: false });
    await until(() => sim.stream.log.filter((l) => l.event === 'subscribe').length === 2, 5000, 'subscription');
    await send();
    await until(() => active.items.length === 3, 3000, 'items');
    assert.deepStrictEqual(
      active.items.map((i) => i.value),
      [64, 64, 65],
    );
  });

  it('a pasted refresh token (no id_token yet) is refreshed first, then the stream connects', async () => {
    sim = await startSimulator({ stream: true });
    const credentials = credentialsFor(sim, { idToken: '', gcid: '', accessToken: 'stale' });
    active = await activate(credentials, { streamUrl: sim.streamUrl });
    await until(() => sim.stream.connections() === 1, 5000, 'connection');
    assert.strictEqual(credentials.updates, 1);
    assert.ok(credentials.data.gcid);
  });

  it('manual mode: resolves with the first message only', async () => {
    sim = await startSimulator({ stream: true });
    active = await activate(credentialsFor(sim), { streamUrl: sim.streamUrl, options: { sampleAfterSec: 0 } }, 'manual');
    assert.strictEqual(typeof active.response.manualTriggerFunction, 'function');
    const waiting = active.response.manualTriggerFunction();
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 44, [PORT]: 'CONNECTED' });
    await waiting;
    await sleep(100);
    assert.strictEqual(active.items.length, 1);
    assert.strictEqual(active.items[0].value, 44);
  });

  it('manual mode: a sample item when the car sends nothing in time', async () => {
    sim = await startSimulator({ stream: true });
    active = await activate(
      credentialsFor(sim),
      { vins: SIM_VINS.phev, descriptors: [SOC], streamUrl: sim.streamUrl, options: { sampleAfterSec: 0.3 } },
      'manual',
    );
    await active.response.manualTriggerFunction();
    assert.strictEqual(active.items.length, 1);
    assert.deepStrictEqual(
      { sample: active.items[0].sample, vin: active.items[0].vin, descriptor: active.items[0].descriptor, unit: active.items[0].unit },
      { sample: true, vin: SIM_VINS.phev, descriptor: SOC, unit: '%' },
    );
  });

  it('"not configured" is reported through emitError with the portal hint', async () => {
    sim = await startSimulator({ stream: { configured: false } });
    active = await activate(credentialsFor(sim), { streamUrl: sim.streamUrl });
    await until(() => active.errors.length === 1, 5000, 'error');
    assert.match(active.errors[0].message, /no data stream is configured/);
    assert.match(active.errors[0].description, /Configure data stream/);
    await sleep(300);
    assert.strictEqual(active.errors.length, 1, 'reported once');
  });

  it('a refresh token BMW refuses is reported as a login problem, without a secret', async () => {
    sim = await startSimulator({ stream: true });
    const credentials = credentialsFor(sim, { idToken: 'stale-id-token', refreshToken: 'refused-refresh-token' });
    active = await activate(credentials, { streamUrl: sim.streamUrl });
    await until(() => active.errors.length === 1, 5000, 'error');
    assert.match(active.errors[0].message, /authorize|log in/i);
    assert.doesNotMatch(`${active.errors[0].message} ${active.errors[0].description}`, /refused-refresh-token|stale-id-token/);
  });

  it('Trigger On charging events: started and finished of an AC session, with its figures, no quota', async () => {
    sim = await startSimulator({ stream: true });
    active = await activate(credentialsFor(sim, { vehicleNames: `${SIM_VINS.bev}=Family iX` }), {
      output: 'charging',
      events: ['charging-started', 'charging-finished'],
      streamUrl: sim.streamUrl,
    });
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    await playChargingScript(sim.stream, 'ac-session', { vin: SIM_VINS.bev, intervalMs: 5 });
    await until(() => active.items.some((i) => i.kind === 'charging-finished'), 5000, 'finished');
    assert.deepStrictEqual(
      active.items.map((i) => i.kind),
      ['charging-started', 'charging-finished'],
    );
    const finished = active.items[1];
    assert.ok(finished.socAdded > 0 && typeof finished.energyAdded.kwh === 'number', JSON.stringify(finished));
    assert.deepStrictEqual(
      active.items.map((i) => i.vehicleName),
      ['Family iX', 'Family iX'],
    );
    assert.strictEqual(sim.restCalls().length, 0);
  });

  it("Trigger On Monthly Summary with the credential's Tariff: the month's summary and, once it has ended, its final figures with the cost; a tariff that cannot be read stops the trigger", async () => {
    sim = await startSimulator({ stream: true });
    const tariff = '{"currency":"EUR","pricePerKwh":0.3,"perSession":1,"timeZone":"Europe/Berlin"}';
    active = await activate(credentialsFor(sim, { vehicleNames: `${SIM_VINS.bev}=Family iX`, tariff }), {
      output: 'summary',
      summaryEvents: ['summary', 'month-closed'],
      streamUrl: sim.streamUrl,
    });
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    // A charge in November; this machine's clock is later, so November closes after it.
    await playChargingScript(sim.stream, 'ac-session', { vin: SIM_VINS.bev, intervalMs: 5 });
    await until(() => active.items.some((i) => i.kind === 'month-closed'), 5000, 'month closed');
    assert.deepStrictEqual(
      active.items.map((i) => [i.kind, i.vehicleName, i.month, i.sessions, i.kwh, i.cost, i.currency]),
      [
        ['summary', 'Family iX', '2026-11', 1, 25.82, 8.75, 'EUR'],
        ['month-closed', 'Family iX', '2026-11', 1, 25.82, 8.75, 'EUR'],
      ],
    );
    assert.strictEqual(sim.restCalls().length, 0);
    await active.response.closeFunction();
    active = undefined;
    await assert.rejects(
      activate(credentialsFor(sim, { tariff: '{"currency":"EUR"}' }), { output: 'charging', streamUrl: sim.streamUrl }),
      /Tariff: pricePerKwh must be a number/,
    );
  });

  it('a restart of the active workflow mid-charge still gives exactly one finished event (static data)', async () => {
    sim = await startSimulator({ stream: true });
    const staticData = {};
    const params = { output: 'charging', events: ['charging-started', 'charging-finished'], streamUrl: sim.streamUrl };
    const credentials = credentialsFor(sim);
    active = await activate(credentials, params, 'trigger', staticData);
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    const seen = [];
    await playChargingScript(sim.stream, 'restart', {
      vin: SIM_VINS.bev,
      intervalMs: 5,
      onMarker: async (marker) => {
        if (marker !== 'host-restart') return;
        // The charge began before the restart: its start has gone out by now (a loaded machine may take a while).
        await until(() => active.items.some((i) => i.kind === 'charging-started'), 5000, 'started before the restart');
        await sleep(100);
        seen.push(...active.items.map((i) => i.kind));
        await active.response.closeFunction();
        const subscribes = sim.stream.log.filter((l) => l.event === 'subscribe').length;
        active = await activate(credentials, params, 'trigger', JSON.parse(JSON.stringify(staticData)));
        await until(() => sim.stream.log.filter((l) => l.event === 'subscribe').length > subscribes, 5000, 'subscribed again');
      },
    });
    await until(() => active.items.some((i) => i.kind === 'charging-finished'), 5000, 'finished');
    await sleep(100);
    seen.push(...active.items.map((i) => i.kind));
    assert.deepStrictEqual(seen, ['charging-started', 'charging-finished']);
  });

  it('Trigger On trip events: one item per event, the finish once the pause and the wait are over, each naming its car, no quota', async () => {
    sim = await startSimulator({ stream: true });
    assert.deepStrictEqual(trigger.description.properties.find((p) => p.name === 'tripEvents').default, ['trip-finished'], 'by default the finished trip');
    active = await activate(credentialsFor(sim, { vehicleNames: `${SIM_VINS.bev}=Family iX` }), {
      output: 'trips',
      tripEvents: ['trip-started', 'trip-finished'],
      streamUrl: sim.streamUrl,
    });
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    // The drive happened just now: its finish is due 3 s from here, after the script was played.
    const due = Date.now() + 3000;
    const start = tripStart('commute', 3000);
    await playTripScript(sim.stream, 'commute', { start, intervalMs: 5 });
    await until(() => active.items.length >= 1, 5000, 'started');
    if (Date.now() < due - 500)
      assert.deepStrictEqual(
        active.items.map((i) => i.kind),
        ['trip-started'],
        'the finish waits',
      );
    await until(() => active.items.length >= 2, 8000, 'finished');
    assert.ok(Date.now() >= due, 'not before it is due');
    const expected = directTrips('commute', start).map(({ vin, ...rest }) => ({ vin, vehicleName: 'Family iX', ...rest }));
    assert.deepStrictEqual(active.items, expected);
    assert.ok(active.items[1].distanceKm > 0 && active.items[1].tripId === active.items[0].tripId, JSON.stringify(active.items[1]));
    assert.deepStrictEqual(active.errors, []);
    assert.strictEqual(sim.restCalls().length, 0);
  });

  it('trip events: a restart of the active workflow mid-drive still gives one trip (static data); Trigger On limits the kinds', async () => {
    sim = await startSimulator({ stream: true });
    const staticData = {};
    const params = { output: 'trips', tripEvents: ['trip-finished'], settleSeconds: 0, streamUrl: sim.streamUrl };
    const credentials = credentialsFor(sim);
    active = await activate(credentials, params, 'trigger', staticData);
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    const seen = [];
    // The ignition went off 20 minutes ago and late readings wait 0 s: the finish is due with the last message.
    const start = tripStart('restart', -5 * 60_000);
    await playTripScript(sim.stream, 'restart', {
      start,
      intervalMs: 5,
      onMarker: async (marker) => {
        if (marker !== 'host-restart') return;
        await sleep(100);
        seen.push(...active.items);
        await active.response.closeFunction();
        const subscribes = sim.stream.log.filter((l) => l.event === 'subscribe').length;
        active = await activate(credentials, params, 'trigger', JSON.parse(JSON.stringify(staticData)));
        await until(() => sim.stream.log.filter((l) => l.event === 'subscribe').length > subscribes, 5000, 'subscribed again');
      },
    });
    await until(() => active.items.length >= 1, 5000, 'finished');
    await sleep(100);
    seen.push(...active.items);
    assert.deepStrictEqual(
      seen.map((i) => i.kind),
      ['trip-finished'],
    );
    assert.strictEqual(seen[0].distanceKm, 30, 'the whole trip, across the restart');
  });

  it('a charge that ends now: the finish waits the late-readings time set in the node, then goes out with the unplugging behind it', async () => {
    sim = await startSimulator({ stream: true });
    const STATUS = 'vehicle.drivetrain.electricEngine.charging.status';
    active = await activate(credentialsFor(sim), {
      output: 'charging',
      events: ['charging-started', 'charging-finished', 'unplugged'],
      settleSeconds: 1,
      streamUrl: sim.streamUrl,
    });
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    await sim.stream.publish(SIM_VINS.bev, { [PORT]: 'CONNECTED', [SOC]: 50 });
    await sim.stream.publish(SIM_VINS.bev, { [STATUS]: 'CHARGINGACTIVE' });
    await until(() => active.items.length === 1, 5000, 'started');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 60, [STATUS]: 'CHARGINGENDED' });
    await sim.stream.publish(SIM_VINS.bev, { [PORT]: 'DISCONNECTED' });
    const ended = Date.now();
    await sleep(300);
    assert.deepStrictEqual(
      active.items.map((i) => i.kind),
      ['charging-started'],
      'the finish waits',
    );
    await until(() => active.items.length === 3, 5000, 'finished');
    assert.ok(Date.now() - ended >= 700, 'about a second after the end');
    assert.deepStrictEqual(
      active.items.map((i) => i.kind),
      ['charging-started', 'charging-finished', 'unplugged'],
    );
    assert.deepStrictEqual([active.items[1].startSoc, active.items[1].endSoc], [50, 60]);
  });

  it("the car's state is kept in the static data in batches, and what waits is kept when the workflow stops", async () => {
    sim = await startSimulator({ stream: true });
    const staticData: Record<string, any> = {};
    const kept = () => Object.values(staticData).find((v) => v && v.liveCars !== undefined)?.liveCars;
    active = await activate(credentialsFor(sim), { output: 'state', streamUrl: sim.streamUrl }, 'trigger', staticData);
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: '64' });
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: '65' });
    await until(() => active.items.length === 2, 5000, 'state');
    await sleep(100);
    assert.strictEqual(kept(), undefined, 'no copy of the whole state per reading: the batch waits 30 s');
    await active.response.closeFunction();
    active = undefined;
    assert.strictEqual(JSON.parse(kept()[SIM_VINS.bev]).values[SOC].value, 65);
  });

  it('a state kept whole by an earlier version is read, and kept per car from the first save on, every car with it', async () => {
    sim = await startSimulator({ stream: true });
    const old = new LiveData();
    old.ingest({ vin: SIM_VINS.phev, data: { [SOC]: { value: 30, timestamp: '2026-11-01T10:00:00Z' } } });
    const staticData: Record<string, any> = { 'node:BMW CarData Stream Trigger': { liveData: JSON.stringify(old.serialize()) } };
    active = await activate(credentialsFor(sim), { output: 'state', streamUrl: sim.streamUrl }, 'trigger', staticData);
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: '66' });
    await until(() => active.items.length === 1, 5000, 'state');
    await active.response.closeFunction();
    active = undefined;
    const data = Object.values(staticData).find((v) => v && v.liveCars !== undefined);
    assert.strictEqual(data.liveData, undefined, 'the whole-state text is gone');
    assert.strictEqual(JSON.parse(data.liveCars[SIM_VINS.bev]).values[SOC].value, 66);
    assert.strictEqual(JSON.parse(data.liveCars[SIM_VINS.phev]).values[SOC].value, 30, 'the car that sent nothing is kept too');
  });

  it("the car's state on change: the typed state of the vehicle, only the values picked", async () => {
    sim = await startSimulator({ stream: true });
    active = await activate(credentialsFor(sim), { output: 'state', descriptors: [SOC], streamUrl: sim.streamUrl });
    await until(() => sim.stream.log.some((l) => l.event === 'subscribe'), 5000, 'subscription');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: '41', [PORT]: 'CONNECTED' });
    await until(() => active.items.length === 1, 5000, 'state');
    assert.strictEqual(active.items[0].vin, SIM_VINS.bev);
    assert.deepStrictEqual(Object.keys(active.items[0].values), [SOC]);
    assert.strictEqual(active.items[0].values[SOC].value, 41);
    await sim.stream.publish(SIM_VINS.bev, { 'vehicle.body.trunk.isLocked': true });
    await sleep(150);
    assert.strictEqual(active.items.length, 1, 'a value not picked changes nothing that is emitted');
  });
});

describe("the stream's login from the n8n credential, in n8n's TriggerContext", function () {
  this.timeout(20000);
  let sim;
  before(async () => {
    sim = await startSimulator({});
  });
  after(() => sim.close());
  beforeEach(() => sim.clearLog());

  /** The stream's token source on a trigger context over this credential store. */
  function tokensOf(credentials) {
    const node: INode = {
      id: 'node-stream',
      name: 'BMW CarData Stream Trigger',
      type: 'CUSTOM.bmwCarDataStreamTrigger',
      typeVersion: 1,
      position: [0, 0],
      parameters: {},
      credentials: { bmwCarDataApi: CREDENTIAL },
    };
    const workflow = new Workflow({ id: 'wf-tokens', name: 'tokens', nodes: [node], connections: {}, active: true, nodeTypes, staticData: {} });
    const ctx = new TriggerContext(
      workflow,
      node,
      additionalData(credentials),
      'trigger',
      'activate',
      () => undefined,
      () => undefined,
    );
    return new CredentialStreamTokens(ctx);
  }
  const tokenRequests = () => sim.requests.filter((r) => r.path === '/gcdm/oauth/token');
  const failure = (promise) =>
    promise.then(
      () => assert.fail('resolved'),
      (e) => e,
    );

  it('reads the broker URL, the car names and the account as the credential holds them, trimmed; the set it gives is a copy', async () => {
    const credentials = credentialsFor(sim, {
      streamUrl: ' mqtt://127.0.0.1:1883 \n',
      vehicleNames: `${SIM_VINS.bev}=Family iX`,
      gcid: ' gcid-of-the-account ',
    });
    const tokens = tokensOf(credentials);
    assert.deepStrictEqual([tokens.streamUrl, tokens.accountId, tokens.current()], ['', '', undefined], 'nothing before it is loaded');
    const loaded = await tokens.load();
    assert.strictEqual(tokens.streamUrl, 'mqtt://127.0.0.1:1883');
    assert.deepStrictEqual(tokens.vehicleNames, { [SIM_VINS.bev]: 'Family iX' });
    assert.strictEqual(tokens.accountId, 'gcid-of-the-account');
    assert.strictEqual(loaded.gcid, 'gcid-of-the-account');
    const idToken = loaded.idToken;
    const copy = tokens.current();
    copy.idToken = 'changed';
    assert.strictEqual(tokens.current().idToken, idToken);
  });

  it('a credential not logged in: nothing to give, the account named by its client ID, and a renewal that says to log in', async () => {
    const credentials = new MemoryCredentialsHelper({ clientId: 'sim-client-id', authBaseUrl: sim.authBaseUrl, apiBaseUrl: sim.apiBaseUrl });
    const tokens = tokensOf(credentials);
    assert.strictEqual(await tokens.load(), undefined);
    assert.strictEqual(tokens.current(), undefined);
    assert.match(tokens.accountId, /^client-[0-9a-f]{16}$/);
    const e = await failure(tokens.refresh());
    assert.ok(e instanceof CarDataError, String(e));
  });

  it('renews with a bare, free request to the login service, shared by callers at the same time, and again when asked again', async () => {
    const credentials = credentialsFor(sim, { authBaseUrl: `${sim.authBaseUrl}//` });
    const tokens = tokensOf(credentials);
    const before = await tokens.load();
    const [a, b] = await Promise.all([tokens.refresh(), tokens.refresh()]);
    assert.strictEqual(credentials.updates, 1, 'one renewal for both');
    assert.strictEqual(a.idToken, b.idToken);
    assert.notStrictEqual(a.idToken, before.idToken);
    assert.deepStrictEqual(tokens.current(), a);
    // The request that makes n8n renew: a form-encoded refresh grant without a token, which BMW refuses for free.
    const [bare] = tokenRequests();
    assert.deepStrictEqual([bare.grantType, bare.refreshToken, bare.status], ['refresh_token', undefined, 400]);
    const c = await tokens.refresh();
    assert.strictEqual(credentials.updates, 2, 'a later call renews again');
    assert.notStrictEqual(c.idToken, a.idToken);
    assert.strictEqual(sim.restCalls().length, 0);
  });

  it('a refresh token BMW refuses: a login error to log in again, not to be retried', async () => {
    const tokens = tokensOf(credentialsFor(sim, { refreshToken: 'refused-refresh-token', accessToken: '' }));
    await tokens.load();
    const e = await failure(tokens.refresh());
    assert.ok(e instanceof LoginError, String(e));
    assert.deepStrictEqual([e.kind, e.retryable], ['auth', false]);
    // Core's words about the refused token go through whole.
    assert.strictEqual(e.oauthError, 'invalid_grant');
    assert.match(e.message, /authorize the account again/);
    assert.match(e.hint, /Run the device login again/);
  });

  it('a login service that keeps failing: a login error the stream retries, the login kept', async function () {
    this.timeout(30000);
    const credentials = credentialsFor(sim);
    const tokens = tokensOf(credentials);
    const before = await tokens.load();
    sim.faults.failNextRefresh(4);
    const e = await failure(tokens.refresh());
    assert.ok(e instanceof LoginError, String(e));
    assert.deepStrictEqual([e.kind, e.retryable], ['network', true]);
    assert.strictEqual(e.oauthError, 'server_error');
    assert.match(e.message, /login service is unavailable/);
    assert.match(e.hint, /not with your login, which is kept/);
    assert.strictEqual(credentials.data.refreshToken, before.refreshToken, 'the login is kept');
  });

  it('a login service that accepts the bare request: the login was not renewed, and the stream tries again', async () => {
    const tokens = tokensOf(credentialsFor(sim));
    await tokens.load();
    sim.faults.answerNext(1, { status: 200, body: '{}', contentType: 'application/json' }, { path: /oauth\/token/ });
    const e = await failure(tokens.refresh());
    assert.ok(!(e instanceof LoginError) && e instanceof CarDataError, String(e));
    assert.deepStrictEqual([e.kind, e.retryable, e.message], ['network', true, 'The BMW login could not be renewed for the stream']);
    assert.match(e.hint, /Auth Base URL of the credential/);
  });
});
