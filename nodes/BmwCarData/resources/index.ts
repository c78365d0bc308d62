import type { Operation, Resource } from '../../../src/n8n/operation';
import { chargingHistory } from './chargingHistory';
import { chargingSettings } from './chargingSettings';
import { container } from './container';
import { image } from './image';
import { telematicData } from './telematicData';
import { tyreDiagnosis } from './tyreDiagnosis';
import { vehicle } from './vehicle';

/** Resources in the order the node lists them. */
export const RESOURCES: Resource[] = [vehicle, telematicData, chargingHistory, chargingSettings, tyreDiagnosis, image, container];

export function findOperation(resource: string, operation: string): Operation | undefined {
  return RESOURCES.find((r) => r.value === resource)?.operations.find((o) => o.value === operation);
}
