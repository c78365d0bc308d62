'use strict';
const assert = require('assert');
const { startSimulator, SIM_VINS } = require('../dist/src/simulator');
const { runNode, authorizedCredentials, cleanup } = require('./support/n8n-harness');

const VIN = SIM_VINS.bev;
const vin = (value = VIN) => ({ __rl: true, mode: 'vin', value });

describe('n8n node bmwCarData through n8n-core', function () {
  let sim;
  before(async () => {
    sim = await startSimulator({ port: 0, chargingPageSize: 10, settingsPageSize: 2 });
  });
  after(async () => {
    await sim.close();
    cleanup();
  });
  beforeEach(() => {
    sim.clearLog();
    sim.setQuotaUsed(0);
  });

  it('Vehicle > Get Many lists the mapped vehicles with the quota', async () => {
    const creds = authorizedCredentials(sim);
    const { items, error } = await runNode(creds, { resource: 'vehicle', operation: 'getAll' });
    assert.ifError(error);
    assert.ok(items.length >= 2);
    assert.ok(items.some((i) => i.json.vin === VIN));
    for (const item of items) assert.deepStrictEqual(item.pairedItem, { item: 0 });
    assert.strictEqual(items[0].json._quota.used, 1);
    assert.strictEqual(items[0].json._quota.limit, 50);
    assert.strictEqual(sim.restCalls().length, 1);
  });
});
