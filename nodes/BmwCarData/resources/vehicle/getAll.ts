import type { Operation } from '../../../../src/n8n/operation';

export const getAllVehicles: Operation = {
  operationId: 'getMappings',
  value: 'getAll',
  name: 'Get Many',
  action: 'Get many vehicles',
  description: 'List the vehicles mapped to the account (VIN, mapping type, mapped since)',
  quotaByDefault: true,
  fields: [],
  // The list read here is the one the Vehicle picker shows: both read the account's cache.
  async execute(account, _i, _vin, read) {
    const mappings = await account.client.getMappings(read);
    return mappings.map((m) => ({ json: { ...m } }));
  },
};
