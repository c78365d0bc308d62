'use strict';
const assert = require('assert');
const { startSimulator, SIM_VINS } = require('../dist/src/simulator');
const { poll, authorizedCredentials, cleanup } = require('./support/n8n-harness');

const VIN = SIM_VINS.bev;
const params = (extra = {}) => ({ vin: { __rl: true, mode: 'vin', value: VIN }, limit: 5, output: 'flat', ...extra });

describe('n8n trigger bmwCarDataTrigger through n8n-core PollContext', function () {
  let sim;
  before(async () => {
    sim = await startSimulator({ port: 0, chargingSessions: 60, chargingPageSize: 10 });
  });
  after(async () => {
    await sim.close();
    cleanup();
  });
  beforeEach(() => sim.clearLog());

  it('emits each new session once; a poll costs one call', async () => {
    const creds = authorizedCredentials(sim);
    const first = await poll(creds, params());
    assert.strictEqual(first.result, null, 'first poll only remembers');
    assert.strictEqual(sim.restCalls().length, 1);
    assert.strictEqual(typeof first.staticData['node:BMW CarData Trigger'].highWater, 'number');

    sim.clearLog();
    const second = await poll(creds, params(), { staticData: first.staticData });
    assert.strictEqual(second.result, null, 'nothing new');
    assert.strictEqual(sim.restCalls().length, 1);

    const added = sim.addChargingSession(VIN);
    const third = await poll(creds, params(), { staticData: second.staticData });
    assert.ok(third.result);
    assert.strictEqual(third.result[0].length, 1);
    const item = third.result[0][0].json;
    assert.strictEqual(item.vin, VIN);
    assert.strictEqual(item.mileage, added.mileage);
    assert.ok(item.start);

    const fourth = await poll(creds, params(), { staticData: third.staticData });
    assert.strictEqual(fourth.result, null, 'emitted once');
  });

  it('Emit Existing Sessions: the first poll emits the latest sessions (oldest first, up to the limit), the next none', async () => {
    const creds = authorizedCredentials(sim);
    const first = await poll(creds, params({ emitExisting: true, output: 'raw', limit: 2 }));
    assert.strictEqual(first.result[0].length, 2);
    const starts = first.result[0].map((i) => i.json.startTime);
    assert.deepStrictEqual(starts, [...starts].sort((a, b) => a - b));
    const second = await poll(creds, params({ emitExisting: true }), { staticData: first.staticData });
    assert.strictEqual(second.result, null);
  });

  it('manual mode returns the latest session as a sample and leaves the state alone', async () => {
    const creds = authorizedCredentials(sim);
    const { result, staticData } = await poll(creds, params(), { mode: 'manual' });
    assert.strictEqual(result[0].length, 1);
    assert.ok(result[0][0].json.start);
    assert.strictEqual(Object.keys(staticData['node:BMW CarData Trigger'] || {}).length, 0);
    assert.strictEqual(sim.restCalls().length, 1);
  });

  it('reports BMW errors as NodeApiError', async () => {
    const creds = authorizedCredentials(sim);
    await assert.rejects(poll(creds, { ...params(), vin: { __rl: true, mode: 'vin', value: SIM_VINS.secondary } }), (e) => e.name === 'NodeApiError' && /CU-104/.test(e.message));
  });
});
