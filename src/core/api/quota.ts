import { DateTime } from 'luxon';
import { CarDataError, CU_CODES } from '../errors';
import { type Clock, realClock } from '../transport';

/** What one account has spent on one UTC day. */
export interface QuotaRecord {
  day: string;
  used: number;
  /** BMW said the day is spent (CU-429): nothing is given back until the reset. */
  exhausted?: boolean;
  /** The count of that day could not be read (a broken store): the day is treated as spent. */
  unknown?: boolean;
}

/** A change of one account's record: the next record, or undefined to leave it as it is. */
export type QuotaChange = (current: QuotaRecord | undefined) => QuotaRecord | undefined;

/**
 * Where the ledger keeps its counts: memory, a file, or a host's own storage. `update` reads, changes and writes
 * one account's record as one step, also against other ledgers and processes that use the same store.
 */
export interface QuotaStore {
  load(accountId: string): Promise<QuotaRecord | undefined>;
  update(accountId: string, change: QuotaChange): Promise<QuotaRecord | undefined>;
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
  // No await between the read and the write: no other call can come in between.
  async update(accountId: string, change: QuotaChange): Promise<QuotaRecord | undefined> {
    const current = this.records.get(accountId);
    const next = change(current && { ...current });
    if (next) this.records.set(accountId, { ...next });
    const stored = this.records.get(accountId);
    return stored && { ...stored };
  }
}

/** A record as stored: a day in YYYY-MM-DD and a non-negative whole count, nothing else. */
export function isQuotaRecord(value: unknown): value is QuotaRecord {
  if (!value || typeof value !== 'object') return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.day === 'string' &&
    /^\d{4}-\d{2}-\d{2}$/.test(r.day) &&
    typeof r.used === 'number' &&
    Number.isInteger(r.used) &&
    r.used >= 0 &&
    (r.exhausted === undefined || typeof r.exhausted === 'boolean') &&
    (r.unknown === undefined || typeof r.unknown === 'boolean')
  );
}

/** BMW's daily budget of CarData calls per account. */
export const DEFAULT_DAILY_QUOTA = 50;

export interface QuotaLedgerOptions {
  store?: QuotaStore;
  /** Calls per UTC day (default DEFAULT_DAILY_QUOTA). */
  limit?: number;
  now?: Clock;
}

/**
 * The daily budget of CarData calls per BMW account. A unit is reserved just before a request is sent and given
 * back if the request never left (refused connection, DNS failure): only requests BMW may have counted are spent.
 * Once the day's budget is spent the ledger refuses locally, so no call reaches BMW. Resets at 00:00 UTC.
 */
export class QuotaLedger {
  readonly limit: number;
  private readonly store: QuotaStore;
  private readonly now: Clock;

  constructor(options: QuotaLedgerOptions = {}) {
    this.limit = options.limit ?? DEFAULT_DAILY_QUOTA;
    this.store = options.store ?? new MemoryQuotaStore();
    this.now = options.now ?? realClock;
  }

  private today(): string {
    return DateTime.fromMillis(this.now(), { zone: 'utc' }).toISODate() as string;
  }

  private resetsAt(): string {
    return DateTime.fromMillis(this.now(), { zone: 'utc' }).startOf('day').plus({ days: 1 }).toISO({ suppressMilliseconds: true }) as string;
  }

  /** Today's record (a record of another day counts as none). */
  private current(record: QuotaRecord | undefined): QuotaRecord {
    return record && record.day === this.today() ? record : { day: this.today(), used: 0 };
  }

  private used(record: QuotaRecord): number {
    return record.unknown || record.exhausted ? Math.max(this.limit, record.used) : record.used;
  }

  private stateFrom(record: QuotaRecord | undefined): QuotaState {
    const used = this.used(this.current(record));
    return { used, limit: this.limit, remaining: Math.max(0, this.limit - used), resetsAt: this.resetsAt() };
  }

  async state(accountId: string): Promise<QuotaState> {
    return this.stateFrom(await this.store.load(accountId));
  }

  /** Spends one call, or throws the quota error without spending when the budget is gone. */
  async take(accountId: string, operation?: string): Promise<QuotaState> {
    let refused: number | undefined;
    const record = await this.store.update(accountId, (stored) => {
      const today = this.current(stored);
      const used = this.used(today);
      if (used >= this.limit) {
        refused = used;
        return undefined;
      }
      return { ...today, used: today.used + 1 };
    });
    if (refused !== undefined) {
      const state = this.stateFrom(record);
      throw new CarDataError({
        kind: 'quota',
        exveErrorId: 'CU-429',
        bmwMessage: CU_CODES['CU-429'].message,
        message: `${operation ? `${operation}: ` : ''}daily CarData quota spent (${refused}/${this.limit}); refused locally, BMW was not called. Resets at ${state.resetsAt}`,
        hint: CU_CODES['CU-429'].hint,
        operation,
      });
    }
    return this.stateFrom(record);
  }

  /** Gives back a unit taken for a request that never left (nothing BMW could have counted). */
  async giveBack(accountId: string): Promise<QuotaState> {
    const record = await this.store.update(accountId, (stored) => {
      const today = this.current(stored);
      if (stored?.day !== today.day || today.used === 0 || today.exhausted) return undefined;
      return { ...today, used: today.used - 1 };
    });
    return this.stateFrom(record);
  }

  /** BMW said the quota is spent (CU-429): trust it, so later calls are refused locally until the reset. */
  async markExhausted(accountId: string): Promise<QuotaState> {
    const record = await this.store.update(accountId, (stored) => {
      const today = this.current(stored);
      return { day: today.day, used: Math.max(this.limit, today.used), exhausted: true };
    });
    return this.stateFrom(record);
  }
}
