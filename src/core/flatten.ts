import { DateTime, IANAZone } from 'luxon';
import type { ChargingSession } from './types';

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

/** BMW's times are epoch seconds; milliseconds are accepted too (anything past the year 33658 in seconds). */
function toMillis(value: unknown): number | null {
  const n = num(value);
  if (n === null) return null;
  return n > 1e12 ? n : n * 1000;
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
 */
export function flattenChargingSession(session: ChargingSession): FlatChargingSession {
  const zone = typeof session.timeZone === 'string' && IANAZone.isValidZone(session.timeZone) ? session.timeZone : 'UTC';
  const startMs = toMillis(session.startTime);
  const endMs = toMillis(session.endTime);
  const chargingSec = num(session.totalChargingDurationSec);
  const grid = num(session.energyConsumedFromPowerGridKwh);
  const startSoc = num(session.displayedStartSoc);
  const endSoc = num(session.displayedSoc);
  const location = session.chargingLocation;
  const provider = session.publicChargingPoint?.potentialChargingPointMatches?.find((m) => m?.providerName)?.providerName ?? '';
  const cost = session.chargingCostInformation;
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
    municipality: location?.municipality ?? '',
    address: location?.formattedAddress ?? '',
    latitude: num(location?.mapMatchedLatitude),
    longitude: num(location?.mapMatchedLongitude),
    publicProvider: provider,
    preconditioning: session.isPreconditioningActivated === true,
    chargingBlocks: Array.isArray(session.chargingBlocks) ? session.chargingBlocks.length : 0,
    cost: num(cost?.calculatedChargingCost),
    currency: cost?.currency ?? '',
    businessErrors: (session.businessErrors ?? [])
      .map((e) => e?.hint)
      .filter((h): h is string => typeof h === 'string' && h !== '')
      .join('; '),
  };
}
