'use strict';
// The n8n node's resources and operations come from core's operations table: every API operation is offered
// once, under the resource the table names, in the table's order.
const assert = require('assert');
const { OPERATIONS, OPERATION_IDS, RESOURCE_IDS } = require('../dist/src/core');
const { RESOURCES } = require('../dist/nodes/BmwCarData/resources');
const { resourcesOf } = require('../dist/src/n8n/operation');
const { BmwCarData } = require('../dist/nodes/BmwCarData/BmwCarData.node');

describe('n8n resources from the operations table', () => {
  it('lists the table\'s resources in the table\'s order', () => {
    assert.deepStrictEqual(RESOURCE_IDS, ['vehicle', 'telematicData', 'chargingHistory', 'chargingSettings', 'tyreDiagnosis', 'image', 'container']);
    const { properties } = new BmwCarData().description;
    const resource = properties.find((p) => p.name === 'resource');
    assert.deepStrictEqual(
      resource.options.map((o) => o.value),
      RESOURCE_IDS,
    );
    assert.deepStrictEqual(
      resource.options.map((o) => o.name),
      ['Vehicle', 'Telematic Data', 'Charging History', 'Charging Settings', 'Tyre Diagnosis', 'Image', 'Container'],
    );
  });

  it('offers every API operation once, under the resource the table gives it', () => {
    const offered = RESOURCES.flatMap((r) => r.operations.map((op) => [op.operationId, r.value]));
    assert.deepStrictEqual(offered.map(([id]) => id).sort(), [...OPERATION_IDS].sort());
    for (const [id, resource] of offered) assert.strictEqual(resource, OPERATIONS[id].resource, id);
  });

  it('every field of an operation shows for its own resource only', () => {
    for (const r of RESOURCES) {
      for (const op of r.operations) {
        for (const field of op.fields) {
          const shown = field.displayOptions?.show?.resource;
          if (shown) assert.deepStrictEqual(shown, [r.value], `${r.value} ${op.value} ${field.name}`);
        }
      }
    }
  });

  it('groups operations by the table, not by where they are listed', () => {
    const op = (operationId, value) => ({ operationId, value, name: value, action: value, description: '', quotaByDefault: false, fields: [], execute: async () => [] });
    const names = Object.fromEntries(RESOURCE_IDS.map((id) => [id, id.toUpperCase()]));
    const got = resourcesOf(names, [op('deleteContainer', 'delete'), op('getImage', 'get'), op('getMappings', 'getAll'), op('listContainers', 'getAll')]);
    assert.deepStrictEqual(
      got.map((r) => [r.value, r.name, r.operations.map((o) => o.operationId)]),
      [
        ['vehicle', 'VEHICLE', ['getMappings']],
        ['image', 'IMAGE', ['getImage']],
        ['container', 'CONTAINER', ['deleteContainer', 'listContainers']],
      ],
    );
  });
});
