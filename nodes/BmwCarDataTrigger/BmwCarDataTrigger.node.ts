import {
  type IDataObject,
  type INodeExecutionData,
  type INodeType,
  type INodeTypeDescription,
  type IPollFunctions,
  NodeConnectionTypes,
} from 'n8n-workflow';
import { flattenChargingSession } from '../../src/core/rows/flatten';
import type { ChargingHistoryPage, ChargingSession } from '../../src/core/types';
import { searchVehicles } from '../../src/n8n/vehicles';
import { openAccount } from '../../src/n8n/account';
import { vinLocator } from '../../src/n8n/descriptions';
import { toNodeError } from '../../src/n8n/errors';
import { decide, type PollState, readRange, readState, sessionKey } from './state';

export class BmwCarDataTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'BMW CarData Trigger',
    name: 'bmwCarDataTrigger',
    icon: { light: 'file:../../icons/bmwCarData.svg', dark: 'file:../../icons/bmwCarData.dark.svg' },
    group: ['trigger'],
    version: 1,
    subtitle: 'New charging session',
    description: 'Starts the workflow once for each charging session a vehicle has finished',
    defaults: { name: 'BMW CarData Trigger' },
    polling: true,
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    credentials: [{ name: 'bmwCarDataApi', required: true }],
    properties: [
      {
        displayName: 'Each poll spends one of the 50 daily CarData calls: poll every 30 minutes or less often',
        name: 'quotaNotice',
        type: 'notice',
        default: '',
      },
      { ...vinLocator('chargingHistory', ['getAll']), displayOptions: undefined },
      {
        displayName: 'Max Sessions per Poll',
        name: 'limit',
        type: 'number',
        typeOptions: { minValue: 1 },
        default: 50,
        description: 'Max number of results to return',
        hint: 'New sessions come oldest first; any beyond this number come with the next polls',
      },
      {
        displayName: 'Emit Existing Sessions on First Poll',
        name: 'emitExisting',
        type: 'boolean',
        default: false,
        description: 'Whether the first poll after activation emits the latest sessions of the past 30 days, or only remembers them',
      },
      {
        displayName: 'Output',
        name: 'output',
        type: 'options',
        default: 'flat',
        options: [
          { name: 'Flat Row', value: 'flat', description: 'Plain columns: start, end, kWh, SoC, place, cost' },
          { name: 'Raw', value: 'raw', description: 'The session as BMW sends it' },
        ],
      },
    ],
  };

  methods = { listSearch: { searchVehicles } };

  async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
    const vin = String(this.getNodeParameter('vin', '', { extractValue: true }) ?? '').trim();
    const limit = this.getNodeParameter('limit', 50) as number;
    const flat = this.getNodeParameter('output', 'flat') !== 'raw';
    const manual = this.getMode() === 'manual';
    const state = this.getWorkflowStaticData('node') as PollState & IDataObject;
    const nowS = Math.floor(Date.now() / 1000);
    const known = manual ? undefined : readState(state, vin);
    const range = readRange(known, nowS);
    let page: ChargingHistoryPage | undefined;
    try {
      const account = await openAccount(this);
      const read = account.client.paginate('getChargingHistory', { vin, from: new Date(range.from * 1000).toISOString(), to: new Date(range.to * 1000).toISOString() });
      // One page, newest first: a poll never costs more than one call.
      for await (const first of read.pages()) {
        page = first;
        break;
      }
    } catch (error) {
      throw toNodeError(this.getNode(), error);
    }
    const sessions: unknown[] = Array.isArray(page?.data) ? page.data : [];
    const toItem = (s: ChargingSession): INodeExecutionData => ({
      json: (flat ? { vin, key: sessionKey(vin, s), ...flattenChargingSession(s) } : { vin, key: sessionKey(vin, s), ...s }) as IDataObject,
    });
    if (manual) {
      // A sample for the editor: the latest finished session; what was seen is left untouched.
      const sample = decide(undefined, vin, { sessions, more: false }, range, { limit: 1, emitExisting: true }).emit;
      return sample.length ? [sample.map(toItem)] : null;
    }
    const { emit, next } = decide(known, vin, { sessions, more: Boolean(page?.next_token ?? page?.nextToken) }, range, {
      limit,
      emitExisting: this.getNodeParameter('emitExisting', false) === true,
    });
    for (const key of Object.keys(state)) delete state[key];
    Object.assign(state, next);
    return emit.length ? [emit.map(toItem)] : null;
  }
}
