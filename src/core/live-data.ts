import { initialChargingState, trackCharging, type ChargingEvent, type ChargingPhase, type ChargingState } from './charging-events';
import { normalizeStreamMessage, type StreamEvent, type StreamRawMessage } from './stream-message';
import { applyReading, typeReading, type StateValue } from './vehicle-state';

// Live data without quota: stream messages in, the car's state and charging events out.
// normalise -> type and de-duplicate -> state -> events. Pure: the clock is injected, nothing is written;
// the whole state is one plain JSON object the host persists (serialize) and hands back after a restart.

/** One car: the latest value of every descriptor it streamed, and what the charging tracker believes. */
export interface VehicleRecord {
  vin: string;
  /** The time of the latest reading that changed a value (ISO 8601), null before the first. */
  updatedAt: string | null;
  values: Record<string, StateValue>;
  charging: ChargingState;
}

/** Everything LiveData knows; plain JSON. */
export interface LiveDataState {
  version: 1;
  vehicles: Record<string, VehicleRecord>;
}

/** The result of one message (per VIN). */
export interface LiveUpdate {
  vin: string;
  /** The car's state changed (a value, or what the charging tracker shows): hosts emit `vehicle(vin)`. */
  changed: boolean;
  /** The descriptors whose value changed or appeared, in message order. */
  changes: string[];
  /** Readings ignored: the same value with the same timestamp again. */
  duplicates: number;
  /** Readings ignored: older than the value held. */
  stale: number;
  /** Charging events, in the order they happened. */
  events: ChargingEvent[];
}

export interface LiveDataOptions {
  /** A state from serialize(), to continue after a restart. */
  state?: LiveDataState;
  /** Epoch ms, for readings BMW sent without a timestamp. Default Date.now. */
  now?: () => number;
}

const PHASES: ReadonlySet<ChargingPhase | null> = new Set([null, 'idle', 'preparing', 'charging', 'paused', 'ended', 'interrupted', 'error']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(what: string): never {
  throw new TypeError(`Not a saved live-data state: ${what}`);
}

/** Checks a saved state (for example read back from a file) and returns a copy LiveData can own. */
export function restoreLiveDataState(saved: unknown): LiveDataState {
  if (!isObject(saved)) bad('not an object');
  if (saved.version !== 1) bad(`version ${JSON.stringify(saved.version)} (expected 1)`);
  if (!isObject(saved.vehicles)) bad('no vehicles');
  const state: LiveDataState = { version: 1, vehicles: {} };
  for (const [vin, record] of Object.entries(saved.vehicles)) {
    if (!isObject(record) || !isObject(record.values) || !isObject(record.charging)) bad(`vehicle ${vin}`);
    const values: Record<string, StateValue> = {};
    for (const [id, e] of Object.entries(record.values)) {
      if (!isObject(e) || typeof e.timestamp !== 'string' || Number.isNaN(Date.parse(e.timestamp))) bad(`value ${id} of ${vin}`);
      const v = e.value;
      if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') bad(`value ${id} of ${vin}`);
      values[id] = { value: v, unit: typeof e.unit === 'string' ? e.unit : null, timestamp: e.timestamp };
    }
    const c = record.charging;
    if (!PHASES.has(c.phase as ChargingPhase | null)) bad(`charging phase of ${vin}`);
    const charging: ChargingState = { ...initialChargingState(), ...(JSON.parse(JSON.stringify(c)) as Partial<ChargingState>) };
    if (charging.session !== null && (!isObject(charging.session) || typeof charging.session.startedAt !== 'string')) bad(`charging session of ${vin}`);
    state.vehicles[vin] = { vin, updatedAt: typeof record.updatedAt === 'string' ? record.updatedAt : null, values, charging };
  }
  return state;
}

function snapshot(r: VehicleRecord): VehicleRecord {
  // Entries are replaced, never changed in place: copying the map is enough. A key loop is several times
  // faster than a spread for the ~250 descriptors a car can hold.
  const values: Record<string, StateValue> = {};
  const keys = Object.keys(r.values);
  for (let i = 0; i < keys.length; i += 1) values[keys[i]] = r.values[keys[i]];
  const charging = { ...r.charging, session: r.charging.session ? { ...r.charging.session } : null };
  return { vin: r.vin, updatedAt: r.updatedAt, values, charging };
}

function sameCharging(a: ChargingState, b: ChargingState): boolean {
  return a.plugged === b.plugged && a.phase === b.phase && a.charging === b.charging && a.powerKw === b.powerKw && a.session === b.session;
}

/**
 * The car's state and charging events from stream messages, for every VIN of an account.
 *
 *     const live = new LiveData({ state: saved });
 *     const u = live.ingest(message.raw, message.topic);
 *     if (u?.changed) { save(live.serialize()); emitState(live.vehicle(u.vin)); }
 *     for (const e of u?.events ?? []) emitEvent(e);
 *
 * Feed it every message unfiltered (the tracker needs the status, plug, charge and power readings); persist
 * the state before acting on the events, so a restart never emits an event twice.
 */
export class LiveData {
  private readonly state: LiveDataState;
  private readonly now: () => number;

  constructor(opts: LiveDataOptions = {}) {
    this.state = opts.state ? restoreLiveDataState(opts.state) : { version: 1, vehicles: {} };
    this.now = opts.now ?? Date.now;
  }

  /** One BMW stream message (as parsed from the payload). undefined when it carries no readings. */
  ingest(raw: StreamRawMessage, topic = ''): LiveUpdate | undefined {
    const events = normalizeStreamMessage(raw, topic);
    return events.length > 0 ? this.ingestEvents(events)[0] : undefined;
  }

  /** Normalised events of one message (or several readings taken together); one update per VIN. */
  ingestEvents(events: readonly StreamEvent[]): LiveUpdate[] {
    const byVin = new Map<string, StreamEvent[]>();
    for (const e of events) {
      if (!e.vin) continue;
      const list = byVin.get(e.vin);
      if (list) list.push(e);
      else byVin.set(e.vin, [e]);
    }
    const now = this.now();
    return [...byVin].map(([vin, list]) => this.apply(vin, list, now));
  }

  private apply(vin: string, list: StreamEvent[], now: number): LiveUpdate {
    let record = this.state.vehicles[vin];
    if (!record) {
      record = { vin, updatedAt: null, values: {}, charging: initialChargingState() };
      this.state.vehicles[vin] = record;
    }
    const changes: string[] = [];
    const touched: string[] = [];
    let duplicates = 0;
    let stale = 0;
    let latest = record.updatedAt ? Date.parse(record.updatedAt) : -Infinity;
    for (const e of list) {
      const reading = typeReading(e, now);
      const outcome = applyReading(record.values, reading);
      if (outcome === 'duplicate') duplicates += 1;
      else if (outcome === 'stale') stale += 1;
      else {
        touched.push(reading.descriptor);
        if (outcome !== 'refreshed') {
          changes.push(reading.descriptor);
          if (reading.time > latest) {
            latest = reading.time;
            record.updatedAt = reading.timestamp;
          }
        }
      }
    }
    const before = { ...record.charging };
    const events = touched.length > 0 ? trackCharging(vin, record.charging, record.values, touched) : [];
    const changed = changes.length > 0 || events.length > 0 || !sameCharging(before, record.charging);
    return { vin, changed, changes, duplicates, stale, events };
  }

  /** A snapshot of one car's state (a copy: later messages do not change it). */
  vehicle(vin: string): VehicleRecord | undefined {
    const r = this.state.vehicles[vin];
    return r ? snapshot(r) : undefined;
  }

  vins(): string[] {
    return Object.keys(this.state.vehicles);
  }

  /** The whole state as plain JSON, to persist and pass back as `state` after a restart. */
  serialize(): LiveDataState {
    return JSON.parse(JSON.stringify(this.state)) as LiveDataState;
  }
}
