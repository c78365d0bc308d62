// The Node-RED action nodes in a real Node-RED runtime (node-red-node-test-helper), against the simulator.
import assert from 'assert';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { relativeRange } from '../../src/core';
import {
  helper,
  editor,
  freshUserDir,
  loadAction,
  sleep,
  lastStatus,
  coreNode,
  allNodes,
  accountConfig,
  authorizedCredentials,
  collector,
  serverPerTest,
} from '../support/nodered';
import { SOC, KOMBI_RANGE as RANGE } from '../../src/simulator/descriptor-names';

describe('Node-RED nodes', function () {
  let sim;
  before(async () => {
    sim = await startSimulator({ chargingSessions: 400, chargingPageSize: 25, settingsPageSize: 2 });
  });
  after(() => sim.close());
  serverPerTest(async () => {
    freshUserDir();
    sim.clearLog();
    sim.setQuotaUsed(0);
  });

  const restPaths = () => sim.restCalls().map((r) => r.path);

  describe('vehicles', function () {
    it('lists the mapped vehicles with msg.quota and fills the picker cache', async () => {
      const { node, out } = await loadAction(sim, 'vehicles');
      node.receive({ payload: 'go' });
      const [msg] = await out.wait(1);
      const vins = msg.payload.map((v) => v.vin);
      assert.ok(vins.includes(SIM_VINS.bev) && vins.includes(SIM_VINS.secondary));
      assert.strictEqual(msg.payload.find((v) => v.vin === SIM_VINS.secondary).mappingType, 'SECONDARY');
      assert.deepStrictEqual({ used: msg.quota.used, limit: msg.quota.limit, remaining: msg.quota.remaining }, { used: 1, limit: 50, remaining: 49 });
      assert.match(msg.quota.resetsAt, /T00:00:00/);
      await sleep(20);
      assert.match(lastStatus(node).text, /^\d+ vehicles · 49\/50 left$/);
      const cached = await editor().get('/bmw-cardata/acc/vehicles').expect(200);
      assert.deepStrictEqual(
        cached.body.vehicles.map((v) => v.vin),
        vins,
      );
      assert.strictEqual(sim.restCalls().length, 1, 'the picker cache costs no call');
    });
  });

  describe('two account nodes of one login', function () {
    it('share its token set: the second takes the set the first refreshed, and both read', async () => {
      const creds = { ...authorizedCredentials(sim), expiresAt: String(Date.now() - 1000) }; // both due for a refresh
      const flow = [
        { id: 'tab', type: 'tab', label: 'test' },
        accountConfig(sim),
        { ...accountConfig(sim), id: 'acc2', name: 'the same login again' },
        { id: 'n1', z: 'tab', type: 'bmw-cardata-vehicles', account: 'acc', name: '', wires: [['out']] },
        { id: 'n2', z: 'tab', type: 'bmw-cardata-vehicles', account: 'acc2', name: '', wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
      ];
      await helper.load(allNodes, flow, { acc: { ...creds }, acc2: { ...creds } });
      const out = collector(helper.getNode('out'));
      const refreshes = () => sim.requests.filter((r) => r.grantType === 'refresh_token').length;
      helper.getNode('n1').receive({});
      await out.wait(1);
      assert.strictEqual(refreshes(), 1);
      helper.getNode('n2').receive({});
      const msgs = await out.wait(2);
      const second = msgs[1];
      assert.ok(Array.isArray(second.payload) && second.payload.length >= 2, JSON.stringify(second.payload));
      assert.strictEqual(refreshes(), 1, 'the second account did not refresh with the token the first retired');
      assert.strictEqual(helper.getNode('acc2').credentials.refreshToken, helper.getNode('acc').credentials.refreshToken, 'and it stored the set it took');
    });
  });

  describe('a node without a VIN', function () {
    it("uses the account's only vehicle from the day-cached list, at no extra call, and says so", async () => {
      const { node, out, account } = await loadAction(sim, 'basic-data', { vin: '' });
      account.rememberVehicles([{ vin: SIM_VINS.phev, mappingType: 'PRIMARY', mappedSince: '2024-01-01T00:00:00Z' }]);
      node.receive({});
      const [msg] = await out.wait(1);
      assert.strictEqual(msg.payload.vin, SIM_VINS.phev);
      assert.deepStrictEqual(restPaths(), [`/customers/vehicles/${SIM_VINS.phev}/basicData`]);
      await sleep(20);
      assert.match(lastStatus(node).text, new RegExp(`^${SIM_VINS.phev} \\(the only vehicle\\)`));
    });

    it('runs once for every PRIMARY vehicle when the account has several: one message per car, one call each', async () => {
      // Asks BMW on every run (cache age 0), so each run's calls are counted.
      const { node, out, caught } = await loadAction(sim, 'basic-data', { vin: '', cacheMaxAge: '0' });
      node.receive({ payload: 'go' });
      const msgs = await out.wait(2);
      await sleep(50);
      assert.strictEqual(out.messages.length, 2, 'one message per PRIMARY car, none for the SECONDARY one');
      assert.deepStrictEqual(msgs.map((m) => m.vin).sort(), [SIM_VINS.bev, SIM_VINS.phev].sort());
      for (const m of msgs) assert.strictEqual(m.payload.vin, m.vin);
      assert.notStrictEqual(msgs[0]._msgid, msgs[1]._msgid, 'each car has its own message');
      assert.deepStrictEqual(
        msgs.map((m) => m.quota.used),
        [2, 3],
      );
      assert.deepStrictEqual(
        restPaths().sort(),
        ['/customers/vehicles/mappings', `/customers/vehicles/${SIM_VINS.bev}/basicData`, `/customers/vehicles/${SIM_VINS.phev}/basicData`].sort(),
      );
      assert.strictEqual(caught.messages.length, 0);
      assert.match(lastStatus(node).text, /^2 vehicles · 47\/50 left$/);
      // The second run reads the list from the cache: one call per car, nothing more.
      sim.clearLog();
      node.receive({});
      await out.wait(4);
      assert.strictEqual(sim.restCalls().length, 2);
    });

    it('names every car: the name given in the account, else the model name once basic data was read, else the VIN', async () => {
      const { node, out } = await loadAction(
        sim,
        'telematics',
        { vin: '', descriptors: [SOC] },
        {
          account: { vehicleNames: `${SIM_VINS.phev.toLowerCase()} = Family car\nnot-a-vin=x` },
          extraFlow: [
            { id: 'basic', z: 'tab', type: 'bmw-cardata-basic-data', account: 'acc', vin: SIM_VINS.bev, wires: [['basicOut']] },
            { id: 'basicOut', z: 'tab', type: 'helper' },
          ],
        },
      );
      const nameOf = (list, vin) => list.find((m) => m.vin === vin).vehicleName;
      node.receive({});
      let msgs = await out.wait(2);
      assert.strictEqual(nameOf(msgs, SIM_VINS.phev), 'Family car');
      assert.strictEqual(nameOf(msgs, SIM_VINS.bev), SIM_VINS.bev, 'no name known yet: the VIN');
      const basicOut = collector(helper.getNode('basicOut'));
      helper.getNode('basic').receive({});
      const [basic] = await basicOut.wait(1);
      assert.strictEqual(basic.vehicleName, 'i4 eDrive40');
      node.receive({});
      msgs = (await out.wait(4)).slice(2);
      assert.strictEqual(nameOf(msgs, SIM_VINS.bev), 'i4 eDrive40', 'the model name from the basic data read, at no call of its own');
      assert.strictEqual(nameOf(msgs, SIM_VINS.phev), 'Family car');
    });

    it('one car failing keeps no other car from answering: the first failure reaches Catch once, naming its car; a Complete node hears of each message once', async () => {
      const { node, out, caught } = await loadAction(
        sim,
        'basic-data',
        { vin: '', cacheMaxAge: '0' },
        {
          account: { vehicleNames: `${SIM_VINS.bev}=Family iX` },
          extraFlow: [
            { id: 'complete', z: 'tab', type: 'complete', scope: ['n1'], uncaught: false, wires: [['completed']] },
            { id: 'completed', z: 'tab', type: 'helper' },
          ],
        },
      );
      const completed = collector(helper.getNode('completed'));
      sim.faults.answerNext(
        1,
        { status: 400, body: '{"exveErrorId":"CU-400","exveErrorMsg":"Bad request"}', contentType: 'application/json' },
        { path: new RegExp(`${SIM_VINS.bev}/basicData`) },
      );
      node.receive({ _msgid: 'both-cars' });
      const [err] = await caught.wait(1);
      const [msg] = await out.wait(1);
      await sleep(50);
      assert.strictEqual(out.messages.length, 1);
      assert.strictEqual(msg.vin, SIM_VINS.phev);
      assert.strictEqual(caught.messages.length, 1);
      assert.deepStrictEqual([err.vin, err.vehicleName, err._msgid], [SIM_VINS.bev, 'Family iX', 'both-cars']);
      assert.strictEqual(completed.messages.length, 0, 'a failed message is reported to Catch, not to Complete');
      // A message that goes well completes once.
      node.receive({ vin: SIM_VINS.phev, _msgid: 'one-car' });
      const [done] = await completed.wait(1);
      await sleep(50);
      assert.deepStrictEqual([completed.messages.length, done._msgid], [1, 'one-car']);
    });

    it('a VIN in the message still picks one car', async () => {
      const { node, out } = await loadAction(sim, 'basic-data', { vin: '' });
      node.receive({ vin: SIM_VINS.phev });
      const [msg] = await out.wait(1);
      await sleep(50);
      assert.strictEqual(out.messages.length, 1);
      assert.strictEqual(msg.vin, SIM_VINS.phev);
      assert.strictEqual(msg.vehicleName, '330e');
      assert.deepStrictEqual(restPaths(), [`/customers/vehicles/${SIM_VINS.phev}/basicData`]);
    });
  });

  describe('basic data', function () {
    it('reads the VIN of the node, answering on the message it got', async () => {
      const { node, out } = await loadAction(sim, 'basic-data', { vin: SIM_VINS.phev });
      node.receive({ _msgid: 'one-car', topic: 'mine' });
      const [msg] = await out.wait(1);
      assert.strictEqual(msg.payload.vin, SIM_VINS.phev);
      assert.strictEqual(msg.quota.used, 1);
      assert.deepStrictEqual([msg._msgid, msg.topic], ['one-car', 'mine'], 'one car: the message it got goes on');
    });

    it('msg.vin overrides the VIN of the node', async () => {
      const { node, out } = await loadAction(sim, 'basic-data', { vin: SIM_VINS.phev });
      node.receive({ vin: SIM_VINS.bev });
      const [msg] = await out.wait(1);
      assert.strictEqual(msg.payload.vin, SIM_VINS.bev);
      assert.deepStrictEqual(restPaths(), [`/customers/vehicles/${SIM_VINS.bev}/basicData`]);
    });
  });

  describe('the VIN of a message', function () {
    it("an empty, blank or null msg.vin falls back to the node's VIN; a padded one is trimmed", async () => {
      const { node, out } = await loadAction(sim, 'basic-data', { vin: ` ${SIM_VINS.phev} ` });
      for (const vin of ['', '   ', null, undefined, ` ${SIM_VINS.bev}\n`]) node.receive({ vin });
      const msgs = await out.wait(5);
      assert.deepStrictEqual(
        msgs.map((m) => m.payload.vin),
        [SIM_VINS.phev, SIM_VINS.phev, SIM_VINS.phev, SIM_VINS.phev, SIM_VINS.bev],
      );
      assert.deepStrictEqual(restPaths(), [
        ...Array(4).fill(`/customers/vehicles/${SIM_VINS.phev}/basicData`),
        `/customers/vehicles/${SIM_VINS.bev}/basicData`,
      ]);
    });

    it('the status says "requesting…" while BMW is asked, then what came back', async () => {
      const { node, out } = await loadAction(sim, 'basic-data', { vin: SIM_VINS.bev });
      node.receive({});
      await out.wait(1);
      await sleep(20);
      const statuses = node.status.getCalls().map((c) => c.args[0]);
      assert.deepStrictEqual(
        statuses.find((st) => st.fill === 'blue'),
        { fill: 'blue', shape: 'dot', text: 'requesting…' },
      );
      assert.strictEqual(statuses.at(-1).fill, 'green');
      assert.strictEqual(statuses.at(-1).shape, 'dot');
    });

    it('without a VIN and no vehicle mapped as PRIMARY user: an input error that says how to map one', async () => {
      const { node, caught, account } = await loadAction(sim, 'basic-data', { vin: '' });
      account.rememberVehicles([{ vin: SIM_VINS.secondary, mappingType: 'SECONDARY', mappedSince: '2024-01-01T00:00:00Z' }]);
      node.receive({});
      const [err] = await caught.wait(1);
      assert.strictEqual(err.error.code, 'input');
      assert.strictEqual(err.cardataError.parameter, 'vin');
      assert.strictEqual(err.cardataError.message, 'The account has no vehicle mapped as PRIMARY user');
      assert.strictEqual(err.cardataError.hint, 'Map the vehicle to your BMW ID as primary user in the My BMW app.');
      assert.strictEqual(sim.restCalls().length, 0);
      await sleep(20);
      assert.deepStrictEqual(lastStatus(node), {
        fill: 'red',
        shape: 'ring',
        text: 'input: vin (The account has no vehicle mapped as PRIMARY user) · 50/50 left',
      });
    });
  });

  describe('telematics', function () {
    it('manages the container: created once, then reused for every message', async () => {
      const { node, out } = await loadAction(sim, 'telematics', { vin: SIM_VINS.bev, descriptors: [SOC, RANGE], containerMode: 'managed' });
      node.receive({});
      const [first] = await out.wait(1);
      assert.deepStrictEqual(Object.keys(first.payload).sort(), [SOC, RANGE].sort());
      assert.ok('value' in first.payload[SOC] && 'unit' in first.payload[SOC] && 'timestamp' in first.payload[SOC]);
      assert.strictEqual(typeof first.values[SOC], 'number');
      assert.strictEqual(first.containerId.length, 13);
      const callsAfterFirst = sim.restCalls().length;
      assert.strictEqual(callsAfterFirst, 3, 'list + create + read');
      node.receive({});
      const [, second] = await out.wait(2);
      assert.strictEqual(second.containerId, first.containerId);
      assert.strictEqual(sim.restCalls().length, callsAfterFirst + 1, 'only the read');
      assert.strictEqual(second.quota.used, 4);
    });

    it('takes msg.descriptors and msg.containerId', async () => {
      const { node, out } = await loadAction(sim, 'telematics', { vin: SIM_VINS.bev, descriptors: [SOC] });
      node.receive({ descriptors: [RANGE] });
      const [first] = await out.wait(1);
      assert.deepStrictEqual(Object.keys(first.payload), [RANGE]);
      sim.clearLog();
      node.receive({ containerId: first.containerId });
      const [, second] = await out.wait(2);
      assert.deepStrictEqual(Object.keys(second.payload), [RANGE]);
      assert.deepStrictEqual(restPaths(), [`/customers/vehicles/${SIM_VINS.bev}/telematicData`]);
    });

    it('refuses an unknown descriptor before any call', async () => {
      const { node, out, caught } = await loadAction(sim, 'telematics', { vin: SIM_VINS.bev, descriptors: ['vehicle.no.such.key'] });
      node.receive({});
      const [err] = await caught.wait(1);
      assert.strictEqual(err.error.code, 'input');
      assert.match(err.error.message, /Unknown descriptor/);
      assert.strictEqual(out.messages.length, 0);
      assert.strictEqual(sim.restCalls().length, 0);
    });

    it('msg.values: "true"/"false" become booleans, numeric text numbers, other text stays text', async () => {
      const LOCKED = 'vehicle.body.trunk.isLocked';
      const MOVING = 'vehicle.isMoving';
      const ACTIVITY = 'vehicle.vehicle.preConditioning.activity';
      const { node, out } = await loadAction(sim, 'telematics', { vin: SIM_VINS.bev, descriptors: [LOCKED, MOVING, SOC, ACTIVITY] });
      node.receive({});
      const [msg] = await out.wait(1);
      const sent = (id) => msg.payload[id].value;
      assert.deepStrictEqual([sent(LOCKED), sent(MOVING)], ['true', 'false'], 'BMW sends booleans as text');
      assert.strictEqual(msg.values[LOCKED], true);
      assert.strictEqual(msg.values[MOVING], false);
      assert.strictEqual(typeof sent(SOC), 'string');
      assert.strictEqual(msg.values[SOC], Number(sent(SOC)));
      assert.ok(Number.isFinite(msg.values[SOC]));
      assert.strictEqual(typeof sent(ACTIVITY), 'string');
      assert.ok(!['true', 'false'].includes(sent(ACTIVITY)) && Number.isNaN(Number(sent(ACTIVITY))));
      assert.strictEqual(msg.values[ACTIVITY], sent(ACTIVITY));
    });

    it('"allow unknown descriptors" off refuses them locally, on sends them to BMW', async () => {
      const unknown = 'vehicle.no.such.key';
      for (const allowUnknown of [false, true]) {
        await helper.unload();
        sim.clearLog();
        const { node, out, caught } = await loadAction(sim, 'telematics', { vin: SIM_VINS.bev, descriptors: [unknown], allowUnknown });
        node.receive({});
        const [err] = await caught.wait(1);
        assert.strictEqual(out.messages.length, 0);
        if (allowUnknown) {
          assert.strictEqual(err.error.code, 'CU-402', 'BMW was asked and refused the key');
          assert.ok(sim.restCalls().length > 0);
        } else {
          assert.strictEqual(err.error.code, 'input');
          assert.strictEqual(sim.restCalls().length, 0);
        }
      }
    });
  });

  describe('charging history', function () {
    const from = '2020-01-01T00:00:00Z';
    const to = new Date(Date.now() + 86_400_000).toISOString();

    it('follows the pages up to the limit and answers all sessions in one message', async () => {
      const { node, out } = await loadAction(sim, 'charging-history', { vin: SIM_VINS.bev, rangeMode: 'fixed', from, to, limit: 30, output: 'array' });
      node.receive({});
      const [msg] = await out.wait(1);
      assert.strictEqual(msg.payload.length, 30);
      assert.strictEqual(typeof msg.payload[0].startTime, 'number');
      assert.strictEqual(sim.restCalls().length, 2, 'two pages of 25');
      assert.strictEqual(msg.quota.used, 2);
      await sleep(20);
      assert.strictEqual(lastStatus(node).text, '30 sessions · 48/50 left');
      const statuses = node.status.getCalls().map((c) => c.args[0].text);
      assert.ok(statuses.includes('page 1 · 25 sessions') && statuses.includes('page 2 · 50 sessions'), statuses.join(' | '));
    });

    it("without a VIN, every car's pages show in the status with its VIN, blue while BMW is asked", async () => {
      const { node, out } = await loadAction(sim, 'charging-history', { vin: '', rangeMode: 'fixed', from, to, limit: 30, output: 'array', cacheMaxAge: '0' });
      node.receive({});
      await out.wait(2);
      await sleep(20);
      const statuses = node.status.getCalls().map((c) => c.args[0]);
      for (const vin of [SIM_VINS.bev, SIM_VINS.phev]) {
        assert.ok(
          statuses.some((st) => st.text === `${vin}: page 1 · 25 sessions` && st.fill === 'blue' && st.shape === 'dot'),
          statuses.map((st) => st.text).join(' | '),
        );
      }
      assert.match(lastStatus(node).text, /^2 vehicles · \d+\/50 left$/);
    });

    it('msg.limit overrides the limit and flat rows are ready for CSV', async () => {
      const { node, out } = await loadAction(sim, 'charging-history', { vin: SIM_VINS.bev, rangeMode: 'fixed', from, to, limit: 30, output: 'rows' });
      node.receive({ limit: 5 });
      const [msg] = await out.wait(1);
      assert.strictEqual(msg.payload.length, 5);
      const row = msg.payload[0];
      assert.match(row.start, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
      assert.strictEqual(row.timeZone, 'Europe/Berlin');
      for (const v of Object.values(row)) assert.ok(v === null || ['string', 'number', 'boolean'].includes(typeof v));
      assert.strictEqual(typeof row.energyFromGridKwh, 'number');
      assert.strictEqual(sim.restCalls().length, 1);
    });

    it("with the account's Tariff, flat rows gain our cost beside BMW's own; one message per session too; the sessions as BMW sends them stay as they are", async () => {
      const tariff = '{"currency":"EUR","pricePerKwh":0.3,"perSession":1}';
      const { node, out } = await loadAction(
        sim,
        'charging-history',
        { vin: SIM_VINS.bev, rangeMode: 'fixed', from, to, limit: 5, output: 'rows' },
        { account: { tariff } },
      );
      node.receive({});
      node.receive({ output: 'each', limit: 2 });
      node.receive({ output: 'array', limit: 2 });
      const messages = await out.wait(4);
      // The three messages run side by side: told apart by their shape, not their order.
      const each = messages.filter((m) => m.parts);
      const [rows, array] = ['energyFromGridKwh', 'startTime'].map((key) => messages.find((m) => Array.isArray(m.payload) && key in m.payload[0]));
      assert.deepStrictEqual([rows.payload.length, each.length, array.payload.length], [5, 2, 2]);
      for (const row of [...rows.payload, ...each.map((m) => m.payload)]) {
        assert.strictEqual(typeof row.energyFromGridKwh, 'number');
        assert.strictEqual(row.tariffCost, Math.round((row.energyFromGridKwh * 0.3 + 1) * 100) / 100);
        assert.deepStrictEqual([row.tariffCurrency, row.tariffKwh, row.tariffMethod], ['EUR', row.energyFromGridKwh, 'flat']);
        assert.ok('cost' in row && 'currency' in row, "BMW's own columns stay");
        assert.notStrictEqual(row.cost, row.tariffCost);
      }
      assert.ok(array.payload.every((s) => typeof s.startTime === 'number' && !('tariffCost' in s)));
    });

    it('without a Tariff, flat rows carry no cost of ours', async () => {
      const { node, out } = await loadAction(sim, 'charging-history', { vin: SIM_VINS.bev, rangeMode: 'fixed', from, to, limit: 3, output: 'rows' });
      node.receive({});
      const [msg] = await out.wait(1);
      assert.ok(msg.payload.length === 3 && msg.payload.every((row) => !Object.keys(row).some((k) => k.startsWith('tariff'))));
    });

    it('sends one message per session with msg.parts, which Join reassembles', async () => {
      const join = coreNode('sequence/17-split.js');
      const { node, out } = await loadAction(
        sim,
        'charging-history',
        { vin: SIM_VINS.bev, rangeMode: 'fixed', from, to, limit: 27, output: 'each', wires: [['out', 'join']] },
        {
          modules: [join],
          extraFlow: [
            { id: 'join', z: 'tab', type: 'join', mode: 'auto', build: 'array', wires: [['joined']] },
            { id: 'joined', z: 'tab', type: 'helper' },
          ],
        },
      );
      const joined = collector(helper.getNode('joined'));
      node.receive({ topic: 'history' });
      const messages = await out.wait(27);
      assert.deepStrictEqual(
        messages.map((m) => m.parts.index),
        [...Array(27).keys()],
      );
      assert.strictEqual(messages[26].parts.count, 27);
      assert.ok(messages.every((m) => m.topic === 'history' && m.quota && typeof m.payload.start === 'string' && m.session));
      const [all] = await joined.wait(1);
      assert.strictEqual(all.payload.length, 27);
      await sleep(50);
      assert.strictEqual(out.messages.length, 27);
    });

    it('one message per session: a broken page 2 sends no message at all, and the error reaches Catch once', async () => {
      const { node, out, caught } = await loadAction(sim, 'charging-history', { vin: SIM_VINS.bev, rangeMode: 'fixed', from, to, limit: 60, output: 'each' });
      sim.faults.answerNext(1, { status: 200, body: '<html>sign in</html>', contentType: 'text/html' }, { path: /chargingHistory/, skip: 1 });
      node.receive({});
      const [err] = await caught.wait(1);
      assert.strictEqual(err.error.code, 'response');
      assert.match(err.error.message, /not CarData JSON: text\/html/);
      assert.strictEqual(err.error.cause.kind, 'response');
      assert.match(err.error.cause.hint, /proxy/, 'the hint on its own, not only inside the message');
      assert.strictEqual(sim.restCalls().length, 2);
      await sleep(50);
      assert.strictEqual(out.messages.length, 0, 'no part of a sequence that cannot be completed');
      assert.strictEqual(caught.messages.length, 1);
    });

    it("without a time zone, a relative range starts in the machine's zone, as the command line's does, and says so", async () => {
      const { node, out } = await loadAction(sim, 'charging-history', { vin: SIM_VINS.bev, rangeMode: 'relative', range: 'lastMonth', timeZone: '', limit: 1 });
      node.receive({});
      const [msg] = await out.wait(1);
      const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
      assert.strictEqual(msg.timeZone, zone);
      assert.deepStrictEqual({ from: msg.from, to: msg.to }, relativeRange('lastMonth', { timeZone: zone }));
    });

    it('computes a relative range in the chosen time zone, and msg.from/msg.to override it', async () => {
      const { node, out } = await loadAction(sim, 'charging-history', {
        vin: SIM_VINS.bev,
        rangeMode: 'relative',
        range: 'lastMonth',
        timeZone: 'Europe/Berlin',
        limit: 1,
      });
      node.receive({});
      const [msg] = await out.wait(1);
      const expected = relativeRange('lastMonth', { timeZone: 'Europe/Berlin' });
      assert.deepStrictEqual({ from: msg.from, to: msg.to }, expected);
      assert.strictEqual(msg.timeZone, 'Europe/Berlin');
      await sleep(20);
      assert.match(lastStatus(node).text, /^1 session \(Europe\/Berlin\) · /);
      assert.match(expected.from, /T2[23]:00:00Z$/, 'midnight in Berlin');
      assert.deepStrictEqual(sim.restCalls()[0].query.from, expected.from);
      node.receive({ from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' });
      await out.wait(2);
      const q = sim.restCalls()[1].query;
      assert.deepStrictEqual([q.from, q.to], ['2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z']);
      node.receive({ range: 'last7d' });
      await out.wait(3);
      const q7 = sim.restCalls()[2].query;
      assert.ok(Math.abs(Date.parse(q7.to) - Date.parse(q7.from) - 7 * 86400e3) < 5000);
    });

    it('refuses from after to before any call', async () => {
      const { node, caught } = await loadAction(sim, 'charging-history', { vin: SIM_VINS.bev, rangeMode: 'fixed', from: to, to: from });
      node.receive({});
      const [err] = await caught.wait(1);
      assert.strictEqual(err.error.code, 'input');
      assert.strictEqual(sim.restCalls().length, 0);
      await sleep(20);
      // The status says what is wrong, not only which setting: the first sentence of the error, short.
      const first = err.cardataError.message.split(/(?<=[.;])\s/)[0].replace(/[.;]$/, '');
      assert.ok(first.length > 10, err.cardataError.message);
      assert.strictEqual(lastStatus(node).text.split(' · ')[0], `input: from (${first.length > 80 ? `${first.slice(0, 79)}…` : first})`);
    });
  });

  describe('tyre diagnosis', function () {
    it('answers the tyre diagnosis', async () => {
      const { node, out } = await loadAction(sim, 'tyre-diagnosis', { vin: SIM_VINS.bev });
      node.receive({});
      const [msg] = await out.wait(1);
      assert.ok(msg.payload.passengerCar.mountedTyres.frontLeft);
      assert.strictEqual(msg.quota.remaining, 49);
    });
  });

  describe('charging settings', function () {
    it('follows every page, or stops at the limit', async () => {
      // Always asked of BMW (cacheMaxAge 0): this is about the pages.
      const { node, out } = await loadAction(sim, 'charging-settings', { vin: SIM_VINS.bev, cacheMaxAge: '0' });
      node.receive({});
      const [all] = await out.wait(1);
      const pages = sim.restCalls().length;
      assert.ok(pages >= 2, `${pages} pages`);
      assert.ok(all.payload.length > 2);
      sim.clearLog();
      node.receive({ limit: 3 });
      const [, limited] = await out.wait(2);
      assert.strictEqual(limited.payload.length, 3);
      assert.strictEqual(sim.restCalls().length, 2);
    });

    it('reports CU-127 for a vehicle without settings', async () => {
      const { node, caught } = await loadAction(sim, 'charging-settings', { vin: SIM_VINS.phev });
      node.receive({});
      const [err] = await caught.wait(1);
      assert.strictEqual(err.error.code, 'CU-127');
    });
  });

  describe('image', function () {
    it('answers a Buffer with content type and file name', async () => {
      const { node, out } = await loadAction(sim, 'image', { vin: SIM_VINS.bev });
      node.receive({});
      const [msg] = await out.wait(1);
      assert.ok(Buffer.isBuffer(msg.payload));
      assert.strictEqual(msg.contentType, 'image/png');
      assert.strictEqual(msg.payload.subarray(1, 4).toString('latin1'), 'PNG');
      assert.strictEqual(msg.filename, `${SIM_VINS.bev}.png`);
    });

    it('reports CU-126 for a vehicle without image', async () => {
      const { node, caught, out } = await loadAction(sim, 'image', { vin: SIM_VINS.phev });
      node.receive({});
      const [err] = await caught.wait(1);
      assert.strictEqual(err.error.code, 'CU-126');
      assert.strictEqual(out.messages.length, 0);
    });
  });

  describe('containers', function () {
    it('creates, lists, reads and deletes containers; a second delete is not an error', async () => {
      const { node, out } = await loadAction(sim, 'containers', { operation: 'create', containerName: 'nr-test', purpose: 'test', descriptors: [SOC] });
      node.receive({});
      const [created] = await out.wait(1);
      const id = created.payload.containerId;
      assert.strictEqual(id.length, 13);
      node.receive({ operation: 'list' });
      const [, listed] = await out.wait(2);
      assert.ok(listed.payload.some((c) => c.containerId === id));
      await sleep(20);
      const n = listed.payload.length;
      assert.match(lastStatus(node).text, new RegExp(`^${n} container${n === 1 ? '' : 's'} \\(\\d+ active\\)`), 'one container, not "1 containers"');
      node.receive({ operation: 'get', containerId: id });
      const [, , got] = await out.wait(3);
      assert.deepStrictEqual(got.payload.technicalDescriptors, [SOC]);
      node.receive({ operation: 'delete', containerId: id });
      const [, , , deleted] = await out.wait(4);
      assert.deepStrictEqual(deleted.payload, { containerId: id, deleted: true, alreadyDeleted: false });
      node.receive({ operation: 'delete', containerId: id });
      const msgs = await out.wait(5);
      assert.strictEqual(msgs[4].payload.alreadyDeleted, true);
    });

    it('ensure reuses a container with the same descriptors', async () => {
      const { node, out } = await loadAction(sim, 'containers', { operation: 'ensure', descriptors: [RANGE, SOC] });
      node.receive({});
      const [first] = await out.wait(1);
      node.receive({ descriptors: [SOC, RANGE] });
      const [, second] = await out.wait(2);
      assert.strictEqual(second.payload.containerId, first.payload.containerId);
      assert.strictEqual(second.payload.created, false);
    });

    it('creates a container from msg.descriptors alone, named as the telematics node names one, which it then reuses', async () => {
      // Descriptors no other test of this simulator puts in a container.
      const MILEAGE = 'vehicle.vehicle.travelledDistance';
      const { node, out, caught } = await loadAction(sim, 'containers', { operation: 'create' });
      node.receive({ descriptors: [SOC, MILEAGE] });
      const [created] = await Promise.race([out.wait(1), caught.wait(1).then(([m]) => Promise.reject(new Error(m.error.message)))]);
      assert.strictEqual(created.payload.containerId.length, 13);
      assert.match(created.payload.name, /^cardata-flows-[0-9a-f]{10}$/);
      assert.deepStrictEqual([...created.payload.technicalDescriptors].sort(), [MILEAGE, SOC].sort());
      node.receive({ operation: 'ensure', descriptors: [MILEAGE, SOC] });
      const [, ensured] = await out.wait(2);
      assert.deepStrictEqual([ensured.payload.containerId, ensured.payload.created], [created.payload.containerId, false]);
      assert.strictEqual(sim.restCalls().filter((c) => c.method === 'POST').length, 1, 'one container created');
    });

    it('refuses an unknown operation', async () => {
      const { node, caught } = await loadAction(sim, 'containers', { operation: 'list' });
      node.receive({ operation: 'explode' });
      const [err] = await caught.wait(1);
      assert.strictEqual(err.error.code, 'input');
      assert.strictEqual(sim.restCalls().length, 0);
    });
  });

  describe('errors and quota', function () {
    it('a Catch node receives a BMW error once, with the code and the hint', async () => {
      const { node, out, caught } = await loadAction(sim, 'basic-data', { vin: SIM_VINS.secondary });
      node.receive({ topic: 't' });
      const [err] = await caught.wait(1);
      await sleep(100);
      assert.strictEqual(caught.messages.length, 1);
      assert.strictEqual(out.messages.length, 0);
      assert.strictEqual(err.error.code, 'CU-104');
      assert.match(err.error.message, /CU-104/);
      assert.match(err.error.message, /PRIMARY/, 'the hint is in the message');
      assert.strictEqual(err.cardataError.exveErrorId, 'CU-104');
      assert.strictEqual(err.quota.used, 1);
      assert.strictEqual(err.topic, 't');
      assert.strictEqual(lastStatus(node).text, 'CU-104 · 49/50 left');
      const creds = helper.getNode('acc').credentials;
      for (const secret of [creds.accessToken, creds.refreshToken, creds.clientId]) {
        assert.ok(!JSON.stringify(err).includes(secret));
        assert.ok(!JSON.stringify(node.status.getCalls().map((c) => c.args)).includes(secret));
      }
    });

    it('an invalid VIN is refused before any call', async () => {
      const { node, caught } = await loadAction(sim, 'tyre-diagnosis', { vin: 'wby31aw090fp15732' });
      node.receive({});
      const [err] = await caught.wait(1);
      assert.strictEqual(err.error.code, 'input');
      assert.match(err.error.message, /upper case/);
      assert.strictEqual(sim.restCalls().length, 0);
    });

    it('refuses locally once the daily quota is spent', async () => {
      // Messages no button started are unattended: without a reserve they may spend the whole (small) day.
      const { node, out, caught } = await loadAction(
        sim,
        'basic-data',
        { vin: SIM_VINS.bev, cacheMaxAge: '0' },
        { account: { dailyQuota: 2, quotaReserve: 0 } },
      );
      node.receive({});
      node.receive({});
      const [, second] = await out.wait(2);
      assert.deepStrictEqual([second.quota.used, second.quota.remaining], [2, 0]);
      node.receive({});
      const [err] = await caught.wait(1);
      assert.strictEqual(err.error.code, 'CU-429');
      assert.match(err.error.message, /refused locally/);
      assert.strictEqual(err.quota.remaining, 0);
      assert.strictEqual(sim.restCalls().length, 2, 'BMW was not asked a third time');
      await sleep(20);
      assert.strictEqual(lastStatus(node).text, 'CU-429 · 0/2 left');
    });

    it("a spent quota's error carries the runtime's own way out when the settings give one (the sandbox's reset)", async () => {
      const dir = freshUserDir();
      helper.settings({ userDir: dir, bmwCardata: { quotaHint: '  Reset the test quota.\n' } });
      const { node, caught } = await loadAction(sim, 'basic-data', { vin: SIM_VINS.bev, cacheMaxAge: '0' }, { account: { dailyQuota: 1, quotaReserve: 0 } });
      node.receive({});
      node.receive({});
      const [err] = await caught.wait(1);
      assert.strictEqual(err.error.code, 'CU-429');
      assert.match(err.error.message, /resets at 00:00 UTC; use streaming for frequent data\. Reset the test quota\.\)$/);
      assert.match(err.cardataError.hint, /Reset the test quota\.$/);
      // Only a spent quota gets it: a VIN that is no VIN keeps its own hint.
      node.receive({ vin: 'abc' });
      const [, input] = await caught.wait(2);
      assert.strictEqual(input.cardataError.kind, 'input');
      assert.doesNotMatch(`${input.cardataError.hint} ${input.error.message}`, /Reset the test quota/);
      await helper.unload();
      // Without the setting (every real Node-RED), the error says only what BMW's quota does.
      helper.settings({ userDir: freshUserDir() });
      const plain = await loadAction(sim, 'basic-data', { vin: SIM_VINS.bev }, { account: { dailyQuota: 1, quotaReserve: 0 } });
      plain.node.receive({});
      plain.node.receive({});
      const [other] = await plain.caught.wait(1);
      assert.strictEqual(other.error.code, 'CU-429');
      assert.doesNotMatch(other.error.message, /Reset the test/);
      assert.match(other.error.message, /use streaming for frequent data\.\)$/);
    });

    it("trusts BMW's CU-429 and marks the day spent", async () => {
      sim.setQuotaUsed(50);
      const { node, caught } = await loadAction(sim, 'basic-data', { vin: SIM_VINS.bev });
      node.receive({});
      const [err] = await caught.wait(1);
      assert.strictEqual(err.error.code, 'CU-429');
      assert.strictEqual(err.cardataError.kind, 'quota');
      assert.strictEqual(err.quota.remaining, 0);
    });

    it('reports a missing account', async () => {
      await helper.load(allNodes, [
        { id: 'tab', type: 'tab' },
        { id: 'n1', z: 'tab', x: 1, y: 1, type: 'bmw-cardata-vehicles', account: '', wires: [[]] },
        { id: 'catch', z: 'tab', x: 1, y: 2, type: 'catch', scope: null, wires: [['caught']] },
        { id: 'caught', z: 'tab', x: 1, y: 3, type: 'helper' },
      ]);
      const node = helper.getNode('n1');
      assert.deepStrictEqual(lastStatus(node), { fill: 'red', shape: 'ring', text: 'no account' });
      const caught = collector(helper.getNode('caught'));
      node.receive({});
      const [err] = await caught.wait(1);
      assert.match(err.error.message, /No BMW CarData account is selected \(Open the node and pick or add an account\.\)$/);
      assert.deepStrictEqual([err.error.code, err.cardataError.parameter], ['input', 'account']);
      await sleep(20);
      assert.deepStrictEqual(lastStatus(node), { fill: 'red', shape: 'ring', text: 'input: account (No BMW CarData account is selected)' });
      await helper.unload();
      // A node that is not an account counts as none.
      await helper.load(allNodes, [
        { id: 'tab', type: 'tab' },
        { id: 'caught', z: 'tab', x: 1, y: 3, type: 'helper' },
        { id: 'catch', z: 'tab', x: 1, y: 2, type: 'catch', scope: null, wires: [['caught']] },
        { id: 'n2', z: 'tab', x: 1, y: 1, type: 'bmw-cardata-vehicles', account: 'caught', wires: [[]] },
      ]);
      const wrong = helper.getNode('n2');
      assert.deepStrictEqual(lastStatus(wrong), { fill: 'red', shape: 'ring', text: 'no account' });
      const caughtWrong = collector(helper.getNode('caught'));
      wrong.receive({});
      const [errWrong] = await caughtWrong.wait(1);
      assert.deepStrictEqual([errWrong.error.code, errWrong.cardataError.parameter], ['input', 'account']);
      await helper.unload();
      // With an account, the node starts with a clear status.
      const { node: ok } = await loadAction(sim, 'vehicles');
      assert.deepStrictEqual(
        ok.status.getCalls().map((c) => c.args[0]),
        [{}],
      );
    });

    it('reports an account without authorization', async () => {
      const { node, caught } = await loadAction(sim, 'vehicles', {}, { credentials: { clientId: 'nr-test-client' } });
      node.receive({});
      const [err] = await caught.wait(1);
      assert.match(err.error.message, /not authorized/);
      assert.strictEqual(sim.restCalls().length, 0);
    });

    it('every node of an account shares one quota ledger', async () => {
      const creds = authorizedCredentials(sim);
      await helper.load(
        allNodes,
        [
          { id: 'tab', type: 'tab' },
          accountConfig(sim),
          { id: 'a', z: 'tab', x: 1, y: 1, type: 'bmw-cardata-basic-data', account: 'acc', vin: SIM_VINS.bev, wires: [['out']] },
          { id: 'b', z: 'tab', x: 1, y: 2, type: 'bmw-cardata-tyre-diagnosis', account: 'acc', vin: SIM_VINS.bev, wires: [['out']] },
          { id: 'out', z: 'tab', x: 1, y: 3, type: 'helper' },
        ],
        { acc: creds },
      );
      const out = collector(helper.getNode('out'));
      helper.getNode('a').receive({});
      await out.wait(1);
      helper.getNode('b').receive({});
      const [, second] = await out.wait(2);
      assert.strictEqual(second.quota.used, 2);
    });
  });
});
