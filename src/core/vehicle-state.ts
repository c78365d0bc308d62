import type { StreamEvent } from './stream-message';
import { catalogueUnit, cleanUnit, telematicValue, type TelematicScalar } from './telematic-values';

// The car's state as the stream reports it: the latest value of every descriptor per VIN, typed with the
// catalogue (numbers as numbers, booleans as booleans, the unit attached). Pure: no clock of its own, no I/O.
// Entries are replaced, never changed in place, so a shallow copy of `values` is a snapshot.

export type StateScalar = TelematicScalar;

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

/**
 * A normalised stream event, typed with the catalogue: numeric strings of numeric descriptors become numbers,
 * "true"/"false" of boolean descriptors booleans; the unit is the one BMW sent, else the catalogue's. A reading
 * without a usable timestamp takes `now` (epoch ms).
 */
export function typeReading(event: StreamEvent, now: number): TypedReading {
  const parsed = event.timestamp ? Date.parse(event.timestamp) : NaN;
  const time = Number.isNaN(parsed) ? now : parsed;
  return {
    vin: event.vin,
    descriptor: event.descriptor,
    value: telematicValue(event.descriptor, event.value),
    unit: cleanUnit(event.unit) ?? catalogueUnit(event.descriptor),
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
