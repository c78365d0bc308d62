import { vinLocator } from '../../../../src/n8n/descriptions';
import type { Operation } from '../../../../src/n8n/operation';

const getTyreDiagnosis: Operation = {
  operationId: 'getSmartMaintenanceTyreDiagnosis',
  value: 'get',
  name: 'Get',
  action: 'Get the tyre diagnosis',
  description: 'Get the smart maintenance tyre diagnosis: mounted and stored tyres, tread depth, defects',
  quotaByDefault: true,
  fields: [vinLocator('tyreDiagnosis', ['get'])],
  async execute(account, _i, vin, read) {
    return [{ json: { vin, ...(await account.client.getTyreDiagnosis(vin, read)) } }];
  },
};

export const tyreDiagnosisOperations: Operation[] = [getTyreDiagnosis];
