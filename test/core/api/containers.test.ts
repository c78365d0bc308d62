// Managed containers against the simulator: names from the descriptor set, reuse, the cache, concurrent callers,
// keys missing from the bundled catalogue, and what each step costs.
import assert from 'assert';
import { startSimulator, SIM_VINS } from '../../../src/simulator';
import * as core from '../../../src/node';
import { failure } from '../../support/failure';
import { simulatorAccount } from '../../support/simulator-account';
import type { RememberedContainers } from '../../../src/core';

const { descriptorSetKey, containerNameFor, ensureContainer, DEFAULT_CONTAINER_PREFIX, CarDataError, ContainerMemory } = core;

const SOC = 'vehicle.drivetrain.batteryManagement.header';
const RANGE = 'vehicle.drivetrain.electricEngine.kombiRemainingElectricRange';
const MILEAGE = 'vehicle.vehicle.travelledDistance';

describe('core containers', function () {
  describe('names', () => {
    it('a descriptor set has one short key whatever the order and repetitions, another set another key', () => {
      const key = descriptorSetKey([SOC, RANGE]);
      assert.match(key, /^[0-9a-f]{10}$/);
      assert.strictEqual(descriptorSetKey([RANGE, SOC]), key);
      assert.strictEqual(descriptorSetKey([RANGE, SOC, RANGE]), key);
      assert.notStrictEqual(descriptorSetKey([SOC]), key);
      assert.notStrictEqual(descriptorSetKey([SOC, MILEAGE]), key);
      // Joined with a separator: ["ab", "c"] is not ["a", "bc"].
      assert.notStrictEqual(descriptorSetKey(['ab', 'c']), descriptorSetKey(['a', 'bc']));
    });

    it('the name is the prefix, a dash and the key', () => {
      assert.strictEqual(DEFAULT_CONTAINER_PREFIX, 'cardata-flows');
      assert.strictEqual(containerNameFor([SOC]), `cardata-flows-${descriptorSetKey([SOC])}`);
      assert.strictEqual(containerNameFor([SOC], 'mine'), `mine-${descriptorSetKey([SOC])}`);
    });
  });

  describe('memory a host keeps', () => {
    it('starts with the remembered IDs (text only) and tells every real change, not a repeat', () => {
      const told = [];
      const m = new ContainerMemory({ a: 'CABCDEFGHJ123', b: '', c: 5 } as unknown as RememberedContainers, (all) => told.push(all));
      assert.deepStrictEqual([...m], [['a', 'CABCDEFGHJ123']]);
      assert.deepStrictEqual(told, [], 'loading is no change');
      m.set('a', 'CABCDEFGHJ123');
      assert.deepStrictEqual(told, [], 'the same ID again is no change');
      m.set('d', 'CABCDEFGHJ124');
      m.set('a', 'CABCDEFGHJ125');
      assert.strictEqual(m.delete('x'), false);
      assert.strictEqual(m.delete('d'), true);
      m.clear();
      m.clear();
      assert.deepStrictEqual(told, [{ a: 'CABCDEFGHJ123', d: 'CABCDEFGHJ124' }, { a: 'CABCDEFGHJ125', d: 'CABCDEFGHJ124' }, { a: 'CABCDEFGHJ125' }, {}]);
      const quiet = new ContainerMemory();
      quiet.set('k', 'v');
      assert.strictEqual(quiet.get('k'), 'v');
    });
  });

  describe('against the simulator', () => {
    let sim;
    beforeEach(async () => {
      sim = await startSimulator({ dailyQuota: 1000 });
    });
    afterEach(() => sim.close());

    const accountFor = () => simulatorAccount(sim, { clientId: 'containers-client', sleep: async () => {} });
    const calls = () => sim.restCalls().map((c) => `${c.method} ${c.path}`);

    it("creates the container with the set's name, the purpose, and the descriptors sorted; remembers it", async () => {
      const { client } = accountFor();
      const made = await client.ensureContainer([RANGE, SOC], { namePrefix: 'fleet', purpose: 'dashboard' });
      assert.deepStrictEqual(
        { name: made.name, created: made.created, fromCache: made.fromCache, key: made.key },
        { name: containerNameFor([SOC, RANGE], 'fleet'), created: true, fromCache: false, key: containerNameFor([SOC, RANGE], 'fleet') },
      );
      const details = await client.getContainer(made.containerId);
      assert.strictEqual(details.name, made.name);
      assert.strictEqual(details.purpose, 'dashboard');
      assert.deepStrictEqual(details.technicalDescriptors, [SOC, RANGE].sort());
      assert.strictEqual(client.containerCache.get(made.key), made.containerId);
    });

    it('without a purpose, the package names itself as the purpose', async () => {
      const { client } = accountFor();
      const made = await client.ensureContainer([SOC]);
      assert.strictEqual((await client.getContainer(made.containerId)).purpose, 'n8n-nodes-bmw-cardata');
    });

    it('finds an ACTIVE container of the same set by listing, and skips deleted ones and other sets', async () => {
      const first = accountFor().client;
      const made = await first.ensureContainer([SOC, RANGE]);
      // Another set under another name, and a deleted container with the very name.
      await first.ensureContainer([MILEAGE]);
      const gone = await first.createContainer({ name: made.name, purpose: 'old', technicalDescriptors: [SOC, RANGE] });
      await first.deleteContainer(gone.containerId);
      sim.clearLog();
      const { client } = accountFor();
      const found = await client.ensureContainer([RANGE, SOC]);
      assert.deepStrictEqual([found.containerId, found.created, found.fromCache], [made.containerId, false, false]);
      assert.deepStrictEqual(calls(), ['GET /customers/containers'], 'one call: the list');
      assert.strictEqual(client.containerCache.get(found.key), made.containerId);
      sim.clearLog();
      const again = await client.ensureContainer([SOC, RANGE]);
      assert.deepStrictEqual([again.containerId, again.fromCache, again.created], [made.containerId, true, false]);
      assert.deepStrictEqual(calls(), [], 'from the cache: no call');
    });

    it('starts with the containers a host kept and tells it every change: a new process reads at one call', async () => {
      const kept = [];
      const accountWith = (containers) =>
        simulatorAccount(sim, { clientId: 'containers-client', sleep: async () => {}, containers, onContainers: (c) => kept.push(c) });
      const first = accountWith(undefined).client;
      const made = await first.getTelematicValues(SIM_VINS.bev, [SOC]);
      assert.deepStrictEqual(kept, [{ [containerNameFor([SOC])]: made.containerId }], 'told once, when found');
      sim.clearLog();
      const next = accountWith(kept[0]).client;
      assert.strictEqual((await next.getTelematicValues(SIM_VINS.bev, [SOC])).containerId, made.containerId);
      assert.deepStrictEqual(calls(), [`GET /customers/vehicles/${SIM_VINS.bev}/telematicData`], 'no lookup');
      assert.strictEqual(kept.length, 1, 'a read from memory changes nothing');
      await next.deleteContainer(made.containerId);
      assert.deepStrictEqual(kept[1], {}, 'a deleted container is forgotten');
    });

    it('a deleted container of the set is not reused: a new one is created', async () => {
      const first = accountFor().client;
      const made = await first.ensureContainer([SOC]);
      await first.deleteContainer(made.containerId);
      assert.strictEqual(first.containerCache.size, 0, 'deleting forgets it');
      const again = await accountFor().client.ensureContainer([SOC]);
      assert.notStrictEqual(again.containerId, made.containerId);
      assert.strictEqual(again.created, true);
    });

    it('concurrent callers for one set share one lookup and one creation; the next call after them looks again', async () => {
      const { client } = accountFor();
      const results = await Promise.all([client.ensureContainer([SOC]), client.ensureContainer([SOC]), client.ensureContainer([SOC])]);
      assert.ok(results.every((r) => r.containerId === results[0].containerId));
      assert.deepStrictEqual(calls(), ['GET /customers/containers', 'POST /customers/containers']);
      client.containerCache.clear();
      sim.clearLog();
      const later = await client.ensureContainer([SOC]);
      assert.strictEqual(later.containerId, results[0].containerId);
      assert.deepStrictEqual(calls(), ['GET /customers/containers'], 'the shared lookup was forgotten when it ended');
    });

    it('a failed lookup is shared by its concurrent callers and not kept', async () => {
      const { client } = accountFor();
      const api = {
        containerCache: new Map(),
        listCalls: 0,
        async listContainers() {
          this.listCalls += 1;
          if (this.listCalls === 1) throw new CarDataError({ kind: 'network', message: 'down' });
          return client.listContainers();
        },
        createContainer: (r) => client.createContainer(r),
      };
      const both = await Promise.allSettled([ensureContainer(api, [SOC]), ensureContainer(api, [SOC])]);
      assert.deepStrictEqual(
        both.map((r) => r.status),
        ['rejected', 'rejected'],
      );
      assert.strictEqual((both[0] as PromiseRejectedResult).reason, (both[1] as PromiseRejectedResult).reason);
      assert.strictEqual(api.listCalls, 1);
      const ok = await ensureContainer(api, [SOC]);
      assert.strictEqual(ok.created, true);
      assert.strictEqual(api.listCalls, 2);
    });

    it('BMW creating a container without an ID is an error, and nothing is remembered', async () => {
      const api = {
        containerCache: new Map(),
        listContainers: async () => [],
        createContainer: async () => ({ name: 'x' }),
      };
      const err = await failure(ensureContainer(api, [SOC]));
      assert.ok(err instanceof CarDataError);
      assert.deepStrictEqual([err.kind, err.operation], ['bmw', 'createContainer']);
      assert.match(err.message, /no containerId/);
      assert.strictEqual(api.containerCache.size, 0);
    });

    it('CU-124 names how many containers the account holds and how many are active', async () => {
      const { client } = accountFor();
      for (let i = 0; i < 10; i += 1) {
        const c = await client.createContainer({ name: `c${i}`, purpose: 'fill', technicalDescriptors: [SOC] });
        if (i < 3) await client.deleteContainer(c.containerId);
      }
      const err = await failure(client.ensureContainer([RANGE]));
      assert.deepStrictEqual([err.kind, err.exveErrorId, err.operation, err.status], ['bmw', 'CU-124', 'createContainer', 403]);
      const listed = await client.listContainers();
      const active = listed.filter((c) => c.state === 'ACTIVE').length;
      assert.strictEqual(err.message, `BMW CarData error CU-124: no room for a new container (${listed.length} on the account, ${active} active)`);
      assert.ok(err.bmwMessage);
    });

    it('other errors of the creation pass through unchanged', async () => {
      const original = new CarDataError({ kind: 'bmw', exveErrorId: 'CU-400', message: 'bad' });
      const api = { containerCache: new Map(), listContainers: async () => [], createContainer: async () => Promise.reject(original) };
      assert.strictEqual(await failure(ensureContainer(api, [SOC])), original);
    });

    it('keys missing from the bundled catalogue: refused before any call, or sent to BMW when allowed', async () => {
      const unknown = 'vehicle.some.newer.key';
      const { client } = accountFor();
      const refused = await failure(client.getTelematicValues(SIM_VINS.bev, [unknown]));
      assert.deepStrictEqual([refused.kind, refused.parameter], ['input', 'descriptors']);
      assert.deepStrictEqual(calls(), []);
      // Allowed: the container is created with the key, and BMW (here the simulator, which knows only the
      // catalogue) decides: it answers CU-402.
      const sent = await failure(client.getTelematicValues(SIM_VINS.bev, [unknown], { allowUnknown: true }));
      assert.strictEqual(sent.exveErrorId, 'CU-402');
      assert.deepStrictEqual(calls(), ['GET /customers/containers', 'POST /customers/containers']);
    });
  });
});
