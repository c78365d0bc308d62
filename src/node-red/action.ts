import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { CacheReport, CarDataError, LoginError, parseMaxAge, type Account, type QuotaState, type ReadOptions } from '../core';
import { ACCOUNT_TYPE, type AccountNode } from './account-types';

/** Fields every action node has. */
export interface ActionConfig extends NodeDef {
  account?: string;
  vin?: string;
  /** "Answer from cache up to": empty for each operation's own lifetime, 0 to always ask BMW, else 90s, 30m, 2h, 1d. */
  cacheMaxAge?: string;
}

/** What a node's handler gets for one incoming message. */
export interface ActionRun<C extends ActionConfig> {
  node: Node;
  config: C;
  msg: NodeMessageInFlow;
  account: Account;
  accountNode: AccountNode;
  /** The VIN: `msg.vin` when set, else the node's VIN. Checked by core before any call. */
  vin: string;
  /** Shows progress in the node status (e.g. per page). */
  progress(text: string): void;
  /** Sends one message now, with `msg.quota` attached (for nodes that answer with a series of messages). */
  emit(msg: NodeMessage): Promise<void>;
  /** For the client's reads: how old a cached answer may be (`msg.cacheMaxAge` or the node's), and the report. */
  read: ReadOptions;
}

export interface ActionOutcome {
  /** Short words for the status line, e.g. "12 sessions". */
  summary: string;
  /** Sent with `msg.quota` attached; omit when the handler emitted its messages itself. */
  output?: NodeMessage;
}

export type ActionHandler<C extends ActionConfig> = (run: ActionRun<C>) => Promise<ActionOutcome>;

/** The nodes that read one vehicle: without a VIN they use the account's only mapped vehicle, or ask to pick one. */
export const VEHICLE_NODE_TYPES: readonly string[] = [
  'bmw-cardata-basic-data',
  'bmw-cardata-telematics',
  'bmw-cardata-charging-history',
  'bmw-cardata-tyre-diagnosis',
  'bmw-cardata-charging-settings',
  'bmw-cardata-image',
];

/** The VINs mapped to the account as PRIMARY user, from the day-cached list (read from BMW when there is none). */
export async function primaryVins(accountNode: AccountNode): Promise<string[]> {
  let { vehicles } = await accountNode.mappedVehicles(false);
  if (vehicles.length === 0) ({ vehicles } = await accountNode.mappedVehicles(true));
  return vehicles.filter((v) => v.vin && (!v.mappingType || v.mappingType === 'PRIMARY')).map((v) => v.vin as string);
}

/**
 * The VIN of a message: `msg.vin`, else the node's, else the account's only PRIMARY vehicle (from the day-cached
 * list; listing it costs one call the first time). Several vehicles: an input error that asks to pick one.
 */
async function resolveVin(given: string, accountNode: AccountNode): Promise<{ vin: string; implicit: boolean }> {
  if (given) return { vin: given, implicit: false };
  const own = await primaryVins(accountNode);
  if (own.length === 1) return { vin: own[0], implicit: true };
  throw new CarDataError({
    kind: 'input',
    parameter: 'vin',
    message: own.length === 0 ? 'The account has no vehicle mapped as PRIMARY user' : `The account has ${own.length} vehicles: pick one (${own.join(', ')})`,
    hint: own.length === 0 ? 'Map the vehicle to your BMW ID as primary user in the My BMW app.' : 'Open the node and pick the vehicle, or set msg.vin.',
  });
}

/** A message property if it is set (not undefined, null or empty text), else the node's own value. */
export function pick<T>(fromMsg: unknown, fromNode: T): T | unknown {
  if (fromMsg === undefined || fromMsg === null) return fromNode;
  if (typeof fromMsg === 'string' && fromMsg.trim() === '') return fromNode;
  return fromMsg;
}

function quotaText(quota: QuotaState | undefined): string {
  return quota ? `${quota.remaining}/${quota.limit} left` : '';
}

function ageText(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function joinStatus(...parts: string[]): string {
  return parts.filter(Boolean).join(' · ');
}

/**
 * The error for done(err): BMW's code as `code`, never a token. Node-RED builds msg.error from an error's message,
 * code, stack and cause only, so the hint travels in the message (for the debug sidebar) and, whole, in `cause`
 * (msg.error.cause.hint, Node-RED 4+). A spent quota gets the runtime's own words, when its settings have some.
 */
function flowError(e: unknown, quotaHint: string): Error & { code?: string } {
  if (e instanceof CarDataError) {
    const cause = errorDetails(e, quotaHint);
    const err: Error & { code?: string } = new Error(`${e.message}${cause.hint ? ` (${cause.hint})` : ''}`, { cause });
    err.code = e.code;
    return err;
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** The error as JSON (msg.error.cause, msg.cardataError), with the runtime's words added to a spent quota's hint. */
function errorDetails(e: CarDataError, quotaHint: string): ReturnType<CarDataError['toJSON']> {
  const json = e.toJSON();
  return e.kind === 'quota' && quotaHint ? { ...json, hint: [json.hint, quotaHint].filter(Boolean).join(' ') } : json;
}

/**
 * What to do about a spent daily quota in this runtime, from Node-RED's settings (`bmwCardata.quotaHint`), e.g. how a
 * test setup resets its count. Empty unless set.
 */
function settingsQuotaHint(RED: NodeAPI): string {
  try {
    const own = (RED.settings as unknown as { bmwCardata?: { quotaHint?: unknown } }).bmwCardata;
    return typeof own?.quotaHint === 'string' ? own.quotaHint.trim() : '';
  } catch {
    return '';
  }
}

export function statusCode(e: unknown): string {
  // A failed login says so: the account needs authorizing again, or BMW's login service is down for now.
  if (e instanceof LoginError) return `login: ${e.code} (${shortMessage(e)})`;
  // An input names the setting and what is wrong with it. (Messages hold no secrets.)
  if (e instanceof CarDataError) return e.kind === 'input' && e.parameter ? `input: ${e.parameter} (${shortMessage(e)})` : e.code;
  return 'error';
}

/** An error's first sentence, at most 80 characters, for a status line. */
function shortMessage(e: Error): string {
  const first = e.message.split(/(?<=[.;])\s/)[0].replace(/[.;]$/, '');
  return first.length > 80 ? `${first.slice(0, 79)}…` : first;
}

/**
 * Registers an action node: resolves the account, runs the handler for each message, attaches `msg.quota`,
 * keeps the status line current, and reports failures once through done(err) so a Catch node sees each once.
 */
export function registerAction<C extends ActionConfig>(RED: NodeAPI, type: string, handler: ActionHandler<C>): void {
  const needsVin = VEHICLE_NODE_TYPES.includes(type);
  const quotaHint = settingsQuotaHint(RED);
  function ActionNode(this: Node, config: C): void {
    RED.nodes.createNode(this, config);
    setupAction(this, config);
  }

  function setupAction(node: Node, config: C): void {
    const accountNode = config.account ? (RED.nodes.getNode(config.account) as AccountNode | null) : null;
    if (!accountNode || accountNode.type !== ACCOUNT_TYPE) node.status({ fill: 'red', shape: 'ring', text: 'no account' });
    else node.status({});

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage | NodeMessage[]) => void, done: (err?: Error) => void) => {
      let account: Account | undefined;
      const report = new CacheReport();
      // The quota figures, and beside them whether the answer came from the cache (it cost nothing) and its age.
      const quota = async (): Promise<(QuotaState & { fromCache?: boolean; cacheAgeSeconds?: number }) | undefined> => {
        let state: QuotaState | undefined;
        try {
          state = account ? await account.client.quotaState() : undefined;
        } catch {
          state = undefined;
        }
        const cached = report.summary();
        return state && cached ? { ...state, ...cached } : state;
      };
      const run = async (): Promise<void> => {
        if (!accountNode || accountNode.type !== ACCOUNT_TYPE) {
          throw new CarDataError({ kind: 'input', parameter: 'account', message: 'No BMW CarData account is selected', hint: 'Open the node and pick or add an account.' });
        }
        const maxAgeMs = parseMaxAge(pick(msg.cacheMaxAge, config.cacheMaxAge ?? ''));
        account = accountNode.account();
        node.status({ fill: 'blue', shape: 'dot', text: 'requesting…' });
        const vinValue = pick(msg.vin, config.vin ?? '');
        let vin = typeof vinValue === 'string' ? vinValue.trim() : (vinValue as string);
        let implicit = false;
        if (needsVin) ({ vin, implicit } = await resolveVin(vin, accountNode));
        const outcome = await handler({
          node,
          config,
          msg,
          account,
          accountNode,
          vin,
          progress: (text) => node.status({ fill: 'blue', shape: 'dot', text }),
          emit: async (out) => {
            out.quota = await quota();
            send(out);
          },
          read: { maxAgeMs, report },
        });
        const state = await quota();
        if (outcome.output) {
          outcome.output.quota = state;
          send(outcome.output);
        }
        const fromCache = state?.fromCache ? `from cache, ${ageText(state.cacheAgeSeconds ?? 0)} old` : '';
        node.status({ fill: 'green', shape: 'dot', text: joinStatus(implicit ? `${vin} (the only vehicle)` : '', outcome.summary, fromCache, quotaText(state)) });
      };
      run().then(
        () => done(),
        async (e: unknown) => {
          const state = await quota();
          msg.quota = state;
          if (e instanceof CarDataError) msg.cardataError = errorDetails(e, quotaHint);
          node.status({ fill: 'red', shape: 'ring', text: joinStatus(statusCode(e), quotaText(state)) });
          done(flowError(e, quotaHint));
        },
      );
    });
  }
  RED.nodes.registerType(type, ActionNode);
}

