import type { ChargingTimeWindow, LocationBasedChargingSetting } from '../types';

/** One location-based charging setting as a flat row for CSV or a sheet. */
export interface FlatChargingSetting {
  [column: string]: string | number | boolean | null;
  id: string;
  lastUpdated: string;
  latitude: number | null;
  longitude: number | null;
  lastVisit: string;
  visits: number | null;
  chargingMode: string;
  optimizedChargingPreference: string;
  chargingWindow: string;
  additionalWindows: string;
  acCurrentLimit: number | null;
  acCurrentLimitFlag: string;
  acousticLimit: string;
  flapLock: string;
  chargingPlug: string;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function hhmm(hour: unknown, minute: unknown): string {
  const h = num(hour);
  if (h === null) return '';
  return `${String(h).padStart(2, '0')}:${String(num(minute) ?? 0).padStart(2, '0')}`;
}

/** "22:00-06:00", or '' when the window is not set. */
export function formatChargingWindow(w: ChargingTimeWindow | LocationBasedChargingSetting): string {
  const start = hhmm(w.startChargingTimePeriodHour, w.startChargingTimePeriodMinute);
  const stop = hhmm(w.stopChargingTimePeriodHour, w.stopChargingTimePeriodMinute);
  return start || stop ? `${start}-${stop}` : '';
}

/** Flattens a charging setting: time windows as "HH:MM-HH:MM" text, the rest as plain values. */
export function flattenChargingSetting(setting: LocationBasedChargingSetting): FlatChargingSetting {
  const windows = Array.isArray(setting.chargingTimeWindows) ? setting.chargingTimeWindows.map(formatChargingWindow).filter(Boolean) : [];
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    id: text(setting.id),
    lastUpdated: text(setting.lastUpdated),
    latitude: num(setting.latitude),
    longitude: num(setting.longitude),
    lastVisit: text(setting.lastVisit),
    visits: num(setting.visits),
    chargingMode: text(setting.chargingMode),
    optimizedChargingPreference: text(setting.optimizedChargingPreference),
    chargingWindow: formatChargingWindow(setting),
    additionalWindows: windows.join('; '),
    acCurrentLimit: num(setting.acCurrentLimit),
    acCurrentLimitFlag: text(setting.acCurrentLimitFlag),
    acousticLimit: text(setting.acousticLimit),
    flapLock: text(setting.flapLock),
    chargingPlug: text(setting.chargingPlug),
  };
}
