import type { LocationBasedChargingSetting } from '../core/types';
import type { Place } from './places';
import { HOME, PUBLIC_PLACES, WORK } from './places';
import { rngFor, round } from './random';
import type { VehicleProfile } from './vehicles';

// Location based charging settings: what the car remembered per place it charges at ("Everything in English;
// KM as unit", IG §3.3.4). The places are those of the charging history.

export function generateChargingSettings(v: VehicleProfile, gcid: string, anchorMs: number, seed: number): LocationBasedChargingSetting[] {
  if (!v.hasChargingSettings) return [];
  const rng = rngFor(seed, 'lbcs', v.vin);
  const places: Place[] = [HOME, WORK, PUBLIC_PLACES[0], PUBLIC_PLACES[1], PUBLIC_PLACES[4]];
  return places.map((place, i) => {
    const lastVisitMs = anchorMs - rng.int(place.kind === 'home' ? 0 : 2, place.kind === 'home' ? 2 : 90) * 86_400_000 - rng.int(0, 86_399) * 1000;
    const delayed = place.kind === 'home';
    const window = delayed
      ? { startChargingTimePeriodHour: 22, startChargingTimePeriodMinute: 0, stopChargingTimePeriodHour: 6, stopChargingTimePeriodMinute: 0 }
      : { startChargingTimePeriodHour: 0, startChargingTimePeriodMinute: 0, stopChargingTimePeriodHour: 0, stopChargingTimePeriodMinute: 0 };
    const limited = place.kind === 'work';
    return {
      id: rng.uuid(),
      lastUpdated: new Date(lastVisitMs - rng.int(1, 30) * 86_400_000).toISOString(),
      clusterLocationId: `CL-${String(1000 + i * 137 + rng.int(0, 99)).padStart(5, '0')}`,
      latitude: round(place.lat, 5),
      longitude: round(place.lon, 5),
      lastVisit: new Date(lastVisitMs).toISOString(),
      visits: place.kind === 'home' ? rng.int(180, 320) : place.kind === 'work' ? rng.int(40, 110) : rng.int(2, 25),
      chargingMode: delayed ? 'DELAYED_CHARGING' : 'IMMEDIATE_CHARGING',
      optimizedChargingPreference: delayed ? 'CHARGING_WINDOW' : 'NO_PRESELECTION',
      ...window,
      vehicleIdWithGcid: `${v.vin}_${gcid}`,
      chargingTimeWindows: delayed ? [window] : [],
      acCurrentLimitFlag: limited ? 'ON' : 'OFF',
      acCurrentLimit: limited ? 10 : 16,
      acousticLimit: place.kind === 'home' ? 'LIMITED' : 'UNLIMITED',
      flapLock: place.kind === 'public' ? 'FLAP_UNLOCK_AFTER_CHARGING' : 'NO_ACTION',
      chargingPlug: place.dc ? 'CCS' : 'TYPE_2',
    };
  });
}
