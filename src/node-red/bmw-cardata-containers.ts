import type { NodeAPI } from 'node-red';
import { checkDescriptors, containerNameFor, inputError } from '../core';
import { pick, registerAction, type ActionConfig } from './action';

const OPERATIONS = ['list', 'get', 'create', 'delete', 'ensure'] as const;
type Operation = (typeof OPERATIONS)[number];

interface ContainersConfig extends ActionConfig {
  operation?: Operation;
  containerId?: string;
  containerName?: string;
  purpose?: string;
  descriptors?: string[] | string;
}

export = function (RED: NodeAPI): void {
  registerAction<ContainersConfig>(RED, 'bmw-cardata-containers', async ({ account, msg, config }) => {
    const operation = pick(msg.operation, config.operation || 'list');
    if (typeof operation !== 'string' || !(OPERATIONS as readonly string[]).includes(operation)) {
      throw inputError('operation', `Unknown container operation: ${String(operation).slice(0, 20)}`, `Use one of ${OPERATIONS.join(', ')}.`);
    }
    const client = account.client;
    const containerId = pick(msg.containerId, config.containerId ?? '') as string;
    const descriptors = pick(msg.descriptors, config.descriptors ?? []);
    msg.operation = operation;
    switch (operation as Operation) {
      case 'list': {
        const containers = await client.listContainers();
        msg.payload = containers;
        const active = containers.filter((c) => c.state === 'ACTIVE').length;
        return { summary: `${containers.length} container${containers.length === 1 ? '' : 's'} (${active} active)`, output: msg };
      }
      case 'get':
        msg.payload = await client.getContainer(containerId);
        return { summary: 'container read', output: msg };
      case 'create': {
        // Without a name, the one the telematics node gives a container of these descriptors: it then reuses it.
        const given = pick(msg.name, config.containerName ?? '');
        const name = typeof given === 'string' && given.trim() === '' ? containerNameFor(checkDescriptors(descriptors)) : (given as string);
        const purpose = pick(msg.purpose, config.purpose ?? '') as string;
        const created = await client.createContainer({ name, purpose, technicalDescriptors: descriptors as string[] });
        msg.payload = created;
        msg.containerId = created.containerId;
        return { summary: 'container created', output: msg };
      }
      case 'delete': {
        const result = await client.deleteContainer(containerId);
        msg.payload = result;
        return { summary: result.alreadyDeleted ? 'already deleted' : 'container deleted', output: msg };
      }
      case 'ensure': {
        const ensured = await client.ensureContainer(descriptors);
        msg.payload = { containerId: ensured.containerId, name: ensured.name, created: ensured.created, fromCache: ensured.fromCache };
        msg.containerId = ensured.containerId;
        return { summary: ensured.created ? 'container created' : 'container reused', output: msg };
      }
    }
    throw inputError('operation', `Unknown container operation: ${operation}`);
  });
};
