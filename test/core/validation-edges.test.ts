// Validation at its edges: the strict VIN test for names from the stream, web links with spaces around them,
// suggestions for words and for keys typed in another case, and limits that are not whole numbers.
import assert from 'assert';
import { isVin, isWebLink, checkDescriptors, checkLimit, descriptorsForWord, CarDataError } from '../../src/node';

const VIN = 'WBA12345678901234';

function refusal(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CarDataError);
    return e;
  }
  assert.fail('expected a refusal');
}

describe('core validation at its edges', function () {
  it('isVin: exactly 17 of A-H, J-N, P, R-Z and digits, as it stands', () => {
    assert.strictEqual(isVin(VIN), true);
    for (const bad of [
      VIN.slice(1),
      `${VIN}4`,
      `x${VIN}`,
      `${VIN} `,
      VIN.toLowerCase(),
      'WBI12345678901234',
      'WBA1234567890123O',
      '-'.repeat(17),
      12345678901234,
      [VIN],
      null,
    ]) {
      assert.strictEqual(isVin(bad), false, String(bad));
    }
  });

  it('isWebLink: a link with a space before it is not one; http and https links with a host are', () => {
    assert.strictEqual(isWebLink(' https://customer.example/device'), false);
    assert.strictEqual(isWebLink('https://customer.example/device'), true);
    assert.strictEqual(isWebLink('http://customer.example'), true);
    assert.strictEqual(isWebLink('javascript:alert(1)'), false);
    assert.strictEqual(isWebLink('file:///etc/passwd'), false);
  });

  it('a word for several descriptors suggests them all, joined by "or"', () => {
    const meant = descriptorsForWord('range');
    assert.ok(meant.length >= 2, String(meant));
    assert.strictEqual(refusal(() => checkDescriptors(['range'])).hint, `Did you mean ${meant.join(' or ')}?`);
  });

  it('a key typed in another case suggests that very key, not another with the same ending', () => {
    const key = 'vehicle.powertrain.tractionBattery.charging.port.frontLeft.flap.isOpen';
    const e = refusal(() => checkDescriptors([key.toUpperCase()]));
    assert.strictEqual(e.hint, `Did you mean ${key}?`);
    const tail = refusal(() => checkDescriptors(['car.frontLeft.FLAP.ISOPEN']));
    assert.strictEqual(tail.hint, 'Did you mean vehicle.powertrain.tractionBattery.charging.port.anyPosition.flap.isOpen?');
  });

  it('a limit that is not a whole number from 1 is refused in words', () => {
    for (const [v, shown] of [
      ['2.5', '2.5'],
      ['-3', '-3'],
      ['ten', 'ten'],
    ]) {
      const e = refusal(() => checkLimit(v));
      assert.deepStrictEqual(
        [e.parameter, e.message, e.hint],
        ['limit', `The limit must be a positive whole number, got ${shown}`, 'Leave it empty to read everything.'],
      );
    }
  });
});
