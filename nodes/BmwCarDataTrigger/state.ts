import type { ChargingSession } from '../../src/core/types';

/** What the trigger remembers between polls: the newest start time seen and the sessions that started then. */
export interface PollState {
  highWater?: number;
  seenAtHighWater?: string[];
}

/** A charging session has no ID: its start, end and mileage identify it. */
export function sessionKey(s: ChargingSession): string {
  return `${s.startTime}-${s.endTime}-${s.mileage}`;
}

/**
 * The sessions not emitted before (oldest first) and the state after emitting them. A session is new when it
 * started after the high-water mark, or at that instant without having been seen.
 */
export function newSessions(state: PollState, sessions: ChargingSession[]): { fresh: ChargingSession[]; next: Required<PollState> } {
  const mark = typeof state.highWater === 'number' ? state.highWater : -Infinity;
  const seen = new Set(state.seenAtHighWater ?? []);
  const fresh = sessions
    .filter((s) => typeof s.startTime === 'number' && (s.startTime > mark || (s.startTime === mark && !seen.has(sessionKey(s)))))
    .sort((a, b) => a.startTime - b.startTime);
  const all = [...sessions.filter((s) => typeof s.startTime === 'number')];
  const highWater = all.reduce((m, s) => Math.max(m, s.startTime), mark);
  const atMark = all.filter((s) => s.startTime === highWater).map(sessionKey);
  const keep = highWater === mark ? [...new Set([...seen, ...atMark])] : atMark;
  return { fresh, next: { highWater: Number.isFinite(highWater) ? highWater : Math.floor(Date.now() / 1000), seenAtHighWater: keep } };
}
