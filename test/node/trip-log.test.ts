// The trip log (the bridge's finished trips, one JSON line each) and `bmw-cardata trips`, the command that writes a
// range of it as logbook CSV: the real command line, on a log made from the trip scripts as core derives them.
import assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFile } from 'child_process';
import { TripLog, readTripLog, TRIP_LOG_MAX_AGE_MS, TRIP_LOGBOOK_COLUMNS, flattenTrip } from '../../src/node';
import { finishedTrip } from '../support/trip-replay';
import { eventId } from '../../src/cli/bridge-topics';

const CLI = path.join(__dirname, '../../dist/src/cli/main.js');
const DAY = 86_400_000;

function runCli(args) {
  return new Promise<{ code: number | string | null | undefined; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

/** The finished trip of a script started at `start`, as the bridge logs it (with its id first). */
function loggedTrip(name, start) {
  const e = finishedTrip(name, start);
  return { id: eventId(e), ...e };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-trips-'));
const linesOf = (file) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe('the trip log', () => {
  const NOW = Date.parse('2026-11-30T12:00:00Z');

  it('appends each trip once (an id seen before is skipped, also after a restart), in a file only its owner reads', async () => {
    const file = path.join(tmp(), 'bridge-state.trips.jsonl');
    const a = loggedTrip('commute', Date.parse('2026-11-27T06:30:00Z'));
    const b = loggedTrip('phev', Date.parse('2026-11-28T06:30:00Z'));
    let log = await TripLog.open({ file, warn: assert.fail, now: () => NOW });
    await log.append([a]);
    await log.append([a, b]);
    assert.deepStrictEqual(linesOf(file), [a, b]);
    assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
    log = await TripLog.open({ file, warn: assert.fail, now: () => NOW });
    await log.append([b]);
    assert.deepStrictEqual(linesOf(file), [a, b]);
    assert.deepStrictEqual([log.last(a.vin), log.last(b.vin)], [a, b]);
  });

  it("the logbook's columns are those of every row, in order", () => {
    for (const name of ['commute', 'phev']) assert.deepStrictEqual(Object.keys(flattenTrip(loggedTrip(name, NOW))), [...TRIP_LOGBOOK_COLUMNS]);
  });

  it('is bounded: trips older than a year and all but the newest N go when it is rewritten', async () => {
    const file = path.join(tmp(), 'log.jsonl');
    const old = loggedTrip('commute', NOW - TRIP_LOG_MAX_AGE_MS - DAY);
    const trips = [0, 1, 2, 3].map((d) => loggedTrip('tunnel', NOW - (10 - d) * DAY));
    fs.writeFileSync(file, [old, ...trips].map((t) => `${JSON.stringify(t)}\n`).join(''));
    const log = await TripLog.open({ file, warn: assert.fail, now: () => NOW, maxTrips: 3 });
    assert.deepStrictEqual(linesOf(file), trips.slice(1), 'the year-old one and the oldest beyond 3 dropped on opening');
    const next = loggedTrip('stop', NOW - DAY);
    await log.append([next]);
    assert.deepStrictEqual(linesOf(file), [...trips.slice(2), next], 'rotated when it grew past 3');
    assert.strictEqual(log.size, 3);
  });

  it('skips a line cut off by a crash with one warning, and the next line starts on a line of its own', async () => {
    const file = path.join(tmp(), 'log.jsonl');
    const a = loggedTrip('commute', NOW - 3 * DAY);
    const b = loggedTrip('stop', NOW - 2 * DAY);
    fs.writeFileSync(file, `${JSON.stringify(a)}\n${JSON.stringify(b).slice(0, 120)}`);
    const warnings = [];
    assert.deepStrictEqual(await readTripLog(file, (m) => warnings.push(m)), [a], 'a reader skips it and writes nothing');
    assert.ok(!fs.readFileSync(file, 'utf8').endsWith('\n'));
    const log = await TripLog.open({ file, warn: (m) => warnings.push(m), now: () => NOW });
    await log.append([b]);
    assert.deepStrictEqual(linesOf(file), [a, b]);
    assert.strictEqual(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[1], /holds 1 line that is not a trip \(the last one cut off, as by a crash while it was written\); skipped/);
  });

  it("read-only (the bridge's --dry-run): read, never written", async () => {
    const file = path.join(tmp(), 'log.jsonl');
    const a = loggedTrip('commute', NOW - DAY);
    fs.writeFileSync(file, `${JSON.stringify(a)}\n{"cut`);
    const log = await TripLog.open({ file, readOnly: true, warn: () => undefined, now: () => NOW });
    await log.append([loggedTrip('stop', NOW)]);
    assert.strictEqual(fs.readFileSync(file, 'utf8'), `${JSON.stringify(a)}\n{"cut`);
    assert.strictEqual(log.size, 2);
  });
});

describe('bmw-cardata trips', function () {
  this.timeout(30000);
  const commute = loggedTrip('commute', Date.parse('2026-11-27T06:30:00Z'));
  const phev = loggedTrip('phev', Date.parse('2026-11-28T06:30:00Z'));
  const late = loggedTrip('stop', Date.parse('2026-12-02T16:00:00Z'));
  let dir;
  let config;

  beforeEach(() => {
    dir = tmp();
    // No login at all: the logbook costs no call and needs none.
    config = path.join(dir, 'account.json');
    fs.writeFileSync(path.join(dir, 'bridge-state.trips.jsonl'), [late, phev, commute].map((t) => `${JSON.stringify(t)}\n`).join(''));
  });

  it('writes the trips that started in the range as logbook CSV, oldest first, times in the zone named, purpose empty', async () => {
    const out = path.join(dir, 'november.csv');
    const r = await runCli(['trips', '--config', config, '--from', '2026-11-01', '--to', '2026-12-01', '--time-zone', 'Europe/Berlin', '--out', out]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /2 trips from 2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z, times in Europe\/Berlin/);
    const [header, ...rows] = fs.readFileSync(out, 'utf8').split('\r\n').filter(Boolean);
    assert.strictEqual(
      header,
      'start,end,timeZone,startOdometerKm,endOdometerKm,distanceKm,purpose,startLatitude,startLongitude,endLatitude,endLongitude,durationMinutes,averageSpeedKmh,stops,startSoc,endSoc,socUsed,energyUsedKwh,energyUsedEstimate,fuelUnit,startFuel,endFuel,fuelUsed,missing,vin,tripId',
    );
    assert.strictEqual(
      rows[0],
      `2026-11-27T07:30:20+01:00,2026-11-27T07:47:20+01:00,Europe/Berlin,23418,23424,6,,48.16402,11.57118,48.18322,11.56945,17,21.2,0,80,78,2,1.61,true,,,,,,${commute.vin},${commute.tripId}`,
    );
    assert.strictEqual(rows[1].split(',')[0], '2026-11-28T07:30:00+01:00');
    assert.strictEqual(rows.length, 2);
    assert.ok(!fs.existsSync(path.join(dir, 'quota.json')), 'no quota counted');
  });

  it('--vin picks a car, --format json gives the rows as JSON, --last a calendar range; a cut-off line is skipped with one warning', async () => {
    fs.appendFileSync(path.join(dir, 'bridge-state.trips.jsonl'), JSON.stringify(commute).slice(0, 50));
    const r = await runCli([
      'trips',
      '--config',
      config,
      '--from',
      '2026-11-01',
      '--to',
      '2026-12-31',
      '--vin',
      phev.vin,
      '--format',
      'json',
      '--time-zone',
      'UTC',
    ]);
    assert.strictEqual(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout);
    assert.deepStrictEqual(
      rows.map((row) => [row.tripId, row.fuelUnit, row.start]),
      [[phev.tripId, 'l', '2026-11-28T06:30:00Z']],
    );
    assert.strictEqual(r.stderr.match(/cut off/g).length, 1, r.stderr);
    const last = await runCli(['trips', '--config', config, '--last', 'this-month']);
    assert.strictEqual(last.code, 0, last.stderr);
    assert.match(last.stderr, /\d+ trips? from .* \(this-month in /);
  });

  it('says where the log should be when there is none, and refuses a bad range or VIN before reading', async () => {
    const none = await runCli(['trips', '--config', path.join(tmp(), 'account.json'), '--from', '2026-11-01', '--to', '2026-12-01']);
    assert.strictEqual(none.code, 0, none.stderr);
    assert.strictEqual(none.stdout, `${TRIP_LOGBOOK_COLUMNS.join(',')}\r\n`, 'an empty logbook, with its header');
    assert.match(none.stderr, /0 trips .* \(no trip log at .*bridge-state\.trips\.jsonl yet: the bridge writes it\)/);
    assert.strictEqual((await runCli(['trips', '--config', config])).code, 2);
    assert.strictEqual((await runCli(['trips', '--config', config, '--from', '2026-12-01', '--to', '2026-11-01'])).code, 2);
    assert.strictEqual((await runCli(['trips', '--config', config, '--last', '7d', '--vin', 'WBA0000000000000I'])).code, 2);
    const help = await runCli(['trips', '--help']);
    assert.match(help.stdout, /Usage: bmw-cardata trips/);
  });
});
