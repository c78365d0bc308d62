import { containerIdField, DAILY_CALLS, shownFor } from '../../../../src/n8n/node-parameters';
import type { Operation } from '../../../../src/n8n/operation';

export const deleteContainer: Operation = {
  operationId: 'deleteContainer',
  value: 'delete',
  name: 'Delete',
  action: 'Delete a container',
  description: 'Delete a container (BMW keeps counting it for 29 days): 1 call',
  toolDescription: `Deletes a container of the BMW account; BMW keeps counting it among the 10 for 29 days. Costs 1 ${DAILY_CALLS}.`,
  quotaByDefault: true,
  fields: [containerIdField(shownFor('container', 'delete'))],
  async execute(account, i) {
    const result = await account.client.deleteContainer(String(this.getNodeParameter('containerId', i, '')));
    account.saveContainers();
    return [{ json: { ...result } }];
  },
};
