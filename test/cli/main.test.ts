import assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFile } from 'child_process';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { spawnBridge } from '../support/bridge';

const CLI = path.join(__dirname, '../../dist/src/cli/main.js');

// The command line in English (its messages follow LANG), whatever the machine's locale.
const ENGLISH = { LANG: 'C', LC_ALL: '', LC_MESSAGES: '' };

function runCli(args: string[], env: Record<string, string> = {}, cwd: string | undefined = undefined) {
  return new Promise<{ code: number | string | null | undefined; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...ENGLISH, ...env }, timeout: 30_000, cwd }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

describe('command line', function () {
  let sim;
  let dir;
  let config;
  const urls = () => ['--base-url', sim.apiBaseUrl, '--auth-url', sim.authBaseUrl, '--config', config];

  before(async () => {
    sim = await startSimulator({ autoApprove: true, pollIntervalSec: 0, chargingSessions: 400, dailyQuota: 1000 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-cli-'));
    config = path.join(dir, 'account.json');
  });
  after(async () => {
    await sim.close();
  });

  it('logs in with the device flow and saves the tokens with mode 0600', async () => {
    const res = await runCli(['login', '--client-id', 'cli-client-id', ...urls()]);
    assert.strictEqual(res.code, 0, res.stderr);
    assert.match(res.stderr, /oneid\/link\?user_code=/);
    assert.match(res.stderr, /Logged in/);
    assert.ok(!res.stderr.includes('cli-client-id'), 'the client ID is not printed');
    const saved = JSON.parse(fs.readFileSync(config, 'utf8'));
    assert.ok(saved.tokens.refreshToken);
    assert.strictEqual(saved.tokens.gcid, sim.gcid);
    assert.ok(!res.stderr.includes(saved.tokens.refreshToken), 'no token on the terminal');
    assert.strictEqual(fs.statSync(config).mode & 0o777, 0o600);
  });

  it('prints the tokens for n8n only when asked', async () => {
    const printed = path.join(dir, 'printed.json');
    const res = await runCli(['login', '--client-id', 'cli-client-id', '--print', ...urls().slice(0, 4), '--config', printed]);
    assert.strictEqual(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout);
    assert.strictEqual(out.refreshToken, JSON.parse(fs.readFileSync(printed, 'utf8')).tokens.refreshToken);
  });

  it('lists vehicles and reports the quota on stderr', async () => {
    const res = await runCli(['vehicles', ...urls()]);
    assert.strictEqual(res.code, 0, res.stderr);
    assert.deepStrictEqual(
      JSON.parse(res.stdout)
        .map((m) => m.vin)
        .sort(),
      [SIM_VINS.bev, SIM_VINS.phev, SIM_VINS.secondary].sort(),
    );
    assert.match(res.stderr, /quota: \d+\/50 calls used today/);
  });

  it('exports several pages of charging history to CSV with a progress line', async () => {
    sim.clearLog();
    const out = path.join(dir, 'history.csv');
    const res = await runCli([
      'charging-history',
      '--vin',
      SIM_VINS.bev,
      '--from',
      new Date(Date.now() - 180 * 86400_000).toISOString(),
      '--to',
      new Date().toISOString(),
      '--format',
      'csv',
      '--out',
      out,
      ...urls(),
    ]);
    assert.strictEqual(res.code, 0, res.stderr);
    const pages = sim.restCalls().filter((r) => r.path.endsWith('/chargingHistory')).length;
    assert.ok(pages >= 3, `expected several pages, got ${pages}`);
    assert.match(res.stderr, new RegExp(`page ${pages} · \\d+ sessions`));
    const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\r\n');
    const header = lines[0].split(',');
    for (const column of ['start', 'end', 'energyFromGridKwh', 'startSoc', 'endSoc', 'mileage']) assert.ok(header.includes(column), `missing column ${column}`);
    const count = Number(res.stderr.match(/(\d+) sessions from/)[1]);
    assert.ok(count > 25);
    assert.strictEqual(lines.length, count + 1, 'one row per session plus the header');
  });

  it('stops at --limit and reads --last ranges', async () => {
    sim.clearLog();
    const res = await runCli(['charging-history', '--vin', SIM_VINS.bev, '--last', '30d', '--limit', '3', ...urls()]);
    assert.strictEqual(res.code, 0, res.stderr);
    const limited = JSON.parse(res.stdout);
    assert.strictEqual(limited.length, 3);
    assert.strictEqual(sim.restCalls().length, 1);
    // What the help says: the newest N of the range, newest first.
    const all = JSON.parse((await runCli(['charging-history', '--vin', SIM_VINS.bev, '--last', '30d', ...urls()])).stdout);
    assert.ok(all.length > 3 && all.every((x) => typeof x.startTime === 'number'), `${all.length} sessions in 30 days`);
    const newest = [...all].sort((a, b) => b.startTime - a.startTime).slice(0, 3);
    assert.deepStrictEqual(
      limited.map((x) => x.startTime),
      newest.map((x) => x.startTime),
    );
    const help = await runCli(['charging-history', '--help']);
    assert.match(help.stdout, /--limit N +The newest N sessions of the range, newest first/);
  });

  it('--out into a missing folder: a clear error naming the folder, before any call (exit 1)', async () => {
    for (const args of [['image', '--vin', SIM_VINS.bev], ['vehicles']]) {
      sim.clearLog();
      const res = await runCli([...args, '--out', '/missing/dir/x.png', ...urls()]);
      assert.strictEqual(res.code, 1, res.stderr);
      assert.match(res.stderr, /^bmw-cardata: Cannot write x\.png in \/missing\/dir \(ENOENT\)\nhint: Check that the folder \/missing\/dir exists/m);
      assert.ok(!/at .*\.js:\d+/.test(res.stderr) && !/^Error: ENOENT/m.test(res.stderr), res.stderr);
      assert.strictEqual(sim.restCalls().length, 0, 'no call spent on it');
    }
  });

  it('CSV where the help offers it; a command without CSV (tyres) says so before any call', async () => {
    const global = (await runCli(['--help'])).stdout;
    assert.match(global, /--format json\|csv +Output format \(default json; CSV where the command's help offers it\)/);
    assert.doesNotMatch((await runCli(['tyres', '--help'])).stdout, /csv/);
    sim.clearLog();
    const res = await runCli(['tyres', '--vin', SIM_VINS.bev, '--format', 'csv', ...urls()]);
    assert.strictEqual(res.code, 2);
    assert.match(res.stderr, /tyres: no CSV output, only JSON \(see bmw-cardata tyres --help\)/);
    assert.strictEqual(sim.restCalls().length, 0);
    const json = await runCli(['tyres', '--vin', SIM_VINS.bev, ...urls()]);
    assert.strictEqual(json.code, 0, json.stderr);
    assert.ok(JSON.parse(json.stdout).passengerCar);
  });

  it('reads telematic values through a managed container', async () => {
    const res = await runCli([
      'telematics',
      '--vin',
      SIM_VINS.bev,
      '--descriptors',
      'vehicle.drivetrain.batteryManagement.header',
      '--format',
      'csv',
      ...urls(),
    ]);
    assert.strictEqual(res.code, 0, res.stderr);
    assert.match(res.stdout, /^descriptor,value,unit,timestamp\r\nvehicle\.drivetrain\.batteryManagement\.header,\d/);
  });

  const bad: [string, string[], number, RegExp][] = [
    ['an unknown command', ['fly'], 2, /unknown command: fly/],
    ['an unknown option', ['vehicles', '--colour', 'red'], 2, /unknown option --colour \(see bmw-cardata --help\)/],
    ['a missing VIN', ['basic-data'], 2, /--vin is required/],
    ['a malformed VIN', ['basic-data', '--vin', 'abc'], 2, /VIN must be 17 characters/],
    ['a bad date', ['charging-history', '--vin', 'WBA00000000000000', '--from', 'yesterday', '--to', '2026-01-01'], 2, /not an ISO 8601 date-time/],
    ['both --last and --from', ['charging-history', '--vin', 'WBA00000000000000', '--last', '7d', '--from', '2026-01-01'], 2, /either --last or --from/],
    ['an unknown --last', ['charging-history', '--vin', 'WBA00000000000000', '--last', 'fortnight'], 2, /--last must be one of/],
    ['a bad format', ['vehicles', '--format', 'xml'], 2, /--format must be json or csv/],
  ];
  for (const [name, args, code, message] of bad) {
    it(`exits ${code} with a clear message on ${name}`, async () => {
      sim.clearLog();
      const res = await runCli([...args, ...urls()]);
      assert.strictEqual(res.code, code, res.stderr);
      assert.match(res.stderr, message);
      assert.strictEqual(sim.restCalls().length, 0);
    });
  }

  it("exits 5, not 3, when BMW's login service answers a firewall page, and keeps the saved login", async () => {
    const saved = JSON.parse(fs.readFileSync(config, 'utf8'));
    const expired = path.join(dir, 'expired.json');
    fs.writeFileSync(expired, JSON.stringify({ ...saved, tokens: { ...saved.tokens, expiresAt: 0 } }));
    sim.faults.answerNext(4, { status: 403, body: '<html><body>Request blocked</body></html>', contentType: 'text/html' }, { path: /oauth\/token/ });
    // A command that always asks BMW (the vehicle list may come from the cache without a login).
    const res = await runCli(['containers', ...urls().slice(0, 4), '--config', expired]);
    sim.faults.reset();
    assert.strictEqual(res.code, 5, res.stderr);
    assert.match(res.stderr, /login service is unavailable \(HTTP 403\)/);
    assert.doesNotMatch(res.stderr, /client ID|authorize|Request blocked/i);
    assert.strictEqual(JSON.parse(fs.readFileSync(expired, 'utf8')).tokens.refreshToken, saved.tokens.refreshToken);
  });

  it('exits 3 when not logged in', async () => {
    const res = await runCli(['vehicles', '--config', path.join(dir, 'none.json')]);
    assert.strictEqual(res.code, 3);
    assert.match(res.stderr, /bmw-cardata login/);
  });

  it('saves the vehicle image as <VIN>.<extension of its type> unless --out names the file', async () => {
    const res = await runCli(['image', '--vin', SIM_VINS.bev, ...urls()], {}, dir);
    assert.strictEqual(res.code, 0, res.stderr);
    const file = path.join(dir, `${SIM_VINS.bev}.png`);
    assert.match(res.stderr, new RegExp(`wrote ${SIM_VINS.bev}\\.png \\(image/png, \\d+ bytes\\)`));
    assert.strictEqual(fs.readFileSync(file).subarray(1, 4).toString('latin1'), 'PNG');
    const named = path.join(dir, 'car.png');
    assert.strictEqual((await runCli(['image', '--vin', SIM_VINS.bev, '--out', named, ...urls()])).code, 0);
    assert.ok(fs.statSync(named).size > 100);
  });

  it('exits 4 when the daily quota is spent', async () => {
    sim.setQuotaUsed(1000);
    const res = await runCli(['containers', ...urls()]);
    assert.strictEqual(res.code, 4);
    assert.match(res.stderr, /quota/);
    sim.setQuotaUsed(0);
  });

  it('has help for every command', async () => {
    for (const command of ['login', 'vehicles', 'telematics', 'charging-history', 'quota', 'image', 'containers']) {
      const res = await runCli([command, '--help']);
      assert.strictEqual(res.code, 0);
      assert.match(res.stdout, new RegExp(`Usage: bmw-cardata ${command}`));
    }
  });

  const usage: [string[], RegExp][] = [
    [['descriptors', 'battery'], /unexpected argument "battery" \(to search: --search "battery"\)/],
    [['vehicles', 'now'], /vehicles: unexpected argument "now"; see bmw-cardata vehicles --help/],
    [['containers', 'list', 'all'], /unexpected argument "all"/],
    [['vehicles', '--frobnicate'], /^bmw-cardata: unknown option --frobnicate \(see bmw-cardata --help\)\n$/],
    [['vehicles', '--base-url', 'not-a-url'], /--base-url must be an http:\/\/ or https:\/\/ URL/],
    [['charging-history', '--vin', 'WBY31AW090FP15732'], /give --last 24h\|7d\|30d\|this-month\|last-month, or --from DATE and --to DATE/],
  ];
  for (const [args, message] of usage) {
    it(`a clear usage error, pointing to --help, for: ${args.join(' ')}`, async () => {
      sim.clearLog();
      const res = await runCli([...args, '--config', config]);
      assert.strictEqual(res.code, 2, res.stderr);
      assert.match(res.stderr, message);
      assert.match(res.stderr, /--help|--search/);
      assert.strictEqual(sim.restCalls().length, 0);
    });
  }

  it("bridge after a login at the simulator: refused without its stream URL rather than sent to BMW's stream; login --stream-url saves it", async () => {
    const streaming = await startSimulator({ autoApprove: true, pollIntervalSec: 0, stream: true });
    const own = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-cli-stream-')), 'account.json');
    const at = ['--base-url', streaming.apiBaseUrl, '--auth-url', streaming.authBaseUrl, '--config', own];
    const running = [];
    try {
      const login = await runCli(['login', '--client-id', 'cli-client-id', ...at]);
      assert.strictEqual(login.code, 0, login.stderr);
      assert.match(login.stderr, /For the bridge, log in again with --stream-url/);
      const refused = spawnBridge(['--dry-run', '--config', own]);
      running.push(refused);
      const { code } = await Promise.race([refused.exited, new Promise((resolve) => setTimeout(() => resolve({ code: 'still running after 10 s' }), 10_000))]);
      assert.strictEqual(code, 2, refused.stderr);
      assert.match(refused.stderr, /bridge: the account is logged in at http:\/\/127\.0\.0\.1:\d+\/gcdm, not at BMW.*give --stream-url/);
      assert.strictEqual(refused.stdout, '', 'nothing published, not even "online"');

      const again = await runCli(['login', '--stream-url', streaming.streamUrl, ...at]);
      assert.strictEqual(again.code, 0, again.stderr);
      assert.strictEqual(JSON.parse(fs.readFileSync(own, 'utf8')).streamUrl, streaming.streamUrl);
      const bridge = spawnBridge(['--dry-run', '--config', own]);
      running.push(bridge);
      await bridge.waitFor(/BMW stream: connected/);
      assert.strictEqual(streaming.stream.connections(), 1, "connected to the simulator's stream");
      assert.strictEqual((await bridge.stop()).code, 0, bridge.stderr);
    } finally {
      for (const b of running) if (b.proc.exitCode === null && b.proc.signalCode === null) b.proc.kill('SIGKILL');
      await streaming.close();
    }
  });

  it('login without --client-id says it reuses the saved one, without showing it', async () => {
    const res = await runCli(['login', ...urls()]);
    assert.strictEqual(res.code, 0, res.stderr);
    assert.match(res.stderr, /Using the client ID saved in .*account\.json/);
    assert.ok(!res.stderr.includes('cli-client-id'));
  });

  it('help lists every command with its cost in one aligned column', async () => {
    const res = await runCli(['--help']);
    const lines = res.stdout.split('\n').filter((l) => /^ {2}[a-z-]+ {2,}.*\((no call|1 call)/.test(l));
    assert.strictEqual(lines.length, 13);
    assert.strictEqual(new Set(lines.map((l) => l.lastIndexOf('('))).size, 1, lines.join('\n'));
  });

  it('a calendar range is taken in the machine time zone, and says which', async () => {
    // A folder of its own: the quota count of the other tests stays behind.
    const own = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-cli-tz-')), 'account.json');
    fs.copyFileSync(config, own);
    const args = [
      'charging-history',
      '--vin',
      SIM_VINS.bev,
      '--last',
      'last-month',
      '--limit',
      '1',
      '--base-url',
      sim.apiBaseUrl,
      '--auth-url',
      sim.authBaseUrl,
      '--config',
      own,
    ];
    const res = await runCli(args, { TZ: 'Europe/Berlin' });
    assert.strictEqual(res.code, 0, res.stderr);
    assert.match(res.stderr, /\(last-month in Europe\/Berlin\)/);
    assert.match(res.stderr, /from \d{4}-\d\d-\d\dT2[23]:00:00Z/, 'midnight in Berlin');
  });

  describe('what the account folder remembers between runs', function () {
    let own;
    const args = () => ['--base-url', sim.apiBaseUrl, '--auth-url', sim.authBaseUrl, '--config', own];
    const served = () => sim.restCalls().map((c) => `${c.method} ${c.path.replace(SIM_VINS.bev, '{vin}').replace(/containers\/\w{13}$/, 'containers/{id}')}`);
    const SOC = 'vehicle.drivetrain.batteryManagement.header';
    beforeEach(() => {
      // A folder of its own: no container or answer of the other tests.
      own = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-cli-mem-')), 'account.json');
      fs.copyFileSync(config, own);
      delete JSON.parse(fs.readFileSync(own, 'utf8')).containers;
    });

    it('telematics run 3 times costs 3 calls once its container is known; the container is in the account file', async () => {
      const descriptors = [SOC, 'vehicle.drivetrain.electricEngine.kombiRemainingElectricRange'].join(',');
      sim.clearLog();
      const first = await runCli(['telematics', '--vin', SIM_VINS.bev, '--descriptors', descriptors, ...args()]);
      assert.strictEqual(first.code, 0, first.stderr);
      const setUp = served();
      assert.strictEqual(setUp[0], 'GET /customers/containers');
      assert.strictEqual(setUp[setUp.length - 1], 'GET /customers/vehicles/{vin}/telematicData');
      const id = JSON.parse(first.stdout).containerId;
      assert.deepStrictEqual(Object.values(JSON.parse(fs.readFileSync(own, 'utf8')).containers), [id]);
      sim.clearLog();
      for (let i = 0; i < 3; i++) {
        const res = await runCli(['telematics', '--vin', SIM_VINS.bev, '--descriptors', descriptors, ...args()]);
        assert.strictEqual(res.code, 0, res.stderr);
        assert.strictEqual(JSON.parse(res.stdout).containerId, id);
      }
      assert.deepStrictEqual(served(), Array(3).fill('GET /customers/vehicles/{vin}/telematicData'));
      assert.ok(JSON.parse(fs.readFileSync(own, 'utf8')).tokens.refreshToken, 'the tokens are still in the account file');
      assert.strictEqual(fs.statSync(own).mode & 0o777, 0o600);

      // BMW no longer knows the container: found or created again once, and that one is remembered.
      const token = JSON.parse(fs.readFileSync(own, 'utf8')).tokens.accessToken;
      const gone = await fetch(`${sim.apiBaseUrl}/customers/containers/${id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}`, 'x-version': 'v1' },
      });
      assert.ok(gone.ok, `deleted at BMW (${gone.status})`);
      sim.clearLog();
      const again = await runCli(['telematics', '--vin', SIM_VINS.bev, '--descriptors', descriptors, ...args()]);
      assert.strictEqual(again.code, 0, again.stderr);
      assert.deepStrictEqual(served(), [
        'GET /customers/vehicles/{vin}/telematicData',
        'GET /customers/containers',
        'POST /customers/containers',
        'GET /customers/vehicles/{vin}/telematicData',
      ]);
      const renewed = JSON.parse(again.stdout).containerId;
      assert.notStrictEqual(renewed, id);
      assert.deepStrictEqual(Object.values(JSON.parse(fs.readFileSync(own, 'utf8')).containers), [renewed]);
    });

    it('basic data and the image asked again within the day cost no call (cache.json beside the account file)', async () => {
      sim.clearLog();
      const first = await runCli(['basic-data', '--vin', SIM_VINS.bev, ...args()]);
      assert.strictEqual(first.code, 0, first.stderr);
      const out = path.join(path.dirname(own), 'car.png');
      assert.strictEqual((await runCli(['image', '--vin', SIM_VINS.bev, '--out', out, ...args()])).code, 0);
      assert.strictEqual(served().length, 2);
      sim.clearLog();
      const second = await runCli(['basic-data', '--vin', SIM_VINS.bev, ...args()]);
      assert.strictEqual(second.code, 0, second.stderr);
      assert.deepStrictEqual(JSON.parse(second.stdout), JSON.parse(first.stdout));
      const image = fs.readFileSync(out);
      fs.rmSync(out);
      assert.strictEqual((await runCli(['image', '--vin', SIM_VINS.bev, '--out', out, ...args()])).code, 0);
      assert.ok(fs.readFileSync(out).equals(image));
      assert.deepStrictEqual(served(), [], 'BMW was not asked again');
      const cache = path.join(path.dirname(own), 'cache.json');
      assert.strictEqual(fs.statSync(cache).mode & 0o777, 0o600);
      assert.ok(!fs.readFileSync(cache, 'utf8').includes('cli-client-id'), 'no secret in the cache');
    });
  });
});
