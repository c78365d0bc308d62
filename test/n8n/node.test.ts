import assert from 'assert';
import { SIM_VINS } from '../../src/simulator';
import { refreshTokens, AxiosTransport, nodeSleep } from '../../src/node';
import { runNode, authorizedCredentials, MemoryCredentialsHelper, useSimulator } from '../support/n8n-harness';
import { BmwCarData } from '../../nodes/BmwCarData/BmwCarData.node.js';
import { BmwCarDataTrigger } from '../../nodes/BmwCarDataTrigger/BmwCarDataTrigger.node.js';
import { BmwCarDataStreamTrigger } from '../../nodes/BmwCarDataStreamTrigger/BmwCarDataStreamTrigger.node.js';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

const VIN = SIM_VINS.bev;
const vin = (value: string = VIN) => ({ __rl: true, mode: 'vin', value });
// Every session of the simulator: from 2000 to tomorrow (the client refuses dates more than a year ahead).
const ALL_TIME = { range: 'custom', from: '2000-01-01T00:00:00Z', to: new Date(Date.now() + 86_400_000).toISOString() };

describe('n8n node bmwCarData through n8n-core', function () {
  let sim;
  useSimulator({ chargingSessions: 60, chargingPageSize: 10, settingsPageSize: 2 }, (s) => (sim = s));

  it("n8n's node panel shows the node and its trigger as one entry, under the trigger's description: it says what the node does", () => {
    const [node, trigger, stream] = [new BmwCarData(), new BmwCarDataTrigger(), new BmwCarDataStreamTrigger()].map((n) => n.description);
    // n8n's node creator (2.x) merges a trigger into the node named like it without "Trigger" and shows the
    // trigger's description for the entry.
    const entry = (t) => (t.name.replace('Trigger', '') === node.name ? t.description : undefined);
    assert.ok(entry(trigger).startsWith(node.description), `the panel shows "${entry(trigger)}"`);
    assert.match(entry(trigger), /start a workflow for each charging session a vehicle has finished$/);
    assert.strictEqual(entry(stream), undefined, 'the stream trigger has its own entry');
  });

  describe('operations', () => {
    it('Vehicle > Get Many lists the mapped vehicles, one item each, with the quota', async () => {
      const { items, error } = await runNode(authorizedCredentials(sim), { resource: 'vehicle', operation: 'getAll' });
      assert.ifError(error);
      assert.ok(items.length >= 2);
      assert.ok(items.some((i) => i.json.vin === VIN));
      for (const item of items) assert.deepStrictEqual(item.pairedItem, { item: 0 });
      assert.deepStrictEqual(Object.keys(items[0].json._quota).sort(), ['fromCache', 'limit', 'remaining', 'resetsAt', 'used']);
      assert.strictEqual(items[0].json._quota.fromCache, false);
      assert.strictEqual(items[0].json._quota.used, 1);
      assert.strictEqual(items[0].json._quota.limit, 50);
      assert.strictEqual(sim.restCalls().length, 1);
    });

    it('Vehicle > Get returns the basic data of the VIN chosen from the list mode', async () => {
      const { items, error } = await runNode(authorizedCredentials(sim), {
        resource: 'vehicle',
        operation: 'get',
        vin: { __rl: true, mode: 'list', value: VIN },
      });
      assert.ifError(error);
      assert.strictEqual(items.length, 1);
      assert.strictEqual(items[0].json.vin, VIN);
      assert.ok(items[0].json.brand);
      assert.strictEqual(sim.restCalls()[0].path, `/customers/vehicles/${VIN}/basicData`);
    });

    it('no vehicle picked: one set of items per PRIMARY car, one call each, each with its VIN and name; a picked VIN still picks one', async () => {
      const creds = authorizedCredentials(sim, { vehicleNames: `${SIM_VINS.phev}=Family car` });
      const empty = { __rl: true, mode: 'list', value: '' };
      const tyres = await runNode(creds, { resource: 'tyreDiagnosis', operation: 'get', vin: empty });
      assert.ifError(tyres.error);
      assert.deepStrictEqual(tyres.items.map((i) => i.json.vin).sort(), [SIM_VINS.bev, SIM_VINS.phev].sort(), 'both PRIMARY cars, not the SECONDARY one');
      assert.deepStrictEqual(
        sim
          .restCalls()
          .map((c) => c.path)
          .sort(),
        [
          '/customers/vehicles/mappings',
          `/customers/vehicles/${SIM_VINS.bev}/smartMaintenanceTyreDiagnosis`,
          `/customers/vehicles/${SIM_VINS.phev}/smartMaintenanceTyreDiagnosis`,
        ].sort(),
      );
      const byVin = Object.fromEntries(tyres.items.map((i) => [i.json.vin, i.json]));
      assert.strictEqual(byVin[SIM_VINS.phev].vehicleName, 'Family car');
      assert.strictEqual(byVin[SIM_VINS.bev].vehicleName, SIM_VINS.bev, 'no name known yet: the VIN');
      for (const item of tyres.items) assert.deepStrictEqual(item.pairedItem, { item: 0 });

      // Basic data names the car by its model for later items, at no call of its own; the list stays cached.
      sim.clearLog();
      const basic = await runNode(creds, { resource: 'vehicle', operation: 'get', vin: empty, options: { cacheMaxAge: '0' } });
      assert.ifError(basic.error);
      assert.strictEqual(basic.items.length, 2);
      assert.strictEqual(sim.restCalls().length, 2, 'one call per car, the vehicle list from the cache');
      assert.strictEqual(basic.items.find((i) => i.json.vin === SIM_VINS.bev).json.vehicleName, 'i4 eDrive40');

      sim.clearLog();
      const one = await runNode(creds, { resource: 'tyreDiagnosis', operation: 'get', vin: vin(SIM_VINS.phev), options: { cacheMaxAge: '0' } });
      assert.ifError(one.error);
      assert.deepStrictEqual(
        one.items.map((i) => [i.json.vin, i.json.vehicleName]),
        [[SIM_VINS.phev, 'Family car']],
      );
      assert.strictEqual(sim.restCalls().length, 1);
    });

    it('Telematic Data > Get manages the container and remembers it in static data (next run: one call)', async () => {
      const creds = authorizedCredentials(sim);
      const params = {
        resource: 'telematicData',
        operation: 'get',
        vin: vin(),
        containerMode: 'managed',
        descriptors: ['vehicle.drivetrain.batteryManagement.header', 'vehicle.vehicle.travelledDistance'],
      };
      const staticData = {};
      const first = await runNode(creds, params, { staticData });
      assert.ifError(first.error);
      assert.match(first.items[0].json.containerId, /^.{13}$/);
      assert.ok(first.items[0].json.telematicData['vehicle.drivetrain.batteryManagement.header']);
      const firstCalls = sim.restCalls().map((c) => `${c.method} ${c.path}`);
      assert.ok(firstCalls.includes('POST /customers/containers'), firstCalls.join());
      sim.clearLog();
      const second = await runNode(creds, { ...params, options: { simplify: true } }, { staticData: first.staticData });
      assert.ifError(second.error);
      assert.deepStrictEqual(
        sim.restCalls().map((c) => c.path),
        [`/customers/vehicles/${VIN}/telematicData`],
      );
      assert.strictEqual(second.items[0].json.containerId, first.items[0].json.containerId);
      assert.notStrictEqual(second.items[0].json['vehicle.vehicle.travelledDistance'], undefined);

      sim.clearLog();
      const byId = await runNode(creds, {
        resource: 'telematicData',
        operation: 'get',
        vin: vin(),
        containerMode: 'id',
        containerId: first.items[0].json.containerId,
      });
      assert.ifError(byId.error);
      assert.strictEqual(sim.restCalls().length, 1);
      assert.ok(byId.items[0].json.telematicData['vehicle.drivetrain.batteryManagement.header']);
    });

    it('Telematic Data > Get: an execution that starts without the static data (queue mode) reuses the container this n8n process found', async () => {
      const creds = authorizedCredentials(sim);
      const params = { resource: 'telematicData', operation: 'get', vin: vin(), containerMode: 'managed', descriptors: ['vehicle.cabin.door.lock.status'] };
      const first = await runNode(creds, params, { staticData: {} });
      assert.ifError(first.error);
      sim.clearLog();
      // An n8n worker hands a new execution no static data: only the process remembers the container.
      const second = await runNode(creds, params, { staticData: {} });
      assert.ifError(second.error);
      assert.deepStrictEqual(
        sim.restCalls().map((c) => c.path),
        [`/customers/vehicles/${VIN}/telematicData`],
      );
      assert.strictEqual(second.items[0].json.containerId, first.items[0].json.containerId);
    });

    it("Telematic Data > Get: the container is kept in the workflow's static data under a hash of the account, read back by an n8n process that has not seen it", async () => {
      const hash = (gcid) => createHash('sha256').update(gcid).digest('hex').slice(0, 16);
      const params = { resource: 'telematicData', operation: 'get', vin: vin(), containerMode: 'managed', descriptors: ['vehicle.cabin.door.status'] };
      const creds = authorizedCredentials(sim);
      const first = await runNode(creds, params, { staticData: {} });
      assert.ifError(first.error);
      const kept = first.staticData.global[`bmwCarDataContainers:${hash(creds.data.gcid)}`];
      assert.deepStrictEqual(Object.values(kept), [first.items[0].json.containerId]);
      // Another account of this client: this process has found no container for it, its workflow's static data has.
      const other = authorizedCredentials(sim);
      sim.clearLog();
      const second = await runNode(other, params, { staticData: { global: { [`bmwCarDataContainers:${hash(other.data.gcid)}`]: kept } } });
      assert.ifError(second.error);
      assert.deepStrictEqual(
        sim.restCalls().map((c) => c.path),
        [`/customers/vehicles/${VIN}/telematicData`],
      );
      assert.strictEqual(second.items[0].json.containerId, first.items[0].json.containerId);
    });

    it('Charging History > Get Many with Return All follows every page, one flat item per session', async () => {
      const { items, error } = await runNode(authorizedCredentials(sim), {
        resource: 'chargingHistory',
        operation: 'getAll',
        vin: vin(),
        ...ALL_TIME,
        returnAll: true,
      });
      assert.ifError(error);
      assert.strictEqual(items.length, 60);
      const pages = sim.restCalls().length;
      assert.strictEqual(pages, 6);
      const row = items[0].json;
      for (const key of ['vin', 'start', 'end', 'energyFromGridKwh', 'startSoc', 'endSoc', 'municipality', 'mileage']) assert.ok(key in row, key);
      for (const value of Object.values(row)) assert.ok(value === null || ['string', 'number', 'boolean'].includes(typeof value), 'flat values only');
      assert.strictEqual(row._quota, undefined, 'no quota column in CSV rows by default');
    });

    it('Flat Rows carry _quota with Include Quota on, as the README says', async () => {
      const { items, error } = await runNode(authorizedCredentials(sim), {
        resource: 'chargingHistory',
        operation: 'getAll',
        vin: vin(),
        ...ALL_TIME,
        returnAll: false,
        limit: 3,
        options: { includeQuota: true },
      });
      assert.ifError(error);
      assert.strictEqual(items.length, 3);
      assert.ok(
        items.every((item) => 'start' in item.json && item.json._quota && item.json._quota.used === 1),
        'flat rows, each with the quota',
      );
      const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8').replace(/\s+/g, ' ');
      assert.match(
        readme,
        /Items carry `_quota` \(used, limit, remaining, resetsAt\), except the Flat Rows of Charging History and Charging Settings, .* when the option \*Include Quota\* is on/,
      );
    });

    it('Charging History > Get Many with a Limit stops paging at the limit; raw output keeps BMW fields', async () => {
      const { items, error } = await runNode(authorizedCredentials(sim), {
        resource: 'chargingHistory',
        operation: 'getAll',
        vin: vin(),
        ...ALL_TIME,
        returnAll: false,
        limit: 15,
        options: { output: 'raw', includeQuota: true },
      });
      assert.ifError(error);
      assert.strictEqual(items.length, 15);
      assert.strictEqual(sim.restCalls().length, 2);
      assert.strictEqual(typeof items[0].json.startTime, 'number');
      assert.strictEqual(items[14].json._quota.used, 2);
    });

    it('Charging History reads a relative range (last month) in the chosen time zone, and says which', async () => {
      const { error, run } = await runNode(authorizedCredentials(sim), {
        resource: 'chargingHistory',
        operation: 'getAll',
        vin: vin(),
        range: 'lastMonth',
        returnAll: false,
        limit: 1,
        options: { timeZone: 'Europe/Berlin' },
      });
      assert.ifError(error);
      const { from, to } = sim.restCalls()[0].query;
      assert.deepStrictEqual(run.data.resultData.runData['BMW CarData'][0].hints, [
        { message: `Charging sessions from ${from} to ${to} (periods in Europe/Berlin)`, location: 'outputPane' },
      ]);
      assert.match(from, /T2[23]:00:00Z$/, from); // midnight in Berlin is 22:00 or 23:00 UTC
      assert.match(to, /T2[23]:00:00Z$/, to);
      const days = (Date.parse(to) - Date.parse(from)) / 86400000;
      assert.ok(days >= 28 && days <= 31.1, String(days));
    });

    it('Charging History converts custom dates from the picker (no offset) in the time zone', async () => {
      const { error } = await runNode(authorizedCredentials(sim), {
        resource: 'chargingHistory',
        operation: 'getAll',
        vin: vin(),
        range: 'custom',
        from: '2026-01-01T00:00:00',
        to: '2026-01-31T00:00:00',
        returnAll: true,
        options: { timeZone: 'Europe/Berlin' },
      });
      assert.ifError(error);
      assert.deepStrictEqual(sim.restCalls()[0].query.from, '2025-12-31T23:00:00Z');
    });

    it('Charging History takes custom dates from an expression ($now) as instants, sent in UTC', async () => {
      const before = Date.now();
      const { error } = await runNode(authorizedCredentials(sim), {
        resource: 'chargingHistory',
        operation: 'getAll',
        vin: vin(),
        range: 'custom',
        from: "={{ $now.setZone('Asia/Tokyo').minus({ days: 3 }) }}",
        to: '={{ $now }}',
        returnAll: true,
        options: { timeZone: 'America/New_York' },
      });
      assert.ifError(error);
      const { from, to } = sim.restCalls()[0].query;
      assert.match(from, /Z$/);
      assert.ok(Math.abs(Date.parse(from) - (before - 3 * 86_400_000)) < 60_000, from);
      assert.ok(Math.abs(Date.parse(to) - before) < 60_000, to);
    });

    it('Charging Settings > Get Many: Return All and Limit over the page token, flat rows', async () => {
      const all = await runNode(authorizedCredentials(sim), { resource: 'chargingSettings', operation: 'getAll', vin: vin(), returnAll: true });
      assert.ifError(all.error);
      assert.ok(all.items.length > 2, 'more than one page');
      assert.strictEqual(sim.restCalls().length, Math.ceil(all.items.length / 2));
      assert.strictEqual(typeof all.items[0].json.chargingWindow, 'string');
      sim.clearLog();
      const one = await runNode(authorizedCredentials(sim), { resource: 'chargingSettings', operation: 'getAll', vin: vin(), returnAll: false, limit: 1 });
      assert.strictEqual(one.items.length, 1);
      assert.strictEqual(sim.restCalls().length, 1);
    });

    it('Tyre Diagnosis > Get', async () => {
      const { items, error } = await runNode(authorizedCredentials(sim), { resource: 'tyreDiagnosis', operation: 'get', vin: vin() });
      assert.ifError(error);
      assert.strictEqual(items.length, 1);
      assert.ok(Object.keys(items[0].json).length > 1);
      assert.strictEqual(sim.restCalls()[0].path, `/customers/vehicles/${VIN}/smartMaintenanceTyreDiagnosis`);
    });

    it('Image > Get returns binary data named <VIN>.png with its MIME type', async () => {
      const { items, error } = await runNode(authorizedCredentials(sim), { resource: 'image', operation: 'get', vin: vin(), binaryPropertyName: 'picture' });
      assert.ifError(error);
      const bin = items[0].binary.picture;
      assert.strictEqual(bin.mimeType, 'image/png');
      assert.strictEqual(bin.fileName, `${VIN}.png`);
      assert.ok(items[0].json.bytes > 100);
      const raw = Buffer.from(bin.data, 'base64');
      assert.deepStrictEqual([...raw.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    });

    it('Container > Create, Get, Get Many, Delete', async () => {
      const creds = authorizedCredentials(sim);
      const created = await runNode(creds, {
        resource: 'container',
        operation: 'create',
        name: 'n8n test',
        descriptors: ['vehicle.vehicle.travelledDistance'],
      });
      assert.ifError(created.error);
      const id = created.items[0].json.containerId;
      assert.match(id, /^.{13}$/);
      const got = await runNode(creds, { resource: 'container', operation: 'get', containerId: id });
      assert.deepStrictEqual(got.items[0].json.technicalDescriptors, ['vehicle.vehicle.travelledDistance']);
      const list = await runNode(creds, { resource: 'container', operation: 'getAll' });
      assert.ok(list.items.some((i) => i.json.containerId === id));
      const deleted = await runNode(creds, { resource: 'container', operation: 'delete', containerId: id });
      assert.strictEqual(deleted.items[0].json.deleted, true);
      assert.strictEqual(deleted.items[0].json.alreadyDeleted, false);
      const again = await runNode(creds, { resource: 'container', operation: 'delete', containerId: id });
      assert.strictEqual(again.items[0].json.alreadyDeleted, true);
    });
  });

  describe('errors', () => {
    it("BMW's error reaches the user as NodeApiError with its CU code and hint", async () => {
      const { error } = await runNode(authorizedCredentials(sim), { resource: 'image', operation: 'get', vin: vin(SIM_VINS.phev), binaryPropertyName: 'data' });
      assert.ok(error);
      assert.strictEqual(error.name, 'NodeApiError');
      assert.match(error.message, /CU-126/);
      assert.match(error.description, /no image/i);
    });

    it('a malformed VIN is refused before any request (NodeOperationError)', async () => {
      // A typed VIN is checked by the editor; one from an expression is checked before the request.
      const { error } = await runNode(authorizedCredentials(sim), { resource: 'vehicle', operation: 'get', vin: vin('={{ "abc" }}') });
      assert.strictEqual(error.name, 'NodeOperationError');
      assert.match(error.message, /VIN/);
      assert.strictEqual(sim.restCalls().length, 0);
    });

    it('continueOnFail: the failing item carries code and hint, the next item still runs, each paired', async () => {
      const { items, error } = await runNode(
        authorizedCredentials(sim),
        { resource: 'vehicle', operation: 'get', vin: { __rl: true, mode: 'vin', value: '={{ $json.vin }}' } },
        { items: [{ json: { vin: SIM_VINS.unmapped } }, { json: { vin: VIN } }], nodeExtra: { onError: 'continueRegularOutput' } },
      );
      assert.ifError(error);
      assert.strictEqual(items.length, 2);
      assert.strictEqual(items[0].json.code, 'CU-104');
      assert.ok(items[0].json.hint);
      assert.deepStrictEqual(items[0].pairedItem, { item: 0 });
      assert.strictEqual(items[1].json.vin, VIN);
      assert.deepStrictEqual(items[1].pairedItem, { item: 1 });
    });

    it('custom dates that are not dates are refused before any call, naming the field, with the hint', async () => {
      const params = { resource: 'chargingHistory', operation: 'getAll', vin: vin(), range: 'custom', returnAll: true };
      const { items, error } = await runNode(
        authorizedCredentials(sim),
        { ...params, from: '={{ $json.from }}', to: '={{ $json.to }}' },
        {
          items: [
            { json: { from: 'yesterday at noon, or so, said the person who filled in the form', to: '2026-01-31T00:00:00' } },
            { json: { from: '2026-01-01T00:00:00', to: '   ' } },
          ],
          nodeExtra: { onError: 'continueRegularOutput' },
        },
      );
      assert.ifError(error);
      assert.deepStrictEqual(
        items.map((i) => [i.json.error, i.json.code, i.json.kind, i.json.hint]),
        [
          ['From is not a date: yesterday at noon, or so, said the perso', 'input', 'input', 'Pick a date or give an ISO 8601 date-time.'],
          ['To is not a date: empty', 'input', 'input', 'Pick a date or give an ISO 8601 date-time.'],
        ],
      );
      assert.strictEqual(sim.restCalls().length, 0);
      const stopped = await runNode(authorizedCredentials(sim), { ...params, from: '2026-13-45T00:00:00', to: '2026-01-31T00:00:00' });
      assert.strictEqual(stopped.error.name, 'NodeOperationError');
      assert.strictEqual(stopped.error.message, 'From is not a date: 2026-13-45T00:00:00');
      assert.strictEqual(stopped.error.description, 'Pick a date or give an ISO 8601 date-time.');
    });

    it('a dead login with continueOnFail: the item says it is the login, with the OAuth code and the hint', async () => {
      const creds = authorizedCredentials(sim, { accessToken: '', refreshToken: 'not-a-valid-refresh-token' });
      const { items, error } = await runNode(creds, { resource: 'vehicle', operation: 'getAll' }, { nodeExtra: { onError: 'continueRegularOutput' } });
      assert.ifError(error);
      assert.strictEqual(items.length, 1);
      const { error: message, code, kind, hint } = items[0].json;
      assert.match(message, /authorize the account again/);
      assert.deepStrictEqual([code, kind], ['invalid_grant', 'auth']);
      assert.match(hint, /Run the device login again\.$/);
      assert.doesNotMatch(JSON.stringify(items[0].json), /not-a-valid-refresh-token/);
    });

    it('quota: BMW CU-429 becomes a quota error, and the next run is refused locally without a call', async () => {
      const creds = authorizedCredentials(sim);
      sim.setQuotaUsed(50);
      const first = await runNode(creds, { resource: 'vehicle', operation: 'getAll' });
      assert.ok(first.error);
      assert.match(first.error.message, /quota/i);
      assert.match(first.error.message, /CU-429/);
      assert.match(first.error.description, /00:00 UTC/);
      sim.clearLog();
      const second = await runNode(creds, { resource: 'vehicle', operation: 'getAll' }, { nodeExtra: { onError: 'continueRegularOutput' } });
      assert.strictEqual(sim.restCalls().length, 0, 'refused locally');
      assert.strictEqual(second.items[0].json.code, 'CU-429');
      assert.strictEqual(second.items[0].json._quota.remaining, 0);
    });
  });

  describe('tokens', () => {
    it('a 401 refreshes once through preAuthentication and stores the rotated refresh token', async () => {
      const creds = authorizedCredentials(sim);
      const before = { ...creds.data };
      sim.expireAccessTokens();
      const { items, error } = await runNode(creds, { resource: 'vehicle', operation: 'getAll' });
      assert.ifError(error);
      assert.ok(items.length >= 2);
      assert.notStrictEqual(creds.data.refreshToken, before.refreshToken, 'rotated refresh token stored');
      assert.notStrictEqual(creds.data.accessToken, before.accessToken);
      assert.ok(creds.data.expiresAt > new Date().toISOString());
      const refreshes = sim.requests.filter((r) => r.grantType === 'refresh_token');
      assert.strictEqual(refreshes.length, 1);
      assert.deepStrictEqual(
        sim.restCalls().map((c) => c.status),
        [401, 200],
      );
      // The old refresh token is now dead at BMW: using the stored one is the only way on.
      const again = await runNode(creds, { resource: 'vehicle', operation: 'getAll' });
      assert.ifError(again.error);
      assert.strictEqual(sim.requests.filter((r) => r.grantType === 'refresh_token').length, 1, 'no refresh while the token is valid');
    });

    it('a refresh token pasted by hand (no access token yet) is used at once and rotated', async () => {
      const t = sim.issueTokens({ clientId: 'sim-client-id' });
      const creds = new MemoryCredentialsHelper({
        clientId: 'sim-client-id',
        apiBaseUrl: sim.apiBaseUrl,
        authBaseUrl: sim.authBaseUrl,
        refreshToken: t.refresh_token,
      });
      const { error } = await runNode(creds, { resource: 'vehicle', operation: 'getAll' });
      assert.ifError(error);
      assert.ok(creds.data.accessToken);
      assert.notStrictEqual(creds.data.refreshToken, t.refresh_token);
      assert.strictEqual(creds.data.gcid, t.gcid);
      assert.deepStrictEqual(
        sim.restCalls().map((c) => c.status),
        [200],
      );
    });

    it('when another execution already rotated the refresh token, the credential is read again and the call succeeds', async () => {
      const creds = authorizedCredentials(sim);
      const stale = { ...creds.data };
      sim.expireAccessTokens();
      // Another execution refreshes first and stores its tokens.
      const fresh = await refreshTokens(
        { transport: new AxiosTransport(), sleep: nodeSleep, clientId: 'sim-client-id', authBaseUrl: sim.authBaseUrl },
        stale.refreshToken,
      );
      creds.data = { ...stale, accessToken: fresh.accessToken, refreshToken: fresh.refreshToken };
      // This execution still holds the stale copy on its first read.
      const getDecrypted = creds.getDecrypted.bind(creds);
      let reads = 0;
      // (The first read opens the account, the second signs the first request.)
      creds.getDecrypted = async () => (reads++ < 2 ? { ...stale } : getDecrypted());
      const { items, error } = await runNode(creds, { resource: 'vehicle', operation: 'getAll' });
      assert.ifError(error);
      assert.ok(items.length >= 2);
      assert.deepStrictEqual(
        sim.restCalls().map((c) => c.status),
        [401, 200],
      );
      const refusals = sim.requests.filter((r) => r.grantType === 'refresh_token' && r.oauthError === 'invalid_grant');
      assert.strictEqual(refusals.length, 1);
      assert.strictEqual(creds.data.refreshToken, fresh.refreshToken, 'the winner’s token is kept');
    });

    it('when the other execution stores its tokens only after this one was refused, it waits for them', async () => {
      const creds = authorizedCredentials(sim);
      const stale = { ...creds.data };
      sim.expireAccessTokens();
      // Another execution (another worker) refreshed first, but its tokens reach the database 1.5 s later, as
      // under load in queue mode; until then every read returns the stale tokens.
      const fresh = await refreshTokens(
        { transport: new AxiosTransport(), sleep: nodeSleep, clientId: 'sim-client-id', authBaseUrl: sim.authBaseUrl },
        stale.refreshToken,
      );
      const stored = setTimeout(() => {
        creds.data = { ...stale, accessToken: fresh.accessToken, refreshToken: fresh.refreshToken };
      }, 1500);
      try {
        const { items, error } = await runNode(creds, { resource: 'vehicle', operation: 'getAll' });
        assert.ifError(error);
        assert.ok(items.length >= 2);
      } finally {
        clearTimeout(stored);
      }
      assert.deepStrictEqual(
        sim.restCalls().map((c) => c.status),
        [401, 200],
      );
      const refusals = sim.requests.filter((r) => r.grantType === 'refresh_token' && r.oauthError === 'invalid_grant');
      assert.strictEqual(refusals.length, 1, 'one refused refresh, then it waited instead of asking BMW again');
      assert.strictEqual(creds.data.refreshToken, fresh.refreshToken);
    });

    it('a refresh token BMW no longer accepts fails with a plain message, no token in it', async () => {
      const creds = authorizedCredentials(sim, { accessToken: '', refreshToken: 'not-a-valid-refresh-token' });
      // No other execution stores a new token: after waiting for one, the refusal stands (one refresh request).
      const { error } = await runNode(creds, { resource: 'vehicle', operation: 'getAll' });
      assert.strictEqual(sim.requests.filter((r) => r.grantType === 'refresh_token').length, 1);
      assert.ok(error);
      assert.match(error.message, /authorize the account again/i);
      assert.strictEqual(error.name, 'NodeApiError');
      assert.match(error.description, /^Refresh tokens rotate on every use/);
      assert.doesNotMatch(JSON.stringify(error), /not-a-valid-refresh-token/);
    });
  });

  describe('answers that stay the same all day', () => {
    const served = () => sim.restCalls().map((c) => c.path.replace(VIN, '{vin}'));

    it('a second run in this n8n costs no call and says fromCache with its age; 0 asks BMW', async () => {
      const creds = authorizedCredentials(sim);
      const first = await runNode(creds, { resource: 'vehicle', operation: 'get', vin: vin() });
      assert.ifError(first.error);
      assert.strictEqual(first.items[0].json._quota.fromCache, false);
      const image = await runNode(creds, { resource: 'image', operation: 'get', vin: vin(), binaryPropertyName: 'data' });
      assert.ifError(image.error);
      assert.deepStrictEqual(served(), ['/customers/vehicles/{vin}/basicData', '/customers/vehicles/{vin}/image']);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      sim.clearLog();
      const second = await runNode(creds, { resource: 'vehicle', operation: 'get', vin: vin() });
      const again = await runNode(creds, { resource: 'image', operation: 'get', vin: vin(), binaryPropertyName: 'data' });
      assert.ifError(second.error || again.error);
      assert.deepStrictEqual(served(), [], 'BMW was not asked again');
      const { _quota: quota, ...data } = second.items[0].json;
      const before = { ...first.items[0].json };
      delete before._quota;
      assert.deepStrictEqual(data, before);
      assert.strictEqual(quota.fromCache, true);
      assert.ok(quota.cacheAgeSeconds >= 1, `age ${quota.cacheAgeSeconds}`);
      assert.strictEqual(quota.used, first.items[0].json._quota.used + 1, 'only the first image was counted since');
      assert.strictEqual(again.items[0].json._quota.fromCache, true);
      assert.strictEqual(again.items[0].json.bytes, image.items[0].json.bytes);

      const fresh = await runNode(creds, { resource: 'vehicle', operation: 'get', vin: vin(), options: { cacheMaxAge: '0' } });
      assert.ifError(fresh.error);
      assert.deepStrictEqual(served(), ['/customers/vehicles/{vin}/basicData']);
      assert.strictEqual(fresh.items[0].json._quota.fromCache, false);
      const short = await runNode(
        creds,
        { resource: 'vehicle', operation: 'get', vin: vin(), options: { cacheMaxAge: 'soon' } },
        { nodeExtra: { onError: 'continueRegularOutput' } },
      );
      assert.match(short.items[0].json.error, /must be a duration/);
      assert.strictEqual(served().length, 1, 'refused before any call');
    });
  });
});
