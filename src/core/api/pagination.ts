import { CarDataError } from '../errors';
import type { OperationSpec } from './operations';
import { checkLimit } from '../validation';

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
 * A paged read. Awaited (it is a promise), all its items up to `limit` in one array, read once however often it
 * is awaited; iterated with `for await`, its items one at a time, fetching pages only as needed; `pages()`
 * iterates the pages themselves. Nothing is fetched until one of these starts; each iteration reads afresh.
 */
export interface Paged<T, P> extends Promise<T[]>, AsyncIterable<T> {
  pages(): AsyncIterable<P>;
}

/**
 * The paged read of one operation: follows the page token (the spelling the operations table names) until there
 * is none or `limit` items were read. A repeated token is an error, never a loop; an expired token (CU-125)
 * surfaces as BMW's error with its hint.
 */
export function paginate<T, P>(fetchPage: (nextToken?: string) => Promise<P>, spec: OperationSpec, options: PageOptions = {}): Paged<T, P> {
  async function* pages(): AsyncGenerator<P> {
    const limit = checkLimit(options.limit);
    const maxPages = options.maxPages ?? 1000;
    const seen = new Set<string>();
    let token: string | undefined;
    let pageCount = 0;
    let items = 0;
    for (;;) {
      const page = await fetchPage(token);
      pageCount += 1;
      items += pageItems(page, spec).length;
      options.onPage?.({ pages: pageCount, items });
      yield page;
      if (limit !== undefined && items >= limit) return;
      token = pageToken(page, spec);
      if (!token) return;
      if (seen.has(token) || pageCount >= maxPages) {
        throw new CarDataError({
          kind: 'bmw',
          operation: spec.id,
          message: `${spec.id}: paging stopped after ${pageCount} pages (${seen.has(token) ? 'BMW repeated a page token' : 'page limit reached'})`,
          hint: 'Narrow the date range or set a limit.',
        });
      }
      seen.add(token);
    }
  }
  // The items of every page, stopping at `limit`: the page iterator is not advanced past it.
  async function* items(): AsyncGenerator<T> {
    const limit = checkLimit(options.limit);
    let count = 0;
    for await (const page of pages()) {
      for (const item of pageItems<T>(page, spec)) {
        if (limit !== undefined && count >= limit) return;
        count += 1;
        yield item;
      }
    }
  }
  let all: Promise<T[]> | undefined;
  const collected = (): Promise<T[]> =>
    (all ??= (async () => {
      const out: T[] = [];
      for await (const item of items()) out.push(item);
      return out;
    })());
  return {
    pages,
    [Symbol.asyncIterator]: items,
    [Symbol.toStringTag]: 'Paged',
    then: (onFulfilled, onRejected) => collected().then(onFulfilled, onRejected),
    catch: (onRejected) => collected().catch(onRejected),
    finally: (onFinally) => collected().finally(onFinally),
  };
}
