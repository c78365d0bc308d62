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
import { checkTokenFile } from '../node/account';
import { fileError, removeLeftovers } from '../node/private-file';
import { BRIDGE_HELP, BRIDGE_OPTIONS, runBridge, tripLogFile } from './bridge';
import { defaultConfigPath, readConfig, writeConfig, type CliConfig } from './config';
import { toCsv } from './csv';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, auth: 3, quota: 4, bmw: 5 } as const;

class UsageError extends Error {}

/** Each command, what it does, and what it costs of the 50 daily calls. */
const COMMANDS: ReadonlyArray<readonly [string, string, string]> = [
  ['login', 'Log in (device code flow) and save the tokens', '(no call)'],
  ['vehicles', 'List the vehicles mapped to the account', '(1 call; none again within a day)'],
  ['basic-data', 'Basic data of a vehicle', '(1 call; none again within a day)'],
  ['telematics', 'Telematic values of chosen descriptors', '(1 call; 3 the first time: container set-up)'],
  ['charging-history', 'Charging sessions in a date range, JSON or CSV', '(1 call per page)'],
  ['charging-settings', 'Location-based charging settings', '(1 call per page; none again within an hour)'],
  ['tyres', 'Tyre diagnosis', '(1 call; none again within an hour)'],
  ['image', 'Vehicle image to a file', '(1 call; none again within a day)'],
  ['containers', 'List containers, or delete one', '(1 call)'],
  ['quota', 'Calls used today and when the budget resets', '(no call)'],
  ['descriptors', 'Search the telematic catalogue', '(no call)'],
  ['bridge', 'Relay the live stream to your MQTT broker', '(no call; with --ha-discovery 1 per car, once)'],
  ['trips', 'The logbook: trips the bridge saw, CSV or JSON', '(no call)'],
  ['mcp', 'Serve the car to AI assistants (MCP on stdio)', '(as asked; never the reserve; cached answers free)'],
];

/** How many words may follow each command (containers takes list or delete). */
const POSITIONALS: Readonly<Record<string, number>> = { containers: 1 };

const GLOBAL_HELP = `Usage: bmw-cardata <command> [options]

Reads your BMW's data through the BMW CarData Customer API (50 calls a day per account).

Commands:
${COMMANDS.map(([name, what, cost]) => `  ${name.padEnd(19)}${what.padEnd(50)}${cost}`).join('\n')}

Options for every command:
  --config FILE      Account file (default ~/.config/bmw-cardata/account.json, or $BMW_CARDATA_CONFIG)
  --base-url URL     CarData API base URL (default ${DEFAULT_API_BASE_URL})
  --auth-url URL     BMW login base URL (default ${DEFAULT_AUTH_BASE_URL})
  --format json|csv  Output format (default json; CSV where the command's help offers it)
  --out FILE         Write the output to FILE instead of standard output
  --max-age AGE      Answer from the cache up to AGE (0: always ask BMW; 90s, 30m, 2h, 1d); by default basic
                     data, image and vehicles are kept a day, tyres and charging settings an hour
  -h, --help         Help for a command: bmw-cardata <command> --help

Exit codes: 0 done, 2 bad arguments, 3 login needed, 4 daily quota spent, 5 BMW or network error,
1 other (also: a local file that cannot be written).`;

const COMMAND_HELP: Record<string, string> = {
  login: `Usage: bmw-cardata login --client-id ID [--print]

Runs BMW's device code login: prints a link and a code; open the link, log in with your BMW ID and approve.
The tokens are saved to the account file (mode 0600). The client ID comes from the BMW CarData portal; it can
also be given as $BMW_CARDATA_CLIENT_ID.
  --client-id ID   The CarData client ID
  --stream-url URL The CarData stream for the bridge, saved with the login (default BMW's; the simulator
                   prints its own)
  --print          Also print the tokens as JSON on standard output (to paste the refresh token into n8n)`,
  vehicles: 'Usage: bmw-cardata vehicles [--format json|csv] [--out FILE]\n\nLists the mapped vehicles (VIN, mapping type, mapped since).',
  'basic-data': 'Usage: bmw-cardata basic-data --vin VIN [--format json|csv] [--out FILE]',
  telematics: `Usage: bmw-cardata telematics --vin VIN --descriptors KEY[,KEY...] [--format json|csv] [--out FILE]

Reads the current values of catalogue descriptors. A container holding exactly these descriptors is found or
created once and reused afterwards. Find keys with: bmw-cardata descriptors --search "state of charge"`,
  'charging-history': `Usage: bmw-cardata charging-history --vin VIN (--from DATE --to DATE | --last RANGE) [--limit N]
                                  [--time-zone ZONE] [--format json|csv] [--out FILE]

  --from, --to     ISO 8601 dates or date-times (2026-01-01, 2026-01-31T18:00:00Z)
  --last RANGE     24h, 7d, 30d, this-month or last-month (months in --time-zone, default this machine's zone)
  --limit N        The newest N sessions of the range, newest first (stops there: saves calls)
CSV has one row per session with flat columns; a progress line goes to standard error. A session still in
progress has an empty end.`,
  'charging-settings': 'Usage: bmw-cardata charging-settings --vin VIN [--limit N] [--format json|csv] [--out FILE]',
  tyres: 'Usage: bmw-cardata tyres --vin VIN [--out FILE]',
  image: 'Usage: bmw-cardata image --vin VIN [--out FILE]\n\nSaves the vehicle image; without --out as VIN.png (the extension follows the image type).',
  containers: 'Usage: bmw-cardata containers [list | delete --container-id ID] [--format json|csv]',
  quota: 'Usage: bmw-cardata quota\n\nShows the calls counted today for the saved account (no call to BMW).',
  bridge: BRIDGE_HELP,
  trips: `Usage: bmw-cardata trips (--from DATE --to DATE | --last RANGE) [--vin VIN] [--time-zone ZONE]
                       [--format json|csv] [--out FILE] [--state FILE]

The logbook of the trips the bridge saw finish, from its trip log (bridge-state.trips.jsonl beside the account
file, or beside --state FILE; it keeps a year): one row per trip that started in the range, oldest first, as CSV
(the default) or JSON. No call to BMW. Times are local to --time-zone (default this machine's zone), which each
row names; a figure the car did not send is an empty cell (the missing column names it), never 0, and the purpose
column is left empty for you to fill in (business, private, commute).
  --from, --to     ISO 8601 dates or date-times (a date alone is midnight UTC); a trip counts when it started
                   at --from or later and before --to
  --last RANGE     24h, 7d, 30d, this-month or last-month (months in --time-zone)
  --vin VIN        Only this car's trips
  --state FILE     The bridge's --state file, whose trip log to read`,
  mcp: `Usage: bmw-cardata mcp [--names VIN=NAME[,VIN=NAME...]] [--state FILE] [--max-age AGE]

Serves the car to AI assistants (Claude Desktop and others) as an MCP server on standard input and output, for
the account of the account file. Read-only tools: list_vehicles, vehicle_state, charging_sessions, quota,
search_descriptors. Every answer says its source (live, cache, BMW), its age and what it cost.
The assistant's calls count as unattended work: they never spend the last ${DEFAULT_QUOTA_RESERVE} calls of the day, which are kept
for the commands you type. Answers are kept in the cache (vehicles a day, charging sessions and values 10
minutes unless --max-age says otherwise); an answer from the cache costs nothing. It never creates or deletes a
container: vehicle_state reads BMW through a container set up by bmw-cardata telematics.
  --names LIST   Names of the cars: VIN=name, separated by commas (else the model name once known, else the VIN)
  --state FILE   The live data the bridge saves (default bridge-state.json beside the account file): vehicle_state
                 answers from it at no cost
Assistant configuration: command "npx", args ["bmw-cardata", "mcp"] (see the README).`,
  descriptors: 'Usage: bmw-cardata descriptors [--search TEXT] [--format json|csv]\n\nSearches the bundled telematic catalogue, best match first: by key, name and description, and by the words people\nuse in English and German (e.g. "state of charge", "soc", "range", "odometer", "Ladestand", "Reifendruck").',
};

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
function checkUrl(values: Values, name: string): void {
  const value = str(values, name);
  if (value === undefined) return;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol)) throw new UsageError(`--${name} must be an http:// or https:// URL, not ${JSON.stringify(value.slice(0, 60))} (see bmw-cardata --help)`);
}

/** parseArgs' messages name Node's own syntax; these say what to do. */
function usageMessage(e: Error & { code?: string }): string {
  const option = /'([^']+)'/.exec(e.message)?.[1];
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option ?? ''} (see bmw-cardata --help)`;
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return `${e.message.split('.')[0]} (see bmw-cardata --help)`;
  return `${e.message} (see bmw-cardata --help)`;
}

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function required(values: Values, name: string, command: string): string {
  const v = str(values, name);
  if (!v) throw new UsageError(`${command}: --${name} is required (see bmw-cardata ${command} --help)`);
  return v;
}

interface Context {
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
  throw new UsageError(
    `bridge: the account is logged in at ${authBaseUrl}, not at BMW, and BMW's stream would not take its tokens: give --stream-url (the simulator prints its stream as "Stream (MQTT)"), or log in again with --stream-url to save it`,
  );
}

function openAccount(ctx: Context, wrapQuotaStore: (store: QuotaStore) => QuotaStore = (store) => store): Account {
  const { config } = ctx;
  if (!config.clientId || !config.tokens?.refreshToken) {
    throw new CarDataError({ kind: 'auth', message: `not logged in (no tokens in ${ctx.configFile})`, hint: 'Run: bmw-cardata login --client-id <your client ID>' });
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
        `\nbmw-cardata: ERROR: ${(e as Error).message}: BMW has replaced the saved refresh token, and the new one ` +
          `could not be saved. It is kept in memory while this command runs; afterwards run bmw-cardata login again.\n` +
          `${e instanceof CarDataError && e.hint ? `hint: ${e.hint}\n` : ''}`,
      );
    },
    // Another run (or Node-RED on the same file) may have rotated the refresh token meanwhile.
    reloadTokens: async () => (await readConfig(ctx.configFile)).tokens,
    quotaStore: wrapQuotaStore(new FileQuotaStore(path.join(path.dirname(ctx.configFile), 'quota.json'), { warn: (message) => ctx.stderr.write(`${message}\n`) })),
    // A command is typed by hand: it may spend the calls kept in reserve, which unattended work sharing this quota
    // file leaves alone.
    quotaReserve: DEFAULT_QUOTA_RESERVE,
    attended: true,
    // Containers are remembered in the account file: a telematics run costs its read alone, not a lookup too.
    containers: config.containers,
    onContainers: (containers) => {
      saveChange(ctx, { containers }).catch((e: unknown) => ctx.stderr.write(`bmw-cardata: could not remember the container: ${(e as Error).message}\n`));
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
      queueWrite(ctx, () => writePrivateJson(file, answers)).catch((e: unknown) => ctx.stderr.write(`bmw-cardata: could not keep the answer in ${file}: ${(e as Error).message}\n`));
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
    if (!rows) throw new UsageError('this command has no CSV output; use --format json');
    text = toCsv(rows, header);
  } else text = `${JSON.stringify(data, null, 2)}\n`;
  const out = str(ctx.values, 'out');
  if (out) {
    await writeOut(out, text);
    ctx.stderr.write(`wrote ${out}\n`);
  } else ctx.stdout.write(text);
}

function progress(ctx: Context, what: string) {
  const tty = (ctx.stderr as NodeJS.WriteStream).isTTY;
  return ({ pages, items }: { pages: number; items: number }) => {
    const line = `page ${pages} · ${items} ${what}`;
    ctx.stderr.write(tty ? `\r${line}` : `${line}\n`);
  };
}

async function quotaNote(ctx: Context, account: Account): Promise<void> {
  const q = await account.client.quotaState();
  if (q) ctx.stderr.write(`quota: ${q.used}/${q.limit} calls used today, resets ${q.resetsAt}\n`);
}

async function login(ctx: Context): Promise<void> {
  const given = str(ctx.values, 'client-id') ?? process.env.BMW_CARDATA_CLIENT_ID;
  const clientId = given ?? ctx.config.clientId;
  if (!clientId) throw new UsageError('login: --client-id is required (from the BMW CarData portal; see bmw-cardata login --help)');
  // The client ID is a secret: said where it comes from, never shown.
  if (!given) ctx.stderr.write(`Using the client ID saved in ${ctx.configFile} (give --client-id to use another one)\n`);
  const apiBaseUrl = str(ctx.values, 'base-url') ?? ctx.config.apiBaseUrl ?? DEFAULT_API_BASE_URL;
  const authBaseUrl = str(ctx.values, 'auth-url') ?? ctx.config.authBaseUrl ?? DEFAULT_AUTH_BASE_URL;
  const endpoint = { transport: new AxiosTransport(), sleep: nodeSleep, clientId, authBaseUrl };
  // Before the user approves anything: a login that could not be saved would be lost.
  await checkTokenFile(ctx.configFile);
  const auth = await startDeviceAuthorization(endpoint);
  ctx.stderr.write(
    `\nOpen this link, log in with your BMW ID and approve:\n\n  ${auth.verificationUriComplete}\n\n(or open ${auth.verificationUri} and enter the code ${auth.userCode})\n\n`,
  );
  const tokens = await waitForDeviceAuthorization(endpoint, auth, {
    onPending: (left) => ctx.stderr.write(`waiting for approval… ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left\n`),
  });
  const streamUrl = str(ctx.values, 'stream-url') ?? ctx.config.streamUrl;
  ctx.config = { clientId, apiBaseUrl, authBaseUrl, ...(streamUrl ? { streamUrl } : {}), tokens };
  await writeConfig(ctx.configFile, ctx.config);
  ctx.stderr.write(`Logged in. Tokens saved to ${ctx.configFile}\n`);
  if (!streamUrl && !atBmw(apiBaseUrl, authBaseUrl)) ctx.stderr.write('For the bridge, log in again with --stream-url (the stream of this login service; the simulator prints it).\n');
  if (ctx.values.print) ctx.stdout.write(`${JSON.stringify({ refreshToken: tokens.refreshToken, accessToken: tokens.accessToken, idToken: tokens.idToken, gcid: tokens.gcid, expiresAt: new Date(tokens.expiresAt).toISOString() }, null, 2)}\n`);
}

/** The range of --last or --from/--to (checked, ISO 8601 UTC); `zone` starts the months of --last. */
function rangeOf(values: Values, command: string, zone: string): { from: string; to: string; last?: string } {
  const last = str(values, 'last');
  if (last) {
    if (str(values, 'from') || str(values, 'to')) throw new UsageError(`${command}: give either --last or --from/--to, not both`);
    if (!RANGES[last]) throw new UsageError(`${command}: --last must be one of ${Object.keys(RANGES).join(', ')}`);
    return { ...relativeRange(RANGES[last], { timeZone: zone }), last };
  }
  if (!str(values, 'from') && !str(values, 'to')) {
    throw new UsageError(`${command}: give --last ${Object.keys(RANGES).join('|')}, or --from DATE and --to DATE (see bmw-cardata ${command} --help)`);
  }
  return checkRange(required(values, 'from', command), required(values, 'to', command));
}

/** `bmw-cardata trips`: the logbook rows of a range from the bridge's trip log, at no call. */
async function trips(ctx: Context): Promise<void> {
  const v = ctx.values;
  const zone = checkTimeZone(str(v, 'time-zone') ?? machineTimeZone());
  const range = rangeOf(v, 'trips', zone);
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
  const where = logged.length === 0 && !(await exists(file)) ? ` (no trip log at ${file} yet: the bridge writes it)` : '';
  ctx.stderr.write(`${rows.length} trip${rows.length === 1 ? '' : 's'} from ${range.from} to ${range.to}${range.last ? ` (${range.last} in ${zone})` : ''}, times in ${zone}${where}\n`);
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

async function run(command: string, sub: string | undefined, ctx: Context): Promise<void> {
  const v = ctx.values;
  let maxAgeMs: number | undefined;
  try {
    maxAgeMs = parseMaxAge(str(v, 'max-age'));
  } catch (e) {
    throw new UsageError(`--max-age: ${(e as Error).message.replace(/^"Answer from cache up to" /, '')}`);
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
        found.map((d) => ({ id: d.id, name: d.name, unit: unitLabel(d.unit), category: d.category, streamable: d.streamable, words: descriptorWords(d.id).join(', ') })),
      );
    }
    case 'vehicles': {
      const account = openAccount(ctx);
      const list = await account.client.getMappings(read);
      await output(ctx, list, list.map((m) => ({ ...m })));
      return quotaNote(ctx, account);
    }
    case 'basic-data': {
      const account = openAccount(ctx);
      const data = await account.client.getBasicData(required(v, 'vin', command), read);
      await output(ctx, data, [{ ...data, chargingModes: data.chargingModes?.join(' ') }]);
      return quotaNote(ctx, account);
    }
    case 'telematics': {
      const vin = required(v, 'vin', command);
      const descriptors = required(v, 'descriptors', command);
      const account = openAccount(ctx);
      const result = await account.client.getTelematicValues(vin, descriptors, read);
      const rows = Object.entries(result.telematicData ?? {}).map(([descriptor, e]) => ({ descriptor, value: e.value, unit: e.unit, timestamp: e.timestamp }));
      await output(ctx, result, rows);
      return quotaNote(ctx, account);
    }
    case 'charging-history': {
      const vin = required(v, 'vin', command);
      const last = str(v, 'last');
      // Calendar ranges in the machine's zone unless told otherwise, as Node-RED and n8n do.
      const zone = str(v, 'time-zone') ?? machineTimeZone();
      let range: { from: string; to: string };
      if (last) {
        if (str(v, 'from') || str(v, 'to')) throw new UsageError('charging-history: give either --last or --from/--to, not both');
        if (!RANGES[last]) throw new UsageError(`charging-history: --last must be one of ${Object.keys(RANGES).join(', ')}`);
        range = relativeRange(RANGES[last], { timeZone: zone });
      } else if (!str(v, 'from') && !str(v, 'to')) {
        throw new UsageError(`charging-history: give --last ${Object.keys(RANGES).join('|')}, or --from DATE and --to DATE (see bmw-cardata charging-history --help)`);
      } else range = { from: required(v, 'from', command), to: required(v, 'to', command) };
      const account = openAccount(ctx);
      const sessions = await account.client.paginate('getChargingHistory', { vin, ...range }, { limit: checkLimit(str(v, 'limit')), onPage: progress(ctx, 'sessions'), ...read });
      if ((ctx.stderr as NodeJS.WriteStream).isTTY) ctx.stderr.write('\n');
      await output(ctx, sessions, sessions.map(flattenChargingSession));
      ctx.stderr.write(`${sessions.length} session${sessions.length === 1 ? '' : 's'} from ${range.from} to ${range.to}${last ? ` (${last} in ${zone})` : ''}\n`);
      return quotaNote(ctx, account);
    }
    case 'charging-settings': {
      const account = openAccount(ctx);
      const settings = await account.client.paginate('getLocationBasedChargingSettings', { vin: required(v, 'vin', command) }, { limit: checkLimit(str(v, 'limit')), onPage: progress(ctx, 'locations'), ...read });
      await output(ctx, settings, settings.map((s) => ({ ...s, chargingTimeWindows: s.chargingTimeWindows })));
      return quotaNote(ctx, account);
    }
    case 'tyres': {
      const account = openAccount(ctx);
      await output(ctx, await account.client.getTyreDiagnosis(required(v, 'vin', command), read));
      return quotaNote(ctx, account);
    }
    case 'image': {
      const vin = required(v, 'vin', command);
      const account = openAccount(ctx);
      const image = await account.client.getImage(vin, read);
      const out = str(v, 'out') ?? image.fileName;
      await writeOut(out, image.data);
      ctx.stderr.write(`wrote ${out} (${image.contentType}, ${image.data.length} bytes)\n`);
      return quotaNote(ctx, account);
    }
    case 'containers': {
      const account = openAccount(ctx);
      if (!sub || sub === 'list') {
        const list = await account.client.listContainers();
        await output(ctx, list, list.map((c) => ({ ...c })));
      } else if (sub === 'delete') {
        await output(ctx, await account.client.deleteContainer(required(v, 'container-id', 'containers delete')));
      } else throw new UsageError(`containers: unknown action ${sub} (list or delete)`);
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
      return runBridge({ values: v, configFile: ctx.configFile, stdout: ctx.stdout, stderr: ctx.stderr, openAccount: () => openAccount(ctx), streamUrl: () => bridgeStreamUrl(ctx) });
    default:
      throw new UsageError(`unknown command: ${command}\n\n${GLOBAL_HELP}`);
  }
}

/** Runs the command line; returns the exit code. Streams are parameters so tests can run it in-process. */
export async function main(argv: string[], stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Promise<number> {
  try {
    const { command, sub, values, extra } = parse(argv);
    if (!command || command === 'help') {
      stdout.write(`${GLOBAL_HELP}\n`);
      return command ? EXIT.ok : values.help ? EXIT.ok : EXIT.usage;
    }
    if (values.help) {
      stdout.write(`${COMMAND_HELP[command] ?? GLOBAL_HELP}\n`);
      return COMMAND_HELP[command] ? EXIT.ok : EXIT.usage;
    }
    if (extra.length) {
      const hint = command === 'descriptors' ? ` (to search: --search ${JSON.stringify(extra.join(' '))})` : '';
      throw new UsageError(`${command}: unexpected argument ${JSON.stringify(extra[0])}${hint}; see bmw-cardata ${command} --help`);
    }
    checkUrl(values, 'base-url');
    checkUrl(values, 'auth-url');
    const format = str(values, 'format');
    if (format !== undefined && format !== 'json' && format !== 'csv') throw new UsageError(`--format must be json or csv, not ${format}`);
    // Refused before a call is spent: the commands whose help offers CSV have it.
    if (format === 'csv' && !COMMAND_HELP[command]?.includes('json|csv')) throw new UsageError(`${command}: no CSV output, only JSON (see bmw-cardata ${command} --help)`);
    const out = str(values, 'out');
    if (out && command !== 'bridge') await checkOutFolder(out);
    const configFile = str(values, 'config') ?? defaultConfigPath();
    const ctx: Context = { values, configFile, config: await readConfig(configFile), stdout, stderr };
    // Temporary files of a run that crashed while saving.
    await removeLeftovers(configFile, 60_000);
    await run(command, sub, ctx);
    await ctx.saving;
    return ctx.unsaved ? EXIT.failed : EXIT.ok;
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      stderr.write(`bmw-cardata: ${usageMessage(e as Error)}\n`);
      return EXIT.usage;
    }
    if (e instanceof UsageError) {
      stderr.write(`bmw-cardata: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
    if (e instanceof CarDataError) {
      stderr.write(`\nbmw-cardata: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`);
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
