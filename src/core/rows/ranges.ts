import { DateTime, IANAZone } from 'luxon';
import { inputError } from '../errors';
import { type Clock, realClock } from '../transport';

/** Date ranges a user picks by name instead of typing dates. */
export type RelativeRange = 'last24h' | 'last7d' | 'last30d' | 'thisMonth' | 'lastMonth';

export const RELATIVE_RANGES: readonly { id: RelativeRange; label: string }[] = [
  { id: 'last24h', label: 'Last 24 hours' },
  { id: 'last7d', label: 'Last 7 days' },
  { id: 'last30d', label: 'Last 30 days' },
  { id: 'thisMonth', label: 'This month' },
  { id: 'lastMonth', label: 'Last month' },
];

export function isRelativeRange(value: unknown): value is RelativeRange {
  return typeof value === 'string' && RELATIVE_RANGES.some((r) => r.id === value);
}

export interface RelativeRangeOptions {
  /** IANA time zone in which months start (e.g. Europe/Berlin). Default UTC. */
  timeZone?: string;
  now?: Clock;
}

/** Checks an IANA zone name; an empty one means UTC. */
export function checkTimeZone(zone: unknown): string {
  if (zone === undefined || zone === null || zone === '') return 'UTC';
  if (typeof zone !== 'string' || !IANAZone.isValidZone(zone.trim())) {
    throw inputError('timeZone', `Unknown time zone: ${String(zone).slice(0, 40)}`, 'Use an IANA time zone name such as Europe/Berlin or UTC.');
  }
  return zone.trim();
}

/**
 * `from`/`to` (ISO 8601 UTC) of a named range. Calendar months start at midnight in the given zone, so "last
 * month" in Europe/Berlin is not the same instant range as in UTC. "This month" ends now.
 */
export function relativeRange(range: RelativeRange | string, options: RelativeRangeOptions = {}): { from: string; to: string } {
  const zone = checkTimeZone(options.timeZone);
  const now = DateTime.fromMillis((options.now ?? realClock)(), { zone });
  let from: DateTime;
  let to: DateTime = now;
  switch (range) {
    case 'last24h':
      from = now.minus({ hours: 24 });
      break;
    case 'last7d':
      from = now.minus({ days: 7 });
      break;
    case 'last30d':
      from = now.minus({ days: 30 });
      break;
    case 'thisMonth':
      from = now.startOf('month');
      break;
    case 'lastMonth':
      to = now.startOf('month');
      from = to.minus({ months: 1 });
      break;
    default:
      throw inputError('range', `Unknown range: ${String(range).slice(0, 40)}`, `Use one of ${RELATIVE_RANGES.map((r) => r.id).join(', ')}.`);
  }
  const iso = (d: DateTime) => d.toUTC().toISO({ suppressMilliseconds: true }) as string;
  return { from: iso(from), to: iso(to) };
}
