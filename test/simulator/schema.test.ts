// The simulator against BMW's own OpenAPI documents and against FACTS.md: every answer is fetched over loopback HTTP
// and validated with ajv; behaviour (quota, paging, faults, device flow) is checked with concrete values.

import assert from 'assert';
import * as http from 'http';
import * as zlib from 'zlib';
import { createHash, randomBytes } from 'crypto';
import * as path from 'path';
import { spawn } from 'child_process';
import { default as Ajv2020 } from 'ajv/dist/2020';
import { default as addFormats } from 'ajv-formats';

import restSpec from '../../spec/bmw-cardata-customer-api-openapi.json';
import gcdmSpec from '../../spec/gcdm-device-code-flow-openapi.json';
import catalogue from '../../src/core/telematic-catalogue.json';
import { startSimulator, SIM_VINS, SIM_FOREIGN_CONTAINER_ID } from '../../src/simulator';
import type { Simulator } from '../../src/simulator';
import { ROOT, WITH_SOURCES } from '../support/code';

// ---------------------------------------------------------------------------------------------------------------
// Schemas

const REST_ID = 'https://cardata.simulator.test/customer-api.json';
const GCDM_ID = 'https://cardata.simulator.test/device-code-flow.json';

/**
 * The spec's object schemas allow any extra property; the copies used here forbid them, so a misspelt field in a
 * simulator answer fails instead of passing silently.
 */
function closeObjects(doc: any) {
  for (const schema of Object.values<any>(doc.components.schemas)) {
    if (schema.properties && schema.additionalProperties === undefined) schema.additionalProperties = false;
  }
  return doc;
}

const restDoc = closeObjects(JSON.parse(JSON.stringify(restSpec)));
restDoc.$id = REST_ID;
// Real answers carry null for unreported values, for units and for timestamps (FACTS.md §2, ENDPOINTS.md caveats),
// though the spec types them as string. Only this schema is widened.
restDoc.components.schemas.TelematicDataEntryDto.properties = {
  value: { type: ['string', 'null'] },
  unit: { type: ['string', 'null'] },
  timestamp: { type: ['string', 'null'] },
};
// A session still in progress has endTime null (and no energy yet), though the spec types endTime as a required
// integer. Only that field is widened.
restDoc.components.schemas.ChargingSessionDto.properties.endTime = { type: ['integer', 'null'], format: 'int64' };
const gcdmDoc = closeObjects(JSON.parse(JSON.stringify(gcdmSpec)));
gcdmDoc.$id = GCDM_ID;

const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addSchema(restDoc);
ajv.addSchema(gcdmDoc);

function assertSchema(docId, name, data) {
  const validate = ajv.getSchema(`${docId}#/components/schemas/${name}`);
  assert.ok(validate, `schema ${name} not found`);
  if (!validate(data)) assert.fail(`${name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(data).slice(0, 600)}`);
}
const assertRest = (name, data) => assertSchema(REST_ID, name, data);
const assertGcdm = (name, data) => assertSchema(GCDM_ID, name, data);

const MESSAGES = {
  'CU-100': 'No token sent',
  'CU-101': 'Authentication error',
  'CU-102': 'Token expired',
  'CU-103': 'Token-scope is not CarData',
  'CU-104': 'No permission for specified VIN',
  'CU-105': 'No permission for specified containerId',
  'CU-120': 'Format of parameter VIN is invalid',
  'CU-121': 'Format of parameter containerId is invalid',
  'CU-122': 'Container already set for deletion',
  'CU-124': 'Maximum number of containers reached',
  'CU-125': 'Pagination-Token expired',
  'CU-126': 'No vehicle image found for given VIN',
  'CU-127': 'No LBCS data found',
  'CU-400': 'Bad request',
  'CU-401': 'Parameter Invalid',
  'CU-402': 'Telematic key is invalid',
  'CU-429': 'API rate limit reached',
  'CU-500': 'Internal server error',
  'CU-503': 'Service temporarily unavailable',
};

const seenRefs = new Set();
function assertError(res, status, code) {
  assert.strictEqual(res.status, status, `expected HTTP ${status} ${code}, got ${res.status} ${res.body.toString().slice(0, 200)}`);
  assert.match(res.headers['content-type'], /^application\/json/);
  assertRest('CustomerErrorResponse', res.json);
  assert.strictEqual(res.json.exveErrorId, code);
  assert.strictEqual(res.json.exveErrorMsg, MESSAGES[code]);
  assert.ok(res.json.exveNote.length > 0);
  assert.ok(res.json.exveErrorRef.length >= 8);
  assert.ok(!seenRefs.has(res.json.exveErrorRef), 'exveErrorRef must be unique per error');
  seenRefs.add(res.json.exveErrorRef);
}

function assertOauthError(res, status, error, schema) {
  assert.strictEqual(res.status, status, `expected ${status} ${error}, got ${res.status} ${res.body}`);
  assert.match(res.headers['content-type'], /^application\/json/);
  assertGcdm(schema, res.json);
  assert.strictEqual(res.json.error, error);
  assert.ok(res.json.error_description.length > 0);
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

/** An answer over loopback HTTP; json is the parsed body of a JSON answer. */
interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json: any;
}

function request(
  url: string,
  { method = 'GET', headers = {}, body }: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const ct = res.headers['content-type'] || '';
        resolve({ status: res.statusCode, headers: res.headers, body: buf, json: ct.includes('json') && buf.length ? JSON.parse(buf.toString()) : undefined });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A REST call: x-version v1 and the bearer unless told otherwise. */
function rest(
  sim: Simulator,
  method: string,
  p: string,
  { token, version = 'v1', json, headers = {} }: { token?: string; version?: string; json?: unknown; headers?: http.OutgoingHttpHeaders } = {},
): Promise<Answer> {
  const h: http.OutgoingHttpHeaders = { ...headers };
  if (version) h['x-version'] = version;
  if (token) h.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (json !== undefined) {
    body = typeof json === 'string' ? json : JSON.stringify(json);
    h['content-type'] = 'application/json';
  }
  return request(`${sim.apiBaseUrl}${p}`, { method, headers: h, body });
}

function form(sim: Simulator, p: string, fields: Record<string, string>): Promise<Answer> {
  return request(`${sim.authBaseUrl}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(fields).toString(),
  });
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

const CLIENT_ID = '5d2c1b7e-3a9f-4c1e-9b6d-0f8e7a6c5b4d';
const FULL_SCOPE = 'authenticate_user openid cardata:api:read cardata:streaming:read';

/** scope: null leaves the field out. */
async function startDeviceFlow(sim: Simulator, { scope = FULL_SCOPE, clientId = CLIENT_ID }: { scope?: string | null; clientId?: string } = {}) {
  const { verifier, challenge } = pkce();
  const fields: Record<string, string> = { client_id: clientId, response_type: 'device_code', code_challenge: challenge, code_challenge_method: 'S256' };
  if (scope !== null) fields.scope = scope;
  const res = await form(sim, '/oauth/device/code', fields);
  assert.strictEqual(res.status, 200, res.body.toString());
  return { res, verifier, deviceCode: res.json.device_code, userCode: res.json.user_code };
}

function poll(sim, deviceCode, verifier, clientId = CLIENT_ID) {
  return form(sim, '/oauth/token', {
    client_id: clientId,
    grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
    device_code: deviceCode,
    code_verifier: verifier,
  });
}

function refresh(sim, refreshToken, clientId = CLIENT_ID) {
  return form(sim, '/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
}

function fakeClock(iso: string) {
  const clock = { t: Date.parse(iso) } as { t: number; now: () => number; advance: (sec: number) => void };
  clock.now = () => clock.t;
  clock.advance = (sec) => {
    clock.t += sec * 1000;
  };
  return clock;
}

async function createContainer(sim, token, descriptors, name = 'test') {
  const res = await rest(sim, 'POST', '/customers/containers', { token, json: { name, purpose: 'tests', technicalDescriptors: descriptors } });
  assert.strictEqual(res.status, 201, res.body.toString());
  return res.json;
}

/** All pages of a charging history query, following next_token. */
async function allSessions(sim, token, vin, from, to) {
  const out = [];
  let next;
  let pages = 0;
  do {
    const q = new URLSearchParams({ from, to });
    if (next) q.set('nextToken', next);
    const res = await rest(sim, 'GET', `/customers/vehicles/${vin}/chargingHistory?${q}`, { token });
    assert.strictEqual(res.status, 200, res.body.toString());
    out.push(...res.json.data);
    next = res.json.next_token;
    pages++;
  } while (next);
  return { sessions: out, pages };
}

const SOC_KEY = 'vehicle.drivetrain.batteryManagement.header';
const MILEAGE_KEY = 'vehicle.vehicle.travelledDistance';
const FUEL_KEY = 'vehicle.drivetrain.fuelSystem.level'; // ICE and PHEV only
const DOOR_KEY = 'vehicle.cabin.door.row1.driver.isOpen';
const BASIC_KEY = 'vehicle.drivetrain.electricEngine.hvsMaxEnergyAbsolute'; // BASIC_DATA: /basicData only
const DEDICATED_KEYS = [
  'vehicle.chassis.axle.wheel.tire.diagnosis',
  'vehicle.look.image',
  'vehicle.powertrain.electric.battery.charging.history.sessionsList',
  'vehicle.powertrain.electric.battery.charging.settingsList',
];
const ALL_KEYS = catalogue.items.map((i) => i.id);

// ---------------------------------------------------------------------------------------------------------------

describe('simulator: success answers match the CarData OpenAPI schemas', function () {
  let sim;
  let token;

  before(async () => {
    sim = await startSimulator({ dailyQuota: Infinity });
    token = sim.issueTokens().access_token;
  });
  after(() => sim.close());

  it('exports four distinct, well-formed VINs and the simulator URLs', () => {
    const vins = Object.values(SIM_VINS);
    assert.strictEqual(new Set(vins).size, 4);
    for (const vin of vins) assert.match(vin, /^[A-Z0-9]{17}$/);
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.strictEqual(sim.apiBaseUrl, sim.url);
    assert.strictEqual(sim.authBaseUrl, `${sim.url}/gcdm`);
    assert.match(sim.gcid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('getMappings answers a top-level array of VehicleMappingDto', async () => {
    const res = await rest(sim, 'GET', '/customers/vehicles/mappings', { token });
    assert.strictEqual(res.status, 200);
    assert.strictEqual(res.headers['content-type'], 'application/json');
    assert.ok(Array.isArray(res.json));
    res.json.forEach((m) => assertRest('VehicleMappingDto', m));
    const byVin = Object.fromEntries(res.json.map((m) => [m.vin, m.mappingType]));
    assert.deepStrictEqual(byVin, { [SIM_VINS.bev]: 'PRIMARY', [SIM_VINS.phev]: 'PRIMARY', [SIM_VINS.secondary]: 'SECONDARY' });
  });

  it('getBasicData answers a VehicleDto for the BEV (i4) and the PHEV (330e)', async () => {
    const bev = await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.bev}/basicData`, { token });
    assert.strictEqual(bev.status, 200);
    assertRest('VehicleDto', bev.json);
    assert.strictEqual(bev.json.vin, SIM_VINS.bev);
    assert.strictEqual(bev.json.propulsionType, 'BEV');
    assert.strictEqual(bev.json.brand, 'BMW');
    assert.strictEqual(bev.json.hvsMaxEnergyAbsolute, '83.9');
    assert.match(bev.json.modelName, /^i4/);
    const phev = await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.phev}/basicData`, { token });
    assertRest('VehicleDto', phev.json);
    assert.strictEqual(phev.json.propulsionType, 'PHEV');
    assert.strictEqual(phev.json.modelName, '330e');
  });

  describe('containers', () => {
    let created;

    it('createContainer answers 201 with a ContainerDetailsDto', async () => {
      const descriptors = [SOC_KEY, MILEAGE_KEY, FUEL_KEY, DOOR_KEY, BASIC_KEY, ...DEDICATED_KEYS];
      const res = await rest(sim, 'POST', '/customers/containers', {
        token,
        json: { name: 'dashboard', purpose: 'schema test', technicalDescriptors: descriptors },
      });
      assert.strictEqual(res.status, 201);
      assertRest('ContainerDetailsDto', res.json);
      created = res.json;
      assert.match(created.containerId, /^[A-Z0-9]{13}$/);
      assert.strictEqual(created.state, 'ACTIVE');
      assert.strictEqual(created.name, 'dashboard');
      assert.deepStrictEqual(created.technicalDescriptors, descriptors);
    });

    it('listContainers answers a ContainerListDto with the new container', async () => {
      const res = await rest(sim, 'GET', '/customers/containers', { token });
      assert.strictEqual(res.status, 200);
      assertRest('ContainerListDto', res.json);
      const mine = res.json.containers.find((c) => c.containerId === created.containerId);
      assert.deepStrictEqual(mine, { containerId: created.containerId, name: 'dashboard', purpose: 'schema test', state: 'ACTIVE', created: created.created });
      assert.ok(!res.json.containers.some((c) => c.containerId === SIM_FOREIGN_CONTAINER_ID), "another account's container is listed");
    });

    it('getContainerDetails answers a ContainerDetailsDto', async () => {
      const res = await rest(sim, 'GET', `/customers/containers/${created.containerId}`, { token });
      assert.strictEqual(res.status, 200);
      assertRest('ContainerDetailsDto', res.json);
      assert.deepStrictEqual(res.json, created);
    });

    it('getTelematicData answers the container keys, omitting dedicated-endpoint and BASIC_DATA keys', async () => {
      const res = await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.bev}/telematicData?containerId=${created.containerId}`, { token });
      assert.strictEqual(res.status, 200);
      assertRest('ExVeTelematicDataResponseDto', res.json);
      const data = res.json.telematicData;
      assert.deepStrictEqual(Object.keys(data).sort(), [SOC_KEY, MILEAGE_KEY, FUEL_KEY, DOOR_KEY].sort());
      const soc = data[SOC_KEY];
      assert.strictEqual(typeof soc.value, 'string');
      assert.ok(Number(soc.value) >= 0 && Number(soc.value) <= 100, soc.value);
      assert.strictEqual(soc.unit, 'percent');
      assert.ok(!Number.isNaN(Date.parse(soc.timestamp)) && soc.timestamp.endsWith('Z'));
      assert.match(data[MILEAGE_KEY].value, /^\d+$/);
      assert.strictEqual(data[MILEAGE_KEY].unit, 'km');
      assert.strictEqual(data[DOOR_KEY].value, 'false');
      // A BEV has no fuel tank: never reported.
      assert.deepStrictEqual(data[FUEL_KEY], { value: null, unit: '%', timestamp: null });
    });

    it('getTelematicData for the PHEV reports the fuel level and agrees with the charging history mileage', async () => {
      const res = await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.phev}/telematicData?containerId=${created.containerId}`, { token });
      assert.strictEqual(res.status, 200);
      assertRest('ExVeTelematicDataResponseDto', res.json);
      assert.match(res.json.telematicData[FUEL_KEY].value, /^\d+$/);
      const history = await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.phev}/chargingHistory?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z`, {
        token,
      });
      const newest = history.json.data[0];
      assert.ok(newest.mileage <= Number(res.json.telematicData[MILEAGE_KEY].value));
    });

    it('a container with every catalogue key validates, with only strings or null as values', async () => {
      const all = await createContainer(sim, token, ALL_KEYS, 'everything');
      const res = await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.bev}/telematicData?containerId=${all.containerId}`, { token });
      assert.strictEqual(res.status, 200);
      assertRest('ExVeTelematicDataResponseDto', res.json);
      const entries = Object.entries<any>(res.json.telematicData);
      const basicCount = catalogue.items.filter((i) => i.category === 'BASIC_DATA').length;
      const omitted = new Set([...DEDICATED_KEYS, ...catalogue.items.filter((i) => i.category === 'BASIC_DATA').map((i) => i.id)]);
      assert.strictEqual(entries.length, ALL_KEYS.length - omitted.size);
      assert.ok(basicCount > 0);
      let reported = 0;
      for (const [key, e] of entries) {
        assert.ok(!omitted.has(key), key);
        assert.ok(e.value === null || typeof e.value === 'string', key);
        assert.strictEqual(e.value === null, e.timestamp === null, `${key}: value and timestamp are null together`);
        if (e.value !== null) reported++;
      }
      assert.ok(reported > entries.length / 2, `only ${reported} of ${entries.length} keys reported`);
      const del = await rest(sim, 'DELETE', `/customers/containers/${all.containerId}`, { token });
      assert.strictEqual(del.status, 204);
    });

    it('deleteContainer answers 204 without a body, then 208 with CU-122', async () => {
      const first = await rest(sim, 'DELETE', `/customers/containers/${created.containerId}`, { token });
      assert.strictEqual(first.status, 204);
      assert.strictEqual(first.body.length, 0);
      const second = await rest(sim, 'DELETE', `/customers/containers/${created.containerId}`, { token });
      assertError(second, 208, 'CU-122');
      const details = await rest(sim, 'GET', `/customers/containers/${created.containerId}`, { token });
      assertRest('ContainerDetailsDto', details.json);
      assert.strictEqual(details.json.state, 'DELETED');
      const data = await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.bev}/telematicData?containerId=${created.containerId}`, { token });
      assertError(data, 403, 'CU-105');
    });
  });

  it('getChargingHistory answers a ChargingHistoryResponseDto with consistent sessions', async () => {
    const res = await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.bev}/chargingHistory?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z`, { token });
    assert.strictEqual(res.status, 200);
    assertRest('ChargingHistoryResponseDto', res.json);
    assert.strictEqual(res.json.data.length, 25);
    assert.strictEqual(typeof res.json.next_token, 'string');
    assert.ok(!('nextToken' in res.json), 'the charging history spells its token next_token');
    const nowSec = Date.now() / 1000;
    let previous;
    for (const s of res.json.data) {
      assert.ok(s.startTime > nowSec - 800 * 86400 && s.startTime < nowSec, `startTime ${s.startTime} is not epoch seconds of the last two years`);
      assert.ok(s.endTime > s.startTime);
      assert.strictEqual(s.mileageUnits, 'MileageUnits.KM');
      assert.strictEqual(s.timeZone, 'Europe/Berlin');
      assert.ok(s.displayedSoc > s.displayedStartSoc);
      // Energy from the grid covers the SoC delta of an 80.7 kWh usable battery with 85-100 % efficiency.
      const intoBattery = ((s.displayedSoc - s.displayedStartSoc) / 100) * 80.7;
      assert.ok(s.energyConsumedFromPowerGridKwh >= intoBattery && s.energyConsumedFromPowerGridKwh <= intoBattery / 0.85 + 0.01, JSON.stringify(s));
      const blockSec = s.chargingBlocks.reduce((sum, b) => sum + (b.endTime - b.startTime), 0);
      assert.strictEqual(blockSec, s.totalChargingDurationSec);
      for (const b of s.chargingBlocks) assert.ok(b.startTime >= s.startTime && b.endTime <= s.endTime);
      const gridFromBlocks = s.chargingBlocks.reduce((sum, b) => sum + (b.averagePowerGridKw * (b.endTime - b.startTime)) / 3600, 0);
      assert.ok(Math.abs(gridFromBlocks - s.energyConsumedFromPowerGridKwh) < 0.05 * s.energyConsumedFromPowerGridKwh + 0.05);
      assert.ok(s.chargingLocation.formattedAddress.includes(s.chargingLocation.municipality));
      if (previous) {
        assert.ok(s.startTime < previous.startTime, 'newest first');
        assert.ok(s.endTime <= previous.startTime, 'sessions do not overlap');
        assert.ok(s.mileage <= previous.mileage, 'mileage increases over time');
      }
      previous = s;
    }
    assert.ok(
      res.json.data.some((s) => s.publicChargingPoint),
      'no public session on the first page',
    );
  });

  it('charging history paging returns every session in range exactly once', async () => {
    const everything = await allSessions(sim, token, SIM_VINS.bev, '2000-01-01T00:00:00Z', '2100-01-01T00:00:00Z');
    assert.strictEqual(everything.sessions.length, 400);
    assert.strictEqual(everything.pages, 16);
    assert.strictEqual(new Set(everything.sessions.map((s) => s.startTime)).size, 400);
    // Several sessions a week recently.
    const lastMonth = everything.sessions.filter((s) => s.startTime > Date.now() / 1000 - 28 * 86400).length;
    assert.ok(lastMonth >= 8, `${lastMonth} sessions in the last four weeks`);

    const from = new Date(everything.sessions[300].startTime * 1000).toISOString();
    const to = new Date(everything.sessions[42].startTime * 1000).toISOString();
    const windowed = await allSessions(sim, token, SIM_VINS.bev, from, to);
    const expected = everything.sessions.slice(43, 301);
    assert.deepStrictEqual(
      windowed.sessions.map((s) => s.startTime),
      expected.map((s) => s.startTime),
    );
    assert.strictEqual(windowed.pages, Math.ceil(expected.length / 25));
  });

  it('a PHEV charging history exists and is about a third of the BEV one', async () => {
    const phev = await allSessions(sim, token, SIM_VINS.phev, '2000-01-01T00:00:00Z', '2100-01-01T00:00:00Z');
    assert.strictEqual(phev.sessions.length, 133);
    for (const s of phev.sessions.slice(0, 20)) assertRest('ChargingSessionDto', s);
  });

  it('grows the charging history: a new session, one in progress that later finishes, a correction, a late one', async () => {
    const own = await startSimulator({ chargingSessions: 40 });
    try {
      const bearer = own.issueTokens().access_token;
      const vin = SIM_VINS.bev;
      const read = async () => (await allSessions(own, bearer, vin, '2000-01-01T00:00:00Z', '2100-01-01T00:00:00Z')).sessions;
      const before = await read();
      const added = own.addChargingSession(vin);
      assert.ok(added.startTime > before[0].endTime && added.endTime > added.startTime);
      assert.strictEqual(added.mileage, before[0].mileage + 42);
      for (const b of added.chargingBlocks) assert.ok(b.startTime >= added.startTime && b.endTime <= added.endTime, 'blocks lie inside the session');

      const ongoing = own.startChargingSession(vin);
      assert.ok(ongoing.startTime > added.endTime);
      let list = await read();
      const res = await rest(own, 'GET', `/customers/vehicles/${vin}/chargingHistory?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z`, { token: bearer });
      assertRest('ChargingHistoryResponseDto', res.json);
      const listed = list[0];
      assert.strictEqual(listed.startTime, ongoing.startTime);
      assert.strictEqual(listed.endTime, null);
      for (const field of ['energyConsumedFromPowerGridKwh', 'energyDecreaseHvbKwh', 'energyDischargedKwh', 'chargingBlocks'])
        assert.ok(!(field in listed), `${field} while in progress`);

      const done = own.finishChargingSession(vin, ongoing.startTime);
      const corrected = own.updateChargingSession(vin, added.startTime, { mileage: added.mileage + 1 });
      const late = own.addChargingSession(vin, { startTime: before[2].startTime + 60 });
      list = await read();
      assert.strictEqual(list.length, before.length + 3);
      assert.deepStrictEqual(
        list.map((s) => s.startTime),
        [...list.map((s) => s.startTime)].sort((a, b) => b - a),
        'still newest first',
      );
      assert.ok(done.endTime > done.startTime && done.energyConsumedFromPowerGridKwh > 0);
      assert.deepStrictEqual(list[0], done);
      assert.strictEqual(list[1].mileage, corrected.mileage);
      assert.deepStrictEqual(
        list.find((s) => s.startTime === late.startTime),
        late,
      );
      for (const s of list.slice(0, 6)) assertRest('ChargingSessionDto', s);
      assert.throws(() => own.finishChargingSession(vin, ongoing.startTime), /no ongoing session/);
      assert.throws(() => own.updateChargingSession(vin, 1, {}), /no session that started at 1/);
    } finally {
      await own.close();
    }
  });

  it('getLocationBasedChargingSettings pages with a camelCase nextToken', async () => {
    const url = `/customers/vehicles/${SIM_VINS.bev}/locationBasedChargingSettings`;
    const first = await rest(sim, 'GET', url, { token });
    assert.strictEqual(first.status, 200);
    assertRest('LocationBasedChargingSettingsDto', first.json);
    assert.strictEqual(first.json.data.length, 2);
    assert.strictEqual(typeof first.json.nextToken, 'string');
    assert.ok(!('next_token' in first.json));
    const all = [...first.json.data];
    let next = first.json.nextToken;
    while (next) {
      const page = await rest(sim, 'GET', `${url}?nextToken=${encodeURIComponent(next)}`, { token });
      assert.strictEqual(page.status, 200);
      assertRest('LocationBasedChargingSettingsDto', page.json);
      all.push(...page.json.data);
      next = page.json.nextToken;
    }
    assert.strictEqual(all.length, 5);
    assert.strictEqual(new Set(all.map((s) => s.id)).size, 5);
    for (const s of all) assert.strictEqual(s.vehicleIdWithGcid, `${SIM_VINS.bev}_${sim.gcid}`);
  });

  it('getSmartMaintenanceTyreDiagnosis answers all four wheels, mounted and stored for the BEV', async () => {
    const res = await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.bev}/smartMaintenanceTyreDiagnosis`, { token });
    assert.strictEqual(res.status, 200);
    assertRest('SmartMaintenanceTyreDiagnosisDto', res.json);
    const { mountedTyres, unmountedTyres } = res.json.passengerCar;
    for (const set of [mountedTyres, unmountedTyres]) {
      for (const wheel of ['frontLeft', 'frontRight', 'rearLeft', 'rearRight']) {
        assert.ok(set[wheel].label);
        assert.ok(['RED', 'YELLOW', 'GREEN', 'GREY'].includes(set[wheel].tyreWear.statusColor));
        assert.match(set[wheel].dimension.value, /^\d{3}\/\d{2} R\d{2}/);
      }
    }
    assert.strictEqual(mountedTyres.frontLeft.season.season, 'SUMMER');
    assert.strictEqual(unmountedTyres.frontLeft.season.season, 'WINTER');
  });

  it('the PHEV tyre diagnosis has leaves that carry only a label', async () => {
    const res = await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.phev}/smartMaintenanceTyreDiagnosis`, { token });
    assert.strictEqual(res.status, 200);
    assertRest('SmartMaintenanceTyreDiagnosisDto', res.json);
    const rear = res.json.passengerCar.mountedTyres.rearLeft;
    assert.deepStrictEqual(rear.tyreWear, { label: 'Tread depth' });
    assert.ok(!('unmountedTyres' in res.json.passengerCar));
  });

  it('getImage answers a valid PNG that decodes to 480x270 RGBA', async () => {
    const res = await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.bev}/image`, { token });
    assert.strictEqual(res.status, 200);
    assert.strictEqual(res.headers['content-type'], 'image/png');
    const png = res.body;
    assert.deepStrictEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const chunks = [];
    for (let off = 8; off < png.length;) {
      const len = png.readUInt32BE(off);
      const type = png.toString('latin1', off + 4, off + 8);
      const data = png.subarray(off + 8, off + 8 + len);
      const crc = png.readUInt32BE(off + 8 + len);
      assert.strictEqual(crc, zlib.crc32 ? zlib.crc32(png.subarray(off + 4, off + 8 + len)) : crc, `bad CRC in ${type}`);
      chunks.push({ type, data });
      off += 12 + len;
    }
    assert.deepStrictEqual([chunks[0].type, chunks[chunks.length - 1].type], ['IHDR', 'IEND']);
    const ihdr = chunks[0].data;
    const width = ihdr.readUInt32BE(0);
    const height = ihdr.readUInt32BE(4);
    assert.deepStrictEqual([width, height, ihdr[8], ihdr[9]], [480, 270, 8, 6]);
    const raw = zlib.inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
    assert.strictEqual(raw.length, height * (1 + width * 4));
    // Not a blank canvas: the car's blue body shows in the middle row.
    const row = 180 * (1 + width * 4) + 1;
    const px = raw.subarray(row + 240 * 4, row + 240 * 4 + 4);
    assert.ok(px[2] > px[0] + 60, `pixel at the car body is ${[...px]}`);
  });

  it('fixtures are deterministic for a seed and a clock, and differ for another seed', async () => {
    const clock = fakeClock('2026-05-04T10:00:00Z');
    const [a, b, c] = await Promise.all([
      startSimulator({ seed: 7, now: clock.now }),
      startSimulator({ seed: 7, now: clock.now }),
      startSimulator({ seed: 8, now: clock.now }),
    ]);
    try {
      const fetchAll = async (s) => {
        const t = s.issueTokens().access_token;
        const cont = await createContainer(s, t, ALL_KEYS);
        const tele = await rest(s, 'GET', `/customers/vehicles/${SIM_VINS.bev}/telematicData?containerId=${cont.containerId}`, { token: t });
        const hist = await rest(s, 'GET', `/customers/vehicles/${SIM_VINS.bev}/chargingHistory?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z`, {
          token: t,
        });
        return { tele: tele.json, hist: hist.json.data, gcid: s.gcid };
      };
      const [ra, rb, rc] = await Promise.all([fetchAll(a), fetchAll(b), fetchAll(c)]);
      assert.deepStrictEqual(ra, rb);
      assert.notDeepStrictEqual(ra.hist, rc.hist);
      assert.notStrictEqual(ra.gcid, rc.gcid);
      assert.ok(ra.hist[0].endTime <= clock.t / 1000, 'sessions lie before the simulator clock');
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  // Its speed is measured by bench/paging.js; here only what it answers.
  it('10,000 charging sessions page through 400 pages without overlap', async function () {
    const big = await startSimulator({ chargingSessions: 10000, dailyQuota: Infinity });
    try {
      const t = big.issueTokens().access_token;
      const { sessions, pages } = await allSessions(big, t, SIM_VINS.bev, '2000-01-01T00:00:00Z', '2100-01-01T00:00:00Z');
      assert.strictEqual(sessions.length, 10000);
      assert.strictEqual(pages, 400);
      assert.strictEqual(new Set(sessions.map((s) => s.startTime)).size, 10000);
      for (let i = 1; i < sessions.length; i++) assert.ok(sessions[i].endTime <= sessions[i - 1].startTime, `overlap at ${i}`);
      assert.ok(sessions[sessions.length - 1].mileage >= 0);
    } finally {
      await big.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('simulator: error bodies match CustomerErrorResponse with BMW status codes', () => {
  let sim;
  let clock;
  let token;
  const bev = `/customers/vehicles/${SIM_VINS.bev}`;

  before(async () => {
    clock = fakeClock('2026-03-10T12:00:00Z');
    sim = await startSimulator({ dailyQuota: Infinity, now: clock.now });
    token = sim.issueTokens().access_token;
  });
  after(() => sim.close());

  it('CU-100 without a bearer token (401)', async () => {
    assertError(await rest(sim, 'GET', '/customers/vehicles/mappings'), 401, 'CU-100');
    assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { headers: { authorization: `Basic ${token}` } }), 401, 'CU-100');
  });

  it('CU-101 for an unknown token (401)', async () => {
    assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { token: 'not-a-real-token' }), 401, 'CU-101');
  });

  it('CU-101 for an id_token or refresh token used as bearer (only the access token is accepted)', async () => {
    const set = sim.issueTokens();
    assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { token: set.id_token }), 401, 'CU-101');
    assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { token: set.refresh_token }), 401, 'CU-101');
  });

  it('CU-102 once the access token expired by the clock or by expireAccessTokens() (401)', async () => {
    const set = sim.issueTokens();
    assert.strictEqual(set.expires_in, 3599);
    clock.advance(3598);
    assert.strictEqual((await rest(sim, 'GET', '/customers/vehicles/mappings', { token: set.access_token })).status, 200);
    clock.advance(2);
    assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { token: set.access_token }), 401, 'CU-102');
    const fresh = sim.issueTokens();
    sim.expireAccessTokens();
    assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { token: fresh.access_token }), 401, 'CU-102');
    token = sim.issueTokens().access_token;
  });

  it('CU-103 for a token without cardata:api:read (403)', async () => {
    const t = sim.issueTokens({ scope: 'authenticate_user openid cardata:streaming:read' }).access_token;
    assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { token: t }), 403, 'CU-103');
  });

  it('CU-104 for an unmapped VIN and for a SECONDARY VIN (403)', async () => {
    assertError(await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.unmapped}/basicData`, { token }), 403, 'CU-104');
    for (const op of ['basicData', 'smartMaintenanceTyreDiagnosis', 'image', 'locationBasedChargingSettings']) {
      assertError(await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.secondary}/${op}`, { token }), 403, 'CU-104');
    }
  });

  it('CU-105 for unknown and foreign containers (403)', async () => {
    assertError(await rest(sim, 'GET', '/customers/containers/CZZZZZZZZZZZZ', { token }), 403, 'CU-105');
    assertError(await rest(sim, 'GET', `/customers/containers/${SIM_FOREIGN_CONTAINER_ID}`, { token }), 403, 'CU-105');
    assertError(await rest(sim, 'DELETE', `/customers/containers/${SIM_FOREIGN_CONTAINER_ID}`, { token }), 403, 'CU-105');
    assertError(await rest(sim, 'GET', `${bev}/telematicData?containerId=${SIM_FOREIGN_CONTAINER_ID}`, { token }), 403, 'CU-105');
  });

  it('CU-120 for malformed VINs (400)', async () => {
    for (const vin of [SIM_VINS.bev.toLowerCase(), SIM_VINS.bev.slice(1), `${SIM_VINS.bev}X`]) {
      assertError(await rest(sim, 'GET', `/customers/vehicles/${vin}/basicData`, { token }), 400, 'CU-120');
    }
  });

  it('CU-121 for container ids that are not 13 characters (400)', async () => {
    assertError(await rest(sim, 'GET', '/customers/containers/C123', { token }), 400, 'CU-121');
    assertError(await rest(sim, 'DELETE', '/customers/containers/C1234567890123', { token }), 400, 'CU-121');
    assertError(await rest(sim, 'GET', `${bev}/telematicData?containerId=short`, { token }), 400, 'CU-121');
  });

  it('CU-122 when deleting twice (208)', async () => {
    const c = await createContainer(sim, token, [SOC_KEY]);
    assert.strictEqual((await rest(sim, 'DELETE', `/customers/containers/${c.containerId}`, { token })).status, 204);
    assertError(await rest(sim, 'DELETE', `/customers/containers/${c.containerId}`, { token }), 208, 'CU-122');
  });

  it('CU-124 at the 11th container, deleted ones included (403), until deleted ones age out after 29 days', async () => {
    const s = await startSimulator({ dailyQuota: Infinity, now: clock.now });
    try {
      const t = s.issueTokens().access_token;
      const ids = [];
      for (let i = 0; i < 10; i++) ids.push((await createContainer(s, t, [SOC_KEY], `c${i}`)).containerId);
      for (const id of ids.slice(0, 3)) assert.strictEqual((await rest(s, 'DELETE', `/customers/containers/${id}`, { token: t })).status, 204);
      const res = await rest(s, 'POST', '/customers/containers', { token: t, json: { name: 'eleven', purpose: 'x', technicalDescriptors: [SOC_KEY] } });
      assertError(res, 403, 'CU-124');
      const list = await rest(s, 'GET', '/customers/containers', { token: t });
      assert.strictEqual(list.json.containers.length, 10);
      assert.strictEqual(list.json.containers.filter((c) => c.state === 'DELETED').length, 3);
      clock.advance(29 * 86400);
      const t2 = s.issueTokens().access_token;
      await createContainer(s, t2, [SOC_KEY], 'after purge');
      const after = await rest(s, 'GET', '/customers/containers', { token: t2 });
      assert.strictEqual(after.json.containers.length, 8);
      token = sim.issueTokens().access_token;
    } finally {
      await s.close();
    }
  });

  it('CU-125 for unknown, expired and reset page tokens (400)', async () => {
    const q = 'from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z';
    assertError(await rest(sim, 'GET', `${bev}/chargingHistory?${q}&nextToken=bogus`, { token }), 400, 'CU-125');
    let first = await rest(sim, 'GET', `${bev}/chargingHistory?${q}`, { token });
    let next = encodeURIComponent(first.json.next_token);
    assert.strictEqual((await rest(sim, 'GET', `${bev}/chargingHistory?${q}&nextToken=${next}`, { token })).status, 200, 'a token can be replayed');
    clock.advance(601);
    token = sim.issueTokens().access_token;
    assertError(await rest(sim, 'GET', `${bev}/chargingHistory?${q}&nextToken=${next}`, { token }), 400, 'CU-125');
    first = await rest(sim, 'GET', `${bev}/chargingHistory?${q}`, { token });
    next = encodeURIComponent(first.json.next_token);
    // A token is bound to its query.
    assertError(await rest(sim, 'GET', `${bev}/chargingHistory?from=2001-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&nextToken=${next}`, { token }), 400, 'CU-125');
    sim.expirePageTokens();
    assertError(await rest(sim, 'GET', `${bev}/chargingHistory?${q}&nextToken=${next}`, { token }), 400, 'CU-125');
    const lbcs = await rest(sim, 'GET', `${bev}/locationBasedChargingSettings`, { token });
    sim.expirePageTokens();
    assertError(await rest(sim, 'GET', `${bev}/locationBasedChargingSettings?nextToken=${encodeURIComponent(lbcs.json.nextToken)}`, { token }), 400, 'CU-125');
  });

  it('CU-126 for the PHEV image and CU-127 for the PHEV charging settings (404)', async () => {
    assertError(await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.phev}/image`, { token }), 404, 'CU-126');
    assertError(await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.phev}/locationBasedChargingSettings`, { token }), 404, 'CU-127');
  });

  it('CU-400 for a missing x-version, a missing containerId, bad bodies (400) and unknown routes (404)', async () => {
    assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { token, version: null }), 400, 'CU-400');
    assertError(await rest(sim, 'GET', `${bev}/telematicData`, { token }), 400, 'CU-400');
    assertError(await rest(sim, 'POST', '/customers/containers', { token, json: { purpose: 'x', technicalDescriptors: [SOC_KEY] } }), 400, 'CU-400');
    assertError(await rest(sim, 'POST', '/customers/containers', { token, json: { name: 'x', purpose: 'x', technicalDescriptors: [] } }), 400, 'CU-400');
    assertError(await rest(sim, 'POST', '/customers/containers', { token, json: '{"name": ' }), 400, 'CU-400');
    assertError(await rest(sim, 'GET', '/customer/vehicles/mappings', { token }), 404, 'CU-400');
    assertError(await rest(sim, 'PUT', '/customers/containers', { token }), 404, 'CU-400');
  });

  it('CU-401 for missing, non-ISO or reversed from/to (400)', async () => {
    const cases = [
      'to=2026-01-01T00:00:00Z',
      'from=2026-01-01T00:00:00Z',
      'from=1700000000&to=1800000000',
      'from=2026-01-01&to=2026-02-01',
      'from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      'from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z',
    ];
    for (const q of cases) assertError(await rest(sim, 'GET', `${bev}/chargingHistory?${q}`, { token }), 400, 'CU-401');
    const ok = await rest(sim, 'GET', `${bev}/chargingHistory?from=2026-01-01T00:00:00.000%2B01:00&to=2026-02-01T00:00:00Z`, { token });
    assert.strictEqual(ok.status, 200);
  });

  it('CU-402 for an unknown key or one with a zero-width space (400)', async () => {
    for (const bad of ['vehicle.does.not.exist', 'vehicle.drivetrain.batteryManagement\u200b.header']) {
      const res = await rest(sim, 'POST', '/customers/containers', { token, json: { name: 'x', purpose: 'x', technicalDescriptors: [SOC_KEY, bad] } });
      assertError(res, 400, 'CU-402');
    }
  });

  it('CU-429 as HTTP 403 once the daily quota is spent', async () => {
    sim.setDailyQuota(3);
    sim.setQuotaUsed(3);
    assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { token }), 403, 'CU-429');
    sim.setDailyQuota(Infinity);
  });

  it('CU-500 and CU-503 from injected faults', async () => {
    sim.faults.failNext(1, 500);
    assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { token }), 500, 'CU-500');
    sim.faults.failNext(1, 503);
    assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { token }), 503, 'CU-503');
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('simulator: GCDM device code flow', () => {
  let sim;
  let clock;

  before(async () => {
    clock = fakeClock('2026-06-01T08:00:00Z');
    sim = await startSimulator({ now: clock.now, pollIntervalSec: 5 });
  });
  after(() => sim.close());

  it('answers a DeviceCodeResponse', async () => {
    const { res, userCode } = await startDeviceFlow(sim);
    assertGcdm('DeviceCodeResponse', res.json);
    assert.match(userCode, /^[A-Z0-9]{8}$/);
    assert.strictEqual(res.json.verification_uri, `${sim.authBaseUrl}/oneid/link`);
    assert.strictEqual(res.json.verification_uri_complete, `${sim.authBaseUrl}/oneid/link?user_code=${userCode}`);
    assert.strictEqual(res.json.expires_in, 300);
    assert.strictEqual(res.json.interval, 5);
    assert.deepStrictEqual(sim.lastDeviceCode(), { userCode, state: 'pending' });
  });

  it('refuses incomplete device code requests with 400 invalid_request', async () => {
    const { challenge } = pkce();
    const base = { client_id: CLIENT_ID, response_type: 'device_code', scope: FULL_SCOPE, code_challenge: challenge, code_challenge_method: 'S256' };
    for (const change of [{ client_id: '' }, { code_challenge: '' }, { code_challenge_method: 'plain' }, { response_type: 'code' }]) {
      const res = await form(sim, '/oauth/device/code', { ...base, ...change });
      assertOauthError(res, 400, 'invalid_request', 'TokenBadRequestResponse');
    }
    const json = await request(`${sim.authBaseUrl}/oauth/device/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(base),
    });
    assertOauthError(json, 400, 'invalid_request', 'TokenBadRequestResponse');
  });

  it('polling: 403 authorization_pending, 400 slow_down when too fast, 200 TokenResponse after approval', async () => {
    const { deviceCode, verifier, userCode } = await startDeviceFlow(sim);
    assertOauthError(await poll(sim, deviceCode, verifier), 403, 'authorization_pending', 'TokenAuthorizationPendingResponse');
    clock.advance(2);
    assertOauthError(await poll(sim, deviceCode, verifier), 400, 'slow_down', 'TokenSlowDownResponse');
    clock.advance(5);
    assertOauthError(await poll(sim, deviceCode, verifier), 403, 'authorization_pending', 'TokenAuthorizationPendingResponse');
    sim.approve(userCode);
    assert.strictEqual(sim.lastDeviceCode().state, 'approved');
    clock.advance(5);
    const ok = await poll(sim, deviceCode, verifier);
    assert.strictEqual(ok.status, 200);
    assertGcdm('TokenResponse', ok.json);
    assert.strictEqual(ok.json.token_type, 'Bearer');
    assert.strictEqual(ok.json.expires_in, 3599);
    assert.strictEqual(ok.json.gcid, sim.gcid);
    assert.strictEqual(ok.json.scope, FULL_SCOPE);
    assert.ok(ok.json.access_token.length >= 40 && ok.json.access_token.length <= 60);
    const [header, payload, signature] = ok.json.id_token.split('.');
    assert.ok(signature.length > 0);
    assert.strictEqual(JSON.parse(Buffer.from(header, 'base64url').toString()).typ, 'JWT');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    assert.strictEqual(claims.sub, sim.gcid);
    assert.strictEqual(claims.iat, Math.floor(clock.t / 1000));
    assert.strictEqual(claims.exp, claims.iat + 3599);
    assert.strictEqual(sim.lastDeviceCode().state, 'used');
    // The access token works for REST; the device code is single use.
    assert.strictEqual((await rest(sim, 'GET', '/customers/vehicles/mappings', { token: ok.json.access_token })).status, 200);
    clock.advance(5);
    assertOauthError(await poll(sim, deviceCode, verifier), 400, 'invalid_grant', 'TokenBadRequestResponse');
  });

  it('403 access_denied after deny, 401 expired_token after expiry, 401 invalid_client for another client', async () => {
    const denied = await startDeviceFlow(sim);
    sim.deny(denied.userCode);
    assertOauthError(await poll(sim, denied.deviceCode, denied.verifier), 403, 'access_denied', 'TokenAccessDeniedResponse');

    const expired = await startDeviceFlow(sim);
    sim.expireDeviceCode(expired.userCode);
    assert.strictEqual(sim.lastDeviceCode().state, 'expired');
    assertOauthError(await poll(sim, expired.deviceCode, expired.verifier), 401, 'expired_token', 'TokenExpiredResponse');

    const byClock = await startDeviceFlow(sim);
    clock.advance(301);
    assertOauthError(await poll(sim, byClock.deviceCode, byClock.verifier), 401, 'expired_token', 'TokenExpiredResponse');

    const other = await startDeviceFlow(sim);
    assertOauthError(
      await poll(sim, other.deviceCode, other.verifier, 'b1b2b3b4-0000-4000-8000-000000000000'),
      401,
      'invalid_client',
      'TokenInvalidClientResponse',
    );
    assertOauthError(await poll(sim, 'no-such-device-code', other.verifier), 400, 'invalid_grant', 'TokenBadRequestResponse');
  });

  it('400 invalid_grant for a wrong PKCE verifier, without burning the code', async () => {
    const flow = await startDeviceFlow(sim);
    sim.approve(flow.userCode);
    assertOauthError(await poll(sim, flow.deviceCode, pkce().verifier), 400, 'invalid_grant', 'TokenBadRequestResponse');
    clock.advance(5);
    assert.strictEqual((await poll(sim, flow.deviceCode, flow.verifier)).status, 200);
  });

  it('without scope the token lacks cardata:api:read and REST answers CU-103', async () => {
    const flow = await startDeviceFlow(sim, { scope: null });
    sim.approve(flow.userCode);
    const res = await poll(sim, flow.deviceCode, flow.verifier);
    assert.strictEqual(res.status, 200);
    assert.ok(!res.json.scope.split(' ').includes('cardata:api:read'));
    assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { token: res.json.access_token }), 403, 'CU-103');
  });

  it('refresh rotates: new token set, the old refresh token answers invalid_grant', async () => {
    const first = sim.issueTokens({ clientId: CLIENT_ID });
    const res = await refresh(sim, first.refresh_token);
    assert.strictEqual(res.status, 200);
    assertGcdm('TokenResponse', res.json);
    assert.notStrictEqual(res.json.access_token, first.access_token);
    assert.notStrictEqual(res.json.refresh_token, first.refresh_token);
    assert.notStrictEqual(res.json.id_token, first.id_token);
    assert.strictEqual((await rest(sim, 'GET', '/customers/vehicles/mappings', { token: res.json.access_token })).status, 200);
    const reused = await refresh(sim, first.refresh_token);
    assertOauthError(reused, 400, 'invalid_grant', 'TokenBadRequestResponse');
    assert.strictEqual(reused.json.error_description, 'The provided access grant is invalid, expired, or revoked.');
    // The rotated one still works, also after the access token expired.
    clock.advance(3600);
    const again = await refresh(sim, res.json.refresh_token);
    assert.strictEqual(again.status, 200);
    // Another client cannot use it; an expired refresh token is invalid_grant too.
    assertOauthError(await refresh(sim, again.json.refresh_token, 'b1b2b3b4-0000-4000-8000-000000000000'), 400, 'invalid_grant', 'TokenBadRequestResponse');
    clock.advance(1_209_600);
    assertOauthError(await refresh(sim, again.json.refresh_token), 400, 'invalid_grant', 'TokenBadRequestResponse');
  });

  it('the approval page shows the code with #approve / #deny and records the decision', async () => {
    const flow = await startDeviceFlow(sim);
    const page = await request(`${sim.authBaseUrl}/oneid/link?user_code=${flow.userCode}`);
    assert.strictEqual(page.status, 200);
    assert.match(page.headers['content-type'], /^text\/html/);
    const html = page.body.toString();
    assert.ok(html.includes(flow.userCode));
    assert.match(html, /id="approve"/);
    assert.match(html, /id="deny"/);
    assert.match(html, /[Ss]imulator/);
    const approved = await request(`${sim.authBaseUrl}/oneid/approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `user_code=${flow.userCode.toLowerCase()}`,
    });
    assert.strictEqual(approved.status, 200);
    assert.match(approved.body.toString(), /approved/i);
    assert.strictEqual(sim.lastDeviceCode().state, 'approved');

    const other = await startDeviceFlow(sim);
    const deny = await request(`${sim.authBaseUrl}/oneid/deny`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `user_code=${other.userCode}`,
    });
    assert.match(deny.body.toString(), /denied/i);
    assert.strictEqual(sim.lastDeviceCode().state, 'denied');

    const entry = await request(`${sim.authBaseUrl}/oneid/link`);
    assert.strictEqual(entry.status, 200);
    assert.match(entry.body.toString(), /name="user_code"/);
    assert.strictEqual((await request(`${sim.authBaseUrl}/oneid/link?user_code=NOPE1234`)).status, 404);
  });

  it('autoApprove approves codes as soon as they are issued', async () => {
    sim.setAutoApprove(true);
    try {
      const flow = await startDeviceFlow(sim);
      assert.strictEqual(sim.lastDeviceCode().state, 'approved');
      assert.strictEqual((await poll(sim, flow.deviceCode, flow.verifier)).status, 200);
    } finally {
      sim.setAutoApprove(false);
    }
  });

  it('logs auth calls with grant type, refresh token and OAuth error', async () => {
    sim.clearLog();
    const set = sim.issueTokens({ clientId: CLIENT_ID });
    await refresh(sim, set.refresh_token);
    await refresh(sim, set.refresh_token);
    assert.deepStrictEqual(
      sim.requests.map((r) => [r.kind, r.method, r.path, r.status, r.grantType, r.refreshToken, r.oauthError]),
      [
        ['auth', 'POST', '/gcdm/oauth/token', 200, 'refresh_token', set.refresh_token, undefined],
        ['auth', 'POST', '/gcdm/oauth/token', 400, 'refresh_token', set.refresh_token, 'invalid_grant'],
      ],
    );
    assert.strictEqual(sim.restCalls().length, 0);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('simulator: daily quota', () => {
  it('counts every authenticated REST call, not auth failures or token calls, and answers CU-429 at the limit', async () => {
    const clock = fakeClock('2026-04-20T23:59:00Z');
    const sim = await startSimulator({ now: clock.now, dailyQuota: 5, pollIntervalSec: 0 });
    try {
      const set = sim.issueTokens({ clientId: CLIENT_ID });
      assert.deepStrictEqual(sim.quota(), { used: 0, limit: 5, resetsAt: '2026-04-21T00:00:00.000Z' });
      assert.strictEqual((await rest(sim, 'GET', '/customers/vehicles/mappings', { token: set.access_token })).status, 200);
      assert.strictEqual(sim.quota().used, 1);
      // Validation failures count.
      assertError(await rest(sim, 'GET', '/customers/vehicles/bad/basicData', { token: set.access_token }), 400, 'CU-120');
      assert.strictEqual(sim.quota().used, 2);
      // Container management counts.
      const c = await createContainer(sim, set.access_token, [SOC_KEY]);
      assert.strictEqual(sim.quota().used, 3);
      // Refused for auth: not counted. Token endpoint: not counted.
      await rest(sim, 'GET', '/customers/vehicles/mappings');
      await rest(sim, 'GET', '/customers/vehicles/mappings', { token: 'unknown' });
      await rest(sim, 'GET', '/customers/vehicles/mappings', { token: sim.issueTokens({ scope: 'openid' }).access_token });
      const refreshed = await refresh(sim, set.refresh_token);
      await startDeviceFlow(sim);
      assert.strictEqual(sim.quota().used, 3);
      const token = refreshed.json.access_token;
      await rest(sim, 'GET', `/customers/containers/${c.containerId}`, { token });
      await rest(sim, 'GET', '/customers/containers', { token });
      assert.strictEqual(sim.quota().used, 5);
      // Spent: CU-429 as 403, and the work is not done.
      assertError(await rest(sim, 'DELETE', `/customers/containers/${c.containerId}`, { token }), 403, 'CU-429');
      assert.strictEqual(sim.quota().used, 5);
      sim.setDailyQuota(6);
      const details = await rest(sim, 'GET', `/customers/containers/${c.containerId}`, { token });
      assert.strictEqual(details.json.state, 'ACTIVE');
      assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { token }), 403, 'CU-429');
      // Midnight UTC of the simulator clock resets it.
      clock.advance(61);
      assert.deepStrictEqual(sim.quota(), { used: 0, limit: 6, resetsAt: '2026-04-22T00:00:00.000Z' });
      assert.strictEqual((await rest(sim, 'GET', '/customers/vehicles/mappings', { token })).status, 200);
      assert.strictEqual(sim.quota().used, 1);
      sim.setQuotaUsed(6);
      assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { token }), 403, 'CU-429');
    } finally {
      await sim.close();
    }
  });

  it('defaults to 50 calls a day', async () => {
    const sim = await startSimulator();
    try {
      assert.strictEqual(sim.quota().limit, 50);
      const token = sim.issueTokens().access_token;
      sim.setQuotaUsed(49);
      assert.strictEqual((await rest(sim, 'GET', '/customers/vehicles/mappings', { token })).status, 200);
      assertError(await rest(sim, 'GET', '/customers/vehicles/mappings', { token }), 403, 'CU-429');
    } finally {
      await sim.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('simulator: fault injection and request log', () => {
  let sim;
  let token;

  before(async () => {
    sim = await startSimulator({ dailyQuota: 100 });
    token = sim.issueTokens().access_token;
  });
  after(() => sim.close());
  beforeEach(() => {
    sim.faults.reset();
    sim.clearLog();
  });

  it('failNext answers the status with Retry-After, is not counted, then recovers', async () => {
    const before = sim.quota().used;
    sim.faults.failNext(2, 503, { retryAfterSec: 7 });
    for (let i = 0; i < 2; i++) {
      const res = await rest(sim, 'GET', '/customers/vehicles/mappings', { token });
      assertError(res, 503, 'CU-503');
      assert.strictEqual(res.headers['retry-after'], '7');
    }
    assert.strictEqual(sim.quota().used, before);
    assert.strictEqual((await rest(sim, 'GET', '/customers/vehicles/mappings', { token })).status, 200);
    assert.strictEqual(sim.quota().used, before + 1);
    assert.deepStrictEqual(
      sim.restCalls().map((r) => [r.status, r.exveErrorId]),
      [
        [503, 'CU-503'],
        [503, 'CU-503'],
        [200, undefined],
      ],
    );
  });

  it('failNext with a path only hits matching requests', async () => {
    sim.faults.failNext(1, 500, { path: /\/image$/ });
    assert.strictEqual((await rest(sim, 'GET', '/customers/vehicles/mappings', { token })).status, 200);
    assertError(await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.bev}/image`, { token }), 500, 'CU-500');
    assert.strictEqual((await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.bev}/image`, { token })).status, 200);
  });

  it('dropNext destroys the socket without an answer and logs status 0', async () => {
    const before = sim.quota().used;
    sim.faults.dropNext(1, { path: /mappings/ });
    await assert.rejects(
      rest(sim, 'GET', '/customers/vehicles/mappings', { token }),
      (err: Error & { code?: string }) => ['ECONNRESET', 'ECONNREFUSED'].includes(err.code) || /socket hang up/.test(err.message),
    );
    assert.strictEqual(sim.quota().used, before);
    assert.strictEqual((await rest(sim, 'GET', '/customers/vehicles/mappings', { token })).status, 200);
    assert.deepStrictEqual(
      sim.restCalls().map((r) => r.status),
      [0, 200],
    );
  });

  it('failNextRefresh answers 5xx server_error and dropNextRefresh no answer, without using up the refresh token', async () => {
    const set = sim.issueTokens({ clientId: CLIENT_ID });
    sim.faults.failNextRefresh(2);
    sim.faults.failNextRefresh(1, 503);
    sim.faults.dropNextRefresh(1);
    for (const status of [500, 500, 503]) {
      const res = await refresh(sim, set.refresh_token);
      assert.strictEqual(res.status, status);
      assert.deepStrictEqual(res.json, { error: 'server_error', error_description: 'Internal server error.' });
    }
    await assert.rejects(
      refresh(sim, set.refresh_token),
      (err: Error & { code?: string }) => ['ECONNRESET', 'ECONNREFUSED'].includes(err.code) || /socket hang up/.test(err.message),
    );
    const ok = await refresh(sim, set.refresh_token);
    assert.strictEqual(ok.status, 200, 'the refresh token was not used up by the failed attempts');
    const auth = sim.requests.filter((r) => r.kind === 'auth');
    assert.deepStrictEqual(
      auth.map((r) => [r.status, r.oauthError]),
      [
        [500, 'server_error'],
        [500, 'server_error'],
        [503, 'server_error'],
        [0, undefined],
        [200, undefined],
      ],
    );
    assert.throws(() => sim.faults.failNextRefresh(1, 404), /500, 502 or 503/);
  });

  it('latencyMs delays REST answers but not token calls', async () => {
    sim.faults.latencyMs = 150;
    let t = Date.now();
    assert.strictEqual((await rest(sim, 'GET', '/customers/vehicles/mappings', { token })).status, 200);
    assert.ok(Date.now() - t >= 140, `answered after ${Date.now() - t} ms`);
    t = Date.now();
    await refresh(sim, sim.issueTokens().refresh_token);
    assert.ok(Date.now() - t < 140);
    sim.faults.reset();
    t = Date.now();
    await rest(sim, 'GET', '/customers/vehicles/mappings', { token });
    assert.ok(Date.now() - t < 100);
  });

  it('logs every request in order with kind, path, query, bearer, status and error id', async () => {
    await rest(sim, 'GET', '/customers/vehicles/mappings', { token });
    await rest(sim, 'GET', `/customers/vehicles/${SIM_VINS.bev}/chargingHistory?from=2026-01-01T00:00:00Z&to=x`, { token });
    await request(`${sim.authBaseUrl}/oneid/link`);
    await rest(sim, 'GET', '/customers/vehicles/mappings');
    const log = sim.requests;
    assert.strictEqual(log.length, 4);
    assert.deepStrictEqual(
      log.map((r) => [r.kind, r.method, r.path, r.status, r.exveErrorId, r.bearer]),
      [
        ['rest', 'GET', '/customers/vehicles/mappings', 200, undefined, token],
        ['rest', 'GET', `/customers/vehicles/${SIM_VINS.bev}/chargingHistory`, 400, 'CU-401', token],
        ['page', 'GET', '/gcdm/oneid/link', 200, undefined, undefined],
        ['rest', 'GET', '/customers/vehicles/mappings', 401, 'CU-100', undefined],
      ],
    );
    assert.deepStrictEqual(log[1].query, { from: '2026-01-01T00:00:00Z', to: 'x' });
    assert.ok(log.every((r, i) => typeof r.at === 'number' && (i === 0 || r.at >= log[i - 1].at)));
    assert.strictEqual(sim.restCalls().length, 3);
    sim.clearLog();
    assert.strictEqual(log.length, 0, 'clearLog empties the same array');
  });

  it('never writes to stdout or stderr', async () => {
    const written = [];
    const out = process.stdout.write;
    const err = process.stderr.write;
    process.stdout.write = (chunk, ...rest) => (written.push(String(chunk)), out.call(process.stdout, chunk, ...rest));
    process.stderr.write = (chunk, ...rest) => (written.push(String(chunk)), err.call(process.stderr, chunk, ...rest));
    try {
      const flow = await startDeviceFlow(sim);
      sim.approve(flow.userCode);
      const tokens = await poll(sim, flow.deviceCode, flow.verifier);
      await refresh(sim, tokens.json.refresh_token);
      await rest(sim, 'GET', '/customers/vehicles/mappings', { token: tokens.json.access_token });
      await rest(sim, 'GET', '/customers/vehicles/mappings', { token: 'garbage' });
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }
    assert.deepStrictEqual(written, []);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('simulator: CLI', () => {
  const cli = path.join(ROOT, 'src', 'simulator', 'cli.ts');

  function run(args: string[], { untilStdout }: { untilStdout?: string } = {}) {
    return new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [...WITH_SOURCES, cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
        if (untilStdout && stdout.includes(untilStdout)) child.kill('SIGTERM');
      });
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  }

  it('exits with code 2 and a message on bad arguments', async () => {
    for (const args of [['--port', 'abc'], ['--quota'], ['--frobnicate']]) {
      const res = await run(args);
      assert.strictEqual(res.code, 2, JSON.stringify(res));
      assert.match(res.stderr, /cardata-simulator: /);
      assert.match(res.stderr, /Usage:/);
    }
  });

  it('prints URLs and VINs, no token, and stops cleanly on SIGTERM', async () => {
    const res = await run(['--port', '0', '--quota', 'unlimited', '--auto-approve'], { untilStdout: 'Press Ctrl+C' });
    assert.strictEqual(res.code, 0, res.stderr);
    assert.match(res.stdout, /API base URL: +http:\/\/127\.0\.0\.1:\d+\n/);
    assert.match(res.stdout, /Auth base URL: +http:\/\/127\.0\.0\.1:\d+\/gcdm\n/);
    assert.match(res.stdout, /Approval page: +http:\/\/127\.0\.0\.1:\d+\/gcdm\/oneid\/link/);
    for (const vin of Object.values(SIM_VINS)) assert.ok(res.stdout.includes(vin));
    assert.match(res.stdout, /SIGTERM: stopping/);
  });

  it('--help prints the usage and exits 0', async () => {
    const res = await run(['--help']);
    assert.strictEqual(res.code, 0);
    assert.match(res.stdout, /--access-token-ttl/);
  });
});
