import catalogueJson from '../core/telematic-catalogue.json';

// The telematic data catalogue is shared data, not core code: the simulator reads it to validate container
// descriptors and to shape plausible values (unit, range, datatype).

export interface CatalogueItem {
  id: string;
  name: string;
  unit: string;
  range: string;
  datatype: string;
  streamable: boolean;
  vehicleTypes: string[];
  category: string;
}

export const CATALOGUE: readonly CatalogueItem[] = (catalogueJson as { items: CatalogueItem[] }).items;

export const CATALOGUE_BY_ID: ReadonlyMap<string, CatalogueItem> = new Map(CATALOGUE.map((item) => [item.id, item]));

/** Keys answered by their own endpoints: accepted in containers, never returned by /telematicData (IG §3.3.4). */
const DEDICATED_ENDPOINT_KEYS = new Set([
  'vehicle.chassis.axle.wheel.tire.diagnosis',
  'vehicle.look.image',
  'vehicle.powertrain.electric.battery.charging.history.sessionsList',
  'vehicle.powertrain.electric.battery.charging.settingsList',
]);

export function isOmittedFromTelematicData(id: string): boolean {
  return DEDICATED_ENDPOINT_KEYS.has(id) || CATALOGUE_BY_ID.get(id)?.category === 'BASIC_DATA';
}
