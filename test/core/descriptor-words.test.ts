// The words people use for descriptors (pure): how a text is normalised before it is compared, a descriptor's
// words in English then German, and the descriptors one word names exactly.
import assert from 'assert';
import { DESCRIPTOR_WORDS, normaliseWords, descriptorWords, searchWords, descriptorsForWord } from '../../src/core';

const SOC = 'vehicle.drivetrain.batteryManagement.header';
const CAPACITY = 'vehicle.drivetrain.batteryManagement.maxEnergy';
const LATITUDE = 'vehicle.cabin.infotainment.navigation.currentLocation.latitude';
const LONGITUDE = 'vehicle.cabin.infotainment.navigation.currentLocation.longitude';
const WINDOWS = ['row1.driver', 'row1.passenger', 'row2.driver', 'row2.passenger'].map((w) => `vehicle.cabin.window.${w}.status`);

describe('core descriptor words', function () {
  it('normaliseWords: lower case, ß as ss, every run of blanks one space, none at either end', () => {
    assert.strictEqual(normaliseWords('  State \t of\n\n Charge  '), 'state of charge');
    assert.strictEqual(normaliseWords('AKKUGRÖßE'), 'akkugrösse');
    assert.strictEqual(normaliseWords('Straße  und Maß'), 'strasse und mass');
    assert.strictEqual(normaliseWords(' \n\t '), '');
  });

  it('descriptorWords: the English words, then the German ones; none for a descriptor outside the table', () => {
    const words = descriptorWords(SOC);
    assert.deepStrictEqual(words, [...DESCRIPTOR_WORDS[SOC].en, ...DESCRIPTOR_WORDS[SOC].de]);
    assert.strictEqual(words[0], 'state of charge');
    assert.strictEqual(words[words.length - 1], 'batteriestand');
    assert.ok(words.includes('soc') && words.includes('ladestand'));
    assert.deepStrictEqual(descriptorWords('vehicle.vehicle.avgAuxPower'), [], 'in the catalogue, not in the table');
    assert.deepStrictEqual(descriptorWords('vehicle.no.such.key'), []);
  });

  it('searchWords: the words as searches compare them, ß as ss', () => {
    assert.deepStrictEqual(searchWords(CAPACITY), ['battery capacity', 'battery size', 'battery energy', 'akkukapazität', 'batteriekapazität', 'akkugrösse']);
    assert.deepStrictEqual(searchWords('vehicle.no.such.key'), []);
  });

  it('descriptorsForWord: the descriptors one of whose words is the whole text, in the table’s order', () => {
    assert.deepStrictEqual(descriptorsForWord('Position'), [LATITUDE, LONGITUDE]);
    assert.deepStrictEqual(descriptorsForWord('  STANDORT '), [LATITUDE, LONGITUDE]);
    assert.deepStrictEqual(descriptorsForWord('fenster'), WINDOWS);
    assert.deepStrictEqual(descriptorsForWord('Akkugröße'), [CAPACITY]);
    assert.deepStrictEqual(descriptorsForWord('state   of charge'), [SOC]);
    assert.deepStrictEqual(descriptorsForWord('posit'), [], 'a part of a word is not the word');
    assert.deepStrictEqual(descriptorsForWord(''), []);
    assert.deepStrictEqual(descriptorsForWord(' \t '), []);
  });
});
