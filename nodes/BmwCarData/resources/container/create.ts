import type { IDataObject } from 'n8n-workflow';
import { DAILY_CALLS, descriptorsField, shownFor } from '../../../../src/n8n/node-parameters';
import type { Operation } from '../../../../src/n8n/operation';

export const createContainer: Operation = {
  operationId: 'createContainer',
  value: 'create',
  name: 'Create',
  action: 'Create a container',
  description: 'Create a container of telematic keys (an account may hold 10): 1 call',
  toolDescription: `Creates a container of telematic keys on the BMW account (an account may hold 10; Telematic Data > Get manages its own). Returns its ID. Costs 1 ${DAILY_CALLS}.`,
  quotaByDefault: true,
  fields: [
    {
      displayName: 'Name',
      name: 'name',
      type: 'string',
      default: '',
      required: true,
      description: 'A name you will recognise (at most 64 characters)',
      displayOptions: shownFor('container', 'create'),
    },
    descriptorsField(shownFor('container', 'create')),
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
