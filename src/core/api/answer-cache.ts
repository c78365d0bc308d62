import { inputError } from '../errors';
import { type Clock, realClock } from '../transport';

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;

/**
 * One answer of BMW as kept: a JSON body as it came, a binary body (the image) as base64, so a store can write
 * every answer as JSON.
 */
export interface CachedAnswer {
  /** When BMW answered, epoch ms. */
  at: number;
  status: number;
  contentType?: string;
  body?: unknown;
  base64?: string;
}

/** The kept answers of one account, by request (operation, path and query). */
export type CachedAnswers = Record<string, CachedAnswer>;

/** Where a host keeps one account's answers: memory (n8n), a file (Node-RED, the command line). */
export interface AnswerStore {
  load(): CachedAnswers | undefined;
  /** Called after every change with all answers kept; the host writes them when it can. */
  save(answers: CachedAnswers): void;
}

/** Bounds of one account's cache: images are large, so both the count and the bytes are capped. */
export interface AnswerCacheLimits {
  maxEntries: number;
  /** JSON text and base64 counted as written. */
  maxBytes: number;
}

export const DEFAULT_ANSWER_CACHE_LIMITS: AnswerCacheLimits = { maxEntries: 100, maxBytes: 4 * 1024 * 1024 };

function sizeOf(answer: CachedAnswer): number {
  if (answer.base64 !== undefined) return answer.base64.length;
  try {
    return JSON.stringify(answer.body ?? null).length;
  } catch {
    return Infinity;
  }
}

/** An answer as stored, checked: anything else read from a store is left out (and asked of BMW again). */
export function isCachedAnswer(value: unknown): value is CachedAnswer {
  if (!value || typeof value !== 'object') return false;
  const a = value as Record<string, unknown>;
  return (
    typeof a.at === 'number' &&
    Number.isFinite(a.at) &&
    typeof a.status === 'number' &&
    (a.contentType === undefined || typeof a.contentType === 'string') &&
    (a.base64 === undefined || typeof a.base64 === 'string')
  );
}

/** The valid answers of what a store held. */
export function cachedAnswersOf(value: unknown): CachedAnswers {
  const out: CachedAnswers = {};
  if (!value || typeof value !== 'object') return out;
  for (const [key, answer] of Object.entries(value as Record<string, unknown>)) if (isCachedAnswer(answer)) out[key] = answer;
  return out;
}

/**
 * BMW's answers of one account that stay the same for a while (basic data, the image, the vehicle list, ...), so a
 * read within an operation's lifetime costs no call. Bounded: the oldest answers go first when the count or the
 * bytes exceed the limits; an answer larger than the whole budget is not kept.
 */
export class AnswerCache {
  private entries?: Map<string, { answer: CachedAnswer; bytes: number }>;
  private readonly limits: AnswerCacheLimits;

  constructor(
    private readonly store?: AnswerStore,
    limits: Partial<AnswerCacheLimits> = {},
    private readonly now: Clock = realClock,
  ) {
    this.limits = { ...DEFAULT_ANSWER_CACHE_LIMITS, ...limits };
  }

  private all(): Map<string, { answer: CachedAnswer; bytes: number }> {
    if (!this.entries) {
      this.entries = new Map();
      const loaded = Object.entries(cachedAnswersOf(this.store?.load())).sort(([, a], [, b]) => a.at - b.at);
      for (const [key, answer] of loaded) this.entries.set(key, { answer, bytes: sizeOf(answer) });
      this.trim();
    }
    return this.entries;
  }

  /** The answer to `key` if BMW gave it less than `maxAgeMs` ago (one from the future is not trusted). */
  get(key: string, maxAgeMs: number): CachedAnswer | undefined {
    const entry = this.all().get(key);
    if (!entry) return undefined;
    const age = this.now() - entry.answer.at;
    return age >= 0 && age < maxAgeMs ? entry.answer : undefined;
  }

  put(key: string, answer: CachedAnswer): void {
    const entries = this.all();
    entries.delete(key);
    const bytes = sizeOf(answer);
    if (bytes <= this.limits.maxBytes) entries.set(key, { answer, bytes });
    this.trim();
    this.save();
  }

  /** How many answers are kept and their size. */
  size(): { entries: number; bytes: number } {
    let bytes = 0;
    for (const e of this.all().values()) bytes += e.bytes;
    return { entries: this.all().size, bytes };
  }

  // Insertion order is age order: puts go to the end.
  private trim(): void {
    const entries = this.entries as Map<string, { bytes: number }>;
    let bytes = 0;
    for (const e of entries.values()) bytes += e.bytes;
    for (const [key, e] of entries) {
      if (entries.size <= this.limits.maxEntries && bytes <= this.limits.maxBytes) break;
      entries.delete(key);
      bytes -= e.bytes;
    }
  }

  private save(): void {
    const out: CachedAnswers = {};
    for (const [key, e] of this.all()) out[key] = e.answer;
    this.store?.save(out);
  }
}

/** What the answers of one run were: from BMW, from the cache, and the oldest cached one. */
export class CacheReport {
  fromBmw = 0;
  fromCache = 0;
  oldestAt?: number;

  note(answer: { fromCache?: { at: number } }): void {
    if (!answer.fromCache) {
      this.fromBmw += 1;
      return;
    }
    this.fromCache += 1;
    this.oldestAt = Math.min(this.oldestAt ?? answer.fromCache.at, answer.fromCache.at);
  }

  /**
   * Beside the quota figures: `fromCache` true when every answer of the run came from the cache (it cost
   * nothing), with the age of the oldest in whole seconds. Undefined when the run read nothing cacheable.
   */
  summary(now: number = Date.now()): { fromCache: boolean; cacheAgeSeconds?: number } | undefined {
    if (this.fromBmw + this.fromCache === 0) return undefined;
    if (this.fromBmw > 0 || this.oldestAt === undefined) return { fromCache: false };
    return { fromCache: true, cacheAgeSeconds: Math.max(0, Math.round((now - this.oldestAt) / 1000)) };
  }
}

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: HOUR_MS, d: DAY_MS };

/**
 * A node's "Answer from cache up to" setting: empty for the operation's own lifetime (undefined), else a
 * duration such as 0, 90s, 30m, 2h or 1d (a bare number counts seconds); 0 always asks BMW. In milliseconds.
 */
export function parseMaxAge(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value * 1000;
  } else if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === '') return undefined;
    const m = /^(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)?$/.exec(text);
    if (m) return Math.round(Number(m[1]) * UNITS[(m[2] ?? 's')[0]]);
  }
  throw inputError(
    'cacheMaxAge',
    `"Answer from cache up to" must be a duration such as 0, 90s, 30m, 2h or 1d, not ${JSON.stringify(String(value).slice(0, 40))}`,
    "Leave it empty for the operation's own lifetime, or 0 to always ask BMW.",
  );
}
