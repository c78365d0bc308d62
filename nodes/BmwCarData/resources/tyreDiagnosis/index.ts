import type { IDataObject } from 'n8n-workflow';
import { DAILY_CALLS, EVERY_CAR, vinLocator } from '../../../../src/n8n/node-parameters';
import type { Operation } from '../../../../src/n8n/operation';
import { fieldsOf, outputOptions, outputOf, selectFields, withoutEmpty } from '../../../../src/n8n/output';

const getTyreDiagnosis: Operation = {
  operationId: 'getSmartMaintenanceTyreDiagnosis',
  value: 'get',
  name: 'Get',
  action: 'Get the tyre diagnosis',
  description: 'Get the smart maintenance tyre diagnosis: mounted and stored tyres, tread depth, defects. 1 call per car, then none for an hour (cache).',
  toolDescription: `Reads a car's tyre diagnosis: the mounted and stored tyres, their tread depth and defects. Costs 1 ${DAILY_CALLS} per car, then none for an hour: the answer is cached. ${EVERY_CAR}`,
  quotaByDefault: true,
  fields: [vinLocator('tyreDiagnosis', ['get'])],
  options: outputOptions({ workflowDefault: 'raw', simplified: "BMW's answer without its empty fields (null, empty text, lists and objects)" }),
  async execute(account, i, vin, read) {
    const output = outputOf(this, i, 'raw');
    const diagnosis = { vin, ...(await account.client.getTyreDiagnosis(vin, read)) } as IDataObject;
    if (output === 'simple') return [{ json: (withoutEmpty(diagnosis) ?? { vin }) as IDataObject }];
    if (output === 'fields') return [{ json: selectFields(diagnosis, fieldsOf(this, i)) }];
    return [{ json: diagnosis }];
  },
};

export const tyreDiagnosisOperations: Operation[] = [getTyreDiagnosis];
