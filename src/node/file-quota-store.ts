import { promises as fs } from 'fs';
import * as path from 'path';
import { DateTime } from 'luxon';
import type { CarDataError } from '../core/errors';
import { isQuotaRecord, type QuotaChange, type QuotaRecord, type QuotaStore } from '../core/api/quota';
import { type Clock, realClock, type Sleep } from '../core/transport';
import { FileLock } from './file-lock';
import { fileError, removeLeftovers, savedObject, versionProblem, writePrivateJson } from './private-file';
import { nodeSleep } from './sleep';

const FILE_VERSION = 1;

interface QuotaFile {
  version: number;
  accounts: Record<string, QuotaRecord>;
  /** The day a broken file was found: accounts without a record count as spent on that day. */
  unknownDay?: string;
}

export interface FileQuotaStoreOptions {
  /** Told once per problem (a broken file kept aside), for the host's log. */
  warn?: (message: string) => void;
  now?: Clock;
  sleep?: Sleep;
  /**
   * A lock older than this, or seen unchanged this long, is taken over: its holder hangs or died. A lock of a
   * process of this machine that no longer runs is taken at once.
   */
  staleLockMs?: number;
  /** How long to wait for another process's lock before giving up. */
  lockTimeoutMs?: number;
}

/**
 * Counts kept in one JSON file (mode 0600), so a restart does not forget what was spent. Every change holds a
 * lock file (see FileLock: a dead holder's lock is taken at once, and only by one process), so ledgers in other
 * processes on the same file never lose or double a count; writes go to a temporary file renamed into place, so a
 * crash never leaves half a file, and the first step removes the temporary files of crashed writers. A file that
 * cannot be read is never taken as zero: it is kept aside, said once, and the day counts as spent.
 */
export class FileQuotaStore implements QuotaStore {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly warn: (message: string) => void;
  private readonly now: Clock;
  private readonly sleep: Sleep;
  private readonly staleLockMs: number;
  private readonly lock: FileLock;
  private cleaned = false;

  constructor(
    readonly file: string,
    options: FileQuotaStoreOptions = {},
  ) {
    this.warn = options.warn ?? ((message) => console.warn(message));
    this.now = options.now ?? realClock;
    this.sleep = options.sleep ?? nodeSleep;
    this.staleLockMs = options.staleLockMs ?? 10_000;
    this.lock = new FileLock(`${file}.lock`, {
      now: this.now,
      sleep: this.sleep,
      staleMs: this.staleLockMs,
      timeoutMs: options.lockTimeoutMs ?? 15_000,
    });
  }

  private storageError(e: unknown, action: string): CarDataError {
    return fileError(e, this.file, `${action} the quota count`);
  }

  private today(): string {
    return DateTime.fromMillis(this.now(), { zone: 'utc' }).toISODate() as string;
  }

  /** Reads the file; a broken one is renamed aside, said once, and replaced by one that counts today as spent. */
  private async read(): Promise<QuotaFile> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: FILE_VERSION, accounts: {} };
      throw this.storageError(e, 'read');
    }
    const problem = quotaFileProblem(text);
    if (typeof problem !== 'string') return problem;
    const aside = `${this.file}.broken-${DateTime.fromMillis(this.now(), { zone: 'utc' }).toFormat("yyyyLLdd'T'HHmmss")}`;
    try {
      await fs.rename(this.file, aside);
    } catch (e) {
      throw this.storageError(e, 'move aside');
    }
    const replacement: QuotaFile = { version: FILE_VERSION, accounts: {}, unknownDay: this.today() };
    await this.write(replacement);
    this.warn(
      `BMW CarData: the quota file ${this.file} could not be read (${problem}); it was kept as ${aside}. ` +
        `Today's count is unknown, so today counts as spent: calls are refused locally until 00:00 UTC.`,
    );
    return replacement;
  }

  private async write(content: QuotaFile): Promise<void> {
    try {
      await writePrivateJson(this.file, content);
    } catch (e) {
      throw this.storageError(e, 'write');
    }
  }

  private recordIn(content: QuotaFile, accountId: string): QuotaRecord | undefined {
    const record = Object.hasOwn(content.accounts, accountId) ? content.accounts[accountId] : undefined;
    if (record) return { ...record };
    return content.unknownDay ? { day: content.unknownDay, used: 0, unknown: true } : undefined;
  }

  /** Holds the lock file while `fn` runs; the first time, removes what crashed writers left. */
  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    try {
      await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw this.storageError(e, 'write');
    }
    // What `fn` throws goes through as it is; what the lock throws is said as a storage error.
    let failure: { error: unknown } | undefined;
    try {
      return await this.lock.run(async () => {
        if (!this.cleaned) {
          this.cleaned = true;
          await removeLeftovers(this.file, this.staleLockMs);
        }
        return fn().catch((error: unknown) => {
          failure = { error };
          throw error;
        });
      });
    } catch (e) {
      if (failure) throw failure.error;
      const code = (e as NodeJS.ErrnoException)?.code;
      if (code === 'EISDIR') {
        const where = (e as NodeJS.ErrnoException).path;
        throw fileError(
          e,
          this.file,
          'lock the quota count',
          `${where} is a folder, not a lock file: remove it (the lock is a file this package creates and removes).`,
        );
      }
      throw this.storageError(e, code === 'ELOCKED' ? 'lock' : 'write');
    }
  }

  /** One step at a time in this process; the lock file keeps other processes out. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => this.locked(fn));
    this.chain = run.catch(() => undefined);
    return run;
  }

  load(accountId: string): Promise<QuotaRecord | undefined> {
    return this.serial(async () => this.recordIn(await this.read(), accountId));
  }

  update(accountId: string, change: QuotaChange): Promise<QuotaRecord | undefined> {
    return this.serial(async () => {
      const content = await this.read();
      const next = change(this.recordIn(content, accountId));
      if (!next) return this.recordIn(content, accountId);
      content.accounts[accountId] = { ...next };
      await this.write(content);
      return { ...next };
    });
  }
}

/** The parsed file, or what is wrong with it. */
export function quotaFileProblem(text: string): QuotaFile | string {
  const p = savedObject(text);
  if (typeof p === 'string') return p;
  // Files written before the version field have the same shape.
  const wrong = versionProblem(p.version ?? FILE_VERSION, FILE_VERSION);
  if (wrong) return wrong;
  const accounts = p.accounts ?? {};
  if (!accounts || typeof accounts !== 'object' || Array.isArray(accounts)) return 'accounts is not an object';
  for (const [id, record] of Object.entries(accounts))
    if (!isQuotaRecord(record)) return `the count of account ${id.slice(0, 8)}... is not a day and a whole number`;
  if (p.unknownDay !== undefined && (typeof p.unknownDay !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(p.unknownDay))) return 'unknownDay is not a day';
  return { version: FILE_VERSION, accounts: accounts as Record<string, QuotaRecord>, unknownDay: p.unknownDay as string | undefined };
}
