import type { IncomingHttpHeaders } from 'http';
import type { ChargingHistoryPage, ChargingSession, ChargingSettingsPage, TelematicDataEntry } from '../core/types';
import { isOmittedFromTelematicData } from './catalogue';
import type { ContainerStore } from './containers';
import { assertContainerIdFormat } from './containers';
import type { FixtureData } from './data';
import { CarDataError } from './errors';
import type { PageTokenStore } from './paging';
import type { QuotaCounter } from './quota';
import type { Reply } from './reply';
import { cuError, fromCarDataError, json } from './reply';
import type { TokenStore } from './tokens';
import { API_SCOPE } from './tokens';
import type { VehicleProfile } from './vehicles';

// The 11 operations of the CarData Customer API under /customers, with BMW's checks in BMW's order:
// route, x-version, token, scope, quota, then the operation's own parameters.

export interface RestDeps {
  tokens: TokenStore;
  quota: QuotaCounter;
  containers: ContainerStore;
  data: FixtureData;
  pages: PageTokenStore;
  chargingPageSize: number;
  settingsPageSize: number;
}

export interface RestRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  bearer?: string;
  readBody(): Promise<Buffer>;
}

interface Ctx {
  req: RestRequest;
  deps: RestDeps;
  gcid: string;
  params: string[];
}

type Handler = (ctx: Ctx) => Reply | Promise<Reply>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const VIN_FORMAT = /^[A-Z0-9]{17}$/;
// RFC 3339 date-time, what the spec's `format: date-time` means; epoch numbers are refused like BMW does.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function primaryVehicle(ctx: Ctx, vin: string): VehicleProfile {
  if (!VIN_FORMAT.test(vin)) throw new CarDataError('CU-120');
  const v = ctx.deps.data.vehicle(vin);
  if (!v || v.mappingType !== 'PRIMARY') throw new CarDataError('CU-104');
  return v;
}

function mappings(ctx: Ctx): Reply {
  // BMW answers a top-level array although the spec declares a single VehicleMappingDto.
  return json(200, ctx.deps.data.mappings());
}

function basicData(ctx: Ctx): Reply {
  return json(200, ctx.deps.data.basicData(primaryVehicle(ctx, ctx.params[0])));
}

function telematicData(ctx: Ctx): Reply {
  const v = primaryVehicle(ctx, ctx.params[0]);
  const containerId = ctx.req.query.get('containerId');
  if (!containerId) throw new CarDataError('CU-400', { note: 'Query parameter containerId is required.' });
  const container = ctx.deps.containers.active(ctx.gcid, containerId);
  const telematicData: Record<string, TelematicDataEntry> = {};
  for (const key of container.technicalDescriptors ?? []) {
    if (!isOmittedFromTelematicData(key)) telematicData[key] = ctx.deps.data.telematic(v, key);
  }
  return json(200, { telematicData });
}

function parseDateTime(name: string, value: string | null): number {
  if (!value) throw new CarDataError('CU-401', { note: `Query parameter ${name} is required (ISO 8601 date-time).` });
  const ms = DATE_TIME.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new CarDataError('CU-401', { note: `Query parameter ${name} must be an ISO 8601 date-time.` });
  return ms;
}

/** Index range [lo, hi) of sessions (newest first) whose start lies in [fromMs, toMs). */
function sessionWindow(list: ChargingSession[], fromMs: number, toMs: number): [number, number] {
  // First index whose start is before `limitMs`; the list is sorted by descending start time.
  const firstBefore = (limitMs: number): number => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].startTime * 1000 < limitMs) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  return [firstBefore(toMs), firstBefore(fromMs)];
}

function chargingHistory(ctx: Ctx): Reply {
  const v = primaryVehicle(ctx, ctx.params[0]);
  const fromMs = parseDateTime('from', ctx.req.query.get('from'));
  const toMs = parseDateTime('to', ctx.req.query.get('to'));
  if (fromMs >= toMs) throw new CarDataError('CU-401', { note: 'from must be before to.' });
  const binding = { kind: 'charging' as const, vin: v.vin, fromMs, toMs };
  let offset = 0;
  const nextToken = ctx.req.query.get('nextToken');
  if (nextToken) {
    const resolved = ctx.deps.pages.resolve(nextToken, binding);
    if (resolved === undefined) {
      throw new CarDataError('CU-125', { note: 'The token is unknown, expired or was issued for another query.' });
    }
    offset = resolved;
  }
  const list = ctx.deps.data.sessions(v);
  const [lo, hi] = sessionWindow(list, fromMs, toMs);
  const start = Math.min(lo + offset, hi);
  const end = Math.min(start + ctx.deps.chargingPageSize, hi);
  const page: ChargingHistoryPage = { data: list.slice(start, end) };
  // snake_case in the answer, camelCase in the query: BMW's spelling.
  if (end < hi) page.next_token = ctx.deps.pages.issue(binding, offset + (end - start));
  return json(200, page);
}

function chargingSettings(ctx: Ctx): Reply {
  const v = primaryVehicle(ctx, ctx.params[0]);
  const all = ctx.deps.data.chargingSettings(v);
  if (all.length === 0) throw new CarDataError('CU-127');
  const binding = { kind: 'settings' as const, vin: v.vin };
  let offset = 0;
  const nextToken = ctx.req.query.get('nextToken');
  if (nextToken) {
    const resolved = ctx.deps.pages.resolve(nextToken, binding);
    if (resolved === undefined) throw new CarDataError('CU-125');
    offset = resolved;
  }
  const end = Math.min(offset + ctx.deps.settingsPageSize, all.length);
  const page: ChargingSettingsPage = { data: all.slice(offset, end) };
  if (end < all.length) page.nextToken = ctx.deps.pages.issue(binding, end);
  return json(200, page);
}

function tyreDiagnosis(ctx: Ctx): Reply {
  return json(200, ctx.deps.data.tyres(primaryVehicle(ctx, ctx.params[0])));
}

function image(ctx: Ctx): Reply {
  const png = ctx.deps.data.image(primaryVehicle(ctx, ctx.params[0]));
  if (!png) throw new CarDataError('CU-126');
  return { status: 200, body: png, contentType: 'image/png' };
}

function listContainers(ctx: Ctx): Reply {
  return json(200, { containers: ctx.deps.containers.list(ctx.gcid) });
}

async function createContainer(ctx: Ctx): Promise<Reply> {
  let body: unknown;
  try {
    body = JSON.parse((await ctx.req.readBody()).toString('utf8'));
  } catch {
    throw new CarDataError('CU-400', { note: 'The body must be a JSON CreateContainerRequest.' });
  }
  return json(201, ctx.deps.containers.create(ctx.gcid, body));
}

function containerDetails(ctx: Ctx): Reply {
  return json(200, ctx.deps.containers.details(ctx.gcid, ctx.params[0]));
}

function deleteContainer(ctx: Ctx): Reply {
  assertContainerIdFormat(ctx.params[0]);
  if (ctx.deps.containers.remove(ctx.gcid, ctx.params[0]) === 'already') throw new CarDataError('CU-122');
  return { status: 204 };
}

const VIN = '([^/]+)';
const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/customers\/vehicles\/mappings$/, handler: mappings },
  { method: 'GET', pattern: new RegExp(`^/customers/vehicles/${VIN}/basicData$`), handler: basicData },
  { method: 'GET', pattern: new RegExp(`^/customers/vehicles/${VIN}/telematicData$`), handler: telematicData },
  { method: 'GET', pattern: new RegExp(`^/customers/vehicles/${VIN}/chargingHistory$`), handler: chargingHistory },
  { method: 'GET', pattern: new RegExp(`^/customers/vehicles/${VIN}/locationBasedChargingSettings$`), handler: chargingSettings },
  { method: 'GET', pattern: new RegExp(`^/customers/vehicles/${VIN}/smartMaintenanceTyreDiagnosis$`), handler: tyreDiagnosis },
  { method: 'GET', pattern: new RegExp(`^/customers/vehicles/${VIN}/image$`), handler: image },
  { method: 'GET', pattern: /^\/customers\/containers$/, handler: listContainers },
  { method: 'POST', pattern: /^\/customers\/containers$/, handler: createContainer },
  { method: 'GET', pattern: /^\/customers\/containers\/([^/]+)$/, handler: containerDetails },
  { method: 'DELETE', pattern: /^\/customers\/containers\/([^/]+)$/, handler: deleteContainer },
];

function match(method: string, path: string): { handler: Handler; params: string[] } | undefined {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(path);
    if (!m) continue;
    try {
      return { handler: route.handler, params: m.slice(1).map((p) => decodeURIComponent(p)) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export async function handleRest(req: RestRequest, deps: RestDeps): Promise<Reply> {
  const route = match(req.method, req.path);
  if (!route) return cuError('CU-400', { status: 404, note: `No operation ${req.method} ${req.path}.` });
  if (req.headers['x-version'] !== 'v1') return cuError('CU-400', { note: 'Header x-version: v1 is required.' });
  if (!req.bearer) return cuError('CU-100');
  const access = deps.tokens.checkAccess(req.bearer);
  if (!access.ok) return cuError(access.code);
  if (!access.scopes.has(API_SCOPE)) return cuError('CU-103');
  // Every authenticated call costs quota, also those that fail validation below.
  if (!deps.quota.tryConsume(access.gcid)) return cuError('CU-429');
  try {
    return await route.handler({ req, deps, gcid: access.gcid, params: route.params });
  } catch (err) {
    if (err instanceof CarDataError) return fromCarDataError(err);
    throw err;
  }
}
