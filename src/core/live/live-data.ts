import {
  initialChargingState,
  settleCharging,
  settleDueAt,
  trackCharging,
  type ChargingEvent,
  type ChargingPhase,
  type ChargingState,
  type TrackedReading,
} from './charging-events';
import { findDescriptor } from '../catalogue';
import { initialTripState, settleTrips, trackTrips, tripDueAt, type TripEvent, type TripState, type TripTrackOptions } from './trips';
import { normalizeStreamMessage, type StreamEvent, type StreamRawMessage } from '../stream/message';
import { applyReading, FUTURE_TOLERANCE_MS, typeReading, type StateValue } from './vehicle-state';
import {
  importChargingHistory,
  initialLedgerState,
  ledgerDue,
  recordLedger,
  restoreLedger,
  type HistoryImport,
  type LedgerEvent,
  type LedgerState,
} from './ledger';
import type { Tariff } from '../tariff';
import type { ChargingSession } from '../types';

// Live data without quota: stream messages in, the car's state, charging events and trips out.
// normalise -> type and de-duplicate -> state -> events. Pure: the clock is injected, nothing is written;
// the whole state is one plain JSON object the host persists (serialize) and hands back after a restart.

/** One car: the latest value of every descriptor it streamed, and what the charging and trip trackers believe. */
export interface VehicleRecord {
  vin: string;
  /** The time of the latest reading that changed a value (ISO 8601), null before the first. */
  updatedAt: string | null;
  values: Record<string, StateValue>;
  charging: ChargingState;
  /** Absent in states saved by earlier versions until they are restored. */
  trips: TripState;
  /** The energy counter and monthly figures (see ledger.ts); absent until the car's first finished charge or trip. */
  ledger?: LedgerState;
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
  /** Readings stamped too far ahead of the host's clock, taken as measured when they arrived. */
  future: number;
  /** Charging events, in the order they happened. */
  events: ChargingEvent[];
  /** Trip events (trip-started, trip-finished), in the order they happened; apart from `events`, which stays charging only. */
  trips: TripEvent[];
  /** Ledger events (summary, month-closed), after the charging and trip events they follow from. */
  ledger: LedgerEvent[];
  /** Readings refused by the limits (see LiveDataLimits), by data key; absent when none was. */
  dropped?: DroppedReadings;
}

/** The data keys of readings LiveData refused to keep. */
export interface DroppedReadings {
  /** New keys the catalogue does not know, beyond `maxKeysPerCar`. */
  keys: string[];
  /** Readings larger than `maxReadingChars`. */
  size: string[];
}

/**
 * What one car may hold, so that a broken or hostile stream cannot grow the state (and every save of it) without
 * end. A car has about 250 keys in the catalogue; text values are short states and names.
 */
export interface LiveDataLimits {
  /**
   * Data keys per car. Keys of the catalogue are always kept; a new key the catalogue does not know is dropped once
   * the car holds this many. Default 1,000.
   */
  maxKeysPerCar: number;
  /**
   * Characters of one reading: data key, value, unit and timestamp together. A larger reading is dropped whole and
   * the value held before stays: a value cut short would be a value BMW never sent. Default 16,384.
   */
  maxReadingChars: number;
}

export const DEFAULT_LIVE_DATA_LIMITS: Readonly<LiveDataLimits> = { maxKeysPerCar: 1000, maxReadingChars: 16_384 };

export interface LiveDataOptions {
  /** A state from serialize(), to continue after a restart. */
  state?: LiveDataState;
  /** Epoch ms, for readings BMW sent without a timestamp (or from the future), and for the settle window. Default Date.now. */
  now?: () => number;
  /** How long a finished charge or trip waits for late readings (ms). Default FINISH_SETTLE_MS. */
  settleMs?: number;
  /** A pause without motion shorter than this (ms) is a stop within a trip. Default TRIP_PAUSE_MS. */
  tripPauseMs?: number;
  /** Default DEFAULT_LIVE_DATA_LIMITS. */
  limits?: Partial<LiveDataLimits>;
  /** The account's tariff (parseTariff): `charging-finished` gains `cost`, the monthly figures a cost. None: no cost anywhere. */
  tariff?: Tariff;
}

const PHASES: ReadonlySet<ChargingPhase | null> = new Set([null, 'idle', 'preparing', 'charging', 'paused', 'ended', 'interrupted', 'error']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(what: string): never {
  throw new TypeError(`Not a saved live-data state: ${what}`);
}

/** Names that are members of every object ('__proto__', 'constructor' …): never a VIN or a descriptor. */
export function isPlainKey(key: string): boolean {
  return key !== '' && !(key in Object.prototype);
}

/**
 * Checks a saved state (for example read back from a file) and returns a copy LiveData can own. A value stamped
 * too far ahead of `now` (saved before such readings were taken as arriving) is restamped with `now`.
 */
export function restoreLiveDataState(saved: unknown, now = Date.now()): LiveDataState {
  if (!isObject(saved)) bad('not an object');
  if (saved.version !== 1) bad(`version ${JSON.stringify(saved.version)} (expected 1)`);
  if (!isObject(saved.vehicles)) bad('no vehicles');
  const state: LiveDataState = { version: 1, vehicles: {} };
  for (const [vin, record] of Object.entries(saved.vehicles)) {
    if (!isPlainKey(vin)) continue;
    if (!isObject(record) || !isObject(record.values) || !isObject(record.charging)) bad(`vehicle ${vin}`);
    const values: Record<string, StateValue> = {};
    for (const [id, e] of Object.entries(record.values)) {
      if (!isPlainKey(id)) continue;
      if (!isObject(e) || typeof e.timestamp !== 'string' || Number.isNaN(Date.parse(e.timestamp))) bad(`value ${id} of ${vin}`);
      const v = e.value;
      if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') bad(`value ${id} of ${vin}`);
      const timestamp = Date.parse(e.timestamp) > now + FUTURE_TOLERANCE_MS ? new Date(now).toISOString() : e.timestamp;
      values[id] = { value: v, unit: typeof e.unit === 'string' ? e.unit : null, timestamp };
    }
    const c = record.charging;
    if (!PHASES.has(c.phase as ChargingPhase | null)) bad(`charging phase of ${vin}`);
    const charging: ChargingState = { ...initialChargingState(), ...(JSON.parse(JSON.stringify(c)) as Partial<ChargingState>) };
    if (charging.session !== null && (!isObject(charging.session) || typeof charging.session.startedAt !== 'string')) bad(`charging session of ${vin}`);
    const f = charging.finishing;
    if (
      f != null &&
      (!isObject(f) || !isObject(f.session) || typeof f.session.startedAt !== 'string' || typeof f.endedAt !== 'string' || !Array.isArray(f.after))
    ) {
      bad(`finishing charging session of ${vin}`);
    }
    state.vehicles[vin] = {
      vin,
      updatedAt: typeof record.updatedAt === 'string' ? record.updatedAt : null,
      values,
      charging,
      trips: restoreTrips(record.trips, vin),
    };
    const ledger = restoreLedger(record.ledger, vin);
    if (ledger) state.vehicles[vin].ledger = ledger;
  }
  return state;
}

function isTime(v: unknown): v is string {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v));
}

/** A saved trip state, checked (a state saved before trips were tracked has none: a fresh one). */
function restoreTrips(saved: unknown, vin: string): TripState {
  if (saved === undefined) return initialTripState();
  const t = saved;
  if (
    !isObject(t) ||
    !isObject(t.samples) ||
    (t.lastEndedAt !== null && !isTime(t.lastEndedAt)) ||
    (t.ignitionKey !== null && typeof t.ignitionKey !== 'string')
  )
    bad(`trips of ${vin}`);
  const trip = t.trip;
  if (
    trip !== null &&
    (!isObject(trip) ||
      typeof trip.id !== 'string' ||
      !isTime(trip.startedAt) ||
      !Number.isFinite(trip.lastMoveMs) ||
      (trip.endMs !== null && !Number.isFinite(trip.endMs)) ||
      (trip.latestMs !== undefined && !Number.isFinite(trip.latestMs)))
  ) {
    bad(`open trip of ${vin}`);
  }
  const samples: TripState['samples'] = {};
  for (const [id, list] of Object.entries(t.samples)) {
    if (!isPlainKey(id)) continue;
    if (!Array.isArray(list) || !list.every((x) => Array.isArray(x) && x.length === 2 && Number.isFinite(x[0]) && Number.isFinite(x[1])))
      bad(`trip readings ${id} of ${vin}`);
    samples[id] = (list as Array<[number, number]>).map(([time, value]) => [time, value] as [number, number]).sort((a, b) => a[0] - b[0]);
  }
  return {
    driving: trip !== null,
    trip: trip === null ? null : (JSON.parse(JSON.stringify(trip)) as TripState['trip']),
    lastEndedAt: t.lastEndedAt as string | null,
    ignitionKey: t.ignitionKey as string | null,
    movingSeen: t.movingSeen === true,
    samples,
  };
}

function copyTrips(t: TripState): TripState {
  // Readings are replaced, never changed in place: copying each list is enough.
  const samples: TripState['samples'] = {};
  for (const id of Object.keys(t.samples)) samples[id] = t.samples[id].slice();
  return { ...t, trip: t.trip ? { ...t.trip } : null, samples };
}

function snapshot(r: VehicleRecord): VehicleRecord {
  // Entries are replaced, never changed in place: copying the map is enough. A key loop is several times
  // faster than a spread for the ~250 descriptors a car can hold.
  const values: Record<string, StateValue> = {};
  const keys = Object.keys(r.values);
  for (let i = 0; i < keys.length; i += 1) values[keys[i]] = r.values[keys[i]];
  const charging = { ...r.charging, session: r.charging.session ? { ...r.charging.session } : null };
  const copy: VehicleRecord = { vin: r.vin, updatedAt: r.updatedAt, values, charging, trips: copyTrips(r.trips) };
  if (r.ledger) copy.ledger = JSON.parse(JSON.stringify(r.ledger)) as LedgerState;
  return copy;
}

function readingChars(e: StreamEvent): number {
  return e.descriptor.length + (typeof e.value === 'string' ? e.value.length : 0) + (e.unit?.length ?? 0) + (e.timestamp?.length ?? 0);
}

/** The readings of one car that fit the limits, and the keys of those that do not. */
function withinLimits(
  values: Record<string, StateValue> | undefined,
  list: StreamEvent[],
  limits: LiveDataLimits,
): { kept: StreamEvent[]; dropped?: DroppedReadings } {
  let kept: StreamEvent[] | undefined;
  let dropped: DroppedReadings | undefined;
  let keys = -1;
  let added: Set<string> | undefined;
  for (let i = 0; i < list.length; i += 1) {
    const e = list[i];
    let refused: 'keys' | 'size' | undefined;
    if (readingChars(e) > limits.maxReadingChars) refused = 'size';
    else if (!(values && Object.prototype.hasOwnProperty.call(values, e.descriptor)) && !added?.has(e.descriptor)) {
      // Keys are counted only once a key the catalogue does not know comes, so the steady stream pays nothing.
      if (!findDescriptor(e.descriptor)) {
        if (keys < 0) keys = (values ? Object.keys(values).length : 0) + (added?.size ?? 0);
        if (keys >= limits.maxKeysPerCar) refused = 'keys';
      }
      if (!refused) {
        (added ??= new Set()).add(e.descriptor);
        if (keys >= 0) keys += 1;
      }
    }
    if (refused) {
      kept ??= list.slice(0, i);
      dropped ??= { keys: [], size: [] };
      dropped[refused].push(e.descriptor);
    } else kept?.push(e);
  }
  return { kept: kept ?? list, dropped };
}

/** Keys per block of a car's values text. */
const BLOCK = 16;

/**
 * One car's values as JSON text (`"key":{...},...`), in blocks of BLOCK keys: a save walks only the keys that
 * changed and joins the blocks, each block joined again only when one of its keys changed. Keys are never removed
 * from a car's values, and a new key comes last, as in the object.
 */
class CarText {
  private readonly slots = new Map<string, number>();
  private readonly parts: string[] = [];
  private readonly blocks: (string | undefined)[] = [];

  constructor(values: Record<string, StateValue>) {
    for (const id of Object.keys(values)) this.set(values, id);
  }

  update(values: Record<string, StateValue>, changed: Iterable<string> | undefined): void {
    for (const id of changed ?? []) if (Object.prototype.hasOwnProperty.call(values, id)) this.set(values, id);
  }

  text(): string {
    for (let b = 0; b < this.blocks.length; b += 1) this.blocks[b] ??= this.parts.slice(b * BLOCK, (b + 1) * BLOCK).join(',');
    return this.blocks.join(',');
  }

  private set(values: Record<string, StateValue>, id: string): void {
    let slot = this.slots.get(id);
    if (slot === undefined) this.slots.set(id, (slot = this.parts.length));
    this.parts[slot] = `${JSON.stringify(id)}:${JSON.stringify(values[id])}`;
    this.blocks[Math.floor(slot / BLOCK)] = undefined;
  }
}

function sameCharging(a: ChargingState, b: ChargingState): boolean {
  return (
    a.plugged === b.plugged &&
    a.phase === b.phase &&
    a.charging === b.charging &&
    a.powerKw === b.powerKw &&
    a.session === b.session &&
    a.finishing === b.finishing
  );
}

/**
 * The car's state and charging events from stream messages, for every VIN of an account.
 *
 *     const live = new LiveData({ state: saved });
 *     const [u] = live.ingestEvents(message.readings); // or live.ingest(raw, topic) for a message not from the stream
 *     if (u?.changed) { save(live.serialize()); emitState(live.vehicle(u.vin)); }
 *     for (const e of u?.events ?? []) emitEvent(e);
 *
 * Feed it every message unfiltered (the tracker needs the status, plug, charge and power readings); persist
 * the state before acting on the events, so a restart never emits an event twice.
 */
export class LiveData {
  private readonly state: LiveDataState;
  private readonly now: () => number;
  private readonly settleMs?: number;
  private readonly tripPauseMs?: number;
  private readonly limits: LiveDataLimits;
  /** Each car's state as JSON text, as last serialised. */
  private readonly json = new Map<string, string>();
  /** The cars that had a message since they were last serialised. */
  private readonly dirty = new Set<string>();
  /** The cars with a finished charge waiting for late readings, or an open trip. */
  private readonly settling = new Set<string>();
  /** Each car's values as JSON text, kept in blocks so a save serialises only what changed (see CarText). */
  private readonly carText = new Map<string, CarText>();
  /** Each settling car's charging finish due time, by the end time it was computed from. */
  private readonly due = new Map<string, { endedAt: string | undefined; at: number | undefined }>();
  /** The descriptors of each car whose entry was replaced since the car was last serialised. */
  private readonly changedKeys = new Map<string, Set<string>>();
  private readonly tariff?: Tariff;
  /** The earliest end of an open month over all cars (epoch ms); recomputed when a ledger changes. */
  private monthEnd: number | undefined;
  private monthEndKnown = false;

  constructor(opts: LiveDataOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.settleMs = opts.settleMs;
    this.tripPauseMs = opts.tripPauseMs;
    this.tariff = opts.tariff;
    this.state = opts.state ? restoreLiveDataState(opts.state, this.now()) : { version: 1, vehicles: {} };
    for (const record of Object.values(this.state.vehicles)) if (record.charging.finishing || record.trips.trip) this.settling.add(record.vin);
    this.limits = { ...DEFAULT_LIVE_DATA_LIMITS, ...opts.limits };
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
      if (!isPlainKey(e.vin) || !isPlainKey(e.descriptor)) continue;
      const list = byVin.get(e.vin);
      if (list) list.push(e);
      else byVin.set(e.vin, [e]);
    }
    const now = this.now();
    return [...byVin].map(([vin, list]) => {
      const { kept, dropped } = withinLimits(this.state.vehicles[vin]?.values, list, this.limits);
      const update = this.apply(vin, kept, now);
      if (dropped) update.dropped = dropped;
      this.dirty.add(vin);
      return update;
    });
  }

  private apply(vin: string, list: StreamEvent[], now: number): LiveUpdate {
    let record = this.state.vehicles[vin];
    if (!record) {
      record = { vin, updatedAt: null, values: {}, charging: initialChargingState(), trips: initialTripState() };
      this.state.vehicles[vin] = record;
    }
    const changes: string[] = [];
    const touched: string[] = [];
    const readings: TrackedReading[] = [];
    let duplicates = 0;
    let stale = 0;
    let future = 0;
    let latest = record.updatedAt ? Date.parse(record.updatedAt) : -Infinity;
    for (const e of list) {
      const reading = typeReading(e, now);
      if (reading.future) future += 1;
      const outcome = applyReading(record.values, reading);
      if (outcome !== 'duplicate') readings.push(reading);
      if (outcome === 'duplicate') duplicates += 1;
      else if (outcome === 'stale') stale += 1;
      else {
        touched.push(reading.descriptor);
        this.keyChanged(vin, reading.descriptor);
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
    const held = this.held(record);
    // One options object for both trackers (the trip tracker reads `pauseMs` too).
    const opts = { now, settleMs: this.settleMs, pauseMs: this.tripPauseMs, readings };
    const events =
      readings.length > 0 ? trackCharging(vin, record.charging, record.values, touched, opts) : settleCharging(vin, record.charging, record.values, opts);
    const driving = record.trips.driving;
    const trips = readings.length > 0 ? trackTrips(vin, record.trips, record.values, readings, opts) : settleTrips(vin, record.trips, record.values, opts);
    // A late reading that only joins a session's or trip's figures changes nothing shown; it is saved with the next change.
    const ledger = this.ledger(record, events, trips, now);
    // A car that starts or stops waiting for a finish before its month's end moves the next month end (see held).
    if (this.held(record) !== held) this.monthEndKnown = false;
    const changed =
      changes.length > 0 ||
      events.length > 0 ||
      trips.length > 0 ||
      ledger.length > 0 ||
      driving !== record.trips.driving ||
      !sameCharging(before, record.charging);
    if (record.charging.finishing || record.trips.trip) this.settling.add(vin);
    else this.settling.delete(vin);
    return { vin, changed, changes, duplicates, stale, future, events, trips, ledger };
  }

  /** Counts finished charges and trips in the car's ledger and closes its month when due (see ledger.ts). */
  private ledger(record: VehicleRecord, events: readonly ChargingEvent[], trips: readonly TripEvent[], now: number): LedgerEvent[] {
    if (!events.some((e) => e.kind === 'charging-finished') && !trips.some((e) => e.kind === 'trip-finished') && !ledgerDue(record.ledger, now)) return [];
    record.ledger ??= initialLedgerState(this.tariff?.timeZone);
    const out = recordLedger(record.vin, record.ledger, events, trips, { now, tariff: this.tariff, held: this.held(record) });
    this.monthEndKnown = false;
    return out;
  }

  /** A charge or trip that ended before the open month's end has not gone out yet: the month waits for it. */
  private held(record: VehicleRecord): boolean {
    const end = record.ledger?.endsAt;
    if (end === null || end === undefined) return false;
    const f = record.charging.finishing;
    if (f && Date.parse(f.endedAt) < end) return true;
    const t = record.trips.trip;
    return t !== null && t.lastMoveMs < end;
  }

  /**
   * When (epoch ms) the next open month ends, of a car not waiting for a finish (that one's month closes after the
   * finish, at nextSettleAt); hosts with timers call settle() then, and the month's `month-closed` goes out.
   */
  nextMonthEnd(): number | undefined {
    if (this.monthEndKnown) return this.monthEnd;
    let next: number | undefined;
    for (const record of Object.values(this.state.vehicles)) {
      const at = record.ledger?.endsAt;
      if (at !== null && at !== undefined && !this.held(record) && (next === undefined || at < next)) next = at;
    }
    this.monthEnd = next;
    this.monthEndKnown = true;
    return next;
  }

  /**
   * Adds the charging history read over REST (the sessions of getChargingHistory) to the car's energy counter, once
   * per car; sessions overlapping one counted already are left out. The monthly figures stay the stream's.
   */
  importChargingHistory(vin: string, sessions: readonly ChargingSession[]): HistoryImport {
    let record = this.state.vehicles[vin];
    if (!record) {
      record = { vin, updatedAt: null, values: {}, charging: initialChargingState(), trips: initialTripState() };
      this.state.vehicles[vin] = record;
    }
    record.ledger ??= initialLedgerState(this.tariff?.timeZone);
    const result = importChargingHistory(record.ledger, sessions, this.now());
    this.dirty.add(vin);
    return result;
  }

  private tripOptions(now: number): TripTrackOptions {
    return { now, settleMs: this.settleMs, pauseMs: this.tripPauseMs };
  }

  /**
   * The finishes (of charges and trips) whose settle window has passed, for cars that sent nothing since (hosts call
   * it when `nextSettleAt()` comes): one update per car with events.
   */
  settle(): LiveUpdate[] {
    const now = this.now();
    const updates: LiveUpdate[] = [];
    for (const vin of [...this.settling]) {
      const record = this.state.vehicles[vin];
      const events = settleCharging(vin, record.charging, record.values, { now, settleMs: this.settleMs });
      const trips = settleTrips(vin, record.trips, record.values, this.tripOptions(now));
      if (events.length === 0 && trips.length === 0) continue;
      if (!record.charging.finishing && !record.trips.trip) this.settling.delete(vin);
      this.dirty.add(record.vin);
      const ledger = this.ledger(record, events, trips, now);
      updates.push({ vin: record.vin, changed: true, changes: [], duplicates: 0, stale: 0, future: 0, events, trips, ledger });
    }
    const monthEnd = this.nextMonthEnd();
    if (monthEnd !== undefined && now >= monthEnd) {
      for (const record of Object.values(this.state.vehicles)) {
        if (updates.some((u) => u.vin === record.vin) || !ledgerDue(record.ledger, now)) continue;
        const ledger = this.ledger(record, [], [], now);
        if (ledger.length === 0) continue;
        this.dirty.add(record.vin);
        updates.push({ vin: record.vin, changed: true, changes: [], duplicates: 0, stale: 0, future: 0, events: [], trips: [], ledger });
      }
    }
    return updates;
  }

  /** When (epoch ms) the next finish waiting for late readings (or the end of an open trip) is due; undefined when none waits. */
  nextSettleAt(): number | undefined {
    let next: number | undefined;
    const tripOpts = this.tripOptions(0);
    for (const vin of this.settling) {
      const charging = this.dueAt(vin);
      if (charging !== undefined && (next === undefined || charging < next)) next = charging;
      const trip = tripDueAt(this.state.vehicles[vin].trips, tripOpts);
      if (trip !== undefined && (next === undefined || trip < next)) next = trip;
    }
    return next;
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
    return JSON.parse(this.serializeText()) as LiveDataState;
  }

  /**
   * serialize() as JSON text, for a host that writes it: only the cars that had a message since they were last
   * serialised are serialised again, and of each only the values that changed. With `only`, just those cars are
   * brought up to date and the others come as they were last serialised (an older state of theirs, whole and
   * valid): a save for one car's event costs that car.
   */
  serializeText(only?: readonly string[]): string {
    const parts: string[] = [];
    for (const vin of Object.keys(this.state.vehicles)) {
      let text = this.json.get(vin);
      if (text === undefined || (this.dirty.has(vin) && (!only || only.includes(vin)))) text = this.carJson(this.state.vehicles[vin]);
      parts.push(`${JSON.stringify(vin)}:${text}`);
    }
    return `{"version":1,"vehicles":{${parts.join(',')}}}`;
  }

  /**
   * Cars as JSON text by VIN, for a host that keeps one record per car: by default the cars that had a message since
   * they were last serialised (what a save must write), else the cars named. Only changed values are serialised again.
   */
  serializeCars(vins?: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const vin of vins ?? [...this.dirty]) {
      const record = this.state.vehicles[vin];
      if (!record) continue;
      const text = this.json.get(vin);
      out[vin] = text === undefined || this.dirty.has(vin) ? this.carJson(record) : text;
    }
    return out;
  }

  /** settleDueAt of a car, parsed again only when its finish's end time changes. */
  private dueAt(vin: string): number | undefined {
    const endedAt = this.state.vehicles[vin].charging.finishing?.endedAt;
    const held = this.due.get(vin);
    if (held && held.endedAt === endedAt) return held.at;
    const at = settleDueAt(this.state.vehicles[vin].charging, this.settleMs);
    this.due.set(vin, { endedAt, at });
    return at;
  }

  private keyChanged(vin: string, descriptor: string): void {
    const keys = this.changedKeys.get(vin);
    if (keys) keys.add(descriptor);
    else this.changedKeys.set(vin, new Set([descriptor]));
  }

  /** One car as JSON (`values` last), kept as its last serialised text. */
  private carJson(record: VehicleRecord): string {
    this.dirty.delete(record.vin);
    const { values, ...rest } = record;
    let cached = this.carText.get(record.vin);
    if (!cached) this.carText.set(record.vin, (cached = new CarText(values)));
    else cached.update(values, this.changedKeys.get(record.vin));
    this.changedKeys.delete(record.vin);
    const text = `${JSON.stringify(rest).slice(0, -1)},"values":{${cached.text()}}}`;
    this.json.set(record.vin, text);
    return text;
  }
}
