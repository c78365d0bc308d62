import type { IDataObject } from 'n8n-workflow';
import { DAILY_CALLS } from '../../../../src/n8n/node-parameters';
import type { Operation } from '../../../../src/n8n/operation';
import { fieldsOf, outputOptions, outputOf, selectFields } from '../../../../src/n8n/output';
import { vehicleName } from '../../../../src/n8n/vehicles';

export const getAllVehicles: Operation = {
  operationId: 'getMappings',
  value: 'getAll',
  name: 'Get Many',
  action: 'Get many vehicles',
  description: 'List the vehicles mapped to the account (VIN, mapping type, mapped since): 1 call, then none for a day (cache)',
  toolDescription: `Lists the cars of the BMW account: VIN, name and mapping (BMW gives data only for PRIMARY ones). Costs 1 ${DAILY_CALLS}, then none for a day: the list is cached.`,
  quotaByDefault: true,
  fields: [],
  options: outputOptions({
    workflowDefault: 'raw',
    simplified: 'vin, vehicleName and mappingType of each vehicle',
  }),
  // The list read here is the one the Vehicle picker shows: both read the account's cache.
  async execute(account, i, _vin, read) {
    const output = outputOf(this, i, 'raw');
    const mappings = await account.client.getMappings(read);
    return mappings.map((m) => {
      const vin = m.vin ?? '';
      if (output === 'simple') return { json: { vin, vehicleName: vehicleName(account, vin), mappingType: m.mappingType ?? null } };
      if (output === 'fields') return { json: selectFields({ ...m, vehicleName: vehicleName(account, vin) } as IDataObject, fieldsOf(this, i)) };
      return { json: { ...m } };
    });
  },
};
