'use strict';
// What the account remembers across a restart of Node-RED (node-red-node-test-helper: unload, then load on the same
// user directory): the containers found and the mapped vehicles, so neither costs a call again.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { startSimulator, SIM_VINS } = require('../dist/src/simulator');
const { helper, editor, allNodes, accountConfig, authorizedCredentials, collector, freshUserDir, sleep, CLIENT_ID } = require('./support/nodered');

const SOC = 'vehicle.drivetrain.batteryManagement.header';
const VIN = SIM_VINS.bev;

describe('Node-RED account: containers and vehicles survive a restart', function () {
  let sim;
  let userDir;
  let credentials;
  before(async () => {
    sim = await startSimulator({ dailyQuota: 1000 });
  });
  after(() => sim.close());
  beforeEach(async () => {
    userDir = freshUserDir();
    credentials = authorizedCredentials(sim);
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  const calls = () => sim.restCalls().map((c) => `${c.method} ${c.path.replace(VIN, '{vin}').replace(/containers\/\w{13}$/, 'containers/{id}')}`);
  const cacheFile = () => path.join(userDir, 'bmw-cardata-cache.json');

  async function start(extraCredentials = {}) {
    const flow = [
      { id: 'tab', type: 'tab', label: 'cache' },
      accountConfig(sim),
      { id: 't', z: 'tab', type: 'bmw-cardata-telematics', account: 'acc', vin: VIN, containerMode: 'managed', descriptors: [SOC], wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
    ];
    await helper.load(allNodes, flow, { acc: { ...credentials, ...extraCredentials } });
  }
  async function restart(extraCredentials) {
    await helper.unload();
    await start(extraCredentials);
    sim.clearLog();
  }
  async function read() {
    const out = collector(helper.getNode('out'));
    helper.getNode('t').receive({});
    const [msg] = await out.wait(1);
    assert.strictEqual(typeof msg.values[SOC], 'number');
    return msg;
  }

  it('a managed read after a restart costs the read alone: the container is remembered in the user directory', async () => {
    await start();
    sim.clearLog();
    const first = await read();
    assert.deepStrictEqual(calls(), ['GET /customers/containers', 'POST /customers/containers', 'GET /customers/vehicles/{vin}/telematicData']);
    await restart();
    const again = await read();
    assert.strictEqual(again.containerId, first.containerId);
    assert.deepStrictEqual(calls(), ['GET /customers/vehicles/{vin}/telematicData'], 'no container lookup after the restart');
    assert.strictEqual(fs.statSync(cacheFile()).mode & 0o777, 0o600);
    const content = fs.readFileSync(cacheFile(), 'utf8');
    assert.ok(!content.includes(credentials.refreshToken) && !content.includes(credentials.accessToken) && !content.includes(CLIENT_ID), 'no secret in the file');
  });

  it('a remembered container BMW no longer knows is found or created again once, and that one is remembered', async () => {
    await start();
    const first = await read();
    await restart();
    const res = await fetch(`${sim.apiBaseUrl}/customers/containers/${first.containerId}`, { method: 'DELETE', headers: { authorization: `Bearer ${credentials.accessToken}`, 'x-version': 'v1' } });
    assert.ok(res.ok, `deleted at BMW (${res.status})`);
    sim.clearLog();
    const second = await read();
    assert.notStrictEqual(second.containerId, first.containerId);
    assert.deepStrictEqual(calls(), [
      'GET /customers/vehicles/{vin}/telematicData',
      'GET /customers/containers',
      'POST /customers/containers',
      'GET /customers/vehicles/{vin}/telematicData',
    ]);
    await restart();
    assert.strictEqual((await read()).containerId, second.containerId);
    assert.deepStrictEqual(calls(), ['GET /customers/vehicles/{vin}/telematicData']);
  });

  it('another client ID in the same account node does not take the containers remembered for the first', async () => {
    await start();
    await read();
    await restart({ clientId: 'another-client' });
    await read();
    assert.deepStrictEqual(calls(), ['GET /customers/containers', 'GET /customers/vehicles/{vin}/telematicData'], 'looked up again (and found by its name)');
  });

  it('the vehicle list read for the picker is still there after a restart, at no call', async () => {
    await start();
    sim.clearLog();
    const refreshed = await editor().post('/bmw-cardata/acc/vehicles/refresh').send({}).expect(200);
    assert.ok(refreshed.body.vehicles.length > 0);
    await restart();
    const cached = await editor().get('/bmw-cardata/acc/vehicles').expect(200);
    assert.deepStrictEqual(cached.body.vehicles, refreshed.body.vehicles);
    assert.strictEqual(cached.body.fetchedAt, refreshed.body.fetchedAt);
    assert.deepStrictEqual(calls(), []);
  });

  it('a file that is not the cache is ignored with a warning, and entries that are not container IDs are left out', async () => {
    fs.writeFileSync(cacheFile(), 'not json');
    await start();
    sim.clearLog();
    await read();
    assert.deepStrictEqual(calls().slice(0, 1), ['GET /customers/containers']);
    assert.ok(helper.log().getCalls().some((c) => /BMW CarData cache could not be read/.test(String(c.args[0].msg))), 'warned');
    const saved = JSON.parse(fs.readFileSync(cacheFile(), 'utf8'));
    const [key] = Object.keys(saved.accounts.acc.containers);
    saved.accounts.acc.containers[key] = 'javascript:alert(1)';
    await helper.unload();
    fs.writeFileSync(cacheFile(), JSON.stringify(saved));
    await start();
    sim.clearLog();
    await read();
    assert.deepStrictEqual(calls(), ['GET /customers/containers', 'GET /customers/vehicles/{vin}/telematicData'], 'looked up again');
  });

  it('removes the entry when the account node is deleted', async () => {
    await start();
    await read();
    await sleep(20);
    assert.ok(JSON.parse(fs.readFileSync(cacheFile(), 'utf8')).accounts.acc);
    await helper.setFlows([{ id: 'tab', type: 'tab' }], 'full');
    await sleep(50);
    assert.strictEqual(JSON.parse(fs.readFileSync(cacheFile(), 'utf8')).accounts.acc, undefined);
  });
});
