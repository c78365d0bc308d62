import type { ChargingSession, LocationBasedChargingSetting, TelematicDataEntry, TyreDiagnosis, VehicleBasicData, VehicleMapping } from '../core/types';
import { generateSessions } from './charging';
import { demoTelematic } from './demo';
import { renderVehicleImage } from './image';
import { generateChargingSettings } from './lbcs';
import { generateTelematics, NEVER_REPORTED } from './telematics';
import { generateTyreDiagnosis } from './tyres';
import type { VehicleProfile } from './vehicles';
import { buildFleet, SIM_VINS } from './vehicles';

/**
 * Every fixture the REST API serves, generated lazily per vehicle and cached: the same seed and start time give
 * the same answers, and large charging histories cost O(n) once.
 */
export class FixtureData {
  private readonly fleet: Map<string, VehicleProfile>;
  private readonly sessionCache = new Map<string, ChargingSession[]>();
  private readonly telematicsCache = new Map<string, Map<string, TelematicDataEntry>>();
  private readonly tyreCache = new Map<string, TyreDiagnosis>();
  private readonly settingsCache = new Map<string, LocationBasedChargingSetting[]>();
  private readonly imageCache = new Map<string, Buffer>();

  constructor(
    private readonly seed: number,
    /** Simulator start time: fixtures are placed relative to it. */
    private readonly anchorMs: number,
    private readonly chargingSessions: number,
    private readonly gcid: string,
    /** Set for the sandbox's story: the BEV's state of charge then follows demoSoc() on this clock. */
    private readonly demoClock?: () => number,
  ) {
    this.fleet = buildFleet(seed, anchorMs);
  }

  vehicle(vin: string): VehicleProfile | undefined {
    return this.fleet.get(vin);
  }

  mappings(): VehicleMapping[] {
    return [...this.fleet.values()].map((v) => ({ vin: v.vin, mappedSince: v.mappedSince, mappingType: v.mappingType }));
  }

  basicData(v: VehicleProfile): VehicleBasicData {
    return { ...v.basic };
  }

  /** Newest first. */
  sessions(v: VehicleProfile): ChargingSession[] {
    let list = this.sessionCache.get(v.vin);
    if (!list) {
      list = generateSessions(v, Math.round(this.chargingSessions * v.sessionShare), this.anchorMs, this.seed);
      this.sessionCache.set(v.vin, list);
    }
    return list;
  }

  telematic(v: VehicleProfile, descriptor: string): TelematicDataEntry {
    let map = this.telematicsCache.get(v.vin);
    if (!map) {
      map = generateTelematics(v, this.anchorMs, this.seed);
      this.telematicsCache.set(v.vin, map);
    }
    const entry = map.get(descriptor) ?? NEVER_REPORTED;
    const story = this.demoClock && v.vin === SIM_VINS.bev ? demoTelematic(descriptor, entry, this.anchorMs, this.demoClock()) : undefined;
    return { ...(story ?? entry) };
  }

  tyres(v: VehicleProfile): TyreDiagnosis {
    let t = this.tyreCache.get(v.vin);
    if (!t) {
      t = generateTyreDiagnosis(v, this.anchorMs, this.seed);
      this.tyreCache.set(v.vin, t);
    }
    return t;
  }

  chargingSettings(v: VehicleProfile): LocationBasedChargingSetting[] {
    let s = this.settingsCache.get(v.vin);
    if (!s) {
      s = generateChargingSettings(v, this.gcid, this.anchorMs, this.seed);
      this.settingsCache.set(v.vin, s);
    }
    return s;
  }

  image(v: VehicleProfile): Buffer | undefined {
    if (!v.hasImage) return undefined;
    let png = this.imageCache.get(v.vin);
    if (!png) {
      png = renderVehicleImage(v.colour);
      this.imageCache.set(v.vin, png);
    }
    return png;
  }
}
