import type { IDataObject } from 'n8n-workflow';
import { containerIdField, DAILY_CALLS, descriptorsField } from '../../../../src/n8n/node-parameters';
import { type Operation } from '../../../../src/n8n/operation';

const show = (operation: string) => ({ show: { resource: ['container'], operation: [operation] } });

const createContainer: Operation = {
  operationId: 'createContainer',
  value: 'create',
  name: 'Create',
  action: 'Create a container',
  description: 'Create a container of telematic keys (an account may hold 10): 1 call',
  toolDescription: `Creates a container of telematic keys on the BMW account (an account may hold 10; Telematic Data > Get manages its own). Returns its ID. Costs 1 ${DAILY_CALLS}.`,
  quotaByDefault: true,
  fields: [
    { displayName: 'Name', name: 'name', type: 'string', default: '', required: true, description: 'A name you will recognise (at most 64 characters)', displayOptions: show('create') },
    descriptorsField(show('create')),
  ],
  options: [{ displayName: 'Purpose', name: 'purpose', type: 'string', default: '', description: 'What the container is for; defaults to the name' }],
  async execute(account, i) {
    const options = (this.getNodeParameter('options', i, {}) ?? {}) as IDataObject;
    const created = await account.client.createContainer({
      name: String(this.getNodeParameter('name', i, '')),
      purpose: typeof options.purpose === 'string' ? options.purpose : '',
      technicalDescriptors: this.getNodeParameter('descriptors', i, []) as string[],
    });
    return [{ json: { ...created } }];
  },
};

const getContainer: Operation = {
  operationId: 'getContainerDetails',
  value: 'get',
  name: 'Get',
  action: 'Get a container',
  description: 'Get a container with its telematic keys: 1 call',
  toolDescription: `Reads a container of the BMW account: its name, purpose, state and telematic keys. Costs 1 ${DAILY_CALLS}.`,
  quotaByDefault: true,
  fields: [containerIdField(show('get'))],
  async execute(account, i) {
    return [{ json: { ...(await account.client.getContainer(String(this.getNodeParameter('containerId', i, '')))) } }];
  },
};

const getContainers: Operation = {
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

const deleteContainer: Operation = {
  operationId: 'deleteContainer',
  value: 'delete',
  name: 'Delete',
  action: 'Delete a container',
  description: 'Delete a container (BMW keeps counting it for 29 days): 1 call',
  toolDescription: `Deletes a container of the BMW account; BMW keeps counting it among the 10 for 29 days. Costs 1 ${DAILY_CALLS}.`,
  quotaByDefault: true,
  fields: [containerIdField(show('delete'))],
  async execute(account, i) {
    const result = await account.client.deleteContainer(String(this.getNodeParameter('containerId', i, '')));
    account.saveContainers();
    return [{ json: { ...result } }];
  },
};

export const containerOperations: Operation[] = [createContainer, getContainer, getContainers, deleteContainer];
