import type { IDataObject } from 'n8n-workflow';
import { telematicValues } from '../../../../src/core/telematic-values';
import type { TelematicDataEntry } from '../../../../src/core/types';
import { containerIdField, descriptorsField, vinLocator } from '../../../../src/n8n/descriptions';
import { type Operation, optionsOf } from '../../../../src/n8n/operation';

const show = (extra: Record<string, string[]> = {}) => ({ show: { resource: ['telematicData'], operation: ['get'], ...extra } });

const getTelematicData: Operation = {
  operationId: 'getTelematicData',
  value: 'get',
  name: 'Get',
  action: 'Get telematic data',
  description: 'Get the latest values of telematic keys (state of charge, range, mileage, doors, location, ...)',
  quotaByDefault: true,
  fields: [
    vinLocator('telematicData', ['get']),
    {
      displayName: 'Container',
      name: 'containerMode',
      type: 'options',
      noDataExpression: true,
      default: 'managed',
      options: [
        {
          name: 'Managed Automatically',
          value: 'managed',
          description: 'Reuse the container holding exactly these keys, or create it once; later runs cost one call each',
        },
        { name: 'By ID', value: 'id', description: 'Read an existing container' },
      ],
      displayOptions: show(),
    },
    descriptorsField(show({ containerMode: ['managed'] })),
    containerIdField(show({ containerMode: ['id'] }), 'The 13-character ID of a container (see Container > Get Many)'),
  ],
  options: [
    {
      displayName: 'Allow Unknown Keys',
      name: 'allowUnknown',
      type: 'boolean',
      default: false,
      description: 'Whether to accept keys missing from the bundled catalogue (BMW adds keys over time)',
    },
    {
      displayName: 'Simplify',
      name: 'simplify',
      type: 'boolean',
      default: false,
      description: 'Whether to return each key as its plain value instead of value, unit and timestamp',
    },
  ],
  async execute(account, i, vin, read) {
    const options = optionsOf(this, i);
    const mode = this.getNodeParameter('containerMode', i, 'managed') as string;
    let containerId: string;
    let telematicData: Record<string, TelematicDataEntry>;
    if (mode === 'id') {
      containerId = String(this.getNodeParameter('containerId', i, '')).trim();
      telematicData = (await account.client.getTelematicData(vin, containerId, read)).telematicData ?? {};
    } else {
      const descriptors = this.getNodeParameter('descriptors', i, []) as string[] | string;
      const result = await account.client.getTelematicValues(vin, descriptors, { allowUnknown: options.allowUnknown === true, ...read });
      account.saveContainers();
      containerId = result.containerId;
      telematicData = result.telematicData ?? {};
    }
    if (options.simplify === true) return [{ json: { vin, containerId, ...telematicValues(telematicData) } }];
    return [{ json: { vin, containerId, telematicData: telematicData as IDataObject } }];
  },
};

export const telematicDataOperations: Operation[] = [getTelematicData];
