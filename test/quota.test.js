'use strict';
// The daily quota ledger and its stores: one count per BMW account, shared by every ledger and process on a store.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile } = require('child_process');
const core = require('../dist/src/node');

const { QuotaLedger, FileQuotaStore, MemoryQuotaStore } = core;

function tmpFile() {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'quota-')), 'quota.json');
}

async function settle(promises) {
  const results = await Promise.allSettled(promises);
  return { ok: results.filter((r) => r.status === 'fulfilled').length, refused: results.filter((r) => r.status === 'rejected' && r.reason.kind === 'quota').length };
}

describe('quota ledger and stores', function () {
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
      const { QuotaLedger, FileQuotaStore } = require(${JSON.stringify(path.resolve(__dirname, '../dist/src/node'))});
      const ledger = new QuotaLedger({ store: new FileQuotaStore(process.argv[1]), limit: 1000 });
      Promise.all(Array.from({ length: 100 }, () => ledger.take('gcid-1'))).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`;
    const run = () => new Promise((resolve, reject) => execFile(process.execPath, ['-e', script, file], (e, _out, err) => (e ? reject(new Error(err)) : resolve())));
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
      await assert.rejects(ledger.take('gcid-1'), (e) => e.kind === 'quota' && /refused locally/.test(e.message));
      await assert.rejects(ledger.take('another-account'), (e) => e.kind === 'quota');
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
    await assert.rejects(ledger.take('a'), (e) => e.kind === 'storage' && e.message.includes(blocker) && /writable/.test(e.hint));
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
