// `bmw-cardata mcp` as an assistant meets it: the command started as a process, driven by the MCP SDK's own client
// over standard input and output, against the simulator of BMW.
import assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFile } from 'child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { flattenChargingSession, LiveData, relativeRange, telematicValue } from '../../src/core';
import { STATE_DESCRIPTORS } from '../../src/cli/mcp';

const CLI = path.join(__dirname, '../../dist/src/cli/main.js');
const CLIENT_ID = 'cli-mcp-client-id-0001';
const TOOLS = ['charging_sessions', 'list_vehicles', 'quota', 'search_descriptors', 'vehicle_state'];

function runCli(args) {
  return new Promise<{ code: number | string | null | undefined; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

/** A flat row as the server answers it: the columns without a value left out. */
function compact(row) {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null && v !== ''));
}

/** The server for `config`, with the SDK's client connected to it. */
async function startServer(config, args = []) {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--config', config, ...args], stderr: 'pipe' });
  const server: { stderr: string; client?: Client } = { stderr: '' };
  transport.stderr.on('data', (d) => (server.stderr += d));
  const client = new Client({ name: 'cli-mcp-test', version: '1.0.0' });
  await client.connect(transport);
  server.client = client;
  return server;
}

describe('bmw-cardata mcp: the car as tools for AI assistants', function () {
  let sim;
  let dir;
  let config;
  let server;
  /** Every text any tool answered, for the check that none holds a secret. */
  const answers = [];
  /** Every request the server sent to the simulator. */
  const served = [];
  /** The tokens of every login of the test, and the client ID. */
  const secrets = new Set([CLIENT_ID]);
  const keepSecrets = () => {
    const { tokens } = JSON.parse(fs.readFileSync(config, 'utf8'));
    for (const t of [tokens.accessToken, tokens.refreshToken, tokens.idToken]) if (t) secrets.add(t);
  };
  const urls = () => ['--base-url', sim.apiBaseUrl, '--auth-url', sim.authBaseUrl, '--config', config];
  const cli = async (...args) => {
    const res = await runCli([...args, '--config', config]);
    assert.strictEqual(res.code, 0, res.stderr);
    return res.stdout;
  };
  /** Calls a tool; says what the simulator saw of it (its REST requests) and the answer as text and JSON. */
  async function call(name, args = {}, on = server) {
    sim.clearLog();
    const result = await on.client.callTool({ name, arguments: args });
    const text = result.content.map((c) => c.text).join('\n');
    answers.push(text);
    served.push(...sim.restCalls());
    return { result, text, json: result.isError ? undefined : JSON.parse(text), rest: sim.restCalls() };
  }

  before(async () => {
    sim = await startSimulator({ autoApprove: true, pollIntervalSec: 0, dailyQuota: 1000 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-mcp-'));
    config = path.join(dir, 'account.json');
    const login = await runCli(['login', '--client-id', CLIENT_ID, ...urls()]);
    assert.strictEqual(login.code, 0, login.stderr);
    keepSecrets();
    // Basic data read by hand earlier: the server names the car by its model at no call.
    await cli('basic-data', '--vin', SIM_VINS.phev);
    server = await startServer(config, ['--names', `${SIM_VINS.bev}=Blue i4`]);
  });
  after(async () => {
    await server?.client.close();
    await sim?.close();
  });

  it('offers five read-only tools, each with the input it takes', async () => {
    const { tools } = await server.client.listTools();
    assert.deepStrictEqual(tools.map((t) => t.name).sort(), TOOLS);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    for (const t of tools) {
      assert.strictEqual(t.annotations.readOnlyHint, true, t.name);
      assert.strictEqual(t.annotations.destructiveHint, false, t.name);
      assert.match(t.description, /call/, `${t.name} says what it costs`);
    }
    assert.deepStrictEqual(byName.list_vehicles.inputSchema.properties, {});
    assert.deepStrictEqual(byName.quota.inputSchema.properties, {});
    const sessions = byName.charging_sessions.inputSchema;
    assert.deepStrictEqual(sessions.required, ['vin']);
    assert.deepStrictEqual(Object.keys(sessions.properties).sort(), ['from', 'limit', 'range', 'time_zone', 'to', 'vin']);
    assert.deepStrictEqual(sessions.properties.range.enum, ['last 24 hours', 'last 7 days', 'last 30 days', 'this month', 'last month']);
    assert.strictEqual(sessions.properties.limit.type, 'integer');
    const state = byName.vehicle_state.inputSchema;
    assert.deepStrictEqual(state.required, ['vin']);
    assert.deepStrictEqual(state.properties.source.enum, ['auto', 'live', 'bmw']);
    assert.strictEqual(state.properties.descriptors.type, 'array');
    assert.deepStrictEqual(byName.search_descriptors.inputSchema.required, ['text']);
  });

  it('list_vehicles: the mapped cars, PRIMARY marked, with names; asked again, the cache answers at no call', async () => {
    const first = await call('list_vehicles');
    assert.ok(!first.result.isError, first.text);
    assert.deepStrictEqual(
      first.rest.map((r) => r.path),
      ['/customers/vehicles/mappings'],
    );
    assert.strictEqual(first.json.source, 'BMW');
    assert.strictEqual(first.json.age, 'just now');
    assert.strictEqual(first.json.cost.calls, 1);
    const cars = Object.fromEntries(first.json.vehicles.map((v) => [v.vin, v]));
    assert.deepStrictEqual(Object.keys(cars).sort(), [SIM_VINS.bev, SIM_VINS.phev, SIM_VINS.secondary].sort());
    assert.deepStrictEqual(
      [cars[SIM_VINS.bev], cars[SIM_VINS.phev], cars[SIM_VINS.secondary]].map((c) => [c.name, c.mappingType, c.primary]),
      [
        ['Blue i4', 'PRIMARY', true],
        ['330e', 'PRIMARY', true],
        [SIM_VINS.secondary, 'SECONDARY', false],
      ],
    );
    const again = await call('list_vehicles');
    assert.strictEqual(again.rest.length, 0, 'no call');
    assert.strictEqual(again.json.source, 'cache');
    assert.match(again.json.age, /^\d+ s old$/);
    assert.strictEqual(typeof again.json.ageSeconds, 'number');
    assert.strictEqual(again.json.cost.calls, 0);
    assert.deepStrictEqual(again.json.vehicles, first.json.vehicles);
  });

  it("charging_sessions for last month: the simulator's sessions as compact flat rows; the same question again costs nothing", async () => {
    const history = JSON.parse(await cli('charging-history', '--vin', SIM_VINS.bev, '--last', 'last-month', '--time-zone', 'UTC'));
    assert.ok(history.length > 2, `${history.length} sessions last month`);
    const first = await call('charging_sessions', { vin: SIM_VINS.bev, range: 'last month', time_zone: 'UTC', limit: 500 });
    assert.ok(!first.result.isError, first.text);
    assert.strictEqual(first.json.source, 'BMW');
    const pages = first.rest.filter((r) => r.path === `/customers/vehicles/${SIM_VINS.bev}/chargingHistory`).length;
    assert.ok(pages >= 1 && pages === first.rest.length, 'only the history was read');
    assert.strictEqual(first.json.cost.calls, pages, 'the cost is the calls the simulator saw');
    const { from, to } = relativeRange('lastMonth', { timeZone: 'UTC' });
    assert.deepStrictEqual(first.json.range, { from, to, name: 'last month', timeZone: 'UTC' });
    assert.strictEqual(first.json.count, history.length);
    assert.deepStrictEqual(
      first.json.sessions,
      history.map((s) => compact(flattenChargingSession(s))),
    );
    assert.ok(
      first.json.sessions.every((s) => !Object.values(s).some((v) => v === null || v === '')),
      'no empty column',
    );
    assert.strictEqual(first.json.note, undefined, 'nothing left out');
    const energy = history.reduce((t, s) => t + (flattenChargingSession(s).energyFromGridKwh ?? 0), 0);
    assert.ok(Math.abs(first.json.totals.energyFromGridKwh - energy) < 0.01);

    const again = await call('charging_sessions', { vin: SIM_VINS.bev, range: 'last month', time_zone: 'UTC', limit: 500 });
    assert.strictEqual(again.rest.length, 0, 'no call');
    assert.strictEqual(again.json.source, 'cache');
    assert.match(again.json.age, / old$/);
    assert.strictEqual(again.json.cost.calls, 0);
    assert.deepStrictEqual(again.json.sessions, first.json.sessions);

    // Capped: the newest two, and a note that more exist (from the cached first page: still no call).
    const capped = await call('charging_sessions', { vin: SIM_VINS.bev, range: 'last month', time_zone: 'UTC', limit: 2 });
    assert.strictEqual(capped.rest.length, 0);
    assert.strictEqual(capped.json.count, 2);
    assert.deepStrictEqual(capped.json.sessions, first.json.sessions.slice(0, 2));
    assert.match(capped.json.note, /^Showing the newest 2; more sessions of the range exist/);
  });

  it("charging_sessions with a tariff in the account file: our cost beside BMW's own in each row and in the totals, at no further call; an unreadable one is refused before any call", async () => {
    const withTariff = (tariff) => fs.writeFileSync(config, JSON.stringify({ ...JSON.parse(fs.readFileSync(config, 'utf8')), tariff }));
    const args = { vin: SIM_VINS.bev, range: 'last month', time_zone: 'UTC', limit: 500 };
    const plain = await call('charging_sessions', args);
    assert.ok(plain.json.count > 2 && plain.json.sessions.every((row) => !Object.keys(row).some((k) => k.startsWith('tariff'))));
    assert.deepStrictEqual(Object.keys(plain.json.totals), ['energyFromGridKwh', 'chargingMinutes']);
    try {
      withTariff({ currency: 'EUR', pricePerKwh: 0.3, perSession: 1 });
      const priced = await call('charging_sessions', args);
      assert.ok(!priced.result.isError, priced.text);
      assert.strictEqual(priced.rest.length, 0, 'the same sessions, from the cache');
      assert.strictEqual(priced.json.count, plain.json.count);
      let total = 0;
      priced.json.sessions.forEach((row, i) => {
        const { tariffCost, tariffCurrency, tariffKwh, tariffMethod, ...rest } = row;
        assert.deepStrictEqual(rest, plain.json.sessions[i], "BMW's columns as they were");
        assert.strictEqual(tariffCost, Math.round((row.energyFromGridKwh * 0.3 + 1) * 100) / 100);
        assert.deepStrictEqual([tariffCurrency, tariffKwh, tariffMethod], ['EUR', row.energyFromGridKwh, 'flat']);
        total += tariffCost;
      });
      assert.ok(Math.abs(priced.json.totals.tariffCost - total) < 0.001, `${priced.json.totals.tariffCost} against ${total}`);
      assert.strictEqual(priced.json.totals.tariffCurrency, 'EUR');

      withTariff({ currency: 'EUR' });
      const refused = await call('charging_sessions', { ...args, range: 'last 7 days' });
      assert.ok(refused.result.isError);
      assert.match(refused.text, /the "tariff" of .*account\.json: pricePerKwh must be a number/);
      assert.strictEqual(refused.rest.length, 0);
    } finally {
      withTariff(undefined);
    }
  });

  it('quota: calls used and left today, the reserve and the reset, as the command line counts them; no call', async () => {
    const res = await call('quota');
    assert.strictEqual(res.rest.length, 0);
    const counted = JSON.parse(await cli('quota'));
    assert.strictEqual(res.json.source, 'quota ledger');
    assert.strictEqual(res.json.usedToday, counted.used);
    assert.ok(counted.used >= 4, `${counted.used} used`);
    assert.strictEqual(res.json.limit, 50);
    assert.strictEqual(res.json.leftToday, counted.remaining);
    assert.strictEqual(res.json.reserve, 10);
    assert.strictEqual(res.json.leftForAssistant, 50 - 10 - counted.used);
    assert.strictEqual(res.json.resetsAt, counted.resetsAt);
    assert.match(res.json.resetsIn, /\d+ (h|min|s)/);
    assert.strictEqual(res.json.cost.calls, 0);
  });

  it("search_descriptors('state of charge'): the catalogue's best match first, with its English and German words; no call", async () => {
    const res = await call('search_descriptors', { text: 'state of charge' });
    assert.strictEqual(res.rest.length, 0);
    assert.strictEqual(res.json.source, 'catalogue');
    assert.strictEqual(res.json.cost.calls, 0);
    const first = res.json.results[0];
    assert.strictEqual(first.key, 'vehicle.drivetrain.batteryManagement.header');
    assert.strictEqual(first.unit, '%');
    assert.match(first.words, /state of charge.*ladestand/);
    const byCli = JSON.parse(await cli('descriptors', '--search', 'state of charge'));
    assert.deepStrictEqual(
      res.json.results.map((r) => r.key),
      byCli.slice(0, 10).map((d) => d.id),
    );
    assert.strictEqual(res.json.count, byCli.length);
  });

  it('vehicle_state: never creates a container; reads the one the command line set up, then the cache; keeps the newest login in the account file', async () => {
    const missing = await call('vehicle_state', { vin: SIM_VINS.bev });
    assert.strictEqual(missing.result.isError, true, missing.text);
    assert.match(
      missing.text,
      /^no container of the account holds exactly these \d+ descriptors, and the assistant never creates one\nhint: Set one up once by hand: bmw-cardata telematics --vin WBY31AW090FP15732 --descriptors vehicle\./,
    );
    assert.match(missing.text, /\ncost: 1 call \(/);
    assert.deepStrictEqual(
      missing.rest.map((r) => `${r.method} ${r.path}`),
      ['GET /customers/containers'],
      'looked, created nothing',
    );
    const soon = await call('vehicle_state', { vin: SIM_VINS.bev });
    assert.match(soon.text, /looked a moment ago/);
    assert.strictEqual(soon.rest.length, 0, 'not looked up again at once');

    // The user logs in again (BMW rotates the tokens) and sets the container up by hand, as the hint says.
    const relogin = await runCli(['login', '--client-id', CLIENT_ID, ...urls()]);
    assert.strictEqual(relogin.code, 0, relogin.stderr);
    keepSecrets();
    const newest = JSON.parse(fs.readFileSync(config, 'utf8')).tokens.refreshToken;
    const byHand = JSON.parse(await cli('telematics', '--vin', SIM_VINS.bev, '--descriptors', STATE_DESCRIPTORS.join(',')));

    const read = await call('vehicle_state', { vin: SIM_VINS.bev });
    assert.ok(!read.result.isError, read.text);
    assert.deepStrictEqual(
      read.rest.map((r) => `${r.method} ${r.path}`),
      [`GET /customers/vehicles/${SIM_VINS.bev}/telematicData`],
      'the remembered container: the read alone',
    );
    assert.strictEqual(read.json.source, 'BMW');
    assert.strictEqual(read.json.cost.calls, 1);
    const values = Object.fromEntries(read.json.values.map((v) => [v.key, v]));
    const soc = values['vehicle.drivetrain.batteryManagement.header'];
    assert.strictEqual(soc.value, Number(byHand.telematicData['vehicle.drivetrain.batteryManagement.header'].value), 'typed as a number');
    assert.strictEqual(soc.unit, '%');
    for (const [key, entry] of Object.entries<any>(byHand.telematicData)) {
      if (entry.value === null || entry.value === '') assert.ok(read.json.notReported.includes(key), key);
      else assert.strictEqual(values[key].value, telematicValue(key, entry.value), key);
    }
    assert.strictEqual(JSON.parse(fs.readFileSync(config, 'utf8')).tokens.refreshToken, newest, 'the server kept the newer login when it saved the container');

    const again = await call('vehicle_state', { vin: SIM_VINS.bev });
    assert.strictEqual(again.rest.length, 0);
    assert.strictEqual(again.json.source, 'cache');
    assert.strictEqual(again.json.cost.calls, 0);
    assert.deepStrictEqual(again.json.values, read.json.values);
  });

  it("vehicle_state: the bridge's saved live data answers at no call, with its age", async () => {
    const live = new LiveData();
    const at = new Date(Date.now() - 5 * 60_000).toISOString();
    live.ingest({
      vin: SIM_VINS.bev,
      topic: SIM_VINS.bev,
      timestamp: at,
      data: {
        'vehicle.drivetrain.batteryManagement.header': { value: '67', unit: '%', timestamp: at },
        'vehicle.vehicle.travelledDistance': { value: '41600', unit: 'km', timestamp: at },
        'vehicle.body.chargingPort.status': { value: 'CONNECTED', timestamp: at },
      },
    });
    fs.writeFileSync(path.join(dir, 'bridge-state.json'), JSON.stringify({ version: 1, live: live.serialize(), vehicles: {} }));
    const res = await call('vehicle_state', { vin: SIM_VINS.bev });
    assert.ok(!res.result.isError, res.text);
    assert.strictEqual(res.rest.length, 0);
    assert.strictEqual(res.json.source, 'live');
    assert.match(res.json.age, /^5 min since the newest reading$/);
    assert.strictEqual(res.json.cost.calls, 0);
    const values = Object.fromEntries(res.json.values.map((v) => [v.key, v.value]));
    assert.deepStrictEqual(values, {
      'vehicle.drivetrain.batteryManagement.header': 67,
      'vehicle.vehicle.travelledDistance': 41600,
      'vehicle.body.chargingPort.status': 'CONNECTED',
    });
    assert.ok(res.json.notInLiveData.includes('vehicle.drivetrain.totalRemainingRange'));

    const fromBmw = await call('vehicle_state', { vin: SIM_VINS.bev, source: 'bmw' });
    assert.strictEqual(fromBmw.json.source, 'cache', 'asked of BMW: the answer kept from before');
    const none = await call('vehicle_state', { vin: SIM_VINS.phev, source: 'live' });
    assert.strictEqual(none.result.isError, true);
    assert.match(none.text, /^no live data of WBA5P710X0FK48219 in .*bridge-state\.json\nhint: The bridge \(bmw-cardata bridge\) saves/);
    assert.strictEqual(none.rest.length, 0);
  });

  it("errors come back as tool errors in core's words (message and hint) with their cost, never a stack", async () => {
    const denied = await call('charging_sessions', { vin: SIM_VINS.secondary, range: 'last 7 days' });
    assert.strictEqual(denied.result.isError, true);
    assert.match(
      denied.text,
      /^getChargingHistory: BMW CarData error CU-104: No permission for specified VIN \(HTTP 403\)\nhint: This VIN is not mapped to the account as PRIMARY user/,
    );
    assert.match(denied.text, /\ncost: 1 call \(\d+ of 50 used today; \d+ left for the assistant, 10 kept in reserve; resets /);
    const badVin = await call('charging_sessions', { vin: 'abc', range: 'last month' });
    assert.match(badVin.text, /^The VIN must be 17 characters, got 3\nhint: Copy the VIN from the mapped vehicles\.\ncost: 0 calls/);
    assert.strictEqual(badVin.rest.length, 0);
    const both = await call('charging_sessions', { vin: SIM_VINS.bev, range: 'last month', from: '2026-01-01' });
    assert.match(both.text, /^give either range or from and to, not both/);
    for (const r of [denied, badVin, both]) assert.doesNotMatch(r.text, /\n\s+at |\.js:\d+/);

    const empty = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-mcp-none-')), 'account.json');
    const loggedOut = await startServer(empty);
    try {
      const res = await call('list_vehicles', {}, loggedOut);
      assert.strictEqual(res.result.isError, true);
      assert.match(res.text, /^not logged in \(no tokens in .*account\.json\)\nhint: Run: bmw-cardata login --client-id <your client ID>\ncost: 0 calls$/);
      assert.strictEqual(res.rest.length, 0);
    } finally {
      await loggedOut.client.close();
    }
  });

  it('a call that would dip into the reserve is refused with a clear text and nothing spent; cached answers still come, and a command typed by hand may still call', async () => {
    const quotaFile = path.join(dir, 'quota.json');
    const ledger = JSON.parse(fs.readFileSync(quotaFile, 'utf8'));
    const key = Object.keys(ledger.accounts)[0];
    assert.strictEqual(key, sim.gcid, 'counted per BMW account');
    ledger.accounts[key] = { ...ledger.accounts[key], used: 40 };
    fs.writeFileSync(quotaFile, JSON.stringify(ledger));

    const refused = await call('charging_sessions', { vin: SIM_VINS.bev, range: 'last 7 days' });
    assert.strictEqual(refused.result.isError, true);
    assert.strictEqual(refused.rest.length, 0, 'BMW was not called');
    assert.match(
      refused.text,
      /^getChargingHistory: the last 10 of the 50 daily CarData calls are kept in reserve for what you start by hand \(40 used\); refused locally, BMW was not called\./,
    );
    assert.match(refused.text, /\nhint: The assistant counts as unattended work: the last calls of the day are kept for the commands you type/);
    assert.match(refused.text, /\ncost: 0 calls \(40 of 50 used today; 0 left for the assistant, 10 kept in reserve; /);

    const cached = await call('list_vehicles');
    assert.ok(!cached.result.isError, cached.text);
    assert.strictEqual(cached.json.source, 'cache');
    assert.strictEqual(cached.json.cost.leftForAssistant, 0);
    const quota = await call('quota');
    assert.strictEqual(quota.json.leftForAssistant, 0);
    assert.strictEqual(quota.json.leftToday, 10);

    const byHand = await runCli(['vehicles', '--max-age', '0', '--config', config]);
    assert.strictEqual(byHand.code, 0, byHand.stderr);
    assert.match(byHand.stderr, /quota: 41\/50 calls used today/);
  });

  it('read only: the server sent BMW nothing but reads; no answer holds a token or the client ID', () => {
    assert.ok(served.length >= 5, `${served.length} requests`);
    assert.deepStrictEqual([...new Set(served.map((r) => r.method))], ['GET']);
    keepSecrets();
    assert.ok(secrets.size >= 5, 'the tokens of both logins');
    assert.ok(answers.length >= 10, `${answers.length} answers`);
    for (const text of [...answers, server.stderr]) for (const secret of secrets) assert.ok(!text.includes(secret), 'a secret in an answer');
  });
});
