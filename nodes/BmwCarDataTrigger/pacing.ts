import { DateTime } from 'luxon';

/**
 * How often the trigger asks BMW, whatever n8n's Poll Times say (n8n polls every minute by default; each check of
 * BMW costs one of the account's 50 daily calls). A poll between two checks returns nothing and costs nothing.
 *
 * - By day, a check every `spacing` minutes (default 2 hours, at least 30 minutes).
 * - While the last check saw a session in progress (BMW lists a charge while it lasts, without an end), or left
 *   sessions for the next polls, the next check comes after a quarter of the spacing (at least 30 minutes): the end
 *   of a charge is what the workflow waits for. At most as many of these closer checks a UTC day as the spacing
 *   gives regular ones (12 at the default), so a car that stays plugged in all day cannot double the cost twice over.
 * - At night (22:00 to 6:00 in the workflow's time zone) twice the spacing and no closer checks, and a check at
 *   6:00: a charge that ends at night is read in the morning.
 * - A check refused for the quota (the day is spent, or the rest is the user's reserve) waits for the reset.
 */
export const MIN_SPACING_MIN = 30;
export const DEFAULT_SPACING_MIN = 120;
const NIGHT_FROM_HOUR = 22;
const NIGHT_TO_HOUR = 6;
const MINUTE_MS = 60_000;
const DAY_MIN = 24 * 60;

/** What the trigger keeps about its checks, beside what it emitted. */
export interface Pacing {
  /** Epoch ms of the last check of BMW (answered or not). */
  checkedAt: number;
  /** The last check saw a session in progress, or left sessions for the next polls. */
  busy: boolean;
  /** The UTC day of `closer` and the closer checks made on it. */
  day: string;
  closer: number;
  /** Epoch ms before which no check is made (the quota's reset, after a refusal). */
  notBefore?: number;
}

/** The spacing as set: minutes, at least MIN_SPACING_MIN. */
export function spacingMinutes(value: unknown): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.max(MIN_SPACING_MIN, n) : DEFAULT_SPACING_MIN;
}

function utcDay(ms: number): string {
  return DateTime.fromMillis(ms, { zone: 'utc' }).toISODate() as string;
}

/** The end of the night a check at `ms` falls in (epoch ms), or undefined when it was made by day. */
function nightEnd(ms: number, zone: string): number | undefined {
  let local = DateTime.fromMillis(ms, { zone });
  if (!local.isValid) local = DateTime.fromMillis(ms, { zone: 'utc' });
  if (local.hour >= NIGHT_TO_HOUR && local.hour < NIGHT_FROM_HOUR) return undefined;
  const morning = local.set({ hour: NIGHT_TO_HOUR, minute: 0, second: 0, millisecond: 0 });
  return (local.hour >= NIGHT_FROM_HOUR ? morning.plus({ days: 1 }) : morning).toMillis();
}

/** Reads what an earlier poll saved; anything else counts as no check yet. */
export function readPacing(value: unknown): Pacing | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const p = value as Record<string, unknown>;
  if (typeof p.checkedAt !== 'number' || !Number.isFinite(p.checkedAt)) return undefined;
  return {
    checkedAt: p.checkedAt,
    busy: p.busy === true,
    day: typeof p.day === 'string' ? p.day : '',
    closer: typeof p.closer === 'number' ? p.closer : 0,
    notBefore: typeof p.notBefore === 'number' ? p.notBefore : undefined,
  };
}

/** The spacing of the closer checks while a charge is in progress: a quarter of the spacing, at least MIN_SPACING_MIN. */
export function closerMinutes(spacingMin: number): number {
  return Math.max(MIN_SPACING_MIN, spacingMin / 4);
}

export interface Plan {
  /** Whether this poll asks BMW. */
  check: boolean;
  /** The check is a closer one (counted against the day's allowance). */
  closer: boolean;
}

/** Whether a poll at `now` asks BMW, given the last check (none: it does), the spacing and the time zone. */
export function plan(last: Pacing | undefined, now: number, spacingMin: number, zone: string): Plan {
  // No check yet, or a clock that went back: ask.
  if (!last || now < last.checkedAt) return { check: true, closer: false };
  if (last.notBefore !== undefined && now < last.notBefore) return { check: false, closer: false };
  const closerSpacing = closerMinutes(spacingMin);
  const closerLeft = (last.day === utcDay(now) ? last.closer : 0) < Math.floor(DAY_MIN / spacingMin);
  const morning = nightEnd(last.checkedAt, zone);
  const closer = last.busy && morning === undefined && closerLeft && closerSpacing < spacingMin;
  // At night twice the spacing, but the first check of the day comes at its start.
  const due =
    morning === undefined ? last.checkedAt + (closer ? closerSpacing : spacingMin) * MINUTE_MS : Math.min(last.checkedAt + 2 * spacingMin * MINUTE_MS, morning);
  return { check: now >= due, closer };
}

/** What to keep after a check at `now`; `busy` as the check saw it, `retryAfterMs` when the quota refused it. */
export function afterCheck(last: Pacing | undefined, now: number, planned: Plan, busy: boolean, retryAfterMs?: number): Pacing {
  const day = utcDay(now);
  const closer = (last?.day === day ? last.closer : 0) + (planned.closer ? 1 : 0);
  const next: Pacing = { checkedAt: now, busy, day, closer };
  if (retryAfterMs !== undefined) next.notBefore = now + retryAfterMs;
  return next;
}
