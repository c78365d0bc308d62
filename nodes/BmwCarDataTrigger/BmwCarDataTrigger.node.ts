import {
  type IDataObject,
  type INodeExecutionData,
  type INodeType,
  type INodeTypeDescription,
  type IPollFunctions,
  NodeConnectionTypes,
} from 'n8n-workflow';
import { CarDataError } from '../../src/core/errors';
import { flattenChargingSession } from '../../src/core/flatten';
import type { ChargingHistoryPage, ChargingSession } from '../../src/core/types';
import { searchVehicles, vehicleName } from '../../src/n8n/vehicles';
import { openAccount } from '../../src/n8n/account';
import { TRIGGER_DESCRIPTION, vinLocator } from '../../src/n8n/descriptions';
import { toNodeError } from '../../src/n8n/errors';
import { afterCheck, DEFAULT_SPACING_MIN, MIN_SPACING_MIN, plan, readPacing, spacingMinutes } from './pacing';
import { chargeInProgress, decide, type PollState, readRange, readState, sessionKey } from './state';

export class BmwCarDataTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'BMW CarData Trigger',
    name: 'bmwCarDataTrigger',
    icon: { light: 'file:../../icons/bmwCarData.svg', dark: 'file:../../icons/bmwCarData.dark.svg' },
    group: ['trigger'],
    version: 1,
    subtitle: 'New charging session',
    description: TRIGGER_DESCRIPTION,
    defaults: { name: 'BMW CarData Trigger' },
    polling: true,
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    credentials: [{ name: 'bmwCarDataApi', required: true }],
    properties: [
      {
        displayName:
          "Leave n8n's Poll Times as they are: the trigger asks BMW at most as often as set below, and the polls in between cost nothing (each check spends one of the 50 daily CarData calls). A finished charge comes within 2 hours by day at the default, within 30 minutes of its end when BMW listed it in progress before, and by 6:00 when it ends at night. Fetch Test Event always asks BMW.",
        name: 'quotaNotice',
        type: 'notice',
        default: '',
      },
      { ...vinLocator('chargingHistory', ['getAll']), required: true, description: 'The vehicle, one of those mapped to the BMW account as primary user', displayOptions: undefined },
      {
        displayName: 'Check BMW at Most Every (Minutes)',
        name: 'checkEvery',
        type: 'number',
        typeOptions: { minValue: MIN_SPACING_MIN },
        default: DEFAULT_SPACING_MIN,
        description:
          "The least time between two checks of BMW's charging history, at least 30 minutes. While BMW lists a charge in progress the trigger checks four times as often (every 30 minutes at the default; at most as many extra checks a day as regular ones); from 22:00 to 6:00 in the workflow's time zone half as often, and once at 6:00. The default spends 11 to 24 calls a day.",
      },
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
    const now = Date.now();
    const nowS = Math.floor(now / 1000);
    const known = manual ? undefined : readState(state, vin);
    // A manual run always asks BMW; a poll asks when its time has come (the first one at once).
    const last = readPacing(state.pacing);
    const planned = manual ? { check: true, closer: false } : plan(last, now, spacingMinutes(this.getNodeParameter('checkEvery', DEFAULT_SPACING_MIN)), this.getTimezone());
    if (!planned.check) return null;
    const range = readRange(known, nowS);
    let page: ChargingHistoryPage | undefined;
    let name = vin;
    try {
      const account = await openAccount(this);
      name = vehicleName(account, vin);
      const read = account.client.paginate('getChargingHistory', { vin, from: new Date(range.from * 1000).toISOString(), to: new Date(range.to * 1000).toISOString() });
      // One page, newest first: a poll never costs more than one call.
      for await (const first of read.pages()) {
        page = first;
        break;
      }
    } catch (error) {
      if (!manual) {
        // A failed check waits its turn too; one the quota refused waits for the reset.
        const refusedFor = error instanceof CarDataError && error.kind === 'quota' ? error.retryAfterMs : undefined;
        state.pacing = afterCheck(last, now, planned, last?.busy ?? false, refusedFor) as unknown as IDataObject;
      }
      throw toNodeError(this.getNode(), error);
    }
    const sessions: unknown[] = Array.isArray(page?.data) ? page.data : [];
    const named = { vin, vehicleName: name };
    const toItem = (s: ChargingSession): INodeExecutionData => ({
      json: (flat ? { ...named, key: sessionKey(vin, s), ...flattenChargingSession(s) } : { ...named, key: sessionKey(vin, s), ...s }) as IDataObject,
    });
    if (manual) {
      // A sample for the editor: the latest finished session; what was seen is left untouched.
      const sample = decide(undefined, vin, { sessions, more: false }, range, { limit: 1, emitExisting: true }).emit;
      return sample.length ? [sample.map(toItem)] : null;
    }
    const { emit, next, pending } = decide(known, vin, { sessions, more: Boolean(page?.next_token ?? page?.nextToken) }, range, {
      limit,
      emitExisting: this.getNodeParameter('emitExisting', false) === true,
    });
    next.pacing = afterCheck(last, now, planned, pending || chargeInProgress(sessions, nowS));
    for (const key of Object.keys(state)) delete state[key];
    Object.assign(state, next);
    return emit.length ? [emit.map(toItem)] : null;
  }
}
