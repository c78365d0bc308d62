import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import type { ReadOptions } from '../core/api/client';
import { OPERATIONS, RESOURCE_IDS, type OperationId, type ResourceId } from '../core/api/operations';
import type { N8nAccount } from './workflow-account';
import { cacheOption, quotaOptionOff, quotaOptionOn } from './node-parameters';

/** One operation of the node: its fields and what it does for one input item. */
export interface Operation {
  /** The operation of the CarData API it runs (its entry in the operations table says its resource). */
  operationId: OperationId;
  value: string;
  name: string;
  action: string;
  description: string;
  /**
   * What an AI agent reads about the operation when the node is its tool: what it returns and what it costs of the
   * account's daily calls. The tool node's Description starts with it.
   */
  toolDescription: string;
  /** What the operation answers when the node runs as an agent's tool, instead of asking BMW (no call, no login). */
  toolAnswer?: IDataObject;
  /** Whether items carry `_quota` unless the user says otherwise (off where rows feed a CSV). */
  quotaByDefault: boolean;
  fields: INodeProperties[];
  /** Extra entries of the operation's Options collection. */
  options?: INodeProperties[];
  /**
   * Runs for one item and, where the operation reads a vehicle, one VIN (empty for the others). `read`: how old a
   * cached answer may be (the item's "Answer From Cache Up To") and the report of the item's answers.
   */
  execute(this: IExecuteFunctions, account: N8nAccount, itemIndex: number, vin: string, read: ReadOptions): Promise<INodeExecutionData[]>;
}

export interface Resource {
  value: ResourceId;
  name: string;
  operations: Operation[];
}

/**
 * The node's resources from the operations table: its resources in its order, each with the node's operations
 * whose API operation belongs to it. A resource none of the operations belongs to is left out.
 */
export function resourcesOf(names: Readonly<Record<ResourceId, string>>, operations: readonly Operation[]): Resource[] {
  return RESOURCE_IDS.map((value) => ({
    value,
    name: names[value],
    operations: operations.filter((op) => OPERATIONS[op.operationId].resource === value),
  })).filter((r) => r.operations.length > 0);
}

/** The operation selector and every field of one resource, each shown only for its operation. */
export function describeResource(resource: Resource): INodeProperties[] {
  const options: INodePropertyOptions[] = resource.operations.map((op) => ({ name: op.name, value: op.value, action: op.action, description: op.description }));
  const selector: INodeProperties = {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: [resource.value] } },
    options,
    default: resource.operations[0].value,
  };
  const fields = resource.operations.flatMap((op) => [
    ...op.fields.map((f) => ({
      ...f,
      default: f.default,
      displayOptions: f.displayOptions ?? { show: { resource: [resource.value], operation: [op.value] } },
    })),
    {
      displayName: 'Options',
      name: 'options',
      type: 'collection' as const,
      placeholder: 'Add Option',
      default: {},
      displayOptions: { show: { resource: [resource.value], operation: [op.value] } },
      // Operations the operations table gives a cache lifetime take "Answer From Cache Up To".
      options: [
        ...(op.options ?? []),
        ...(OPERATIONS[op.operationId].cacheMs !== undefined ? [cacheOption(OPERATIONS[op.operationId].cacheMs ?? 0)] : []),
        op.quotaByDefault ? quotaOptionOn : quotaOptionOff,
      ].sort((a, b) => a.displayName.localeCompare(b.displayName)),
    },
  ]);
  // The tool node only (n8n shows `@tool` parameters on the <name>Tool type): its Description, one per operation, which
  // n8n gives the agent as the tool's description. Declaring it keeps n8n from adding its own, which says only the action.
  const toolDescriptions: INodeProperties[] = resource.operations.map((op) => ({
    displayName: 'Description',
    name: 'toolDescription',
    type: 'string',
    default: op.toolDescription,
    required: true,
    typeOptions: { rows: 3 },
    description: 'What the agent reads about this tool: what it returns and what it costs',
    displayOptions: { show: { '@tool': [true], resource: [resource.value], operation: [op.value] } },
  }));
  return [selector, ...toolDescriptions, ...fields];
}

/** Whether the operation reads one vehicle (it has the Vehicle field). */
export function readsVehicle(operation: Operation): boolean {
  return operation.fields.some((f) => f.name === 'vin');
}

/** The VIN of the item, from the resource locator (list or typed); empty means every vehicle of the account. */
export function vinOf(ctx: IExecuteFunctions, itemIndex: number): string {
  return String(ctx.getNodeParameter('vin', itemIndex, '', { extractValue: true }) ?? '').trim();
}

export function optionsOf(ctx: IExecuteFunctions, itemIndex: number): Record<string, unknown> {
  return (ctx.getNodeParameter('options', itemIndex, {}) ?? {}) as Record<string, unknown>;
}
