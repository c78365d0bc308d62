// The account's admin routes against misuse: they answer only the editor (requests carrying the header its script
// sets, from its own origin by Sec-Fetch-Site or Origin) and without Access-Control-Allow-Origin, so a page elsewhere
// can neither read nor change anything when adminAuth is off; routes that change something take JSON only; a deployed
// account's client ID never goes to an auth URL named in a request; a login link that is not an http(s) address is
// refused. In Node-RED (node-red-node-test-helper, and a real Node-RED process without adminAuth), against the
// simulator and a loopback "foreign" login service.
import assert from 'assert';
import * as http from 'http';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { helper, editor, freshUserDir, allNodes, accountConfig, authorizedCredentials, sleep, CLIENT_ID } from '../support/nodered';
import { startNodeRed, EDITOR_HEADERS } from '../support/nodered-runtime';

/**
 * A login service on loopback that is not the account's: it records every request and answers the device-code
 * request with `deviceAnswer` (by default a well-formed one).
 */
async function startForeignLogin(deviceAnswer = {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, body });
      if (req.url.endsWith('/oauth/device/code')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            device_code: 'dc-1',
            user_code: 'AB-12',
            verification_uri: 'https://login.example/link',
            interval: 0,
            expires_in: 300,
            ...deviceAnswer,
          }),
        );
        return;
      }
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'authorization_pending' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/gcdm`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const authRequests = (sim) => sim.requests.filter((r) => r.kind === 'auth');
/**
 * Logins started at the simulator: what a refused request must not cause. (A token poll of a login an earlier test
 * started and cancelled can still arrive late, when the machine is busy; it is no start.)
 */
const loginStarts = (sim) => sim.requests.filter((r) => r.path.endsWith('/device/code')).length;

describe('Node-RED account routes: JSON only, no foreign auth URL, web links only', function () {
  let sim;
  let foreign;
  before(async () => {
    sim = await startSimulator({ pollIntervalSec: 0 });
  });
  after(() => sim.close());
  beforeEach(async () => {
    freshUserDir();
    sim.clearLog();
    sim.setQuotaUsed(0);
    sim.setAutoApprove(false);
    foreign = await startForeignLogin();
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    await foreign.close();
  });

  const deployed = (creds) => helper.load(allNodes, [{ id: 'tab', type: 'tab' }, accountConfig(sim)], { acc: creds });
  const status = async (id) => (await editor().get(`/bmw-cardata/${id}/auth/status`).expect(200)).body;

  describe('routes that change something take a JSON body only', function () {
    const bodies: [string, string, (fields: Record<string, string>) => string][] = [
      ['a form', 'application/x-www-form-urlencoded', (fields) => new URLSearchParams(fields).toString()],
      ['plain text', 'text/plain', (fields) => JSON.stringify(fields)],
      [
        'multipart',
        'multipart/form-data; boundary=x',
        (fields) =>
          Object.entries(fields)
            .map(([k, v]) => `--x\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
            .join('') + '--x--\r\n',
      ],
    ];

    for (const [name, type, encode] of bodies) {
      it(`auth/start posted as ${name} gets 415 and starts nothing`, async () => {
        await helper.load(allNodes, [{ id: 'tab', type: 'tab' }]);
        const res = await editor()
          .post('/bmw-cardata/newacc/auth/start')
          .set('content-type', type)
          .send(encode({ clientId: 'new-client-id', authBaseUrl: sim.authBaseUrl }))
          .expect(415);
        assert.strictEqual(res.body.error.code, 'input');
        assert.match(res.body.error.message, /JSON/);
        await sleep(100);
        assert.strictEqual(loginStarts(sim), 0, 'nothing reached the login service');
        assert.deepStrictEqual(await status('newacc'), { status: 'none' });
      });
    }

    it('auth/start without a body gets 415; the same request as JSON starts the login', async () => {
      await helper.load(allNodes, [{ id: 'tab', type: 'tab' }]);
      await editor().post('/bmw-cardata/newacc/auth/start').expect(415);
      assert.strictEqual(loginStarts(sim), 0);
      const started = await editor().post('/bmw-cardata/newacc/auth/start').send({ clientId: 'new-client-id', authBaseUrl: sim.authBaseUrl }).expect(200);
      assert.strictEqual(started.body.status, 'pending');
      assert.strictEqual(authRequests(sim).length, 1);
    });

    it('vehicles/refresh posted as a form gets 415 and spends no call', async () => {
      await deployed(authorizedCredentials(sim));
      await editor().post('/bmw-cardata/acc/vehicles/refresh').type('form').send({ x: '1' }).expect(415);
      await editor().post('/bmw-cardata/acc/vehicles/refresh').expect(415);
      assert.strictEqual(sim.restCalls().length, 0);
      assert.strictEqual(sim.quota().used, 0);
      const state = await editor().get('/bmw-cardata/acc/state').expect(200);
      assert.strictEqual(state.body.quota.used, 0, 'no local quota spent');
      const json = await editor().post('/bmw-cardata/acc/vehicles/refresh').send({}).expect(200);
      assert.strictEqual(json.body.quota.used, 1, 'the JSON request is served');
    });

    it('auth/cancel posted as a form gets 415 and the login keeps running', async () => {
      await helper.load(allNodes, [{ id: 'tab', type: 'tab' }]);
      await editor().post('/bmw-cardata/x1/auth/start').send({ clientId: CLIENT_ID, authBaseUrl: sim.authBaseUrl }).expect(200);
      await editor().post('/bmw-cardata/x1/auth/cancel').type('form').send({}).expect(415);
      assert.strictEqual((await status('x1')).status, 'pending');
      const cancelled = await editor().post('/bmw-cardata/x1/auth/cancel').send({}).expect(200);
      assert.strictEqual(cancelled.body.wasRunning, true);
      assert.deepStrictEqual(await status('x1'), { status: 'none' });
    });
  });

  describe("a deployed account's client ID never goes to an auth URL from the request", function () {
    it('a foreign auth URL for a deployed account is refused (409); the foreign service gets nothing', async () => {
      await deployed({ clientId: CLIENT_ID });
      for (const body of [
        { authBaseUrl: foreign.url },
        { clientId: CLIENT_ID, authBaseUrl: foreign.url },
        { clientId: 'other-client-id', authBaseUrl: `${foreign.url}/` },
      ]) {
        const res = await editor().post('/bmw-cardata/acc/auth/start').send(body).expect(409);
        assert.strictEqual(res.body.error.code, 'input');
        assert.match(res.body.error.hint, /Deploy/);
        assert.ok(!JSON.stringify(res.body).includes(CLIENT_ID));
      }
      await sleep(100);
      assert.deepStrictEqual(foreign.requests, [], 'the foreign login service received no request');
      assert.strictEqual(loginStarts(sim), 0);
      assert.deepStrictEqual(await status('acc'), { status: 'none' });
    });

    it("without a URL, or with the deployed one, the login goes to the account's own auth URL", async () => {
      await deployed({ clientId: CLIENT_ID });
      for (const body of [{}, { authBaseUrl: `${sim.authBaseUrl}/` }, { clientId: CLIENT_ID, authBaseUrl: sim.authBaseUrl }]) {
        sim.clearLog();
        const res = await editor().post('/bmw-cardata/acc/auth/start').send(body).expect(200);
        assert.ok(res.body.verificationUriComplete.startsWith(`${sim.authBaseUrl}/`));
        assert.deepStrictEqual(
          authRequests(sim).map((r) => r.path),
          ['/gcdm/oauth/device/code'],
        );
      }
      assert.deepStrictEqual(foreign.requests, []);
    });

    it('an undeployed account uses only a client ID from the request: a stored one never goes to the URL named', async () => {
      // An earlier login from the editor stored a client ID for this (still undeployed) account.
      sim.setAutoApprove(true);
      await helper.load(allNodes, [{ id: 'tab', type: 'tab' }]);
      await editor().post('/bmw-cardata/newacc/auth/start').send({ clientId: 'stored-client-id', authBaseUrl: sim.authBaseUrl }).expect(200);
      for (let i = 0; i < 50 && (await status('newacc')).status === 'pending'; i++) await sleep(100);
      assert.strictEqual(helper._redNodes.getCredentials('newacc').clientId, 'stored-client-id');
      const res = await editor().post('/bmw-cardata/newacc/auth/start').send({ authBaseUrl: foreign.url }).expect(400);
      assert.strictEqual(res.body.error.code, 'input');
      await sleep(100);
      assert.deepStrictEqual(foreign.requests, [], 'the stored client ID did not leave');
    });

    it('a client ID typed for a new account may go to the URL typed beside it', async () => {
      await helper.load(allNodes, [{ id: 'tab', type: 'tab' }]);
      const res = await editor().post('/bmw-cardata/newacc/auth/start').send({ clientId: 'typed-client-id', authBaseUrl: foreign.url }).expect(200);
      assert.strictEqual(res.body.verificationUriComplete, 'https://login.example/link?user_code=AB-12');
      assert.strictEqual(foreign.requests[0].url, '/gcdm/oauth/device/code');
      assert.strictEqual(new URLSearchParams(foreign.requests[0].body).get('client_id'), 'typed-client-id');
    });

    it('an auth URL that is not http(s) is refused before any request', async () => {
      await helper.load(allNodes, [{ id: 'tab', type: 'tab' }]);
      for (const url of ['javascript:alert(1)', 'file:///etc', 'ftp://127.0.0.1/gcdm']) {
        const res = await editor().post('/bmw-cardata/newacc/auth/start').send({ clientId: 'typed-client-id', authBaseUrl: url }).expect(400);
        assert.strictEqual(res.body.error.code, 'input');
      }
      assert.strictEqual(loginStarts(sim), 0);
    });
  });

  describe('a login link that is not an http(s) address is refused', function () {
    const hostile = [
      ['a javascript: link', { verification_uri: 'javascript:alert(document.cookie)' }],
      ['a javascript: complete link', { verification_uri_complete: 'javascript:alert(1)//https://login.example/' }],
      ['a data: link', { verification_uri: 'data:text/html,<script>alert(1)</script>', verification_uri_complete: 'https://login.example/ok' }],
      ['a relative link', { verification_uri: '/oneid/link' }],
    ];
    for (const [name, answer] of hostile) {
      it(`${name}: 502, nothing of it in the answer, no login polled`, async () => {
        await foreign.close();
        foreign = await startForeignLogin(answer);
        await helper.load(allNodes, [{ id: 'tab', type: 'tab' }]);
        const res = await editor().post('/bmw-cardata/newacc/auth/start').send({ clientId: 'typed-client-id', authBaseUrl: foreign.url }).expect(502);
        assert.strictEqual(res.body.error.code, 'response');
        assert.match(res.body.error.message, /not an http\(s\) address/);
        const text = JSON.stringify(res.body);
        for (const part of ['javascript', 'data:', '/oneid/link', 'AB-12']) assert.ok(!text.includes(part), part);
        assert.deepStrictEqual(await status('newacc'), { status: 'none' });
        await sleep(1300);
        assert.deepStrictEqual(
          foreign.requests.map((r) => r.url),
          ['/gcdm/oauth/device/code'],
          'the device code was never polled',
        );
      });
    }
  });
});

describe('Node-RED process without adminAuth: a page on another site can neither read nor use the account routes', function () {
  this.timeout(60_000);
  let sim;
  let foreign;
  let red;
  before(async () => {
    sim = await startSimulator({ pollIntervalSec: 0 });
    foreign = await startForeignLogin();
    red = await startNodeRed({
      flows: [
        { id: 'tab', type: 'tab', label: 'BMW' },
        { id: 'acc', type: 'bmw-cardata-account', name: 'sim', apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, dailyQuota: 50 },
      ],
      credentials: { acc: authorizedCredentials(sim) },
    });
  });
  after(async () => {
    if (red) await red.stop();
    if (sim) await sim.close();
    if (foreign) await foreign.close();
  });

  // What a form on evil.example sends when it posts to the editor: no preflight is needed for this.
  const crossSite = (route, fields) =>
    fetch(`${red.url}/${route}`, {
      method: 'POST',
      headers: {
        origin: 'http://evil.example',
        referer: 'http://evil.example/',
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'navigate',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(fields).toString(),
    });

  it('form posts are answered 415: no login starts, no call is spent, the client ID goes nowhere', async () => {
    sim.clearLog();
    const start = await crossSite('bmw-cardata/acc/auth/start', { authBaseUrl: foreign.url });
    assert.strictEqual(start.status, 415);
    const refresh = await crossSite('bmw-cardata/acc/vehicles/refresh', {});
    assert.strictEqual(refresh.status, 415);
    const cancel = await crossSite('bmw-cardata/acc/auth/cancel', {});
    assert.strictEqual(cancel.status, 415);
    await sleep(200);
    assert.deepStrictEqual(foreign.requests, []);
    assert.strictEqual(sim.requests.length, 0);
    assert.deepStrictEqual(await (await fetch(`${red.url}/bmw-cardata/acc/auth/status`, { headers: EDITOR_HEADERS })).json(), { status: 'none' });
    assert.ok(!red.log().includes(CLIENT_ID), 'the client ID is not logged');
  });

  it("a JSON post from another site, which Node-RED may let through its preflight, is refused by the browser's Sec-Fetch-Site", async () => {
    sim.clearLog();
    // Node-RED 4's admin API answers every origin's preflight (Node-RED 5 answers none): JSON alone would not keep
    // another site out of Node-RED 4, so the routes look at Sec-Fetch-Site themselves, whatever the version.
    const preflight = await fetch(`${red.url}/bmw-cardata/acc/auth/start`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.ok([null, '*'].includes(preflight.headers.get('access-control-allow-origin')));
    // What the browser then sends for the page on evil.example (or on another port of the same host: same-site).
    for (const site of ['cross-site', 'same-site']) {
      for (const [route, body] of [
        ['bmw-cardata/acc/auth/start', { authBaseUrl: foreign.url }],
        ['bmw-cardata/acc/auth/start', {}],
        ['bmw-cardata/acc/vehicles/refresh', {}],
        ['bmw-cardata/acc/auth/cancel', {}],
      ]) {
        const res = await fetch(`${red.url}/${route}`, {
          method: 'POST',
          headers: { origin: 'http://evil.example', 'sec-fetch-site': site, 'sec-fetch-mode': 'cors', 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        assert.strictEqual(res.status, 403, `${site} ${route}`);
        assert.match(((await res.json()) as any).error.message, /another site/);
      }
    }
    await sleep(200);
    assert.deepStrictEqual(foreign.requests, []);
    assert.strictEqual(sim.requests.length, 0, 'no login started, no call spent');
  });

  it("the editor's own JSON request still works: the deployed account logs in at its own URL", async () => {
    sim.clearLog();
    const editor = { ...EDITOR_HEADERS, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors', origin: red.url };
    const res = await fetch(`${red.url}/bmw-cardata/acc/auth/start`, {
      method: 'POST',
      headers: editor,
      body: JSON.stringify({ authBaseUrl: sim.authBaseUrl }),
    });
    assert.strictEqual(res.status, 200);
    assert.ok(((await res.json()) as any).verificationUriComplete.startsWith(`${sim.authBaseUrl}/`));
    assert.strictEqual(authRequests(sim).length >= 1, true);
    const cancel = await fetch(`${red.url}/bmw-cardata/acc/auth/cancel`, { method: 'POST', headers: editor, body: '{}' });
    assert.deepStrictEqual(await cancel.json(), { status: 'cancelled', wasRunning: true });
    assert.deepStrictEqual(foreign.requests, []);
  });
  const READS = ['bmw-cardata/acc/vehicles', 'bmw-cardata/acc/state', 'bmw-cardata/catalogue', 'bmw-cardata/acc/auth/status'];
  const refresh = (headers) =>
    fetch(`${red.url}/bmw-cardata/acc/vehicles/refresh`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });

  it("the editor's requests are answered, on HTTPS (Sec-Fetch-Site) and on plain HTTP (Origin only), with no Access-Control-Allow-Origin", async () => {
    sim.clearLog();
    const listed = await refresh({ ...EDITOR_HEADERS, origin: red.url });
    assert.strictEqual(listed.status, 200);
    assert.ok(((await listed.json()) as any).vehicles.some((v) => v.vin === SIM_VINS.bev));
    assert.strictEqual(listed.headers.get('access-control-allow-origin'), null);
    // The editor's GETs: same origin, so the browser sends no Origin; on HTTPS it adds Sec-Fetch-Site.
    for (const extra of [{}, { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' }]) {
      for (const route of READS) {
        const res = await fetch(`${red.url}/${route}`, { headers: { ...EDITOR_HEADERS, ...extra } });
        assert.strictEqual(res.status, 200, route);
        assert.strictEqual(res.headers.get('access-control-allow-origin'), null, route);
      }
    }
    const vehicles: any = await (await fetch(`${red.url}/bmw-cardata/acc/vehicles`, { headers: EDITOR_HEADERS })).json();
    assert.ok(
      vehicles.vehicles.some((v) => v.vin === SIM_VINS.bev),
      'the list is there to be read',
    );
  });

  it('every request of the served editor code goes through the two helpers that send the header', async () => {
    const html = await (await fetch(`${red.url}/nodes`, { headers: { accept: 'text/html' } })).text();
    const script = await (await fetch(`${red.url}/resources/node-red-contrib-bmw-cardata/bmw-cardata-editor.js`)).text();
    const ours =
      html
        .split(/(?=<script)/)
        .filter((part) => part.includes('bmw-cardata'))
        .join('\n') + script;
    assert.ok(ours.includes("getJson(base + '/state'") && ours.includes("postJson(base + '/auth/start'"), 'the account dialog was found');
    assert.doesNotMatch(ours, /\$\.(getJSON|get|post|ajaxSetup)\(|\bfetch\(|XMLHttpRequest/, 'a request that bypasses the helpers');
    const ajax = ours.match(/\$\.ajax\(.*$/gm);
    assert.strictEqual(ajax.length, 2);
    for (const call of ajax) assert.match(call, /headers: HEADERS/);
    const [name, value] = Object.entries(EDITOR_HEADERS)[0];
    assert.ok(script.includes(`var HEADERS = { '${name}': '${value}' };`));
  });

  it('a page on another site cannot read the vehicle list, the live state, the catalogue or a login', async () => {
    const attempts = [
      // fetch() with the header, after Node-RED granted the preflight: the browser names the page's origin.
      ['cross-site, HTTPS', { ...EDITOR_HEADERS, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' }],
      ['same-site, HTTPS', { ...EDITOR_HEADERS, origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' }],
      ['cross-site, plain HTTP (no Sec-Fetch-Site)', { ...EDITOR_HEADERS, origin: 'http://evil.example' }],
      ['another port of this host, plain HTTP', { ...EDITOR_HEADERS, origin: 'http://127.0.0.1:1' }],
      ['a sandboxed page', { ...EDITOR_HEADERS, origin: 'null' }],
      // What a script tag, an image or a no-cors fetch sends: no custom header, no Origin on a GET.
      ['a script tag', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }],
      ['a script tag, plain HTTP', {}],
    ];
    for (const [name, headers] of attempts) {
      for (const route of READS) {
        const res = await fetch(`${red.url}/${route}`, { headers });
        const body = await res.text();
        assert.strictEqual(res.status, 403, `${name}: ${route}`);
        assert.strictEqual(res.headers.get('access-control-allow-origin'), null, `${name}: ${route}`);
        assert.ok(!body.includes(SIM_VINS.bev) && !body.includes('quota') && !body.includes('descriptors'), `${name}: ${route} answered ${body}`);
      }
    }
  });

  it('a JSON post from another site is refused without Sec-Fetch-Site too, and any post without the header', async () => {
    sim.clearLog();
    for (const [name, headers] of [
      ['cross-site, plain HTTP', { ...EDITOR_HEADERS, origin: 'http://evil.example' }],
      ['without the header', { origin: red.url }],
      ['without the header, HTTPS', { 'sec-fetch-site': 'same-origin' }],
      ['without the header or an Origin', {}],
    ]) {
      for (const route of ['bmw-cardata/acc/auth/start', 'bmw-cardata/acc/vehicles/refresh', 'bmw-cardata/acc/auth/cancel']) {
        const res = await fetch(`${red.url}/${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
        assert.strictEqual(res.status, 403, `${name}: ${route}`);
      }
    }
    await sleep(200);
    assert.strictEqual(sim.requests.length, 0, 'no login started, no call spent');
  });
});
