import { isChargingSessionEntry } from '../../src/core/rows/flatten';
import type { ChargingSession } from '../../src/core/types';

const DAY_S = 24 * 60 * 60;
/** Every poll re-reads the sessions that started in this window, so a session BMW reports late still comes. */
export const REREAD_WINDOW_S = 7 * DAY_S;
/** The first poll (and a manual run) reads this far back. */
export const FIRST_POLL_WINDOW_S = 30 * DAY_S;

/**
 * What the trigger remembers between polls, in the workflow's static data. A session is identified by its VIN and
 * start time; `emitted` holds the start times of the sessions already emitted (or remembered on the first poll)
 * that started at or after `floor`, so it stays as small as the re-read window.
 */
export interface PollState {
  version?: 2;
  vin?: string;
  /** Epoch seconds: sessions that started before it are never emitted (existing at activation, or too late). */
  floor?: number;
  /** Start times, as BMW sends them, of the sessions emitted or remembered. */
  emitted?: number[];
  /** Epoch seconds, set while the window holds more sessions than a page: the next poll reads those before it. */
  before?: number;
  /** When BMW was checked last and what the check saw (see pacing.ts). */
  pacing?: unknown;
  /** With no VIN set, every car's own state by VIN, beside the one pacing shared by all (see cars.ts). */
  cars?: Record<string, CarState>;
  /** The first shape: the newest start time seen, and the keys of the sessions that started then. */
  highWater?: number;
  seenAtHighWater?: string[];
}

/** One car's state when every car is watched: the fields of PollState it checks alone, and its turn. */
export interface CarState {
  floor?: number;
  emitted?: number[];
  before?: number;
  /** Epoch ms of the car's last check (answered or not). */
  checkedAt?: number;
  /** Its last check saw a charge in progress, or left sessions for the next checks. */
  busy?: boolean;
  /** Epoch seconds when the trigger first listed the car: at its first check, what ended since then is new. */
  since?: number;
}

/** The state a poll works with; undefined before the first poll (or after the VIN changed). */
export interface Known {
  floor: number;
  emitted: Set<number>;
  before?: number;
}

/** BMW's times are epoch seconds; milliseconds are read too. */
export function epochSeconds(t: number): number {
  return t > 1e12 ? Math.floor(t / 1000) : t;
}

/** VIN and start time identify a session: its end, energy and mileage change while it lasts or when BMW corrects them. */
export function sessionKey(vin: string, s: ChargingSession): string {
  return `${vin}-${s.startTime}`;
}

/** A session still in progress has no end time yet (null, or 0). */
export function isFinished(s: ChargingSession): boolean {
  return typeof s.endTime === 'number' && s.endTime > 0;
}

function hasStart(s: unknown): s is ChargingSession {
  return isChargingSessionEntry(s) && typeof s.startTime === 'number' && s.startTime > 0;
}

/** Reads the saved state, including the first shape: everything up to its high-water mark counts as emitted. */
export function readState(state: PollState, vin: string): Known | undefined {
  if (state.version === 2 && typeof state.floor === 'number') {
    if (state.vin !== vin) return undefined;
    return {
      floor: state.floor,
      emitted: new Set((state.emitted ?? []).filter((t) => typeof t === 'number')),
      before: typeof state.before === 'number' ? state.before : undefined,
    };
  }
  if (typeof state.highWater === 'number') return { floor: epochSeconds(state.highWater) + 1, emitted: new Set() };
  return undefined;
}

/** The range a poll reads, epoch seconds, `to` exclusive. */
export function readRange(known: Known | undefined, nowS: number): { from: number; to: number } {
  if (!known) return { from: nowS - FIRST_POLL_WINDOW_S, to: nowS };
  const from = Math.min(Math.max(known.floor, nowS - REREAD_WINDOW_S), nowS - 60);
  const to = known.before !== undefined && known.before > from ? known.before : nowS;
  return { from, to };
}

export interface PollOutcome {
  /** The sessions to emit, oldest first. */
  emit: ChargingSession[];
  next: PollState;
  /** Sessions are left for the next polls (more than the limit, or more than the page held). */
  pending: boolean;
}

/** Whether the page shows a charge in progress that started within the last day (its end is still to come). */
export function chargeInProgress(sessions: unknown[], nowS: number): boolean {
  return sessions.some((s) => hasStart(s) && !isFinished(s) && epochSeconds(s.startTime) > nowS - DAY_S);
}

/**
 * Decides what one poll emits from the page it read (`more`: the page had a next page token) and what it
 * remembers. A finished session not emitted before is emitted, oldest first and at most `limit` per poll; the
 * rest wait for the next polls. A session in progress waits until it has finished.
 *
 * The first poll remembers the finished sessions it sees and emits only the newest `limit` of them, and only with
 * `emitExisting`; with `since` (epoch seconds) it emits those that ended since then instead, as new sessions. A
 * page holds the newest sessions of the range it covers: when more did not fit, the next poll
 * reads the sessions before the page's oldest, until the range is read to its end.
 */
export function decide(
  known: Known | undefined,
  vin: string,
  page: { sessions: unknown[]; more: boolean },
  range: { from: number; to: number },
  opts: { limit: number; emitExisting: boolean; since?: number },
): PollOutcome {
  const limit = Math.max(1, Math.floor(opts.limit) || 1);
  const sessions = page.sessions.filter(hasStart).sort((a, b) => a.startTime - b.startTime);
  const oldestOnPage = sessions.length ? epochSeconds(sessions[0].startTime) : undefined;
  const finished = sessions.filter(isFinished);
  let floor: number;
  let emitted: Set<number>;
  let emit: ChargingSession[];
  let before: number | undefined;
  let pending = false;
  if (!known) {
    // Sessions older than a full page existed before too: the floor keeps them out.
    floor = page.more && oldestOnPage !== undefined ? oldestOnPage : range.from;
    const since = opts.since;
    const ended = opts.emitExisting || since === undefined ? [] : finished.filter((s) => epochSeconds(s.endTime ?? 0) >= since);
    emit = opts.emitExisting ? finished.slice(-limit) : ended.slice(0, limit);
    // Those beyond the limit come with the next polls.
    const later = new Set(ended.slice(limit).map((s) => s.startTime));
    emitted = new Set(finished.filter((s) => !later.has(s.startTime)).map((s) => s.startTime));
    pending = later.size > 0;
  } else {
    floor = Math.max(known.floor, range.from);
    emitted = known.emitted;
    const fresh = finished.filter((s) => epochSeconds(s.startTime) >= floor && !emitted.has(s.startTime));
    emit = fresh.slice(0, limit);
    for (const s of emit) emitted.add(s.startTime);
    if (fresh.length > emit.length)
      before = known.before; // the same range again, for the rest
    else if (page.more && oldestOnPage !== undefined && oldestOnPage > floor) before = oldestOnPage;
    pending = fresh.length > emit.length || before !== undefined;
  }
  const next: PollState = { version: 2, vin, floor, emitted: [...emitted].filter((t) => epochSeconds(t) >= floor).sort((a, b) => a - b) };
  if (before !== undefined) next.before = before;
  return { emit, next, pending };
}
