import type { Operation } from '../../../../src/n8n/operation';
import { getVehicle } from './get';
import { getAllVehicles } from './getAll';

export const vehicleOperations: Operation[] = [getAllVehicles, getVehicle];
