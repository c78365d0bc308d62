import { promises as fs } from 'fs';
import * as path from 'path';
import type { TripFinishedEvent } from '../core';
import { writePrivateText } from './private-file';

// The trip log: the finished trips a host saw, one JSON line each, appended as they finish, in a file readable by
// its owner only (it holds where the car went). It is bounded: trips older than TRIP_LOG_MAX_AGE_MS and all but the
// newest TRIP_LOG_MAX_TRIPS are dropped when the file is rewritten. A line cut off by a crash is skipped, said once.

/** A year (and a day, so that a trip of the same day a year ago is still there). */
export const TRIP_LOG_MAX_AGE_MS = 366 * 24 * 3_600_000;
/** About 27 trips a day for a year. */
export const TRIP_LOG_MAX_TRIPS = 10_000;

/** A line of the log: the finished trip with its id first, as the bridge publishes it. */
export type LoggedTrip = { id: string } & TripFinishedEvent;

export interface TripLogOptions {
  /** The file; undefined keeps the log in memory only. */
  file?: string;
  /** Reads the file and never writes it (the bridge's --dry-run): what is appended stays in memory. */
  readOnly?: boolean;
  warn: (message: string) => void;
  now?: () => number;
  maxAgeMs?: number;
  maxTrips?: number;
}

function isLoggedTrip(value: unknown): value is LoggedTrip {
  const t = value as Partial<LoggedTrip> | null;
  return (
    typeof t === 'object' &&
    t !== null &&
    t.kind === 'trip-finished' &&
    typeof t.id === 'string' &&
    typeof t.vin === 'string' &&
    typeof t.startedAt === 'string' &&
    typeof t.endedAt === 'string' &&
    !Number.isNaN(Date.parse(t.endedAt))
  );
}

interface ReadLog {
  trips: LoggedTrip[];
  /** Lines that are not a trip (cut off by a crash, or not JSON). */
  skipped: number;
  /** The file does not end with a line end: the last line was cut off. */
  cutOff: boolean;
}

async function readLines(file: string): Promise<ReadLog> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { trips: [], skipped: 0, cutOff: false };
    throw new Error(`cannot read the trip log ${file}: ${(e as Error).message}`);
  }
  const trips: LoggedTrip[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    if (isLoggedTrip(value)) trips.push(value);
    else skipped += 1;
  }
  return { trips, skipped, cutOff: text !== '' && !text.endsWith('\n') };
}

function skippedMessage(file: string, read: ReadLog): string {
  const what = read.skipped === 1 ? '1 line that is not a trip' : `${read.skipped} lines that are not trips`;
  return `the trip log ${file} holds ${what}${read.cutOff ? ' (the last one cut off, as by a crash while it was written)' : ''}; skipped`;
}

/**
 * Reads a trip log without writing it (the command line, while the bridge may be appending): every trip in it, in
 * the order they were written, the same trip once. A line that is not a trip is skipped, said once through `warn`.
 */
export async function readTripLog(file: string, warn: (message: string) => void): Promise<LoggedTrip[]> {
  const read = await readLines(file);
  if (read.skipped > 0) warn(skippedMessage(file, read));
  const seen = new Set<string>();
  return read.trips.filter((t) => !seen.has(t.id) && (seen.add(t.id), true));
}

/** The trip log a host writes: appends finished trips, each once, and keeps the file within its bounds. */
export class TripLog {
  /** What the file holds: each trip's id, car and end, oldest first. */
  private entries: Array<{ id: string; vin: string; endMs: number }> = [];
  private readonly ids = new Set<string>();
  private readonly lastOf = new Map<string, LoggedTrip>();
  private writing: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly maxAgeMs: number;
  private readonly maxTrips: number;

  private constructor(private readonly options: TripLogOptions) {
    this.now = options.now ?? Date.now;
    this.maxAgeMs = options.maxAgeMs ?? TRIP_LOG_MAX_AGE_MS;
    this.maxTrips = Math.max(1, options.maxTrips ?? TRIP_LOG_MAX_TRIPS);
  }

  /** Reads what a previous run wrote; a cut-off or broken line is skipped (said once) and the file rewritten without it. */
  static async open(options: TripLogOptions): Promise<TripLog> {
    const log = new TripLog(options);
    if (!options.file) return log;
    const read = await readLines(options.file);
    for (const t of read.trips) log.note(t);
    if (read.skipped > 0) options.warn(skippedMessage(options.file, read));
    // The next append must start on a line of its own, and what is past its bounds goes now.
    if (!options.readOnly && (read.skipped > 0 || read.cutOff || log.overBounds())) await log.rotate();
    return log;
  }

  /** The last finished trip of a car in the log. */
  last(vin: string): LoggedTrip | undefined {
    return this.lastOf.get(vin);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * Appends the trips not in the log yet and resolves once they are on the disk (flushed); then drops what is past
   * the bounds. Rejects when the file cannot be written: the trips are still known (last()), not logged.
   */
  append(trips: readonly LoggedTrip[]): Promise<void> {
    const fresh = trips.filter((t) => !this.ids.has(t.id));
    if (fresh.length === 0) return Promise.resolve();
    for (const t of fresh) this.note(t);
    const file = this.options.readOnly ? undefined : this.options.file;
    if (!file) {
      this.bound();
      return Promise.resolve();
    }
    const text = fresh.map((t) => `${JSON.stringify(t)}\n`).join('');
    const job = async (): Promise<void> => {
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const handle = await fs.open(file, 'a', 0o600);
      try {
        await handle.appendFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (this.overBounds()) await this.rewrite();
    };
    const done = this.writing.then(job, job);
    this.writing = done.catch(() => undefined);
    return done;
  }

  /** Resolves when no write is under way. */
  settled(): Promise<void> {
    return this.writing;
  }

  private note(t: LoggedTrip): void {
    if (this.ids.has(t.id)) return;
    this.ids.add(t.id);
    this.entries.push({ id: t.id, vin: t.vin, endMs: Date.parse(t.endedAt) });
    const last = this.lastOf.get(t.vin);
    if (!last || Date.parse(last.endedAt) <= Date.parse(t.endedAt)) this.lastOf.set(t.vin, t);
  }

  private overBounds(): boolean {
    return this.entries.length > this.maxTrips || this.entries.some((e) => e.endMs < this.now() - this.maxAgeMs);
  }

  /** Keeps the trips within the bounds (in memory); returns the ids kept. */
  private bound(): Set<string> {
    const oldest = this.now() - this.maxAgeMs;
    this.entries = this.entries.filter((e) => e.endMs >= oldest).slice(-this.maxTrips);
    const kept = new Set(this.entries.map((e) => e.id));
    for (const id of [...this.ids]) if (!kept.has(id)) this.ids.delete(id);
    return kept;
  }

  private rotate(): Promise<void> {
    const done = this.writing.then(
      () => this.rewrite(),
      () => this.rewrite(),
    );
    this.writing = done.catch(() => undefined);
    return done;
  }

  /** Writes the file anew with the trips within the bounds (through a temporary file: a crash leaves the old one). */
  private async rewrite(): Promise<void> {
    const file = this.options.file as string;
    const kept = this.bound();
    const { trips } = await readLines(file);
    const seen = new Set<string>();
    const lines = trips.filter((t) => kept.has(t.id) && !seen.has(t.id) && (seen.add(t.id), true)).map((t) => `${JSON.stringify(t)}\n`);
    await writePrivateText(file, lines.join(''), { sync: true });
  }
}
