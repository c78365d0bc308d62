import { promises as fs } from 'fs';
import { DateTime } from 'luxon';
import { CarDataError, CU_CODES } from './errors';
import { writePrivateJson } from './private-file';
import { type Clock, realClock } from './transport';

/** What one account has spent on one UTC day. */
export interface QuotaRecord {
  day: string;
  used: number;
}

/** Where the ledger keeps its counts: memory, a file, or a host's own storage. */
export interface QuotaStore {
  load(accountId: string): Promise<QuotaRecord | undefined>;
  save(accountId: string, record: QuotaRecord): Promise<void>;
}

export interface QuotaState {
  used: number;
  limit: number;
  remaining: number;
  /** ISO 8601, the next 00:00 UTC. */
  resetsAt: string;
}

export class MemoryQuotaStore implements QuotaStore {
  private readonly records = new Map<string, QuotaRecord>();
  async load(accountId: string): Promise<QuotaRecord | undefined> {
    const r = this.records.get(accountId);
    return r && { ...r };
  }
  async save(accountId: string, record: QuotaRecord): Promise<void> {
    this.records.set(accountId, { ...record });
  }
}

/**
 * Counts kept in one JSON file (mode 0600), so a restart does not forget what was spent. Writes go to a
 * temporary file first and are renamed into place, so a crash never leaves half a file.
 */
export class FileQuotaStore implements QuotaStore {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string) {}

  private async readAll(): Promise<Record<string, QuotaRecord>> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.file, 'utf8')) as { accounts?: Record<string, QuotaRecord> };
      return parsed.accounts ?? {};
    } catch {
      return {};
    }
  }

  async load(accountId: string): Promise<QuotaRecord | undefined> {
    await this.chain;
    return (await this.readAll())[accountId];
  }

  save(accountId: string, record: QuotaRecord): Promise<void> {
    const write = this.chain.then(async () => {
      const all = await this.readAll();
      all[accountId] = record;
      await writePrivateJson(this.file, { accounts: all });
    });
    this.chain = write.catch(() => undefined);
    return write;
  }
}

export interface QuotaLedgerOptions {
  store?: QuotaStore;
  /** Calls per UTC day; BMW allows 50. */
  limit?: number;
  now?: Clock;
}

/**
 * The daily budget of CarData calls per account. Every request is counted before it is sent; once the day's
 * budget is spent the ledger refuses locally, so no call reaches BMW. Resets at 00:00 UTC.
 */
export class QuotaLedger {
  readonly limit: number;
  private readonly store: QuotaStore;
  private readonly now: Clock;
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(options: QuotaLedgerOptions = {}) {
    this.limit = options.limit ?? 50;
    this.store = options.store ?? new MemoryQuotaStore();
    this.now = options.now ?? realClock;
  }

  private today(): string {
    return DateTime.fromMillis(this.now(), { zone: 'utc' }).toISODate() as string;
  }

  private resetsAt(): string {
    return DateTime.fromMillis(this.now(), { zone: 'utc' }).startOf('day').plus({ days: 1 }).toISO({ suppressMilliseconds: true }) as string;
  }

  /** Runs `fn` alone for this account, so concurrent calls never double-spend the last unit. */
  private exclusive<T>(accountId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(accountId) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    this.locks.set(accountId, next.catch(() => undefined));
    return next;
  }

  private async usedToday(accountId: string): Promise<number> {
    const record = await this.store.load(accountId);
    return record && record.day === this.today() ? record.used : 0;
  }

  private stateFrom(used: number): QuotaState {
    return { used, limit: this.limit, remaining: Math.max(0, this.limit - used), resetsAt: this.resetsAt() };
  }

  async state(accountId: string): Promise<QuotaState> {
    return this.stateFrom(await this.usedToday(accountId));
  }

  /** Spends one call, or throws the quota error without spending when the budget is gone. */
  take(accountId: string, operation?: string): Promise<QuotaState> {
    return this.exclusive(accountId, async () => {
      const used = await this.usedToday(accountId);
      if (used >= this.limit) {
        const state = this.stateFrom(used);
        throw new CarDataError({
          kind: 'quota',
          exveErrorId: 'CU-429',
          bmwMessage: CU_CODES['CU-429'].message,
          message: `${operation ? `${operation}: ` : ''}daily CarData quota spent (${used}/${this.limit}); refused locally, BMW was not called. Resets at ${state.resetsAt}`,
          hint: CU_CODES['CU-429'].hint,
          operation,
        });
      }
      await this.store.save(accountId, { day: this.today(), used: used + 1 });
      return this.stateFrom(used + 1);
    });
  }

  /** BMW said the quota is spent (CU-429): trust it, so later calls are refused locally until the reset. */
  markExhausted(accountId: string): Promise<QuotaState> {
    return this.exclusive(accountId, async () => {
      const used = Math.max(this.limit, await this.usedToday(accountId));
      await this.store.save(accountId, { day: this.today(), used });
      return this.stateFrom(used);
    });
  }
}
