import type { IDataObject } from 'n8n-workflow';
import { flattenChargingSession, flattenChargingSessionWithCost, SESSION_SUMMARY_COLUMNS, summarizeChargingSession } from '../../../../src/core/rows/flatten';
import { DAILY_CALLS, EVERY_CAR, returnAllAndLimit, vinLocator } from '../../../../src/n8n/node-parameters';
import { RANGE_OPTIONS, rangeOf } from '../../../../src/n8n/dates';
import { type Operation, optionsOf } from '../../../../src/n8n/operation';
import { fieldsOf, outputOptions, outputOf, selectFields } from '../../../../src/n8n/output';

const show = (extra: Record<string, string[]> = {}) => ({ show: { resource: ['chargingHistory'], operation: ['getAll'], ...extra } });

const getChargingSessions: Operation = {
  operationId: 'getChargingHistory',
  value: 'getAll',
  name: 'Get Many',
  action: 'Get many charging sessions',
  description: 'Get the charging sessions of a period, one item per session: 1 call per page of sessions',
  toolDescription:
    `Lists a car's charging sessions of a period (Period: last 24 hours, last 7 days, last 30 days, this month, last month, or from and to), one item per session: ` +
    `start and end, minutes charging, kWh from the grid, state of charge at start and end (%), average kW, place, provider, cost. ` +
    `Costs 1 ${DAILY_CALLS} per page of sessions that BMW returns (up to Limit sessions, 50 by default). ${EVERY_CAR}`,
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
    // Not marked required: n8n would then refuse to activate a workflow whose Period is an expression (an agent's
    // $fromAI() among them), as it cannot tell the period is not Custom. An empty one is refused when the node runs.
    {
      displayName: 'From',
      name: 'from',
      type: 'dateTime',
      default: '',
      description: 'Start of the period (needed for Custom)',
      displayOptions: show({ range: ['custom'] }),
    },
    {
      displayName: 'To',
      name: 'to',
      type: 'dateTime',
      default: '',
      description: 'End of the period (needed for Custom)',
      displayOptions: show({ range: ['custom'] }),
    },
    ...returnAllAndLimit('chargingHistory', 'getAll'),
  ],
  options: [
    ...outputOptions({
      workflowDefault: 'flat',
      flat: 'One row per session with plain columns (start, end, kWh, SoC, place, cost), ready for Convert to File',
      simplified: `Per session: ${SESSION_SUMMARY_COLUMNS.join(', ')}; empty ones left out`,
      raw: 'Sessions as BMW sends them, with nested charging blocks and location',
    }),
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
    const output = outputOf(this, i, 'flat');
    const fields = output === 'fields' ? fieldsOf(this, i) : [];
    // The account's tariff prices the flat rows (ours beside BMW's own cost).
    const tariff = output === 'flat' || output === 'fields' ? account.tariff() : undefined;
    const row = (session: Parameters<typeof flattenChargingSession>[0]) =>
      tariff ? flattenChargingSessionWithCost(session, tariff) : flattenChargingSession(session);
    const out = [];
    for await (const session of account.client.paginate('getChargingHistory', { vin, from, to }, { limit, ...read })) {
      if (output === 'simple') out.push({ json: { vin, ...summarizeChargingSession(session) } as IDataObject });
      else if (output === 'raw') out.push({ json: { vin, ...session } as IDataObject });
      else if (output === 'fields') out.push({ json: selectFields({ vin, ...row(session) }, fields) });
      else out.push({ json: { vin, ...row(session) } as IDataObject });
    }
    return out;
  },
};

export const chargingHistoryOperations: Operation[] = [getChargingSessions];
