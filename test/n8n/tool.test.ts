// The BMW CarData node as an AI agent's tool, through n8n's own tool code (n8n-core wraps the node, takes its
// arguments from $fromAI(), runs execute() for ai_tool and hands the agent JSON text), and its Output option in a
// workflow: Simplified by default for a tool, what it always returned for a workflow node.
import assert from 'assert';
import { SIM_VINS } from '../../src/simulator';
import { SESSION_SUMMARY_COLUMNS } from '../../src/core';
import { runNode, runTool, authorizedCredentials, useSimulator } from '../support/n8n-harness';
import { RESOURCES } from '../../nodes/BmwCarData/resources';
import { BmwCarData } from '../../nodes/BmwCarData/BmwCarData.node.js';
import type { Operation } from '../../src/n8n/operation';

const VIN = SIM_VINS.bev;
const vin = (value = VIN) => ({ __rl: true, mode: 'vin', value });
const ALL_TIME = { range: 'custom', from: '2000-01-01T00:00:00Z', to: new Date(Date.now() + 86_400_000).toISOString() };
const SOC = 'vehicle.drivetrain.batteryManagement.header';

describe('n8n node bmwCarData as an AI tool, and its Output option', function () {
  let sim;
  useSimulator({ chargingSessions: 60, chargingPageSize: 10 }, (s) => (sim = s));

  describe('as a tool', () => {
    it('Vehicle > Get Many: each car as vin, vehicleName and mappingType, the quota once; the description says the cost', async () => {
      const { agent, error } = await runTool(authorizedCredentials(sim, { vehicleNames: `${VIN}=i4` }), { resource: 'vehicle', operation: 'getAll' });
      assert.ifError(error);
      assert.strictEqual(agent.name, 'BMW_CarData_Tool');
      assert.match(agent.description, /^Lists the cars of the BMW account/);
      assert.match(agent.description, /Costs 1 of the account's 50 CarData calls a day .*then none for a day/);
      const cars = agent.answer;
      assert.deepStrictEqual(cars.map((c) => c.vin).sort(), [SIM_VINS.bev, SIM_VINS.phev, SIM_VINS.secondary].sort());
      assert.deepStrictEqual(
        cars.find((c) => c.vin === VIN),
        { vin: VIN, vehicleName: 'i4', mappingType: 'PRIMARY' },
      );
      for (const car of cars.slice(0, -1)) assert.deepStrictEqual(Object.keys(car), ['vin', 'vehicleName', 'mappingType']);
      assert.strictEqual(cars.at(-1)._quota.used, 1, 'the last item says the quota');
      assert.strictEqual(sim.restCalls().length, 1);
    });

    it('Charging History of last month, the period and the car from the agent ($fromAI): the summary columns of each session, a fraction of the flat rows', async () => {
      const parameters = {
        resource: 'chargingHistory',
        operation: 'getAll',
        vin: { __rl: true, mode: 'vin', value: "={{ $fromAI('vin', 'The VIN of the car', 'string') }}" },
        range: "={{ $fromAI('period', 'last24h, last7d, last30d, thisMonth or lastMonth', 'string') }}",
        returnAll: true,
      };
      const creds = authorizedCredentials(sim);
      const { agent, error } = await runTool(creds, parameters, { args: { vin: VIN, period: 'lastMonth' } });
      assert.ifError(error);
      assert.deepStrictEqual(agent.arguments.sort(), ['period', 'vin']);
      assert.match(agent.description, /charging sessions of a period/);
      assert.match(agent.description, /Costs 1 of the account's 50 CarData calls a day .* per page of sessions/);
      const calls = sim.restCalls();
      assert.ok(calls.length >= 1 && calls.every((c) => c.path === `/customers/vehicles/${VIN}/chargingHistory`), calls.map((c) => c.path).join());
      const { from, to } = calls[0].query;
      const sessions = agent.answer;
      assert.ok(sessions.length > 0, 'the simulator has sessions last month');
      const allowed = new Set(['vin', 'vehicleName', '_quota', ...SESSION_SUMMARY_COLUMNS]);
      for (const s of sessions) {
        for (const key of Object.keys(s)) assert.ok(allowed.has(key), `Simplified keeps ${key}`);
        for (const value of Object.values(s)) assert.ok(value !== null && value !== '', 'no empty columns');
        assert.ok(Date.parse(s.start) >= Date.parse(from) && Date.parse(s.start) < Date.parse(to), `${s.start} in ${from}..${to}`);
        assert.strictEqual(typeof s.energyFromGridKwh, 'number');
      }
      // The same sessions as flat rows in a workflow: the agent reads far fewer characters.
      sim.clearLog();
      const flat = await runNode(creds, { ...parameters, vin: vin(), range: 'custom', from, to });
      assert.ifError(flat.error);
      assert.strictEqual(flat.items.length, sessions.length);
      const flatText = JSON.stringify(flat.items.map((i) => i.json));
      assert.ok(agent.text.length < flatText.length / 2, `${agent.text.length} characters for the agent, ${flatText.length} as flat rows`);
    });

    it('Telematic Data: each key with its value and unit, the time of the newest reading', async () => {
      const { agent, error } = await runTool(authorizedCredentials(sim), {
        resource: 'telematicData',
        operation: 'get',
        vin: vin(),
        containerMode: 'managed',
        descriptors: [SOC],
      });
      assert.ifError(error);
      const [state] = agent.answer;
      assert.deepStrictEqual(Object.keys(state.values), [SOC]);
      assert.strictEqual(typeof state.values[SOC].value, 'number');
      assert.strictEqual(state.values[SOC].unit, '%');
      assert.ok(!Number.isNaN(Date.parse(state.readAt)), state.readAt);
      assert.strictEqual(state.telematicData, undefined);
    });

    it('Output set on the tool wins: Raw gives BMW’s fields', async () => {
      const { agent, error } = await runTool(authorizedCredentials(sim), { resource: 'vehicle', operation: 'getAll', options: { output: 'raw' } });
      assert.ifError(error);
      assert.ok(agent.answer.every((c) => typeof c.mappedSince === 'string'));
    });

    it('Image: a short note instead of binary data, and no call', async () => {
      const { agent, error } = await runTool(authorizedCredentials(sim), { resource: 'image', operation: 'get', vin: vin() });
      assert.ifError(error);
      assert.strictEqual(agent.answer.length, 1);
      assert.match(agent.answer[0].note, /cannot read.*no call/);
      assert.strictEqual(sim.requests.length, 0, 'neither BMW nor the login was asked');
    });

    it("every operation's tool description says what it returns and what it costs of the day's calls", () => {
      const props = new BmwCarData().description.properties.filter((p) => p.name === 'toolDescription');
      const operations = RESOURCES.flatMap((r) => r.operations.map((op): [string, Operation] => [r.value, op]));
      assert.strictEqual(props.length, operations.length);
      for (const [resource, op] of operations) {
        const prop = props.find((p) => p.displayOptions.show.resource[0] === resource && p.displayOptions.show.operation[0] === op.value);
        assert.ok(prop, `${resource} ${op.value}`);
        assert.deepStrictEqual(prop.displayOptions.show['@tool'], [true], 'only on the tool node');
        assert.match(prop.default as string, /50 CarData calls a day/, `${resource} ${op.value}`);
      }
    });
  });

  describe('Output in a workflow', () => {
    it('left out, a workflow node returns what it always did (raw vehicles, flat sessions)', async () => {
      const cars = await runNode(authorizedCredentials(sim), { resource: 'vehicle', operation: 'getAll' });
      assert.ifError(cars.error);
      assert.ok(cars.items.every((i) => typeof i.json.mappedSince === 'string' && i.json._quota));
      const sessions = await runNode(authorizedCredentials(sim), { resource: 'chargingHistory', operation: 'getAll', vin: vin(), ...ALL_TIME, limit: 3 });
      assert.ifError(sessions.error);
      assert.ok(sessions.items.every((i) => 'latitude' in i.json && 'timeZone' in i.json));
    });

    it('Simplified in a workflow node: the summary columns', async () => {
      const { items, error } = await runNode(authorizedCredentials(sim), {
        resource: 'chargingHistory',
        operation: 'getAll',
        vin: vin(),
        ...ALL_TIME,
        limit: 3,
        options: { output: 'simple' },
      });
      assert.ifError(error);
      assert.strictEqual(items.length, 3);
      for (const item of items) {
        assert.ok(!('latitude' in item.json) && !('timeZone' in item.json), Object.keys(item.json).join());
        assert.ok('start' in item.json && 'energyFromGridKwh' in item.json);
      }
    });

    it('Selected Fields keeps the named fields (a dot reaches in), with vin and vehicleName', async () => {
      const sessions = await runNode(authorizedCredentials(sim), {
        resource: 'chargingHistory',
        operation: 'getAll',
        vin: vin(),
        ...ALL_TIME,
        limit: 2,
        options: { output: 'fields', fields: 'start, endSoc, nothing' },
      });
      assert.ifError(sessions.error);
      for (const item of sessions.items) assert.deepStrictEqual(Object.keys(item.json), ['vin', 'start', 'endSoc', 'vehicleName']);
      const basic = await runNode(authorizedCredentials(sim), {
        resource: 'vehicle',
        operation: 'get',
        vin: vin(),
        options: { output: 'fields', fields: 'modelName\nbrand' },
      });
      assert.ifError(basic.error);
      assert.deepStrictEqual(Object.keys(basic.items[0].json).sort(), ['_quota', 'brand', 'modelName', 'vehicleName', 'vin']);
      const tyres = await runNode(authorizedCredentials(sim), { resource: 'tyreDiagnosis', operation: 'get', vin: vin(), options: { output: 'raw' } });
      const [nested] = Object.keys(tyres.items[0].json).filter(
        (k) => tyres.items[0].json[k] && typeof tyres.items[0].json[k] === 'object' && !Array.isArray(tyres.items[0].json[k]) && k !== '_quota',
      );
      const [inner] = Object.keys(tyres.items[0].json[nested]);
      const picked = await runNode(authorizedCredentials(sim), {
        resource: 'tyreDiagnosis',
        operation: 'get',
        vin: vin(),
        options: { output: 'fields', fields: `${nested}.${inner}` },
      });
      assert.deepStrictEqual(picked.items[0].json[`${nested}.${inner}`], tyres.items[0].json[nested][inner]);
      // A telematic descriptor is one key, dots and all.
      const state = await runNode(authorizedCredentials(sim), {
        resource: 'telematicData',
        operation: 'get',
        vin: vin(),
        containerMode: 'managed',
        descriptors: [SOC],
        options: { output: 'fields', fields: SOC },
      });
      assert.ifError(state.error);
      assert.strictEqual(typeof state.items[0].json[SOC], 'number');
    });

    it('Simplified of Vehicle > Get and Tyre Diagnosis leaves out what is empty', async () => {
      const basic = await runNode(authorizedCredentials(sim), { resource: 'vehicle', operation: 'get', vin: vin(), options: { output: 'simple' } });
      assert.ifError(basic.error);
      assert.ok(basic.items[0].json.brand && basic.items[0].json.modelName);
      assert.strictEqual(basic.items[0].json.fullSAList, undefined, 'the option codes are left out');
      const tyres = await runNode(authorizedCredentials(sim), { resource: 'tyreDiagnosis', operation: 'get', vin: vin(), options: { output: 'simple' } });
      assert.ifError(tyres.error);
      const empty = (v) => v === null || v === '' || (typeof v === 'object' && Object.keys(v).length === 0);
      const walk = (v) => {
        assert.ok(!empty(v), 'no empty part');
        if (v && typeof v === 'object') Object.values(v).forEach(walk);
      };
      const rest = { ...tyres.items[0].json };
      delete rest._quota;
      walk(rest);
      assert.strictEqual(rest.vin, VIN);
    });
  });
});
