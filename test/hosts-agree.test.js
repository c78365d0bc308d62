'use strict';
// Node-RED and n8n show the same facts for the same BMW answer: telematic values typed by one rule, images named
// by one rule. Both hosts run for real (Node-RED's runtime, n8n's execution code) against a loopback BMW that
// answers exactly what each test says.
const assert = require('assert');
const http = require('http');
const { helper, loadAction, freshUserDir } = require('./support/nodered');
const { runNode, authorizedCredentials, cleanup } = require('./support/n8n-harness');

const VIN = 'WBA12345678901234';
const CONTAINER = 'ABCDEFGHIJKLM';

/** A BMW that answers /telematicData with `telematicData` and /image with `image`. */
async function loopbackBmw(answers) {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === `/customers/vehicles/${VIN}/telematicData`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ telematicData: answers.telematicData }));
    }
    if (path === `/customers/vehicles/${VIN}/image`) {
      res.writeHead(200, { 'content-type': answers.image.contentType });
      return res.end(answers.image.data);
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ exveErrorId: 'CU-400', exveErrorMsg: 'Bad request' }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  let n = 0;
  return {
    // What the hosts' harnesses need of a simulator: the base URLs and tokens that are valid for an hour.
    apiBaseUrl: url,
    authBaseUrl: url,
    issueTokens: () => ({ access_token: `access-${++n}`, refresh_token: `refresh-${n}`, id_token: `id-${n}`, gcid: 'gcid', expires_in: 3600 }),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function nodeRed(bmw, type, config) {
  freshUserDir();
  const { node, out, caught } = await loadAction(bmw, type, { vin: VIN, ...config });
  node.receive({});
  const [msg] = await Promise.race([out.wait(1), caught.wait(1).then(([err]) => Promise.reject(new Error(err.error.message)))]);
  await helper.unload();
  return msg;
}

async function n8n(bmw, parameters) {
  const { items, error } = await runNode(authorizedCredentials(bmw), { vin: { __rl: true, mode: 'vin', value: VIN }, ...parameters });
  assert.ifError(error);
  return items[0];
}

describe('Node-RED and n8n agree', function () {
  let bmw;
  afterEach(async () => {
    await bmw.close();
  });
  after(() => cleanup());

  it('on the plain value of every telematic descriptor', async () => {
    const telematicData = {
      'vehicle.drivetrain.batteryManagement.header': { value: '12', unit: 'percent', timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.cabin.infotainment.navigation.currentLocation.latitude': { value: ' 48.17 ', unit: 'degrees', timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.body.trunk.isLocked': { value: 'true', unit: null, timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.isMoving': { value: 'FALSE', unit: null, timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.vehicle.travelledDistance': { value: '', unit: 'km', timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.drivetrain.electricEngine.charging.timeToFullyCharged': { value: 'INVALID', unit: 'min', timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.vehicle.preConditioning.activity': { value: 'STANDBY', unit: null, timestamp: '2026-11-30T10:00:00Z' },
      // A text descriptor whose value looks like a number stays text.
      'vehicle.body.chargingPort.isoSessionId': { value: '0012', unit: null, timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.drivetrain.electricEngine.charging.profile.timerType': { value: '2026-11-30T06:30:00Z', unit: null, timestamp: '2026-11-30T10:00:00Z' },
      'vehicle.drivetrain.electricEngine.remainingElectricRange': { value: null, unit: 'km', timestamp: null },
    };
    const expected = {
      'vehicle.drivetrain.batteryManagement.header': 12,
      'vehicle.cabin.infotainment.navigation.currentLocation.latitude': 48.17,
      'vehicle.body.trunk.isLocked': true,
      'vehicle.isMoving': false,
      'vehicle.vehicle.travelledDistance': '',
      'vehicle.drivetrain.electricEngine.charging.timeToFullyCharged': 'INVALID',
      'vehicle.vehicle.preConditioning.activity': 'STANDBY',
      'vehicle.body.chargingPort.isoSessionId': '0012',
      'vehicle.drivetrain.electricEngine.charging.profile.timerType': '2026-11-30T06:30:00Z',
      'vehicle.drivetrain.electricEngine.remainingElectricRange': null,
    };
    bmw = await loopbackBmw({ telematicData });
    const msg = await nodeRed(bmw, 'telematics', { containerMode: 'id', containerId: CONTAINER });
    const item = await n8n(bmw, { resource: 'telematicData', operation: 'get', containerMode: 'id', containerId: CONTAINER, options: { simplify: true } });
    const { vin, containerId, _quota, ...n8nValues } = item.json;
    assert.deepStrictEqual(msg.values, expected);
    assert.deepStrictEqual(n8nValues, expected);
    assert.deepStrictEqual([vin, containerId], [VIN, CONTAINER]);
    assert.ok(_quota);

    // The full answer keeps BMW's entries as sent, units and timestamps included, in both hosts.
    const full = await n8n(bmw, { resource: 'telematicData', operation: 'get', containerMode: 'id', containerId: CONTAINER });
    assert.deepStrictEqual(full.json.telematicData, telematicData);
    assert.deepStrictEqual(msg.payload, telematicData);
  });

  for (const [contentType, fileName] of [
    ['image/png', `${VIN}.png`],
    ['image/jpeg; charset=binary', `${VIN}.jpg`],
    ['application/octet-stream', `${VIN}.bin`],
  ]) {
    it(`on the file name of an image of type ${contentType}`, async () => {
      bmw = await loopbackBmw({ image: { contentType, data: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]) } });
      const msg = await nodeRed(bmw, 'image', {});
      const item = await n8n(bmw, { resource: 'image', operation: 'get', binaryPropertyName: 'data' });
      assert.strictEqual(msg.filename, fileName);
      assert.strictEqual(item.binary.data.fileName, fileName);
      assert.strictEqual(item.json.fileName, fileName);
    });
  }
});
