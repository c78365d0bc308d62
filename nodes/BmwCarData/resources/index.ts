import { type Operation, type Resource, resourcesOf } from '../../../src/n8n/operation';
import { chargingHistoryOperations } from './chargingHistory';
import { chargingSettingsOperations } from './chargingSettings';
import { containerOperations } from './container';
import { imageOperations } from './image';
import { telematicDataOperations } from './telematicData';
import { tyreDiagnosisOperations } from './tyreDiagnosis';
import { vehicleOperations } from './vehicle';

/** The resources as the operations table groups and orders them, under the names the node shows. */
export const RESOURCES: Resource[] = resourcesOf(
  {
    vehicle: 'Vehicle',
    telematicData: 'Telematic Data',
    chargingHistory: 'Charging History',
    chargingSettings: 'Charging Settings',
    tyreDiagnosis: 'Tyre Diagnosis',
    image: 'Image',
    container: 'Container',
  },
  [
    ...vehicleOperations,
    ...telematicDataOperations,
    ...chargingHistoryOperations,
    ...chargingSettingsOperations,
    ...tyreDiagnosisOperations,
    ...imageOperations,
    ...containerOperations,
  ],
);

export function findOperation(resource: string, operation: string): Operation | undefined {
  return RESOURCES.find((r) => r.value === resource)?.operations.find((o) => o.value === operation);
}
