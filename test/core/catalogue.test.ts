// The bundled catalogue (pure): lookups, search, grouping, keys with endpoints of their own; the operations
// table; and the mappings answer in its three shapes.
import assert from 'assert';
import * as core from '../../src/node';

const {
  DESCRIPTORS,
  CATEGORIES,
  findDescriptor,
  searchDescriptors,
  descriptorsByCategory,
  dedicatedEndpointOf,
  DEDICATED_ENDPOINT_DESCRIPTORS,
  unitLabel,
  normaliseMappings,
  OPERATIONS,
  OPERATION_IDS,
} = core;

const SOC = 'vehicle.drivetrain.batteryManagement.header';
const ELECTRIC_RANGE = 'vehicle.drivetrain.electricEngine.kombiRemainingElectricRange';
const TOTAL_RANGE = 'vehicle.drivetrain.totalRemainingRange';
const PRECONDITIONING = 'vehicle.vehicle.preConditioning.activity';
const CHARGING_STATUS = 'vehicle.drivetrain.electricEngine.charging.status';
const ids = (text: string) => searchDescriptors(text).map((d) => d.id);

describe('core catalogue', function () {
  it('every descriptor is found by its id, with trimmed texts; unknown ids are not', () => {
    assert.ok(DESCRIPTORS.length > 200);
    for (const d of DESCRIPTORS) {
      assert.strictEqual(findDescriptor(d.id), d);
      assert.strictEqual(d.name, d.name.trim());
      assert.strictEqual(d.description, d.description.trim());
      assert.strictEqual(typeof d.streamable, 'boolean');
      assert.ok(Array.isArray(d.vehicleTypes));
      assert.ok(
        CATEGORIES.some((c) => c.name === d.category),
        d.id,
      );
    }
    assert.strictEqual(findDescriptor('vehicle.no.such.key'), undefined);
    assert.strictEqual(findDescriptor(SOC.toUpperCase()), undefined, 'ids are exact');
    assert.strictEqual(findDescriptor(SOC).unit, 'percent', 'as BMW spells it');
  });

  it('categories in rank order; the grouping keeps that order, names sorted, no empty group', () => {
    for (let i = 1; i < CATEGORIES.length; i += 1) assert.ok(CATEGORIES[i - 1].rank <= CATEGORIES[i].rank);
    const groups = descriptorsByCategory();
    assert.ok(groups.length > 3);
    assert.deepStrictEqual(
      groups.map((g) => g.category.name),
      CATEGORIES.filter((c) => DESCRIPTORS.some((d) => d.category === c.name)).map((c) => c.name),
    );
    for (const g of groups) {
      assert.ok(g.descriptors.length > 0);
      assert.ok(g.descriptors.every((d) => d.category === g.category.name));
      const names = g.descriptors.map((d) => d.name);
      assert.deepStrictEqual(
        names,
        [...names].sort((a, b) => a.localeCompare(b)),
      );
    }
    assert.strictEqual(
      groups.reduce((n, g) => n + g.descriptors.length, 0),
      DESCRIPTORS.length,
    );
  });

  it('search: every word, in any case, in the id, name or description', () => {
    const hits = searchDescriptors('BATTERYMANAGEMENT header');
    assert.ok(hits.some((d) => d.id === SOC));
    assert.ok(hits.every((d) => `${d.id} ${d.name} ${d.description}`.toLowerCase().includes('batterymanagement')));
    const soc = findDescriptor(SOC);
    const byName = searchDescriptors(soc.name.split(/\s+/)[0]);
    assert.ok(byName.includes(soc));
    assert.strictEqual(searchDescriptors('   ').length, DESCRIPTORS.length, 'no words: everything');
    assert.deepStrictEqual(searchDescriptors('zzzz-nothing-like-this'), []);
    assert.ok(searchDescriptors('header zzzz-nothing').length === 0, 'all words must match');
  });

  // The ranks: 0 a word of the descriptor's is the whole text, 1 a word starts with it, 2 a word holds it (both from
  // three letters on), 3 its id, name, description and words hold every word typed. Rank 0 in the order of the
  // table of words, the others in the catalogue's, where the total range comes before the electric range.
  it('search: a whole word first, in the order of the table of words, even before the catalogue’s own order', () => {
    assert.ok(
      DESCRIPTORS.findIndex((d) => d.id === TOTAL_RANGE) < DESCRIPTORS.findIndex((d) => d.id === ELECTRIC_RANGE),
      'the catalogue lists the total range first',
    );
    assert.deepStrictEqual(ids('Reichweite'), [ELECTRIC_RANGE, TOTAL_RANGE], 'both say "reichweite"; the table lists the electric range first');
    assert.deepStrictEqual(ids('eich'), [TOTAL_RANGE, ELECTRIC_RANGE], 'inside their words only: the catalogue’s order');
  });

  it('search: a word that starts with the text before one that holds it, before any text that holds it', () => {
    // "vorklimatisierung" starts with "vor", "ladevorgang" holds it, although charging comes first in the catalogue.
    assert.deepStrictEqual(ids('VOR'), [PRECONDITIONING, CHARGING_STATUS]);
    // "ladevorgang" holds "dev"; the mode deviation only has it in its name, though it comes first in the catalogue.
    assert.deepStrictEqual(ids('dev'), [CHARGING_STATUS, 'vehicle.drivetrain.electricEngine.charging.modeDeviation']);
    assert.deepStrictEqual(ids('charge level'), [SOC, 'vehicle.drivetrain.electricEngine.charging.authentication.status']);
  });

  it('search: under three letters only a whole word ranks first; parts of words count as any text, in catalogue order', () => {
    // "kw" is a word of the charging power; the others say kW or kWh in their descriptions.
    assert.deepStrictEqual(ids('kW'), [
      'vehicle.powertrain.electric.battery.charging.power',
      'vehicle.vehicle.avgAuxPower',
      'vehicle.drivetrain.avgElectricRangeConsumption',
      'vehicle.trip.segment.accumulated.drivetrain.electricEngine.energyConsumptionComfort',
      'vehicle.trip.segment.accumulated.drivetrain.electricEngine.recuperationTotal',
    ]);
    // "klima" starts with "kl" and "heckklappe" holds it, yet both keep their catalogue places after "weekly".
    assert.deepStrictEqual(ids('kl'), [
      'vehicle.vehicle.averageWeeklyDistanceShortTerm',
      'vehicle.vehicle.averageWeeklyDistanceLongTerm',
      PRECONDITIONING,
      'vehicle.body.trunk.isOpen',
    ]);
  });

  it('search: the words of a descriptor stay apart, so text running from one into the next finds nothing', () => {
    // The state of charge's words "state of charge" and "soc" follow each other in the table of words.
    assert.deepStrictEqual(ids('charge soc').slice(0, 1), [SOC]);
    assert.deepStrictEqual(ids('chargesoc'), []);
  });

  it('unitLabel: nothing for no unit, an empty one or the catalogue’s "null", "%" for "percent", else the unit trimmed', () => {
    assert.strictEqual(unitLabel(undefined), '');
    assert.strictEqual(unitLabel(null), '');
    assert.strictEqual(unitLabel(''), '');
    assert.strictEqual(unitLabel(' null '), '');
    assert.strictEqual(unitLabel('percent'), '%');
    assert.strictEqual(unitLabel(' percent\t'), '%');
    assert.strictEqual(unitLabel(' kPa '), 'kPa');
    assert.strictEqual(unitLabel('km'), 'km');
  });

  it('keys with endpoints of their own, and the basic-data category', () => {
    for (const [id, endpoint] of Object.entries(DEDICATED_ENDPOINT_DESCRIPTORS)) assert.strictEqual(dedicatedEndpointOf(id), endpoint);
    assert.strictEqual(dedicatedEndpointOf('vehicle.look.image'), 'image');
    const basic = DESCRIPTORS.find((d) => d.category === 'BASIC_DATA');
    assert.ok(basic);
    assert.strictEqual(dedicatedEndpointOf(basic.id), 'basic data');
    assert.strictEqual(dedicatedEndpointOf(SOC), undefined);
    assert.strictEqual(dedicatedEndpointOf('vehicle.no.such.key'), undefined);
  });

  it('the operations table: eleven operations, each under its own id', () => {
    assert.strictEqual(OPERATION_IDS.length, 11);
    for (const id of OPERATION_IDS) assert.strictEqual(OPERATIONS[id].id, id);
  });

  it('mappings as an array whether BMW answered an array, a wrapper or one object', () => {
    const m = [{ vin: 'A' }, { vin: 'B' }];
    assert.strictEqual(normaliseMappings(m), m);
    assert.strictEqual(normaliseMappings({ mappings: m }), m);
    assert.strictEqual(normaliseMappings({ vehicles: m }), m);
    assert.strictEqual(normaliseMappings({ data: m }), m);
    assert.strictEqual(normaliseMappings({ mappings: 'x', data: m }), m);
    assert.deepStrictEqual(normaliseMappings({ vin: 'A', mappingType: 'PRIMARY' }), [{ vin: 'A', mappingType: 'PRIMARY' }]);
    for (const body of [{ vin: 5 }, {}, null, undefined, 'x']) assert.deepStrictEqual(normaliseMappings(body), [], JSON.stringify(body));
  });
});
