// The reserve the user keeps: calls that run unattended never spend the last calls of the day; a run started by
// hand may. In core's ledger, in Node-RED's real runtime (an inject button against a repeating inject), in n8n's
// execution code (a manual execution against one started by a trigger) and in the command line.
import assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFile } from 'child_process';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import * as core from '../../src/node';
import { failure } from '../support/failure';
import * as nr from '../support/nodered';
import * as n8n from '../support/n8n-harness';
import { BmwCarDataApi } from '../../credentials/BmwCarDataApi.credentials.js';

const { QuotaLedger, MemoryQuotaStore, DEFAULT_QUOTA_RESERVE } = core;
const VIN = SIM_VINS.bev;
const RESERVE_ERROR =
  /the last (\d+) of the (\d+) daily CarData calls are kept in reserve for what you start by hand \((\d+) used\); refused locally, BMW was not called\. Resets at \d{4}-\d{2}-\d{2}T00:00:00Z/;

describe('the reserve the user keeps', function () {
  describe('core ledger', () => {
    const at = () => Date.parse('2026-03-10T20:00:00Z');

    it('an unattended call stops where the reserve begins, saying so and when the day resets; an attended one may go on', async () => {
      const store = new MemoryQuotaStore();
      const ledger = new QuotaLedger({ limit: 5, reserve: 2, store, now: at });
      for (let i = 0; i < 3; i++) await ledger.take('a', 'getBasicData');
      const e = await failure(ledger.take('a', 'getBasicData'));
      assert.strictEqual(e.kind, 'quota');
      assert.strictEqual(e.exveErrorId, undefined, "not BMW's CU-429: BMW was not asked");
      assert.strictEqual(
        e.message,
        'getBasicData: the last 2 of the 5 daily CarData calls are kept in reserve for what you start by hand (3 used); refused locally, BMW was not called. Resets at 2026-03-11T00:00:00Z',
      );
      assert.match(e.hint, /Keep in Reserve/);
      assert.strictEqual(e.retryAfterMs, 4 * 3600_000, 'the time to the reset');
      assert.deepStrictEqual(await store.load('a'), { day: '2026-03-10', used: 3 }, 'a refusal spends nothing');
      assert.strictEqual((await ledger.take('a', 'getBasicData', { attended: true })).used, 4);
      assert.strictEqual((await ledger.take('a', 'getBasicData', { attended: true })).used, 5);
      const spent = await failure(ledger.take('a', 'getBasicData', { attended: true }));
      assert.strictEqual(spent.exveErrorId, 'CU-429', 'the day itself is the limit of what is started by hand');
    });

    it('no reserve unless one is set; the hosts offer 10', async () => {
      const ledger = new QuotaLedger({ limit: 2, now: at });
      await ledger.take('a');
      assert.strictEqual((await ledger.take('a')).used, 2);
      assert.strictEqual(DEFAULT_QUOTA_RESERVE, 10);
      assert.deepStrictEqual(
        [core.quotaReserve(undefined), core.quotaReserve(''), core.quotaReserve('3'), core.quotaReserve(-1), core.quotaReserve(0)],
        [10, 10, 3, 10, 0],
      );
    });

    it("a client's forRun view shares the ledger, and says for each run whether it was started by hand", async () => {
      const sim = await startSimulator({ dailyQuota: 1000 });
      try {
        const t = sim.issueTokens({ clientId: 'reserve-client' });
        const { client } = core.createAccount({
          clientId: 'reserve-client',
          apiBaseUrl: sim.apiBaseUrl,
          authBaseUrl: sim.authBaseUrl,
          tokens: { accessToken: t.access_token, refreshToken: t.refresh_token, gcid: t.gcid, expiresAt: Date.now() + 3600_000 },
          dailyQuota: 3,
          quotaReserve: 2,
        });
        // Every read asks BMW (basic data is otherwise answered from the cache).
        const fresh = { maxAgeMs: 0 };
        await client.getBasicData(VIN, fresh);
        assert.match((await failure(client.getBasicData(VIN, fresh))).message, RESERVE_ERROR);
        const byHand = client.forRun({ attended: true });
        await byHand.getBasicData(VIN, fresh);
        assert.strictEqual((await client.quotaState()).used, 2, 'one count for both');
        assert.match((await failure(client.forRun({ attended: false }).getBasicData(VIN, fresh))).message, RESERVE_ERROR);
        assert.strictEqual(sim.restCalls().length, 2);
      } finally {
        await sim.close();
      }
    });
  });

  describe('Node-RED (real runtime)', () => {
    const { helper } = nr;
    let sim;
    before(async () => {
      sim = await startSimulator({ dailyQuota: 1000 });
      await helper.startServer();
    });
    after(async () => {
      await helper.stopServer();
      await sim.close();
    });
    afterEach(() => helper.unload());

    /** An account with 50 a day of which 48 are kept: unattended flows get 2. */
    async function deploy(injects) {
      nr.freshUserDir();
      const flow = [
        { id: 'tab', type: 'tab', label: 'reserve' },
        nr.accountConfig(sim, { quotaReserve: '48' }),
        ...injects.map((i) => ({ z: 'tab', type: 'inject', props: [], wires: [['change']], ...i })),
        // A node between the button and ours passes the message on: it still counts as started by hand.
        { id: 'change', z: 'tab', type: 'change', rules: [{ t: 'set', p: 'topic', pt: 'msg', to: 'x', tot: 'str' }], wires: [['b']] },
        { id: 'b', z: 'tab', type: 'bmw-cardata-basic-data', account: 'acc', vin: VIN, cacheMaxAge: '0', wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
      ].map((n, i) => (n.z ? { x: 100, y: 40 * (i + 1), ...n } : n));
      await helper.load([...nr.allNodes, nr.coreNode('common/20-inject.js'), nr.coreNode('function/15-change.js')], flow, {
        acc: nr.authorizedCredentials(sim),
      });
      return { out: nr.collector(helper.getNode('out')), caught: nr.collector(helper.getNode('caught')) };
    }

    it('a repeating inject stops at the reserve; the inject button in the editor may spend it', async () => {
      const { out, caught } = await deploy([
        { id: 'tick', repeat: '0.05' },
        { id: 'hand', repeat: '' },
      ]);
      await caught.wait(3, 10_000);
      const spentByTicks = sim.restCalls().length;
      assert.strictEqual(out.messages.length, 2, 'the repeating inject got the 2 calls left unattended');
      assert.strictEqual(spentByTicks, 2);
      const [, kept, limit, used] = caught.messages[0].error.message.match(RESERVE_ERROR);
      assert.deepStrictEqual([kept, limit, used], ['48', '50', '2']);
      assert.strictEqual(caught.messages[0].cardataError.kind, 'quota');
      assert.match(nr.lastStatus(helper.getNode('b')).text, /quota/);
      // The user presses the other inject's button: Node-RED's own admin route.
      await helper.request().post('/inject/hand').expect(200);
      const got = await out.wait(3, 10_000);
      assert.strictEqual(got[2].quota.used, 3, 'the press spent a reserved call');
      assert.strictEqual(got[2].topic, 'x');
      // The repeating inject's own button counts as by hand too; its timer does not.
      await helper.request().post('/inject/tick').expect(200);
      assert.strictEqual((await out.wait(4, 10_000))[3].quota.used, 4);
    });

    it('"inject once" after deploy runs unattended', async () => {
      const { out, caught } = await deploy([{ id: 'once', repeat: '', once: true, onceDelay: 0.01 }]);
      await out.wait(1, 10_000);
      assert.strictEqual(caught.messages.length, 0);
      assert.strictEqual(out.messages[0].quota.used, 1);
      // Spend the second unattended call by a plain message (no button), then the third is refused.
      helper.getNode('b').receive({});
      await out.wait(2, 10_000);
      helper.getNode('b').receive({});
      const [refused] = await caught.wait(1, 10_000);
      assert.match(refused.error.message, RESERVE_ERROR, 'a message no button started is unattended');
    });
  });

  describe('n8n (execution modes)', () => {
    let sim;
    before(async () => {
      sim = await startSimulator({ dailyQuota: 1000 });
    });
    after(async () => {
      await sim.close();
      n8n.cleanup();
    });

    it('an execution started by a trigger or schedule stops at the reserve; a manual execution may spend it', async () => {
      const creds = n8n.authorizedCredentials(sim, { quotaReserve: 48 });
      const read = { resource: 'vehicle', operation: 'get', vin: { __rl: true, mode: 'vin', value: VIN }, options: { cacheMaxAge: '0' } };
      const staticData = {};
      for (let i = 0; i < 2; i++) assert.ifError((await n8n.runNode(creds, read, { staticData, mode: 'trigger' })).error);
      const refused = await n8n.runNode(creds, read, { staticData, mode: 'trigger' });
      assert.ok(refused.error, 'the third unattended read is refused');
      assert.match(refused.error.message, RESERVE_ERROR);
      const calls = sim.restCalls().length;
      const manual = await n8n.runNode(creds, read, { staticData, mode: 'manual' });
      assert.ifError(manual.error);
      assert.strictEqual(sim.restCalls().length, calls + 1);
      // A webhook is unattended too.
      assert.match((await n8n.runNode(creds, read, { staticData, mode: 'webhook' })).error.message, RESERVE_ERROR);
    });

    it('the credential offers Keep in Reserve, 10 by default', () => {
      const field = new BmwCarDataApi().properties.find((p) => p.name === 'quotaReserve');
      assert.strictEqual(field.displayName, 'Keep in Reserve');
      assert.strictEqual(field.default, 10);
    });
  });

  describe('command line', () => {
    const CLI = path.join(__dirname, '../../dist/src/cli/main.js');
    let sim;
    let dir;
    before(async () => {
      sim = await startSimulator({ autoApprove: true, pollIntervalSec: 0, dailyQuota: 1000 });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-reserve-'));
    });
    after(async () => {
      await sim.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const run = (args) =>
      new Promise<{ code: number | string | null | undefined; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [CLI, ...args, '--base-url', sim.apiBaseUrl, '--auth-url', sim.authBaseUrl, '--config', path.join(dir, 'account.json')],
          { timeout: 30_000 },
          (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }),
        );
      });

    it('a command is typed by hand: it may spend the reserve', async () => {
      assert.strictEqual((await run(['login', '--client-id', 'reserve-cli'])).code, 0);
      // Unattended work sharing the quota file has spent what it may (40 of 50).
      const ledger = new QuotaLedger({ store: new core.FileQuotaStore(path.join(dir, 'quota.json')), reserve: DEFAULT_QUOTA_RESERVE });
      for (let i = 0; i < 40; i++) await ledger.take(sim.gcid);
      await assert.rejects(ledger.take(sim.gcid), RESERVE_ERROR);
      const res = await run(['basic-data', '--vin', VIN]);
      assert.strictEqual(res.code, 0, res.stderr);
      assert.match(res.stderr, /quota: 41\/50 calls used today/);
    });
  });
});
