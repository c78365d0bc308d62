import type { NodeAPI } from 'node-red';
import {
  checkTimeZone,
  flattenChargingSession,
  flattenChargingSessionWithCost,
  isRelativeRange,
  relativeRange,
  type ChargingSession,
  type FlatChargingSession,
} from '../core';
import { machineTimeZone } from '../node/time-zone';
import { pick, registerAction, type ActionConfig } from './action';

interface HistoryConfig extends ActionConfig {
  /** `relative`: a named range in a time zone; `fixed`: the from/to dates. */
  rangeMode?: 'relative' | 'fixed';
  range?: string;
  timeZone?: string;
  from?: string;
  to?: string;
  limit?: string | number;
  /** `array`: all sessions as BMW sends them; `rows`: all sessions flattened; `each`: one flat message per session. */
  output?: 'array' | 'rows' | 'each';
}

type DateValue = string | number | Date;

/** The range to read; `timeZone` is set for a relative range (the zone its days and months start in). */
function resolveRange(config: HistoryConfig, msg: Record<string, unknown>): { from: DateValue; to: DateValue; timeZone?: string } {
  const timeZone = checkTimeZone(pick(msg.timeZone, config.timeZone ?? '') || machineTimeZone());
  if (msg.from !== undefined || msg.to !== undefined) {
    const fallback = config.rangeMode === 'fixed' ? config : undefined;
    return {
      from: pick(msg.from, fallback?.from ?? '') as DateValue,
      to: pick(msg.to, fallback?.to || new Date().toISOString()) as DateValue,
    };
  }
  if (isRelativeRange(msg.range)) return { ...relativeRange(msg.range, { timeZone }), timeZone };
  if (config.rangeMode === 'fixed') return { from: config.from ?? '', to: config.to || new Date().toISOString() };
  return { ...relativeRange(config.range || 'last30d', { timeZone }), timeZone };
}

export = function (RED: NodeAPI): void {
  registerAction<HistoryConfig>(RED, 'bmw-cardata-charging-history', async ({ account, accountNode, msg, vin, config, progress, emit }) => {
    const { timeZone, ...range } = resolveRange(config, msg);
    const output = pick(msg.output, config.output || 'array') as string;
    // The account's tariff prices the flat rows: our cost in columns of its own, beside BMW's.
    const tariff = accountNode.tariff;
    const flatten = (session: ChargingSession): FlatChargingSession =>
      tariff ? flattenChargingSessionWithCost(session, tariff) : flattenChargingSession(session);
    const options = {
      limit: pick(msg.limit, config.limit) as number | undefined,
      onPage: ({ pages, items }: { pages: number; items: number }) =>
        progress(RED._('bmw-cardata-charging-history.status.page', { page: pages, count: items })),
    };
    // A relative range says the zone it was computed in, in the status and as msg.timeZone.
    const describe = (n: number) => `${RED._('bmw-cardata-charging-history.status.sessions', { count: n })}${timeZone ? ` (${timeZone})` : ''}`;
    // The whole read first: a page that fails fails it all, so a Join never waits for a sequence that stops halfway.
    const all: ChargingSession[] = await account.client.paginate('getChargingHistory', { vin, ...range }, options);
    if (output === 'each') {
      for (const [index, session] of all.entries()) {
        const out = RED.util.cloneMessage(msg);
        out.payload = flatten(session);
        out.session = session;
        out.vin = vin;
        if (timeZone) out.timeZone = timeZone;
        // type and len tell Join to rebuild an array (Node-RED's typings know only id, index and count).
        Object.assign(out, { parts: { id: msg._msgid, index, count: all.length, type: 'array', len: 1 } });
        await emit(out);
      }
      return { summary: describe(all.length) };
    }
    const payload: ChargingSession[] | FlatChargingSession[] = output === 'rows' ? all.map(flatten) : all;
    msg.payload = payload;
    msg.vin = vin;
    msg.from = range.from;
    msg.to = range.to;
    if (timeZone) msg.timeZone = timeZone;
    return { summary: describe(all.length), output: msg };
  });
};
