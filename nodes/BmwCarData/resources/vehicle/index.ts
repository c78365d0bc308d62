import type { Resource } from '../../../../src/n8n/operation';
import { getVehicle } from './get';
import { getAllVehicles } from './getAll';

export const vehicle: Resource = { value: 'vehicle', name: 'Vehicle', operations: [getAllVehicles, getVehicle] };
