import { DAILY_CALLS } from '../../../../src/n8n/node-parameters';
import type { Operation } from '../../../../src/n8n/operation';

export const getContainers: Operation = {
  operationId: 'listContainers',
  value: 'getAll',
  name: 'Get Many',
  action: 'Get many containers',
  description: 'List the containers of the account, one item per container: 1 call',
  toolDescription: `Lists the containers of the BMW account (ID, name, purpose, state), one item each. Costs 1 ${DAILY_CALLS}.`,
  quotaByDefault: true,
  fields: [],
  async execute(account) {
    return (await account.client.listContainers()).map((c) => ({ json: { ...c } }));
  },
};
