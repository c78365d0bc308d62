import type { VehicleBasicData } from '../core/types';
import { rngFor } from './random';

/** The simulated account's vehicles. All are well-formed 17-character upper-case VINs. */
export const SIM_VINS = {
  /** BMW i4 eDrive40, PRIMARY, has every kind of data. */
  bev: 'WBY31AW090FP15732',
  /** BMW 330e, PRIMARY, no image and no location based charging settings (404s). */
  phev: 'WBA5P710X0FK48219',
  /** Mapped as SECONDARY: listed by /mappings, CU-104 on every data endpoint. */
  secondary: 'WBA21EN0X0CK77104',
  /** Not mapped to the account: CU-104. */
  unmapped: 'WBA11DD050FP90001',
} as const;

export type Propulsion = 'BEV' | 'PHEV' | 'ICE';

export interface VehicleProfile {
  vin: string;
  propulsion: Propulsion;
  mappingType: 'PRIMARY' | 'SECONDARY';
  mappedSince: string;
  basic: VehicleBasicData;
  /** Usable battery energy; drives every energy figure in charging sessions. */
  netCapacityKwh: number;
  acMaxKw: number;
  dcMaxKw: number;
  consumptionKwhPer100Km: number;
  /** Odometer at the simulator's start time. */
  mileageKm: number;
  /** Body colour of the vehicle image, RGB. */
  colour: readonly [number, number, number];
  hasImage: boolean;
  hasChargingSettings: boolean;
  /** Share of options.chargingSessions this vehicle gets. */
  sessionShare: number;
}

const DAY_MS = 86_400_000;

export function buildFleet(seed: number, anchorMs: number): Map<string, VehicleProfile> {
  const rng = rngFor(seed, 'fleet');
  const iso = (daysAgo: number): string => new Date(anchorMs - daysAgo * DAY_MS).toISOString().replace(/\.\d{3}Z$/, '.000Z');

  const bev: VehicleProfile = {
    vin: SIM_VINS.bev,
    propulsion: 'BEV',
    mappingType: 'PRIMARY',
    mappedSince: iso(rng.int(780, 820)),
    basic: {
      vin: SIM_VINS.bev,
      brand: 'BMW',
      isTelematicsCapable: true,
      puStep: '0323',
      modelRange: 'G26',
      series: '4',
      modelName: 'i4 eDrive40',
      modelKey: '31AW',
      bodyType: 'GC',
      numberOfDoors: 5,
      hasNavi: true,
      headUnit: 'MGU',
      hasSunRoof: false,
      countryCodeISO: 'DE',
      steering: 'LL',
      engine: 'HA0001N0',
      driveTrain: 'RWD',
      chargingModes: ['AC', 'DC'],
      propulsionType: 'BEV',
      colourCode: 'C31',
      colourCodeRaw: 'C31',
      constructionDate: '2023-02-14',
      fullSAList: '01CB,01DF,0230,02PA,0302,0322,0420,0493,04FL,04GQ,0508,0534,05AC,05AS,05DM,0654,06AC,06AK,06C4,06U3,06WD,0760',
      hvsMaxEnergyAbsolute: '83.9',
      simStatus: 'ACTIVE',
    },
    netCapacityKwh: 80.7,
    acMaxKw: 11,
    dcMaxKw: 205,
    consumptionKwhPer100Km: 18.5,
    mileageKm: rng.int(31_000, 46_000),
    colour: [28, 79, 156],
    hasImage: true,
    hasChargingSettings: true,
    sessionShare: 1,
  };

  const phev: VehicleProfile = {
    vin: SIM_VINS.phev,
    propulsion: 'PHEV',
    mappingType: 'PRIMARY',
    mappedSince: iso(rng.int(1100, 1200)),
    basic: {
      vin: SIM_VINS.phev,
      brand: 'BMW',
      isTelematicsCapable: true,
      puStep: '0722',
      modelRange: 'G20',
      series: '3',
      modelName: '330e',
      modelKey: '5P71',
      bodyType: 'LIM',
      numberOfDoors: 4,
      hasNavi: true,
      headUnit: 'MGU',
      hasSunRoof: true,
      countryCodeISO: 'DE',
      steering: 'LL',
      engine: 'B48B20O1',
      driveTrain: 'RWD',
      chargingModes: ['AC'],
      propulsionType: 'PHEV',
      colourCode: 'A96',
      colourCodeRaw: 'A96',
      constructionDate: '2022-06-08',
      fullSAList: '01CE,01DZ,0230,02VB,0302,0322,0423,0430,0493,04GQ,0508,0534,0544,05AC,05DM,0654,06AC,06AK,06U3,06WD',
      hvsMaxEnergyAbsolute: '12.0',
      simStatus: 'ACTIVE',
    },
    netCapacityKwh: 10.2,
    acMaxKw: 3.7,
    dcMaxKw: 0,
    consumptionKwhPer100Km: 17,
    mileageKm: rng.int(58_000, 82_000),
    colour: [228, 230, 232],
    hasImage: false,
    hasChargingSettings: false,
    sessionShare: 1 / 3,
  };

  const secondary: VehicleProfile = {
    ...phev,
    vin: SIM_VINS.secondary,
    propulsion: 'ICE',
    mappingType: 'SECONDARY',
    mappedSince: iso(rng.int(200, 300)),
    basic: { vin: SIM_VINS.secondary, brand: 'BMW', modelName: 'X1 sDrive18i', propulsionType: 'ICE' },
    sessionShare: 0,
  };

  return new Map([bev, phev, secondary].map((v) => [v.vin, v]));
}
