// checkAnswer (pure): a success answer must be what the operation promises, or it is a 'response' error that
// names only the content type and the size.
import assert from 'assert';
import { checkAnswer, OPERATIONS, CarDataError } from '../../../src/node';

const res = (body, type = 'application/json', status = 200) => ({ status, headers: type === null ? {} : { 'content-type': type }, body });

function refused(spec, response) {
  try {
    checkAnswer(spec, response);
  } catch (e) {
    assert.ok(e instanceof CarDataError);
    assert.deepStrictEqual([e.kind, e.retryable, e.operation, e.status], ['response', true, spec.id, response.status]);
    assert.match(e.hint, /proxy/);
    return e.message;
  }
  assert.fail(`accepted ${JSON.stringify(response.body)}`);
}

describe('core answers', function () {
  const {
    getMappings,
    getBasicData,
    getTelematicData,
    getChargingHistory,
    getImage,
    listContainers,
    deleteContainer,
    createContainer,
    getSmartMaintenanceTyreDiagnosis,
  } = OPERATIONS;

  it('hands back the body of a good answer unchanged', () => {
    const body = { vin: 'X', model: 'i4' };
    assert.strictEqual(checkAnswer(getBasicData, res(body)), body);
    const list = [{ vin: 'A' }];
    assert.strictEqual(checkAnswer(getMappings, res(list)), list);
    assert.deepStrictEqual(checkAnswer(getSmartMaintenanceTyreDiagnosis, res({})), {});
    assert.deepStrictEqual(checkAnswer(getBasicData, res({ vin: 'X' }, 'application/json; charset=utf-8')), { vin: 'X' });
    assert.deepStrictEqual(checkAnswer(getBasicData, res({ vin: 'X' }, 'application/problem+json')), { vin: 'X' });
    assert.deepStrictEqual(checkAnswer(getBasicData, res({ vin: 'X' }, null)), { vin: 'X' }, 'no content type: the body decides');
  });

  it('a page, text or bytes where JSON is promised names the type and the size, nothing of the body', () => {
    const page = '<html><body>secret-token login</body></html>';
    const m = refused(getBasicData, res(page, 'text/html; charset=utf-8'));
    assert.strictEqual(m, `getBasicData: BMW answered with something that is not CarData JSON: text/html, ${Buffer.byteLength(page)} bytes`);
    assert.doesNotMatch(m, /secret/);
    assert.match(refused(getBasicData, res({ vin: 'X' }, 'text/plain')), /text\/plain, 11 bytes$/);
    assert.match(refused(getBasicData, res(Buffer.from('abc'), 'application/json')), /application\/json, 3 bytes$/);
    assert.match(refused(getBasicData, res(undefined, null)), /: no content type, 0 bytes$/);
    assert.match(refused(getBasicData, res(null)), /application\/json, 0 bytes$/);
    assert.match(refused(getBasicData, res('truncated {', 'application/json')), /application\/json, 11 bytes$/);
  });

  it('an object without a promised field, or with it of the wrong type, names the field', () => {
    assert.match(refused(getBasicData, res({ model: 'i4' })), /JSON without "vin"/);
    assert.match(refused(getBasicData, res({ vin: 17 })), /JSON without "vin"/);
    assert.match(refused(getTelematicData, res({ telematicData: 'x' })), /JSON without "telematicData"/);
    assert.match(refused(getTelematicData, res({ telematicData: [] })), /JSON without "telematicData"/);
    assert.match(refused(getTelematicData, res({ telematicData: null })), /JSON without "telematicData"/);
    assert.deepStrictEqual(checkAnswer(getTelematicData, res({ telematicData: {} })), { telematicData: {} });
    assert.match(refused(getBasicData, res([{ vin: 'X' }])), /JSON that is not an object/);
  });

  it('lists: the first candidate field that holds an array, each entry an object with its fields', () => {
    assert.deepStrictEqual(checkAnswer(getMappings, res({ mappings: [{ vin: 'A' }] })), { mappings: [{ vin: 'A' }] });
    assert.deepStrictEqual(checkAnswer(getMappings, res({ vehicles: [] })), { vehicles: [] });
    assert.deepStrictEqual(checkAnswer(getMappings, res({ data: [{ vin: 'B' }] })), { data: [{ vin: 'B' }] });
    assert.deepStrictEqual(checkAnswer(getMappings, res({ vin: 'A', mappingType: 'PRIMARY' })), { vin: 'A', mappingType: 'PRIMARY' }, 'one mapping on its own');
    assert.deepStrictEqual(checkAnswer(listContainers, res([{ containerId: 'C' }])), [{ containerId: 'C' }]);
    assert.deepStrictEqual(checkAnswer(listContainers, res({ containers: [] })), { containers: [] });
    assert.deepStrictEqual(checkAnswer(getChargingHistory, res({ data: [], next_token: 't' })), { data: [], next_token: 't' });
  });

  it("a list that is missing, or holds something else, is refused with the list's name and the bad entry", () => {
    assert.match(refused(getChargingHistory, res({ sessions: [] })), /JSON without its list \(data\)/);
    assert.match(refused(getChargingHistory, res({ data: {} })), /JSON without its list \(data\)/);
    assert.match(refused(getChargingHistory, res([{}])), /JSON without its list \(data\)/);
    assert.match(refused(listContainers, res({ items: [] })), /JSON without its list \(containers\)/);
    assert.match(refused(getMappings, res({ model: 'x' })), /JSON without its list \(mappings or vehicles or data\)/);
    assert.match(refused(getMappings, res([{ vin: 'A' }, { model: 'x' }])), /a list whose entry 2 of 2 is incomplete/);
    assert.match(refused(getMappings, res([{ vin: 'A' }, null])), /a list whose entry 2 of 2 is null/);
    assert.match(refused(getChargingHistory, res({ data: [{}, 'x', {}] })), /a list whose entry 2 of 3 is string/);
    assert.match(refused(getChargingHistory, res({ data: [[1]] })), /a list whose entry 1 of 1 is object/);
    assert.match(refused(getChargingHistory, res({ data: [7] })), /a list whose entry 1 of 1 is number/);
    assert.match(refused(listContainers, res([{ containerId: 5 }])), /entry 1 of 1 is incomplete/);
  });

  it('a list operation whose only candidate is the body itself says "an array"', () => {
    const spec = { ...listContainers, id: 'listContainers', answer: { list: [''] } };
    assert.match(refused(spec, res({ containers: [] })), /JSON without its list \(an array\)/);
  });

  it('images: bytes of an image or octet-stream type, or of no type; anything else is refused', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
    assert.strictEqual(checkAnswer(getImage, res(png, 'image/png')), png);
    assert.strictEqual(checkAnswer(getImage, res(png, 'application/octet-stream')), png);
    assert.strictEqual(checkAnswer(getImage, res(png, null)), png);
    assert.match(refused(getImage, res(png, 'text/html')), /something that is not an image: text\/html, 4 bytes/);
    assert.match(refused(getImage, res(Buffer.alloc(0), 'image/png')), /not an image: image\/png, 0 bytes/);
    assert.match(refused(getImage, res('text', 'image/png')), /not an image/);
  });

  it('no body promised: an empty answer or JSON is fine, a web page or text is not', () => {
    assert.strictEqual(checkAnswer(deleteContainer, res(undefined, null, 204)), undefined);
    assert.strictEqual(checkAnswer(deleteContainer, res('  ', 'text/plain', 200)), '  ');
    assert.deepStrictEqual(checkAnswer(deleteContainer, res(bmwBody(), 'application/json', 208)), bmwBody());
    assert.match(refused(deleteContainer, res(undefined, 'text/html', 200)), /BMW answered with a web page: text\/html, 0 bytes/);
    assert.match(refused(deleteContainer, res('<p>hi</p>', 'TEXT/HTML', 200)), /a web page/);
    assert.match(refused(deleteContainer, res('Deleted', 'text/plain', 200)), /something that is not CarData JSON: text\/plain, 7 bytes/);
  });

  it('a created container must carry its ID', () => {
    assert.deepStrictEqual(checkAnswer(createContainer, res({ containerId: 'C1' }, 'application/json', 201)), { containerId: 'C1' });
    assert.match(refused(createContainer, res({ name: 'x' }, 'application/json', 201)), /JSON without "containerId"/);
  });
});

function bmwBody() {
  return { exveErrorId: 'CU-122', exveErrorMsg: 'Container already set for deletion' };
}
