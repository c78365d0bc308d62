// n8n's quota count: the process-wide count (every workflow of this n8n) and the workflow's static data (kept
// across restarts) are merged, today's higher count winning, so no restart or second workflow forgets a call.
import assert from 'assert';
import { runNode, authorizedCredentials, useSimulator } from '../support/n8n-harness';
import { createHash } from 'crypto';

// Always asked of BMW (never from the cache): every run counts.
const LIST = { resource: 'vehicle', operation: 'getAll', options: { cacheMaxAge: '0' } };

describe('n8n quota count across workflows and restarts', function () {
  let sim;
  useSimulator({}, (s) => (sim = s));

  /** A workflow's static data holding one saved count. */
  const saved = (key, record) => ({ global: { bmwCarDataQuota: { [key]: record } } });

  /** Runs Vehicle > Get Many and returns what the item says was used, and the workflow's saved counts. */
  async function used(creds, staticData) {
    const { items, error, staticData: after } = await runNode(creds, LIST, { staticData });
    assert.ifError(error);
    return { used: items[0].json._quota.used, saved: after.global.bmwCarDataQuota };
  }

  it('one account: the higher count of today wins, whichever side holds it, and another day counts for nothing', async () => {
    const creds = authorizedCredentials(sim);
    const first = await used(creds, {});
    assert.strictEqual(first.used, 1);
    const keys = Object.keys(first.saved);
    assert.strictEqual(keys.length, 1, 'one saved count per account');
    const [key] = keys;
    const today = first.saved[key].day;
    assert.match(today, /^\d{4}-\d{2}-\d{2}$/);
    const yesterday = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

    // The workflow saved more than this process counted (n8n restarted in between): the saved count goes on.
    let r = await used(creds, saved(key, { day: today, used: 30 }));
    assert.strictEqual(r.used, 31);
    assert.deepStrictEqual(r.saved[key], { day: today, used: 31 });

    // A second workflow without saved counts shares the process count.
    r = await used(creds, {});
    assert.strictEqual(r.used, 32);

    // The process counted more than this workflow saved: the process count goes on.
    r = await used(creds, saved(key, { day: today, used: 5 }));
    assert.strictEqual(r.used, 33);
    assert.deepStrictEqual(r.saved[key], { day: today, used: 33 });

    // A higher count of an earlier day is yesterday's budget, not today's.
    r = await used(creds, saved(key, { day: yesterday, used: 49 }));
    assert.strictEqual(r.used, 34);

    // Equal counts of today: one more, not two.
    r = await used(creds, saved(key, { day: today, used: 34 }));
    assert.strictEqual(r.used, 35);
  });

  it("an account this n8n process has not counted yet: the workflow's saved count goes on, kept under a short hash of the account", async () => {
    const creds = authorizedCredentials(sim);
    const key = createHash('sha256').update(creds.data.gcid).digest('hex').slice(0, 16);
    const today = new Date().toISOString().slice(0, 10);
    const r = await used(creds, saved(key, { day: today, used: 12 }));
    assert.strictEqual(r.used, 13);
    assert.deepStrictEqual(Object.keys(r.saved), [key]);
    assert.doesNotMatch(JSON.stringify(r.saved), new RegExp(creds.data.gcid), 'the account itself is not in the static data');
  });

  it('a day BMW said is spent, saved by one workflow, is refused locally in the next run', async () => {
    const creds = authorizedCredentials(sim);
    const first = await used(creds, {});
    const [key] = Object.keys(first.saved);
    const today = first.saved[key].day;
    const { items, error } = await runNode(creds, LIST, {
      staticData: saved(key, { day: today, used: 50, exhausted: true }),
      nodeExtra: { onError: 'continueRegularOutput' },
    });
    assert.ifError(error);
    assert.strictEqual(items[0].json.code, 'CU-429');
    assert.strictEqual(items[0].json._quota.remaining, 0);
    assert.strictEqual(sim.quota().used, 1, 'only the first run reached BMW');
  });
});
