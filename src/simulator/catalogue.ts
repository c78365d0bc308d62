import { dedicatedEndpointOf, DESCRIPTORS, type Descriptor } from '../core/catalogue';

// The telematic data catalogue is shared data: the simulator reads it to validate container descriptors and to
// shape plausible values (unit, range, datatype).

export type CatalogueItem = Descriptor;

export const CATALOGUE: readonly CatalogueItem[] = DESCRIPTORS;

export const CATALOGUE_BY_ID: ReadonlyMap<string, CatalogueItem> = new Map(CATALOGUE.map((item) => [item.id, item]));

/** Keys answered by their own endpoints: accepted in containers, never returned by /telematicData (IG §3.3.4). */
export function isOmittedFromTelematicData(id: string): boolean {
  return dedicatedEndpointOf(id) !== undefined;
}
