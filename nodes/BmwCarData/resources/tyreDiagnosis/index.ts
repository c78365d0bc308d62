import { vinLocator } from '../../../../src/n8n/descriptions';
import { type Operation, vinOf } from '../../../../src/n8n/operation';

const getTyreDiagnosis: Operation = {
  operationId: 'getSmartMaintenanceTyreDiagnosis',
  value: 'get',
  name: 'Get',
  action: 'Get the tyre diagnosis',
  description: 'Get the smart maintenance tyre diagnosis: mounted and stored tyres, tread depth, defects',
  quotaByDefault: true,
  fields: [vinLocator('tyreDiagnosis', ['get'])],
  async execute(account, i, read) {
    return [{ json: { ...(await account.client.getTyreDiagnosis(vinOf(this, i), read)) } }];
  },
};

export const tyreDiagnosisOperations: Operation[] = [getTyreDiagnosis];
