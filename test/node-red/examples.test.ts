// The example flows in examples/: their shape, and each one run in Node-RED against the simulator (the account
// URLs and file paths are pointed at the test's simulator and a temporary directory; debug nodes become helpers).
import assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { createAccount, relativeRange, flattenTrip } from '../../src/node';
import { VEHICLE_NODE_TYPES } from '../../src/node-red/action';
const VEHICLE_NODES = new Set(VEHICLE_NODE_TYPES);
import {
  helper,
  freshUserDir,
  allNodes,
  authorizedCredentials,
  collector,
  coreNode,
  sleep,
  streamNode,
  lastStatus,
  serverPerTest,
  EXAMPLE_CORE_NODES,
} from '../support/nodered';
import { DASHBOARD } from '../../scripts/sandbox';
import { until } from '../support/bridge';
import { toCsv } from '../../src/cli/csv';
import { TRIP_SCRIPTS, playTripScript } from '../../src/simulator/trip-scripts';
import { tripStart, finishedTrip } from '../support/trip-replay';

const dir = path.join(__dirname, '../../examples');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
const load = (name) => JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));

/** The node types of FlowFuse Dashboard 2 (@flowfuse/node-red-dashboard 1.31.0, its package.json's node-red.nodes). */
const DASHBOARD_TYPES = new Set([
  'ui-base',
  'ui-page',
  'ui-link',
  'ui-group',
  'ui-theme',
  'ui-form',
  'ui-text-input',
  'ui-number-input',
  'ui-file-input',
  'ui-button',
  'ui-button-group',
  'ui-dropdown',
  'ui-radio-group',
  'ui-slider',
  'ui-spacer',
  'ui-switch',
  'ui-text',
  'ui-table',
  'ui-chart',
  'ui-gauge',
  'ui-notification',
  'ui-audio',
  'ui-markdown',
  'ui-template',
  'ui-event',
  'ui-control',
  'ui-progress',
]);

describe('Node-RED example flows', function () {
  it('each starts with a comment, uses the simulator account and holds no credentials', () => {
    assert.ok(files.length >= 5);
    for (const f of files) {
      const flow = load(f.replace(/\.json$/, ''));
      assert.strictEqual(flow[0].type, 'comment', f);
      // Imported after another one, Node-RED offers Cancel, View nodes... and Import copy (a second account).
      assert.match(
        flow[0].info,
        /already exist.*Press \*\*View nodes\.\.\.\*\*, then \*\*Import selected\*\*.*\*\*Import copy\*\* would add a second account/,
        f,
      );
      // A deployed account logs in only at the URL it is deployed with: deploy a changed URL, then Authorize.
      if (/set the BMW URLs/.test(flow[0].info))
        assert.match(flow[0].info, /set the BMW URLs and your own client ID, deploy, then open the account again and press Authorize/, f);
      const accounts = flow.filter((n) => n.type === 'bmw-cardata-account');
      assert.strictEqual(accounts.length, 1, f);
      // One account node id in every example: importing several reuses one account.
      assert.strictEqual(accounts[0].id, 'bmw-cardata-example-account', f);
      assert.ok(
        flow.every((n) => !n.vin),
        `${f}: no hard-coded VIN`,
      );
      // A debug node has no output: wires for one make the editor warn "node.wires longer than node.outputs".
      for (const n of flow.filter((x) => x.type === 'debug')) assert.deepStrictEqual(n.wires ?? [], [], `${f}: ${n.id}`);
      assert.deepStrictEqual([accounts[0].apiBaseUrl, accounts[0].authBaseUrl], ['http://127.0.0.1:4010', 'http://127.0.0.1:4010/gcdm'], f);
      const text = JSON.stringify(flow);
      assert.ok(!/credentials|clientId|refreshToken|accessToken/.test(text), f);
      const ids = new Set(flow.map((n) => n.id));
      for (const n of flow) for (const out of n.wires ?? []) for (const target of out) assert.ok(ids.has(target), `${f}: ${n.id} -> ${target}`);
    }
  });

  it('each needs nothing but Node-RED and this package, except "Car dashboard", which needs Dashboard 2 and says so', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../packages/node-red-contrib-bmw-cardata/package.json'), 'utf8'));
    const ours = new Set(Object.keys(pkg['node-red'].nodes));
    // Node-RED's own node types, as its core editor files register them.
    const core = new Set<string>();
    const coreDir = path.dirname(require.resolve('@node-red/nodes/package.json'));
    const walk = (d) =>
      fs
        .readdirSync(d, { withFileTypes: true })
        .forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith('.html') && core.add(fs.readFileSync(path.join(d, e.name), 'utf8'))));
    walk(path.join(coreDir, 'core'));
    const coreTypes = new Set([...core].flatMap((html) => [...html.matchAll(/registerType\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1])));
    assert.ok(coreTypes.has('function') && coreTypes.has('inject'));
    for (const f of files) {
      const flow = load(f.replace(/\.json$/, ''));
      const foreign = [...new Set<string>(flow.map((n) => n.type).filter((t) => !ours.has(t) && !coreTypes.has(t)))];
      if (f !== `${DASHBOARD.example}.json`) {
        assert.deepStrictEqual(foreign, [], f);
        assert.ok(!flow[0].info.includes(DASHBOARD.name), `${f} does not need ${DASHBOARD.name}`);
        continue;
      }
      // The types of Dashboard 2 (its package.json, node-red.nodes) and no others; its comment names the package
      // and the version the sandbox installs.
      assert.deepStrictEqual(
        foreign.filter((t) => !DASHBOARD_TYPES.has(t)),
        [],
        f,
      );
      assert.ok(foreign.includes('ui-base') && foreign.includes('ui-gauge'), f);
      assert.ok(flow[0].name.includes(DASHBOARD.name), `${f}: the comment's name says it needs ${DASHBOARD.name}`);
      assert.ok(flow[0].info.includes(`\`${DASHBOARD.name}\`, tested with ${DASHBOARD.version}`), `${f}: the info names the package and its version`);
    }
  });

  it('the README says what to press when a second example is imported', () => {
    const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8').replace(/\s+/g, ' ');
    assert.match(readme, /some nodes already exist \(the account\), press \*\*View nodes\.\.\.\*\*, then \*\*Import selected\*\*/);
  });

  it('every non-config node type appears in some example', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../packages/node-red-contrib-bmw-cardata/package.json'), 'utf8'));
    const used = new Set(files.flatMap((f) => load(f.replace(/\.json$/, '')).map((n) => n.type)));
    for (const type of Object.keys(pkg['node-red'].nodes).filter((t) => t !== 'bmw-cardata-account')) assert.ok(used.has(type), type);
  });

  describe('run against the simulator', function () {
    let sim;
    let tmp;
    let coreModules;
    before(async () => {
      sim = await startSimulator({ chargingSessions: 400 });
      coreModules = EXAMPLE_CORE_NODES.map(coreNode);
    });
    after(() => sim.close());
    serverPerTest(async () => {
      freshUserDir();
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-examples-'));
      sim.clearLog();
      sim.setQuotaUsed(0);
    });

    /** Loads an example on one tab, pointed at the simulator, with every debug node turned into a helper. */
    async function run(name, adapt = (n) => n) {
      const flow = [{ id: 'tab', type: 'tab' }];
      const creds = {};
      for (const node of load(name)) {
        const n = JSON.parse(JSON.stringify(node).split('/tmp/').join(`${tmp}/`));
        if (n.type === 'bmw-cardata-account') {
          n.apiBaseUrl = sim.apiBaseUrl;
          n.authBaseUrl = sim.authBaseUrl;
          creds[n.id] = authorizedCredentials(sim);
        } else n.z = 'tab';
        if (n.type === 'debug') n.type = 'helper';
        if (n.type === 'inject') Object.assign(n, { once: false, repeat: '' });
        // The simulator's account has two PRIMARY cars and the examples pick none: they run for both.
        if (VEHICLE_NODES.has(n.type)) assert.ok(!n.vin, `${name}: ${n.id} picks no car`);
        flow.push(adapt(n));
      }
      await helper.load([...allNodes, ...coreModules], flow, creds);
      return (id) => collector(helper.getNode(id));
    }

    it('charging history of last month to a CSV file', async () => {
      const out = await run('Charging history of last month to CSV');
      const done = out('d1');
      // A session of last month for which BMW reported no energy, SoC or mileage: empty cells, never the text "null".
      const month = relativeRange('lastMonth', { timeZone: 'Europe/Berlin' });
      const start = Date.parse(month.from) / 1000 + 2 * 86_400;
      sim.addChargingSession(SIM_VINS.bev, {
        startTime: start,
        endTime: start + 3_600,
        energyConsumedFromPowerGridKwh: null,
        displayedStartSoc: null,
        displayedSoc: null,
        mileage: null,
      });
      helper.getNode('in1').receive({});
      await done.wait(2);
      // Both cars of the account, each in a file of its own.
      const account = createAccount({ clientId: 'x', apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, tokens: { ...tokenSet(sim) } });
      let csv;
      for (const vin of [SIM_VINS.bev, SIM_VINS.phev]) {
        csv = fs
          .readFileSync(path.join(tmp, `bmw-charging-last-month-${vin}.csv`), 'utf8')
          .trim()
          .split('\n');
        assert.match(csv[0], /^start,end,timeZone,chargingMinutes/);
        const expected = await account.client.paginate('getChargingHistory', { vin, ...relativeRange('lastMonth', { timeZone: 'Europe/Berlin' }) });
        assert.ok(expected.length > 0);
        assert.strictEqual(csv.length - 1, expected.length);
        for (const line of csv) assert.ok(!/(^|,)null(,|$)/.test(line), `a cell says null: ${line}`);
      }
      assert.match(csv[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00,/);
    });

    it('low state of charge to a notification message', async () => {
      const out = await run('Low state of charge notification', (n) => (n.id === 'sw2' ? { ...n, rules: [{ t: 'lt', v: '101', vt: 'num' }] } : n));
      const note = out('d2');
      helper.getNode('in2').receive({});
      // Both cars of the account, each named in its message (by its VIN until a name is known).
      const notes = await note.wait(2);
      for (const [msg, vin] of notes.map((m) => [m, m.vin]).sort((a, b) => a[1].localeCompare(b[1]))) {
        assert.strictEqual(msg.topic, 'Low battery');
        assert.match(msg.payload, new RegExp(`^Battery of ${vin} is low: \\d+ %\\. Time to plug in\\. \\(4\\d CarData calls left today\\)$`));
      }
      assert.deepStrictEqual(notes.map((m) => m.vin).sort(), [SIM_VINS.bev, SIM_VINS.phev].sort());
    });

    it('no notification while the battery is above the threshold', async () => {
      const out = await run('Low state of charge notification', (n) => (n.id === 'sw2' ? { ...n, rules: [{ t: 'lt', v: '0', vt: 'num' }] } : n));
      const note = out('d2');
      helper.getNode('in2').receive({});
      await sleep(500);
      assert.strictEqual(note.messages.length, 0);
      assert.ok(sim.restCalls().some((r) => r.path.endsWith('/telematicData') && r.status === 200));
    });

    it('vehicle image to a file', async () => {
      const out = await run('Vehicle image to a file');
      const done = out('d3');
      helper.getNode('in3').receive({});
      const [msg] = await done.wait(1);
      const file = path.join(tmp, `${SIM_VINS.bev}.png`);
      assert.strictEqual(msg.filename, file);
      assert.strictEqual(fs.readFileSync(file).subarray(1, 4).toString('latin1'), 'PNG');
    });

    it('containers housekeeping: list, delete old-*, ensure', async () => {
      const account = createAccount({ clientId: 'x', apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, tokens: tokenSet(sim) });
      const old = await account.client.createContainer({
        name: 'old-test',
        purpose: 'test',
        technicalDescriptors: ['vehicle.drivetrain.batteryManagement.header'],
      });
      const keep = await account.client.createContainer({
        name: 'keep-me',
        purpose: 'test',
        technicalDescriptors: ['vehicle.drivetrain.batteryManagement.header'],
      });
      const out = await run('Containers housekeeping');
      const listed = out('d4a');
      const deleted = out('d4b');
      const ensured = out('d4c');
      helper.getNode('in4a').receive({});
      const [list] = await listed.wait(1);
      assert.ok(list.payload.some((c) => c.containerId === keep.containerId));
      helper.getNode('in4b').receive({});
      const [del] = await deleted.wait(1);
      assert.deepStrictEqual(del.payload, { containerId: old.containerId, deleted: true, alreadyDeleted: false });
      await sleep(200);
      assert.strictEqual(deleted.messages.length, 1, 'only the old-* container');
      helper.getNode('in4c').receive({});
      const [ens] = await ensured.wait(1);
      assert.strictEqual(ens.payload.containerId.length, 13);
    });

    it('vehicle overview: vehicles, basic data, tyre diagnosis, charging settings, for both cars', async () => {
      const out = await run('Vehicle overview');
      const errors = out('d5e');
      for (let i = 0; i < 3; i++) {
        const c = out(`d5${i}`);
        helper.getNode(`in5${i}`).receive({});
        // The vehicle list once, the other rows once per car of the account.
        const msgs = await c.wait(i === 0 ? 1 : 2);
        for (const msg of msgs) assert.ok(msg.payload && msg.quota, `row ${i}`);
        if (i > 0) assert.deepStrictEqual(msgs.map((m) => m.vin).sort(), [SIM_VINS.bev, SIM_VINS.phev].sort(), `row ${i}`);
      }
      // The PHEV has no location-based charging settings: its error reaches the Catch node, the BEV's answer the debug.
      const settings = out('d53');
      helper.getNode('in53').receive({});
      const [msg] = await settings.wait(1);
      assert.strictEqual(msg.vin, SIM_VINS.bev);
      const [err] = await errors.wait(1);
      assert.strictEqual(err.error.code, 'CU-127');
      assert.strictEqual(err.vin, SIM_VINS.phev);
    });
  });
});

describe('Node-RED example "Trip logbook to a CSV file" with a replayed trip', function () {
  this.timeout(30000);
  const MODULES = ['common/90-comment.js', 'common/25-catch.js', 'function/10-function.js', 'function/15-change.js', 'parsers/70-CSV.js', 'storage/10-file.js'];
  let sim;
  let tmp;

  before(async () => {
    sim = await startSimulator({ stream: true });
  });
  after(() => sim.close());
  serverPerTest(async () => {
    freshUserDir();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-trip-logbook-'));
  });

  it('one row per finished trip in a CSV file per car: the header first, the same columns and cells as bmw-cardata trips', async () => {
    const flow = [{ id: 'tab', type: 'tab' }];
    for (const node of load('Trip logbook to a CSV file')) {
      const n = JSON.parse(JSON.stringify(node).split('/tmp/').join(`${tmp}/`));
      if (n.type === 'bmw-cardata-account') Object.assign(n, { apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, streamUrl: sim.streamUrl });
      else n.z = 'tab';
      if (n.type === 'debug') n.type = 'helper';
      flow.push(n);
    }
    await helper.load([...allNodes, streamNode, ...MODULES.map(coreNode)], flow, { 'bmw-cardata-example-account': authorizedCredentials(sim) });
    await until(() => lastStatus(helper.getNode('tl1'))?.text === 'connected', 5000, 'connected');
    const logged = collector(helper.getNode('tl7'));
    const vin = TRIP_SCRIPTS.commute.vin;
    const file = path.join(tmp, `bmw-trips-${vin}.csv`);

    const start = tripStart('commute', 1500);
    await playTripScript(sim.stream, 'commute', { start, intervalMs: 5 });
    const [first] = await logged.wait(1, 10000);
    const expected = flattenTrip(finishedTrip('commute', start), 'Europe/Berlin');
    // Made in the function node's sandbox (its own Object): compared as the JSON it is.
    assert.deepStrictEqual(JSON.parse(JSON.stringify(first.row)), expected, 'the row core makes of the trip');
    // The cells bmw-cardata trips writes for the same trip, line for line (the CSV node ends lines with LF).
    assert.strictEqual(fs.readFileSync(file, 'utf8'), toCsv([expected]).replace(/\r\n/g, '\n'));

    // The next trip of the car: a row, no second header.
    const next = finishedTrip('stop', Date.parse(expected.end) + 3_600_000);
    helper.getNode('tl2').receive({ payload: next, vin, topic: `${vin}/trip-finished` });
    await logged.wait(2);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    assert.deepStrictEqual(
      lines,
      toCsv([expected, flattenTrip(next, 'Europe/Berlin')])
        .trim()
        .split('\r\n'),
    );
    assert.match(lines[2], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?\+0[12]:00,\d{4}-.*,Europe\/Berlin,/);
    assert.strictEqual(lines[0].split(',').indexOf('purpose'), 6);
    assert.strictEqual(sim.restCalls().length, 0, 'no quota spent');
  });
});

function tokenSet(sim) {
  const t = sim.issueTokens({ clientId: 'x' });
  return { accessToken: t.access_token, refreshToken: t.refresh_token, gcid: t.gcid, expiresAt: Date.now() + t.expires_in * 1000 };
}
