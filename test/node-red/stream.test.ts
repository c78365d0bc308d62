// The Node-RED stream node in a real Node-RED runtime (node-red-node-test-helper) against the simulator's broker.
import assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { streamConnections, LiveData } from '../../src/core';
import { helper, freshUserDir, accountNode, streamNode, authorizedCredentials, collector, coreNode, sleep, lastStatus } from '../support/nodered';

import { playChargingScript } from '../../src/simulator/charging-scripts';
import { playTripScript } from '../../src/simulator/trip-scripts';
import { tripStart, directTrips } from '../support/trip-replay';
import { until } from '../support/wait';
import { SOC, PORT } from '../../src/simulator/descriptor-names';

describe('Node-RED stream node', function () {
  this.timeout(20000);
  let sim;
  beforeEach(async () => {
    freshUserDir();
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    if (sim) await sim.close();
    sim = undefined;
    assert.deepStrictEqual(streamConnections(), [], 'redeploy/stop closes the stream');
  });

  async function load(
    nodes,
    { credentials, account = {}, modules = [] }: { credentials?: Record<string, unknown>; account?: Record<string, unknown>; modules?: any[] } = {},
  ) {
    const flow = [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'acc', type: 'bmw-cardata-account', name: 'sim', apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, dailyQuota: 50, ...account },
      ...nodes.map((n) => ({ z: 'tab', ...n })),
    ];
    await helper.load([accountNode, streamNode, ...modules], flow, { acc: credentials ?? authorizedCredentials(sim) });
  }

  it('emits one message per descriptor, filtered by VIN and descriptor, over one shared connection', async () => {
    sim = await startSimulator({ stream: true });
    await load(
      [
        { id: 's1', type: 'bmw-cardata-stream', account: 'acc', vin: SIM_VINS.bev, descriptors: [SOC], streamUrl: sim.streamUrl, wires: [['o1']] },
        { id: 's2', type: 'bmw-cardata-stream', account: 'acc', vin: '', descriptors: [], streamUrl: sim.streamUrl, wires: [['o2']] },
        { id: 'o1', type: 'helper' },
        { id: 'o2', type: 'helper' },
      ],
      { account: { vehicleNames: `${SIM_VINS.bev}=iX` } },
    );
    const s1 = helper.getNode('s1');
    const o1 = collector(helper.getNode('o1'));
    const o2 = collector(helper.getNode('o2'));
    await until(() => lastStatus(s1)?.text === 'connected', 5000, 'connected status');
    assert.deepStrictEqual(lastStatus(s1), { fill: 'green', shape: 'dot', text: 'connected' });
    assert.strictEqual(sim.stream.connections(), 1, 'two nodes, one connection');

    await sim.stream.publish(SIM_VINS.phev, { [SOC]: 33 });
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 64, [PORT]: 'CONNECTED' });
    const [msg] = await o1.wait(1);
    await o2.wait(3);
    await sleep(100);
    assert.strictEqual(o1.messages.length, 1);
    assert.deepStrictEqual(
      { topic: msg.topic, payload: msg.payload, numericValue: msg.numericValue, vin: msg.vin, unit: msg.unit, descriptor: msg.descriptor },
      { topic: SOC, payload: 64, numericValue: 64, vin: SIM_VINS.bev, unit: '%', descriptor: SOC },
    );
    assert.match(msg.timestamp, /^\d{4}-\d\d-\d\dT/);
    assert.deepStrictEqual(
      o2.messages.map((m) => [m.vin, m.topic, m.payload]),
      [
        [SIM_VINS.phev, SOC, 33],
        [SIM_VINS.bev, SOC, 64],
        [SIM_VINS.bev, PORT, 'CONNECTED'],
      ],
    );
    // Every car's messages carry its name: the account's, else the VIN.
    assert.deepStrictEqual(
      o2.messages.map((m) => m.vehicleName),
      [SIM_VINS.phev, 'iX', 'iX'],
    );
    assert.match(lastStatus(s1).text, /^connected · \d\d:\d\d:\d\d$/);
  });

  it('emits one message per BMW message in "message" mode', async () => {
    sim = await startSimulator({ stream: true });
    // The broker comes from the account here: the node leaves its own stream URL empty.
    await load(
      [
        { id: 's1', type: 'bmw-cardata-stream', account: 'acc', descriptors: [SOC, PORT], output: 'message', wires: [['o1']] },
        { id: 'o1', type: 'helper' },
      ],
      { account: { streamUrl: sim.streamUrl } },
    );
    const s1 = helper.getNode('s1');
    const o1 = collector(helper.getNode('o1'));
    await until(() => lastStatus(s1)?.text === 'connected', 5000, 'connected');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 70, [PORT]: 'CONNECTED', 'vehicle.body.trunk.isLocked': true });
    const [msg] = await o1.wait(1);
    assert.deepStrictEqual(Object.keys(msg.payload).sort(), [PORT, SOC].sort());
    assert.strictEqual(msg.payload[SOC].value, 70);
    assert.strictEqual(msg.events.length, 2);
    assert.strictEqual(Object.keys(msg.raw.data).length, 3);
    assert.strictEqual(msg.topic, SIM_VINS.bev);
  });

  it('shows "not configured" with the portal hint, and reconnects after a dropped connection', async () => {
    sim = await startSimulator({ stream: { configured: false } });
    await load([{ id: 's1', type: 'bmw-cardata-stream', account: 'acc', streamUrl: sim.streamUrl, wires: [] }]);
    const s1 = helper.getNode('s1');
    await until(() => lastStatus(s1)?.text === 'stream not configured in the BMW portal', 5000, 'not configured');
    assert.strictEqual(lastStatus(s1).fill, 'red');
    const warned = s1.warn.getCalls().map((c) => String(c.args[0]));
    assert.ok(
      warned.some((w) => /Configure data stream/.test(w)),
      warned.join('\n'),
    );
    await helper.unload();

    sim.setStreamConfigured(true);
    await load([{ id: 's1', type: 'bmw-cardata-stream', account: 'acc', streamUrl: sim.streamUrl, wires: [] }]);
    const again = helper.getNode('s1');
    await until(() => lastStatus(again)?.text === 'connected', 5000, 'connected after configuring');
    sim.stream.kick();
    await until(() => /^reconnecting/.test(lastStatus(again)?.text ?? ''), 3000, 'reconnecting status');
    assert.strictEqual(lastStatus(again).fill, 'yellow');
    await until(() => lastStatus(again)?.text === 'connected', 8000, 'connected after the kick');
  });

  it('says in its status that another client seems to take the stream over when the broker keeps closing it', async () => {
    sim = await startSimulator({ stream: true });
    await load([{ id: 's1', type: 'bmw-cardata-stream', account: 'acc', streamUrl: sim.streamUrl, wires: [] }]);
    const s1 = helper.getNode('s1');
    const texts = [];
    for (let i = 0; i < 3; i++) {
      await until(() => lastStatus(s1)?.text === 'connected', 8000, `connected (${i})`);
      sim.stream.kick();
      await until(() => /^reconnecting/.test(lastStatus(s1)?.text ?? ''), 3000, `reconnecting (${i})`);
      texts.push(lastStatus(s1).text);
    }
    assert.strictEqual(texts[0], 'reconnecting: the connection was closed by the broker');
    assert.strictEqual(texts[2], 'reconnecting: another client of this BMW account (Home Assistant, evcc, a second bridge) seems to take the stream over');
    assert.strictEqual(lastStatus(s1).fill, 'yellow');
  });

  it('shows "not authorized" for an account without a login and opens nothing', async () => {
    sim = await startSimulator({ stream: true });
    await load([{ id: 's1', type: 'bmw-cardata-stream', account: 'acc', streamUrl: sim.streamUrl, wires: [] }], {
      credentials: { clientId: 'nr-test-client' },
    });
    const s1 = helper.getNode('s1');
    assert.deepStrictEqual(lastStatus(s1), { fill: 'red', shape: 'ring', text: 'not authorized' });
    await sleep(200);
    assert.strictEqual(sim.stream.log.length, 0);
  });

  it('renews the stream login through the account and persists the rotated tokens', async function () {
    sim = await startSimulator({ stream: true, accessTokenTtlSec: 2 });
    // The core default renews 5 minutes ahead; here the id_token lasts 2 s, so every renewal is "due now".
    await load([
      { id: 's1', type: 'bmw-cardata-stream', account: 'acc', descriptors: [SOC], streamUrl: sim.streamUrl, wires: [['o1']] },
      { id: 'o1', type: 'helper' },
    ]);
    const s1 = helper.getNode('s1');
    const o1 = collector(helper.getNode('o1'));
    await until(() => lastStatus(s1)?.text === 'connected', 5000, 'connected');
    const before = helper.getNode('acc').credentials.refreshToken;
    sim.expireIdTokens();
    await until(() => sim.stream.log.some((l) => l.event === 'expired'), 3000, 'broker closed the expired connection');
    await until(() => sim.stream.connections() === 1 && lastStatus(s1)?.text === 'connected', 8000, 'connected again');
    assert.notStrictEqual(helper.getNode('acc').credentials.refreshToken, before, 'the rotated refresh token reached the account');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 81 });
    const [msg] = await o1.wait(1);
    assert.strictEqual(msg.payload, 81);
  });

  const statusTexts = (node) => node.status.getCalls().map((c) => c.args[0].text);

  it('BMW refusing a valid login at night while the login service answers 500: keeps trying, never "authorize again"', async function () {
    // Real timing here (Node-RED has no test clock): the reconnect backoff from 2 s and core's refresh retries.
    this.timeout(30000);
    sim = await startSimulator({ stream: true });
    await load([
      { id: 's1', type: 'bmw-cardata-stream', account: 'acc', descriptors: [SOC], streamUrl: sim.streamUrl, wires: [['o1']] },
      { id: 'o1', type: 'helper' },
    ]);
    const s1 = helper.getNode('s1');
    const o1 = collector(helper.getNode('o1'));
    await until(() => lastStatus(s1)?.text === 'connected', 5000, 'connected');
    // The id_token has most of its hour left; the broker refuses it anyway, twice, and the refresh meets 500s
    // (two: core's own retries of the refresh get through).
    sim.stream.refuseNextLogins(2);
    sim.faults.failNextRefresh(2);
    sim.stream.kick();
    await until(() => /^reconnecting: BMW refused the stream login/.test(lastStatus(s1)?.text ?? ''), 5000, 'the refusal shown as the reason');
    await until(() => lastStatus(s1)?.text === 'connected', 15000, 'connected again');
    assert.deepStrictEqual(
      sim.requests.filter((r) => r.refreshToken).map((r) => r.status),
      [500, 500, 200, 200],
      'a renewed login after each refusal',
    );
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 55 });
    const [msg] = await o1.wait(1);
    assert.strictEqual(msg.payload, 55);
    assert.ok(!statusTexts(s1).some((t) => /authorize again|unauthorized/.test(t)), statusTexts(s1).join('\n'));
    assert.deepStrictEqual(
      s1.warn.getCalls().map((c) => String(c.args[0])),
      [],
      'nothing to warn the user about',
    );
  });

  it('a refresh token BMW refuses stops the node with "authorize again" and a warning', async () => {
    sim = await startSimulator({ stream: true });
    const credentials = { ...authorizedCredentials(sim), refreshToken: 'revoked-refresh-token' };
    await load([{ id: 's1', type: 'bmw-cardata-stream', account: 'acc', streamUrl: sim.streamUrl, wires: [] }], { credentials });
    const s1 = helper.getNode('s1');
    await until(() => lastStatus(s1)?.text === 'connected', 5000, 'connected');
    sim.stream.refuseNextLogins(1);
    sim.stream.kick();
    await until(() => lastStatus(s1)?.text === 'authorize again', 5000, 'authorize again');
    assert.strictEqual(lastStatus(s1).fill, 'red');
    const warned = s1.warn.getCalls().map((c) => String(c.args[0]));
    assert.strictEqual(warned.length, 1);
    assert.match(warned[0], /authorize the account again/);
    assert.doesNotMatch(warned[0], /revoked-refresh-token/);
    await sleep(500);
    assert.strictEqual(sim.stream.connections(), 0);
    assert.strictEqual(lastStatus(s1).text, 'authorize again', 'stays stopped');
  });

  it('skips repeated readings by default; the switch turns that off; per-message output passes every message', async () => {
    sim = await startSimulator({ stream: true });
    await load([
      { id: 's1', type: 'bmw-cardata-stream', account: 'acc', descriptors: [SOC], streamUrl: sim.streamUrl, wires: [['o1']] },
      { id: 's2', type: 'bmw-cardata-stream', account: 'acc', descriptors: [SOC], dedupe: false, streamUrl: sim.streamUrl, wires: [['o2']] },
      { id: 's3', type: 'bmw-cardata-stream', account: 'acc', descriptors: [SOC], output: 'message', streamUrl: sim.streamUrl, wires: [['o3']] },
      { id: 'o1', type: 'helper' },
      { id: 'o2', type: 'helper' },
      { id: 'o3', type: 'helper' },
    ]);
    const s1 = helper.getNode('s1');
    const [o1, o2, o3] = ['o1', 'o2', 'o3'].map((id) => collector(helper.getNode(id)));
    await until(() => lastStatus(s1)?.text === 'connected', 5000, 'connected');
    const at = '2026-11-26T14:03:12.000Z';
    for (const [value, timestamp] of [
      [64, at],
      [64, at],
      [64, at],
      [65, at],
    ])
      await sim.stream.publish(SIM_VINS.bev, { [SOC]: { value, timestamp } });
    await o2.wait(4);
    await o3.wait(4);
    await sleep(100);
    assert.deepStrictEqual(
      o1.messages.map((m) => m.payload),
      [64, 65],
    );
    assert.deepStrictEqual(
      o2.messages.map((m) => m.payload),
      [64, 64, 64, 65],
    );
    assert.strictEqual(o3.messages.length, 4);
  });

  it('runs the example flow "Live state of charge stream" against the simulator', async () => {
    sim = await startSimulator({ stream: true });
    const example = JSON.parse(fs.readFileSync(path.join(__dirname, '../../examples/Live state of charge stream.json'), 'utf8'));
    assert.strictEqual(example[0].type, 'comment');
    assert.ok(!/credentials|clientId|refreshToken|accessToken|idToken/.test(JSON.stringify(example)));
    const flow = [{ id: 'tab', type: 'tab' }];
    for (const n of example) {
      const node = { ...n };
      if (node.type === 'bmw-cardata-account') {
        assert.strictEqual(node.streamUrl, 'mqtt://127.0.0.1:4011');
        Object.assign(node, { apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, streamUrl: sim.streamUrl });
      } else node.z = 'tab';
      if (node.type === 'debug') node.type = 'helper';
      flow.push(node);
    }
    const accId = example.find((n) => n.type === 'bmw-cardata-account').id;
    const modules = ['function/10-switch.js', 'function/15-change.js', 'common/90-comment.js'].map(coreNode);
    await helper.load([accountNode, streamNode, ...modules], flow, { [accId]: authorizedCredentials(sim) });
    const stream = helper.getNode(example.find((n) => n.type === 'bmw-cardata-stream').id);
    const socOut = collector(helper.getNode('dbs1'));
    const notify = collector(helper.getNode('dbs2'));
    await until(() => lastStatus(stream)?.text === 'connected', 5000, 'connected');
    await sim.stream.startScenario('charging', { intervalMs: 10 }).done;
    await socOut.wait(5);
    assert.ok(socOut.messages.every((m) => m.topic === SOC && typeof m.payload === 'number'));
    assert.strictEqual(notify.messages.length, 0);
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: '15' });
    const [note] = await notify.wait(1);
    assert.strictEqual(note.topic, 'BMW: battery low');
    assert.strictEqual(note.payload, 'State of charge 15 %');
  });

  it('charging events: an AC session gives plugged in, started, finished with its figures, unplugged, in order', async () => {
    sim = await startSimulator({ stream: true });
    await load([
      { id: 's1', type: 'bmw-cardata-stream', account: 'acc', output: 'charging', streamUrl: sim.streamUrl, wires: [['o1']] },
      { id: 'o1', type: 'helper' },
    ]);
    const out = collector(helper.getNode('o1'));
    await until(() => lastStatus(helper.getNode('s1'))?.text === 'connected', 5000, 'connected');
    await playChargingScript(sim.stream, 'ac-session', { vin: SIM_VINS.bev, intervalMs: 5 });
    await until(() => out.messages.some((m) => m.topic === 'unplugged'), 5000, 'unplugged');
    const kinds = out.messages.map((m) => m.topic);
    assert.deepStrictEqual(
      kinds,
      ['plugged-in', 'charging-started', 'target-reached', 'charging-finished', 'unplugged'].filter((k) => kinds.includes(k)),
    );
    assert.ok(
      ['plugged-in', 'charging-started', 'charging-finished', 'unplugged'].every((k) => kinds.filter((x) => x === k).length === 1),
      kinds.join(),
    );
    const finished = out.messages.find((m) => m.topic === 'charging-finished').payload;
    assert.strictEqual(finished.vin, SIM_VINS.bev);
    assert.ok(finished.socAdded > 0 && finished.endSoc > finished.startSoc, JSON.stringify(finished));
    assert.ok(finished.energyAdded && typeof finished.energyAdded.kwh === 'number');
    assert.strictEqual(sim.restCalls().length, 0, 'no quota spent');
  });

  it("with the account's tariff: charging-finished carries its cost, the summary output <VIN>/summary its month and <VIN>/month-closed once", async () => {
    sim = await startSimulator({ stream: true });
    const tariff = '{"currency":"EUR","pricePerKwh":0.3,"perSession":1,"timeZone":"Europe/Berlin"}';
    await load(
      [
        { id: 's1', type: 'bmw-cardata-stream', account: 'acc', output: 'charging', kinds: 'charging-finished', streamUrl: sim.streamUrl, wires: [['o1']] },
        { id: 's2', type: 'bmw-cardata-stream', account: 'acc', output: 'summary', streamUrl: sim.streamUrl, wires: [['o2']] },
        { id: 'o1', type: 'helper' },
        { id: 'o2', type: 'helper' },
      ],
      { account: { tariff } },
    );
    const charges = collector(helper.getNode('o1'));
    const summaries = collector(helper.getNode('o2'));
    await until(() => lastStatus(helper.getNode('s2'))?.text === 'connected', 5000, 'connected');
    // In November: the summary for November, then (this machine's clock being later) November closes.
    await playChargingScript(sim.stream, 'ac-session', { vin: SIM_VINS.bev, intervalMs: 5 });
    await until(() => charges.messages.length === 1 && summaries.messages.some((m) => m.payload.kind === 'month-closed'), 5000, 'the finish and the month');
    const finished = charges.messages[0].payload;
    // 25.82 kWh estimated × 0.30 + 1 per session (test/core/live/ledger.test.ts).
    assert.deepStrictEqual(finished.cost, { currency: 'EUR', kwh: 25.82, energy: 'estimate', perSession: 1, amount: 8.75, method: 'flat' });
    assert.deepStrictEqual(
      summaries.messages.map((m) => [
        m.topic,
        m.payload.month,
        m.payload.sessions,
        m.payload.kwh,
        m.payload.cost,
        m.payload.currency,
        m.vehicleName !== undefined,
      ]),
      [
        [`${SIM_VINS.bev}/summary`, '2026-11', 1, 25.82, 8.75, 'EUR', true],
        [`${SIM_VINS.bev}/month-closed`, '2026-11', 1, 25.82, 8.75, 'EUR', true],
      ],
    );
    assert.strictEqual(sim.restCalls().length, 0, 'no quota spent');
  });

  it('charging events survive a restart of Node-RED mid-charge: exactly one finished event', async () => {
    sim = await startSimulator({ stream: true });
    const nodes = [
      {
        id: 's1',
        type: 'bmw-cardata-stream',
        account: 'acc',
        output: 'charging',
        kinds: 'charging-started, charging-finished',
        streamUrl: sim.streamUrl,
        wires: [['o1']],
      },
      { id: 'o1', type: 'helper' },
    ];
    await load(nodes);
    let out = collector(helper.getNode('o1'));
    const seen = [];
    await until(() => lastStatus(helper.getNode('s1'))?.text === 'connected', 5000, 'connected');
    await playChargingScript(sim.stream, 'restart', {
      vin: SIM_VINS.bev,
      intervalMs: 5,
      onMarker: async (marker) => {
        if (marker !== 'host-restart') return;
        // The charge began before the restart: its start has gone out by now (a loaded machine may take a while).
        await until(() => out.messages.some((m) => m.topic === 'charging-started'), 5000, 'started before the restart');
        await sleep(100);
        seen.push(...out.messages.map((m) => m.topic));
        // A restart: the runtime stops (not a removal, so the saved state stays) and loads the flow again.
        await helper.unload();
        await load(nodes);
        out = collector(helper.getNode('o1'));
        await until(() => lastStatus(helper.getNode('s1'))?.text === 'connected', 5000, 'connected again');
      },
    });
    await until(() => out.messages.some((m) => m.topic === 'charging-finished'), 5000, 'finished');
    await sleep(100);
    seen.push(...out.messages.map((m) => m.topic));
    assert.deepStrictEqual(seen, ['charging-started', 'charging-finished']);
  });

  it('trip events: a drive gives trip-started, then trip-finished on the timer once the pause and the wait are over, topics <VIN>/<kind>, figures as core works them out', async () => {
    sim = await startSimulator({ stream: true });
    await load([
      { id: 's1', type: 'bmw-cardata-stream', account: 'acc', output: 'trips', streamUrl: sim.streamUrl, wires: [['o1']] },
      { id: 's2', type: 'bmw-cardata-stream', account: 'acc', output: 'trips', tripKinds: 'trip-finished', streamUrl: sim.streamUrl, wires: [['o2']] },
      { id: 'o1', type: 'helper' },
      { id: 'o2', type: 'helper' },
    ]);
    const out = collector(helper.getNode('o1'));
    const finishes = collector(helper.getNode('o2'));
    await until(() => lastStatus(helper.getNode('s1'))?.text?.startsWith('connected'), 5000, 'connected');
    // The drive happened just now: its finish is due 3 s from here, after the script was played.
    const due = Date.now() + 3000;
    const start = tripStart('commute', 3000);
    await playTripScript(sim.stream, 'commute', { start, intervalMs: 5 });
    await until(() => out.messages.length >= 1, 5000, 'trip-started');
    if (Date.now() < due - 500) assert.ok(!out.messages.some((m) => m.topic.endsWith('/trip-finished')), 'the finish waits for the pause and late readings');
    await until(() => out.messages.length >= 2, 8000, 'trip-finished');
    assert.ok(Date.now() >= due, 'not before it is due');
    const vin = SIM_VINS.bev;
    assert.deepStrictEqual(
      out.messages.map((m) => m.topic),
      [`${vin}/trip-started`, `${vin}/trip-finished`],
    );
    const [expectedStart, expectedFinish] = directTrips('commute', start);
    const [started, finished] = out.messages;
    assert.deepStrictEqual(started.payload, expectedStart);
    assert.deepStrictEqual(finished.payload, expectedFinish);
    assert.strictEqual(finished.payload.tripId, started.payload.tripId);
    assert.ok(finished.payload.distanceKm > 0 && finished.payload.endPosition, JSON.stringify(finished.payload));
    assert.deepStrictEqual([finished.vin, finished.timestamp, typeof finished.vehicleName], [vin, finished.payload.endedAt, 'string']);
    await until(() => finishes.messages.length >= 1, 5000, 'the finish on the node that wants only finishes');
    assert.deepStrictEqual(
      finishes.messages.map((m) => m.topic),
      [`${vin}/trip-finished`],
    );
    assert.strictEqual(sim.restCalls().length, 0, 'no quota spent');
  });

  it('trip events survive a restart of Node-RED mid-drive: one trip-started, one trip-finished', async () => {
    sim = await startSimulator({ stream: true });
    const nodes = [
      { id: 's1', type: 'bmw-cardata-stream', account: 'acc', output: 'trips', settle: 0, streamUrl: sim.streamUrl, wires: [['o1']] },
      { id: 'o1', type: 'helper' },
    ];
    await load(nodes);
    let out = collector(helper.getNode('o1'));
    const seen = [];
    await until(() => lastStatus(helper.getNode('s1'))?.text?.startsWith('connected'), 5000, 'connected');
    // The ignition went off 20 minutes ago and late readings wait 0 s: the finish is due with the last message.
    const start = tripStart('restart', -5 * 60_000);
    await playTripScript(sim.stream, 'restart', {
      start,
      intervalMs: 5,
      onMarker: async (marker) => {
        if (marker !== 'host-restart') return;
        // The drive began before the restart: its start has gone out by now (a loaded machine may take a while).
        await until(() => out.messages.some((m) => m.topic.endsWith('/trip-started')), 5000, 'started before the restart');
        await sleep(100);
        seen.push(...out.messages.map((m) => m.topic));
        await helper.unload();
        await load(nodes);
        out = collector(helper.getNode('o1'));
        await until(() => lastStatus(helper.getNode('s1'))?.text?.startsWith('connected'), 5000, 'connected again');
      },
    });
    await until(() => out.messages.some((m) => m.topic.endsWith('/trip-finished')), 5000, 'finished');
    await sleep(100);
    seen.push(...out.messages.map((m) => m.topic));
    assert.deepStrictEqual(seen, [`${SIM_VINS.bev}/trip-started`, `${SIM_VINS.bev}/trip-finished`]);
    assert.strictEqual(out.messages.at(-1).payload.distanceKm, 30, 'the whole trip, across the restart');
  });

  it("the car's state: the whole typed state on every change, repeats ignored", async () => {
    sim = await startSimulator({ stream: true });
    await load([
      { id: 's1', type: 'bmw-cardata-stream', account: 'acc', output: 'state', descriptors: [SOC, PORT], streamUrl: sim.streamUrl, wires: [['o1']] },
      { id: 'o1', type: 'helper' },
    ]);
    const out = collector(helper.getNode('o1'));
    await until(() => lastStatus(helper.getNode('s1'))?.text === 'connected', 5000, 'connected');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: '64', [PORT]: 'CONNECTED', 'vehicle.body.trunk.isLocked': true });
    const [first] = await out.wait(1);
    assert.strictEqual(first.topic, SIM_VINS.bev);
    assert.strictEqual(first.payload.values[SOC].value, 64, 'typed with the catalogue: a number');
    assert.deepStrictEqual(Object.keys(first.payload.values).sort(), [PORT, SOC].sort(), 'only the values picked');
    // The account's calls left today go with the state, read from the local count: no call.
    assert.strictEqual(first.quota.limit, 50);
    assert.strictEqual(first.quota.remaining, first.quota.limit - first.quota.used);
    assert.strictEqual(sim.restCalls().length, 0);
    await sim.stream.publish(SIM_VINS.bev, { 'vehicle.body.trunk.isLocked': false });
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 65 });
    const [, second] = await out.wait(2);
    assert.strictEqual(second.payload.values[SOC].value, 65);
    assert.deepStrictEqual(second.changes, [SOC]);
    await sleep(100);
    assert.strictEqual(out.messages.length, 2, 'a change of a value not picked sends nothing');
  });

  it("the car's state is written in batches, not per message, and what waits is written when the node stops", async () => {
    sim = await startSimulator({ stream: true });
    const dir = freshUserDir();
    await load([
      { id: 's1', type: 'bmw-cardata-stream', account: 'acc', output: 'state', streamUrl: sim.streamUrl, wires: [['o1']] },
      { id: 'o1', type: 'helper' },
    ]);
    const out = collector(helper.getNode('o1'));
    await until(() => lastStatus(helper.getNode('s1'))?.text === 'connected', 5000, 'connected');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: '64' });
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: '65' });
    await out.wait(2);
    const file = path.join(dir, 'bmw-cardata-live', 's1', `${SIM_VINS.bev}.json`);
    await sleep(200);
    assert.strictEqual(fs.existsSync(file), false, 'no write per reading: the batch waits 30 s');
    await helper.unload();
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.strictEqual(saved.values[SOC].value, 65);
  });

  it('one file per car: a state kept whole by an earlier version is moved to them, a broken car file costs only that car', async () => {
    sim = await startSimulator({ stream: true });
    const dir = freshUserDir();
    const live = path.join(dir, 'bmw-cardata-live');
    fs.mkdirSync(live, { recursive: true });
    const old = new LiveData();
    old.ingest({ vin: SIM_VINS.phev, data: { [SOC]: { value: 30, timestamp: '2026-11-01T10:00:00Z' } } });
    fs.writeFileSync(path.join(live, 's1.json'), JSON.stringify(old.serialize()));
    const flow = [
      { id: 's1', type: 'bmw-cardata-stream', account: 'acc', output: 'state', streamUrl: sim.streamUrl, wires: [['o1']] },
      { id: 'o1', type: 'helper' },
    ];
    await load(flow);
    await until(() => fs.existsSync(path.join(live, 's1', `${SIM_VINS.phev}.json`)), 5000, 'the car moved to its own file');
    // The whole-state file goes once the car files are written.
    await until(() => !fs.existsSync(path.join(live, 's1.json')), 5000, 'the whole-state file gone');
    await helper.unload();
    // A truncated car file: that car starts afresh, with a warning; the other keeps its state.
    fs.writeFileSync(path.join(live, 's1', `${SIM_VINS.bev}.json`), '{"vin":"WBY');
    await load(flow);
    const node = helper.getNode('s1');
    await until(() => lastStatus(node)?.text === 'connected', 5000, 'connected');
    await sim.stream.publish(SIM_VINS.phev, { 'vehicle.body.trunk.isLocked': true });
    const out = collector(helper.getNode('o1'));
    const [msg] = await out.wait(1);
    assert.strictEqual(msg.payload.values[SOC].value, 30, 'the saved state of the other car came back');
  });

  it("the car's state seeded at deploy by one REST read (off by default), then kept current by the stream", async () => {
    sim = await startSimulator({ stream: true });
    await load([
      {
        id: 's1',
        type: 'bmw-cardata-stream',
        account: 'acc',
        vin: SIM_VINS.bev,
        output: 'state',
        seed: true,
        descriptors: [SOC, PORT],
        streamUrl: sim.streamUrl,
        wires: [['o1']],
      },
      { id: 'o1', type: 'helper' },
    ]);
    const out = collector(helper.getNode('o1'));
    const [seeded] = await out.wait(1);
    assert.strictEqual(seeded.vin, SIM_VINS.bev);
    assert.strictEqual(typeof seeded.payload.values[SOC].value, 'number', 'typed like a streamed value');
    const telematics = sim.restCalls().filter((r) => r.path.endsWith('/telematicData'));
    assert.strictEqual(telematics.length, 1, 'one read of the values');
    await until(() => lastStatus(helper.getNode('s1'))?.text === 'connected', 5000, 'connected');
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: { value: 12, unit: '%', timestamp: new Date(Date.now() + 60_000).toISOString() } });
    const [, streamed] = await out.wait(2);
    assert.strictEqual(streamed.payload.values[SOC].value, 12);
    assert.strictEqual(streamed.payload.values[PORT].value, seeded.payload.values[PORT].value, 'the seeded value stays');
  });

  it("the car's state is not seeded unless asked: no REST call", async () => {
    sim = await startSimulator({ stream: true });
    await load([
      { id: 's1', type: 'bmw-cardata-stream', account: 'acc', vin: SIM_VINS.bev, output: 'state', descriptors: [SOC], streamUrl: sim.streamUrl, wires: [] },
    ]);
    await until(() => lastStatus(helper.getNode('s1'))?.text === 'connected', 5000, 'connected');
    await sleep(200);
    assert.strictEqual(sim.restCalls().length, 0);
  });

  /** Loads an example flow against the simulator: debug nodes become helpers; `adapt` changes nodes for the test. */
  async function loadExample(name, adapt = (n) => n) {
    const example = JSON.parse(fs.readFileSync(path.join(__dirname, `../../examples/${name}.json`), 'utf8'));
    const flow = [{ id: 'tab', type: 'tab' }];
    for (const n of example) {
      const node = { ...n };
      if (node.type === 'bmw-cardata-account') Object.assign(node, { apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, streamUrl: sim.streamUrl });
      else node.z = 'tab';
      if (node.type === 'debug') node.type = 'helper';
      flow.push(adapt(node));
    }
    const modules = ['function/10-switch.js', 'function/15-change.js', 'function/89-trigger.js', 'common/90-comment.js'].map(coreNode);
    await helper.load([accountNode, streamNode, ...modules], flow, { 'bmw-cardata-example-account': authorizedCredentials(sim) });
    const stream = helper.getNode(example.find((n) => n.type === 'bmw-cardata-stream').id);
    await until(() => lastStatus(stream)?.text === 'connected', 5000, 'connected');
  }

  it('example "Charging finished message": one chat message with kWh and state of charge at the end of a charge', async () => {
    sim = await startSimulator({ stream: true });
    await loadExample('Charging finished message');
    const chat = collector(helper.getNode('cf3'));
    await playChargingScript(sim.stream, 'ac-session', { vin: SIM_VINS.bev, intervalMs: 5 });
    const [msg] = await chat.wait(1);
    assert.strictEqual(msg.topic, 'BMW: charging finished');
    assert.match(msg.payload, /^Charging finished: \d+ % to \d+ %, \d+\.\d kWh( \(estimate\))? in \d+ min(, up to [\d.]+ kW)?$/);
    await sleep(100);
    assert.strictEqual(chat.messages.length, 1);
  });

  it('example "Charging finished message" says what a PHEV without state of charge did not report', async () => {
    sim = await startSimulator({ stream: true });
    await loadExample('Charging finished message');
    const chat = collector(helper.getNode('cf3'));
    await playChargingScript(sim.stream, 'phev-no-soc', { intervalMs: 5 });
    const [msg] = await chat.wait(1);
    assert.match(msg.payload, /^Charging finished: state of charge not reported, /);
  });

  /**
   * Loads the example "Car dashboard" against the simulator, `account` changed for the test. Dashboard 2 is not loaded
   * here: its configuration nodes go, its widgets become helper nodes that record what the flow sends them. A finished
   * charge goes out at once (the simulator sends no late readings).
   */
  async function loadDashboard(account = (a) => a) {
    const example = JSON.parse(fs.readFileSync(path.join(__dirname, '../../examples/Car dashboard.json'), 'utf8'));
    const flow = [{ id: 'tab', type: 'tab' }];
    for (const n of example) {
      if (['ui-base', 'ui-page', 'ui-theme', 'ui-group'].includes(n.type)) continue;
      let node = { ...n };
      if (node.type === 'bmw-cardata-account') node = account({ ...node, apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, streamUrl: sim.streamUrl });
      else node.z = 'tab';
      if (node.type.startsWith('ui-')) Object.assign(node, { type: 'helper', wires: [] });
      if (node.type === 'bmw-cardata-stream' && node.output !== 'state') node.settle = 0;
      flow.push(node);
    }
    const modules = ['function/10-function.js', 'common/90-comment.js'].map(coreNode);
    await helper.load([accountNode, streamNode, ...modules], flow, { 'bmw-cardata-example-account': authorizedCredentials(sim) });
    for (const s of example.filter((n) => n.type === 'bmw-cardata-stream'))
      await until(() => lastStatus(helper.getNode(s.id))?.text === 'connected', 5000, 'connected');
    return example;
  }

  /** The month (YYYY-MM) of an instant in a time zone. */
  const monthIn = (ms, timeZone) => new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit' }).format(ms);

  /** The DC script's charge, played so that it ends `agoMs` before now: 54.6 kWh measured (12 % to 79 %); its end. */
  async function dcChargeEnding(agoMs) {
    const start = Date.now() - agoMs - 29 * 60_000;
    await playChargingScript(sim.stream, 'dc-session', { vin: SIM_VINS.bev, start, intervalMs: 5 });
    return start + 29 * 60_000;
  }

  it('example "Car dashboard": each car live from the stream at no call, a picker for several cars, the month\'s sessions and kWh per day, this month\'s cost', async () => {
    sim = await startSimulator({ stream: true });
    const example = await loadDashboard();
    const [picker, gauge, range, quota, table, chart] = ['dash-picker', 'dash-soc', 'dash-range', 'dash-quota', 'dash-sessions', 'dash-kwh'].map((id) =>
      collector(helper.getNode(id)),
    );
    const [cost, kwh, km] = ['dash-month-cost', 'dash-month-kwh', 'dash-month-km'].map((id) => collector(helper.getNode(id)));
    const shown = () => [cost, kwh, km].map((w) => w.messages.at(-1)?.payload);
    /** Waits until this month's widgets show `expected` (cost, kWh, km), else fails with what they show. */
    const showsMonth = async (expected, what) => {
      await until(() => JSON.stringify(shown()) === JSON.stringify(expected), 5000, what).catch(() => {});
      assert.deepStrictEqual(shown(), expected, what);
    };
    // The example's account has the tariff of "Monthly charging cost report": months in Berlin's time.
    const tariff = JSON.parse(example.find((n) => n.type === 'bmw-cardata-account').tariff);
    assert.deepStrictEqual(tariff, { currency: 'EUR', pricePerKwh: 0.32, timeZone: 'Europe/Berlin' });
    const third = 'WBA00000000000003';

    // One car, and a charge: the picker lists the car, selected; its session is in the table, its kWh in the chart.
    await playChargingScript(sim.stream, 'ac-session', { vin: SIM_VINS.bev, intervalMs: 5 });
    await until(() => table.messages.at(-1)?.payload.length === 1, 5000, 'the session in the table');
    // (Through JSON: what a function node builds has the prototypes of its sandbox.)
    assert.deepStrictEqual(JSON.parse(JSON.stringify(picker.messages.map((m) => m.ui_update?.options.map((o) => o.value) ?? m.payload))), [
      [SIM_VINS.bev],
      SIM_VINS.bev,
    ]);
    const [row] = table.messages.at(-1).payload;
    assert.match(row.kwh, /^\d+(\.\d+)? \(est\.\)$/);
    assert.deepStrictEqual([row.soc, row.power], ['48 → 80 %', '11.04 kW']);
    const [day] = chart.messages.at(-1).payload;
    assert.strictEqual(day.kwh, Math.round(Number(row.kwh.split(' ')[0]) * 10) / 10);
    // That charge ended in November 2026, a month that has ended: nothing charged or driven this month, and no cost.
    await showsMonth(['0.00 EUR', '0 kWh', '0 km'], 'nothing this month');
    // A DC charge that ended 46 minutes ago (before the readings below, which carry the time of now): 54.6 kWh at
    // 0.32 EUR is 17.47 EUR (in the first hour of a month the charge may be last month's).
    const chargeEnded = await dcChargeEnding(46 * 60_000);
    const charged = monthIn(chargeEnded, tariff.timeZone) === monthIn(Date.now(), tariff.timeZone);
    await until(() => table.messages.at(-1)?.payload.some((r) => r.soc === '12 → 79 %'), 5000, 'the DC session in the table');
    await showsMonth(charged ? ['17.47 EUR', '54.6 kWh, 1 charge', '0 km'] : ['0.00 EUR', '0 kWh', '0 km'], 'the DC charge in the month');

    // The car's state as it comes, with the calls left today.
    await sim.stream.publish(SIM_VINS.bev, { [SOC]: 64, 'vehicle.drivetrain.electricEngine.remainingElectricRange': 280 });
    await until(() => gauge.messages.at(-1)?.payload === 64, 5000, 'the state of charge');
    assert.deepStrictEqual([range.messages.at(-1).payload, quota.messages.at(-1).payload], ['280 km', '50 of 50 calls']);
    // Three cars: the picker lists all three; the widgets stay with the car shown until another is picked.
    await sim.stream.publish(SIM_VINS.phev, { [SOC]: 33 });
    await sim.stream.publish(third, { [SOC]: 90 });
    await until(() => picker.messages.some((m) => m.ui_update?.options.length === 3), 5000, 'three cars in the picker');
    await sleep(100);
    assert.strictEqual(gauge.messages.at(-1).payload, 64);
    helper.getNode('dash-show').receive({ topic: 'car', payload: SIM_VINS.phev });
    await until(() => gauge.messages.at(-1).payload === 33, 5000, "the PHEV's state of charge");
    assert.deepStrictEqual(
      [range.messages.at(-1).payload, table.messages.at(-1).payload.length],
      ['–', 0],
      'what the PHEV did not send, and no session of its own',
    );
    assert.deepStrictEqual(shown(), ['–', '–', '–'], 'no month of the PHEV yet');

    // A drive of the BEV that ended 20 minutes ago: its trip, and the km in this month's figures, once the BEV is
    // picked again.
    const trip = collector(helper.getNode('dash-trip'));
    const tripStarted = tripStart('commute', -5 * 60_000);
    await playTripScript(sim.stream, 'commute', { start: tripStarted, intervalMs: 5 });
    const drive = directTrips('commute', tripStarted)[1];
    const drove = monthIn(Date.parse(drive.endedAt), tariff.timeZone) === monthIn(Date.now(), tariff.timeZone);
    helper.getNode('dash-show').receive({ topic: 'car', payload: SIM_VINS.bev });
    await until(() => /^[\d.]+ km in \d+ min, .*ended /.test(trip.messages.at(-1)?.payload ?? ''), 8000, "the BEV's last trip");
    assert.match(trip.messages.at(-1).payload, new RegExp(`^${directTrips('commute', 0)[1].distanceKm} km in`));
    await showsMonth(
      [charged ? '17.47 EUR' : '0.00 EUR', charged ? '54.6 kWh, 1 charge' : '0 kWh', drove ? `${Math.round(drive.distanceKm * 10) / 10} km, 1 trip` : '0 km'],
      'the trip in the month',
    );
    assert.strictEqual(sim.restCalls().length, 0, 'no call');
  });

  it('example "Car dashboard" without a tariff on the account: this month\'s kWh and km, "no tariff set" for the cost', async () => {
    sim = await startSimulator({ stream: true });
    await loadDashboard((account) => {
      delete account.tariff;
      return account;
    });
    const [cost, kwh, km] = ['dash-month-cost', 'dash-month-kwh', 'dash-month-km'].map((id) => collector(helper.getNode(id)));
    const ended = await dcChargeEnding(60_000);
    await until(() => kwh.messages.some((m) => m.payload !== '–'), 5000, 'the month on the dashboard');
    // Months in UTC without a tariff (in the first minute of a month the charge may be last month's).
    const charged = monthIn(ended, 'UTC') === monthIn(Date.now(), 'UTC');
    assert.deepStrictEqual(
      [cost, kwh, km].map((w) => w.messages.at(-1).payload),
      ['no tariff set', charged ? '54.6 kWh, 1 charge' : '0 kWh', '0 km'],
    );
  });

  it('example "Monthly charging cost report": one report when the month of a charge has ended, with the cost under the account\'s tariff', async () => {
    sim = await startSimulator({ stream: true });
    await loadExample('Monthly charging cost report');
    const report = collector(helper.getNode('mc4'));
    // A charge in November; this machine's clock is later, so November closes after it.
    await playChargingScript(sim.stream, 'ac-session', { vin: SIM_VINS.bev, intervalMs: 5 });
    const [msg] = await report.wait(1);
    assert.match(msg.topic, /^BMW .+: charging in 2026-11$/);
    // 25.82 kWh estimated at 0.32 EUR (the example's tariff) is 8.26 EUR; no km driven.
    assert.strictEqual(msg.payload, '1 charge, 25.8 kWh (25.8 kWh estimated), 8.26 EUR, 0 km driven');
    await sleep(200);
    assert.strictEqual(report.messages.length, 1, 'the summaries themselves are not reported');
  });

  it('example "Plugged in but not charging": a notification after the wait, none when charging starts in time', async () => {
    sim = await startSimulator({ stream: true });
    await loadExample('Plugged in but not charging', (n) => (n.type === 'trigger' ? { ...n, duration: '300', units: 'ms' } : n));
    const note = collector(helper.getNode('pn6'));
    // Charging starts within the wait: no notification.
    await playChargingScript(sim.stream, 'ac-session', { vin: SIM_VINS.bev, intervalMs: 5 });
    await sleep(500);
    assert.strictEqual(note.messages.length, 0);
    // Plugged in, then nothing: the notification comes after the wait.
    await sim.stream.publish(SIM_VINS.bev, { [PORT]: 'CONNECTED', 'vehicle.drivetrain.electricEngine.charging.status': 'NOCHARGING' });
    const [msg] = await note.wait(1, 3000);
    assert.strictEqual(msg.topic, 'BMW: plugged in, not charging');
    assert.match(msg.payload, /^Plugged in since \d\d:\d\d but not charging\.$/);
  });
});
