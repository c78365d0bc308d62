// Input checks (pure): each refusal names its parameter and says what is wrong and how to fix it; each accepted
// value comes back cleaned.
import assert from 'assert';
import * as core from '../../src/node';
import type { DateInput } from '../../src/core';

const { checkVin, checkContainerId, parseInstant, checkRange, checkDescriptors, checkLimit, isWebLink, stripInvisible, CarDataError } = core;

const VIN = 'WBA12345678901234';
const SOC = 'vehicle.drivetrain.batteryManagement.header';
const RANGE = 'vehicle.drivetrain.electricEngine.kombiRemainingElectricRange';
const clock = () => Date.parse('2026-06-01T12:00:00Z');

function refusal(fn, parameter) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CarDataError, String(e));
    assert.strictEqual(e.kind, 'input');
    assert.strictEqual(e.parameter, parameter);
    return e;
  }
  assert.fail('expected a refusal');
}

describe('core input checks', function () {
  it('strips zero-width spaces, joiners, word joiners, BOMs and soft hyphens, nothing else', () => {
    assert.strictEqual(stripInvisible('a\u200Bb\u200Cc\u200Dd\u2060e\uFEFFf\u00ADg'), 'abcdefg');
    assert.strictEqual(stripInvisible('a b\tc-d'), 'a b\tc-d');
  });

  describe('VINs', () => {
    it('accepts 17 upper-case letters and digits, trimmed and without invisible characters', () => {
      assert.strictEqual(checkVin(VIN), VIN);
      assert.strictEqual(checkVin(`  ${VIN}\u200B `), VIN);
    });

    it('a missing VIN', () => {
      for (const v of [undefined, null, 42, '', '   ', '\u200B']) {
        const e = refusal(() => checkVin(v), 'vin');
        assert.strictEqual(e.message, 'A VIN is required');
        assert.strictEqual(e.hint, 'Set the VIN in the node or pass it as msg.vin / the VIN field.');
      }
    });

    it('a VIN of another length says how long it was', () => {
      for (const v of [VIN.slice(0, 16), `${VIN}5`]) {
        const e = refusal(() => checkVin(v), 'vin');
        assert.strictEqual(e.message, `The VIN must be 17 characters, got ${v.length}`);
        assert.strictEqual(e.hint, 'Copy the VIN from the mapped vehicles.');
      }
    });

    it('a VIN with other characters', () => {
      for (const v of ['WBA1234567890123-', 'WBA12345678 01234', 'WBA1234567890123\u00E9']) {
        const e = refusal(() => checkVin(v), 'vin');
        assert.strictEqual(e.message, 'The VIN may contain only letters and digits');
        assert.strictEqual(e.hint, 'Copy the VIN from the mapped vehicles.');
      }
    });

    it('a lower-case VIN names the upper-case one', () => {
      const e = refusal(() => checkVin('wba12345678901234'), 'vin');
      assert.strictEqual(e.message, `The VIN must be upper case: ${VIN}`);
      assert.strictEqual(e.hint, 'BMW refuses lower-case VINs (CU-120).');
      assert.strictEqual(refusal(() => checkVin('WBA1234567890123a'), 'vin').message, 'The VIN must be upper case: WBA1234567890123A');
    });
  });

  describe('container IDs', () => {
    it('accepts 13 letters and digits, cleaned', () => {
      assert.strictEqual(checkContainerId('CABCDEFGHJ123'), 'CABCDEFGHJ123');
      assert.strictEqual(checkContainerId(' cabcdefghj12\u200B3 '), 'cabcdefghj123');
    });

    it('a missing one', () => {
      for (const v of [undefined, null, 7, '', ' ', '\uFEFF']) {
        const e = refusal(() => checkContainerId(v), 'containerId');
        assert.strictEqual(e.message, 'A container ID is required');
        assert.strictEqual(e.hint, 'List the containers to find one, or let the node manage it.');
      }
    });

    it('a wrong one, quoted up to 60 characters', () => {
      const e = refusal(() => checkContainerId('CABCDEFGHJ12'), 'containerId');
      assert.strictEqual(e.message, 'A container ID is 13 letters or digits, got "CABCDEFGHJ12"');
      assert.strictEqual(e.hint, 'List the containers to find one.');
      assert.strictEqual(
        refusal(() => checkContainerId('X'.repeat(60)), 'containerId').message,
        `A container ID is 13 letters or digits, got "${'X'.repeat(60)}"`,
      );
      assert.strictEqual(
        refusal(() => checkContainerId('X'.repeat(61)), 'containerId').message,
        `A container ID is 13 letters or digits, got "${'X'.repeat(60)}…"`,
      );
    });
  });

  describe('instants and ranges', () => {
    it('reads ISO dates and date-times (trimmed, any offset), Dates and epoch numbers, all as UTC', () => {
      const iso = (v) => parseInstant(v, 'from', clock).toUTC().toISO();
      assert.strictEqual(iso('2026-01-31'), '2026-01-31T00:00:00.000Z');
      assert.strictEqual(iso(' 2026-01-31T18:30:00+02:00 '), '2026-01-31T16:30:00.000Z');
      assert.strictEqual(iso(new Date('2026-01-31T18:30:00Z')), '2026-01-31T18:30:00.000Z');
      assert.strictEqual(iso(1767225600), '2026-01-01T00:00:00.000Z');
      assert.strictEqual(iso(1767225600000), '2026-01-01T00:00:00.000Z');
      assert.strictEqual(parseInstant('2026-01-31T18:30:00+02:00', 'from', clock).offset, 120, 'the offset given is kept');
      assert.strictEqual(parseInstant(new Date('2026-01-31T18:30:00Z'), 'from', clock).zoneName, 'UTC');
      assert.strictEqual(parseInstant(1767225600, 'from', clock).zoneName, 'UTC');
      assert.strictEqual(parseInstant('2026-01-31', 'from', clock).zoneName, 'UTC');
    });

    it('a missing or unreadable instant says which, and how to write one', () => {
      for (const v of [undefined, null, '', '  ', {}]) {
        const e = refusal(() => parseInstant(v as DateInput, 'to', clock), 'to');
        assert.strictEqual(e.message, '"to" is required');
        assert.strictEqual(e.hint, 'Give an ISO 8601 date-time such as 2026-01-31T00:00:00Z.');
      }
      const nan = refusal(() => parseInstant(NaN, 'from', clock), 'from');
      assert.strictEqual(nan.message, '"from" is not a date: NaN');
      assert.match(nan.hint, /^Use a form such as 2026-01-31/);
      const text = refusal(() => parseInstant('31/01/2026', 'from', clock), 'from');
      assert.strictEqual(text.message, '"from" is not an ISO 8601 date-time: 31/01/2026');
      assert.match(
        text.hint,
        /^Use a form such as 2026-01-31 or 2026-01-31T18:30:00Z \(BMW answers CU-401 otherwise\), a Date, or a number\. A number is read as epoch seconds below 100000000000/,
      );
      const digits = refusal(() => parseInstant(' 1767225600 ', 'from', clock), 'from');
      assert.match(digits.hint, /^Give an epoch time as a number, not as text\. A number is read/);
      const mixed = refusal(() => parseInstant('2026x', 'from', clock), 'from');
      assert.match(mixed.hint, /^Use a form such as/, 'not only digits: the format hint');
      assert.strictEqual(refusal(() => parseInstant('x'.repeat(61), 'from', clock), 'from').message, `"from" is not an ISO 8601 date-time: ${'x'.repeat(60)}…`);
      assert.strictEqual(refusal(() => parseInstant(new Date('nope'), 'from', clock), 'from').message, '"from" is not an ISO 8601 date-time: Invalid Date');
    });

    it('before 1970 and more than a year ahead are refused, with a hint for numbers and one for text', () => {
      const early = refusal(() => parseInstant('1969-12-31T23:59:59Z', 'from', clock), 'from');
      assert.strictEqual(early.message, '"from" (1969-12-31T23:59:59Z) is before 1970');
      assert.strictEqual(early.hint, 'Check the year.');
      const earlyNumber = refusal(() => parseInstant(-1, 'from', clock), 'from');
      assert.match(earlyNumber.hint, /^Check the number\. A number is read as epoch seconds/);
      const late = refusal(() => parseInstant('2027-06-01T12:00:01Z', 'to', clock), 'to');
      assert.strictEqual(late.message, '"to" (2027-06-01T12:00:01Z) is more than a year ahead');
      assert.strictEqual(late.hint, 'Check the year. To read up to now, give the current time.');
      const lateNumber = refusal(() => parseInstant(Date.parse('2027-06-02T00:00:00Z'), 'to', clock), 'to');
      assert.match(lateNumber.hint, /^Check the number\. A number is read as epoch seconds .* To read up to now, give the current time\.$/);
      assert.strictEqual(parseInstant('2027-06-01T12:00:00Z', 'to', clock).toUTC().toISO(), '2027-06-01T12:00:00.000Z', 'exactly a year ahead is fine');
    });

    it('a range: ISO UTC without milliseconds, from strictly before to', () => {
      assert.deepStrictEqual(checkRange('2026-01-01T01:00:00+01:00', '2026-01-02', clock), { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' });
      assert.deepStrictEqual(checkRange('2026-01-01T00:00:00.250Z', '2026-01-01T00:00:01Z', clock), {
        from: '2026-01-01T00:00:00.250Z',
        to: '2026-01-01T00:00:01Z',
      });
      const e = refusal(() => checkRange('2026-01-02', '2026-01-01T01:00:00+01:00', clock), 'from');
      assert.strictEqual(e.message, '"from" (2026-01-02T00:00:00.000Z) must be before "to" (2026-01-01T00:00:00.000Z)');
      assert.strictEqual(e.hint, 'Swap the dates or widen the range.');
      refusal(() => checkRange('2026-01-01', '2026-01-01', clock), 'from');
      refusal(() => checkRange('2026-01-01', 'later', clock), 'to');
    });
  });

  describe('web links', () => {
    it('only trimmed absolute http(s) links with a host', () => {
      assert.strictEqual(isWebLink('HTTPS://customer.example/x'), true);
      for (const bad of ['https://a.example ', 'ftp://a.example/', 'mailto:a@b.example', 'not a url', null, {}])
        assert.strictEqual(isWebLink(bad), false, String(bad));
    });
  });

  describe('descriptors', () => {
    it('a list or text split at commas, semicolons, spaces and newlines; cleaned; duplicates dropped; order kept', () => {
      assert.deepStrictEqual(checkDescriptors([RANGE, ` ${SOC}\u200B`, RANGE, '']), [RANGE, SOC]);
      assert.deepStrictEqual(checkDescriptors(`${SOC},${RANGE}`), [SOC, RANGE]);
      assert.deepStrictEqual(checkDescriptors(` ${SOC} ;\n ${RANGE},,${SOC} `), [SOC, RANGE]);
    });

    it('refuses what is not a list of texts, and an empty list', () => {
      for (const v of [undefined, null, 42, { a: SOC }]) {
        const e = refusal(() => checkDescriptors(v), 'descriptors');
        assert.strictEqual(e.message, 'Descriptors must be a list of catalogue keys');
        assert.strictEqual(e.hint, 'Pick them from the catalogue or pass msg.descriptors as an array.');
      }
      const notText = refusal(() => checkDescriptors([SOC, 5]), 'descriptors');
      assert.deepStrictEqual([notText.message, notText.hint], ['Every descriptor must be a string', '']);
      for (const v of [[], ['', ' '], ' , ; ', '']) {
        const e = refusal(() => checkDescriptors(v), 'descriptors');
        assert.deepStrictEqual([e.message, e.hint], ['At least one descriptor is required', 'Pick descriptors from the catalogue.']);
      }
    });

    it('unknown keys: named (five at most, then a count), with a suggestion when one is close', () => {
      const one = refusal(() => checkDescriptors(['vehicle.no.such.key']), 'descriptors');
      assert.strictEqual(one.message, 'Unknown descriptor: vehicle.no.such.key');
      assert.strictEqual(one.hint, 'Pick descriptors from the catalogue (BMW would answer CU-402).');
      const cased = refusal(() => checkDescriptors([SOC.toUpperCase()]), 'descriptors');
      assert.strictEqual(cased.hint, `Did you mean ${SOC}?`);
      const tail = refusal(() => checkDescriptors(['car.batteryManagement.header']), 'descriptors');
      assert.strictEqual(tail.hint, `Did you mean ${SOC}?`, 'the same last two parts');
      const two = refusal(() => checkDescriptors(['x.a', SOC, 'x.b']), 'descriptors');
      assert.strictEqual(two.message, 'Unknown descriptors: x.a, x.b');
      const seven = Array.from({ length: 7 }, (_, i) => `x.k${i}`);
      assert.strictEqual(refusal(() => checkDescriptors(seven), 'descriptors').message, 'Unknown descriptors: x.k0, x.k1, x.k2, x.k3, x.k4 and 2 more');
      const five = seven.slice(0, 5);
      assert.strictEqual(refusal(() => checkDescriptors(five), 'descriptors').message, 'Unknown descriptors: x.k0, x.k1, x.k2, x.k3, x.k4');
      const mixed = refusal(() => checkDescriptors(['x.none', SOC.toUpperCase(), RANGE.toLowerCase()]), 'descriptors');
      assert.strictEqual(mixed.hint, `Did you mean ${SOC}, ${RANGE}?`);
    });

    it('a 5 MB descriptor is named by its first 60 characters; 5 MB of keys are refused quickly, in a short message', () => {
      const huge = `vehicle.${'x'.repeat(5 * 1024 * 1024)}`;
      const one = refusal(() => checkDescriptors(huge), 'descriptors');
      assert.strictEqual(one.message, `Unknown descriptor: ${huge.slice(0, 60)}…`);
      assert.ok(one.hint.length < 100, one.hint);
      const keys = Array.from({ length: 600_000 }, (_, i) => `x.k${i}`);
      const started = Date.now();
      const many = refusal(() => checkDescriptors(keys.join(',')), 'descriptors');
      const ms = Date.now() - started;
      assert.strictEqual(many.message, 'Unknown descriptors: x.k0, x.k1, x.k2, x.k3, x.k4 and 599995 more');
      assert.ok(ms < 5000, `${ms} ms`);
    });

    it('allowUnknown lets keys missing from the catalogue through', () => {
      assert.deepStrictEqual(checkDescriptors(['vehicle.newer.key', SOC], { allowUnknown: true }), ['vehicle.newer.key', SOC]);
    });
  });

  describe('limits', () => {
    it('empty, zero or missing means no limit; whole numbers from 1, also as text', () => {
      for (const v of [undefined, null, '', 0]) assert.strictEqual(checkLimit(v), undefined, String(v));
      assert.strictEqual(checkLimit(1), 1);
      assert.strictEqual(checkLimit(30), 30);
      assert.strictEqual(checkLimit('25'), 25);
    });

    it('anything else is refused, quoted up to 20 characters', () => {
      for (const [v, shown] of [
        [-1, '-1'],
        [2.5, '2.5'],
        ['abc', 'abc'],
        ['0', '0'],
        [true, 'true'],
        [NaN, 'NaN'],
        ['x'.repeat(30), `${'x'.repeat(20)}…`],
        [[3], '3'],
      ]) {
        const e = refusal(() => checkLimit(v), 'limit');
        assert.strictEqual(e.message, `The limit must be a positive whole number, got ${shown}`);
        assert.strictEqual(e.hint, 'Leave it empty to read everything.');
      }
    });
  });
});
