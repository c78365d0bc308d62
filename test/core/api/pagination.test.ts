// Paging: the page iterator on its own (pure), and the client against a hostile BMW on loopback that hands out
// the same page token again and again.
import assert from 'assert';
import * as http from 'http';
import * as core from '../../../src/node';
import { failure } from '../../support/failure';

const { paginate, pageToken, pageItems, OPERATIONS, CarDataClient, CarDataError, AxiosTransport } = core;

const HISTORY = OPERATIONS.getChargingHistory;
const VIN = 'WBA00000000000001';
const FROM = '2026-01-01T00:00:00Z';
const TO = '2026-01-31T00:00:00Z';

/** A fetchPage that serves `pages` in order and remembers the tokens it was asked with. */
function pagesOf(pages) {
  const asked = [];
  const fetchPage = async (token) => {
    asked.push(token);
    const page = pages[asked.length - 1];
    if (!page) throw new Error(`page ${asked.length} was never meant to be fetched`);
    return page;
  };
  return { fetchPage, asked };
}

async function all(iterable) {
  const out = [];
  for await (const x of iterable) out.push(x);
  return out;
}

/** A BMW that answers every charging-history page with one session and the same next token. */
async function repeatingBmw(token) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    requests.push({ path: url.pathname, nextToken: url.searchParams.get('nextToken') });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: [{ startTime: 1767225600 + requests.length }], next_token: token }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('core paging', function () {
  describe('pageToken and pageItems', () => {
    it('reads the token under either spelling BMW uses, the first one present winning', () => {
      assert.strictEqual(pageToken({ next_token: 'a' }, HISTORY), 'a');
      assert.strictEqual(pageToken({ nextToken: 'b' }, HISTORY), 'b');
      assert.strictEqual(pageToken({ next_token: 'a', nextToken: 'b' }, HISTORY), 'a');
      assert.strictEqual(pageToken({ next_token: '', nextToken: 'b' }, HISTORY), 'b', 'an empty token is no token');
      assert.strictEqual(pageToken({ next_token: 7, nextToken: 'b' }, HISTORY), 'b', 'a number is no token');
    });

    it('has no token for pages without one, for non-objects and for operations that do not page', () => {
      for (const page of [{}, { next_token: '' }, { next_token: null }, null, undefined, 'next_token', 42]) {
        assert.strictEqual(pageToken(page, HISTORY), undefined, JSON.stringify(page));
      }
      assert.strictEqual(pageToken({ next_token: 'a' }, OPERATIONS.getMappings), undefined);
    });

    it("takes the items from the operation's items field, or from data when it does not page", () => {
      assert.deepStrictEqual(pageItems({ data: [1, 2] }, HISTORY), [1, 2]);
      assert.deepStrictEqual(pageItems({ data: [3] }, OPERATIONS.getMappings), [3]);
      assert.deepStrictEqual(pageItems({ items: [1] }, HISTORY), []);
      assert.deepStrictEqual(pageItems({ data: 'not a list' }, HISTORY), []);
      assert.deepStrictEqual(pageItems(null, HISTORY), []);
      assert.deepStrictEqual(pageItems('data', HISTORY), []);
    });
  });

  describe('paginate', () => {
    it('follows the token page by page until a page has none, passing each token on', async () => {
      const pages = [{ data: [1, 2], next_token: 't1' }, { data: [3], nextToken: 't2' }, { data: [4, 5, 6] }];
      const { fetchPage, asked } = pagesOf(pages);
      const progress = [];
      const got = await all(paginate(fetchPage, HISTORY, { onPage: (p) => progress.push({ ...p }) }).pages());
      assert.deepStrictEqual(got, pages);
      assert.deepStrictEqual(asked, [undefined, 't1', 't2']);
      assert.deepStrictEqual(progress, [
        { pages: 1, items: 2 },
        { pages: 2, items: 3 },
        { pages: 3, items: 6 },
      ]);
    });

    it('stops at the limit without fetching the next page, counting items before the cut', async () => {
      const pages = [{ data: [1, 2], next_token: 't1' }, { data: [3, 4], next_token: 't2' }, { data: [5] }];
      const { fetchPage, asked } = pagesOf(pages);
      const progress = [];
      const got = await all(paginate(fetchPage, HISTORY, { limit: 3, onPage: (p) => progress.push(p.items) }).pages());
      assert.strictEqual(got.length, 2);
      assert.deepStrictEqual(asked, [undefined, 't1']);
      assert.deepStrictEqual(progress, [2, 4]);
    });

    it('a limit reached exactly at the end of a page fetches no further page', async () => {
      const { fetchPage, asked } = pagesOf([{ data: [1, 2], next_token: 't1' }, { data: [3] }]);
      assert.strictEqual((await all(paginate(fetchPage, HISTORY, { limit: 2 }).pages())).length, 1);
      assert.strictEqual(asked.length, 1);
    });

    it('refuses a bad limit before fetching anything', async () => {
      const { fetchPage, asked } = pagesOf([{ data: [1] }]);
      const err = await failure(all(paginate(fetchPage, HISTORY, { limit: -1 }).pages()));
      assert.ok(err instanceof CarDataError);
      assert.strictEqual(err.kind, 'input');
      assert.strictEqual(err.parameter, 'limit');
      assert.strictEqual(asked.length, 0);
    });

    it('a token BMW repeats is an error after the page that repeated it, never a loop', async () => {
      const pages = [{ data: [1], next_token: 'a' }, { data: [2], next_token: 'b' }, { data: [3], next_token: 'a' }, { data: [4] }];
      const { fetchPage, asked } = pagesOf(pages);
      const got = [];
      const err = await failure(
        (async () => {
          for await (const page of paginate(fetchPage, HISTORY).pages()) got.push(page);
        })(),
      );
      assert.deepStrictEqual(asked, [undefined, 'a', 'b'], 'the repeated token is not sent again');
      assert.strictEqual(got.length, 3, 'every page before the repetition was handed out');
      assert.ok(err instanceof CarDataError);
      assert.strictEqual(err.kind, 'bmw');
      assert.strictEqual(err.operation, 'getChargingHistory');
      assert.strictEqual(err.message, 'getChargingHistory: paging stopped after 3 pages (BMW repeated a page token)');
      assert.match(err.hint, /date range|limit/);
    });

    it('stops at maxPages with its own reason', async () => {
      let n = 0;
      const fetchPage = async () => ({ data: [n], next_token: `t${++n}` });
      const got = [];
      const err = await failure(
        (async () => {
          for await (const page of paginate(fetchPage, HISTORY, { maxPages: 3 }).pages()) got.push(page);
        })(),
      );
      assert.strictEqual(n, 3);
      assert.strictEqual(got.length, 3);
      assert.strictEqual(err.message, 'getChargingHistory: paging stopped after 3 pages (page limit reached)');
    });

    it('a page without a token as the last of maxPages ends normally', async () => {
      const { fetchPage } = pagesOf([{ data: [1], next_token: 'a' }, { data: [2] }]);
      assert.strictEqual((await all(paginate(fetchPage, HISTORY, { maxPages: 2 }).pages())).length, 2);
    });

    it('allows 1000 pages by default', async function () {
      let n = 0;
      const fetchPage = async () => ({ data: [], next_token: `t${++n}` });
      const err = await failure(all(paginate(fetchPage, HISTORY).pages()));
      assert.strictEqual(n, 1000);
      assert.match(err.message, /after 1000 pages \(page limit reached\)/);
    });
  });

  describe('items, one at a time or all at once', () => {
    const PAGES = [{ data: [1, 2], next_token: 'a' }, { data: [], next_token: 'b' }, { data: [3, 4], next_token: 'c' }, { data: [5] }];

    it('iterated: the items of every page in order, no page pulled past the limit', async () => {
      let read = pagesOf(PAGES);
      assert.deepStrictEqual(await all(paginate(read.fetchPage, HISTORY)), [1, 2, 3, 4, 5]);
      read = pagesOf(PAGES);
      assert.deepStrictEqual(await all(paginate(read.fetchPage, HISTORY, { limit: 3 })), [1, 2, 3]);
      assert.strictEqual(read.asked.length, 3, 'the page after the limit is not pulled');
      read = pagesOf(PAGES);
      assert.deepStrictEqual(await all(paginate(read.fetchPage, HISTORY, { limit: 2 })), [1, 2]);
      assert.strictEqual(read.asked.length, 1);
    });

    it('awaited: every item up to the limit in one array, read once however often it is awaited', async () => {
      const read = pagesOf(PAGES);
      const paged = paginate(read.fetchPage, HISTORY, { limit: 4 });
      assert.strictEqual(read.asked.length, 0, 'nothing is fetched before it is awaited or iterated');
      assert.deepStrictEqual(await paged, [1, 2, 3, 4]);
      assert.deepStrictEqual(await paged, [1, 2, 3, 4]);
      assert.strictEqual(read.asked.length, 3);
      assert.ok(paged instanceof Object && typeof paged.catch === 'function' && typeof paged.finally === 'function');
    });

    it('awaited: a page that fails fails the whole read', async () => {
      const { fetchPage } = pagesOf(PAGES.slice(0, 2));
      const err = await failure(paginate(fetchPage, HISTORY));
      assert.match(err.message, /page 3 was never meant to be fetched/);
      await assert.rejects(paginate(fetchPage, HISTORY, { limit: -1 }), (e: any) => e.parameter === 'limit');
    });
  });

  describe('the client against a BMW that repeats its page token', () => {
    let bmw;
    afterEach(async () => {
      await bmw.close();
    });

    it('stops after the second page with an error that says so, and sends the token once', async () => {
      bmw = await repeatingBmw('same-token');
      const client = new CarDataClient({ apiBaseUrl: bmw.url, transport: new AxiosTransport(), sleep: async () => {} });
      const err = await failure(client.paginate('getChargingHistory', { vin: VIN, from: FROM, to: TO }));
      assert.ok(err instanceof CarDataError);
      assert.strictEqual(err.kind, 'bmw');
      assert.match(err.message, /after 2 pages \(BMW repeated a page token\)/);
      assert.deepStrictEqual(
        bmw.requests.map((r) => r.nextToken),
        [null, 'same-token'],
      );
      assert.ok(bmw.requests.every((r) => r.path === `/customers/vehicles/${VIN}/chargingHistory`));
    });

    it('the settings pages stop the same way', async () => {
      bmw = await repeatingBmw('again');
      const client = new CarDataClient({ apiBaseUrl: bmw.url, transport: new AxiosTransport(), sleep: async () => {} });
      const err = await failure(client.paginate('getLocationBasedChargingSettings', { vin: VIN }));
      assert.match(err.message, /^getLocationBasedChargingSettings: paging stopped after 2 pages \(BMW repeated a page token\)$/);
      assert.strictEqual(bmw.requests.length, 2);
    });
  });
});
