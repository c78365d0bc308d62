import type { Resource } from '../../shared/operation';
import { getVehicle } from './get';
import { getAllVehicles } from './getAll';

export const vehicle: Resource = { value: 'vehicle', name: 'Vehicle', operations: [getAllVehicles, getVehicle] };
