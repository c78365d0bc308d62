import {
  type IDataObject,
  type INodeExecutionData,
  type INodeType,
  type INodeTypeDescription,
  type IPollFunctions,
  NodeConnectionTypes,
} from 'n8n-workflow';
import { flattenChargingSession } from '../../src/core/flatten';
import type { ChargingSession } from '../../src/core/types';
import { searchVehicles } from '../BmwCarData/methods/vehicles';
import { openAccount } from '../BmwCarData/shared/account';
import { vinLocator } from '../BmwCarData/shared/descriptions';
import { toNodeError } from '../BmwCarData/shared/errors';
import { newSessions, type PollState, sessionKey } from './state';

const DAY_S = 24 * 60 * 60;

export class BmwCarDataTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'BMW CarData Trigger',
    name: 'bmwCarDataTrigger',
    icon: { light: 'file:../../icons/bmwCarData.svg', dark: 'file:../../icons/bmwCarData.dark.svg' },
    group: ['trigger'],
    version: 1,
    subtitle: 'New charging session',
    description: 'Starts the workflow when a vehicle has finished a new charging session',
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
        hint: 'The newest sessions of one page of history: a poll reads one page',
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
    // BMW's times are epoch seconds; milliseconds are read too. An hour of overlap, the seen keys filter it.
    const mark = typeof state.highWater === 'number' ? (state.highWater > 1e12 ? Math.floor(state.highWater / 1000) : state.highWater) : undefined;
    const fromS = !manual && mark !== undefined ? Math.min(mark - 3600, nowS - 60) : nowS - 30 * DAY_S;
    let sessions: ChargingSession[];
    try {
      const account = await openAccount(this);
      // One page, newest first: a poll never costs more than one call.
      const page = await account.client.getChargingHistoryPage(vin, { from: new Date(fromS * 1000).toISOString(), to: new Date(nowS * 1000).toISOString() });
      sessions = (page.data ?? []).slice(0, Math.max(1, limit));
    } catch (error) {
      throw toNodeError(this.getNode(), error);
    }
    const toItem = (s: ChargingSession): INodeExecutionData => ({
      json: (flat ? { vin, key: sessionKey(s), ...flattenChargingSession(s) } : { vin, key: sessionKey(s), ...s }) as IDataObject,
    });
    if (manual) {
      // A sample for the editor: the latest session; what was seen is left untouched.
      return sessions.length ? [[toItem(sessions[0])]] : null;
    }
    const firstPoll = typeof state.highWater !== 'number';
    const { fresh, next } = newSessions(state, sessions);
    state.highWater = next.highWater;
    state.seenAtHighWater = next.seenAtHighWater;
    if (firstPoll && this.getNodeParameter('emitExisting', false) !== true) return null;
    return fresh.length ? [fresh.map(toItem)] : null;
  }
}
