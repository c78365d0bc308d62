import { containerIdField, DAILY_CALLS, shownFor } from '../../../../src/n8n/node-parameters';
import type { Operation } from '../../../../src/n8n/operation';

export const getContainer: Operation = {
  operationId: 'getContainerDetails',
  value: 'get',
  name: 'Get',
  action: 'Get a container',
  description: 'Get a container with its telematic keys: 1 call',
  toolDescription: `Reads a container of the BMW account: its name, purpose, state and telematic keys. Costs 1 ${DAILY_CALLS}.`,
  quotaByDefault: true,
  fields: [containerIdField(shownFor('container', 'get'))],
  async execute(account, i) {
    return [{ json: { ...(await account.client.getContainer(String(this.getNodeParameter('containerId', i, '')))) } }];
  },
};
