// The n8n example workflows: every parameter they set on this package's nodes (and on its tool, the node as n8n
// offers it to an AI agent) exists in the node's description, with a value it accepts, and every connection, of
// every kind, joins nodes of the workflow.
import assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { BmwCarData } from '../../nodes/BmwCarData/BmwCarData.node.js';
import { BmwCarDataTrigger } from '../../nodes/BmwCarDataTrigger/BmwCarDataTrigger.node.js';
import { BmwCarDataStreamTrigger } from '../../nodes/BmwCarDataStreamTrigger/BmwCarDataStreamTrigger.node.js';
import { Workflow, createRunExecutionData } from 'n8n-workflow';
import type { INodePropertyOptions } from 'n8n-workflow';
import { LiveData, flattenTrip } from '../../src/node';
import { TRIP_SCRIPTS, TRIP_SCRIPT_START, tripScriptItems } from '../../src/simulator/trip-scripts';

const dir = path.join(__dirname, '../../n8n-examples');
const ours: Record<string, BmwCarData | BmwCarDataTrigger | BmwCarDataStreamTrigger> = {
  bmwCarData: new BmwCarData(),
  bmwCarDataTrigger: new BmwCarDataTrigger(),
  bmwCarDataStreamTrigger: new BmwCarDataStreamTrigger(),
};
// n8n names the tool it makes of a node marked usableAsTool <name>Tool; its parameters are the node's.
ours.bmwCarDataTool = ours.bmwCarData;
const connectionsOf = (wf) =>
  Object.entries(wf.connections).flatMap(([from, outs]) => Object.entries(outs).flatMap(([kind, lists]) => lists.flat().map((c) => ({ from, kind, ...c }))));

describe('n8n example workflows', function () {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('there is one for charging finished, one for plugged in but not charging and one for the trip logbook', () => {
    assert.ok(
      files.includes('charging-finished-chat-message.json') &&
        files.includes('plugged-in-not-charging.json') &&
        files.includes('trip-logbook-to-google-sheets.json'),
      files.join(),
    );
  });

  describe('trip-logbook-to-google-sheets.json with a replayed trip (the Sheets node, which needs Google, left out)', () => {
    const wf = JSON.parse(fs.readFileSync(path.join(dir, 'trip-logbook-to-google-sheets.json'), 'utf8'));
    const byType = (type) => wf.nodes.find((n) => n.type === type);

    /** The trip-finished item the stream trigger emits for a script (the event, its car's name after the VIN). */
    function tripItem(name) {
      let clock = TRIP_SCRIPT_START;
      const live = new LiveData({ now: () => clock });
      const trips = [];
      for (const i of tripScriptItems(TRIP_SCRIPTS[name])) {
        if ('marker' in i) continue;
        clock = Math.max(clock, Date.parse(i.at));
        trips.push(...live.ingest(i.message).trips);
      }
      clock += 86_400_000;
      for (const u of live.settle()) trips.push(...u.trips);
      const { kind, vin, ...rest } = trips.find((t) => t.kind === 'trip-finished');
      return { event: { kind, vin, ...rest }, json: { kind, vin, vehicleName: vin, ...rest } };
    }

    /** What the Set node "Logbook row" makes of an item: its assignments evaluated by n8n's own expression engine. */
    function row(json) {
      const set = byType('n8n-nodes-base.set');
      // The Set node is n8n's (not installed here): the workflow holds it without its description, as n8n does for a type it does not know.
      const workflow = new Workflow({
        id: 'wf',
        name: wf.name,
        nodes: [set],
        connections: {},
        active: false,
        nodeTypes: { getByNameAndVersion: () => undefined, getByName: () => undefined, getKnownTypes: () => ({}) },
        settings: { timezone: 'UTC' },
      });
      const runData = createRunExecutionData({ resultData: { runData: {} } });
      const out: Record<string, any> = {};
      for (const a of set.parameters.assignments.assignments) {
        const value = workflow.expression.getParameterValue(a.value, runData, 0, 0, set.name, [{ json }], 'trigger', {});
        // The Set node (3.2 and later) keeps null as null; a number or boolean must be one (else the node stops with an error).
        if (value !== null && a.type !== 'string') assert.strictEqual(typeof value, a.type, `${a.name}: ${value}`);
        out[a.name] = value;
      }
      return out;
    }

    it('the trigger gives the finished trips, the row has the columns and cells of bmw-cardata trips, the sheet is appended to by column name', () => {
      const trigger = byType('n8n-nodes-bmw-cardata-stream.bmwCarDataStreamTrigger');
      assert.deepStrictEqual([trigger.parameters.output, trigger.parameters.tripEvents], ['trips', ['trip-finished']]);
      assert.deepStrictEqual(Object.keys(wf.connections), ['Trip finished', 'Logbook row']);
      for (const name of ['commute', 'phev', 'tunnel']) {
        const { event, json } = tripItem(name);
        const got = row(json);
        const want = flattenTrip(event, 'Europe/Berlin');
        assert.deepStrictEqual(Object.keys(got), Object.keys(want), `${name}: the columns, in order`);
        assert.deepStrictEqual(got, want, name);
      }
      const sheets = byType('n8n-nodes-base.googleSheets');
      assert.deepStrictEqual([sheets.parameters.operation, sheets.parameters.columns.mappingMode], ['append', 'autoMapInputData']);
      assert.deepStrictEqual(
        wf.connections['Logbook row'].main[0].map((c) => c.node),
        [sheets.name],
      );
      const credentials = wf.nodes.flatMap((n) => Object.values<any>(n.credentials ?? {}).map((c) => c.id));
      assert.ok(credentials.length === 2 && credentials.every((id) => id.startsWith('REPLACE_WITH_')), 'the user picks the credentials');
      assert.match(sheets.parameters.documentId.value, /^REPLACE_WITH_/, 'and the spreadsheet');
    });

    it('a figure the car did not send stays empty (null), never 0, and the missing column names it', () => {
      const { json } = tripItem('commute');
      const got = row({ ...json, startPosition: null, energyUsed: null, distanceKm: null, missing: ['startPosition', 'energyUsed'] });
      assert.deepStrictEqual(
        [got.startLatitude, got.energyUsedKwh, got.energyUsedEstimate, got.distanceKm, got.missing],
        [null, null, null, null, 'startPosition; energyUsed'],
      );
    });
  });

  for (const file of files) {
    it(`${file}: parameters exist with accepted values, connections join its nodes, no secrets`, () => {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      const wf = JSON.parse(text);
      assert.ok(!/refreshToken|accessToken|clientId"\s*:\s*"[^"]/.test(text), 'no secrets');
      const names = new Set(wf.nodes.map((n) => n.name));
      for (const c of connectionsOf(wf)) {
        assert.ok(names.has(c.from), c.from);
        assert.ok(names.has(c.node), c.node);
        assert.strictEqual(c.type, c.kind, `${c.from} -> ${c.node}`);
      }
      for (const node of wf.nodes.filter((n) => n.type.startsWith('n8n-nodes-bmw-cardata'))) {
        const type = ours[node.type.split('.')[1]];
        assert.ok(type, node.type);
        const props = type.description.properties;
        for (const [name, value] of Object.entries(node.parameters)) {
          const candidates = props.filter((p) => p.name === name);
          assert.ok(candidates.length > 0, `${file}: ${node.name}: no parameter ${name}`);
          const choices = candidates.flatMap((p) =>
            (p.type === 'options' || p.type === 'multiOptions') && Array.isArray(p.options) ? p.options.map((o) => (o as INodePropertyOptions).value) : [],
          );
          if (choices.length === 0 || (typeof value === 'string' && value.startsWith('='))) continue;
          for (const v of Array.isArray(value) ? value : [value]) assert.ok(choices.includes(v), `${file}: ${node.name}: ${name} = ${v}`);
        }
      }
    });
  }

  it('"Ask your car": a chat trigger, an AI Agent with a chat model, and the BMW CarData tool, its arguments from the agent', () => {
    const wf = JSON.parse(fs.readFileSync(path.join(dir, 'ask-your-car.json'), 'utf8'));
    const byName = Object.fromEntries(wf.nodes.map((n) => [n.name, n]));
    const into = (kind) =>
      connectionsOf(wf)
        .filter((c) => c.kind === kind)
        .map((c) => [byName[c.from].type, byName[c.node].type]);
    const AGENT = '@n8n/n8n-nodes-langchain.agent';
    assert.deepStrictEqual(into('main'), [['@n8n/n8n-nodes-langchain.chatTrigger', AGENT]]);
    assert.ok(
      into('ai_languageModel').some(([from, to]) => /^@n8n\/n8n-nodes-langchain\.lmChat/.test(from) && to === AGENT),
      'a chat model',
    );
    const tools = into('ai_tool');
    assert.ok(tools.length >= 2 && tools.every(([from, to]) => from === 'n8n-nodes-bmw-cardata.bmwCarDataTool' && to === AGENT), JSON.stringify(tools));
    const toolNodes = wf.nodes.filter((n) => n.type === 'n8n-nodes-bmw-cardata.bmwCarDataTool');
    assert.ok(
      toolNodes.some((n) => n.parameters.resource === 'vehicle' && n.parameters.operation === 'getAll'),
      'Get vehicles',
    );
    assert.ok(
      toolNodes.some((n) => n.parameters.resource === 'chargingHistory'),
      'the charging history',
    );
    // $fromAI keys as n8n accepts them (letters, digits, _ and -), one description per key.
    const keys = new Map();
    for (const n of toolNodes) {
      assert.strictEqual((n.parameters.options || {}).output, undefined, `${n.name}: Output left to the tool default (Simplified)`);
      for (const m of JSON.stringify(n.parameters).matchAll(/\$fromAI\('([^']*)', '([^']*)'/g)) {
        assert.match(m[1], /^[a-zA-Z0-9_-]{1,64}$/);
        assert.ok(!keys.has(m[1]) || keys.get(m[1]) === m[2], `${m[1]} described twice differently`);
        keys.set(m[1], m[2]);
      }
    }
    assert.deepStrictEqual([...keys.keys()].sort(), ['period', 'vin']);
    assert.match(byName['AI Agent'].parameters.options.systemMessage, /50 calls to BMW a day/);
  });
});
