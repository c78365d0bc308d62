import { vinLocator } from '../../../../src/n8n/descriptions';
import type { Operation } from '../../../../src/n8n/operation';
import { rememberModel } from '../../../../src/n8n/vehicles';

export const getVehicle: Operation = {
  operationId: 'getBasicData',
  value: 'get',
  name: 'Get',
  action: 'Get a vehicle',
  description: 'Get basic data of a vehicle: brand, model, drive train, battery size, construction date',
  quotaByDefault: true,
  fields: [vinLocator('vehicle', ['get'])],
  async execute(account, _i, vin, read) {
    const data = await account.client.getBasicData(vin, read);
    if (data.modelName) rememberModel(account.client.accountId, data.vin ?? vin, data.modelName);
    return [{ json: { ...data } }];
  },
};
