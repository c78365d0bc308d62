// Response and request shapes of the CarData Customer API (spec/bmw-cardata-customer-api-openapi.json).
// Every field is optional unless BMW's schema requires it: real answers omit fields and carry nulls.

export type MappingType = 'PRIMARY' | 'SECONDARY';

export interface VehicleMapping {
  vin?: string;
  mappedSince?: string;
  mappingType?: MappingType | string;
}

export interface VehicleBasicData {
  vin?: string;
  brand?: string;
  isTelematicsCapable?: boolean;
  puStep?: string;
  modelRange?: string;
  series?: string;
  modelName?: string;
  modelKey?: string;
  bodyType?: string;
  numberOfDoors?: number;
  hasNavi?: boolean;
  headUnit?: string;
  hasSunRoof?: boolean;
  countryCodeISO?: string;
  steering?: string;
  engine?: string;
  driveTrain?: string;
  chargingModes?: string[];
  propulsionType?: string;
  colourCode?: string;
  colourCodeRaw?: string;
  constructionDate?: string;
  fullSAList?: string;
  hvsMaxEnergyAbsolute?: string;
  simStatus?: string;
}

/** State is ACTIVE or DELETED in the spec, ACTIVE or INACTIVE in BMW's guide: any string is accepted. */
export type ContainerState = 'ACTIVE' | 'DELETED' | 'INACTIVE' | string;

export interface Container {
  containerId?: string;
  name?: string;
  purpose?: string;
  state?: ContainerState;
  created?: string;
}

export interface ContainerDetails extends Container {
  technicalDescriptors?: string[];
}

export interface ContainerList {
  containers?: Container[];
}

export interface CreateContainerRequest {
  name: string;
  purpose: string;
  technicalDescriptors: string[];
}

export interface TelematicDataEntry {
  value?: string | null;
  unit?: string | null;
  timestamp?: string | null;
}

export interface TelematicDataResponse {
  telematicData?: Record<string, TelematicDataEntry>;
}

export interface ChargingBlock {
  startTime: number;
  endTime: number;
  averagePowerGridKw?: number;
}

export interface ChargingLocation {
  municipality: string;
  formattedAddress: string;
  streetAddress: string;
  mapMatchedLatitude?: number;
  mapMatchedLongitude?: number;
}

export interface PublicChargingPointMatch {
  postalCode?: string;
  streetAddress?: string;
  providerName?: string;
  city?: string;
}

export interface BusinessError {
  creationTime?: string;
  hint?: string;
}

export interface ChargingCostInformation {
  currency: string;
  calculatedChargingCost: number;
  calculatedSavings: number;
}

export interface ChargingSession {
  publicChargingPoint?: { potentialChargingPointMatches: PublicChargingPointMatch[] };
  displayedSoc: number;
  displayedStartSoc: number;
  businessErrors?: BusinessError[];
  timeZone: string;
  /** Epoch seconds (BMW does not document the unit; community clients read seconds). */
  startTime: number;
  /** null (or 0) while the session is still in progress. */
  endTime: number | null;
  totalChargingDurationSec: number;
  energyConsumedFromPowerGridKwh?: number;
  energyDecreaseHvbKwh?: number;
  energyDischargedKwh?: number;
  isPreconditioningActivated: boolean;
  mileage: number;
  mileageUnits: 'MileageUnits.KM' | 'MileageUnits.MI' | string;
  chargingLocation?: ChargingLocation;
  chargingBlocks?: ChargingBlock[];
  /** Present in BMW's older spec variant only. */
  chargingCostInformation?: ChargingCostInformation;
}

export interface ChargingHistoryPage {
  data: ChargingSession[];
  next_token?: string;
  /** Tolerated: some answers spell the token in camelCase. */
  nextToken?: string;
}

export interface ChargingTimeWindow {
  startChargingTimePeriodHour?: number;
  startChargingTimePeriodMinute?: number;
  stopChargingTimePeriodHour?: number;
  stopChargingTimePeriodMinute?: number;
}

export interface LocationBasedChargingSetting {
  id?: string;
  lastUpdated?: string;
  clusterLocationId?: string;
  latitude?: number;
  longitude?: number;
  lastVisit?: string;
  visits?: number;
  chargingMode?: string;
  optimizedChargingPreference?: string;
  startChargingTimePeriodHour?: number;
  startChargingTimePeriodMinute?: number;
  stopChargingTimePeriodHour?: number;
  stopChargingTimePeriodMinute?: number;
  vehicleIdWithGcid?: string;
  chargingTimeWindows?: ChargingTimeWindow[];
  acCurrentLimitFlag?: string;
  acCurrentLimit?: number;
  acousticLimit?: string;
  flapLock?: string;
  chargingPlug?: string;
}

export interface ChargingSettingsPage {
  data?: LocationBasedChargingSetting[];
  nextToken?: string;
  next_token?: string;
}

export type StatusColor = 'RED' | 'YELLOW' | 'GREEN' | 'GREY' | string;

export interface LabelledValue {
  label?: string;
  value?: string;
}

export interface TyreData {
  label?: string;
  dimension?: LabelledValue & {
    aspectRatio?: number;
    constructionType?: string;
    loadIndex?: number;
    rimDiameter?: number;
    sectionWidth?: number;
    speedRating?: string;
  };
  mountingDate?: LabelledValue & { mountingDate?: string };
  optimizedForOem?: LabelledValue & { optimizedForOem?: string };
  partNumber?: LabelledValue & { partNumber?: string };
  qualityStatus?: LabelledValue & { qualityStatus?: string };
  runFlat?: LabelledValue & { runFlat?: boolean };
  season?: LabelledValue & { season?: string };
  tread?: LabelledValue & { carcass?: string; manufacturer?: string; treadDesign?: string };
  tyreDefect?: LabelledValue & { status?: string; statusColor?: StatusColor };
  tyreProductionDate?: LabelledValue & { statusColor?: StatusColor };
  tyreWear?: LabelledValue & {
    status?: string;
    statusColor?: StatusColor;
    dueMileage?: number;
    unit?: 'KILOMETER' | 'MILE' | string;
  };
}

export interface TyreSet {
  label?: string;
  aggregatedQualityStatus?: LabelledValue & { qualityStatus?: string };
  frontLeft?: TyreData;
  frontRight?: TyreData;
  rearLeft?: TyreData;
  rearRight?: TyreData;
}

export interface TyreDiagnosis {
  passengerCar?: { mountedTyres?: TyreSet; unmountedTyres?: TyreSet };
  errors?: { eventId?: string; message?: Record<string, unknown>; type?: string }[];
}

export interface VehicleImage {
  data: Buffer;
  contentType: string;
  /** `<VIN>.<extension of the content type>`, the name hosts save the image under. */
  fileName: string;
}

/** BMW's error body (CustomerErrorResponse). */
export interface CustomerErrorResponse {
  exveErrorId?: string;
  exveErrorRef?: string;
  exveErrorMsg?: string;
  exveNote?: string;
}

/** The tokens GCDM hands out; `expiresAt` is epoch milliseconds of the access token's expiry. */
export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  idToken?: string;
  gcid?: string;
  scope?: string;
  expiresAt: number;
}
