// The quota ledger's rules and its stores' edges: the local refusal, the reset, BMW's word, records and files
// that are not what they should be, and the lock between processes.
import assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as core from '../../../src/node';
import { failure } from '../../support/failure';
import { ROOT, WITH_SOURCES } from '../../support/code';
import { execFile } from 'child_process';

const { QuotaLedger, MemoryQuotaStore, FileQuotaStore, isQuotaRecord, quotaFileProblem, CU_CODES, writePrivateJson } = core;

const DAY = '2026-03-10';
const at = (iso) => () => Date.parse(iso);

function tmpFile() {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'quota-edges-')), 'quota.json');
}

describe('core quota', function () {
  describe('ledger', () => {
    it('counts per account and day, states what is left and when it resets', async () => {
      const ledger = new QuotaLedger({ limit: 3, now: at(`${DAY}T12:34:56.789Z`) });
      assert.strictEqual(ledger.limit, 3);
      assert.deepStrictEqual(await ledger.state('a'), { used: 0, limit: 3, remaining: 3, resetsAt: '2026-03-11T00:00:00Z' });
      assert.deepStrictEqual(await ledger.take('a'), { used: 1, limit: 3, remaining: 2, resetsAt: '2026-03-11T00:00:00Z' });
      assert.strictEqual((await ledger.take('a')).used, 2);
      assert.strictEqual((await ledger.state('b')).used, 0, 'another account has its own count');
      assert.deepStrictEqual(await ledger.take('a'), { used: 3, limit: 3, remaining: 0, resetsAt: '2026-03-11T00:00:00Z' });
    });

    it('refuses locally once the day is spent, naming the operation, the count and the reset, without spending', async () => {
      const store = new MemoryQuotaStore();
      const ledger = new QuotaLedger({ limit: 2, store, now: at(`${DAY}T08:00:00Z`) });
      await ledger.take('a');
      await ledger.take('a');
      const e = await failure(ledger.take('a', 'getMappings'));
      assert.deepStrictEqual(
        [e.kind, e.exveErrorId, e.operation, e.bmwMessage, e.hint],
        ['quota', 'CU-429', 'getMappings', CU_CODES['CU-429'].message, CU_CODES['CU-429'].hint],
      );
      assert.strictEqual(e.message, 'getMappings: daily CarData quota spent (2/2); refused locally, BMW was not called. Resets at 2026-03-11T00:00:00Z');
      const bare = await failure(ledger.take('a'));
      assert.strictEqual(bare.message, 'daily CarData quota spent (2/2); refused locally, BMW was not called. Resets at 2026-03-11T00:00:00Z');
      assert.deepStrictEqual(await store.load('a'), { day: DAY, used: 2 });
    });

    it('a new UTC day starts from zero', async () => {
      let now = Date.parse(`${DAY}T23:59:59Z`);
      const ledger = new QuotaLedger({ limit: 1, now: () => now });
      await ledger.take('a');
      await failure(ledger.take('a'));
      now = Date.parse('2026-03-11T00:00:00Z');
      assert.deepStrictEqual(await ledger.take('a'), { used: 1, limit: 1, remaining: 0, resetsAt: '2026-03-12T00:00:00Z' });
    });

    it('BMW said the day is spent: the whole limit counts as used until the reset', async () => {
      const store = new MemoryQuotaStore();
      const ledger = new QuotaLedger({ limit: 50, store, now: at(`${DAY}T10:00:00Z`) });
      await ledger.take('a');
      assert.deepStrictEqual(await ledger.markExhausted('a'), { used: 50, limit: 50, remaining: 0, resetsAt: '2026-03-11T00:00:00Z' });
      assert.deepStrictEqual(await store.load('a'), { day: DAY, used: 50, exhausted: true });
      assert.strictEqual((await failure(ledger.take('a'))).kind, 'quota');
      // A larger local count than the limit is kept.
      await store.update('b', () => ({ day: DAY, used: 60 }));
      assert.strictEqual((await ledger.markExhausted('b')).used, 60);
      // Marked on a fresh account.
      assert.strictEqual((await ledger.markExhausted('c')).used, 50);
      // A record marked spent with a small count still counts as the whole limit.
      await store.update('d', () => ({ day: DAY, used: 3, exhausted: true }));
      assert.strictEqual((await ledger.state('d')).used, 50);
      await store.update('e', () => ({ day: DAY, used: 3, unknown: true }));
      assert.deepStrictEqual(await ledger.state('e'), { used: 50, limit: 50, remaining: 0, resetsAt: '2026-03-11T00:00:00Z' });
      assert.strictEqual((await ledger.giveBack('e')).used, 50);
    });

    it('gives back only what was taken today', async () => {
      const store = new MemoryQuotaStore();
      const ledger = new QuotaLedger({ limit: 5, store, now: at(`${DAY}T10:00:00Z`) });
      assert.strictEqual((await ledger.giveBack('new')).used, 0);
      assert.strictEqual(await store.load('new'), undefined, 'nothing written for an account without a record');
      await store.update('old', () => ({ day: '2026-03-09', used: 4 }));
      assert.strictEqual((await ledger.giveBack('old')).used, 0);
      assert.deepStrictEqual(await store.load('old'), { day: '2026-03-09', used: 4 }, 'another day is left alone');
      await ledger.take('a');
      await ledger.take('a');
      assert.strictEqual((await ledger.giveBack('a')).used, 1);
    });

    it('defaults: 50 a day, in memory, on the real clock', async () => {
      const ledger = new QuotaLedger();
      assert.strictEqual(ledger.limit, 50);
      const s = await ledger.take('x');
      assert.strictEqual(s.remaining, 49);
      const today = new Date().toISOString().slice(0, 10);
      assert.ok(s.resetsAt > today && s.resetsAt.endsWith('T00:00:00Z'));
    });
  });

  describe('memory store', () => {
    it('hands out copies, and a change returning nothing leaves the record as it is', async () => {
      const store = new MemoryQuotaStore();
      assert.strictEqual(await store.load('a'), undefined);
      assert.strictEqual(await store.update('a', () => undefined), undefined);
      const next = { day: DAY, used: 1 };
      const got = await store.update('a', (current) => {
        assert.strictEqual(current, undefined);
        return next;
      });
      next.used = 99;
      got.used = 98;
      assert.deepStrictEqual(await store.load('a'), { day: DAY, used: 1 });
      const loaded = await store.load('a');
      loaded.used = 97;
      assert.deepStrictEqual(await store.update('a', (c) => ((c.used = 96), undefined)), { day: DAY, used: 1 });
    });
  });

  describe('records and files', () => {
    it('a record is a YYYY-MM-DD day and a whole count from zero, with optional flags', () => {
      for (const r of [
        { day: DAY, used: 0 },
        { day: DAY, used: 7, exhausted: true },
        { day: DAY, used: 7, unknown: false },
      ])
        assert.strictEqual(isQuotaRecord(r), true, JSON.stringify(r));
      for (const r of [
        null,
        'x',
        { day: DAY },
        { used: 1 },
        { day: '2026-3-10', used: 1 },
        { day: `${DAY}x`, used: 1 },
        { day: `x${DAY}`, used: 1 },
        { day: [DAY], used: 1 },
        { day: 20260310, used: 1 },
        { day: DAY, used: -1 },
        { day: DAY, used: 1.5 },
        { day: DAY, used: '1' },
        { day: DAY, used: 1, exhausted: 'yes' },
        { day: DAY, used: 1, unknown: 1 },
      ]) {
        assert.strictEqual(isQuotaRecord(r), false, JSON.stringify(r));
      }
    });

    it('says what is wrong with a file, or hands back its content', () => {
      assert.strictEqual(quotaFileProblem(''), 'empty');
      assert.strictEqual(quotaFileProblem('  \n'), 'empty');
      assert.strictEqual(quotaFileProblem('{'), 'not JSON');
      assert.strictEqual(quotaFileProblem('[]'), 'not an object');
      assert.strictEqual(quotaFileProblem('null'), 'not an object');
      assert.strictEqual(quotaFileProblem('3'), 'not an object');
      assert.strictEqual(quotaFileProblem('{"version":2}'), 'a newer format (version 2)');
      assert.strictEqual(quotaFileProblem('{"version":0}'), 'an unknown format');
      assert.strictEqual(quotaFileProblem('{"version":"1"}'), 'an unknown format');
      assert.strictEqual(quotaFileProblem('{"accounts":[]}'), 'accounts is not an object');
      assert.deepStrictEqual(quotaFileProblem('{"accounts":null}'), { version: 1, accounts: {}, unknownDay: undefined }, 'null is no accounts');
      assert.strictEqual(quotaFileProblem('{"accounts":5}'), 'accounts is not an object');
      assert.strictEqual(
        quotaFileProblem('{"accounts":{"gcid-123456789":{"day":"x","used":1}}}'),
        'the count of account gcid-123... is not a day and a whole number',
      );
      assert.strictEqual(quotaFileProblem('{"unknownDay":"yesterday"}'), 'unknownDay is not a day');
      assert.strictEqual(quotaFileProblem('{"unknownDay":5}'), 'unknownDay is not a day');
      assert.deepStrictEqual(quotaFileProblem('{}'), { version: 1, accounts: {}, unknownDay: undefined });
      assert.deepStrictEqual(quotaFileProblem(`{"version":1,"accounts":{"a":{"day":"${DAY}","used":2}},"unknownDay":"${DAY}"}`), {
        version: 1,
        accounts: { a: { day: DAY, used: 2 } },
        unknownDay: DAY,
      });
    });
  });

  describe('file store', () => {
    it('writes a private file with a version, and reads it back in a new store', async () => {
      const file = tmpFile();
      const ledger = new QuotaLedger({ store: new FileQuotaStore(file), now: at(`${DAY}T10:00:00Z`) });
      await ledger.take('a');
      await ledger.take('b');
      assert.deepStrictEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { version: 1, accounts: { a: { day: DAY, used: 1 }, b: { day: DAY, used: 1 } } });
      assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
      const again = new FileQuotaStore(file);
      assert.deepStrictEqual(await again.load('a'), { day: DAY, used: 1 });
      assert.strictEqual(await again.load('c'), undefined);
      assert.strictEqual(await again.load('constructor'), undefined, 'no inherited property is an account');
      assert.strictEqual(await again.update('a', () => undefined).then((r) => r.used), 1);
    });

    it('a missing file is an empty one', async () => {
      const store = new FileQuotaStore(tmpFile());
      assert.strictEqual(await store.load('a'), undefined);
    });

    it('a broken file: kept aside with the time in its name, accounts unknown for that day only', async () => {
      const file = tmpFile();
      fs.writeFileSync(file, 'garbage');
      const warnings = [];
      const store = new FileQuotaStore(file, { now: at(`${DAY}T07:08:09Z`), warn: (m) => warnings.push(m) });
      assert.deepStrictEqual(await store.load('a'), { day: DAY, used: 0, unknown: true });
      assert.ok(fs.existsSync(`${file}.broken-20260310T070809`));
      assert.strictEqual(warnings.length, 1);
      assert.match(warnings[0], /\(not JSON\); it was kept as .*broken-20260310T070809\. Today's count is unknown/);
      assert.deepStrictEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { version: 1, accounts: {}, unknownDay: DAY });
      // A count written later on that day is a real record again.
      assert.deepStrictEqual(await store.update('b', () => ({ day: DAY, used: 50 })), { day: DAY, used: 50 });
      assert.deepStrictEqual(await store.load('b'), { day: DAY, used: 50 });
      assert.deepStrictEqual(await store.load('a'), { day: DAY, used: 0, unknown: true });
    });

    it('warns on the console when no warn is given', async () => {
      const file = tmpFile();
      fs.writeFileSync(file, '[]');
      const seen = [];
      const original = console.warn;
      console.warn = (m) => seen.push(m);
      try {
        await new FileQuotaStore(file).load('a');
      } finally {
        console.warn = original;
      }
      assert.strictEqual(seen.length, 1);
      assert.match(seen[0], /could not be read \(not an object\)/);
    });

    it('a file that cannot be read is a storage error naming the folder and the code', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quota-edges-'));
      const file = path.join(dir, 'quota.json');
      fs.mkdirSync(file);
      const e = await failure(new FileQuotaStore(file).load('a'));
      assert.deepStrictEqual([e.kind, e.message], ['storage', `Cannot read the quota count in ${dir} (EISDIR)`]);
      assert.strictEqual(e.hint, `Check that the folder ${dir} exists and is writable by this process.`);
    });

    it('a broken file that cannot be moved aside, or a file that cannot be written, is a storage error saying which', async () => {
      const file = tmpFile();
      fs.writeFileSync(file, 'garbage');
      const aside = `${file}.broken-20260310T070809`;
      fs.mkdirSync(aside);
      fs.writeFileSync(path.join(aside, 'x'), '');
      const e = await failure(new FileQuotaStore(file, { now: at(`${DAY}T07:08:09Z`), warn: () => {} }).load('a'));
      assert.deepStrictEqual(
        [e.kind, e.message],
        ['storage', `Cannot move aside the quota count in ${path.dirname(file)} (${e.message.match(/\((\w+)\)$/)[1]})`],
      );
      assert.match(e.message, /\((EISDIR|ENOTEMPTY|EEXIST)\)$/);
      assert.strictEqual(fs.readFileSync(file, 'utf8'), 'garbage', 'the broken file is left where it was');

      const other = tmpFile();
      fs.mkdirSync(`${other}.${process.pid}.tmp`);
      const w = await failure(new FileQuotaStore(other).update('a', () => ({ day: DAY, used: 1 })));
      assert.deepStrictEqual([w.kind, w.message], ['storage', `Cannot write the quota count in ${path.dirname(other)} (EISDIR)`]);
      assert.ok(!fs.existsSync(`${other}.lock`), 'the lock is released after the failed write');
    });

    it('a lock held by a live process is waited for, then given up with a clear error', async () => {
      const file = tmpFile();
      fs.writeFileSync(`${file}.lock`, '');
      let now = Date.now();
      const waits = [];
      const store = new FileQuotaStore(file, {
        now: () => now,
        sleep: async (ms) => {
          waits.push(ms);
          now += 1000;
        },
        lockTimeoutMs: 5000,
        staleLockMs: 1e9,
      });
      const e = await failure(store.update('a', () => ({ day: DAY, used: 1 })));
      assert.deepStrictEqual([e.kind, e.message], ['storage', `Cannot lock the quota count in ${path.dirname(file)} (ELOCKED)`]);
      assert.deepStrictEqual(waits, [5, 10, 15, 20, 25, 30], 'given up once more than 5 s went by');
      assert.ok(fs.existsSync(`${file}.lock`), "another process's lock is left alone");
      assert.ok(!fs.existsSync(file));
    });

    it('waits grow by 5 ms up to 55 ms, and the lock is taken once it is released', async () => {
      const file = tmpFile();
      fs.writeFileSync(`${file}.lock`, '');
      const waits = [];
      const store = new FileQuotaStore(file, {
        sleep: async (ms) => {
          waits.push(ms);
          if (waits.length === 13) fs.rmSync(`${file}.lock`);
        },
      });
      assert.deepStrictEqual(await store.update('a', () => ({ day: DAY, used: 1 })), { day: DAY, used: 1 });
      assert.deepStrictEqual(waits, [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 55, 55]);
      assert.ok(!fs.existsSync(`${file}.lock`));
    });

    it('a lock just at the stale age is still respected; older is taken over', async () => {
      const file = tmpFile();
      fs.writeFileSync(`${file}.lock`, '');
      const mtime = fs.statSync(`${file}.lock`).mtimeMs;
      let now = mtime + 10_000;
      const store = new FileQuotaStore(file, {
        now: () => now,
        sleep: async () => {
          now += 1;
        },
      });
      assert.strictEqual((await store.update('a', () => ({ day: DAY, used: 1 }))).used, 1);
      assert.ok(now > mtime + 10_000, 'waited until the lock was older than 10 s');
    });

    it('a change that fails releases the lock and does not stop the next one', async () => {
      const file = tmpFile();
      const store = new FileQuotaStore(file);
      const e = await failure(
        store.update('a', () => {
          throw new Error('boom');
        }),
      );
      assert.strictEqual(e.message, 'boom');
      assert.ok(!fs.existsSync(`${file}.lock`));
      assert.strictEqual((await store.update('a', () => ({ day: DAY, used: 2 }))).used, 2);
    });

    it('writes go through a temporary file renamed into place, and tighten an old looser file', async () => {
      const file = tmpFile();
      fs.writeFileSync(file, '{}', { mode: 0o644 });
      fs.chmodSync(file, 0o644);
      await writePrivateJson(file, { a: 1 });
      assert.strictEqual(fs.readFileSync(file, 'utf8'), '{\n  "a": 1\n}\n');
      assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
      assert.deepStrictEqual(fs.readdirSync(path.dirname(file)), ['quota.json']);
      const nested = path.join(path.dirname(file), 'x', 'y', 'f.json');
      await writePrivateJson(nested, []);
      assert.strictEqual(fs.statSync(path.dirname(nested)).mode & 0o777, 0o700);
    });
  });
});

// The daily quota ledger and its stores: one count per BMW account, shared by every ledger and process on a store.
describe('quota ledger and stores', function () {
  const { QuotaLedger, FileQuotaStore, MemoryQuotaStore } = core;

  function tmpFile() {
    return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'quota-')), 'quota.json');
  }

  async function settle(promises) {
    const results = await Promise.allSettled(promises);
    return {
      ok: results.filter((r) => r.status === 'fulfilled').length,
      refused: results.filter((r) => r.status === 'rejected' && r.reason.kind === 'quota').length,
    };
  }

  this.timeout(30_000);

  it('two ledgers on one memory store share one count and one limit', async () => {
    const store = new MemoryQuotaStore();
    const a = new QuotaLedger({ store, limit: 50 });
    const b = new QuotaLedger({ store, limit: 50 });
    const { ok, refused } = await settle(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).take('gcid-1')));
    assert.deepStrictEqual({ ok, refused }, { ok: 50, refused: 10 });
  });

  it('two ledgers on one file (two account nodes of one BMW account) allow 50 calls, not 100', async () => {
    const file = tmpFile();
    const a = new QuotaLedger({ store: new FileQuotaStore(file), limit: 50 });
    const b = new QuotaLedger({ store: new FileQuotaStore(file), limit: 50 });
    const { ok, refused } = await settle(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).take('gcid-1')));
    assert.deepStrictEqual({ ok, refused }, { ok: 50, refused: 50 });
    assert.strictEqual(JSON.parse(fs.readFileSync(file, 'utf8')).accounts['gcid-1'].used, 50);
    assert.ok(!fs.existsSync(`${file}.lock`), 'the lock is released');
  });

  it('two processes x 100 calls at once on one file leave exactly 200 on file', async () => {
    const file = tmpFile();
    const script = `
      const { QuotaLedger, FileQuotaStore } = require(${JSON.stringify(path.join(ROOT, 'src/node'))});
      const ledger = new QuotaLedger({ store: new FileQuotaStore(process.argv[1]), limit: 1000 });
      Promise.all(Array.from({ length: 100 }, () => ledger.take('gcid-1'))).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`;
    const run = () =>
      new Promise<void>((resolve, reject) =>
        execFile(process.execPath, [...WITH_SOURCES, '-e', script, file], (e, _out, err) => (e ? reject(new Error(err)) : resolve())),
      );
    await Promise.all([run(), run()]);
    assert.strictEqual(JSON.parse(fs.readFileSync(file, 'utf8')).accounts['gcid-1'].used, 200);
  });

  it('a lock left by a process that died is taken over', async () => {
    const file = tmpFile();
    fs.writeFileSync(`${file}.lock`, '');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(`${file}.lock`, old, old);
    const ledger = new QuotaLedger({ store: new FileQuotaStore(file) });
    assert.strictEqual((await ledger.take('a')).used, 1);
  });

  const broken = [
    ['truncated', '{"version":1,"accounts":{"gcid-1":{"day":"2026-'],
    ['not JSON', '<html>'],
    ['a count as text', JSON.stringify({ accounts: { 'gcid-1': { day: new Date().toISOString().slice(0, 10), used: '49' } } })],
    ['a negative count', JSON.stringify({ accounts: { 'gcid-1': { day: new Date().toISOString().slice(0, 10), used: -5 } } })],
    ['a newer format', JSON.stringify({ version: 7, ledger: [] })],
  ];
  for (const [label, content] of broken) {
    it(`a quota file with ${label} is kept aside, said once, and today counts as spent (never reset to 0)`, async () => {
      const file = tmpFile();
      fs.writeFileSync(file, content);
      const warnings = [];
      const ledger = new QuotaLedger({ store: new FileQuotaStore(file, { warn: (m) => warnings.push(m) }), limit: 50 });
      const state = await ledger.state('gcid-1');
      assert.deepStrictEqual([state.used, state.remaining], [50, 0]);
      await assert.rejects(ledger.take('gcid-1'), (e: any) => e.kind === 'quota' && /refused locally/.test(e.message));
      await assert.rejects(ledger.take('another-account'), (e: any) => e.kind === 'quota');
      assert.strictEqual(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0], /could not be read/);
      const aside = fs.readdirSync(path.dirname(file)).filter((f) => f.includes('.broken-'));
      assert.strictEqual(aside.length, 1);
      assert.strictEqual(fs.readFileSync(path.join(path.dirname(file), aside[0]), 'utf8'), content, 'the broken file is kept as it was');
      // The next day starts clean.
      const tomorrow = new QuotaLedger({ store: new FileQuotaStore(file, { warn: (m) => warnings.push(m) }), limit: 50, now: () => Date.now() + 86_400_000 });
      assert.strictEqual((await tomorrow.take('gcid-1')).used, 1);
      assert.strictEqual(warnings.length, 1);
    });
  }

  it('a folder that cannot be written gives a clear error naming the folder', async () => {
    const blocker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'quota-')), 'not-a-folder');
    fs.writeFileSync(blocker, '');
    const ledger = new QuotaLedger({ store: new FileQuotaStore(path.join(blocker, 'quota.json')) });
    await assert.rejects(ledger.take('a'), (e: any) => e.kind === 'storage' && e.message.includes(blocker) && /writable/.test(e.hint));
  });

  it('gives back a unit only for the day it was taken, never below zero, and never after BMW said the day is spent', async () => {
    let now = Date.parse('2026-03-10T23:59:00Z');
    const ledger = new QuotaLedger({ limit: 5, now: () => now });
    await ledger.take('a');
    assert.strictEqual((await ledger.giveBack('a')).used, 0);
    assert.strictEqual((await ledger.giveBack('a')).used, 0);
    await ledger.take('a');
    now = Date.parse('2026-03-11T00:00:01Z');
    assert.strictEqual((await ledger.giveBack('a')).used, 0);
    await ledger.take('a');
    await ledger.markExhausted('a');
    assert.strictEqual((await ledger.giveBack('a')).used, 5);
  });
});
