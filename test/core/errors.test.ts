// BMW's error answers turned into CarDataError (pure): kinds, codes, hints, the quota rule, OAuth errors, and the secrets
// taken out of every text an error carries.
import assert from 'assert';
import {
  errorFromResponse,
  isQuotaAnswer,
  CarDataError,
  isCarDataError,
  inputError,
  oauthError,
  cuCode,
  redactSecrets,
  CU_CODES,
  OAUTH_HINTS,
} from '../../src/node';

const bmw = (id, msg = `message of ${id}`, ref = 'ref-1') => ({ exveErrorId: id, exveErrorMsg: msg, exveErrorRef: ref });
// Made-up secrets of the shapes BMW uses: a UUID (a client ID, or BMW's error reference) and opaque tokens.
const UUID = '3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b';
const opaque = (pair: string) => pair.repeat(20);

describe('core errors', function () {
  describe('isQuotaAnswer', () => {
    it('CU-429 is the quota whatever the status and however the body arrives', () => {
      assert.strictEqual(isQuotaAnswer(403, bmw('CU-429')), true);
      assert.strictEqual(isQuotaAnswer(403, JSON.stringify(bmw('CU-429'))), true);
      assert.strictEqual(isQuotaAnswer(403, Buffer.from(JSON.stringify(bmw('CU-429')))), true);
      assert.strictEqual(isQuotaAnswer(403, bmw('CU-104')), false);
      assert.strictEqual(isQuotaAnswer(403, 'not json'), false);
    });
    it('a plain 429 is the quota unless it asks to wait at most an hour', () => {
      assert.strictEqual(isQuotaAnswer(429, undefined), true);
      assert.strictEqual(isQuotaAnswer(429, undefined, 3_600_001), true);
      assert.strictEqual(isQuotaAnswer(429, undefined, 3_600_000), false);
      assert.strictEqual(isQuotaAnswer(429, undefined, 0), false);
      assert.strictEqual(isQuotaAnswer(503, undefined), false);
    });
  });

  describe('cuCode', () => {
    it("the catalogue's entry of a BMW code; nothing for no code, an unknown one or a name every object has", () => {
      assert.strictEqual(cuCode('CU-429'), CU_CODES['CU-429']);
      assert.strictEqual(cuCode('CU-104'), CU_CODES['CU-104']);
      for (const id of [undefined, 'CU-999', 'constructor', 'toString', '__proto__', 'hasOwnProperty']) assert.strictEqual(cuCode(id), undefined, id);
    });
  });

  describe('redactSecrets', () => {
    it('replaces a UUID unless told to keep UUIDs', () => {
      assert.strictEqual(redactSecrets(`client ${UUID} unknown`), 'client [redacted] unknown');
      assert.strictEqual(redactSecrets(`client ${UUID} unknown`, {}), 'client [redacted] unknown');
      assert.strictEqual(redactSecrets(`reference ${UUID}`, { uuids: false }), `reference ${UUID}`);
    });

    it('keeps the scheme of a credential and the name of a field, and replaces only their value', () => {
      assert.strictEqual(redactSecrets('sent Bearer abc123xyz789 to BMW'), 'sent Bearer [redacted] to BMW');
      assert.strictEqual(redactSecrets('basic  dXNlcjpwYXNz'), 'basic  [redacted]');
      assert.strictEqual(redactSecrets('grant_type=refresh_token&refresh_token=abc123xyz789&x=1'), 'grant_type=refresh_token&refresh_token=[redacted]&x=1');
      assert.strictEqual(redactSecrets('{"access_token":"abcdefgh1234","scope":"x"}'), '{"access_token":"[redacted]","scope":"x"}');
      assert.strictEqual(redactSecrets('client_id: short'), 'client_id: short', 'under eight characters is no secret');
    });

    it('replaces a run of 40 or more token characters of at least two kinds (lower case, upper case, digits)', () => {
      for (const pair of ['a1', 'aB', 'A1']) assert.strictEqual(redactSecrets(`token ${opaque(pair)} end`), 'token [redacted] end', pair);
      assert.strictEqual(redactSecrets(`token ${'aB1'.repeat(14)} end`), 'token [redacted] end', 'three kinds');
      assert.strictEqual(redactSecrets(`token ${opaque('aB')}== end`), 'token [redacted] end', 'with its padding');
      for (const one of ['a', 'B', '7']) {
        const run = one.repeat(40);
        assert.strictEqual(redactSecrets(`kept ${run}`), `kept ${run}`, `${one}: one kind is not a token`);
      }
      const short = opaque('a1').slice(0, 39);
      assert.strictEqual(redactSecrets(short), short, '39 characters are not a token');
    });
  });

  describe('errorFromResponse', () => {
    it("a BMW code: kind bmw, BMW's message and reference, the code's hint, the operation in front", () => {
      const e = errorFromResponse(403, bmw('CU-104', 'VIN not allowed'), 'getBasicData');
      assert.ok(e instanceof CarDataError);
      assert.deepStrictEqual(
        { kind: e.kind, status: e.status, id: e.exveErrorId, ref: e.exveErrorRef, msg: e.bmwMessage, op: e.operation, retryable: e.retryable, code: e.code },
        { kind: 'bmw', status: 403, id: 'CU-104', ref: 'ref-1', msg: 'VIN not allowed', op: 'getBasicData', retryable: false, code: 'CU-104' },
      );
      assert.strictEqual(e.message, 'getBasicData: BMW CarData error CU-104: VIN not allowed (HTTP 403)');
      assert.strictEqual(e.hint, CU_CODES['CU-104'].hint);
    });

    it("without BMW's message the code's own message is used, and without an operation no prefix", () => {
      const e = errorFromResponse(400, { exveErrorId: 'CU-401' });
      assert.strictEqual(e.bmwMessage, CU_CODES['CU-401'].message);
      assert.strictEqual(e.message, `BMW CarData error CU-401: ${CU_CODES['CU-401'].message} (HTTP 400)`);
    });

    it("an unknown code keeps BMW's words and has no hint; without any message says so", () => {
      const e = errorFromResponse(400, { exveErrorId: 'CU-999' }, 'getMappings');
      assert.deepStrictEqual([e.kind, e.hint, e.bmwMessage], ['bmw', '', undefined]);
      assert.strictEqual(e.message, 'getMappings: BMW CarData error CU-999: no message (HTTP 400)');
    });

    it('the token codes and a bare 401 are auth errors', () => {
      for (const id of ['CU-100', 'CU-101', 'CU-102']) assert.strictEqual(errorFromResponse(401, bmw(id)).kind, 'auth', id);
      assert.strictEqual(errorFromResponse(403, bmw('CU-103')).kind, 'bmw');
      assert.strictEqual(errorFromResponse(401, undefined).kind, 'auth');
      assert.strictEqual(errorFromResponse(401, '<html>').kind, 'auth');
      assert.strictEqual(errorFromResponse(403, undefined).kind, 'http');
    });

    it('5xx: retryable with a "try later" hint unless BMW\'s code has its own', () => {
      for (const status of [500, 502, 503, 504]) {
        const e = errorFromResponse(status, undefined, 'getImage');
        assert.deepStrictEqual([e.kind, e.retryable], ['http', true], String(status));
        assert.strictEqual(e.message, `getImage: BMW CarData answered HTTP ${status}`);
        assert.match(e.hint, /temporary problem/);
      }
      const coded = errorFromResponse(503, bmw('CU-503'));
      assert.deepStrictEqual([coded.kind, coded.retryable, coded.hint], ['bmw', true, CU_CODES['CU-503'].hint]);
      for (const status of [400, 404, 501, 505]) {
        const e = errorFromResponse(status, undefined);
        assert.deepStrictEqual([e.retryable, e.hint], [false, ''], String(status));
      }
    });

    it('the quota: kind quota, CU-429 even for a plain 429, the reset hint', () => {
      const coded = errorFromResponse(403, bmw('CU-429', 'limit reached', 'r9'), 'getMappings');
      assert.deepStrictEqual(
        { kind: coded.kind, id: coded.exveErrorId, msg: coded.bmwMessage, ref: coded.exveErrorRef, status: coded.status, op: coded.operation },
        { kind: 'quota', id: 'CU-429', msg: 'limit reached', ref: 'r9', status: 403, op: 'getMappings' },
      );
      assert.strictEqual(coded.message, 'getMappings: BMW CarData daily quota reached (CU-429: limit reached)');
      assert.strictEqual(coded.hint, CU_CODES['CU-429'].hint);
      const plain = errorFromResponse(429, undefined);
      assert.deepStrictEqual([plain.kind, plain.exveErrorId, plain.bmwMessage], ['quota', 'CU-429', CU_CODES['CU-429'].message]);
      assert.strictEqual(plain.message, `BMW CarData daily quota reached (HTTP 429: ${CU_CODES['CU-429'].message})`);
    });

    it('a 429 asking to wait a little is a retryable rate limit naming the wait in whole seconds', () => {
      const e = errorFromResponse(429, undefined, 'getMappings', 2_500);
      assert.deepStrictEqual([e.kind, e.retryable, e.status, e.exveErrorId], ['http', true, 429, undefined]);
      assert.strictEqual(e.message, 'getMappings: BMW CarData asks to slow down (HTTP 429, retry after 3 s)');
      assert.strictEqual(e.hint, 'A short rate limit, not the daily quota: try again in 3 s.');
      assert.match(errorFromResponse(429, undefined, undefined, 0).message, /^BMW CarData asks to slow down \(HTTP 429, retry after 0 s\)$/);
    });

    it("reads BMW's body from text and bytes, and ignores bodies that are not BMW's", () => {
      assert.strictEqual(errorFromResponse(403, JSON.stringify(bmw('CU-105'))).exveErrorId, 'CU-105');
      assert.strictEqual(errorFromResponse(403, Buffer.from(JSON.stringify(bmw('CU-105')))).exveErrorId, 'CU-105');
      const noId = errorFromResponse(400, { exveErrorMsg: 'words without a code' });
      assert.deepStrictEqual([noId.exveErrorId, noId.bmwMessage, noId.kind], [undefined, undefined, 'http'], "without exveErrorId it is not BMW's error body");
      for (const body of ['{"error":"x"}', '<html></html>', { message: 'x' }, null, 42, '42', 'null']) {
        assert.strictEqual(errorFromResponse(403, body).exveErrorId, undefined, JSON.stringify(body));
      }
    });
  });

  describe('CarDataError', () => {
    it('code is the CU code, else the OAuth error, else the kind; JSON carries the fields but not the cause', () => {
      const cause = new Error('socket');
      const e = new CarDataError({ kind: 'network', message: 'm', cause });
      assert.strictEqual(e.code, 'network');
      assert.strictEqual(e.cause, cause);
      assert.ok(!Object.keys(e).includes('cause'), 'the cause is not enumerable');
      assert.deepStrictEqual([e.name, e.hint, e.retryable], ['CarDataError', '', false]);
      assert.strictEqual(new CarDataError({ kind: 'auth', message: 'm', oauthError: 'invalid_grant' }).code, 'invalid_grant');
      assert.strictEqual(new CarDataError({ kind: 'auth', message: 'm', oauthError: 'invalid_grant', exveErrorId: 'CU-101' }).code, 'CU-101');
      assert.strictEqual('cause' in new CarDataError({ kind: 'http', message: 'm' }), false);
      const full = new CarDataError({
        kind: 'bmw',
        message: 'msg',
        hint: 'h',
        status: 403,
        exveErrorId: 'CU-104',
        bmwMessage: 'b',
        exveErrorRef: 'r',
        retryable: true,
        operation: 'op',
        parameter: 'p',
        cause,
      });
      assert.deepStrictEqual(full.toJSON(), {
        name: 'CarDataError',
        kind: 'bmw',
        code: 'CU-104',
        message: 'msg',
        hint: 'h',
        status: 403,
        exveErrorId: 'CU-104',
        bmwMessage: 'b',
        exveErrorRef: 'r',
        retryable: true,
        operation: 'op',
        parameter: 'p',
      });
      assert.strictEqual(isCarDataError(full), true);
      assert.strictEqual(isCarDataError(new Error('x')), false);
    });

    it("redacts every text it is built from, but keeps a UUID as BMW's error reference", () => {
      const e = new CarDataError({
        kind: 'bmw',
        message: `refused client ${UUID}`,
        hint: 'send Bearer abc123xyz789 again',
        exveErrorRef: UUID,
        bmwMessage: `echo ${UUID}`,
      });
      assert.deepStrictEqual(
        [e.message, e.hint, e.bmwMessage, e.exveErrorRef],
        ['refused client [redacted]', 'send Bearer [redacted] again', 'echo [redacted]', UUID],
      );
      assert.strictEqual(
        new CarDataError({ kind: 'bmw', message: 'm', exveErrorRef: `${UUID} Bearer abc123xyz789` }).exveErrorRef,
        `${UUID} Bearer [redacted]`,
      );
    });

    it('inputError names the parameter', () => {
      const e = inputError('vin', 'bad', 'fix it');
      assert.deepStrictEqual([e.kind, e.parameter, e.message, e.hint], ['input', 'vin', 'bad', 'fix it']);
      assert.strictEqual(inputError('vin', 'bad').hint, '');
    });

    it('oauthError: the context, the error and its description, with the plain-words hint', () => {
      const e = oauthError('access_denied', 'user said no', 400, 'BMW login');
      assert.deepStrictEqual([e.kind, e.status, e.oauthError, e.code], ['auth', 400, 'access_denied', 'access_denied']);
      assert.strictEqual(e.message, 'BMW login: access_denied (user said no)');
      assert.strictEqual(e.hint, OAUTH_HINTS.access_denied);
      const bare = oauthError('weird_error', undefined, 400, 'BMW login');
      assert.strictEqual(bare.message, 'BMW login: weird_error');
      assert.strictEqual(bare.hint, 'Authorize the account again.');
    });

    it('every BMW code has a message and a hint', () => {
      assert.strictEqual(Object.keys(CU_CODES).length, 19);
      for (const [id, entry] of Object.entries(CU_CODES)) {
        assert.match(id, /^CU-\d{3}$/);
        assert.ok(entry.message.length > 5 && entry.hint.length > 10, id);
      }
    });
  });
});
