import { DateTime } from 'luxon';
import type { IExecuteFunctions } from 'n8n-workflow';
import { inputError } from '../core/errors';
import { checkTimeZone, relativeRange, RELATIVE_RANGES } from '../core/rows/ranges';

/** n8n's date picker gives a local date-time without offset: read it in the chosen zone, send it as UTC. */
function instant(value: unknown, zone: string, parameter: string): string {
  if (value && typeof value === 'object' && typeof (value as { toISO?: unknown }).toISO === 'function') {
    return (value as DateTime).toUTC().toISO({ suppressMilliseconds: true }) as string;
  }
  const textValue = typeof value === 'string' ? value.trim() : '';
  const parsed = DateTime.fromISO(textValue, { zone });
  if (!textValue || !parsed.isValid) {
    throw inputError(
      parameter,
      `${parameter === 'from' ? 'From' : 'To'} is not a date: ${textValue.slice(0, 40) || 'empty'}`,
      'Pick a date or give an ISO 8601 date-time.',
    );
  }
  return parsed.toUTC().toISO({ suppressMilliseconds: true }) as string;
}

/** The From / To of an item: a named range in the chosen time zone, or the two dates given. */
export function rangeOf(ctx: IExecuteFunctions, itemIndex: number, timeZoneOption: unknown): { from: string; to: string; timeZone: string } {
  const timeZone = checkTimeZone(typeof timeZoneOption === 'string' && timeZoneOption.trim() ? timeZoneOption : ctx.getTimezone());
  const range = ctx.getNodeParameter('range', itemIndex, 'last30d') as string;
  if (range !== 'custom') return { ...relativeRange(range, { timeZone }), timeZone };
  return {
    from: instant(ctx.getNodeParameter('from', itemIndex, ''), timeZone, 'from'),
    to: instant(ctx.getNodeParameter('to', itemIndex, ''), timeZone, 'to'),
    timeZone,
  };
}

export const RANGE_OPTIONS = [...RELATIVE_RANGES.map((r) => ({ name: r.label, value: r.id as string })), { name: 'Custom', value: 'custom' }];
