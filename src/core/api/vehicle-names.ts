import type { VehicleMapping } from '../types';

/** The VINs of a mapping list that belong to the account as PRIMARY user (BMW serves data only for those). */
export function primaryVins(list: readonly VehicleMapping[]): string[] {
  const out: string[] = [];
  for (const v of list) {
    if (typeof v.vin !== 'string' || !v.vin || (v.mappingType && v.mappingType !== 'PRIMARY')) continue;
    if (!out.includes(v.vin)) out.push(v.vin);
  }
  return out;
}

export interface VehicleNames {
  /** Name by VIN. */
  names: Record<string, string>;
  /** Entries that could not be read, as typed (never more than a line each). */
  problems: string[];
}

/**
 * The names a user gives their cars, as typed in the account or credential: `VIN=name` entries, one per line or
 * separated by commas or semicolons (`WBA…01=iX, WBA…02=Mini`). A VIN is 17 letters and digits; case is ignored.
 */
export function parseVehicleNames(text: unknown): VehicleNames {
  const names: Record<string, string> = {};
  const problems: string[] = [];
  if (typeof text !== 'string') return { names, problems };
  for (const raw of text.split(/[\n\r,;]+/)) {
    const entry = raw.trim();
    if (!entry) continue;
    const at = entry.indexOf('=');
    const vin = at > 0 ? entry.slice(0, at).trim().toUpperCase() : '';
    const name = at > 0 ? entry.slice(at + 1).trim() : '';
    if (!/^[A-Z0-9]{17}$/.test(vin) || !name) {
      problems.push(entry.length > 60 ? `${entry.slice(0, 60)}…` : entry);
      continue;
    }
    names[vin] = name.slice(0, 60);
  }
  return { names, problems };
}

/**
 * The friendly name of a car: the user's own name for it, else its model name from basic data when that was read
 * already (no call is spent for a name), else the VIN, so an output always has something to show.
 */
export function vehicleNameOf(vin: string, sources: { names?: Record<string, string>; models?: Record<string, string> } = {}): string {
  return sources.names?.[vin] || sources.models?.[vin] || vin;
}
