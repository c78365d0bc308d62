'use strict';
// A process that uses the quota file, forked by test/node/file-lock.test.ts. Modes (argv[2]):
//  hammer FILE COUNT CRASH GRANTED STALE_MS START_AT: COUNT increments, one at a time; before each write it dies
//         with probability CRASH (leaving its lock); each increment that reached the file is appended to GRANTED.
//  hold FILE MARKER: takes the lock, writes MARKER, and stays inside the lock until killed.
const fs = require('fs');
const path = require('path');
const { FileQuotaStore } = require(path.resolve(__dirname, '../../dist/src/node/file-quota-store'));

const [mode, file] = process.argv.slice(2);
const DAY = '2026-03-10';
const increment = (record) => ({ day: DAY, used: (record?.used ?? 0) + 1 });

async function hammer() {
  const [count, crash, granted, staleMs, startAt] = process.argv.slice(4).map((v, i) => (i === 2 ? v : Number(v)));
  const store = new FileQuotaStore(file, { staleLockMs: staleMs, lockTimeoutMs: 60_000, warn: () => {} });
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
  for (let i = 0; i < count; i += 1) {
    await store.update('gcid-1', (record) => {
      if (Math.random() < crash) process.exit(9);
      return increment(record);
    });
    fs.appendFileSync(granted, '1');
  }
}

async function hold() {
  const marker = process.argv[4];
  const store = new FileQuotaStore(file, { warn: () => {} });
  await store.update('gcid-1', (record) => {
    fs.writeFileSync(marker, String(process.pid));
    // Inside the lock until killed: blocks without spending CPU.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    return increment(record);
  });
}

(mode === 'hold' ? hold() : hammer()).then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
