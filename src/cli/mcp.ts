import { promises as fs, readFileSync } from 'fs';
import * as path from 'path';
import type { Readable, Writable } from 'stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  CacheReport,
  CarDataError,
  catalogueUnit,
  checkDescriptors,
  checkVin,
  cleanUnit,
  containerNameFor,
  DEFAULT_DAILY_QUOTA,
  DEFAULT_QUOTA_RESERVE,
  descriptorWords,
  DESCRIPTOR_WORDS,
  findDescriptor,
  flattenChargingSession,
  flattenChargingSessionWithCost,
  isVin,
  machineTimeZone,
  OPERATIONS,
  pageItems,
  pageToken,
  parseVehicleNames,
  redactSecrets,
  relativeRange,
  restoreLiveDataState,
  withoutEmptyColumns,
  searchDescriptors,
  telematicValue,
  unitLabel,
  vehicleNameOf,
  type Account,
  type CarDataClient,
  type ChargingSession,
  type OperationId,
  type QuotaRecord,
  type QuotaStore,
  type ReadOptions,
  type RememberedContainers,
  type Tariff,
  type TelematicScalar,
  type VehicleBasicData,
  type VehicleRecord,
} from '../node';
import { readConfig, readTariff } from './config';

// `bmw-cardata mcp`: the car as tools for AI assistants (Model Context Protocol on standard input and output).
// Read-only: it never creates or deletes a container. Its calls count as unattended work, so the calls of the day
// kept in reserve stay for what the user types; every answer says where it came from, how old it is and what it
// cost. Standard output belongs to the protocol: everything else goes to standard error.

type Values = Record<string, string | boolean | undefined>;

export interface McpContext {
  values: Values;
  configFile: string;
  stdin: Readable;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** --max-age, when given: the longest age of a cached answer for every read. */
  maxAgeMs?: number;
  /** Opens the account of the account file (read afresh), its quota store passed through `wrapQuotaStore`. */
  openAccount: (wrapQuotaStore: (store: QuotaStore) => QuotaStore) => Promise<Account>;
  /** The containers the account file remembers now (another run may have set one up meanwhile). */
  rememberedContainers: () => Promise<RememberedContainers>;
}

/**
 * How long an answer BMW gives without a lifetime of its own (telematic values, the charging history) serves the
 * assistant, which often asks the same again within a conversation. Vehicles keep their own day.
 */
export const MCP_FRESH_MS = 10 * 60_000;

/** What vehicle_state reads when not told: the values people ask for most (state of charge, range, plug, ...). */
export const STATE_DESCRIPTORS: readonly string[] = [
  'vehicle.drivetrain.batteryManagement.header',
  'vehicle.drivetrain.electricEngine.kombiRemainingElectricRange',
  'vehicle.drivetrain.totalRemainingRange',
  'vehicle.vehicle.travelledDistance',
  'vehicle.drivetrain.electricEngine.charging.status',
  'vehicle.body.chargingPort.status',
  'vehicle.powertrain.electric.battery.stateOfCharge.target',
  'vehicle.cabin.door.lock.status',
  'vehicle.cabin.infotainment.navigation.currentLocation.latitude',
  'vehicle.cabin.infotainment.navigation.currentLocation.longitude',
  'vehicle.drivetrain.fuelSystem.level',
];

/** The named ranges of charging_sessions, as the assistant says them, and core's range ids. */
const RANGES = {
  'last 24 hours': 'last24h',
  'last 7 days': 'last7d',
  'last 30 days': 'last30d',
  'this month': 'thisMonth',
  'last month': 'lastMonth',
} as const;
type RangeName = keyof typeof RANGES;
const RANGE_NAMES = Object.keys(RANGES) as [RangeName, ...RangeName[]];

const DEFAULT_SESSIONS = 50;
const MAX_SESSIONS = 500;

/** A quota store that counts the units this process spent (taken minus given back), for the cost of each answer. */
class SpendCounter implements QuotaStore {
  spent = 0;
  constructor(private readonly inner: QuotaStore) {}

  load(accountId: string): Promise<QuotaRecord | undefined> {
    return this.inner.load(accountId);
  }

  async update(accountId: string, change: (current: QuotaRecord | undefined) => QuotaRecord | undefined): Promise<QuotaRecord | undefined> {
    let delta = 0;
    const record = await this.inner.update(accountId, (current) => {
      const next = change(current);
      // BMW saying the day is spent (CU-429) is no spending of ours: the call it answered was counted already.
      delta = next && !next.exhausted ? next.used - (current && current.day === next.day ? current.used : 0) : 0;
      return next;
    });
    this.spent += delta;
    return record;
  }
}

/** What an answer cost and what is left, as every answer states it. */
interface Cost {
  calls: number;
  usedToday?: number;
  limit?: number;
  leftToday?: number;
  /** Calls the assistant may still spend today: the reserve is kept for what the user types. */
  leftForAssistant?: number;
  reserve?: number;
  resetsAt?: string;
}

/** Where an answer came from and how old it is. */
interface Origin {
  source: 'BMW' | 'cache' | 'live' | 'catalogue' | 'quota ledger';
  age: string;
  ageSeconds?: number;
}

/** A duration as people read it: 45 s, 12 min, 3 h 5 min, 2 d 4 h. */
export function durationText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

function originOf(report: CacheReport, now: number): Origin {
  const summary = report.summary(now);
  if (summary?.fromCache)
    return { source: 'cache', age: `${durationText((summary.cacheAgeSeconds ?? 0) * 1000)} old`, ageSeconds: summary.cacheAgeSeconds ?? 0 };
  return { source: 'BMW', age: 'just now', ageSeconds: 0 };
}

/** The reserve refusal as the assistant's user needs it (core's hint speaks of the nodes' setting). */
const RESERVE_HINT =
  'The assistant counts as unattended work: the last calls of the day are kept for the commands you type (bmw-cardata ...). ' +
  'Answers already in the cache still cost nothing; the budget resets at midnight UTC.';

function toolText(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 1) }] };
}

function costLine(cost: Cost): string {
  const calls = `${cost.calls} call${cost.calls === 1 ? '' : 's'}`;
  if (cost.usedToday === undefined) return `cost: ${calls}`;
  return `cost: ${calls} (${cost.usedToday} of ${cost.limit} used today; ${cost.leftForAssistant} left for the assistant, ${cost.reserve} kept in reserve; resets ${cost.resetsAt})`;
}

/** A failed tool call: core's words (message and hint) and the cost; never a stack, never a secret. */
function toolError(e: unknown, cost: Cost): CallToolResult {
  let text: string;
  if (e instanceof CarDataError) {
    const hint = e.kind === 'quota' && e.exveErrorId === undefined ? RESERVE_HINT : e.hint;
    text = `${e.message}${hint ? `\nhint: ${hint}` : ''}`;
  } else {
    text = `bmw-cardata: ${redactSecrets(e instanceof Error ? e.message : String(e))}`;
  }
  return { isError: true, content: [{ type: 'text', text: `${text}\n${costLine(cost)}` }] };
}

function notice(message: string, hint: string): CarDataError {
  return new CarDataError({ kind: 'input', message, hint });
}

/** The bridge's saved state (see bridge.ts): the live data of each car, and the model names it learnt. */
interface SavedLive {
  vehicles: Record<string, VehicleRecord>;
  models: Record<string, string>;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The newest reading time of a car's saved live data (epoch ms), or undefined when it holds none. */
function newestReading(record: VehicleRecord): number | undefined {
  let newest: number | undefined;
  for (const v of Object.values(record.values)) {
    const t = Date.parse(v.timestamp);
    if (Number.isFinite(t) && (newest === undefined || t > newest)) newest = t;
  }
  return newest;
}

/** A flat session row without its empty columns: what the assistant reads, in fewer words. */
function compactRow(session: ChargingSession, tariff?: Tariff): Record<string, string | number | boolean> {
  return withoutEmptyColumns(tariff ? flattenChargingSessionWithCost(session, tariff) : flattenChargingSession(session)) as Record<
    string,
    string | number | boolean
  >;
}

/** Runs the MCP server on standard input and output until the client closes it (or SIGTERM, SIGINT). */
export async function runMcp(ctx: McpContext): Promise<void> {
  const names = parseVehicleNames(typeof ctx.values.names === 'string' ? ctx.values.names : undefined);
  for (const problem of names.problems) ctx.stderr.write(`bmw-cardata mcp: --names: cannot read "${problem}" (use VIN=name, separated by commas)\n`);
  const stateFile = typeof ctx.values.state === 'string' ? ctx.values.state : path.join(path.dirname(ctx.configFile), 'bridge-state.json');
  const now = (): number => Date.now();

  let account: Account | undefined;
  let counter: SpendCounter | undefined;
  /** The account, opened on the first call that needs it (a login made after the start counts). */
  const open = async (): Promise<{ client: CarDataClient; account: Account }> => {
    account ??= await ctx.openAccount((store) => (counter = new SpendCounter(store)));
    // The assistant's calls are unattended: they never spend the reserve.
    return { client: account.client.forRun({ attended: false }), account };
  };
  const quotaFigures = async (): Promise<Omit<Cost, 'calls'>> => {
    if (!account) return {};
    const q = await account.client.quotaState();
    if (!q) return {};
    const reserve = account.quota.reserve;
    return {
      usedToday: q.used,
      limit: q.limit,
      leftToday: q.remaining,
      leftForAssistant: Math.max(0, q.limit - reserve - q.used),
      reserve,
      resetsAt: q.resetsAt,
    };
  };

  /** A read's cache rule: --max-age when given, else the operation's own lifetime, else the assistant's. */
  const readFor = (operation: OperationId, report: CacheReport): ReadOptions => ({
    maxAgeMs: ctx.maxAgeMs ?? (OPERATIONS[operation].cacheMs || MCP_FRESH_MS),
    report,
  });

  // One tool call at a time: what each spent is counted exactly, and a question asked twice at once is answered
  // by BMW once and by the cache the second time.
  let queue: Promise<unknown> = Promise.resolve();
  const serve = <A>(work: (args: A) => Promise<Record<string, unknown>>) => {
    return (args: A): Promise<CallToolResult> => {
      const run = async (): Promise<CallToolResult> => {
        const before = counter?.spent ?? 0;
        const spent = (): number => (counter?.spent ?? 0) - before;
        try {
          const answer = await work(args);
          return toolText({ ...answer, cost: { calls: spent(), ...(await quotaFigures().catch(() => ({}))) } });
        } catch (e) {
          const figures = await quotaFigures().catch(() => ({}));
          return toolError(e, { calls: spent(), ...figures });
        }
      };
      const next = queue.then(run, run);
      queue = next;
      return next;
    };
  };

  /** The bridge's saved live data, read afresh each time (the bridge may be running); undefined when there is none. */
  const readLive = async (): Promise<SavedLive | undefined> => {
    let text: string;
    try {
      text = await fs.readFile(stateFile, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const saved = JSON.parse(text) as { live?: unknown; vehicles?: Record<string, { model?: unknown }> };
      const models: Record<string, string> = {};
      for (const [vin, v] of Object.entries(saved.vehicles ?? {})) if (typeof v?.model === 'string' && v.model) models[vin] = v.model;
      return { vehicles: restoreLiveDataState(saved.live).vehicles, models };
    } catch (e) {
      ctx.stderr.write(`bmw-cardata mcp: ignoring ${stateFile}: ${(e as Error).message}\n`);
      return undefined;
    }
  };

  /**
   * Named ranges, resolved once per freshness window: "last 7 days" asked again a minute later is the same range,
   * which the cache can answer (the answer says how old it is and which range it covers).
   */
  const ranges = new Map<string, { range: { from: string; to: string }; at: number }>();
  const namedRange = (name: RangeName, zone: string): { from: string; to: string } => {
    const key = `${name}|${zone}`;
    const kept = ranges.get(key);
    const fresh = ctx.maxAgeMs ?? MCP_FRESH_MS;
    if (kept && now() - kept.at < fresh) return kept.range;
    const range = relativeRange(RANGES[name], { timeZone: zone });
    ranges.set(key, { range, at: now() });
    return range;
  };

  /** Descriptor sets whose container the account was found not to have, until when (a lookup costs a call). */
  const noContainer = new Map<string, number>();

  const server = new McpServer(
    { name: 'bmw-cardata', version: packageVersion() },
    {
      instructions:
        `Reads the user's BMW through the BMW CarData API: ${DEFAULT_DAILY_QUOTA} calls a day per account, of which the last ${DEFAULT_QUOTA_RESERVE} are kept for what the user types. ` +
        'Every answer says its source (live, cache, BMW), its age and its cost. Prefer what costs nothing: quota and search_descriptors never call BMW, ' +
        'vehicle_state answers from the live data of the bridge when there is some, and a question asked again soon is answered from the cache.',
    },
  );
  /**
   * Registers a tool whose arguments the SDK checks against `inputSchema` (zod) before `work` sees them. Typed
   * loosely on purpose: the SDK's inferred types of zod shapes are too deep for the compiler.
   */
  const tool = <A>(
    name: string,
    config: { title: string; description: string; inputSchema?: Record<string, z.ZodTypeAny>; annotations: Record<string, boolean> },
    work: (args: A) => Promise<Record<string, unknown>>,
  ): void => {
    const register = server.registerTool.bind(server) as unknown as (name: string, config: unknown, callback: (args: A) => Promise<CallToolResult>) => void;
    register(name, config, serve(work));
  };
  const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };
  const vinInput = z.string().describe('The VIN (17 letters and digits), as list_vehicles gives it');

  tool<Record<string, never>>(
    'list_vehicles',
    {
      title: 'List vehicles',
      description:
        'The vehicles mapped to the BMW account, with their names. BMW serves data only for those mapped as PRIMARY. 1 call, then none for a day (cached).',
      annotations: readOnly,
    },
    async () => {
      const { client } = await open();
      const report = new CacheReport();
      const list = await client.getMappings(readFor('getMappings', report));
      const live = await readLive();
      const models: Record<string, string> = { ...live?.models };
      for (const m of list) {
        // A model name from basic data read before, at any age: it costs nothing.
        if (typeof m.vin !== 'string' || !isVin(m.vin)) continue;
        const model = (client.keptAnswer('getBasicData', { vin: m.vin })?.body as VehicleBasicData | undefined)?.modelName;
        if (typeof model === 'string' && model) models[m.vin] = model;
      }
      return {
        ...originOf(report, now()),
        vehicles: list.map((m) => ({
          vin: m.vin,
          name: typeof m.vin === 'string' ? vehicleNameOf(m.vin, { names: names.names, models }) : undefined,
          mappingType: m.mappingType,
          primary: !m.mappingType || m.mappingType === 'PRIMARY',
          mappedSince: m.mappedSince,
        })),
      };
    },
  );

  tool<{ vin: string; descriptors?: string[]; source?: 'auto' | 'live' | 'bmw' }>(
    'vehicle_state',
    {
      title: 'Vehicle state',
      description:
        'Current values of a car (state of charge, range, odometer, plug, charging, locks, location, fuel; or the descriptors asked for). ' +
        'From the live data the bridge (bmw-cardata bridge) saves, at no cost, when there is some; else from BMW through a container the account already has ' +
        '(1 call; the cache answers again for 10 minutes). Never creates a container: `bmw-cardata telematics` sets one up.',
      inputSchema: {
        vin: vinInput,
        descriptors: z.array(z.string()).optional().describe('Catalogue keys (find them with search_descriptors); default: the common state values'),
        source: z.enum(['auto', 'live', 'bmw']).optional().describe('auto (default): live data when saved, else BMW; live: only live data; bmw: only BMW'),
      },
      annotations: readOnly,
    },
    async ({ vin: given, descriptors, source = 'auto' }) => {
      const vin = checkVin(given).toUpperCase();
      const ids = checkDescriptors(descriptors && descriptors.length > 0 ? descriptors : [...STATE_DESCRIPTORS]);
      if (source !== 'bmw') {
        const record = (await readLive())?.vehicles[vin];
        const held = record ? ids.filter((id) => record.values[id]) : [];
        if (record && held.length > 0) {
          const newest = newestReading(record);
          return {
            source: 'live',
            age: newest === undefined ? 'unknown' : `${durationText(now() - newest)} since the newest reading`,
            ...(newest === undefined ? {} : { ageSeconds: Math.max(0, Math.round((now() - newest) / 1000)) }),
            vin,
            values: held.map((id) => {
              const v = record.values[id];
              return { key: id, name: findDescriptor(id)?.name ?? id, value: v.value, unit: v.unit, at: v.timestamp };
            }),
            ...(record.charging.phase ? { chargingPhase: record.charging.phase } : {}),
            ...(held.length < ids.length ? { notInLiveData: ids.filter((id) => !record.values[id]) } : {}),
          };
        }
        if (source === 'live') {
          throw notice(
            `no live data of ${vin}${record ? ' for these descriptors' : ''} in ${stateFile}`,
            'The bridge (bmw-cardata bridge) saves the car\'s live data while it runs, at no quota; or ask with source "bmw".',
          );
        }
      }
      const { client } = await open();
      const name = containerNameFor(ids);
      const these = ids.length === 1 ? 'this descriptor' : `exactly these ${ids.length} descriptors`;
      const setUp = `Set one up once by hand: bmw-cardata telematics --vin ${vin} --descriptors ${ids.join(',')} (3 calls the first time); vehicle_state then reads it for 1 call.`;
      let containerId = client.containerCache.get(name) ?? (await ctx.rememberedContainers().catch((): RememberedContainers => ({})))[name];
      if (!containerId) {
        if ((noContainer.get(name) ?? 0) > now()) throw notice(`no container of the account holds ${these} (looked a moment ago)`, setUp);
        const match = (await client.listContainers()).find((c) => c.name === name && c.state === 'ACTIVE' && c.containerId);
        if (!match?.containerId) {
          noContainer.set(name, now() + MCP_FRESH_MS);
          throw notice(`no container of the account holds ${these}, and the assistant never creates one`, setUp);
        }
        containerId = match.containerId;
      }
      // Remembered in the account file too: the next start costs no lookup.
      client.containerCache.set(name, containerId);
      const report = new CacheReport();
      let data;
      try {
        data = await client.getTelematicData(vin, containerId, readFor('getTelematicData', report));
      } catch (e) {
        if (e instanceof CarDataError && e.exveErrorId === 'CU-105') {
          client.containerCache.delete(name);
          throw new CarDataError({
            kind: 'bmw',
            exveErrorId: e.exveErrorId,
            message: `${e.message} (the container of these descriptors is gone)`,
            hint: setUp,
          });
        }
        throw e;
      }
      const values: { key: string; name: string; value: TelematicScalar; unit: string | null; at: string | null }[] = [];
      const notReported: string[] = [];
      for (const [key, entry] of Object.entries(data.telematicData ?? {})) {
        const value = telematicValue(key, entry?.value);
        if (value === null || value === '') notReported.push(key);
        else
          values.push({ key, name: findDescriptor(key)?.name ?? key, value, unit: cleanUnit(entry?.unit) ?? catalogueUnit(key), at: entry?.timestamp ?? null });
      }
      return { ...originOf(report, now()), vin, values, ...(notReported.length ? { notReported } : {}) };
    },
  );

  tool<{ vin: string; range?: RangeName; from?: string; to?: string; time_zone?: string; limit?: number }>(
    'charging_sessions',
    {
      title: 'Charging sessions',
      description:
        `A car's charging sessions of a range, newest first, as flat rows (energy in kWh, state of charge in %, minutes, place, cost). ` +
        `BMW's own cost is cost and currency; with a tariff in the account file, tariffCost, tariffCurrency, tariffKwh and tariffMethod are the user's tariff applied to the session, never mixed with BMW's. ` +
        `Give range, or from and to. 1 call per page of sessions; the same question within 10 minutes is answered from the cache.`,
      inputSchema: {
        vin: vinInput,
        range: z.enum(RANGE_NAMES).optional().describe('A named range; months start in time_zone'),
        from: z.string().optional().describe('Start, ISO 8601 date or date-time (2026-01-01, 2026-01-31T18:00:00Z); with to'),
        to: z.string().optional().describe('End, ISO 8601 date or date-time; with from'),
        time_zone: z.string().optional().describe("IANA time zone of the named months (default this machine's)"),
        limit: z
          .number()
          .int()
          .min(1)
          .max(MAX_SESSIONS)
          .optional()
          .describe(`At most this many sessions, the newest (default ${DEFAULT_SESSIONS}): fewer pages, fewer calls`),
      },
      annotations: readOnly,
    },
    async (args) => {
      const vin = checkVin(args.vin).toUpperCase();
      const zone = args.time_zone || machineTimeZone();
      let range: { from: string; to: string };
      if (args.range) {
        if (args.from || args.to) throw notice('give either range or from and to, not both', `Named ranges: ${RANGE_NAMES.join(', ')}.`);
        range = namedRange(args.range, zone);
      } else if (args.from && args.to) range = { from: args.from, to: args.to };
      else throw notice('give range, or from and to', `Named ranges: ${RANGE_NAMES.join(', ')}; dates as 2026-01-31 or 2026-01-31T18:00:00Z.`);
      const limit = args.limit ?? DEFAULT_SESSIONS;
      // The account file's tariff prices the rows (our cost in columns of its own, beside BMW's); read before any call.
      const tariff = readTariff((await readConfig(ctx.configFile)).tariff, `the "tariff" of ${ctx.configFile}`);
      const { client } = await open();
      const report = new CacheReport();
      const sessions: ChargingSession[] = [];
      let unread = false;
      const spec = OPERATIONS.getChargingHistory;
      for await (const page of client.paginate('getChargingHistory', { vin, ...range }, { limit, ...readFor('getChargingHistory', report) }).pages()) {
        sessions.push(...pageItems<ChargingSession>(page, spec).filter((s) => typeof s === 'object' && s !== null));
        unread = pageToken(page, spec) !== undefined;
      }
      const shown = sessions.slice(0, limit);
      const rows = shown.map((s) => compactRow(s, tariff));
      const sum = (column: 'energyFromGridKwh' | 'chargingMinutes' | 'tariffCost'): number =>
        Math.round(rows.reduce((t, r) => t + (typeof r[column] === 'number' ? (r[column] as number) : 0), 0) * 1000) / 1000;
      const more =
        sessions.length > limit
          ? 'more sessions of the range exist'
          : unread && shown.length >= limit
            ? 'more sessions of the range may exist (the next page was not read)'
            : undefined;
      return {
        ...originOf(report, now()),
        vin,
        range: { ...range, ...(args.range ? { name: args.range, timeZone: zone } : {}) },
        count: rows.length,
        totals: {
          energyFromGridKwh: sum('energyFromGridKwh'),
          chargingMinutes: sum('chargingMinutes'),
          ...(tariff ? { tariffCost: sum('tariffCost'), tariffCurrency: tariff.currency } : {}),
        },
        ...(more ? { note: `Showing the newest ${limit}; ${more}. Narrow the range, or raise limit (up to ${MAX_SESSIONS}; each page is a call).` } : {}),
        sessions: rows,
      };
    },
  );

  tool<Record<string, never>>(
    'quota',
    {
      title: 'Quota',
      description: "Calls to BMW used and left today for this account, the reserve kept for the user's own commands, and when the count resets. No call.",
      annotations: { ...readOnly, openWorldHint: false },
    },
    async () => {
      const { account: opened } = await open();
      const q = await opened.client.quotaState();
      if (!q) throw notice('no quota figures for this account', 'Run: bmw-cardata quota');
      const reserve = opened.quota.reserve;
      return {
        source: 'quota ledger',
        age: 'now',
        usedToday: q.used,
        limit: q.limit,
        leftToday: q.remaining,
        reserve,
        leftForAssistant: Math.max(0, q.limit - reserve - q.used),
        resetsAt: q.resetsAt,
        resetsIn: durationText(Date.parse(q.resetsAt) - now()),
        note: `Counted on this machine for every use of this account (commands, bridge, this server). The last ${reserve} calls of the day are kept for the commands you type.`,
      };
    },
  );

  tool<{ text: string; limit?: number }>(
    'search_descriptors',
    {
      title: 'Search descriptors',
      description:
        "Searches BMW's catalogue of telematic values (the keys vehicle_state reads) by key, name, description and the words people use in English and German " +
        '("state of charge", "range", "odometer", "Ladestand", "Reifendruck"), best match first. No call.',
      inputSchema: {
        text: z.string().describe('What to look for'),
        limit: z.number().int().min(1).max(100).optional().describe('At most this many matches (default 10)'),
      },
      annotations: { ...readOnly, openWorldHint: false },
    },
    async ({ text, limit = 10 }) => {
      const found = searchDescriptors(text);
      return {
        source: 'catalogue',
        age: 'bundled with this version',
        count: found.length,
        results: found.slice(0, limit).map((d) => ({
          key: d.id,
          name: d.name,
          unit: unitLabel(d.unit),
          category: d.category,
          streamable: d.streamable,
          ...(DESCRIPTOR_WORDS[d.id] ? { words: descriptorWords(d.id).join(', ') } : {}),
          description: d.description.length > 200 ? `${d.description.slice(0, 200)}…` : d.description,
        })),
      };
    },
  );

  const transport = new StdioServerTransport(ctx.stdin, ctx.stdout as Writable);
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = resolve;
  });
  await server.connect(transport);
  ctx.stderr.write(`bmw-cardata mcp: serving the account of ${ctx.configFile} on standard input and output\n`);
  const stop = (): void => void server.close();
  ctx.stdin.once('end', stop);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await closed;
  ctx.stdin.removeListener('end', stop);
  process.removeListener('SIGTERM', stop);
  process.removeListener('SIGINT', stop);
  await queue.catch(() => undefined);
}
