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
      throw inputError(
        'operation',
        RED._('bmw-cardata-containers.error.unknownOperation', { operation: String(operation).slice(0, 20) }),
        RED._('bmw-cardata-containers.error.operations', { operations: OPERATIONS.join(', ') }),
      );
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
        return { summary: RED._('bmw-cardata-containers.status.containers', { count: containers.length, active }), output: msg };
      }
      case 'get':
        msg.payload = await client.getContainer(containerId);
        return { summary: RED._('bmw-cardata-containers.status.read'), output: msg };
      case 'create': {
        // Without a name, the one the telematics node gives a container of these descriptors: it then reuses it.
        const given = pick(msg.name, config.containerName ?? '');
        const name = typeof given === 'string' && given.trim() === '' ? containerNameFor(checkDescriptors(descriptors)) : (given as string);
        const purpose = pick(msg.purpose, config.purpose ?? '') as string;
        const created = await client.createContainer({ name, purpose, technicalDescriptors: descriptors as string[] });
        msg.payload = created;
        msg.containerId = created.containerId;
        return { summary: RED._('bmw-cardata-containers.status.created'), output: msg };
      }
      case 'delete': {
        const result = await client.deleteContainer(containerId);
        msg.payload = result;
        return {
          summary: result.alreadyDeleted ? RED._('bmw-cardata-containers.status.alreadyDeleted') : RED._('bmw-cardata-containers.status.deleted'),
          output: msg,
        };
      }
      case 'ensure': {
        const ensured = await client.ensureContainer(descriptors);
        msg.payload = { containerId: ensured.containerId, name: ensured.name, created: ensured.created, fromCache: ensured.fromCache };
        msg.containerId = ensured.containerId;
        return { summary: ensured.created ? RED._('bmw-cardata-containers.status.created') : RED._('bmw-cardata-containers.status.reused'), output: msg };
      }
    }
    throw inputError('operation', RED._('bmw-cardata-containers.error.unknownOperation', { operation }));
  });
};
