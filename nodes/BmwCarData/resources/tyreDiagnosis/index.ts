import { vinLocator } from '../../../../src/n8n/descriptions';
import { type Operation, type Resource, vinOf } from '../../../../src/n8n/operation';

const getTyreDiagnosis: Operation = {
  value: 'get',
  name: 'Get',
  action: 'Get the tyre diagnosis',
  description: 'Get the smart maintenance tyre diagnosis: mounted and stored tyres, tread depth, defects',
  quotaByDefault: true,
  fields: [vinLocator('tyreDiagnosis', ['get'])],
  async execute(account, i) {
    return [{ json: { ...(await account.client.getTyreDiagnosis(vinOf(this, i))) } }];
  },
};

export const tyreDiagnosis: Resource = { value: 'tyreDiagnosis', name: 'Tyre Diagnosis', operations: [getTyreDiagnosis] };
