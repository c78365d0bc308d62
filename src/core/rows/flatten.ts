import { DateTime, IANAZone } from 'luxon';
import { checkTimeZone } from './ranges';
import type { ChargingSession } from '../types';
import { chargingCost, type ChargingCost, type Tariff } from '../tariff';
import type { TripFinishedEvent } from '../trip-events';

/** One charging session as a flat row: every value a string, number, boolean or null, ready for CSV or a sheet. */
export interface FlatChargingSession {
  [column: string]: string | number | boolean | null;
  start: string;
  end: string;
  timeZone: string;
  chargingMinutes: number | null;
  pluggedMinutes: number | null;
  energyFromGridKwh: number | null;
  energyDischargedKwh: number | null;
  energyDecreaseHvbKwh: number | null;
  startSoc: number | null;
  endSoc: number | null;
  socAdded: number | null;
  averagePowerKw: number | null;
  mileage: number | null;
  mileageUnit: string;
  municipality: string;
  address: string;
  latitude: number | null;
  longitude: number | null;
  publicProvider: string;
  preconditioning: boolean;
  chargingBlocks: number;
  cost: number | null;
  currency: string;
  businessErrors: string;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function round(value: number | null, digits: number): number | null {
  if (value === null) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * BMW's times are epoch seconds; milliseconds are accepted too (anything past the year 33658 in seconds). 0 and
 * null are no time (a session in progress has endTime null or 0), never 1970.
 */
function toMillis(value: unknown): number | null {
  const n = num(value);
  if (n === null || n <= 0) return null;
  return n > 1e12 ? n : n * 1000;
}

/** A list entry that can be flattened: an object. null, numbers, strings and arrays are not sessions. */
export function isChargingSessionEntry(value: unknown): value is ChargingSession {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isoIn(ms: number | null, zone: string): string {
  if (ms === null) return '';
  return DateTime.fromMillis(ms, { zone }).toISO({ suppressMilliseconds: true }) ?? '';
}

function mileageUnit(units: unknown): string {
  if (typeof units !== 'string') return '';
  if (/MI$/i.test(units)) return 'mi';
  if (/KM$/i.test(units)) return 'km';
  return units;
}

/**
 * Flattens a charging session: start and end as ISO 8601 in the session's own time zone, durations in minutes,
 * energy in kWh, state of charge in %, mileage, location, and the public charging provider if BMW matched one.
 * An unknown end (a session in progress: endTime null or 0, or an end before the start) is empty, and so are the
 * plugged-in minutes. It never throws: a field that is missing or of another type is empty (null in number
 * columns), and an entry that is not an object gives a row of empty values (hosts skip such entries: isChargingSessionEntry).
 */
export function flattenChargingSession(entry: ChargingSession): FlatChargingSession {
  const session: Partial<ChargingSession> = isChargingSessionEntry(entry) ? entry : {};
  const zone = typeof session.timeZone === 'string' && IANAZone.isValidZone(session.timeZone) ? session.timeZone : 'UTC';
  const startMs = toMillis(session.startTime);
  const endAt = toMillis(session.endTime);
  const endMs = endAt !== null && startMs !== null && endAt < startMs ? null : endAt;
  const chargingSec = num(session.totalChargingDurationSec);
  const grid = num(session.energyConsumedFromPowerGridKwh);
  const startSoc = num(session.displayedStartSoc);
  const endSoc = num(session.displayedSoc);
  const location = isChargingSessionEntry(session.chargingLocation) ? session.chargingLocation : undefined;
  const matches = session.publicChargingPoint?.potentialChargingPointMatches;
  const provider = Array.isArray(matches) ? text(matches.find((m) => text(m?.providerName))?.providerName) : '';
  const cost = isChargingSessionEntry(session.chargingCostInformation) ? session.chargingCostInformation : undefined;
  return {
    start: isoIn(startMs, zone),
    end: isoIn(endMs, zone),
    timeZone: zone,
    chargingMinutes: round(chargingSec === null ? null : chargingSec / 60, 1),
    pluggedMinutes: round(startMs !== null && endMs !== null ? (endMs - startMs) / 60000 : null, 1),
    energyFromGridKwh: round(grid, 3),
    energyDischargedKwh: round(num(session.energyDischargedKwh), 3),
    energyDecreaseHvbKwh: round(num(session.energyDecreaseHvbKwh), 3),
    startSoc,
    endSoc,
    socAdded: startSoc !== null && endSoc !== null ? endSoc - startSoc : null,
    averagePowerKw: round(grid !== null && chargingSec ? grid / (chargingSec / 3600) : null, 2),
    mileage: num(session.mileage),
    mileageUnit: mileageUnit(session.mileageUnits),
    municipality: text(location?.municipality),
    address: text(location?.formattedAddress),
    latitude: num(location?.mapMatchedLatitude),
    longitude: num(location?.mapMatchedLongitude),
    publicProvider: provider,
    preconditioning: session.isPreconditioningActivated === true,
    chargingBlocks: Array.isArray(session.chargingBlocks) ? session.chargingBlocks.length : 0,
    cost: num(cost?.calculatedChargingCost),
    currency: text(cost?.currency),
    businessErrors: (Array.isArray(session.businessErrors) ? session.businessErrors : [])
      .map((e) => text(e?.hint))
      .filter((h) => h !== '')
      .join('; '),
  };
}

/** The cost columns a tariff adds to a charging-history row, beside BMW's own `cost` and `currency` (never mixed). */
export interface TariffCostColumns {
  /** Our cost under the tariff; null when the session has no grid energy or no end. */
  tariffCost: number | null;
  tariffCurrency: string;
  /** The energy priced: the session's energy from the grid (measured by the car). */
  tariffKwh: number | null;
  /** `flat` or `time-of-use` (the energy spread evenly from start to end); empty without a cost. */
  tariffMethod: string;
}

/** The cost of a session read over REST under `tariff`: on its energy from the grid, from its start to its end. */
export function chargingSessionCost(entry: ChargingSession, tariff: Tariff): ChargingCost | null {
  const session: Partial<ChargingSession> = isChargingSessionEntry(entry) ? entry : {};
  const startMs = toMillis(session.startTime);
  const endMs = toMillis(session.endTime);
  const kwh = num(session.energyConsumedFromPowerGridKwh);
  if (startMs === null || endMs === null || endMs < startMs || kwh === null || kwh < 0) return null;
  return chargingCost(tariff, { startedAt: new Date(startMs).toISOString(), endedAt: new Date(endMs).toISOString(), kwh, estimate: false });
}

/** flattenChargingSession with our cost under `tariff` in columns of its own (TariffCostColumns). */
export function flattenChargingSessionWithCost(entry: ChargingSession, tariff: Tariff): FlatChargingSession & TariffCostColumns {
  const cost = chargingSessionCost(entry, tariff);
  return {
    ...flattenChargingSession(entry),
    tariffCost: cost?.amount ?? null,
    tariffCurrency: tariff.currency,
    tariffKwh: cost ? round(cost.kwh, 3) : null,
    tariffMethod: cost?.method ?? '',
  };
}

/** A row without its empty columns (null or ''): what a reader, or a language model, reads in fewer words. */
export function withoutEmptyColumns<T extends Record<string, unknown>>(row: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, value] of Object.entries(row)) if (value !== null && value !== '' && value !== undefined) (out as Record<string, unknown>)[key] = value;
  return out;
}

/**
 * The columns of a flat session that answer most questions about a charge (when, how long, how much energy, from
 * which state of charge to which, how fast, where, at what cost, what went wrong): a month of sessions in a few
 * thousand characters.
 */
export const SESSION_SUMMARY_COLUMNS = [
  'start',
  'end',
  'chargingMinutes',
  'energyFromGridKwh',
  'startSoc',
  'endSoc',
  'averagePowerKw',
  'municipality',
  'publicProvider',
  'cost',
  'currency',
  'businessErrors',
] as const;

/** A charging session in the summary's columns, the empty ones left out. */
export function summarizeChargingSession(entry: ChargingSession): Partial<FlatChargingSession> {
  const flat = flattenChargingSession(entry);
  const picked: Record<string, string | number | boolean | null> = {};
  for (const column of SESSION_SUMMARY_COLUMNS) picked[column] = flat[column];
  return withoutEmptyColumns(picked) as Partial<FlatChargingSession>;
}

/**
 * One trip as a logbook row: plain columns, times in the named zone, an unknown value empty (null), never a made-up 0.
 * `purpose` is left empty for the user (business, private, commute).
 */
export interface TripLogbookRow {
  [column: string]: string | number | boolean | null;
  start: string;
  end: string;
  timeZone: string;
  startOdometerKm: number | null;
  endOdometerKm: number | null;
  distanceKm: number | null;
  purpose: string;
  startLatitude: number | null;
  startLongitude: number | null;
  endLatitude: number | null;
  endLongitude: number | null;
  durationMinutes: number | null;
  averageSpeedKmh: number | null;
  stops: number | null;
  startSoc: number | null;
  endSoc: number | null;
  socUsed: number | null;
  energyUsedKwh: number | null;
  /** true: the energy is socUsed × battery size, not measured; empty without an energy figure. */
  energyUsedEstimate: boolean | null;
  fuelUnit: string;
  startFuel: number | null;
  endFuel: number | null;
  fuelUsed: number | null;
  /** The figures the car did not send (the event's `missing`), separated by "; "; empty when it sent them all. */
  missing: string;
  vin: string;
  tripId: string;
}

/** The logbook's columns, in the order of its rows (a CSV of no trip still has its header). */
export const TRIP_LOGBOOK_COLUMNS: readonly (keyof TripLogbookRow & string)[] = [
  'start',
  'end',
  'timeZone',
  'startOdometerKm',
  'endOdometerKm',
  'distanceKm',
  'purpose',
  'startLatitude',
  'startLongitude',
  'endLatitude',
  'endLongitude',
  'durationMinutes',
  'averageSpeedKmh',
  'stops',
  'startSoc',
  'endSoc',
  'socUsed',
  'energyUsedKwh',
  'energyUsedEstimate',
  'fuelUnit',
  'startFuel',
  'endFuel',
  'fuelUsed',
  'missing',
  'vin',
  'tripId',
];

/** Flattens a `trip-finished` event. `timeZone` (IANA, default UTC) is the zone of `start` and `end`, named in the row. */
export function flattenTrip(event: TripFinishedEvent, timeZone?: string): TripLogbookRow {
  const zone = checkTimeZone(timeZone);
  const startMs = Date.parse(event.startedAt);
  const endMs = Date.parse(event.endedAt);
  return {
    start: isoIn(Number.isNaN(startMs) ? null : startMs, zone),
    end: isoIn(Number.isNaN(endMs) ? null : endMs, zone),
    timeZone: zone,
    startOdometerKm: num(event.startOdometerKm),
    endOdometerKm: num(event.endOdometerKm),
    distanceKm: num(event.distanceKm),
    purpose: '',
    startLatitude: num(event.startPosition?.lat),
    startLongitude: num(event.startPosition?.lon),
    endLatitude: num(event.endPosition?.lat),
    endLongitude: num(event.endPosition?.lon),
    durationMinutes: round(num(event.durationSeconds) === null ? null : event.durationSeconds / 60, 1),
    averageSpeedKmh: num(event.averageSpeedKmh),
    stops: num(event.stops),
    startSoc: num(event.startSoc),
    endSoc: num(event.endSoc),
    socUsed: num(event.socUsed),
    energyUsedKwh: num(event.energyUsed?.kwh),
    energyUsedEstimate: event.energyUsed ? event.energyUsed.estimate : null,
    fuelUnit: text(event.fuelUnit),
    startFuel: num(event.startFuel),
    endFuel: num(event.endFuel),
    fuelUsed: num(event.fuelUsed),
    missing: (Array.isArray(event.missing) ? event.missing : []).filter((m) => typeof m === 'string').join('; '),
    vin: text(event.vin),
    tripId: text(event.tripId),
  };
}

/** The logbook: one row per `trip-finished` among `events` (other events are skipped), in their order. */
export function tripLogbookRows(events: readonly { kind: string }[], opts: { timeZone?: string } = {}): TripLogbookRow[] {
  const zone = checkTimeZone(opts.timeZone);
  return events.filter((e): e is TripFinishedEvent => e.kind === 'trip-finished').map((e) => flattenTrip(e, zone));
}
