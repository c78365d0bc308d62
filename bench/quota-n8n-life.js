'use strict';
// One lifetime of an n8n process for bench/quota.js: a restart of n8n is a new process, which keeps only what n8n
// keeps (the credential and the workflow's static data, both in its database). Reads the plan as JSON from the
// file named on the command line, runs its steps through n8n-core (test/support/n8n-harness.js) and prints the
// credential data, the static data and one result per step as JSON.
const fs = require('fs');
const { LoadOptionsContext } = require('n8n-core');
const { Workflow } = require('n8n-workflow');
const harness = require('../test/support/n8n-harness');

/** Opening the BMW CarData node's dialog: the Vehicle picker (list search) and the descriptor options. */
async function openDialog(credentials, parameters) {
  const node = harness.nodeOf('bmwCarData', parameters);
  // The editor asks with a workflow of the node alone, as n8n does for list searches and load options.
  const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes: harness.nodeTypes });
  const type = harness.nodeTypes.types.bmwCarData;
  const ctx = new LoadOptionsContext(workflow, node, harness.additionalData(credentials), 'parameters.vin');
  const vehicles = await type.methods.listSearch.searchVehicles.call(ctx);
  const descriptors = await type.methods.loadOptions.getDescriptors.call(ctx);
  return { vehicles: vehicles.results.length, descriptors: descriptors.length };
}

async function main() {
  const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const credentials = new harness.MemoryCredentialsHelper(plan.credentials);
  let staticData = plan.staticData ?? {};
  const results = [];
  const realNow = Date.now;
  for (const step of plan.steps) {
    const result = { op: step.op, ok: 0, errors: [] };
    // A step of the day before: the quota ledger books it on yesterday's count.
    if (step.yesterday) Date.now = () => realNow() - 86_400_000;
    for (let i = 0; i < (step.times ?? 1); i++) {
      try {
        if (step.op === 'run') {
          const run = await harness.runNode(credentials, step.parameters, { staticData });
          // n8n saves the static data of an active workflow after each of its executions.
          staticData = JSON.parse(JSON.stringify(run.staticData));
          if (run.error) throw run.error;
          const value = run.items[0]?.json?.telematicData?.[step.expect];
          if (step.expect && value === undefined) throw new Error(`no ${step.expect} in the answer`);
          if (step.expectField && run.items[0]?.json?.[step.expectField] === undefined) throw new Error(`no ${step.expectField} in the answer`);
          if (step.expectBinary && !run.items[0]?.binary?.data) throw new Error('no binary data in the answer');
        } else if (step.op === 'dialog') {
          const opened = await openDialog(credentials, step.parameters);
          if (opened.vehicles === 0) throw new Error('the Vehicle picker is empty');
        } else {
          throw new Error(`unknown step ${step.op}`);
        }
        result.ok += 1;
      } catch (e) {
        result.errors.push(String(e.message || e));
      }
    }
    Date.now = realNow;
    result.endedAt = Date.now();
    results.push(result);
  }
  process.stdout.write(JSON.stringify({ credentials: credentials.data, staticData, results }));
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => harness.cleanup());
