import { DateTime } from 'luxon';
import { findDescriptor, DESCRIPTORS } from './catalogue';
import { inputError } from './errors';

// Text copied from BMW's catalogue web page carries zero-width spaces inside keys; BMW then answers CU-402.
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;

export function stripInvisible(text: string): string {
  return text.replace(INVISIBLE, '');
}

/** A VIN: exactly 17 upper-case letters and digits (BMW answers CU-120 otherwise). */
export function checkVin(vin: unknown): string {
  if (typeof vin !== 'string' || stripInvisible(vin).trim() === '') {
    throw inputError('vin', 'A VIN is required', 'Set the VIN in the node or pass it as msg.vin / the VIN field.');
  }
  const value = stripInvisible(vin).trim();
  if (value.length !== 17) {
    throw inputError('vin', `The VIN must be 17 characters, got ${value.length}`, 'Copy the VIN from the mapped vehicles.');
  }
  if (/^[A-Za-z0-9]{17}$/.test(value) && value !== value.toUpperCase()) {
    throw inputError('vin', `The VIN must be upper case: ${value.toUpperCase()}`, 'BMW refuses lower-case VINs (CU-120).');
  }
  if (!/^[A-Z0-9]{17}$/.test(value)) {
    throw inputError('vin', 'The VIN may contain only letters A-Z and digits', 'Copy the VIN from the mapped vehicles.');
  }
  return value;
}

/** A container ID: always 13 characters (BMW answers CU-121 otherwise). */
export function checkContainerId(id: unknown): string {
  if (typeof id !== 'string' || stripInvisible(id).trim() === '') {
    throw inputError('containerId', 'A container ID is required', 'List the containers to find one, or let the node manage it.');
  }
  const value = stripInvisible(id).trim();
  if (!/^[A-Za-z0-9_-]{13}$/.test(value)) {
    throw inputError('containerId', `A container ID is 13 letters or digits, got "${value.slice(0, 40)}"`, 'List the containers to find one.');
  }
  return value;
}

export type DateInput = string | Date | number;

/** Parses an ISO 8601 date or date-time (a date alone is midnight UTC), a Date or epoch milliseconds. */
export function parseInstant(value: DateInput, parameter: string): DateTime {
  let dt: DateTime;
  if (value instanceof Date) dt = DateTime.fromJSDate(value, { zone: 'utc' });
  else if (typeof value === 'number') dt = DateTime.fromMillis(value, { zone: 'utc' });
  else if (typeof value === 'string' && value.trim() !== '') dt = DateTime.fromISO(value.trim(), { zone: 'utc', setZone: true });
  else throw inputError(parameter, `"${parameter}" is required`, 'Give an ISO 8601 date-time such as 2026-01-31T00:00:00Z.');
  if (!dt.isValid) {
    throw inputError(
      parameter,
      `"${parameter}" is not an ISO 8601 date-time: ${String(value).slice(0, 40)}`,
      'Use a form such as 2026-01-31 or 2026-01-31T18:30:00Z (BMW answers CU-401 otherwise).',
    );
  }
  return dt;
}

/** `from`/`to` as BMW wants them: ISO 8601 UTC, from strictly before to. */
export function checkRange(from: DateInput, to: DateInput): { from: string; to: string } {
  const f = parseInstant(from, 'from');
  const t = parseInstant(to, 'to');
  if (f.toMillis() >= t.toMillis()) {
    throw inputError('from', `"from" (${f.toUTC().toISO()}) must be before "to" (${t.toUTC().toISO()})`, 'Swap the dates or widen the range.');
  }
  const iso = (d: DateTime) => d.toUTC().toISO({ suppressMilliseconds: true }) as string;
  return { from: iso(f), to: iso(t) };
}

function closest(id: string): string | undefined {
  const tail = id.split('.').slice(-2).join('.').toLowerCase();
  return DESCRIPTORS.find((d) => d.id.toLowerCase() === id.toLowerCase())?.id ?? DESCRIPTORS.find((d) => d.id.toLowerCase().endsWith(tail))?.id;
}

/**
 * Descriptors: an array or a comma/space/newline separated string; invisible characters stripped, duplicates
 * removed, each checked against the catalogue (BMW answers CU-402 for one unknown key and refuses them all).
 */
export function checkDescriptors(input: unknown, options: { allowUnknown?: boolean } = {}): string[] {
  let list: unknown[];
  if (Array.isArray(input)) list = input;
  else if (typeof input === 'string') list = input.split(/[\s,;]+/);
  else throw inputError('descriptors', 'Descriptors must be a list of catalogue keys', 'Pick them from the catalogue or pass msg.descriptors as an array.');
  const ids: string[] = [];
  for (const item of list) {
    if (typeof item !== 'string') throw inputError('descriptors', 'Every descriptor must be a string', '');
    const id = stripInvisible(item).trim();
    if (id !== '' && !ids.includes(id)) ids.push(id);
  }
  if (ids.length === 0) throw inputError('descriptors', 'At least one descriptor is required', 'Pick descriptors from the catalogue.');
  if (!options.allowUnknown) {
    const unknown = ids.filter((id) => !findDescriptor(id));
    if (unknown.length > 0) {
      const suggestions = unknown.map((u) => closest(u)).filter((s): s is string => !!s);
      throw inputError(
        'descriptors',
        `Unknown descriptor${unknown.length > 1 ? 's' : ''}: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`,
        suggestions.length ? `Did you mean ${suggestions.join(', ')}?` : 'Pick descriptors from the catalogue (BMW would answer CU-402).',
      );
    }
  }
  return ids;
}

/** A positive whole number, or undefined for "no limit". */
export function checkLimit(limit: unknown): number | undefined {
  if (limit === undefined || limit === null || limit === '' || limit === 0) return undefined;
  const n = typeof limit === 'string' ? Number(limit) : limit;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw inputError('limit', `The limit must be a positive whole number, got ${String(limit).slice(0, 20)}`, 'Leave it empty to read everything.');
  }
  return n;
}
