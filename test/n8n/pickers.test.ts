// The n8n node's pickers (the Vehicle field's list and the Descriptors options) through n8n-core's own
// LoadOptionsContext, against the simulator.
import assert from 'assert';
import { LoadOptionsContext } from 'n8n-core';
import { Workflow, NodeApiError } from 'n8n-workflow';
import { SIM_VINS } from '../../src/simulator';
import { authorizedCredentials, additionalData, nodeOf, nodeTypes, runNode, useSimulator } from '../support/n8n-harness';

const node = nodeTypes.types.bmwCarData;

function loadOptionsContext(credentials) {
  const n = nodeOf('bmwCarData', { resource: 'vehicle', operation: 'get' });
  const workflow = new Workflow({ id: 'wf-p', name: 'pickers', nodes: [n], connections: {}, active: false, nodeTypes });
  return new LoadOptionsContext(workflow, n, additionalData(credentials), 'parameters.vin');
}

const searchVehicles = (credentials, filter?: string) => node.methods.listSearch.searchVehicles.call(loadOptionsContext(credentials), filter);
const getDescriptors = (credentials) => node.methods.loadOptions.getDescriptors.call(loadOptionsContext(credentials));

describe('n8n pickers through n8n-core LoadOptionsContext', function () {
  let sim;
  useSimulator({}, (s) => (sim = s));

  describe('Vehicle list', () => {
    it('lists every mapped vehicle as "VIN (mapping)" with the VIN as value, and reads BMW once a day', async () => {
      const creds = authorizedCredentials(sim);
      const { results } = await searchVehicles(creds);
      assert.deepStrictEqual(
        results.find((r) => r.value === SIM_VINS.bev),
        { name: `${SIM_VINS.bev} (primary)`, value: SIM_VINS.bev },
      );
      assert.ok(
        results.some((r) => /\(secondary\)$/.test(r.name)),
        JSON.stringify(results),
      );
      assert.strictEqual(results.length, new Set(results.map((r) => r.value)).size);
      for (const r of results) assert.match(r.value, /^[A-Z0-9]{17}$/);
      assert.deepStrictEqual(
        sim.restCalls().map((c) => c.path),
        ['/customers/vehicles/mappings'],
      );

      sim.clearLog();
      const again = await searchVehicles(creds);
      assert.deepStrictEqual(again, { results });
      assert.strictEqual(sim.restCalls().length, 0, 'the second opening of the list costs no call');
    });

    it('the typed filter narrows the list, whatever its case and surrounding spaces', async () => {
      const creds = authorizedCredentials(sim);
      const all = (await searchVehicles(creds)).results;
      const part = SIM_VINS.bev.slice(5, 12);
      const { results } = await searchVehicles(creds, `  ${part.toLowerCase()} `);
      assert.deepStrictEqual(
        results,
        all.filter((r) => r.value.includes(part)),
      );
      assert.ok(results.length >= 1 && results.length < all.length);
      assert.deepStrictEqual((await searchVehicles(creds, 'NO SUCH VIN')).results, []);
      assert.deepStrictEqual((await searchVehicles(creds, '   ')).results, all);
    });

    it('after Vehicle > Get Many the list costs no call at all', async () => {
      const creds = authorizedCredentials(sim);
      const run = await runNode(creds, { resource: 'vehicle', operation: 'getAll' });
      assert.ifError(run.error);
      sim.clearLog();
      const { results } = await searchVehicles(creds);
      assert.deepStrictEqual(results.map((r) => r.value).sort(), run.items.map((i) => i.json.vin).sort());
      assert.strictEqual(sim.restCalls().length, 0);
    });

    it("BMW's refusal reaches the editor as an n8n API error with BMW's code and the hint", async () => {
      const creds = authorizedCredentials(sim);
      sim.setQuotaUsed(50);
      await assert.rejects(searchVehicles(creds), (e) => {
        assert.ok(e instanceof NodeApiError, e && e.constructor.name);
        assert.match(e.message, /quota/i);
        assert.ok(e.description, 'a hint');
        assert.strictEqual(e.httpCode, '403');
        assert.match(e.message, /CU-429/);
        return true;
      });
    });
  });

  describe('Descriptors options', () => {
    it('offers the catalogue as "Category: Name" options, in the category order, without the keys of dedicated endpoints', async () => {
      const options = await getDescriptors(authorizedCredentials(sim));
      assert.ok(options.length > 200, String(options.length));
      assert.strictEqual(new Set(options.map((o) => o.value)).size, options.length);
      const byId = new Map<string, any>(options.map((o) => [o.value, o]));
      // Served by endpoints of their own: basic data (the whole category), the SIM status.
      assert.strictEqual(byId.get('vehicle.vehicleIdentification.basicVehicleData'), undefined);
      assert.strictEqual(byId.get('vehicle.sim.status'), undefined);
      assert.strictEqual(byId.get('vehicle.vehicle.antiTheftAlarmSystem.alarm.activationTime').name, 'Vehicle Status: AntiTheftAlarm activation time');
      assert.match(
        byId.get('vehicle.drivetrain.batteryManagement.header').name,
        /^BEV PHEV Data: Charging status of high-voltage battery \(state of charge, soc, [^)]*ladestand[^)]*\)$/,
        'with the words people search for',
      );

      const categories = [...new Set(options.map((o) => o.name.slice(0, o.name.indexOf(':'))))];
      assert.deepStrictEqual(
        categories,
        ['Basic Data', 'Vehicle Status', 'Usage Based', 'Events', 'BEV PHEV Data', 'Meta Data', 'Tyre Data', 'CD Contract'].filter((c) =>
          categories.includes(c),
        ),
      );
      assert.ok(categories.includes('BEV PHEV Data'), categories.join());
    });

    it("each option's description gives BMW's text, the unit, and whether the key is streamed too", async () => {
      const options = await getDescriptors(authorizedCredentials(sim));
      const soc = options.find((o) => o.value === 'vehicle.drivetrain.batteryManagement.header');
      assert.ok(soc, 'the state of charge is offered');
      assert.match(soc.description, /^This value indicates the current charging status[^]*[^.]\. Unit: %\. Also streamed$/);
      const care = options.find((o) => o.value === 'vehicle.powertrain.electric.battery.charging.batteryCarePersisted.isPreservingChargingMode');
      assert.strictEqual(
        care.description,
        'Charging to departure time starts as late as possible, to reduce the time where the car has a high SoE (State of Energy)',
      );
      const distance = options.find((o) => o.value === 'vehicle.status.conditionBasedServicesAverageDistancePerDay');
      assert.match(distance.description, /^Condition Based Services\. [^]*\. Unit: km$/);
      assert.strictEqual(sim.restCalls().length, 0, 'the options cost no call');
    });
  });
});
