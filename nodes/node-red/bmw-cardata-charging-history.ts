import type { NodeAPI } from 'node-red';
import { checkTimeZone, flattenChargingSession, isRelativeRange, relativeRange, type ChargingSession, type FlatChargingSession } from '../../src/core';
import { PartsSender, pick, registerAction, type ActionConfig } from './shared/action';

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

function resolveRange(config: HistoryConfig, msg: Record<string, unknown>): { from: DateValue; to: DateValue } {
  const timeZone = checkTimeZone(pick(msg.timeZone, config.timeZone ?? ''));
  if (msg.from !== undefined || msg.to !== undefined) {
    const fallback = config.rangeMode === 'fixed' ? config : undefined;
    return {
      from: pick(msg.from, fallback?.from ?? '') as DateValue,
      to: pick(msg.to, fallback?.to || new Date().toISOString()) as DateValue,
    };
  }
  if (isRelativeRange(msg.range)) return relativeRange(msg.range, { timeZone });
  if (config.rangeMode === 'fixed') return { from: config.from ?? '', to: config.to || new Date().toISOString() };
  return relativeRange(config.range || 'last30d', { timeZone });
}

export = function (RED: NodeAPI): void {
  registerAction<HistoryConfig>(RED, 'bmw-cardata-charging-history', async ({ account, msg, vin, config, progress, emit }) => {
    const range = resolveRange(config, msg);
    const output = pick(msg.output, config.output || 'array') as string;
    const options = {
      ...range,
      limit: pick(msg.limit, config.limit) as number | undefined,
      onPage: ({ pages, items }: { pages: number; items: number }) => progress(`page ${pages} · ${items} sessions`),
    };
    const sessions = account.client.chargingSessions(vin, options);
    const describe = (n: number) => `${n} session${n === 1 ? '' : 's'}`;
    if (output === 'each') {
      const sender = new PartsSender(emit, msg._msgid);
      for await (const session of sessions) {
        const out = RED.util.cloneMessage(msg);
        out.payload = flattenChargingSession(session);
        out.session = session;
        out.vin = vin;
        await sender.push(out);
      }
      return { summary: describe(await sender.end()) };
    }
    const all: ChargingSession[] = [];
    for await (const session of sessions) all.push(session);
    const payload: ChargingSession[] | FlatChargingSession[] = output === 'rows' ? all.map(flattenChargingSession) : all;
    msg.payload = payload;
    msg.vin = vin;
    msg.from = range.from;
    msg.to = range.to;
    return { summary: describe(all.length), output: msg };
  });
};
