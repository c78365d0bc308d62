import type { IDataObject } from 'n8n-workflow';
import { flattenChargingSetting } from '../../../../src/core/rows/flatten-settings';
import { returnAllAndLimit, vinLocator } from '../../../../src/n8n/descriptions';
import { type Operation, optionsOf, vinOf } from '../../../../src/n8n/operation';

const getChargingSettings: Operation = {
  operationId: 'getLocationBasedChargingSettings',
  value: 'getAll',
  name: 'Get Many',
  action: 'Get many charging settings',
  description: 'Get the charging settings the vehicle keeps per location, one item per location',
  quotaByDefault: false,
  fields: [vinLocator('chargingSettings', ['getAll']), ...returnAllAndLimit('chargingSettings', 'getAll')],
  options: [
    {
      displayName: 'Output',
      name: 'output',
      type: 'options',
      default: 'flat',
      options: [
        { name: 'Flat Rows', value: 'flat', description: 'One row per location with plain columns, time windows as text' },
        { name: 'Raw', value: 'raw', description: 'Settings as BMW sends them' },
      ],
    },
  ],
  async execute(account, i) {
    const vin = vinOf(this, i);
    const options = optionsOf(this, i);
    const returnAll = this.getNodeParameter('returnAll', i, false) as boolean;
    const limit = returnAll ? undefined : (this.getNodeParameter('limit', i, 50) as number);
    const flat = options.output !== 'raw';
    const out = [];
    for await (const setting of account.client.paginate('getLocationBasedChargingSettings', { vin }, { limit })) {
      out.push({ json: (flat ? { vin, ...flattenChargingSetting(setting) } : { vin, ...setting }) as IDataObject });
    }
    return out;
  },
};

export const chargingSettingsOperations: Operation[] = [getChargingSettings];
