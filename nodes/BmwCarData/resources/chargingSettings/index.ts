import type { IDataObject } from 'n8n-workflow';
import { flattenChargingSetting } from '../../../../src/core/rows/flatten-settings';
import { withoutEmptyColumns } from '../../../../src/core/rows/flatten';
import { DAILY_CALLS, EVERY_CAR, returnAllAndLimit, vinLocator } from '../../../../src/n8n/node-parameters';
import { type Operation } from '../../../../src/n8n/operation';
import { fieldsOf, outputOptions, outputOf, selectFields } from '../../../../src/n8n/output';

const getChargingSettings: Operation = {
  operationId: 'getLocationBasedChargingSettings',
  value: 'getAll',
  name: 'Get Many',
  action: 'Get many charging settings',
  description: 'Get the charging settings the vehicle keeps per location, one item per location: 1 call per page, then none for an hour (cache)',
  toolDescription: `Lists the charging settings a car keeps per location (place, charging mode, preferred charging window, AC current limit, plug and flap lock), one item per location. Costs 1 ${DAILY_CALLS} per page of locations, then none for an hour: the answer is cached. ${EVERY_CAR}`,
  quotaByDefault: false,
  fields: [vinLocator('chargingSettings', ['getAll']), ...returnAllAndLimit('chargingSettings', 'getAll')],
  options: outputOptions({
    workflowDefault: 'flat',
    flat: 'One row per location with plain columns, time windows as text',
    simplified: 'The columns of Flat Rows, the empty ones left out',
    raw: 'Settings as BMW sends them',
  }),
  async execute(account, i, vin, read) {
    const returnAll = this.getNodeParameter('returnAll', i, false) as boolean;
    const limit = returnAll ? undefined : (this.getNodeParameter('limit', i, 50) as number);
    const output = outputOf(this, i, 'flat');
    const fields = output === 'fields' ? fieldsOf(this, i) : [];
    const out = [];
    for await (const setting of account.client.paginate('getLocationBasedChargingSettings', { vin }, { limit, ...read })) {
      if (output === 'simple') out.push({ json: { vin, ...withoutEmptyColumns(flattenChargingSetting(setting)) } as IDataObject });
      else if (output === 'raw') out.push({ json: { vin, ...setting } as IDataObject });
      else if (output === 'fields') out.push({ json: selectFields({ vin, ...flattenChargingSetting(setting) }, fields) });
      else out.push({ json: { vin, ...flattenChargingSetting(setting) } as IDataObject });
    }
    return out;
  },
};

export const chargingSettingsOperations: Operation[] = [getChargingSettings];
