// What the account remembers across a restart of Node-RED (node-red-node-test-helper: unload, then load on the same
// user directory): the containers found and the mapped vehicles, so neither costs a call again.
import assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import {
  helper,
  editor,
  allNodes,
  accountConfig,
  authorizedCredentials,
  collector,
  freshUserDir,
  sleep,
  lastStatus,
  CLIENT_ID,
  serverPerTest,
} from '../support/nodered';
import { SOC } from '../../src/simulator/descriptor-names';

const VIN = SIM_VINS.bev;

describe('Node-RED account cache', function () {
  let sim;
  let userDir;
  let credentials;
  before(async () => {
    sim = await startSimulator({ dailyQuota: 1000 });
  });
  after(() => sim.close());
  serverPerTest(async () => {
    userDir = freshUserDir();
    credentials = authorizedCredentials(sim);
  });

  describe('Node-RED account: containers and vehicles survive a restart', function () {
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
    async function restart(extraCredentials?: Record<string, unknown>) {
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
      assert.ok(
        !content.includes(credentials.refreshToken) && !content.includes(credentials.accessToken) && !content.includes(CLIENT_ID),
        'no secret in the file',
      );
    });

    it('a remembered container BMW no longer knows is found or created again once, and that one is remembered', async () => {
      await start();
      const first = await read();
      await restart();
      const res = await fetch(`${sim.apiBaseUrl}/customers/containers/${first.containerId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${credentials.accessToken}`, 'x-version': 'v1' },
      });
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
      assert.ok(
        helper
          .log()
          .getCalls()
          .some((c) => /BMW CarData cache could not be read/.test(String(c.args[0].msg))),
        'warned',
      );
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

  describe('Node-RED: answers that stay the same all day are read once per account', function () {
    const cacheFile = () => path.join(userDir, 'bmw-cardata-cache.json');

    /** Basic data wired to the image, and a second basic-data node of the same account with its own cache setting. */
    async function start({ cacheMaxAge = '' } = {}) {
      const flow = [
        { id: 'tab', type: 'tab', label: 'answers' },
        accountConfig(sim),
        { id: 'b', z: 'tab', type: 'bmw-cardata-basic-data', account: 'acc', vin: VIN, wires: [['i']] },
        { id: 'i', z: 'tab', type: 'bmw-cardata-image', account: 'acc', vin: VIN, wires: [['out']] },
        { id: 'b2', z: 'tab', type: 'bmw-cardata-basic-data', account: 'acc', vin: VIN, cacheMaxAge, wires: [['out2']] },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'out2', z: 'tab', type: 'helper' },
        { id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
      ].map((n, i) => (n.z ? { x: 100, y: 40 * (i + 1), ...n } : n));
      await helper.load(allNodes, flow, { acc: { ...credentials } });
    }
    async function run(id = 'b', out = 'out', msg = {}) {
      const got = collector(helper.getNode(out));
      helper.getNode(id).receive(msg);
      const [answer] = await got.wait(1);
      return answer;
    }
    const served = () => sim.restCalls().map((c) => c.path.replace(VIN, '{vin}'));

    it('a second run within the day costs no call, says fromCache with its age, and so does the other node of the account', async () => {
      await start();
      sim.clearLog();
      const first = await run();
      assert.deepStrictEqual(served(), ['/customers/vehicles/{vin}/basicData', '/customers/vehicles/{vin}/image']);
      assert.strictEqual(first.quota.fromCache, false);
      assert.ok(Buffer.isBuffer(first.payload) && first.payload.length > 0);
      await sleep(1100);
      sim.clearLog();
      const second = await run();
      assert.deepStrictEqual(served(), [], 'BMW was not asked again');
      assert.strictEqual(second.quota.fromCache, true);
      assert.ok(second.quota.cacheAgeSeconds >= 1, `age ${second.quota.cacheAgeSeconds}`);
      assert.strictEqual(second.quota.used, first.quota.used, 'nothing counted');
      assert.ok(second.payload.equals(first.payload), 'the same image');
      assert.strictEqual(second.contentType, first.contentType);
      const other = await run('b2', 'out2');
      assert.deepStrictEqual(served(), []);
      assert.strictEqual(other.quota.fromCache, true);
      assert.strictEqual(other.payload.vin, VIN);
      await sleep(20);
      assert.match(lastStatus(helper.getNode('b2')).text, /from cache, \d+ s old/);
    });

    it('with "Cache up to" 0 (or msg.cacheMaxAge 0) the node asks BMW', async () => {
      await start({ cacheMaxAge: '0' });
      await run();
      sim.clearLog();
      const fresh = await run('b2', 'out2');
      assert.deepStrictEqual(served(), ['/customers/vehicles/{vin}/basicData']);
      assert.strictEqual(fresh.quota.fromCache, false);
      sim.clearLog();
      const byMsg = await run('b', 'out', { cacheMaxAge: 0 });
      assert.deepStrictEqual(served(), ['/customers/vehicles/{vin}/basicData', '/customers/vehicles/{vin}/image']);
      assert.strictEqual(byMsg.quota.fromCache, false);
    });

    it('"Cache up to" shorter than the answer\'s age asks BMW; a setting that is no duration is refused before any call', async () => {
      await start({ cacheMaxAge: '1s' });
      await run();
      await sleep(1100);
      sim.clearLog();
      await run('b2', 'out2');
      assert.deepStrictEqual(served(), ['/customers/vehicles/{vin}/basicData']);
      sim.clearLog();
      const caught = collector(helper.getNode('caught'));
      helper.getNode('b').receive({ cacheMaxAge: 'soon' });
      const [err] = await caught.wait(1);
      assert.match(err.error.message, /Answer from cache up to" must be a duration/);
      assert.deepStrictEqual(served(), []);
    });

    it('survives a restart, and an answer older than its lifetime is asked again', async () => {
      await start();
      await run();
      await helper.unload();
      await start();
      sim.clearLog();
      const again = await run();
      assert.deepStrictEqual(served(), [], 'no call after the restart');
      assert.strictEqual(again.quota.fromCache, true);
      // A day and an hour later (the kept answers made older in the file): basic data and the image are asked again.
      await helper.unload();
      const saved = JSON.parse(fs.readFileSync(cacheFile(), 'utf8'));
      const answers = saved.accounts.acc.answers;
      assert.deepStrictEqual(Object.keys(answers).sort(), [`getBasicData /customers/vehicles/${VIN}/basicData`, `getImage /customers/vehicles/${VIN}/image`]);
      for (const a of Object.values<any>(answers)) a.at -= 25 * 3600_000;
      fs.writeFileSync(cacheFile(), JSON.stringify(saved));
      await start();
      sim.clearLog();
      const later = await run();
      assert.deepStrictEqual(served(), ['/customers/vehicles/{vin}/basicData', '/customers/vehicles/{vin}/image']);
      assert.strictEqual(later.quota.fromCache, false);
      const content = fs.readFileSync(cacheFile(), 'utf8');
      assert.ok(
        !content.includes(credentials.refreshToken) && !content.includes(credentials.accessToken) && !content.includes(CLIENT_ID),
        'no secret in the file',
      );
    });
  });
});
