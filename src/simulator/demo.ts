import type { TelematicDataEntry } from '../core/types';

// The sandbox's story, so that every example has something to show: a container left over from an old export
// (for the housekeeping example to delete) and a BEV that comes home with a low battery (for the low state of
// charge example to report), then charges and is driven down again, once an hour.

/** An ACTIVE container from an export tried weeks ago: the housekeeping example deletes containers named old-*. */
export const DEMO_STALE_CONTAINER = {
  name: 'old-soc-export',
  purpose: 'State of charge export tried in October',
  technicalDescriptors: ['vehicle.drivetrain.batteryManagement.header', 'vehicle.vehicle.travelledDistance'],
  ageDays: 40,
};

/** One episode an hour: parked at 17 % and falling to 15 % for 20 minutes, then charging to 80 %, then held. */
const CYCLE_MIN = 60;
const LOW_MIN = 20;
const CHARGED_AT_MIN = 50;
const LOW_SOC = 17;
const LOWEST_SOC = 15;
const FULL_SOC = 80;
const FULL_RANGE_KM = 470;

/** The BEV's state of charge `elapsedMs` after the simulator started. Below 20 % for the first 20 minutes of each hour. */
export function demoSoc(elapsedMs: number): number {
  const minute = (Math.max(0, elapsedMs) / 60_000) % CYCLE_MIN;
  if (minute < LOW_MIN) return Math.round(LOW_SOC - ((LOW_SOC - LOWEST_SOC) * minute) / LOW_MIN);
  if (minute < CHARGED_AT_MIN) return Math.round(LOWEST_SOC + ((FULL_SOC - LOWEST_SOC) * (minute - LOW_MIN)) / (CHARGED_AT_MIN - LOW_MIN));
  return FULL_SOC;
}

const SOC_KEYS = new Set(['vehicle.drivetrain.batteryManagement.header', 'vehicle.drivetrain.electricEngine.charging.level']);
const RANGE_KEYS = new Set(['vehicle.drivetrain.electricEngine.remainingElectricRange', 'vehicle.drivetrain.electricEngine.kombiRemainingElectricRange']);

/** The REST value of a state-of-charge or range key in the story, else undefined (the fixture's value stands). */
export function demoTelematic(descriptor: string, entry: TelematicDataEntry, startMs: number, nowMs: number): TelematicDataEntry | undefined {
  const soc = demoSoc(nowMs - startMs);
  const value = SOC_KEYS.has(descriptor) ? soc : RANGE_KEYS.has(descriptor) ? Math.round((soc / 100) * FULL_RANGE_KM) : undefined;
  if (value === undefined) return undefined;
  return { ...entry, value: String(value), timestamp: new Date(Math.floor(nowMs / 60_000) * 60_000).toISOString() };
}
