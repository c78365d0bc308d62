'use strict';
// The n8n example workflows: every parameter they set on this package's nodes (and on its tool, the node as n8n
// offers it to an AI agent) exists in the node's description, with a value it accepts, and every connection, of
// every kind, joins nodes of the workflow.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { BmwCarData } = require('../dist/nodes/BmwCarData/BmwCarData.node.js');
const { BmwCarDataTrigger } = require('../dist/nodes/BmwCarDataTrigger/BmwCarDataTrigger.node.js');
const { BmwCarDataStreamTrigger } = require('../dist/nodes/BmwCarDataStreamTrigger/BmwCarDataStreamTrigger.node.js');

const dir = path.join(__dirname, '../n8n-examples');
const ours = {
  bmwCarData: new BmwCarData(),
  bmwCarDataTrigger: new BmwCarDataTrigger(),
  bmwCarDataStreamTrigger: new BmwCarDataStreamTrigger(),
};
// n8n names the tool it makes of a node marked usableAsTool <name>Tool; its parameters are the node's.
ours.bmwCarDataTool = ours.bmwCarData;
const connectionsOf = (wf) => Object.entries(wf.connections).flatMap(([from, outs]) => Object.entries(outs).flatMap(([kind, lists]) => lists.flat().map((c) => ({ from, kind, ...c }))));

describe('n8n example workflows', function () {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('there is one for charging finished and one for plugged in but not charging', () => {
    assert.ok(files.includes('charging-finished-chat-message.json') && files.includes('plugged-in-not-charging.json'), files.join());
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
          const choices = candidates.flatMap((p) => (p.type === 'options' || p.type === 'multiOptions') && Array.isArray(p.options) ? p.options.map((o) => o.value) : []);
          if (choices.length === 0 || (typeof value === 'string' && value.startsWith('='))) continue;
          for (const v of Array.isArray(value) ? value : [value]) assert.ok(choices.includes(v), `${file}: ${node.name}: ${name} = ${v}`);
        }
      }
    });
  }

  it('"Ask your car": a chat trigger, an AI Agent with a chat model, and the BMW CarData tool, its arguments from the agent', () => {
    const wf = JSON.parse(fs.readFileSync(path.join(dir, 'ask-your-car.json'), 'utf8'));
    const byName = Object.fromEntries(wf.nodes.map((n) => [n.name, n]));
    const into = (kind) => connectionsOf(wf).filter((c) => c.kind === kind).map((c) => [byName[c.from].type, byName[c.node].type]);
    const AGENT = '@n8n/n8n-nodes-langchain.agent';
    assert.deepStrictEqual(into('main'), [['@n8n/n8n-nodes-langchain.chatTrigger', AGENT]]);
    assert.ok(into('ai_languageModel').some(([from, to]) => /^@n8n\/n8n-nodes-langchain\.lmChat/.test(from) && to === AGENT), 'a chat model');
    const tools = into('ai_tool');
    assert.ok(tools.length >= 2 && tools.every(([from, to]) => from === 'n8n-nodes-bmw-cardata.bmwCarDataTool' && to === AGENT), JSON.stringify(tools));
    const toolNodes = wf.nodes.filter((n) => n.type === 'n8n-nodes-bmw-cardata.bmwCarDataTool');
    assert.ok(toolNodes.some((n) => n.parameters.resource === 'vehicle' && n.parameters.operation === 'getAll'), 'Get vehicles');
    assert.ok(toolNodes.some((n) => n.parameters.resource === 'chargingHistory'), 'the charging history');
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
