import { DESCRIPTORS } from './catalogue';
import type { TelematicDataEntry } from './types';

// How telematic values are typed, for the REST answer and the stream alike: BMW sends every value as text, and
// the catalogue says which descriptors are numbers or booleans. One rule, so every host shows the same value.

export type TelematicScalar = string | number | boolean | null;

type Kind = 'number' | 'boolean' | 'other';

const NUMERIC_TYPES = new Set(['float', 'double', 'int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32']);
const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** BMW's unit spellings as shown to users: `percent` and `%` are one unit; empty means none. */
export function cleanUnit(unit: string | null | undefined): string | null {
  if (typeof unit !== 'string') return null;
  const u = unit.trim();
  if (u === '' || u === 'null') return null;
  return u === 'percent' ? '%' : u;
}

const TYPING = new Map<string, { kind: Kind; unit: string | null }>(
  DESCRIPTORS.map((d) => {
    const unit = cleanUnit(d.unit);
    // A few descriptors have no datatype but a unit (the 12 V battery's %): a measurement, so a number.
    const kind: Kind = NUMERIC_TYPES.has(d.datatype) || (d.datatype === '' && unit !== null) ? 'number' : d.datatype === 'boolean' ? 'boolean' : 'other';
    return [d.id, { kind, unit }];
  }),
);

/** The catalogue's unit of a descriptor, cleaned (null when it has none or is unknown). */
export function catalogueUnit(descriptor: string): string | null {
  return TYPING.get(descriptor)?.unit ?? null;
}

/**
 * A telematic value typed with the catalogue: numeric text of a numeric descriptor becomes a number ("12" -> 12),
 * "true"/"false" of a boolean descriptor a boolean. Everything else stays as BMW sent it: "", "INVALID", states,
 * dates, text descriptors that happen to look like numbers, and descriptors the catalogue does not know.
 */
export function telematicValue(descriptor: string, value: TelematicScalar | undefined): TelematicScalar {
  if (value === undefined) return null;
  if (typeof value !== 'string') return value;
  const kind = TYPING.get(descriptor)?.kind;
  if (kind === 'number') {
    const t = value.trim();
    if (NUMERIC.test(t)) return Number(t);
  } else if (kind === 'boolean') {
    const t = value.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false') return false;
  }
  return value;
}

/** The plain value of every descriptor of a /telematicData answer, typed with telematicValue. */
export function telematicValues(data: Readonly<Record<string, TelematicDataEntry | null | undefined>> | undefined): Record<string, TelematicScalar> {
  const out: Record<string, TelematicScalar> = {};
  for (const [descriptor, entry] of Object.entries(data ?? {})) out[descriptor] = telematicValue(descriptor, entry?.value);
  return out;
}
