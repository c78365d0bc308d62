// The words people use for the descriptors they want most ("state of charge", "SoC", "Ladestand", "odometer"): one
// table in core, searched by the command line, the Node-RED picker (through the catalogue route) and the n8n picker.
import assert from 'assert';
import * as path from 'path';
import { execFile } from 'child_process';
import * as core from '../../src/core';
const { DESCRIPTOR_WORDS, descriptorWords, descriptorsForWord, searchDescriptors, findDescriptor, checkDescriptors, unitLabel } = core;
import { helper, editor, freshUserDir, allNodes, accountConfig, serverPerTest } from '../support/nodered';
import { BmwCarData } from '../../nodes/BmwCarData/BmwCarData.node.js';

const SOC = 'vehicle.drivetrain.batteryManagement.header';
const CLI = path.join(__dirname, '../../dist/src/cli/main.js');

function runCli(args) {
  return new Promise<{ code: number | string | null | undefined; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

describe('the words people use for descriptors', function () {
  describe('the table', function () {
    it('names about thirty of the catalogue’s descriptors, each with English and German words', () => {
      const ids = Object.keys(DESCRIPTOR_WORDS);
      assert.ok(ids.length >= 30, `${ids.length} descriptors`);
      for (const id of ids) {
        assert.ok(findDescriptor(id), `${id} is in the catalogue`);
        assert.ok(DESCRIPTOR_WORDS[id].en.length > 0 && DESCRIPTOR_WORDS[id].de.length > 0, id);
        for (const w of descriptorWords(id)) assert.strictEqual(w, w.toLowerCase().trim(), `${id}: "${w}" is lower case`);
      }
    });

    // A test per word: searching it finds its descriptor among the first hits, before anything the catalogue's own
    // text happens to contain.
    for (const [id, words] of Object.entries(DESCRIPTOR_WORDS)) {
      for (const word of [...words.en, ...words.de]) {
        it(`"${word}" finds ${id}`, () => {
          const exact = descriptorsForWord(word);
          assert.ok(exact.includes(id));
          const hits = searchDescriptors(word).map((d) => d.id);
          assert.ok(hits.slice(0, exact.length).includes(id), `${id} in the first ${exact.length} of ${hits.slice(0, 5).join(', ')}`);
          assert.deepStrictEqual(
            searchDescriptors(word.toUpperCase())
              .map((d) => d.id)
              .slice(0, exact.length),
            hits.slice(0, exact.length),
            'case is ignored',
          );
        });
      }
    }

    it('the state of charge comes first for every way of asking for it', () => {
      for (const q of ['state of charge', 'State  of Charge', 'soc', 'SoC', 'battery', 'charge level', 'Ladestand', 'Akku', 'LADEZUSTAND']) {
        assert.strictEqual(searchDescriptors(q)[0].id, SOC, q);
      }
    });

    it('an unknown descriptor that is a word people use suggests what it stands for, not a trip-end value', () => {
      const err = (() => {
        try {
          checkDescriptors('soc');
        } catch (e) {
          return e;
        }
      })();
      assert.strictEqual(err.parameter, 'descriptors');
      assert.strictEqual(err.hint, `Did you mean ${SOC}?`);
      assert.match(checkDescriptorsHint('Reichweite'), /kombiRemainingElectricRange/);
    });

    it('units read as units: none for the catalogue’s "null", "%" for "percent"', () => {
      assert.strictEqual(findDescriptor('vehicle.vehicle.travelledDistance').unit, 'null', 'the catalogue writes "null"');
      assert.strictEqual(unitLabel('null'), '');
      assert.strictEqual(unitLabel(' '), '');
      assert.strictEqual(unitLabel('percent'), '%');
      assert.strictEqual(unitLabel('kPa'), 'kPa');
    });
  });

  describe('the command line', function () {
    it('descriptors --search "state of charge" lists the state of charge first, with its words and no "null" unit', async () => {
      const res = await runCli(['descriptors', '--search', 'state of charge', '--format', 'csv']);
      assert.strictEqual(res.code, 0, res.stderr);
      const lines = res.stdout.trim().split('\n');
      assert.match(lines[0], /^id,name,unit,category,streamable,words/);
      assert.ok(lines[1].startsWith(`${SOC},Charging status of high-voltage battery,%,`), lines[1]);
      assert.match(lines[1], /state of charge/);
      const mileage = await runCli(['descriptors', '--search', 'odometer', '--format', 'csv']);
      const row = mileage.stdout.trim().split('\n')[1];
      assert.ok(row.startsWith('vehicle.vehicle.travelledDistance,Mileage,,'), row);
    });

    it('--help of descriptors says which words it knows', async () => {
      const res = await runCli(['descriptors', '--help']);
      assert.match(res.stdout + res.stderr, /state of charge/);
    });
  });

  describe('the Node-RED picker', function () {
    serverPerTest(async () => {
      freshUserDir();
    });

    it('the catalogue route carries the words and clean units for the picker to search and show', async () => {
      await helper.load(allNodes, [accountConfig({ apiBaseUrl: 'http://127.0.0.1:9', authBaseUrl: 'http://127.0.0.1:9/gcdm' })], {});
      const res = await editor().get('/bmw-cardata/catalogue').expect(200);
      const all = res.body.flatMap((g) => g.descriptors);
      const soc = all.find((d) => d.id === SOC);
      assert.ok(soc.words.includes('state of charge') && soc.words.includes('soc') && soc.words.includes('ladestand'));
      assert.strictEqual(soc.unit, '%');
      assert.strictEqual(all.find((d) => d.id === 'vehicle.vehicle.travelledDistance').unit, '', 'no "Mileage [null]"');
      assert.ok(all.every((d) => d.unit !== 'null' && Array.isArray(d.words)));
    });
  });

  describe('the n8n picker', function () {
    it('each option of the most wanted descriptors carries the words in its name (n8n filters names), no "null" unit', async () => {
      const options = await new BmwCarData().methods.loadOptions.getDescriptors.call({});
      const soc = options.find((o) => o.value === SOC);
      for (const w of ['state of charge', 'soc', 'battery', 'charge level', 'ladestand'])
        assert.ok(soc.name.toLowerCase().includes(w), `${w} in "${soc.name}"`);
      assert.ok(!options.some((o) => /Unit: null/.test(o.description)));
    });
  });
});

function checkDescriptorsHint(text) {
  try {
    checkDescriptors(text);
  } catch (e) {
    return e.hint;
  }
  return '';
}
