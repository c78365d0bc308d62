import {
  type IDataObject,
  type INodeExecutionData,
  type INodeType,
  type INodeTypeDescription,
  type IPollFunctions,
  NodeConnectionTypes,
  NodeOperationError,
} from 'n8n-workflow';
import { CarDataError } from '../../src/core/errors';
import { flattenChargingSession, flattenChargingSessionWithCost } from '../../src/core/rows/flatten';
import type { ChargingHistoryPage, ChargingSession } from '../../src/core/types';
import { primaryVehicles, searchVehicles, vehicleName } from '../../src/n8n/vehicles';
import { type N8nAccount, openAccount } from '../../src/n8n/workflow-account';
import { TRIGGER_DESCRIPTION, vinLocator } from '../../src/n8n/node-parameters';
import { toNodeError } from '../../src/n8n/errors';
import { afterCarCheck, anyBusy, carsOf, knownOf, pickCar } from './cars';
import { afterCheck, DEFAULT_SPACING_MIN, MIN_SPACING_MIN, plan, readPacing, spacingMinutes } from './pacing';
import { type CarState, chargeInProgress, decide, type Known, type PollState, readRange, readState, sessionKey } from './state';

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
          "Leave n8n's Poll Times as they are: the trigger asks BMW at most as often as set below, and the polls in between cost nothing (each check spends one of the 50 daily CarData calls). A finished charge comes within 2 hours by day at the default, within 30 minutes of its end when BMW listed it in progress before, and by 6:00 when it ends at night. With no vehicle set, each check reads one car, in turn, so a day costs the same: with N cars a finished charge comes within N times 2 hours by day, a charge in progress is still followed every 30 minutes or so, and one that ends at night comes by 6:00 plus (N − 1) times 2 hours; the list of cars costs a call a day. Fetch Test Event always asks BMW; with no vehicle set, once per car until one has a finished charge.",
        name: 'quotaNotice',
        type: 'notice',
        default: '',
      },
      {
        ...vinLocator('chargingHistory', ['getAll']),
        description:
          'The vehicle, one of those mapped to the BMW account as primary user. Empty: every one of them, checked in turn, each item with its VIN and vehicleName.',
        displayOptions: undefined,
      },
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
        description:
          "Whether the first poll after activation emits the latest sessions of the past 30 days, or only remembers them (with no vehicle set: each car's first check)",
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
    const given = String(this.getNodeParameter('vin', '', { extractValue: true }) ?? '').trim();
    const limit = this.getNodeParameter('limit', 50) as number;
    const flat = this.getNodeParameter('output', 'flat') !== 'raw';
    const manual = this.getMode() === 'manual';
    const state = this.getWorkflowStaticData('node') as PollState & IDataObject;
    const now = Date.now();
    const nowS = Math.floor(now / 1000);
    const toItem = (account: N8nAccount, vin: string, s: ChargingSession): INodeExecutionData => {
      const named = { vin, vehicleName: vehicleName(account, vin), key: sessionKey(vin, s) };
      const tariff = flat ? account.tariff() : undefined;
      const row = tariff ? flattenChargingSessionWithCost(s, tariff) : flattenChargingSession(s);
      return { json: (flat ? { ...named, ...row } : { ...named, ...s }) as IDataObject };
    };
    if (manual) {
      // A sample for the editor: the latest finished session of the first car that has one; what was seen is left untouched.
      try {
        const account = await openAccount(this);
        for (const vin of given ? [given] : await vehiclesOf(this, account)) {
          const range = readRange(undefined, nowS);
          const sessions = sessionsOf(await firstPage(account, vin, range));
          const sample = decide(undefined, vin, { sessions, more: false }, range, { limit: 1, emitExisting: true }).emit;
          if (sample.length) return [sample.map((s) => toItem(account, vin, s))];
        }
        return null;
      } catch (error) {
        throw toNodeError(this.getNode(), error);
      }
    }
    // A poll asks BMW when its time has come (the first one at once).
    const last = readPacing(state.pacing);
    const spacing = spacingMinutes(this.getNodeParameter('checkEvery', DEFAULT_SPACING_MIN));
    const planned = plan(last, now, spacing, this.getTimezone());
    if (!planned.check) return null;
    let vin = given;
    // With no VIN set: every car's state, and the check reads the car whose turn it is.
    let cars: Record<string, CarState> | undefined;
    let known: Known | undefined;
    let range: { from: number; to: number };
    let account: N8nAccount;
    let page: ChargingHistoryPage | undefined;
    try {
      account = await openAccount(this);
      if (!given) {
        const vins = await vehiclesOf(this, account);
        cars = carsOf(state, vins, nowS);
        vin = pickCar(cars, vins, spacing, planned.closer);
      }
      known = cars ? knownOf(cars[vin]) : readState(state, vin);
      range = readRange(known, nowS);
      page = await firstPage(account, vin, range);
    } catch (error) {
      // A failed check waits its turn too (a car's turn passes to the next); one the quota refused waits for the reset.
      const refusedFor = error instanceof CarDataError && error.kind === 'quota' ? error.retryAfterMs : undefined;
      const pacing = afterCheck(last, now, planned, last?.busy ?? false, refusedFor) as unknown as IDataObject;
      replace(state, cars ? { ...afterCarCheck(cars, vin, now), pacing } : { ...state, pacing });
      throw toNodeError(this.getNode(), error);
    }
    const sessions = sessionsOf(page);
    const { emit, next, pending } = decide(known, vin, { sessions, more: Boolean(page?.next_token ?? page?.nextToken) }, range, {
      limit,
      emitExisting: this.getNodeParameter('emitExisting', false) === true,
      since: cars?.[vin].since,
    });
    const busy = pending || chargeInProgress(sessions, nowS);
    const kept = cars ? afterCarCheck(cars, vin, now, { next, busy }) : next;
    kept.pacing = afterCheck(last, now, planned, cars ? anyBusy(kept.cars) : busy);
    replace(state, kept);
    return emit.length ? [emit.map((s) => toItem(account, vin, s))] : null;
  }
}

/** The VINs mapped to the account as PRIMARY user (from the day-long cache of the vehicle list). */
async function vehiclesOf(ctx: IPollFunctions, account: N8nAccount): Promise<string[]> {
  const vins = await primaryVehicles(account);
  if (vins.length === 0)
    throw new NodeOperationError(ctx.getNode(), 'The account has no vehicle mapped as PRIMARY user', {
      description: 'Map the vehicle to your BMW ID as primary user in the My BMW app, or set the VIN.',
    });
  return vins;
}

/** The first page of the car's history in the range, newest first: a check never costs more than one call. */
async function firstPage(account: N8nAccount, vin: string, range: { from: number; to: number }): Promise<ChargingHistoryPage | undefined> {
  const read = account.client.paginate('getChargingHistory', {
    vin,
    from: new Date(range.from * 1000).toISOString(),
    to: new Date(range.to * 1000).toISOString(),
  });
  for await (const first of read.pages()) return first;
  return undefined;
}

function sessionsOf(page: ChargingHistoryPage | undefined): unknown[] {
  return Array.isArray(page?.data) ? page.data : [];
}

/** Replaces the static data's content (n8n saves the object it handed out). */
function replace(state: IDataObject, kept: object): void {
  for (const key of Object.keys(state)) delete state[key];
  Object.assign(state, kept);
}
