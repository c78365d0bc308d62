import type { IDataObject } from 'n8n-workflow';
import { cleanUnit, telematicValue, telematicValues } from '../../../../src/core/telematic-values';
import type { TelematicDataEntry } from '../../../../src/core/types';
import { containerIdField, DAILY_CALLS, descriptorsField, EVERY_CAR, vinLocator } from '../../../../src/n8n/node-parameters';
import { type Operation, optionsOf } from '../../../../src/n8n/operation';
import { fieldsOf, outputOptions, outputOf, selectFields } from '../../../../src/n8n/output';

const show = (extra: Record<string, string[]> = {}) => ({ show: { resource: ['telematicData'], operation: ['get'], ...extra } });

const getTelematicData: Operation = {
  operationId: 'getTelematicData',
  value: 'get',
  name: 'Get',
  action: 'Get telematic data',
  description:
    'Get the latest values of telematic keys (state of charge, range, mileage, doors, location, ...): 1 call per car; 3 the first time (list and create the container)',
  toolDescription: `Reads the latest values of the car's telematic keys set in this tool (state of charge, range, mileage, doors, location, ...), each with its unit and the time of the newest reading. Costs 1 ${DAILY_CALLS} per car; the first read of a new set of keys costs 2 or 3 (the container is found or created). ${EVERY_CAR}`,
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
    ...outputOptions({
      workflowDefault: 'raw',
      simplified: 'readAt (the newest reading) and values: each key with its value (typed with the catalogue) and unit; keys without a value left out',
      raw: 'containerId and telematicData as BMW sends it: value, unit and timestamp of each key',
    }),
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
      description: 'Whether to return each key as its plain value instead of value, unit and timestamp (with Output Raw)',
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
    const output = outputOf(this, i, 'raw');
    if (output === 'simple') return [{ json: { vin, ...simplified(telematicData) } }];
    if (output === 'fields') return [{ json: selectFields({ vin, containerId, ...telematicValues(telematicData) } as IDataObject, fieldsOf(this, i)) }];
    if (options.simplify === true) return [{ json: { vin, containerId, ...telematicValues(telematicData) } }];
    return [{ json: { vin, containerId, telematicData: telematicData as IDataObject } }];
  },
};

/** Each key's typed value and unit, the keys without a value left out, and the time of the newest reading. */
function simplified(data: Record<string, TelematicDataEntry>): IDataObject {
  const values: IDataObject = {};
  let newest = '';
  for (const [key, entry] of Object.entries(data)) {
    const value = telematicValue(key, entry?.value);
    if (value === null || value === '') continue;
    const unit = cleanUnit(entry?.unit);
    values[key] = unit ? { value, unit } : { value };
    if (typeof entry?.timestamp === 'string' && entry.timestamp > newest) newest = entry.timestamp;
  }
  return { ...(newest ? { readAt: newest } : {}), values };
}

export const telematicDataOperations: Operation[] = [getTelematicData];
