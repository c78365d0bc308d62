import {
  type IDataObject,
  type IExecuteFunctions,
  type INodeExecutionData,
  type INodeType,
  type INodeTypeDescription,
  NodeConnectionTypes,
  NodeOperationError,
} from 'n8n-workflow';
import { getDescriptors } from '../../src/n8n/descriptors';
import { primaryVehicles, searchVehicles, vehicleName } from '../../src/n8n/vehicles';
import { findOperation, RESOURCES } from './resources';
import { type N8nAccount, openAccount } from '../../src/n8n/workflow-account';
import { errorJson, toNodeError } from '../../src/n8n/errors';
import { CacheReport, parseMaxAge } from '../../src/core/api/answer-cache';
import { describeResource, optionsOf, readsVehicle, vinOf } from '../../src/n8n/operation';
import { NODE_DESCRIPTION } from '../../src/n8n/node-parameters';
import { outputOf, runsAsTool } from '../../src/n8n/output';

export class BmwCarData implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'BMW CarData',
    name: 'bmwCarData',
    icon: { light: 'file:../../icons/bmwCarData.svg', dark: 'file:../../icons/bmwCarData.dark.svg' },
    group: ['input'],
    version: 1,
    subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
    description: NODE_DESCRIPTION,
    defaults: { name: 'BMW CarData' },
    usableAsTool: true,
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    credentials: [{ name: 'bmwCarDataApi', required: true }],
    properties: [
      {
        displayName: 'Resource',
        name: 'resource',
        type: 'options',
        noDataExpression: true,
        options: RESOURCES.map((r) => ({ name: r.name, value: r.value })),
        default: 'vehicle',
      },
      ...RESOURCES.flatMap(describeResource),
    ],
  };

  methods = {
    loadOptions: { getDescriptors },
    listSearch: { searchVehicles },
  };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    const items = this.getInputData();
    const out: INodeExecutionData[] = [];
    let account: N8nAccount | undefined;
    for (let i = 0; i < items.length; i++) {
      try {
        const resource = this.getNodeParameter('resource', i) as string;
        const operationName = this.getNodeParameter('operation', i) as string;
        const operation = findOperation(resource, operationName);
        if (!operation) throw new NodeOperationError(this.getNode(), `The operation "${operationName}" is not known for "${resource}"`, { itemIndex: i });
        if (operation.toolAnswer && runsAsTool(this)) {
          out.push({ json: { ...operation.toolAnswer }, pairedItem: { item: i } });
          continue;
        }
        const maxAgeMs = parseMaxAge(optionsOf(this, i).cacheMaxAge);
        account ??= await openAccount(this);
        const includeQuota = (optionsOf(this, i).includeQuota as boolean | undefined) ?? operation.quotaByDefault;
        // Simplified says the quota once, on the last item of each answer, not on every session: fewer words for a model.
        const quotaOnce = outputOf(this, i, 'raw') === 'simple';
        const withQuota = (json: IDataObject, quota: IDataObject | undefined, last: boolean): IDataObject =>
          quota && (last || !quotaOnce) ? { ...json, _quota: quota } : json;
        // Beside the quota figures: whether the answers came from the cache (they cost no call) and their age.
        const quotaOf = async (report: CacheReport): Promise<IDataObject | undefined> => {
          const state = includeQuota ? await account?.quota() : undefined;
          return state ? ({ ...state, ...report.summary() } as IDataObject) : undefined;
        };
        if (!readsVehicle(operation)) {
          const report = new CacheReport();
          const results = await operation.execute.call(this, account, i, '', { maxAgeMs, report });
          const quota = await quotaOf(report);
          results.forEach((result, n) => out.push({ ...result, json: withQuota(result.json, quota, n === results.length - 1), pairedItem: { item: i } }));
          continue;
        }
        // No vehicle picked: every vehicle mapped as PRIMARY user, one call each, each item with its VIN and name.
        const given = vinOf(this, i);
        const vins = given ? [given] : await primaryVehicles(account);
        if (vins.length === 0)
          throw new NodeOperationError(this.getNode(), 'The account has no vehicle mapped as PRIMARY user', {
            itemIndex: i,
            description: 'Map the vehicle to your BMW ID as primary user in the My BMW app.',
          });
        for (const vin of vins) {
          const report = new CacheReport();
          const results = await operation.execute.call(this, account, i, vin, { maxAgeMs, report });
          const quota = await quotaOf(report);
          const named = { vin, vehicleName: vehicleName(account, vin) };
          results.forEach((result, n) =>
            out.push({ ...result, json: withQuota({ ...result.json, ...named }, quota, n === results.length - 1), pairedItem: { item: i } }),
          );
        }
      } catch (error) {
        if (this.continueOnFail()) {
          const quota = account ? ((await account.quota()) as IDataObject | undefined) : undefined;
          out.push({ json: { ...errorJson(error), ...(quota ? { _quota: quota } : {}) }, pairedItem: { item: i } });
          continue;
        }
        throw toNodeError(this.getNode(), error, i);
      }
    }
    return [out];
  }
}
