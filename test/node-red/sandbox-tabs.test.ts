// The sandbox's tabs, as npm start deploys them, against a simulator started with the sandbox's options: every
// button of every tab the user clicks shows a result in the debug sidebar, including the two that need the
// simulator's story (an old container to delete, a battery below 20 %), and the stream tabs that need the sandbox's
// own setting (a local MQTT broker for the bridge).
import assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as mqtt from 'mqtt';
import { startSimulator, startPlainBroker, SIM_VINS, SCENARIO_NAMES, PLUGGED_WAITING_INTERVALS } from '../../src/simulator';
import { demoSoc } from '../../src/simulator/demo';
import { exampleFlows, syncDashboardTab, nodeRedSettings, SIMULATOR_OPTIONS, SANDBOX_WAIT_MIN, ACCOUNT_ID, DASHBOARD } from '../../scripts/sandbox';
import { STREAM_INTERVAL_MS } from '../../scripts/sandbox-support';
import {
  helper,
  freshUserDir,
  allNodes,
  streamNode,
  authorizedCredentials,
  collector,
  coreNode,
  sleep,
  lastStatus,
  EXAMPLE_CORE_NODES,
} from '../support/nodered';
import { until } from '../support/wait';

const CORE = [...EXAMPLE_CORE_NODES, 'network/10-mqtt.js', 'function/89-trigger.js'];
const SOC = 'vehicle.drivetrain.batteryManagement.header';

describe('sandbox tabs show a result', function () {
  let sim;
  let broker;
  let flows;
  let tmp;
  let coreModules;
  before(() => {
    coreModules = CORE.map(coreNode);
  });
  // A fresh simulator for each test, as npm start starts one.
  beforeEach(async () => {
    sim = await startSimulator({ ...SIMULATOR_OPTIONS, stream: true });
    broker = await startPlainBroker();
    ({ flows } = exampleFlows(sim.url, sim.streamUrl, SIM_VINS.bev, broker));
    // The sandbox's own Node-RED settings, in a fresh user directory.
    helper.settings({ ...nodeRedSettings(1880), userDir: freshUserDir() });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-sandbox-tabs-'));
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    await broker.close();
    await sim.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the first tab, which Node-RED opens, is the one the printout starts with: one button, the charging history to CSV', () => {
    const { tabs } = exampleFlows(sim.url, sim.streamUrl, SIM_VINS.bev, broker);
    const [first] = flows.filter((n) => n.type === 'tab');
    assert.strictEqual(first.label, tabs[0]);
    assert.match(first.label, /^Charging history of last month to CSV$/);
    assert.strictEqual(flows.filter((n) => n.z === first.id && n.type === 'inject').length, 1);
    const printout = fs.readFileSync(path.join(__dirname, '../../scripts/sandbox.js'), 'utf8');
    assert.match(printout, /1\. Open \$\{editor\}: it shows the tab "\$\{tabs\[0\]\}"/);
  });

  it("the simulator's story: below 20 % for the first 20 minutes of each hour, then charged", () => {
    assert.deepStrictEqual(
      [0, 10, 19.9, 35, 55, 60, 79].map((m) => demoSoc(m * 60_000)),
      [17, 16, 15, 48, 80, 17, 15],
    );
  });

  it("every reference to another node of an example names that node's copy on its tab (or the sandbox account)", () => {
    const deployed = new Map<string, any>(flows.map((n) => [n.id, n]));
    const dir = path.join(__dirname, '../../examples');
    for (const tab of flows.filter((n) => n.type === 'tab')) {
      const example = JSON.parse(fs.readFileSync(path.join(dir, `${tab.label}.json`), 'utf8'));
      const ids = new Set(example.map((n) => n.id));
      const strings = (value) => (Array.isArray(value) ? value.flatMap(strings) : typeof value === 'string' ? [value] : []);
      for (const node of flows.filter((n) => n.z === tab.id)) {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'id' || key === 'z') continue;
          for (const s of strings(value)) {
            assert.ok(!ids.has(s), `${tab.label}: ${node.type} "${node.name ?? node.id}" ${key} names "${s}", which the sandbox deployed under another id`);
            if (s.startsWith(`${tab.id}-`) || s === ACCOUNT_ID) {
              const target = deployed.get(s);
              assert.ok(target && (target.z === tab.id || target.id === ACCOUNT_ID), `${tab.label}: ${key} -> ${s}`);
            }
          }
        }
      }
    }
  });

  it('with Dashboard 2 installed, "Car dashboard" is the last tab, its configuration nodes copied with it, the other tabs as they were', () => {
    const withDashboard = exampleFlows(sim.url, sim.streamUrl, SIM_VINS.bev, broker, { dashboard: true });
    assert.ok(!flows.some((n) => n.type === 'ui-base'), 'without Dashboard 2, no node of it');
    assert.deepStrictEqual(withDashboard.tabs, [...exampleFlows(sim.url, sim.streamUrl, SIM_VINS.bev, broker).tabs, DASHBOARD.example]);
    const tab = withDashboard.flows.find((n) => n.type === 'tab' && n.label === DASHBOARD.example);
    const others = withDashboard.flows.filter((n) => !n.id.startsWith(`${tab.id}-`) && n.id !== tab.id);
    assert.deepStrictEqual(others, flows, 'the other tabs keep their ids');
    // Dashboard 2's configuration nodes (no tab of their own) are copies, named after the tab, as the widgets' groups.
    const base = withDashboard.flows.find((n) => n.type === 'ui-base');
    assert.ok(base.id.startsWith(`${tab.id}-`) && base.path === '/dashboard');
    const page = withDashboard.flows.find((n) => n.type === 'ui-page');
    assert.strictEqual(page.ui, base.id);
    for (const g of withDashboard.flows.filter((n) => n.type === 'ui-group')) assert.strictEqual(g.page, page.id);
    // A finished charge goes into the table at once, and the tab's info says so.
    const charging = withDashboard.flows.find((n) => n.z === tab.id && n.type === 'bmw-cardata-stream' && n.output === 'charging');
    assert.strictEqual(charging.settle, 0);
    assert.match(tab.info, /finished charge at once here/);
    // So do this month's figures, at the examples' tariff.
    const summary = withDashboard.flows.find((n) => n.z === tab.id && n.type === 'bmw-cardata-stream' && n.output === 'summary');
    assert.strictEqual(summary.settle, 0);
    assert.match(tab.info, /month's figures at once/);
    assert.deepStrictEqual(JSON.parse(withDashboard.flows.find((n) => n.type === 'bmw-cardata-account').tariff), {
      currency: 'EUR',
      pricePerKwh: 0.32,
      timeZone: 'Europe/Berlin',
    });
  });

  it("flows saved by an earlier start get the dashboard's tab once Dashboard 2 is installed, and lose it when it is not", () => {
    const withDashboard = exampleFlows(sim.url, sim.streamUrl, SIM_VINS.bev, broker, { dashboard: true }).flows;
    const file = path.join(tmp, 'flows.json');
    // An earlier start without Dashboard 2, and a node the user added on a tab.
    const mine = { id: 'mine', type: 'comment', z: flows.find((n) => n.type === 'tab').id, name: 'mine' };
    fs.writeFileSync(file, JSON.stringify([...flows, mine]));
    assert.match(syncDashboardTab(file, withDashboard, true), /tab "Car dashboard" was added/);
    const added = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepStrictEqual(added, [...flows, mine, ...withDashboard.filter((n) => !flows.some((f) => f.id === n.id))]);
    assert.strictEqual(syncDashboardTab(file, withDashboard, true), undefined, 'added once');
    // Without Dashboard 2 (Node-RED would start no flow with unknown nodes), the tab goes, the rest stays.
    assert.match(syncDashboardTab(file, flows, false), /taken out/);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(file, 'utf8')), [...flows, mine]);
    assert.strictEqual(syncDashboardTab(file, flows, false), undefined);
  });

  it('"Trip logbook to a CSV file": its finished trips wait for no late readings, and the tab says so', () => {
    const tab = flows.find((n) => n.type === 'tab' && n.label === 'Trip logbook to a CSV file');
    const stream = flows.find((n) => n.z === tab.id && n.type === 'bmw-cardata-stream');
    assert.deepStrictEqual([stream.output, stream.settle], ['trips', 0]);
    assert.match(tab.info, /finished trip once the 10 minutes .* are over, without waiting for late readings here/);
  });

  /** Loads one tab of the sandbox's flows (debug nodes as helpers, files in a temporary folder). */
  async function loadTab(label, adapt = (n) => n) {
    const tab = flows.find((n) => n.type === 'tab' && n.label === label);
    assert.ok(tab, label);
    const nodes = flows
      .filter((n) => n.id === tab.id || n.z === tab.id || n.id === ACCOUNT_ID)
      .map((n) => JSON.parse(JSON.stringify(n).split('/tmp/').join(`${tmp}/`)))
      .map((n) => (n.type === 'debug' ? { ...n, type: 'helper' } : n.type === 'inject' ? { ...n, repeat: '' } : n))
      .map(adapt);
    await helper.load([...allNodes, streamNode, ...coreModules], nodes, { [ACCOUNT_ID]: authorizedCredentials(sim) });
    const debug = Object.fromEntries(nodes.filter((n) => n.type === 'helper').map((n) => [n.name, collector(helper.getNode(n.id))]));
    const click = (name) => helper.getNode(nodes.find((n) => n.type === 'inject' && n.name === name).id).receive({ payload: Date.now() });
    const node = (type) => helper.getNode(nodes.find((n) => n.type === type).id);
    return { nodes, debug, click, node };
  }

  it('every button of every tab that has buttons and no stream gives a debug message', async () => {
    const tabs = flows.filter((n) => n.type === 'tab');
    const clickable = tabs.filter(
      (t) => flows.some((n) => n.z === t.id && n.type === 'inject') && !flows.some((n) => n.z === t.id && n.type === 'bmw-cardata-stream'),
    );
    assert.ok(clickable.length >= 5, clickable.map((t) => t.label).join(', '));
    for (const tab of clickable) {
      const { nodes, debug } = await loadTab(tab.label);
      for (const inject of nodes.filter((n) => n.type === 'inject')) {
        const before = Object.values(debug).reduce((sum, c) => sum + c.messages.length, 0);
        helper.getNode(inject.id).receive({ payload: Date.now() });
        const deadline = Date.now() + 10_000;
        while (Object.values(debug).reduce((sum, c) => sum + c.messages.length, 0) === before && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 50));
        assert.ok(Object.values(debug).reduce((sum, c) => sum + c.messages.length, 0) > before, `${tab.label}: "${inject.name}" showed nothing`);
      }
      await helper.unload();
    }
  });

  it('"Containers housekeeping": delete old-* deletes the old container the sandbox starts with', async () => {
    const { debug, click } = await loadTab('Containers housekeeping');
    click('list');
    const [list] = await debug.containers.wait(1);
    assert.deepStrictEqual(
      list.payload.filter((c) => c.name.startsWith('old-')).map((c) => c.state),
      ['ACTIVE'],
    );
    click('delete old-*');
    const [deleted] = await debug.deleted.wait(1);
    assert.strictEqual(deleted.payload.deleted, true);
    assert.strictEqual(deleted.payload.containerId, list.payload.find((c) => c.name.startsWith('old-')).containerId);
  });

  it('a spent quota says how the sandbox starts over: npm start -- --reset', async () => {
    sim.setQuotaUsed(50);
    const { debug, click } = await loadTab('Vehicle overview');
    click('mapped vehicles');
    const [err] = await debug['error with hint'].wait(1);
    assert.strictEqual(err.error.code, 'CU-429');
    assert.match(err.error.message, /npm start -- --reset starts over with a fresh quota/);
  });

  it('"Low state of charge notification": the first read sends the notification', async () => {
    const { debug, click } = await loadTab('Low state of charge notification');
    click('every hour');
    const [note] = await debug.notification.wait(1);
    assert.strictEqual(note.topic, 'Low battery');
    assert.match(note.payload, new RegExp(`^Battery of ${SIM_VINS.bev} is low: 1[5-7] %\\. Time to plug in\\.`));
  });

  it('"Bridge the stream to your MQTT broker": the local broker receives every value, the state of charge for evcc, online', async () => {
    const { node } = await loadTab('Bridge the stream to your MQTT broker');
    await until(() => lastStatus(node('bmw-cardata-stream'))?.text === 'connected', 10_000, 'the stream connected');
    const watcher = await mqtt.connectAsync(broker.url);
    try {
      const seen = new Map();
      watcher.on('message', (topic, payload) => seen.set(topic, payload.toString()));
      await watcher.subscribeAsync('bmw-cardata/#');
      // The broker node says online when it connects (retained).
      await until(() => seen.get('bmw-cardata/status') === 'online', 10_000, 'online');
      await sim.stream.publish(SIM_VINS.bev, { [SOC]: 64 });
      const vin = SIM_VINS.bev;
      await until(() => seen.has(`bmw-cardata/${vin}/evcc/soc`), 10_000, `the bridged values (${[...seen.keys()].join(', ')})`);
      assert.strictEqual(seen.get(`bmw-cardata/${vin}/${SOC}`), '64');
      assert.strictEqual(seen.get(`bmw-cardata/${vin}/evcc/soc`), '64');
    } finally {
      await watcher.endAsync();
    }
    const tab = flows.find((n) => n.type === 'tab' && n.label === 'Bridge the stream to your MQTT broker');
    assert.match(
      tab.info,
      new RegExp(
        `local MQTT broker at mqtt://127\\.0\\.0\\.1:${broker.port}; watch what arrives with npx mqtt sub -h 127\\.0\\.0\\.1 -p ${broker.port} -t 'bmw-cardata/#' -v`,
      ),
    );
  });

  it('"Plugged in but not charging": the stream story sends the notification once a round, with the sandbox\'s shorter wait', async () => {
    const label = 'Plugged in but not charging';
    const example = JSON.parse(fs.readFileSync(path.join(__dirname, `../../examples/${label}.json`), 'utf8'));
    assert.deepStrictEqual(
      example.filter((n) => n.type === 'trigger').map((n) => [n.duration, n.units]),
      [['10', 'min']],
      'the example itself waits 10 minutes',
    );
    const tab = flows.find((n) => n.type === 'tab' && n.label === label);
    const trigger = flows.find((n) => n.z === tab.id && n.type === 'trigger');
    assert.deepStrictEqual([trigger.duration, trigger.units, trigger.name], [String(SANDBOX_WAIT_MIN), 'min', `wait ${SANDBOX_WAIT_MIN} minute (sandbox)`]);
    assert.match(tab.info, /"wait 10 minutes" waits 1 minute here/);
    // The story on a faster clock: every interval and the wait shortened alike (5 s -> 50 ms).
    const intervalMs = 50;
    const waitMs = (SANDBOX_WAIT_MIN * 60_000 * intervalMs) / STREAM_INTERVAL_MS;
    assert.ok(PLUGGED_WAITING_INTERVALS * intervalMs > waitMs * 1.2, 'the car stays plugged in longer than the sandbox waits');
    const { debug, node } = await loadTab(label, (n) => (n.type === 'trigger' ? { ...n, duration: String(waitMs), units: 'ms' } : n));
    await until(() => lastStatus(node('bmw-cardata-stream'))?.text === 'connected', 10_000, 'the stream connected');
    // One round of the story, as the sandbox plays it.
    for (const name of SCENARIO_NAMES) {
      await sim.stream.startScenario(name, { intervalMs }).done;
      await sleep(intervalMs);
    }
    await sleep(waitMs * 2);
    assert.strictEqual(debug.notification.messages.length, 1, 'one notification a round: none for the charge that starts at once');
    const [note] = debug.notification.messages;
    assert.strictEqual(note.topic, 'BMW: plugged in, not charging');
    assert.match(note.payload, /^Plugged in since \d\d:\d\d but not charging\.$/);
  });
});
