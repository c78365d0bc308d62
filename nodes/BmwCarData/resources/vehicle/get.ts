import { vinLocator } from '../../../../src/n8n/descriptions';
import { type Operation, vinOf } from '../../../../src/n8n/operation';

export const getVehicle: Operation = {
  operationId: 'getBasicData',
  value: 'get',
  name: 'Get',
  action: 'Get a vehicle',
  description: 'Get basic data of a vehicle: brand, model, drive train, battery size, construction date',
  quotaByDefault: true,
  fields: [vinLocator('vehicle', ['get'])],
  async execute(account, i, read) {
    return [{ json: { ...(await account.client.getBasicData(vinOf(this, i), read)) } }];
  },
};
