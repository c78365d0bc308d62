import type { IDataObject } from 'n8n-workflow';
import { flattenChargingSession, flattenChargingSessionWithCost } from '../../../../src/core/rows/flatten';
import { returnAllAndLimit, vinLocator } from '../../../../src/n8n/descriptions';
import { RANGE_OPTIONS, rangeOf } from '../../../../src/n8n/dates';
import { type Operation, optionsOf } from '../../../../src/n8n/operation';

const show = (extra: Record<string, string[]> = {}) => ({ show: { resource: ['chargingHistory'], operation: ['getAll'], ...extra } });

const getChargingSessions: Operation = {
  operationId: 'getChargingHistory',
  value: 'getAll',
  name: 'Get Many',
  action: 'Get many charging sessions',
  description: 'Get the charging sessions of a period, one item per session',
  quotaByDefault: false,
  fields: [
    vinLocator('chargingHistory', ['getAll']),
    {
      displayName: 'Period',
      name: 'range',
      type: 'options',
      default: 'last30d',
      options: RANGE_OPTIONS,
      description: 'Which sessions to read; months start at midnight in the time zone of the options (default: the workflow time zone)',
      displayOptions: show(),
    },
    { displayName: 'From', name: 'from', type: 'dateTime', default: '', required: true, description: 'Start of the period', displayOptions: show({ range: ['custom'] }) },
    { displayName: 'To', name: 'to', type: 'dateTime', default: '', required: true, description: 'End of the period', displayOptions: show({ range: ['custom'] }) },
    ...returnAllAndLimit('chargingHistory', 'getAll'),
  ],
  options: [
    {
      displayName: 'Output',
      name: 'output',
      type: 'options',
      default: 'flat',
      options: [
        { name: 'Flat Rows', value: 'flat', description: 'One row per session with plain columns (start, end, kWh, SoC, place, cost), ready for Convert to File' },
        { name: 'Raw', value: 'raw', description: 'Sessions as BMW sends them, with nested charging blocks and location' },
      ],
    },
    {
      displayName: 'Time Zone',
      name: 'timeZone',
      type: 'string',
      default: '',
      placeholder: 'e.g. Europe/Berlin',
      description: 'IANA time zone for the period and the dates picked; empty uses the workflow time zone',
    },
  ],
  async execute(account, i, vin, read) {
    const options = optionsOf(this, i);
    const { from, to, timeZone } = rangeOf(this, i, options.timeZone);
    // The output pane says which period was read, and in which zone (the option's, else the workflow's).
    this.addExecutionHints({ message: `Charging sessions from ${from} to ${to} (periods in ${timeZone})`, location: 'outputPane' });
    const returnAll = this.getNodeParameter('returnAll', i, false) as boolean;
    const limit = returnAll ? undefined : (this.getNodeParameter('limit', i, 50) as number);
    const flat = options.output !== 'raw';
    const tariff = flat ? account.tariff() : undefined;
    const out = [];
    for await (const session of account.client.paginate('getChargingHistory', { vin, from, to }, { limit, ...read })) {
      const row = tariff ? flattenChargingSessionWithCost(session, tariff) : flattenChargingSession(session);
      out.push({ json: (flat ? { vin, ...row } : { vin, ...session }) as IDataObject });
    }
    return out;
  },
};

export const chargingHistoryOperations: Operation[] = [getChargingSessions];
