import { DESCRIPTORS } from './catalogue';
import type { StreamEvent } from './stream-message';

// The car's state as the stream reports it: the latest value of every descriptor per VIN, typed with the
// catalogue (numbers as numbers, booleans as booleans, the unit attached). Pure: no clock of its own, no I/O.
// Entries are replaced, never changed in place, so a shallow copy of `values` is a snapshot.

export type StateScalar = string | number | boolean | null;

/** The latest reading of one descriptor. */
export interface StateValue {
  value: StateScalar;
  unit: string | null;
  /** When the car measured the value (ISO 8601); when BMW sent none, the time it was received. */
  timestamp: string;
}

/** One stream reading after typing, with its time in epoch milliseconds. */
export interface TypedReading {
  vin: string;
  descriptor: string;
  value: StateScalar;
  unit: string | null;
  timestamp: string;
  time: number;
}

/**
 * What a reading did to the state:
 * - `added`: the first value of the descriptor;
 * - `changed`: a new value (or unit);
 * - `refreshed`: the same value again, measured later (the timestamp moves on, the value does not change);
 * - `duplicate`: the same value with the same timestamp (a message sent again): ignored;
 * - `stale`: older than the value held (arrived out of order): ignored.
 */
export type ReadingOutcome = 'added' | 'changed' | 'refreshed' | 'duplicate' | 'stale';

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

function typed(kind: Kind | undefined, value: StateScalar): StateScalar {
  if (typeof value !== 'string') return value;
  if (kind === 'number') {
    const t = value.trim();
    if (NUMERIC.test(t)) return Number(t);
  } else if (kind === 'boolean') {
    const t = value.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false') return false;
  }
  // "INVALID", "-NA-" and states stay as BMW sent them.
  return value;
}

/**
 * A normalised stream event, typed with the catalogue: numeric strings of numeric descriptors become numbers,
 * "true"/"false" of boolean descriptors booleans; the unit is the one BMW sent, else the catalogue's. A reading
 * without a usable timestamp takes `now` (epoch ms).
 */
export function typeReading(event: StreamEvent, now: number): TypedReading {
  const typing = TYPING.get(event.descriptor);
  const parsed = event.timestamp ? Date.parse(event.timestamp) : NaN;
  const time = Number.isNaN(parsed) ? now : parsed;
  return {
    vin: event.vin,
    descriptor: event.descriptor,
    value: typed(typing?.kind, event.value),
    unit: cleanUnit(event.unit) ?? typing?.unit ?? null,
    timestamp: Number.isNaN(parsed) ? new Date(now).toISOString() : (event.timestamp as string),
    time,
  };
}

/** The time of a state entry in epoch ms (NaN only for a hand-made entry with a broken timestamp). */
export function timeOf(entry: StateValue): number {
  return Date.parse(entry.timestamp);
}

/** Applies one reading to a vehicle's values (replacing the entry) unless it is a duplicate or stale. */
export function applyReading(values: Record<string, StateValue>, reading: TypedReading): ReadingOutcome {
  const held = values[reading.descriptor];
  const entry: StateValue = { value: reading.value, unit: reading.unit, timestamp: reading.timestamp };
  if (!held) {
    values[reading.descriptor] = entry;
    return 'added';
  }
  const heldTime = timeOf(held);
  if (reading.time < heldTime) return 'stale';
  const same = held.value === reading.value && held.unit === reading.unit;
  if (same && reading.time === heldTime) return 'duplicate';
  values[reading.descriptor] = entry;
  return same ? 'refreshed' : 'changed';
}

/** A number from a state entry, or undefined when the descriptor is absent or its value is not a number. */
export function numberOf(values: Record<string, StateValue>, descriptor: string): { value: number; unit: string | null; time: number } | undefined {
  const e = values[descriptor];
  if (!e || typeof e.value !== 'number' || !Number.isFinite(e.value)) return undefined;
  return { value: e.value, unit: e.unit, time: timeOf(e) };
}
