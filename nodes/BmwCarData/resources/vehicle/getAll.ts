import type { Operation } from '../../../../src/n8n/operation';
import { rememberVehicles } from '../../../../src/n8n/vehicles';

export const getAllVehicles: Operation = {
  operationId: 'getMappings',
  value: 'getAll',
  name: 'Get Many',
  action: 'Get many vehicles',
  description: 'List the vehicles mapped to the account (VIN, mapping type, mapped since)',
  quotaByDefault: true,
  fields: [],
  async execute(account) {
    const mappings = await account.client.getMappings();
    rememberVehicles(account.client.accountId, mappings);
    return mappings.map((m) => ({ json: { ...m } }));
  },
};
