import { createHash } from 'crypto';
import { type IDataObject, sleep } from 'n8n-workflow';
import { accountKey } from '../core/api/account';
import { AnswerCache } from '../core/api/answer-cache';
import { CarDataClient } from '../core/api/client';
import { parseVehicleNames } from '../core/api/vehicle-names';
import { QuotaLedger, quotaReserve, type QuotaChange, type QuotaRecord, type QuotaState, type QuotaStore } from '../core/api/quota';
import { CREDENTIAL_TYPE, N8nTransport, type RequestContext } from './transport';
import type { Tariff } from '../core/tariff';
import { credentialTariff } from './tariff';

// Counts of every workflow in this n8n process, so two workflows using one BMW account share one budget.
const processCounts = new Map<string, QuotaRecord>();

// Containers found by the executions of this n8n process, per account. In queue mode a new execution starts
// without the workflow's static data (n8n 2.41), so this is what keeps a managed telematic read at one call.
const processContainers = new Map<string, Record<string, string>>();

function later(a: QuotaRecord | undefined, b: QuotaRecord | undefined): QuotaRecord | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.day !== b.day) return a.day > b.day ? a : b;
  return a.used >= b.used ? a : b;
}

// BMW's answers that stay the same for a while (basic data, image, vehicle list, ...), per account and API base URL,
// shared by every workflow of this n8n process. n8n gives a community node no private storage of its own: no files,
// and static data leaves n8n with every exported workflow (these answers hold the VIN and charging locations), so
// the cache lives in the process and a restart asks BMW once again.
const processAnswers = new Map<string, AnswerCache>();

/** Static data leaves n8n with exported workflows, so the account appears there only as a hash. */
function storageKey(accountId: string): string {
  return createHash('sha256').update(accountId).digest('hex').slice(0, 16);
}

/**
 * The quota ledger's store in n8n: the process-wide count (shared by all workflows of this n8n) and the
 * workflow's static data (kept across restarts for active workflows); the higher count of today wins. BMW sends
 * no quota header, so this is the best local estimate; BMW's own CU-429 answer marks the day as spent.
 */
export class N8nQuotaStore implements QuotaStore {
  constructor(private readonly staticData: IDataObject) {}

  private saved(): Record<string, QuotaRecord> {
    const value = this.staticData.bmwCarDataQuota;
    return value && typeof value === 'object' ? (value as unknown as Record<string, QuotaRecord>) : {};
  }

  async load(accountId: string): Promise<QuotaRecord | undefined> {
    const key = storageKey(accountId);
    const record = later(processCounts.get(key), this.saved()[key]);
    return record && { ...record };
  }

  // Synchronous between the read and the write, so no other execution in this process can come in between.
  async update(accountId: string, change: QuotaChange): Promise<QuotaRecord | undefined> {
    const key = storageKey(accountId);
    const current = later(processCounts.get(key), this.saved()[key]);
    const record = change(current && { ...current });
    if (!record) return current && { ...current };
    processCounts.set(key, { ...record });
    this.staticData.bmwCarDataQuota = { ...this.saved(), [key]: { ...record } } as unknown as IDataObject;
    return { ...record };
  }
}

export interface N8nAccount {
  client: CarDataClient;
  /** Writes remembered containers back to the workflow's static data. */
  saveContainers(): void;
  quota(): Promise<QuotaState | undefined>;
  /** The user's names for the cars, from the credential's Car Names (VIN=name). */
  vehicleNames: Record<string, string>;
  /** The credential's tariff, undefined when none is set; throws an input error naming the field when it cannot be read. */
  tariff(): Tariff | undefined;
}

/**
 * Whether n8n runs this by hand: a manual execution (the editor's Execute Workflow, Execute Step and Fetch Test
 * Event buttons). Every other mode (trigger, webhook, a sub-workflow, a retry, n8n's CLI, an agent) may run without
 * anyone there and counts as unattended.
 */
export function runByHand(ctx: RequestContext): boolean {
  return ctx.getMode?.() === 'manual';
}

/**
 * A CarData client for one execution: core's client on n8n's authenticated requests, the quota ledger keyed by
 * the account's GCID with the credential's reserve, and the containers found before, by this workflow (static
 * data) or by this n8n process, so a telematic read costs one call. `attended`: the calls may spend the reserve
 * (default: the execution is a manual one).
 */
export async function openAccount(ctx: RequestContext, attended = runByHand(ctx)): Promise<N8nAccount> {
  const credentials = await ctx.getCredentials(CREDENTIAL_TYPE);
  const clientId = typeof credentials.clientId === 'string' ? credentials.clientId : '';
  const gcid = typeof credentials.gcid === 'string' && credentials.gcid ? credentials.gcid : undefined;
  const staticData = ctx.getWorkflowStaticData('global');
  const apiBaseUrl = typeof credentials.apiBaseUrl === 'string' && credentials.apiBaseUrl ? credentials.apiBaseUrl : undefined;
  const answersKey = storageKey(`${accountKey(clientId, gcid)}|${apiBaseUrl ?? ''}`);
  let answers = processAnswers.get(answersKey);
  if (!answers) processAnswers.set(answersKey, (answers = new AnswerCache()));
  const client = new CarDataClient({
    transport: new N8nTransport(ctx),
    sleep,
    apiBaseUrl,
    answers,
    quota: new QuotaLedger({ store: new N8nQuotaStore(staticData), reserve: quotaReserve(credentials.quotaReserve) }),
    accountId: accountKey(clientId, gcid),
    attended,
  });
  const accountStorageKey = storageKey(client.accountId);
  const containersKey = `bmwCarDataContainers:${accountStorageKey}`;
  const saved = staticData[containersKey];
  const remembered = { ...(saved && typeof saved === 'object' ? (saved as Record<string, unknown>) : {}), ...processContainers.get(accountStorageKey) };
  for (const [key, id] of Object.entries(remembered)) if (typeof id === 'string') client.containerCache.set(key, id);
  return {
    client,
    saveContainers() {
      const now = Object.fromEntries(client.containerCache);
      processContainers.set(accountStorageKey, now);
      const before = JSON.stringify(staticData[containersKey] ?? {});
      if (JSON.stringify(now) !== before) staticData[containersKey] = now;
    },
    quota: () => client.quotaState(),
    vehicleNames: parseVehicleNames(credentials.vehicleNames).names,
    tariff: () => credentialTariff(credentials.tariff),
  };
}
