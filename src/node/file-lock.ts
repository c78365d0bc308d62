import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as os from 'os';
import type { Clock, Sleep } from '../core/transport';
import { processAlive } from './private-file';

export interface FileLockOptions {
  now: Clock;
  sleep: Sleep;
  /** A lock older than this, or seen unchanged for this long, is taken over: its holder died or hangs. */
  staleMs: number;
  /** How long to wait for another holder before giving up (an error with code ELOCKED). */
  timeoutMs: number;
}

/** Who holds a lock: written into the lock file when it is created. */
interface Owner {
  pid: number;
  host: string;
  token: string;
}

/** One lock file as seen once: its identity (inode, time, content) and its owner if it names one. */
interface Seen {
  id: string;
  mtimeMs: number;
  owner?: Owner;
}

/**
 * The tokens of the locks this process holds now (a lock of this pid with another token is from an earlier life).
 * Kept on the global object, so two copies of this module in one process (two packages) know each other's locks.
 */
const HELD = Symbol.for('bmw-cardata.file-locks.held');
const held: Set<string> = ((globalThis as Record<symbol, unknown>)[HELD] as Set<string> | undefined) ?? new Set<string>();
(globalThis as Record<symbol, unknown>)[HELD] = held;

function ownerOf(text: string): Owner | undefined {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    if (Number.isInteger(o.pid) && typeof o.host === 'string' && typeof o.token === 'string') return o as Owner;
  } catch {
    // An empty lock (being created without hard links, or made by an older version): no owner to check.
  }
  return undefined;
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/** The lock file as it is now, or undefined if there is none. A folder at the path is an error with code EISDIR. */
async function look(file: string): Promise<Seen | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (e) {
    if (code(e) === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw Object.assign(new Error(`${file} is a folder, not a lock file`), { code: 'EISDIR', path: file });
    const text = (await handle.readFile('utf8')).slice(0, 1000);
    return { id: `${stat.ino}:${stat.mtimeMs}:${text}`, mtimeMs: stat.mtimeMs, owner: ownerOf(text) };
  } finally {
    await handle.close();
  }
}

/**
 * Creates the lock file with its content in one step (a hard link of a finished temporary file, so nobody reads it
 * half written), or returns false if it exists. Without hard links (some shares), creates it exclusively instead.
 */
async function create(file: string, owner: Owner): Promise<boolean> {
  const content = JSON.stringify(owner);
  const tmp = `${file}.${owner.pid}.${owner.token}.tmp`;
  await fs.writeFile(tmp, content, { mode: 0o600 });
  try {
    await fs.link(tmp, file);
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'].includes(code(e) ?? '')) throw e;
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
  try {
    await fs.writeFile(file, content, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    throw e;
  }
}

/** A holder of this machine that no longer runs: its lock is taken at once. */
function ownerGone(owner: Owner | undefined): boolean {
  if (!owner || owner.host !== os.hostname()) return false;
  // The same pid as this process (a container restarted): stale unless this process holds that very lock.
  if (owner.pid === process.pid) return !held.has(owner.token);
  return !processAlive(owner.pid);
}

/**
 * A lock file between processes (and machines sharing a folder), for short steps such as read-change-write of a
 * small file. The file names its holder (pid, host, a random token). A lock is stale when its holder on this
 * machine no longer runs (taken at once), when it is older than staleMs, or when it was seen unchanged for
 * staleMs (so a time in the future does not block for ever). A stale lock is removed only by the one process that
 * holds the takeover guard (`<lock>.takeover`, itself a lock of the same kind), and only if it is still the very
 * file that was judged stale (same inode, time and content): two waiters can never both remove it and both enter.
 * A holder removes the lock only if it still names its token.
 */
export class FileLock {
  constructor(
    readonly file: string,
    private readonly options: FileLockOptions,
  ) {}

  private get guard(): string {
    return `${this.file}.takeover`;
  }

  /** Runs `fn` while holding the lock. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const token = await this.acquire(this.file);
    try {
      return await fn();
    } finally {
      await this.release(this.file, token);
    }
  }

  private async acquire(file: string): Promise<string> {
    const { now, sleep, timeoutMs } = this.options;
    const owner: Owner = { pid: process.pid, host: os.hostname(), token: randomBytes(8).toString('hex') };
    const started = now();
    const firstSeen = new Map<string, number>();
    // Known as held before the file exists: another waiter of this process that reads the new file in between must
    // not take it for a lock of an earlier life of this pid.
    held.add(owner.token);
    for (let attempt = 0; ; attempt += 1) {
      let created: boolean;
      try {
        created = await create(file, owner);
      } catch (e) {
        held.delete(owner.token);
        throw e;
      }
      if (created) return owner.token;
      const seen = await look(file);
      if (!seen) continue;
      if (!firstSeen.has(seen.id)) firstSeen.set(seen.id, now());
      if (this.stale(seen, firstSeen.get(seen.id) as number) && (await this.takeOver(seen, firstSeen))) continue;
      if (now() - started > timeoutMs) {
        held.delete(owner.token);
        throw Object.assign(new Error(`${file} is held by another process`), { code: 'ELOCKED' });
      }
      await sleep(5 + Math.min(50, attempt * 5));
    }
  }

  private stale(seen: Seen, since: number): boolean {
    const now = this.options.now();
    return ownerGone(seen.owner) || now - seen.mtimeMs > this.options.staleMs || now - since > this.options.staleMs;
  }

  /** Removes the stale lock `seen` if it is still there, under the takeover guard. True if the lock may be free now. */
  private async takeOver(seen: Seen, firstSeen: Map<string, number>): Promise<boolean> {
    const owner: Owner = { pid: process.pid, host: os.hostname(), token: randomBytes(8).toString('hex') };
    held.add(owner.token);
    let guarded: boolean;
    try {
      guarded = await create(this.guard, owner);
    } catch (e) {
      held.delete(owner.token);
      throw e;
    }
    if (!guarded) {
      held.delete(owner.token);
      // Another process is taking over; if it died doing so, its guard goes (checked again right before).
      const guard = await look(this.guard);
      if (!guard) return true;
      if (!firstSeen.has(guard.id)) firstSeen.set(guard.id, this.options.now());
      if (this.stale(guard, firstSeen.get(guard.id) as number) && (await look(this.guard))?.id === guard.id) await this.unlink(this.guard);
      return false;
    }
    try {
      if ((await look(this.file))?.id !== seen.id) return true;
      await this.unlink(this.file);
      return true;
    } finally {
      await this.unlink(this.guard);
      held.delete(owner.token);
    }
  }

  private async release(file: string, token: string): Promise<void> {
    held.delete(token);
    const seen = await look(file).catch(() => undefined);
    // Taken over meanwhile (held past the stale time): the lock is someone else's now.
    if (seen?.owner?.token === token) await this.unlink(file);
  }

  private async unlink(file: string): Promise<void> {
    await fs.unlink(file).catch((e: unknown) => {
      if (code(e) !== 'ENOENT') throw e;
    });
  }
}
