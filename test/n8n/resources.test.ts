// The n8n node's resources and operations come from core's operations table: every API operation is offered
// once, under the resource the table names, in the table's order.
import assert from 'assert';
import { OPERATIONS, OPERATION_IDS, RESOURCE_IDS } from '../../src/core';
import { RESOURCES } from '../../nodes/BmwCarData/resources';
import { resourcesOf } from '../../src/n8n/operation';
import type { Operation } from '../../src/n8n/operation';
import { BmwCarData } from '../../nodes/BmwCarData/BmwCarData.node.js';
import { NodeHelpers } from 'n8n-workflow';
import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';
import type { ResourceId } from '../../src/core';

describe('n8n resources from the operations table', () => {
  it("lists the table's resources in the table's order", () => {
    assert.deepStrictEqual(RESOURCE_IDS, ['vehicle', 'telematicData', 'chargingHistory', 'chargingSettings', 'tyreDiagnosis', 'image', 'container']);
    const { properties } = new BmwCarData().description;
    const resource = properties.find((p) => p.name === 'resource');
    assert.deepStrictEqual(
      resource.options.map((o) => (o as INodePropertyOptions).value),
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
    const op = (operationId, value) =>
      ({ operationId, value, name: value, action: value, description: '', quotaByDefault: false, fields: [], execute: async () => [] }) as unknown as Operation;
    const names = Object.fromEntries(RESOURCE_IDS.map((id) => [id, id.toUpperCase()])) as Record<ResourceId, string>;
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

describe("n8n's editor on the node's description", () => {
  const description = new BmwCarData().description;
  const node = { typeVersion: 1 };
  /** The parameters n8n's editor shows for these values, with the defaults it fills in. */
  const shown = (values) => NodeHelpers.getNodeParameters(description.properties, values, true, false, node, description);
  const optionsShown = (values) => description.properties.filter((p) => p.name === 'options' && NodeHelpers.displayParameter(values, p, node, description));

  it('each resource opens on its first operation, offered with its name, action and description', () => {
    for (const r of RESOURCES) {
      assert.strictEqual(shown({ resource: r.value }).operation, r.operations[0].value, r.value);
      const selectors = description.properties.filter(
        (p) => p.name === 'operation' && NodeHelpers.displayParameter({ resource: r.value }, p, node, description),
      );
      assert.strictEqual(selectors.length, 1, r.value);
      const [selector] = selectors;
      assert.deepStrictEqual(
        { displayName: selector.displayName, type: selector.type, noDataExpression: selector.noDataExpression, default: selector.default },
        { displayName: 'Operation', type: 'options', noDataExpression: true, default: r.operations[0].value },
      );
      assert.deepStrictEqual(
        selector.options,
        r.operations.map((op) => ({ name: op.name, value: op.value, action: op.action, description: op.description })),
      );
    }
  });

  it("an operation shows its own fields and one Options collection, empty by default, never another operation's", () => {
    for (const r of RESOURCES) {
      for (const op of r.operations) {
        const values = { resource: r.value, operation: op.value };
        const params = shown(values);
        const own = new Set(['resource', 'operation', 'options', ...op.fields.map((f) => f.name)]);
        for (const name of Object.keys(params)) assert.ok(own.has(name), `${r.value} ${op.value} shows ${name}`);
        assert.deepStrictEqual(params.options, {}, `${r.value} ${op.value}`);
        const collections = optionsShown(values);
        assert.strictEqual(collections.length, 1, `${r.value} ${op.value}`);
        assert.deepStrictEqual(
          { displayName: collections[0].displayName, type: collections[0].type, placeholder: collections[0].placeholder },
          { displayName: 'Options', type: 'collection', placeholder: 'Add Option' },
        );
      }
    }
    // A field's own display rule stays: Limit goes with Return All off.
    assert.strictEqual(shown({ resource: 'chargingHistory', operation: 'getAll' }).limit, 50);
    assert.strictEqual(shown({ resource: 'chargingHistory', operation: 'getAll', returnAll: true }).limit, undefined);
  });

  it('Options: in alphabetical order, the cache for the operations the table gives a lifetime, Include Quota on where the operation says so', () => {
    for (const r of RESOURCES) {
      for (const op of r.operations) {
        const [collection] = optionsShown({ resource: r.value, operation: op.value });
        const names = collection.options.map((o) => (o as INodeProperties).displayName);
        assert.deepStrictEqual(
          names,
          [...names].sort((a, b) => a.localeCompare(b)),
          `${r.value} ${op.value}`,
        );
        assert.deepStrictEqual(
          collection.options
            .map((o) => o.name)
            .filter((n) => !(op.options ?? []).some((extra) => extra.name === n))
            .sort(),
          OPERATIONS[op.operationId].cacheMs === undefined ? ['includeQuota'] : ['cacheMaxAge', 'includeQuota'],
          `${r.value} ${op.value}`,
        );
        assert.strictEqual((collection.options.find((o) => o.name === 'includeQuota') as INodeProperties).default, op.quotaByDefault, `${r.value} ${op.value}`);
      }
    }
    const cacheOf = (resource, operation) =>
      (optionsShown({ resource, operation })[0].options.find((o) => o.name === 'cacheMaxAge') as INodeProperties).description;
    assert.match(cacheOf('vehicle', 'get'), /the operation's default \(1 day\)/);
    assert.match(cacheOf('telematicData', 'get'), /the operation's default \(none: BMW is asked every time\)/);
    // The telematic read's own options (its Output, the fields Output picks) and the two every read has, mixed into one order.
    assert.deepStrictEqual(
      optionsShown({ resource: 'telematicData', operation: 'get' })[0].options.map((o) => o.name),
      ['allowUnknown', 'cacheMaxAge', 'fields', 'includeQuota', 'output', 'simplify'],
    );
  });
});
