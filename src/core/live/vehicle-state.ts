import type { StreamEvent } from '../stream/message';
import { catalogueUnit, cleanUnit, telematicValue, type TelematicScalar } from '../telematic-values';

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
  /** Stamped too far ahead of the host's clock: `timestamp` and `time` are the arrival time instead. */
  future?: true;
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
 * How far (ms) a reading's timestamp may lie ahead of this machine's clock. A car's clock and the host's differ
 * by seconds; a reading stamped further ahead (a day, a year) would hold its descriptor until that time, since
 * every later reading would look older. Such a reading is taken as measured when it arrived.
 */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * A normalised stream event, typed with the catalogue: numeric strings of numeric descriptors become numbers,
 * "true"/"false" of boolean descriptors booleans; the unit is the one BMW sent, else the catalogue's. A reading
 * without a usable timestamp, or stamped more than FUTURE_TOLERANCE_MS ahead of `now` (epoch ms), takes `now`
 * (`future` says which).
 */
export function typeReading(event: StreamEvent, now: number): TypedReading {
  const parsed = event.timestamp ? Date.parse(event.timestamp) : NaN;
  const future = parsed > now + FUTURE_TOLERANCE_MS;
  const usable = !Number.isNaN(parsed) && !future;
  const reading: TypedReading = {
    vin: event.vin,
    descriptor: event.descriptor,
    value: telematicValue(event.descriptor, event.value),
    unit: cleanUnit(event.unit) ?? catalogueUnit(event.descriptor),
    timestamp: usable ? (event.timestamp as string) : new Date(now).toISOString(),
    time: usable ? parsed : now,
  };
  if (future) reading.future = true;
  return reading;
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
