import type { IDataObject } from 'n8n-workflow';
import { DAILY_CALLS, EVERY_CAR, vinLocator } from '../../../../src/n8n/node-parameters';
import type { Operation } from '../../../../src/n8n/operation';
import { fieldsOf, outputOptions, outputOf, selectFields, withoutEmpty } from '../../../../src/n8n/output';
import { rememberModel } from '../../../../src/n8n/vehicles';

/** What Simplified keeps of the basic data: what the car is, its drive and battery, when it was built. */
const SIMPLE_BASIC_DATA = [
  'brand',
  'modelName',
  'series',
  'bodyType',
  'propulsionType',
  'driveTrain',
  'hvsMaxEnergyAbsolute',
  'chargingModes',
  'colourCodeRaw',
  'constructionDate',
  'countryCodeISO',
] as const;

export const getVehicle: Operation = {
  operationId: 'getBasicData',
  value: 'get',
  name: 'Get',
  action: 'Get a vehicle',
  description: 'Get basic data of a vehicle: brand, model, drive train, battery size, construction date. 1 call per car, then none for a day (cache).',
  toolDescription: `Tells what a car is: brand, model, series, body, propulsion, drive train, battery size, charging modes, colour, construction date. Costs 1 ${DAILY_CALLS} per car, then none for a day: the answer is cached. ${EVERY_CAR}`,
  quotaByDefault: true,
  fields: [vinLocator('vehicle', ['get'])],
  options: outputOptions({ workflowDefault: 'raw', simplified: `${SIMPLE_BASIC_DATA.join(', ')}; empty ones left out` }),
  async execute(account, i, vin, read) {
    const output = outputOf(this, i, 'raw');
    const data = await account.client.getBasicData(vin, read);
    if (data.modelName) rememberModel(account.client.accountId, data.vin ?? vin, data.modelName);
    if (output === 'fields') return [{ json: selectFields({ ...data } as IDataObject, fieldsOf(this, i)) }];
    if (output === 'simple') {
      const picked: IDataObject = {};
      for (const key of SIMPLE_BASIC_DATA) picked[key] = data[key] as IDataObject[string];
      return [{ json: (withoutEmpty(picked) ?? {}) as IDataObject }];
    }
    return [{ json: { ...data } }];
  },
};
