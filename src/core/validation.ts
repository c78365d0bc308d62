import { DateTime } from 'luxon';
import { findDescriptor, DESCRIPTORS } from './catalogue';
import { descriptorsForWord } from './descriptor-words';
import { inputError, shown } from './errors';
import { type Clock, realClock } from './transport';

// Text copied from BMW's catalogue web page carries zero-width spaces inside keys; BMW then answers CU-402.
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;

export function stripInvisible(text: string): string {
  return text.replace(INVISIBLE, '');
}

/**
 * A VIN: exactly 17 upper-case letters and digits, never I, O or Q (ISO 3779: they look like 1 and 0). BMW
 * answers CU-120 otherwise.
 */
export function checkVin(vin: unknown): string {
  if (typeof vin !== 'string' || stripInvisible(vin).trim() === '') {
    throw inputError('vin', 'A VIN is required', 'Set the VIN in the node or pass it as msg.vin / the VIN field.');
  }
  const value = stripInvisible(vin).trim();
  if (value.length !== 17) {
    throw inputError('vin', `The VIN must be 17 characters, got ${value.length}`, 'Copy the VIN from the mapped vehicles.');
  }
  if (!/^[A-Za-z0-9]{17}$/.test(value)) {
    throw inputError('vin', 'The VIN may contain only letters and digits', 'Copy the VIN from the mapped vehicles.');
  }
  const banned = /[IOQ]/i.exec(value);
  if (banned) {
    throw inputError(
      'vin',
      `A VIN never contains the letters I, O or Q (ISO 3779), found "${banned[0]}" at position ${banned.index + 1}`,
      'Check for a digit 1 or 0 typed as a letter; copy the VIN from the mapped vehicles.',
    );
  }
  if (value !== value.toUpperCase()) {
    throw inputError('vin', `The VIN must be upper case: ${value.toUpperCase()}`, 'BMW refuses lower-case VINs (CU-120).');
  }
  return value;
}

/**
 * Whether `text` is a VIN exactly as it stands (no trimming): 17 characters of A-H, J-N, P, R-Z and 0-9
 * (ISO 3779). For names that come from the stream and become topics or file keys, where anything else (a `/`, an
 * MQTT wildcard) would do harm.
 */
export function isVin(text: unknown): text is string {
  return typeof text === 'string' && /^[A-HJ-NPR-Z0-9]{17}$/.test(text);
}

/** A container ID: always 13 letters and digits (BMW answers CU-121 otherwise). */
export function checkContainerId(id: unknown): string {
  if (typeof id !== 'string' || stripInvisible(id).trim() === '') {
    throw inputError('containerId', 'A container ID is required', 'List the containers to find one, or let the node manage it.');
  }
  const value = stripInvisible(id).trim();
  if (!/^[A-Za-z0-9]{13}$/.test(value)) {
    throw inputError('containerId', `A container ID is 13 letters or digits, got "${shown(value)}"`, 'List the containers to find one.');
  }
  return value;
}

export type DateInput = string | Date | number;

/** Plain numbers below this are epoch seconds (that many milliseconds would be March 1973), from it on milliseconds. */
export const EPOCH_SECONDS_BELOW = 1e11;
const EPOCH_HINT = `A number is read as epoch seconds below ${EPOCH_SECONDS_BELOW} and as epoch milliseconds from there on.`;
const FORMAT_HINT = `Use a form such as 2026-01-31 or 2026-01-31T18:30:00Z (BMW answers CU-401 otherwise), a Date, or a number. ${EPOCH_HINT}`;
const EARLIEST = DateTime.fromISO('1970-01-01T00:00:00Z', { zone: 'utc' });

const iso = (d: DateTime) => d.toUTC().toISO({ suppressMilliseconds: true }) as string;

/**
 * Parses an ISO 8601 date or date-time (a date alone is midnight UTC), a Date, or epoch seconds / milliseconds
 * (numbers below {@link EPOCH_SECONDS_BELOW} are seconds). Instants before 1970 or more than a year after `now`
 * are refused: they are typing mistakes, and BMW has no data there.
 */
export function parseInstant(value: DateInput, parameter: string, now: Clock = realClock): DateTime {
  let dt: DateTime;
  if (value instanceof Date) dt = DateTime.fromJSDate(value, { zone: 'utc' });
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw inputError(parameter, `"${parameter}" is not a date: ${shown(value)}`, FORMAT_HINT);
    dt = DateTime.fromMillis(Math.abs(value) < EPOCH_SECONDS_BELOW ? value * 1000 : value, { zone: 'utc' });
  } else if (typeof value === 'string' && value.trim() !== '') dt = DateTime.fromISO(value.trim(), { zone: 'utc', setZone: true });
  else throw inputError(parameter, `"${parameter}" is required`, 'Give an ISO 8601 date-time such as 2026-01-31T00:00:00Z.');
  if (!dt.isValid) {
    const digits = typeof value === 'string' && /^\d+$/.test(value.trim());
    throw inputError(
      parameter,
      `"${parameter}" is not an ISO 8601 date-time: ${shown(value)}`,
      digits ? `Give an epoch time as a number, not as text. ${EPOCH_HINT}` : FORMAT_HINT,
    );
  }
  if (dt.toMillis() < EARLIEST.toMillis()) {
    throw inputError(
      parameter,
      `"${parameter}" (${iso(dt)}) is before 1970`,
      typeof value === 'number' ? `Check the number. ${EPOCH_HINT}` : 'Check the year.',
    );
  }
  if (dt.toMillis() > DateTime.fromMillis(now(), { zone: 'utc' }).plus({ years: 1 }).toMillis()) {
    throw inputError(
      parameter,
      `"${parameter}" (${iso(dt)}) is more than a year ahead`,
      `${typeof value === 'number' ? `Check the number. ${EPOCH_HINT}` : 'Check the year.'} To read up to now, give the current time.`,
    );
  }
  return dt;
}

/** `from`/`to` as BMW wants them: ISO 8601 UTC, from strictly before to, both between 1970 and a year from now. */
export function checkRange(from: DateInput, to: DateInput, now: Clock = realClock): { from: string; to: string } {
  const f = parseInstant(from, 'from', now);
  const t = parseInstant(to, 'to', now);
  if (f.toMillis() >= t.toMillis()) {
    throw inputError('from', `"from" (${f.toUTC().toISO()}) must be before "to" (${t.toUTC().toISO()})`, 'Swap the dates or widen the range.');
  }
  return { from: iso(f), to: iso(t) };
}

/**
 * A link a person is asked to open (the device login's verification URI): an absolute http(s) URL, nothing
 * else, so a hostile or broken login service cannot hand out a javascript: or data: link.
 */
export function isWebLink(value: unknown): value is string {
  if (typeof value !== 'string' || value.trim() !== value || value === '') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function closest(id: string): string | undefined {
  // A word people use ("soc", "Ladestand", "range") names the descriptors it stands for.
  const meant = descriptorsForWord(id);
  if (meant.length > 0) return meant.join(' or ');
  const lower = id.toLowerCase();
  const tail = lower.split('.').slice(-2).join('.');
  return DESCRIPTORS.find((d) => d.id.toLowerCase() === lower)?.id ?? DESCRIPTORS.find((d) => d.id.toLowerCase().endsWith(tail))?.id;
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
  const ids = new Set<string>();
  for (const item of list) {
    if (typeof item !== 'string') throw inputError('descriptors', 'Every descriptor must be a string', '');
    const id = stripInvisible(item).trim();
    if (id !== '') ids.add(id);
  }
  if (ids.size === 0) throw inputError('descriptors', 'At least one descriptor is required', 'Pick descriptors from the catalogue.');
  if (!options.allowUnknown) {
    const unknown = [...ids].filter((id) => !findDescriptor(id));
    if (unknown.length > 0) {
      // Only the first five are named, and suggested for: a pasted list of thousands stays a short message.
      const named = unknown.slice(0, 5);
      const suggestions = named.map((u) => closest(u)).filter((s): s is string => !!s);
      throw inputError(
        'descriptors',
        `Unknown descriptor${unknown.length > 1 ? 's' : ''}: ${named.map((u) => shown(u)).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`,
        suggestions.length ? `Did you mean ${suggestions.join(', ')}?` : 'Pick descriptors from the catalogue (BMW would answer CU-402).',
      );
    }
  }
  return [...ids];
}

/** A positive whole number, or undefined for "no limit". */
export function checkLimit(limit: unknown): number | undefined {
  if (limit === undefined || limit === null || limit === '' || limit === 0) return undefined;
  const n = typeof limit === 'string' ? Number(limit) : limit;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw inputError('limit', `The limit must be a positive whole number, got ${shown(limit, 20)}`, 'Leave it empty to read everything.');
  }
  return n;
}
