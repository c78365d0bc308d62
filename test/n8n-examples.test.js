'use strict';
// The n8n example workflows: every parameter they set on this package's nodes exists in the node's description,
// with a value it accepts, and every connection joins nodes of the workflow.
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
      for (const [from, outs] of Object.entries(wf.connections)) {
        assert.ok(names.has(from), from);
        for (const list of outs.main) for (const c of list) assert.ok(names.has(c.node), c.node);
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
});
