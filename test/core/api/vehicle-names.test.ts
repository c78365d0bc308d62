// The cars of an account by name (src/core/api/vehicle-names.ts): which VINs BMW serves data for, the names a user
// types into the account, and the name an output shows.
import assert from 'assert';
import { parseVehicleNames, primaryVins, vehicleNameOf } from '../../../src/core/api/vehicle-names';
import type { VehicleMapping } from '../../../src/core/types';

const A = 'WBA00000000000001';
const B = 'WBA00000000000002';
const C = 'WBA00000000000003';

describe('vehicle names', () => {
  it('primaryVins: the PRIMARY and untyped mappings, each VIN once, in order; no secondary, no VIN-less entry', () => {
    const list = [
      { vin: A, mappingType: 'PRIMARY' },
      { vin: B, mappingType: 'SECONDARY' },
      { vin: C },
      { vin: A, mappingType: 'PRIMARY' },
      { vin: '', mappingType: 'PRIMARY' },
      { vin: 42, mappingType: 'PRIMARY' },
      { mappingType: 'PRIMARY' },
    ] as unknown as VehicleMapping[];
    assert.deepStrictEqual(primaryVins(list), [A, C]);
    assert.deepStrictEqual(primaryVins([]), []);
  });

  it('parseVehicleNames: VIN=name entries by line, comma or semicolon; VINs upper-cased, names trimmed', () => {
    assert.deepStrictEqual(parseVehicleNames(` ${A.toLowerCase()} = iX \n${B}=Mini;${C}=Family car,\r\n`), {
      names: { [A]: 'iX', [B]: 'Mini', [C]: 'Family car' },
      problems: [],
    });
    assert.deepStrictEqual(parseVehicleNames(`${A}=a=b`), { names: { [A]: 'a=b' }, problems: [] }, 'the first = splits');
    assert.deepStrictEqual(parseVehicleNames(`${A}=${'n'.repeat(70)}`).names[A], 'n'.repeat(60), 'a name is cut to 60 characters');
  });

  it('parseVehicleNames: what cannot be read is a problem, as typed and cut to 60 characters; nothing else is lost', () => {
    const long = `${A}x=${'y'.repeat(80)}`;
    const { names, problems } = parseVehicleNames(
      ['=iX', `${A}=`, `${A.slice(1)}=short VIN`, 'no equals sign', `WBA0000000000000!=odd`, long, `${B}=kept`].join('\n'),
    );
    assert.deepStrictEqual(names, { [B]: 'kept' });
    assert.deepStrictEqual(problems, ['=iX', `${A}=`, `${A.slice(1)}=short VIN`, 'no equals sign', 'WBA0000000000000!=odd', `${long.slice(0, 60)}…`]);
    assert.strictEqual(problems[5].length, 61);
    assert.deepStrictEqual(parseVehicleNames(`${'z'.repeat(60)}`).problems, ['z'.repeat(60)], 'exactly 60 characters are not cut');
  });

  it('parseVehicleNames: anything but text, or blank text, names nothing and is no problem', () => {
    for (const text of [undefined, null, 42, {}, ['x'], '', ' \n ; , ']) assert.deepStrictEqual(parseVehicleNames(text), { names: {}, problems: [] });
  });

  it("vehicleNameOf: the user's name, else the model name, else the VIN", () => {
    const names = { [A]: 'iX' };
    const models = { [A]: 'iX xDrive50', [B]: 'MINI Cooper SE' };
    assert.strictEqual(vehicleNameOf(A, { names, models }), 'iX');
    assert.strictEqual(vehicleNameOf(B, { names, models }), 'MINI Cooper SE');
    assert.strictEqual(vehicleNameOf(C, { names, models }), C);
    assert.strictEqual(vehicleNameOf(A, { names: { [A]: '' }, models }), 'iX xDrive50', 'an empty name is no name');
    assert.strictEqual(vehicleNameOf(A), A);
  });
});
