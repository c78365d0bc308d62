#!/usr/bin/env node
import { constants as fsConstants, promises as fs, readFileSync } from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import {
  AxiosTransport,
  CarDataError,
  checkLimit,
  checkRange,
  checkVin,
  createAccount,
  DEFAULT_API_BASE_URL,
  DEFAULT_AUTH_BASE_URL,
  DEFAULT_QUOTA_RESERVE,
  FileQuotaStore,
  machineTimeZone,
  checkTimeZone,
  nodeSleep,
  flattenChargingSession,
  flattenChargingSessionWithCost,
  flattenTrip,
  readTripLog,
  TRIP_LOGBOOK_COLUMNS,
  relativeRange,
  searchDescriptors,
  descriptorWords,
  unitLabel,
  startDeviceAuthorization,
  waitForDeviceAuthorization,
  cachedAnswersOf,
  parseMaxAge,
  writePrivateJson,
  type Account,
  type AnswerStore,
  type QuotaStore,
} from '../node';
import { checkTokenFile } from '../node/node-account';
import { fileError, removeLeftovers } from '../node/private-file';
import { BRIDGE_HELP, BRIDGE_OPTIONS, runBridge, tripLogFile } from './bridge';
import { defaultConfigPath, readConfig, readTariff, writeConfig, type CliConfig } from './config';
import { toCsv } from './csv';
import { MESSAGES, messagesFor, type Messages } from './messages';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, auth: 3, quota: 4, bmw: 5 } as const;

class UsageError extends Error {}

/** How many words may follow each command (containers takes list or delete). */
const POSITIONALS: Readonly<Record<string, number>> = { containers: 1 };

/** The general help: each command, what it does, and what it costs of the 50 daily calls. */
function globalHelp(m: Messages): string {
  return m.globalHelp(
    Object.entries(m.commands)
      .map(([name, [what, cost]]) => `  ${name.padEnd(19)}${what.padEnd(50)}${cost}`)
      .join('\n'),
  );
}

/** A command's help (the bridge's own stays English), or undefined for a command without one. */
function commandHelp(m: Messages, command: string): string | undefined {
  return command === 'bridge' ? BRIDGE_HELP : m.commandHelp[command];
}

const RANGES: Record<string, string> = { '24h': 'last24h', '7d': 'last7d', '30d': 'last30d', 'this-month': 'thisMonth', 'last-month': 'lastMonth' };

type Values = Record<string, string | boolean | undefined>;

function parse(argv: string[]): { command?: string; sub?: string; values: Values; extra: string[] } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      'base-url': { type: 'string' },
      'auth-url': { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      'client-id': { type: 'string' },
      print: { type: 'boolean' },
      vin: { type: 'string' },
      descriptors: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      last: { type: 'string' },
      limit: { type: 'string' },
      'time-zone': { type: 'string' },
      'container-id': { type: 'string' },
      search: { type: 'string' },
      'max-age': { type: 'string' },
      names: { type: 'string' },
      ...BRIDGE_OPTIONS,
    },
  });
  const limit = POSITIONALS[positionals[0] ?? ''] ?? 0;
  return { command: positionals[0], sub: limit > 0 ? positionals[1] : undefined, values: values as Values, extra: positionals.slice(1 + limit) };
}

/** A base URL option, checked before anything is sent: a typo is a usage error, not a network error. */
function checkUrl(m: Messages, values: Values, name: string): void {
  const value = str(values, name);
  if (value === undefined) return;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol)) throw new UsageError(m.badUrl(name, JSON.stringify(value.slice(0, 60))));
}

/** parseArgs' messages name Node's own syntax; these say what to do. */
function usageMessage(m: Messages, e: Error & { code?: string }): string {
  const option = /'([^']+)'/.exec(e.message)?.[1];
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return m.unknownOption(option ?? '');
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return `${e.message.split('.')[0]} (${m.seeHelp})`;
  return `${e.message} (${m.seeHelp})`;
}

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function required(m: Messages, values: Values, name: string, command: string): string {
  const v = str(values, name);
  if (!v) throw new UsageError(m.required(command, name));
  return v;
}

interface Context {
  /** The command line's words in the user's language. */
  m: Messages;
  values: Values;
  configFile: string;
  config: CliConfig;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** New tokens could not be saved: the command ends with exit code 1. */
  unsaved?: boolean;
  /** Writes of the account file and the answer cache, one after another; the run ends once they are done. */
  saving?: Promise<void>;
}

/** Queues a write after the ones before it (the account file is written whole: the last write holds everything). */
function queueWrite(ctx: Context, write: () => Promise<void>): Promise<void> {
  const next = (ctx.saving ?? Promise.resolve()).then(write);
  ctx.saving = next.catch(() => undefined);
  return next;
}

/**
 * Saves one change of the account file onto the file as it is now, not this run's copy of it: another run (a
 * login, the bridge, the MCP server) may have saved newer tokens meanwhile, which a whole copy would put back.
 */
function saveChange(ctx: Context, change: Partial<CliConfig>): Promise<void> {
  ctx.config = { ...ctx.config, ...change };
  return queueWrite(ctx, async () => {
    const stored = await readConfig(ctx.configFile).catch((): CliConfig => ({}));
    await writeConfig(ctx.configFile, { ...ctx.config, ...stored, ...change });
  });
}

const atBmw = (apiBaseUrl: string, authBaseUrl: string): boolean =>
  apiBaseUrl.replace(/\/+$/, '') === DEFAULT_API_BASE_URL && authBaseUrl.replace(/\/+$/, '') === DEFAULT_AUTH_BASE_URL;

/**
 * The stream the bridge connects to: --stream-url, else the one saved at login, else BMW's (undefined). Tokens of
 * another login service (the simulator) are refused rather than taken to BMW's stream, which would never take them.
 */
function bridgeStreamUrl(ctx: Context): string | undefined {
  const url = str(ctx.values, 'stream-url') ?? ctx.config.streamUrl;
  if (url) return url;
  const apiBaseUrl = str(ctx.values, 'base-url') ?? ctx.config.apiBaseUrl ?? DEFAULT_API_BASE_URL;
  const authBaseUrl = str(ctx.values, 'auth-url') ?? ctx.config.authBaseUrl ?? DEFAULT_AUTH_BASE_URL;
  if (atBmw(apiBaseUrl, authBaseUrl)) return undefined;
  throw new UsageError(ctx.m.bridgeNotAtBmw(authBaseUrl));
}

function openAccount(ctx: Context, wrapQuotaStore: (store: QuotaStore) => QuotaStore = (store) => store): Account {
  const { config } = ctx;
  if (!config.clientId || !config.tokens?.refreshToken) {
    throw new CarDataError({ kind: 'auth', message: ctx.m.notLoggedIn(ctx.configFile), hint: ctx.m.notLoggedInHint });
  }
  return createAccount({
    clientId: config.clientId,
    apiBaseUrl: str(ctx.values, 'base-url') ?? config.apiBaseUrl,
    authBaseUrl: str(ctx.values, 'auth-url') ?? config.authBaseUrl,
    tokens: config.tokens,
    // Refresh tokens rotate: every new one is saved at once, or the next run could not log in. A refresh is
    // made only once the file is known to be writable; should the write still fail, this run says so loudly,
    // goes on with the tokens in memory, and ends with exit code 1.
    tokenFile: ctx.configFile,
    onTokens: (tokens) => saveChange(ctx, { tokens }),
    onPersistError: (e) => {
      ctx.unsaved = true;
      ctx.stderr.write(
        `\nbmw-cardata: ${ctx.m.tokensNotSaved((e as Error).message)}\n${e instanceof CarDataError && e.hint ? `${ctx.m.hint}: ${e.hint}\n` : ''}`,
      );
    },
    // Another run (or Node-RED on the same file) may have rotated the refresh token meanwhile.
    reloadTokens: async () => (await readConfig(ctx.configFile)).tokens,
    quotaStore: wrapQuotaStore(
      new FileQuotaStore(path.join(path.dirname(ctx.configFile), 'quota.json'), { warn: (message) => ctx.stderr.write(`${message}\n`) }),
    ),
    // A command is typed by hand: it may spend the calls kept in reserve, which unattended work sharing this quota
    // file leaves alone.
    quotaReserve: DEFAULT_QUOTA_RESERVE,
    attended: true,
    // Containers are remembered in the account file: a telematics run costs its read alone, not a lookup too.
    containers: config.containers,
    onContainers: (containers) => {
      saveChange(ctx, { containers }).catch((e: unknown) => ctx.stderr.write(`bmw-cardata: ${ctx.m.containerNotRemembered((e as Error).message)}\n`));
    },
    answerStore: answerFile(ctx),
  });
}

/**
 * The cached answers of the account (basic data, image, vehicle list, ...) in cache.json beside the account file,
 * so a second run within an answer's lifetime costs no call. A file that cannot be read is an empty cache.
 */
function answerFile(ctx: Context): AnswerStore {
  const file = path.join(path.dirname(ctx.configFile), 'cache.json');
  return {
    load: () => {
      try {
        return cachedAnswersOf(JSON.parse(readFileSync(file, 'utf8')));
      } catch {
        return undefined;
      }
    },
    save: (answers) => {
      queueWrite(ctx, () => writePrivateJson(file, answers)).catch((e: unknown) =>
        ctx.stderr.write(`bmw-cardata: ${ctx.m.answerNotKept(file, (e as Error).message)}\n`),
      );
    },
  };
}

/** --out's folder exists and can be written: checked before a call is spent on what would go there. */
async function checkOutFolder(file: string): Promise<void> {
  try {
    await fs.access(path.dirname(path.resolve(file)), fsConstants.W_OK);
  } catch (e) {
    throw fileError(e, path.resolve(file), `write ${path.basename(file)}`);
  }
}

/** Writes an output file; a failure names the file's folder (a storage error, exit 1). */
async function writeOut(file: string, data: string | Buffer): Promise<void> {
  try {
    await fs.writeFile(file, data);
  } catch (e) {
    throw fileError(e, path.resolve(file), `write ${path.basename(file)}`);
  }
}

async function output(ctx: Context, data: unknown, rows?: Record<string, unknown>[], header?: readonly string[]): Promise<void> {
  const format = str(ctx.values, 'format') ?? 'json';
  let text: string;
  if (format === 'csv') {
    if (!rows) throw new UsageError(ctx.m.noCsv);
    text = toCsv(rows, header);
  } else text = `${JSON.stringify(data, null, 2)}\n`;
  const out = str(ctx.values, 'out');
  if (out) {
    await writeOut(out, text);
    ctx.stderr.write(`${ctx.m.wrote(out)}\n`);
  } else ctx.stdout.write(text);
}

function progress(ctx: Context, what: 'sessions' | 'locations') {
  const tty = (ctx.stderr as NodeJS.WriteStream).isTTY;
  return ({ pages, items }: { pages: number; items: number }) => {
    const line = ctx.m.page(pages, items, what);
    ctx.stderr.write(tty ? `\r${line}` : `${line}\n`);
  };
}

async function quotaNote(ctx: Context, account: Account): Promise<void> {
  const q = await account.client.quotaState();
  if (q) ctx.stderr.write(`${ctx.m.quota(q.used, q.limit, q.resetsAt)}\n`);
}

async function login(ctx: Context): Promise<void> {
  const given = str(ctx.values, 'client-id') ?? process.env.BMW_CARDATA_CLIENT_ID;
  const clientId = given ?? ctx.config.clientId;
  if (!clientId) throw new UsageError(ctx.m.loginNeedsClientId);
  // The client ID is a secret: said where it comes from, never shown.
  if (!given) ctx.stderr.write(`${ctx.m.savedClientId(ctx.configFile)}\n`);
  const apiBaseUrl = str(ctx.values, 'base-url') ?? ctx.config.apiBaseUrl ?? DEFAULT_API_BASE_URL;
  const authBaseUrl = str(ctx.values, 'auth-url') ?? ctx.config.authBaseUrl ?? DEFAULT_AUTH_BASE_URL;
  const endpoint = { transport: new AxiosTransport(), sleep: nodeSleep, clientId, authBaseUrl };
  // Before the user approves anything: a login that could not be saved would be lost.
  await checkTokenFile(ctx.configFile);
  const auth = await startDeviceAuthorization(endpoint);
  ctx.stderr.write(`\n${ctx.m.openLink(auth.verificationUriComplete, auth.verificationUri, auth.userCode)}\n\n`);
  const tokens = await waitForDeviceAuthorization(endpoint, auth, {
    onPending: (left) => ctx.stderr.write(`${ctx.m.waiting(`${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`)}\n`),
  });
  const streamUrl = str(ctx.values, 'stream-url') ?? ctx.config.streamUrl;
  ctx.config = { clientId, apiBaseUrl, authBaseUrl, ...(streamUrl ? { streamUrl } : {}), tokens };
  await writeConfig(ctx.configFile, ctx.config);
  ctx.stderr.write(`${ctx.m.loggedIn(ctx.configFile)}\n`);
  if (!streamUrl && !atBmw(apiBaseUrl, authBaseUrl)) ctx.stderr.write(`${ctx.m.streamUrlForBridge}\n`);
  if (ctx.values.print)
    ctx.stdout.write(
      `${JSON.stringify({ refreshToken: tokens.refreshToken, accessToken: tokens.accessToken, idToken: tokens.idToken, gcid: tokens.gcid, expiresAt: new Date(tokens.expiresAt).toISOString() }, null, 2)}\n`,
    );
}

/** The range of --last or --from/--to; `zone` starts the months of --last. */
function rangeOf(m: Messages, values: Values, command: string, zone: string): { from: string; to: string; last?: string } {
  const last = str(values, 'last');
  if (last) {
    if (str(values, 'from') || str(values, 'to')) throw new UsageError(m.lastAndRange(command));
    if (!RANGES[last]) throw new UsageError(m.lastValues(command, Object.keys(RANGES).join(', ')));
    return { ...relativeRange(RANGES[last], { timeZone: zone }), last };
  }
  if (!str(values, 'from') && !str(values, 'to')) throw new UsageError(m.noRange(command, Object.keys(RANGES).join('|')));
  return { from: required(m, values, 'from', command), to: required(m, values, 'to', command) };
}

/** `bmw-cardata trips`: the logbook rows of a range from the bridge's trip log, at no call. */
async function trips(ctx: Context): Promise<void> {
  const v = ctx.values;
  const zone = checkTimeZone(str(v, 'time-zone') ?? machineTimeZone());
  const { last, ...picked } = rangeOf(ctx.m, v, 'trips', zone);
  const range = last ? picked : checkRange(picked.from, picked.to);
  const vin = str(v, 'vin') === undefined ? undefined : checkVin(str(v, 'vin'));
  const file = tripLogFile(str(v, 'state') ?? path.join(path.dirname(ctx.configFile), 'bridge-state.json'));
  const [from, to] = [Date.parse(range.from), Date.parse(range.to)];
  const logged = await readTripLog(file, (m) => ctx.stderr.write(`bmw-cardata: ${m}\n`));
  const chosen = logged
    .filter((t) => (vin === undefined || t.vin === vin) && Date.parse(t.startedAt) >= from && Date.parse(t.startedAt) < to)
    .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  const rows = chosen.map((t) => flattenTrip(t, zone));
  // CSV unless JSON is asked for: the logbook goes to a spreadsheet.
  await output({ ...ctx, values: { ...v, format: str(v, 'format') ?? 'csv' } }, rows, rows, TRIP_LOGBOOK_COLUMNS);
  const where = logged.length === 0 && !(await exists(file)) ? ctx.m.noTripLog(file) : '';
  ctx.stderr.write(`${ctx.m.trips(rows.length, range.from, range.to, last ? ctx.m.lastIn(last, zone) : '', zone)}${where}\n`);
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

async function run(command: string, sub: string | undefined, ctx: Context): Promise<void> {
  const v = ctx.values;
  const m = ctx.m;
  let maxAgeMs: number | undefined;
  try {
    maxAgeMs = parseMaxAge(str(v, 'max-age'));
  } catch (e) {
    throw new UsageError(m.maxAge((e as Error).message.replace(/^"Answer from cache up to" /, '')));
  }
  const read = { maxAgeMs };
  switch (command) {
    case 'login':
      return login(ctx);
    case 'quota': {
      const account = openAccount(ctx);
      const q = await account.client.quotaState();
      return output(ctx, q, q ? [{ ...q }] : []);
    }
    case 'descriptors': {
      const found = searchDescriptors(str(v, 'search') ?? '');
      return output(
        ctx,
        found,
        found.map((d) => ({
          id: d.id,
          name: d.name,
          unit: unitLabel(d.unit),
          category: d.category,
          streamable: d.streamable,
          words: descriptorWords(d.id).join(', '),
        })),
      );
    }
    case 'vehicles': {
      const account = openAccount(ctx);
      const list = await account.client.getMappings(read);
      await output(
        ctx,
        list,
        list.map((m) => ({ ...m })),
      );
      return quotaNote(ctx, account);
    }
    case 'basic-data': {
      const account = openAccount(ctx);
      const data = await account.client.getBasicData(required(m, v, 'vin', command), read);
      await output(ctx, data, [{ ...data, chargingModes: data.chargingModes?.join(' ') }]);
      return quotaNote(ctx, account);
    }
    case 'telematics': {
      const vin = required(m, v, 'vin', command);
      const descriptors = required(m, v, 'descriptors', command);
      const account = openAccount(ctx);
      const result = await account.client.getTelematicValues(vin, descriptors, read);
      const rows = Object.entries(result.telematicData ?? {}).map(([descriptor, e]) => ({ descriptor, value: e.value, unit: e.unit, timestamp: e.timestamp }));
      await output(ctx, result, rows);
      return quotaNote(ctx, account);
    }
    case 'charging-history': {
      const vin = required(m, v, 'vin', command);
      // Calendar ranges in the machine's zone unless told otherwise, as Node-RED and n8n do.
      const zone = str(v, 'time-zone') ?? machineTimeZone();
      const { last, ...range } = rangeOf(m, v, command, zone);
      // The account file's tariff prices the rows (our cost in columns of its own, beside BMW's); read before any call.
      const tariff = readTariff(ctx.config.tariff, `the "tariff" of ${ctx.configFile}`);
      const account = openAccount(ctx);
      const sessions = await account.client.paginate(
        'getChargingHistory',
        { vin, ...range },
        { limit: checkLimit(str(v, 'limit')), onPage: progress(ctx, 'sessions'), ...read },
      );
      if ((ctx.stderr as NodeJS.WriteStream).isTTY) ctx.stderr.write('\n');
      await output(
        ctx,
        sessions,
        sessions.map((s) => (tariff ? flattenChargingSessionWithCost(s, tariff) : flattenChargingSession(s))),
      );
      ctx.stderr.write(`${m.sessions(sessions.length, range.from, range.to, last ? m.lastIn(last, zone) : '')}\n`);
      return quotaNote(ctx, account);
    }
    case 'charging-settings': {
      const account = openAccount(ctx);
      const settings = await account.client.paginate(
        'getLocationBasedChargingSettings',
        { vin: required(m, v, 'vin', command) },
        { limit: checkLimit(str(v, 'limit')), onPage: progress(ctx, 'locations'), ...read },
      );
      await output(
        ctx,
        settings,
        settings.map((s) => ({ ...s, chargingTimeWindows: s.chargingTimeWindows })),
      );
      return quotaNote(ctx, account);
    }
    case 'tyres': {
      const account = openAccount(ctx);
      await output(ctx, await account.client.getTyreDiagnosis(required(m, v, 'vin', command), read));
      return quotaNote(ctx, account);
    }
    case 'image': {
      const vin = required(m, v, 'vin', command);
      const account = openAccount(ctx);
      const image = await account.client.getImage(vin, read);
      const out = str(v, 'out') ?? image.fileName;
      await writeOut(out, image.data);
      ctx.stderr.write(`${m.wroteImage(out, image.contentType, image.data.length)}\n`);
      return quotaNote(ctx, account);
    }
    case 'containers': {
      const account = openAccount(ctx);
      if (!sub || sub === 'list') {
        const list = await account.client.listContainers();
        await output(
          ctx,
          list,
          list.map((c) => ({ ...c })),
        );
      } else if (sub === 'delete') {
        await output(ctx, await account.client.deleteContainer(required(m, v, 'container-id', 'containers delete')));
      } else throw new UsageError(m.unknownContainerAction(sub));
      return quotaNote(ctx, account);
    }
    case 'mcp': {
      // Loaded only here: the other commands never load the MCP SDK.
      const { runMcp } = await import('./mcp');
      return runMcp({
        values: v,
        configFile: ctx.configFile,
        stdin: process.stdin,
        stdout: ctx.stdout,
        stderr: ctx.stderr,
        maxAgeMs,
        // Read afresh: a login made while the server runs counts from the next call on.
        openAccount: async (wrapQuotaStore) => {
          ctx.config = await readConfig(ctx.configFile);
          return openAccount(ctx, wrapQuotaStore);
        },
        rememberedContainers: async () => (await readConfig(ctx.configFile)).containers ?? {},
      });
    }
    case 'trips':
      return trips(ctx);
    case 'bridge':
      return runBridge({
        values: v,
        configFile: ctx.configFile,
        stdout: ctx.stdout,
        stderr: ctx.stderr,
        openAccount: () => openAccount(ctx),
        streamUrl: () => bridgeStreamUrl(ctx),
      });
    default:
      throw new UsageError(`${m.unknownCommand(command)}\n\n${globalHelp(m)}`);
  }
}

/**
 * Runs the command line; returns the exit code. Streams are parameters so tests can run it in-process; the messages
 * follow the environment's LC_ALL, LC_MESSAGES or LANG (German or English).
 */
export async function main(
  argv: string[],
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const m = messagesFor(env);
  try {
    const { command, sub, values, extra } = parse(argv);
    if (!command || command === 'help') {
      stdout.write(`${globalHelp(m)}\n`);
      return command ? EXIT.ok : values.help ? EXIT.ok : EXIT.usage;
    }
    if (values.help) {
      const help = commandHelp(m, command);
      stdout.write(`${help ?? globalHelp(m)}\n`);
      return help ? EXIT.ok : EXIT.usage;
    }
    if (extra.length) {
      const hint = command === 'descriptors' ? m.toSearch(JSON.stringify(extra.join(' '))) : '';
      throw new UsageError(m.unexpectedArgument(command, JSON.stringify(extra[0]), hint));
    }
    checkUrl(m, values, 'base-url');
    checkUrl(m, values, 'auth-url');
    const format = str(values, 'format');
    if (format !== undefined && format !== 'json' && format !== 'csv') throw new UsageError(m.badFormat(format));
    // Refused before a call is spent: the commands whose help offers CSV have it.
    if (format === 'csv' && !commandHelp(MESSAGES.en, command)?.includes('json|csv')) throw new UsageError(m.onlyJson(command));
    const out = str(values, 'out');
    if (out && command !== 'bridge') await checkOutFolder(out);
    const configFile = str(values, 'config') ?? defaultConfigPath();
    const ctx: Context = { m, values, configFile, config: await readConfig(configFile), stdout, stderr };
    // Temporary files of a run that crashed while saving.
    await removeLeftovers(configFile, 60_000);
    await run(command, sub, ctx);
    await ctx.saving;
    return ctx.unsaved ? EXIT.failed : EXIT.ok;
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      stderr.write(`bmw-cardata: ${usageMessage(m, e as Error)}\n`);
      return EXIT.usage;
    }
    if (e instanceof UsageError) {
      stderr.write(`bmw-cardata: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
    if (e instanceof CarDataError) {
      stderr.write(`\nbmw-cardata: ${e.message}\n${e.hint ? `${m.hint}: ${e.hint}\n` : ''}`);
      if (e.kind === 'input') return EXIT.usage;
      if (e.kind === 'auth') return EXIT.auth;
      if (e.kind === 'quota') return EXIT.quota;
      if (e.kind === 'storage') return EXIT.failed;
      return EXIT.bmw;
    }
    stderr.write(`bmw-cardata: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
}

/** The command as a process runs it: this file run by Node, or the clone's npx wrapper (in its own process). */
export function cli(): void {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) cli();
