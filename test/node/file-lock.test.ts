// The quota file's lock between real processes (forked workers): stale locks taken over by exactly one process,
// a killed holder's lock taken at once, a lock stamped in the future, a folder in the lock's place, and the
// temporary files of crashed writers. Then the lock itself in this process, on a clock of its own: which locks are
// taken at once, which are waited for and for how long, the takeover guard, and what a holder removes when it is done.
import assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fork, spawnSync } from 'child_process';
import { FileQuotaStore } from '../../src/node';
import { FileLock } from '../../src/node/file-lock';
import { failure } from '../support/failure';
import { until } from '../support/wait';

const WORKER = path.join(__dirname, '../support/quota-worker.js');
const DAY = '2026-03-10';
const increment = (record) => ({ day: DAY, used: (record?.used ?? 0) + 1 });

function tmpFile() {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'quota-lock-')), 'quota.json');
}

/** The pid of a process that has ended. */
function deadPid() {
  return spawnSync(process.execPath, ['-e', '']).pid;
}

function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode);
    else child.once('exit', (code, signal) => resolve(code ?? signal));
  });
}

function usedOnDisk(file) {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')).accounts['gcid-1']?.used ?? 0) : 0;
}

/** A lock file as a process of this machine writes it, with a time. */
function plantLock(file, owner, mtime?: Date) {
  fs.writeFileSync(`${file}.lock`, owner ? JSON.stringify(owner) : '');
  if (mtime) fs.utimesSync(`${file}.lock`, mtime, mtime);
}

describe('quota file lock between processes', function () {
  this.timeout(180_000);

  it('processes that take over stale locks at the same time never lose a count (8 trials, 4 processes each)', async () => {
    const lost = [];
    let crashed = 0;
    let total = 0;
    for (let trial = 0; trial < 8; trial += 1) {
      const file = tmpFile();
      const dir = path.dirname(file);
      // Every trial starts on a lock left by a dead process: of the old kind (empty and old), or naming its owner.
      if (trial % 2) plantLock(file, { pid: deadPid(), host: os.hostname(), token: 'dead' });
      else plantLock(file, undefined, new Date(Date.now() - 60_000));
      const startAt = Date.now() + 1000;
      // Each worker dies inside the lock now and then (before its write), leaving a stale lock to the others.
      const workers = Array.from({ length: 4 }, (_, i) =>
        fork(WORKER, ['hammer', file, '25', '0.03', path.join(dir, `granted-${i}`), '1000', String(startAt)], { stdio: 'ignore' }),
      );
      const codes = await Promise.all(workers.map(exited));
      crashed += codes.filter((c) => c === 9).length;
      assert.deepStrictEqual(
        codes.filter((c) => c !== 0 && c !== 9),
        [],
        'no worker failed',
      );
      const granted = workers.reduce(
        (sum, _, i) => sum + (fs.existsSync(path.join(dir, `granted-${i}`)) ? fs.statSync(path.join(dir, `granted-${i}`)).size : 0),
        0,
      );
      total += granted;
      if (usedOnDisk(file) !== granted) lost.push(`trial ${trial}: ${granted} granted, ${usedOnDisk(file)} on file`);
    }
    assert.deepStrictEqual(lost, []);
    assert.ok(crashed > 0, 'some workers died holding the lock');
    assert.ok(total > 200, `${total} counts granted`);
  });

  it('a lock whose holder was killed (kill -9) is taken at once by the next run, not after the stale time', async () => {
    const file = tmpFile();
    const marker = path.join(path.dirname(file), 'holding');
    const holder = fork(WORKER, ['hold', file, marker], { stdio: 'ignore' });
    await until(() => fs.existsSync(marker), 20_000);
    holder.kill('SIGKILL');
    await exited(holder);
    assert.ok(fs.existsSync(`${file}.lock`), 'the killed holder left its lock');
    const started = Date.now();
    assert.strictEqual((await new FileQuotaStore(file).update('gcid-1', increment)).used, 1);
    const waited = Date.now() - started;
    assert.ok(waited < 5000, `waited ${waited} ms (the stale time is 10 s)`);
    assert.ok(!fs.existsSync(`${file}.lock`));
  });

  it('kill -9 at random moments of a busy worker: the next run never waits long and the file stays whole', async () => {
    const file = tmpFile();
    const granted = path.join(path.dirname(file), 'granted');
    const waits = [];
    let before = 0;
    for (let kill = 0; kill < 10; kill += 1) {
      const worker = fork(WORKER, ['hammer', file, '100000', '0', granted, '10000', '0'], { stdio: 'ignore' });
      await until(() => usedOnDisk(file) > before, 20_000);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
      worker.kill('SIGKILL');
      await exited(worker);
      const started = Date.now();
      const after = (await new FileQuotaStore(file, { warn: () => {} }).update('gcid-1', increment)).used;
      waits.push(Date.now() - started);
      assert.ok(after > before, 'the count only grows');
      before = after;
    }
    assert.ok(Math.max(...waits) < 5000, `waits ${waits.join(', ')} ms`);
  });

  it('a lock stamped in the future is taken over after the stale time, not when that time comes', async () => {
    const file = tmpFile();
    const tomorrow = new Date(Date.now() + 86_400_000);
    plantLock(file, { pid: 1, host: 'another-machine', token: 'x' }, tomorrow);
    const store = new FileQuotaStore(file, { staleLockMs: 300, lockTimeoutMs: 5000 });
    const started = Date.now();
    assert.strictEqual((await store.update('gcid-1', increment)).used, 1);
    assert.ok(Date.now() - started >= 300, 'respected for the stale time');

    // Its holder on this machine is dead: at once, whatever its time.
    plantLock(file, { pid: deadPid(), host: os.hostname(), token: 'x' }, tomorrow);
    assert.strictEqual((await new FileQuotaStore(file, { lockTimeoutMs: 5000 }).update('gcid-1', increment)).used, 2);
  });

  it('a lock of this very process id that this process does not hold (a restarted container) is taken at once', async () => {
    const file = tmpFile();
    plantLock(file, { pid: process.pid, host: os.hostname(), token: 'earlier-life' });
    assert.strictEqual((await new FileQuotaStore(file, { lockTimeoutMs: 5000 }).update('gcid-1', increment)).used, 1);
  });

  it('a lock held by another store of this process is waited for', async () => {
    const file = tmpFile();
    const a = new FileQuotaStore(file);
    const b = new FileQuotaStore(file);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).update('gcid-1', increment)));
    assert.deepStrictEqual(
      results.map((r) => r.used).sort((x, y) => x - y),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
  });

  it("two copies of the lock in one process (two packages) never take each other's lock for one of an earlier life", async () => {
    const file = `${tmpFile()}.lock`;
    const modulePath = require.resolve('../../src/node/file-lock');
    /* eslint-disable @typescript-eslint/no-require-imports -- two copies of one module, loaded from its path */
    const { FileLock } = require(modulePath);
    delete require.cache[modulePath];
    const { FileLock: OtherCopy } = require(modulePath);
    /* eslint-enable @typescript-eslint/no-require-imports */
    assert.notStrictEqual(OtherCopy, FileLock);
    const options = { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)), staleMs: 10_000, timeoutMs: 15_000 };
    let release;
    const holding = new FileLock(file, options).run(() => new Promise((resolve) => (release = resolve)));
    await until(() => fs.existsSync(file) && release, 20_000);
    let entered = false;
    const waiting = new OtherCopy(file, options).run(async () => {
      entered = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.strictEqual(entered, false, 'waits for the holder');
    release();
    await holding;
    await waiting;
    assert.strictEqual(entered, true);
  });

  for (const [label, mtime] of [
    ['new', undefined],
    ['old', new Date(Date.now() - 60_000)],
  ]) {
    it(`a folder (${label}) at the lock path is a clear error naming it, at once`, async () => {
      const file = tmpFile();
      fs.mkdirSync(`${file}.lock`);
      if (mtime) fs.utimesSync(`${file}.lock`, mtime, mtime);
      const e = await failure(new FileQuotaStore(file, { lockTimeoutMs: 2000 }).update('gcid-1', increment));
      assert.strictEqual(e.kind, 'storage');
      assert.strictEqual(e.message, `Cannot lock the quota count in ${path.dirname(file)} (EISDIR)`);
      assert.strictEqual(e.hint, `${file}.lock is a folder, not a lock file: remove it (the lock is a file this package creates and removes).`);
      assert.ok(fs.statSync(`${file}.lock`).isDirectory(), 'the folder is left alone');
    });
  }

  it('temporary files of crashed writers are removed on the first use; those of a running writer are left', async () => {
    const file = tmpFile();
    const dir = path.dirname(file);
    const dead = deadPid();
    const alive = process.ppid;
    const old = new Date(Date.now() - 60_000);
    const names = {
      crashedWrite: `quota.json.${dead}.tmp`,
      crashedLock: `quota.json.lock.${dead}.0123abcd.tmp`,
      crashedGuard: `quota.json.lock.takeover.${dead}.00ff00ff.tmp`,
      oldOfRunning: `quota.json.${alive}.tmp`,
      running: `quota.json.lock.${alive}.feed.tmp`,
      otherFile: `other.json.${dead}.tmp`,
      notTemporary: 'quota.json.broken-20260310T070809',
    };
    for (const name of Object.values(names)) fs.writeFileSync(path.join(dir, name), '{');
    fs.utimesSync(path.join(dir, names.oldOfRunning), old, old);
    assert.strictEqual((await new FileQuotaStore(file).update('gcid-1', increment)).used, 1);
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['quota.json', names.running, names.otherFile, names.notTemporary].sort());
  });
});

describe('the file lock in one process, on a clock of its own', () => {
  const STALE = 10_000;
  const folders: string[] = [];
  after(() => {
    for (const dir of folders) fs.rmSync(dir, { recursive: true, force: true });
  });
  const lockFile = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'file-lock-'));
    folders.push(dir);
    return path.join(dir, 'quota.json.lock');
  };

  /**
   * A clock that moves only when the lock waits: each wait moves it `step` ms (not the few ms asked for), and may
   * change the files (`onWait`, given the number of the wait). `noWait` fails on the first wait.
   */
  function clock(options: { step?: number; timeoutMs?: number; noWait?: boolean; onWait?: (n: number) => void } = {}) {
    const c = { start: Date.now(), t: Date.now(), waits: 0 };
    const lock = (file: string) =>
      new FileLock(file, {
        now: () => c.t,
        sleep: async () => {
          if (options.noWait) assert.fail('the lock waited');
          c.waits += 1;
          c.t += options.step ?? 1000;
          options.onWait?.(c.waits);
        },
        staleMs: STALE,
        timeoutMs: options.timeoutMs ?? 60_000,
      });
    return { c, lock };
  }

  const write = (file: string, content: unknown, mtime?: Date) => {
    fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    if (mtime) fs.utimesSync(file, mtime, mtime);
  };
  const host = os.hostname();
  /** What the holder sees of its lock file: it names this process, only its owner reads it. */
  const holding = (file: string) => async () => {
    const owner = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepStrictEqual([owner.pid, owner.host, typeof owner.token], [process.pid, host, 'string']);
    assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
    return 'done';
  };
  /** After a run: nothing is left in the folder (no lock, no guard, no temporary file). */
  const nothingLeft = (file: string) => assert.deepStrictEqual(fs.readdirSync(path.dirname(file)), []);

  it('a free lock is created (private, naming this process), and removed with nothing left when the run ends', async () => {
    const file = lockFile();
    const { lock } = clock({ noWait: true });
    assert.strictEqual(await lock(file).run(holding(file)), 'done');
    nothingLeft(file);
    const e = await failure(lock(file).run(() => Promise.reject(new Error('inside'))));
    assert.strictEqual(e.message, 'inside');
    nothingLeft(file);
  });

  const takenAtOnce: [string, () => unknown, Date?][] = [
    ['of a process of this machine that no longer runs', () => ({ pid: deadPid(), host, token: 'gone' })],
    ['of this very process id that this process does not hold (an earlier life)', () => ({ pid: process.pid, host, token: 'earlier' })],
    ['older than the stale time (of a running process)', () => ({ pid: 1, host, token: 'hung' }), new Date(Date.now() - STALE - 5000)],
  ];
  for (const [what, owner, mtime] of takenAtOnce) {
    it(`a lock ${what} is taken at once, without waiting`, async () => {
      const file = lockFile();
      write(file, owner(), mtime);
      const { lock } = clock({ noWait: true });
      assert.strictEqual(await lock(file).run(holding(file)), 'done');
      nothingLeft(file);
    });
  }

  const waitedFor: [string, () => unknown][] = [
    ['a running process of this machine', () => ({ pid: 1, host, token: 'alive' })],
    ['a process of another machine', () => ({ pid: deadPid(), host: `not-${host}`, token: 'elsewhere' })],
    ['no owner (empty)', () => ''],
    ['a holder without a token', () => ({ pid: deadPid(), host })],
    ['a holder without a host', () => ({ pid: deadPid(), token: 'x' })],
    ['a holder whose pid is no number', () => ({ pid: String(deadPid()), host, token: 'x' })],
    ['a holder named after a thousand characters', () => `${' '.repeat(1000)}${JSON.stringify({ pid: deadPid(), host, token: 'x' })}`],
  ];
  for (const [what, content] of waitedFor) {
    it(`a fresh lock of ${what} is waited for, then refused with ELOCKED, and left as it was`, async () => {
      const file = lockFile();
      const text = typeof content() === 'string' ? (content() as string) : JSON.stringify(content());
      write(file, text);
      const { c, lock } = clock({ timeoutMs: 5000 });
      const e = await failure(lock(file).run(() => assert.fail('entered')));
      assert.deepStrictEqual([e.code, e.message], ['ELOCKED', `${file} is held by another process`]);
      assert.strictEqual(c.t - c.start, 6000, 'refused on the first look after the timeout');
      assert.strictEqual(fs.readFileSync(file, 'utf8'), text);
      assert.deepStrictEqual(fs.readdirSync(path.dirname(file)), [path.basename(file)]);
    });
  }

  it('a lock another lock of this process holds is waited for (its token is known as held)', async () => {
    const file = lockFile();
    const holder = clock({ noWait: true }).lock(file);
    const waiter = clock({ timeoutMs: 3000 }).lock(file);
    await holder.run(async () => {
      const e = await failure(waiter.run(() => assert.fail('entered')));
      assert.strictEqual(e.code, 'ELOCKED');
      assert.strictEqual(JSON.parse(fs.readFileSync(file, 'utf8')).pid, process.pid);
    });
    nothingLeft(file);
  });

  it('a lock stamped in the future is taken once it was seen unchanged for more than the stale time, not at it', async () => {
    const file = lockFile();
    write(file, '', new Date(Date.now() + 86_400_000));
    const { c, lock } = clock();
    await lock(file).run(async () => {
      assert.strictEqual(c.t - c.start, STALE + 1000);
    });
    nothingLeft(file);
  });

  it('a lock replaced while waited for is timed from when the new one was first seen', async () => {
    const file = lockFile();
    const future = new Date(Date.now() + 86_400_000);
    write(file, 'first', future);
    const { c, lock } = clock({ onWait: (n) => n === 5 && write(file, 'second', future) });
    await lock(file).run(async () => {
      assert.strictEqual(c.t - c.start, 5000 + STALE + 1000);
    });
    nothingLeft(file);
  });

  it('a folder in the place of the lock is refused with EISDIR, naming it', async () => {
    const file = lockFile();
    fs.mkdirSync(file);
    const e = await failure(
      clock({ noWait: true })
        .lock(file)
        .run(() => assert.fail('entered')),
    );
    assert.deepStrictEqual([e.code, e.message], ['EISDIR', `${file} is a folder, not a lock file`]);
  });

  it('a lock that cannot be opened (a link to itself) is refused with the reason, not taken for a free one', async () => {
    const file = lockFile();
    fs.symlinkSync(file, file);
    const e = await failure(
      clock({ noWait: true })
        .lock(file)
        .run(() => assert.fail('entered')),
    );
    assert.strictEqual(e.code, 'ELOOP');
  });

  describe('the takeover guard', () => {
    const staleLock = (file: string) => write(file, '', new Date(Date.now() - STALE - 5000));

    it('a takeover under way (a fresh guard of a running process) is waited for: neither the lock nor the guard is removed', async () => {
      const file = lockFile();
      staleLock(file);
      write(`${file}.takeover`, { pid: 1, host, token: 'busy' });
      const e = await failure(
        clock({ timeoutMs: 3000 })
          .lock(file)
          .run(() => assert.fail('entered')),
      );
      assert.strictEqual(e.code, 'ELOCKED');
      assert.deepStrictEqual(fs.readdirSync(path.dirname(file)).sort(), [path.basename(file), `${path.basename(file)}.takeover`]);
    });

    const deadGuards: [string, () => unknown, Date?][] = [
      ['of a process that no longer runs', () => ({ pid: deadPid(), host, token: 'died' })],
      ['older than the stale time', () => ({ pid: 1, host, token: 'hung' }), new Date(Date.now() - STALE - 5000)],
    ];
    for (const [what, owner, mtime] of deadGuards) {
      it(`a guard ${what} is removed, then the stale lock is taken`, async () => {
        const file = lockFile();
        staleLock(file);
        write(`${file}.takeover`, owner(), mtime);
        const { lock } = clock({ timeoutMs: 5000 });
        assert.strictEqual(await lock(file).run(holding(file)), 'done');
        nothingLeft(file);
      });
    }

    it('a guard stamped in the future is removed once seen unchanged for more than the stale time', async () => {
      const file = lockFile();
      staleLock(file);
      write(`${file}.takeover`, { pid: 1, host, token: 'future' }, new Date(Date.now() + 86_400_000));
      const { c, lock } = clock();
      assert.strictEqual(await lock(file).run(holding(file)), 'done');
      assert.ok(c.t - c.start > STALE, `taken after ${c.t - c.start} ms`);
      nothingLeft(file);
    });
  });

  describe('a holder removes only its own lock when it is done', () => {
    it('a lock taken over meanwhile by another process (held past the stale time) stays', async () => {
      const file = lockFile();
      const other = JSON.stringify({ pid: 1, host, token: 'took-over' });
      await clock({ noWait: true })
        .lock(file)
        .run(async () => write(file, other));
      assert.strictEqual(fs.readFileSync(file, 'utf8'), other);
    });

    it('a lock replaced by one naming no owner stays', async () => {
      const file = lockFile();
      await clock({ noWait: true })
        .lock(file)
        .run(async () => write(file, ''));
      assert.strictEqual(fs.readFileSync(file, 'utf8'), '');
    });

    it('a lock already gone is no error', async () => {
      const file = lockFile();
      assert.strictEqual(
        await clock({ noWait: true })
          .lock(file)
          .run(async () => (fs.unlinkSync(file), 'done')),
        'done',
      );
      nothingLeft(file);
    });
  });
});
