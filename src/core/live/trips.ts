import { CHARGING_DESCRIPTORS, FINISH_SETTLE_MS, type TrackedReading } from './charging-events';
import { numberOf, type StateValue } from './vehicle-state';
import type { EnergyUsed, TripEndedBy, TripEvent, TripFinishedEvent, TripPosition } from '../trip-events';

export * from '../trip-events';

// Trips derived from the stream: `trip-started` and `trip-finished` (with the trip's figures) per car. Pure, like the
// charging tracker: it keeps the readings that matter by their own times in a plain JSON object (TripState) that is
// part of the car's saved state, and decides from that timeline, whatever order BMW delivered it in.
//
// BMW sends no live speed and no "trip" flag a trip could be read from (`vehicle.trip.segment.*` arrives mid-drive and
// repeats old end fields with old timestamps), so a trip is decided from what the car streams:
//
// - Motion: `vehicle.isMoving` true, or a speed range whose lower bound is above 0 (direct), or the odometer going up,
//   or the position moving more than TRIP_MOVE_METRES from the one before (indirect). For a car that streams its
//   ignition (else `isMoving`), indirect motion counts only while it is on (or comes on within a minute): the last
//   odometer tick and the last fixes of a drive often come seconds after the car stopped.
// - Start: the first motion after the last trip's end. Its time is the ignition going on, when that came within
//   TRIP_PAUSE_MS before the motion, else the motion's own time.
// - End, by what the car streams:
//   - the ignition (`engine.isIgnitionOn`, or `engine.isActive` for a car that never sends the first): the first
//     ignition off after the last motion; a stopped car with the engine on (traffic light, a few minutes parked with
//     the engine running) is still on its trip;
//   - else `vehicle.isMoving`: the first "not moving" after the last motion;
//   - else (position and odometer only): the last motion.
//   The trip ends there when no motion follows within TRIP_PAUSE_MS (10 minutes): a shorter pause (a fuel stop, a
//   bakery) is a stop within the trip, counted in `stops`. Without any end signal (lost while the stream was down)
//   it ends at its last motion once TRIP_SILENCE_MS (an hour) passed without motion. A tunnel or a dropped stream
//   sends nothing, which ends nothing: only an end signal does (for position-only cars, a silence longer than the
//   pause).
// - The finish goes out once the pause and the settle window (FINISH_SETTLE_MS, as for charging) have passed after
//   the end, by the host's clock, or at once when motion after the pause shows the next trip. Its figures come from
//   the readings' own times, so readings that arrive late (BMW holds them back in tunnels), repeated or out of order
//   neither split nor falsify a trip; the state survives a restart, so a restart mid-trip gives one trip.
//
// Signals by car type: every car needs motion (isMoving, or odometer or position); the ignition makes the end
// exact. Figures: the odometer (distance, average speed), latitude and longitude (start and end position); BEV and
// PHEV the high-voltage state of charge (and battery size or energy content for the energy); combustion and PHEV
// the tank content in litres (or the tank level in %).

/** The descriptors the tracker reads, from BMW's catalogue. */
export const TRIP_DESCRIPTORS = {
  /**
   * In order of preference. BMW's catalogue describes them the wrong way round ("State of ignition" is
   * `engine.isActive`); `isIgnitionOn` is the ignition, `isActive` the engine (a PHEV's petrol engine stops
   * mid-drive), read only for cars that never send `isIgnitionOn`.
   */
  ignition: ['vehicle.drivetrain.engine.isIgnitionOn', 'vehicle.drivetrain.engine.isActive'],
  /** true / false (or ASN_isTrue / ASN_isFalse); can lag by minutes, so it never ends a trip of a car with ignition. */
  moving: 'vehicle.isMoving',
  /** km/h; BMW sends a range, not the speed. */
  speedLowerBound: 'vehicle.vehicle.speedRange.lowerBound',
  /** km (mi converted); ticks in whole km. */
  odometer: 'vehicle.vehicle.travelledDistance',
  latitude: 'vehicle.cabin.infotainment.navigation.currentLocation.latitude',
  longitude: 'vehicle.cabin.infotainment.navigation.currentLocation.longitude',
  soc: CHARGING_DESCRIPTORS.soc,
  energyContent: CHARGING_DESCRIPTORS.energyContent,
  batterySize: CHARGING_DESCRIPTORS.batterySize,
  /** Tank content in litres, else tank level in %. */
  fuel: ['vehicle.drivetrain.fuelSystem.remainingFuel', 'vehicle.drivetrain.fuelSystem.level'],
} as const;

/** A pause without motion shorter than this (ms) is a stop within the trip; a longer one ends it. */
export const TRIP_PAUSE_MS = 10 * 60_000;
/** Without any end signal, a trip ends at its last motion once this long (ms) passed without motion. */
export const TRIP_SILENCE_MS = 60 * 60_000;
/** How far (ms) a reading may lie after the start (for a first value) or after the end (for the last) and count. */
export const TRIP_SLACK_MS = 60_000;
/** A position this far (m) from the one before is motion; GPS jitter of a parked car stays below it. */
export const TRIP_MOVE_METRES = 100;
/** A rise of the tank by more than this (litres or %) between two readings is a refuel. */
const REFUEL = 3;
/** Readings kept per descriptor during a trip (beyond it, readings in the middle go) and while parked. */
const MAX_SAMPLES = 1_000;
const PARKED_SAMPLES = 4;

type Sample = [number, number];

/** An open trip, as kept in the state. */
export interface OpenTripState {
  id: string;
  startedAt: string;
  /** false when the tracker had no reading of the car from before the trip's first motion (a state lost mid-trip). */
  startObserved: boolean;
  /** The latest motion of the trip (epoch ms). */
  lastMoveMs: number;
  /** Where the trip ends unless motion follows within the pause (epoch ms); null while none is seen. */
  endMs: number | null;
  endedBy: TripEndedBy | null;
  /**
   * The latest time of the motion readings and of the ignition the car streams held (epoch ms), so the fast path
   * need not look; absent in a state saved before it was kept (then read from the readings).
   */
  latestMs?: number;
}

/** What the tracker believes about a car's trips; plain JSON, part of the persisted state. */
export interface TripState {
  /** A trip is open. */
  driving: boolean;
  trip: OpenTripState | null;
  /** The end of the last finished trip: readings up to it belong to finished trips. */
  lastEndedAt: string | null;
  /** The ignition descriptor the car streams; null until one came. */
  ignitionKey: string | null;
  /** The car streams `vehicle.isMoving`. */
  movingSeen: boolean;
  /**
   * The readings the trips are decided and figured from, by their own times: `[epoch ms, value]` per descriptor
   * (flags as 1 / 0), in time order. While parked only the latest few are kept.
   */
  samples: Record<string, Sample[]>;
}

export function initialTripState(): TripState {
  return { driving: false, trip: null, lastEndedAt: null, ignitionKey: null, movingSeen: false, samples: {} };
}

/** Options of trackTrips and settleTrips. */
export interface TripTrackOptions {
  /** The host's clock (epoch ms); without it, the latest reading's time plus the settle window. */
  now?: number;
  /** Default FINISH_SETTLE_MS. */
  settleMs?: number;
  /** Default TRIP_PAUSE_MS. */
  pauseMs?: number;
}

type Role = 'ignition' | 'moving' | 'speed' | 'odometer' | 'position' | 'figure';

const ROLES: ReadonlyMap<string, Role> = new Map<string, Role>([
  ...TRIP_DESCRIPTORS.ignition.map((d): [string, Role] => [d, 'ignition']),
  [TRIP_DESCRIPTORS.moving, 'moving'],
  [TRIP_DESCRIPTORS.speedLowerBound, 'speed'],
  [TRIP_DESCRIPTORS.odometer, 'odometer'],
  [TRIP_DESCRIPTORS.latitude, 'position'],
  [TRIP_DESCRIPTORS.longitude, 'position'],
  ...[...TRIP_DESCRIPTORS.soc, TRIP_DESCRIPTORS.energyContent, ...TRIP_DESCRIPTORS.fuel].map((d): [string, Role] => [d, 'figure']),
]);

/** Whether the tracker reads a descriptor: hosts that filter the stream must let these through. */
export function isTripDescriptor(descriptor: string): boolean {
  return ROLES.has(descriptor);
}

function flag(v: StateValue['value']): number | undefined {
  if (v === true || v === 'ASN_isTrue') return 1;
  if (v === false || v === 'ASN_isFalse') return 0;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'true') return 1;
    if (t === 'false') return 0;
  }
  return undefined;
}

function numeric(v: StateValue['value']): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)\s*$/.test(v)) return Number(v);
  return undefined;
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

const MS_PER_DAY = 86_400_000;
/** The last ISO time of Date's range written by hand: 9999-12-31T23:59:59.999Z. */
const LAST_4_DIGIT_MS = 253_402_300_799_999;

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/**
 * `new Date(ms).toISOString()`, written without a Date (which costs more than a whole reading on a small machine):
 * the civil date of the day number, after Howard Hinnant's days-to-civil algorithm. Outside 1970 to 9999, Date.
 */
function iso(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > LAST_4_DIGIT_MS) return new Date(ms).toISOString();
  const days = Math.floor(ms / MS_PER_DAY);
  let rest = ms - days * MS_PER_DAY;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const sec = rest % 60;
  rest = (rest - sec) / 60;
  const min = rest % 60;
  const hour = (rest - min) / 60;
  const ms3 = milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : `${milli}`;
  return `${year}-${two(month)}-${two(day)}T${two(hour)}:${two(min)}:${two(sec)}.${ms3}Z`;
}

/** The times of the last trips' ends, parsed (every slow step reads the end of the car's last trip). */
const endTimes = new Map<string, number>();

function endedMs(state: TripState): number {
  const text = state.lastEndedAt;
  if (text === null) return -Infinity;
  let ms = endTimes.get(text);
  if (ms === undefined) {
    if (endTimes.size >= 1024) endTimes.clear();
    endTimes.set(text, (ms = Date.parse(text)));
  }
  return ms;
}

/** Puts a sample in its place by time (one at the same time is replaced). */
function addSample(list: Sample[], time: number, value: number): void {
  let i = list.length;
  while (i > 0 && list[i - 1][0] > time) i -= 1;
  if (i > 0 && list[i - 1][0] === time) list[i - 1] = [time, value];
  else list.splice(i, 0, [time, value]);
}

/** Index of the latest sample at or before `t`, -1 when none. */
function indexAt(list: readonly Sample[], t: number): number {
  let lo = 0;
  let hi = list.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid][0] <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function valueAt(list: readonly Sample[] | undefined, t: number): number | null {
  if (!list) return null;
  const i = indexAt(list, t);
  return i >= 0 ? list[i][1] : null;
}

/** The value at the start: the latest at or before it, else the first within the slack after it. */
function startValue(list: readonly Sample[] | undefined, start: number): number | null {
  if (!list) return null;
  const i = indexAt(list, start);
  if (i >= 0) return list[i][1];
  return list.length > 0 && list[0][0] <= start + TRIP_SLACK_MS ? list[0][1] : null;
}

/** The value at the end: the latest at or before it, or within the slack after it. */
function endValue(list: readonly Sample[] | undefined, end: number): number | null {
  return valueAt(list, end + TRIP_SLACK_MS);
}

function listOf(state: TripState, ids: readonly string[]): Sample[] | undefined {
  for (const id of ids) {
    const list = state.samples[id];
    if (list && list.length > 0) return list;
  }
  return undefined;
}

const EARTH_M = 6_371_000;
const RAD = Math.PI / 180;

/**
 * Whether two positions lie more than TRIP_MOVE_METRES apart (metres() > TRIP_MOVE_METRES). The great circle is at
 * least the latitude's arc and at most the latitude's and longitude's arcs together: most pairs are decided from
 * those, with a micrometre to spare for rounding, without the trigonometry.
 */
function movedFar(aLat: number, aLon: number, bLat: number, bLon: number): boolean {
  const dLat = Math.abs(bLat - aLat) * RAD * EARTH_M;
  if (dLat > TRIP_MOVE_METRES + 1e-6) return true;
  if (dLat + Math.abs(bLon - aLon) * RAD * EARTH_M < TRIP_MOVE_METRES - 1e-6) return false;
  return metres(aLat, aLon, bLat, bLon) > TRIP_MOVE_METRES;
}

function metres(aLat: number, aLon: number, bLat: number, bLon: number): number {
  const rad = Math.PI / 180;
  const dLat = (bLat - aLat) * rad;
  const dLon = (bLon - aLon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(aLat * rad) * Math.cos(bLat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** What the timeline after the last trip's end shows: the first trip in it, as far as it is known. */
interface Scan {
  start?: number;
  /** The first motion (`start` is the ignition going on before it, where it came). */
  firstMove?: number;
  lastMove?: number;
  endAt?: number;
  endedBy?: TripEndedBy;
  /** Motion after the end and the pause: the trip is over whatever comes. */
  closed: boolean;
  stops: number;
}

const MOVE = 1;
const STOP = 0;

function scan(state: TripState, from: number, pauseMs: number): Scan {
  const s = state.samples;
  const mode = state.ignitionKey ? 'ignition' : state.movingSeen ? 'moving' : 'position';
  const ign = state.ignitionKey ? (s[state.ignitionKey] ?? []) : [];
  // Indirect motion counts while the ignition (else the motion flag) is on or not known off, or comes on within the
  // slack: the last fixes of a drive stamped after the car stopped are no new motion.
  const gate = mode === 'ignition' ? ign : mode === 'moving' ? (s[TRIP_DESCRIPTORS.moving] ?? []) : [];
  const ignitionAllows = (t: number): boolean => {
    const i = indexAt(gate, t);
    if (i < 0 || gate[i][1] === 1) return true;
    return i + 1 < gate.length && gate[i + 1][1] === 1 && gate[i + 1][0] <= t + TRIP_SLACK_MS;
  };
  const moments: Array<[number, number]> = [];
  for (const [t, v] of s[TRIP_DESCRIPTORS.moving] ?? []) {
    if (t <= from) continue;
    if (v === 1) moments.push([t, MOVE]);
    else if (mode === 'moving') moments.push([t, STOP]);
  }
  for (const [t, v] of s[TRIP_DESCRIPTORS.speedLowerBound] ?? []) if (t > from && v > 0) moments.push([t, MOVE]);
  const odo = s[TRIP_DESCRIPTORS.odometer] ?? [];
  for (let i = 1; i < odo.length; i += 1) if (odo[i][0] > from && odo[i][1] > odo[i - 1][1] && ignitionAllows(odo[i][0])) moments.push([odo[i][0], MOVE]);
  const lat = s[TRIP_DESCRIPTORS.latitude] ?? [];
  const lon = s[TRIP_DESCRIPTORS.longitude] ?? [];
  let a = 0;
  let b = 0;
  let prev: [number, number] | undefined;
  while (a < lat.length || b < lon.length) {
    const t = b >= lon.length || (a < lat.length && lat[a][0] <= lon[b][0]) ? lat[a][0] : lon[b][0];
    while (a < lat.length && lat[a][0] === t) a += 1;
    while (b < lon.length && lon[b][0] === t) b += 1;
    if (a === 0 || b === 0) continue;
    const here: [number, number] = [lat[a - 1][1], lon[b - 1][1]];
    if (prev && t > from && movedFar(prev[0], prev[1], here[0], here[1]) && ignitionAllows(t)) moments.push([t, MOVE]);
    prev = here;
  }
  if (mode === 'ignition') for (const [t, v] of ign) if (t > from && v === 0) moments.push([t, STOP]);
  // At the same time, motion first: a last fix stamped with the ignition going off is the end, not a stop.
  moments.sort((x, y) => x[0] - y[0] || y[1] - x[1]);

  const out: Scan = { closed: false, stops: 0 };
  let endKind: TripEndedBy | undefined;
  for (const [t, kind] of moments) {
    if (kind === MOVE) {
      if (out.start === undefined) {
        out.firstMove = t;
        out.start = backdate(ign, t, from, pauseMs, mode === 'ignition');
      } else if (out.endAt !== undefined) {
        if (t - out.endAt > pauseMs) {
          out.closed = true;
          break;
        }
        if (endKind !== 'no-motion') out.stops += 1;
        out.endAt = undefined;
      }
      out.lastMove = t;
      if (mode === 'position') {
        out.endAt = t;
        endKind = 'no-motion';
      }
    } else if (out.start !== undefined && out.endAt === undefined) {
      out.endAt = t;
      endKind = mode === 'ignition' ? 'ignition-off' : 'stopped';
    }
  }
  if (out.endAt !== undefined) out.endedBy = endKind;
  return out;
}

/** The start of a trip whose first motion is at `t`: the ignition going on shortly before, else `t`. */
function backdate(ign: readonly Sample[], t: number, from: number, pauseMs: number, ignition: boolean): number {
  if (!ignition) return t;
  let i = indexAt(ign, t);
  if (i < 0 || ign[i][1] !== 1) return t;
  while (i > 0 && ign[i - 1][1] === 1 && ign[i - 1][0] > from) i -= 1;
  const on = ign[i][0];
  return on > from && on >= t - pauseMs ? on : t;
}

/** While parked, only the latest few readings of each descriptor are needed (the values a trip starts from). */
function trimParked(state: TripState): void {
  for (const id in state.samples) {
    const list = state.samples[id];
    if (list.length > PARKED_SAMPLES) list.splice(0, list.length - PARKED_SAMPLES);
  }
}

/** After a trip ended at `end`: readings before it go, but the last one before it (where the car stood). */
function trimBefore(state: TripState, end: number): void {
  for (const id in state.samples) {
    const list = state.samples[id];
    const i = indexAt(list, end);
    if (i > 0) list.splice(0, i);
  }
}

function position(state: TripState, at: (list: Sample[] | undefined) => number | null): TripPosition | null {
  const lat = at(state.samples[TRIP_DESCRIPTORS.latitude]);
  const lon = at(state.samples[TRIP_DESCRIPTORS.longitude]);
  return lat !== null && lon !== null ? { lat, lon } : null;
}

/** What the tank lost from `start` to `end`: each refuel (a rise of more than REFUEL) starts a new count. */
function fuelUsed(list: readonly Sample[], start: number, end: number, first: number): number {
  let used = 0;
  let from = first;
  let prev = first;
  for (const [t, v] of list) {
    if (t <= start || t > end + TRIP_SLACK_MS) continue;
    if (v - prev > REFUEL) {
      used += from - prev;
      from = v;
    }
    prev = v;
  }
  return round(used + from - prev);
}

/** Descriptors only a car with a high-voltage battery sends, and only a car with a tank. */
const ELECTRIC: readonly string[] = [
  ...CHARGING_DESCRIPTORS.soc,
  ...CHARGING_DESCRIPTORS.batterySize,
  CHARGING_DESCRIPTORS.energyContent,
  CHARGING_DESCRIPTORS.status,
  CHARGING_DESCRIPTORS.hvStatus,
  ...CHARGING_DESCRIPTORS.plug,
];
const COMBUSTION: readonly string[] = [...TRIP_DESCRIPTORS.fuel, 'vehicle.drivetrain.internalCombustionEngine.engine.ect'];

/** The figures a car without a high-voltage battery, and one without a tank, cannot have. */
const ELECTRIC_FIGURES: ReadonlySet<string> = new Set(['startSoc', 'endSoc', 'socUsed', 'energyUsed']);
const FUEL_FIGURES: ReadonlySet<string> = new Set(['fuelUnit', 'startFuel', 'endFuel', 'fuelUsed']);

/** Which figures a car can have: a BEV sends nothing of a tank, a combustion car nothing of a battery. */
function drivetrain(values: Record<string, StateValue>): { electric: boolean; fuel: boolean } {
  const electric = ELECTRIC.some((id) => values[id] !== undefined);
  const fuel = COMBUSTION.some((id) => values[id] !== undefined);
  return electric || fuel ? { electric, fuel } : { electric: true, fuel: true };
}

/**
 * The time the start values are read at: the start when the ignition went on before the first motion, else just
 * before the motion (a moved position or odometer at the first motion is already the trip's).
 */
/** Whether the tracker has a reading of the car from before `t` (or a finished trip): a trip starting then was seen start. */
function observedBefore(state: TripState, t: number): boolean {
  return state.lastEndedAt !== null || Object.values(state.samples).some((list) => list.length > 0 && list[0][0] < t);
}

function startRef(start: number, firstMove: number): number {
  return start < firstMove ? start : firstMove - 1;
}

/** Where the trip of a scan ends: its end signal, or after a silence its last motion. */
function endOf(trip: OpenTripState, s: Scan, silence: boolean): number {
  return silence ? (s.lastMove ?? trip.lastMoveMs) : (s.endAt as number);
}

function finished(vin: string, state: TripState, values: Record<string, StateValue>, s: Scan, silence: boolean): TripFinishedEvent {
  const trip = state.trip as OpenTripState;
  const start = s.start ?? Date.parse(trip.startedAt);
  const from = startRef(start, s.firstMove ?? start);
  const end = endOf(trip, s, silence);
  const endedBy: TripEndedBy = silence ? 'silence' : (s.endedBy as TripEndedBy);
  const odo = state.samples[TRIP_DESCRIPTORS.odometer];
  const startOdometerKm = startValue(odo, from);
  const endOdometerKm = endValue(odo, end);
  const distanceKm = startOdometerKm !== null && endOdometerKm !== null && endOdometerKm >= startOdometerKm ? round(endOdometerKm - startOdometerKm, 1) : null;
  const soc = listOf(state, TRIP_DESCRIPTORS.soc);
  const startSoc = startValue(soc, from);
  const endSoc = endValue(soc, end);
  const socUsed = startSoc !== null && endSoc !== null ? round(startSoc - endSoc) : null;
  const size = TRIP_DESCRIPTORS.batterySize.map((id) => numberOf(values, id)).find((n) => n && n.value > 0);
  const estimate = socUsed !== null && size ? round((socUsed / 100) * size.value) : null;
  const content = state.samples[TRIP_DESCRIPTORS.energyContent];
  const a = startValue(content, from);
  const b = endValue(content, end);
  const delta = a !== null && b !== null ? round(a - b) : null;
  let energyUsed: EnergyUsed | null = null;
  if (delta !== null && delta > 0 && (estimate === null || Math.abs(delta - estimate) <= Math.max(1, 0.25 * Math.abs(estimate)))) {
    energyUsed = { kwh: delta, estimate: false, method: 'battery-energy-content' };
  } else if (estimate !== null) energyUsed = { kwh: estimate, estimate: true, method: 'soc-x-battery-size' };
  const litres = state.samples[TRIP_DESCRIPTORS.fuel[0]];
  const fuelList = litres && litres.length > 0 ? litres : state.samples[TRIP_DESCRIPTORS.fuel[1]];
  const startFuel = startValue(fuelList, from);
  const endFuel = endValue(fuelList, end);
  let fuelUnit: string | null = null;
  if (fuelList && fuelList.length > 0) fuelUnit = fuelList === litres ? (values[TRIP_DESCRIPTORS.fuel[0]]?.unit?.toLowerCase() ?? 'l') : '%';
  const durationSeconds = Math.max(0, Math.round((end - start) / 1000));
  const endedAt = iso(end);
  const figures = {
    startOdometerKm,
    endOdometerKm,
    distanceKm,
    startPosition: position(state, (list) => startValue(list, from)),
    endPosition: position(state, (list) => endValue(list, end)),
    startSoc,
    endSoc,
    socUsed,
    energyUsed,
    fuelUnit,
    startFuel,
    endFuel,
    fuelUsed: startFuel !== null && endFuel !== null && fuelList ? fuelUsed(fuelList, from, end, startFuel) : null,
    averageSpeedKmh: distanceKm !== null && durationSeconds > 0 ? round(distanceKm / (durationSeconds / 3600), 1) : null,
  };
  const car = drivetrain(values);
  const missing: string[] = [];
  for (const k of Object.keys(figures) as (keyof typeof figures)[]) {
    if (figures[k] === null && (car.electric || !ELECTRIC_FIGURES.has(k)) && (car.fuel || !FUEL_FIGURES.has(k))) missing.push(k);
  }
  return {
    kind: 'trip-finished',
    vin,
    at: endedAt,
    tripId: trip.id,
    startedAt: iso(start),
    endedAt,
    durationSeconds,
    ...figures,
    stops: s.stops,
    endedBy,
    // A reading from before the first motion that arrived late shows the start was observed after all.
    startObserved: trip.startObserved || observedBefore(state, s.firstMove ?? start),
    missing,
  };
}

/** Closes the open trip with the figures of the scan, and forgets the readings the next trip does not need. */
function release(vin: string, state: TripState, values: Record<string, StateValue>, s: Scan, silence: boolean): TripFinishedEvent {
  const end = endOf(state.trip as OpenTripState, s, silence);
  const event = finished(vin, state, values, s, silence);
  state.trip = null;
  state.driving = false;
  state.lastEndedAt = event.endedAt;
  if (endTimes.size >= 1024) endTimes.clear();
  endTimes.set(event.endedAt, end);
  trimBefore(state, end);
  return event;
}

function dueAt(trip: OpenTripState, opts: TripTrackOptions): number {
  const settle = opts.settleMs ?? FINISH_SETTLE_MS;
  return trip.endMs !== null ? trip.endMs + (opts.pauseMs ?? TRIP_PAUSE_MS) + settle : trip.lastMoveMs + TRIP_SILENCE_MS + settle;
}

/** When (epoch ms) the open trip's finish is due if nothing moves before; undefined when no trip is open. */
export function tripDueAt(state: TripState, opts: TripTrackOptions = {}): number | undefined {
  return state.trip ? dueAt(state.trip, opts) : undefined;
}

/** The host's clock, or without one the car's: the latest reading's time, with the settle window passed. */
function clockOf(state: TripState, opts: TripTrackOptions): number {
  if (opts.now !== undefined) return opts.now;
  let latest = -Infinity;
  for (const list of Object.values(state.samples)) if (list.length > 0 && list[list.length - 1][0] > latest) latest = list[list.length - 1][0];
  return latest + (opts.settleMs ?? FINISH_SETTLE_MS);
}

/** The finish of the open trip once its pause and settle window have passed (for a timer: no message needed). */
export function settleTrips(vin: string, state: TripState, values: Record<string, StateValue>, opts: TripTrackOptions = {}): TripEvent[] {
  const trip = state.trip;
  if (!trip) return [];
  const now = clockOf(state, opts);
  if (now < dueAt(trip, opts)) return [];
  const s = scan(state, endedMs(state), opts.pauseMs ?? TRIP_PAUSE_MS);
  const events: TripEvent[] = [];
  if (s.endAt !== undefined) {
    // Motion that arrived since can have moved the end: due again later, or now.
    if (now >= s.endAt + (opts.pauseMs ?? TRIP_PAUSE_MS) + (opts.settleMs ?? FINISH_SETTLE_MS)) events.push(release(vin, state, values, s, false));
  } else if (now >= (s.lastMove ?? trip.lastMoveMs) + TRIP_SILENCE_MS + (opts.settleMs ?? FINISH_SETTLE_MS)) events.push(release(vin, state, values, s, true));
  if (!state.trip) trimParked(state);
  return events;
}

/** The fast path's view: the latest time of the motion and ignition readings held, and what it found. */
interface Fast {
  latest: number;
  lastMove: number | undefined;
  endMs: number | null;
}

/** The readings that are motion only while the ignition is on. */
const INDIRECT = [TRIP_DESCRIPTORS.odometer, TRIP_DESCRIPTORS.latitude, TRIP_DESCRIPTORS.longitude];
/** The readings scan() decides from, but the ignition (only the one the car streams counts: see latestMotion). */
const MOTION_LISTS = [
  TRIP_DESCRIPTORS.moving,
  TRIP_DESCRIPTORS.speedLowerBound,
  TRIP_DESCRIPTORS.odometer,
  TRIP_DESCRIPTORS.latitude,
  TRIP_DESCRIPTORS.longitude,
];

/**
 * The latest time of the motion readings and of the ignition the car streams, before the one just appended to
 * `appended` (scan() reads no other ignition).
 */
function latestMotion(state: TripState, appended: string): number {
  let latest = -Infinity;
  const s = state.samples;
  for (let k = 0; k <= MOTION_LISTS.length; k += 1) {
    const id = k < MOTION_LISTS.length ? MOTION_LISTS[k] : state.ignitionKey;
    const list = id === null ? undefined : s[id];
    if (list === undefined) continue;
    const n = id === appended ? list.length - 1 : list.length;
    if (n > 0 && list[n - 1][0] > latest) latest = list[n - 1][0];
  }
  return latest;
}

/**
 * One motion or ignition reading of an open trip of a car that streams its ignition, on the fast path. A reading
 * later than every one held is last in what scan() reads, so what it does is known without reading the timeline
 * again: motion moves the last motion on (when no end is pending, or the end is the ignition going off at the
 * same time: motion at one time comes first), the ignition going off is the end (when none is pending), the
 * ignition coming on after it was off changes nothing when no odometer or position reading lies in the slack before
 * it, anything else changes nothing. Returns false for what needs the whole timeline: a reading that came late,
 * motion after a pending end (a stop, or the next trip), the ignition coming on right after readings it may turn
 * into motion, an ignition reading at the time of another reading.
 */
function fastStep(state: TripState, fast: Fast, role: Role, r: TrackedReading, v: number): boolean {
  const gate = state.samples[state.ignitionKey as string] ?? [];
  const s = state.samples;
  if (role === 'ignition') {
    if (r.descriptor !== state.ignitionKey) return true;
    if (r.time <= fast.latest) return false;
    fast.latest = r.time;
    if (v === 0) {
      if (fast.endMs === null) fast.endMs = r.time;
      return true;
    }
    if (gate.length < 2 || gate[gate.length - 2][1] === 1) return true;
    // On after off: an odometer or position reading since the off and within the slack before now becomes motion.
    const since = Math.max(gate[gate.length - 2][0], r.time - TRIP_SLACK_MS);
    for (const id of INDIRECT) {
      const list = s[id];
      if (list && list.length > 0 && list[list.length - 1][0] >= since) return false;
    }
    return true;
  }
  if (r.time < fast.latest) return false;
  fast.latest = r.time;
  const gateOn = gate.length === 0 || gate[gate.length - 1][1] === 1;
  let move = false;
  if (role === 'moving' || role === 'speed') move = v > 0;
  else if (role === 'odometer') {
    const list = s[TRIP_DESCRIPTORS.odometer];
    move = gateOn && list.length > 1 && v > list[list.length - 2][1];
  } else {
    const lat = s[TRIP_DESCRIPTORS.latitude] ?? [];
    const lon = s[TRIP_DESCRIPTORS.longitude] ?? [];
    if (gateOn && lat.length > 0 && lon.length > 0) {
      // Neither list holds a reading after this one: the position before it is each list's latest before it.
      const pLat = valueBefore(lat, r.time);
      const pLon = valueBefore(lon, r.time);
      move = pLat !== null && pLon !== null && movedFar(pLat, pLon, lat[lat.length - 1][1], lon[lon.length - 1][1]);
    }
  }
  if (!move) return true;
  // The end pending is the ignition going off at this very time: the motion comes first, the end stays.
  if (fast.endMs !== null && fast.endMs !== r.time) return false;
  fast.lastMove = r.time;
  return true;
}

/** A reading just appended to `list` that is motion, or may make motion of readings before it (the ignition going on). */
function mayMove(state: TripState, role: Role, list: readonly Sample[], v: number): boolean {
  if (role === 'ignition' || role === 'moving' || role === 'speed') return v > 0;
  if (role === 'odometer') return list.length < 2 || v > list[list.length - 2][1];
  const lat = state.samples[TRIP_DESCRIPTORS.latitude];
  const lon = state.samples[TRIP_DESCRIPTORS.longitude];
  if (!lat || !lon) return false;
  const t = list[list.length - 1][0];
  const before = Math.max(timeBefore(lat, t), timeBefore(lon, t));
  const pLat = valueAt(lat, before);
  const pLon = valueAt(lon, before);
  return pLat === null || pLon === null || movedFar(pLat, pLon, lat[lat.length - 1][1], lon[lon.length - 1][1]);
}

/** The value of the latest sample before `t` of a list that holds none after `t`; null when none. */
function valueBefore(list: readonly Sample[], t: number): number | null {
  const i = list[list.length - 1][0] < t ? list.length - 1 : list.length - 2;
  return i >= 0 ? list[i][1] : null;
}

/** The time of the latest sample before `t`, -Infinity when none. */
function timeBefore(list: readonly Sample[], t: number): number {
  const i = indexAt(list, t - 1);
  return i >= 0 ? list[i][0] : -Infinity;
}

/**
 * Updates `state` after one message of `vin` was applied to `values`, and returns the trip events it showed, in
 * order. `readings` are every reading of the message that was not a duplicate, late (stale) ones included.
 */
export function trackTrips(
  vin: string,
  state: TripState,
  values: Record<string, StateValue>,
  readings: readonly TrackedReading[],
  opts: TripTrackOptions = {},
): TripEvent[] {
  let motion = false;
  // The usual reading of a drive comes after every motion reading held: what it does is known without reading the
  // timeline again (see fastStep).
  const key = state.ignitionKey;
  let fast: Fast | undefined;
  let exact = state.trip !== null && key !== null;
  for (let i = 0; i < readings.length; i += 1) {
    const r = readings[i];
    const role = ROLES.get(r.descriptor);
    if (role === undefined) continue;
    let v: number | undefined;
    if (role === 'ignition' || role === 'moving') {
      v = flag(r.value);
      if (v === undefined) continue;
      if (role === 'moving') state.movingSeen = true;
      else if (r.descriptor === TRIP_DESCRIPTORS.ignition[0]) state.ignitionKey = r.descriptor;
      else state.ignitionKey ??= r.descriptor;
    } else {
      v = numeric(r.value);
      if (v === undefined) continue;
      if (role === 'odometer' && r.unit?.toLowerCase() === 'mi') v = round(v * 1.609344, 3);
    }
    const list = (state.samples[r.descriptor] ??= []);
    const appended = list.length === 0 || list[list.length - 1][0] < r.time;
    if (appended) list.push([r.time, v]);
    else addSample(list, r.time, v);
    // Parked, the latest few readings are all a trip starts from; on a trip, a long one thins out in the middle.
    if (!state.trip) {
      if (list.length === PARKED_SAMPLES + 1) list.shift();
      else if (list.length > PARKED_SAMPLES) list.splice(0, list.length - PARKED_SAMPLES);
    } else if (list.length > MAX_SAMPLES) list.splice(list.length >> 1, 1);
    if (role === 'figure') continue;
    // Parked, only a reading that can be motion (or the ignition coming on, or one that came late) is worth reading
    // the timeline for.
    if (!state.trip && appended && !mayMove(state, role, list, v)) continue;
    motion = true;
    if (exact) {
      const trip = state.trip as OpenTripState;
      fast ??= { latest: trip.latestMs ?? latestMotion(state, r.descriptor), lastMove: undefined, endMs: trip.endMs };
      exact = appended && fastStep(state, fast, role, r, v);
    }
  }
  if (!motion) return state.trip ? settleTrips(vin, state, values, opts) : [];
  const out: TripEvent[] = [];
  if (exact && fast && state.ignitionKey === key) {
    const trip = state.trip as OpenTripState;
    trip.latestMs = fast.latest;
    if (fast.lastMove !== undefined) trip.lastMoveMs = fast.lastMove;
    if (fast.endMs !== trip.endMs) {
      trip.endMs = fast.endMs;
      trip.endedBy = 'ignition-off';
    }
  } else if (motion) {
    // Only the motion and ignition readings decide; the figures' readings wait for the finish.
    const pauseMs = opts.pauseMs ?? TRIP_PAUSE_MS;
    // At most a few trips can be decided by one message; the bound only guards against a loop.
    for (let guard = 0; guard < 100; guard += 1) {
      const from = endedMs(state);
      const s = scan(state, from, pauseMs);
      if (s.start === undefined || s.lastMove === undefined) break;
      if (!state.trip) {
        const ref = startRef(s.start, s.firstMove as number);
        const odometerKm = startValue(state.samples[TRIP_DESCRIPTORS.odometer], ref);
        const startObserved = observedBefore(state, s.firstMove as number);
        const startedAt = iso(s.start);
        state.trip = { id: `${vin}/${startedAt}`, startedAt, startObserved, lastMoveMs: s.lastMove, endMs: null, endedBy: null };
        state.driving = true;
        out.push({
          kind: 'trip-started',
          vin,
          at: startedAt,
          tripId: state.trip.id,
          odometerKm,
          position: position(state, (list) => startValue(list, ref)),
          soc: startValue(listOf(state, TRIP_DESCRIPTORS.soc), ref),
          startObserved,
        });
      }
      const trip = state.trip;
      trip.lastMoveMs = s.lastMove;
      trip.endMs = s.endAt ?? null;
      trip.endedBy = s.endedBy ?? null;
      if (!s.closed) break;
      out.push(release(vin, state, values, s, false));
    }
    if (state.trip) state.trip.latestMs = latestMotion(state, '');
  }
  if (motion && !state.trip) trimParked(state);
  const settled = state.trip ? settleTrips(vin, state, values, opts) : [];
  if (out.length === 0) return settled;
  out.push(...settled);
  return out;
}
