import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { CacheReport, CarDataError, LoginError, parseMaxAge, primaryVins as primaryOf, type Account, type QuotaState, type ReadOptions } from '../core';
import { ACCOUNT_TYPE, type AccountNode } from './account-types';
import { startedByHand, watchButtons } from './by-hand';

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
  /** The account, its client set for this message: started by hand (an inject button) or unattended. */
  account: Account;
  accountNode: AccountNode;
  /** The VIN: `msg.vin` when set, else the node's VIN, else each PRIMARY vehicle in turn. Checked by core before any call. */
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

/** The nodes that read one vehicle: without a VIN they run once for every vehicle mapped to the account as PRIMARY user. */
export const VEHICLE_NODE_TYPES: readonly string[] = [
  'bmw-cardata-basic-data',
  'bmw-cardata-telematics',
  'bmw-cardata-charging-history',
  'bmw-cardata-tyre-diagnosis',
  'bmw-cardata-charging-settings',
  'bmw-cardata-image',
];

/**
 * The VINs mapped to the account as PRIMARY user, from the day-cached list (read from BMW when there is none, for a
 * run started by hand when `attended`).
 */
export async function primaryVins(accountNode: AccountNode, attended = false): Promise<string[]> {
  let { vehicles } = await accountNode.mappedVehicles(false);
  if (vehicles.length === 0) ({ vehicles } = await accountNode.mappedVehicles(true, attended));
  return primaryOf(vehicles);
}

/**
 * The VINs a message is for: `msg.vin`, else the node's, else every PRIMARY vehicle of the account (from the
 * day-cached list; listing it costs one call the first time).
 */
async function resolveVins(RED: NodeAPI, given: string, accountNode: AccountNode, attended: boolean): Promise<string[]> {
  if (given) return [given];
  const own = await primaryVins(accountNode, attended);
  if (own.length > 0) return own;
  throw new CarDataError({
    kind: 'input',
    parameter: 'vin',
    message: RED._('bmw-cardata-action.error.noPrimary'),
    hint: RED._('bmw-cardata-action.error.noPrimaryHint'),
  });
}

/** A message property if it is set (not undefined, null or empty text), else the node's own value. */
export function pick<T>(fromMsg: unknown, fromNode: T): T | unknown {
  if (fromMsg === undefined || fromMsg === null) return fromNode;
  if (typeof fromMsg === 'string' && fromMsg.trim() === '') return fromNode;
  return fromMsg;
}

function quotaText(RED: NodeAPI, quota: QuotaState | undefined): string {
  return quota ? RED._('bmw-cardata-action.status.quota', { remaining: quota.remaining, limit: quota.limit }) : '';
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
  watchButtons(RED);
  function ActionNode(this: Node, config: C): void {
    RED.nodes.createNode(this, config);
    setupAction(this, config);
  }

  function setupAction(node: Node, config: C): void {
    const accountNode = config.account ? (RED.nodes.getNode(config.account) as AccountNode | null) : null;
    if (!accountNode || accountNode.type !== ACCOUNT_TYPE) node.status({ fill: 'red', shape: 'ring', text: RED._('bmw-cardata-action.status.noAccount') });
    else node.status({});

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage | NodeMessage[]) => void, done: (err?: Error) => void) => {
      let account: Account | undefined;
      // The quota figures, and beside them whether the answers of one car's run came from the cache (they cost
      // nothing) and their age.
      const quota = async (report?: CacheReport): Promise<(QuotaState & { fromCache?: boolean; cacheAgeSeconds?: number }) | undefined> => {
        let state: QuotaState | undefined;
        try {
          state = account ? await account.client.quotaState() : undefined;
        } catch {
          state = undefined;
        }
        const cached = report?.summary();
        return state && cached ? { ...state, ...cached } : state;
      };
      const run = async (): Promise<void> => {
        if (!accountNode || accountNode.type !== ACCOUNT_TYPE) {
          throw new CarDataError({
            kind: 'input',
            parameter: 'account',
            message: RED._('bmw-cardata-action.error.noAccount'),
            hint: RED._('bmw-cardata-action.error.noAccountHint'),
          });
        }
        const maxAgeMs = parseMaxAge(pick(msg.cacheMaxAge, config.cacheMaxAge ?? ''));
        // Only a run started by hand may spend the calls the account keeps in reserve.
        const attended = startedByHand(msg);
        const shared = accountNode.account();
        account = { ...shared, client: shared.client.forRun({ attended }) };
        node.status({ fill: 'blue', shape: 'dot', text: RED._('bmw-cardata-action.status.requesting') });
        const vinValue = pick(msg.vin, config.vin ?? '');
        const given = typeof vinValue === 'string' ? vinValue.trim() : (vinValue as string);
        const vins = needsVin ? await resolveVins(RED, given, accountNode, attended) : [given];
        const implicit = needsVin && !given;
        const summaries: string[] = [];
        const cached: { fromCache?: boolean; cacheAgeSeconds?: number }[] = [];
        let failed: { vin: string; error: unknown } | undefined;
        // The quota as the last message carried it, for the status line (no second read after the last message).
        let sent: QuotaState | undefined;
        // One run per car: a car that fails does not keep the others from answering; the first failure is reported.
        for (const vin of vins) {
          // Each car gets its own message (and message id, so a Join keeps the cars' sequences apart).
          const carMsg = vins.length > 1 ? Object.assign(RED.util.cloneMessage(msg), { _msgid: RED.util.generateId() }) : msg;
          const vehicleName = needsVin ? accountNode.vehicleName(vin) : undefined;
          if (implicit) carMsg.vin = vin;
          if (vehicleName !== undefined) carMsg.vehicleName = vehicleName;
          const named = (out: NodeMessage): NodeMessage =>
            vehicleName !== undefined ? Object.assign(out, { vehicleName: accountNode.vehicleName(vin) }) : out;
          const report = new CacheReport();
          try {
            const outcome = await handler({
              node,
              config,
              msg: carMsg,
              account,
              accountNode,
              vin,
              progress: (text) => node.status({ fill: 'blue', shape: 'dot', text: vins.length > 1 ? `${vin}: ${text}` : text }),
              emit: async (out) => {
                out.quota = sent = await quota(report);
                send(named(out));
              },
              read: { maxAgeMs, report },
            });
            summaries.push(outcome.summary);
            if (outcome.output) {
              outcome.output.quota = sent = await quota(report);
              send(named(outcome.output));
            }
            cached.push(report.summary() ?? {});
          } catch (e) {
            if (vins.length === 1) throw e;
            failed ??= { vin, error: e };
          }
        }
        if (failed) {
          msg.vin = failed.vin;
          msg.vehicleName = accountNode.vehicleName(failed.vin);
          throw failed.error;
        }
        const state = sent ?? (await quota());
        // From the cache when every car's answers were, as old as the oldest.
        const allCached = cached.length > 0 && cached.every((c) => c.fromCache);
        const fromCache = allCached
          ? RED._('bmw-cardata-action.status.fromCache', { age: ageText(Math.max(...cached.map((c) => c.cacheAgeSeconds ?? 0))) })
          : '';
        const what =
          vins.length > 1
            ? RED._('bmw-cardata-action.status.vehicles', { count: vins.length })
            : implicit
              ? RED._('bmw-cardata-action.status.onlyVehicle', { vin: vins[0] })
              : '';
        node.status({ fill: 'green', shape: 'dot', text: joinStatus(what, vins.length > 1 ? '' : summaries[0], fromCache, quotaText(RED, state)) });
      };
      run().then(
        () => done(),
        async (e: unknown) => {
          const state = await quota();
          msg.quota = state;
          if (e instanceof CarDataError) msg.cardataError = errorDetails(e, quotaHint);
          node.status({ fill: 'red', shape: 'ring', text: joinStatus(statusCode(e), quotaText(RED, state)) });
          done(flowError(e, quotaHint));
        },
      );
    });
  }
  RED.nodes.registerType(type, ActionNode);
}
