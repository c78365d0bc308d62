import { CarDataError } from './errors';
import type { OperationSpec } from './operations';
import { checkLimit } from './validation';

export interface PageProgress {
  /** Pages fetched so far. */
  pages: number;
  /** Items received so far (before the limit cuts). */
  items: number;
}

export interface PageOptions {
  /** Stop once this many items were read: no further page is fetched. */
  limit?: number;
  /** Safety stop against an answer that never ends (default 1000 pages). */
  maxPages?: number;
  /** Told after every page, for progress lines and node status. */
  onPage?: (progress: PageProgress) => void;
}

/** The next page token of an answer, whichever spelling BMW used (next_token or nextToken). */
export function pageToken(page: unknown, spec: OperationSpec): string | undefined {
  if (!spec.paging || !page || typeof page !== 'object') return undefined;
  for (const field of spec.paging.tokenFields) {
    const value = (page as Record<string, unknown>)[field];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** The items of one page. */
export function pageItems<T>(page: unknown, spec: OperationSpec): T[] {
  const field = spec.paging?.itemsField ?? 'data';
  const items = page && typeof page === 'object' ? (page as Record<string, unknown>)[field] : undefined;
  return Array.isArray(items) ? (items as T[]) : [];
}

/**
 * Pages of a paged operation, following the token until there is none or `limit` items were read. A repeated
 * token is an error, never a loop; an expired token (CU-125) surfaces as BMW's error with its hint.
 */
export async function* paginate<P>(fetchPage: (nextToken?: string) => Promise<P>, spec: OperationSpec, options: PageOptions = {}): AsyncGenerator<P> {
  const limit = checkLimit(options.limit);
  const maxPages = options.maxPages ?? 1000;
  const seen = new Set<string>();
  let token: string | undefined;
  let pages = 0;
  let items = 0;
  for (;;) {
    const page = await fetchPage(token);
    pages += 1;
    items += pageItems(page, spec).length;
    options.onPage?.({ pages, items });
    yield page;
    if (limit !== undefined && items >= limit) return;
    token = pageToken(page, spec);
    if (!token) return;
    if (seen.has(token) || pages >= maxPages) {
      throw new CarDataError({
        kind: 'bmw',
        operation: spec.id,
        message: `${spec.id}: paging stopped after ${pages} pages (${seen.has(token) ? 'BMW repeated a page token' : 'page limit reached'})`,
        hint: 'Narrow the date range or set a limit.',
      });
    }
    seen.add(token);
  }
}

/** The items of every page, stopping at `limit`: the page iterator is not advanced past it. */
export async function* paginateItems<T>(pages: AsyncIterable<unknown>, spec: OperationSpec, limit?: number): AsyncGenerator<T> {
  let count = 0;
  for await (const page of pages) {
    for (const item of pageItems<T>(page, spec)) {
      if (limit !== undefined && count >= limit) return;
      count += 1;
      yield item;
    }
  }
}
