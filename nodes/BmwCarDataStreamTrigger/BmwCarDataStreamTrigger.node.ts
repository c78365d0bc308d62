import {
  type IDataObject,
  type INodeType,
  type INodeTypeDescription,
  type ITriggerFunctions,
  type ITriggerResponse,
  NodeConnectionTypes,
  NodeOperationError,
  sleep,
} from 'n8n-workflow';
import { findDescriptor } from '../../src/core/catalogue';
import { CHARGING_EVENT_KINDS, FINISH_SETTLE_MS, type ChargingEventKind } from '../../src/core/live/charging-events';
import { createLiveFeed, liveStateFromCars, type LiveFeed } from '../../src/core/live/live-feed';
import { TRIP_EVENT_KINDS, type TripEventKind } from '../../src/core/live/trips';
import { LEDGER_EVENT_KINDS, type LedgerEventKind } from '../../src/core/live/ledger';
import type { Tariff } from '../../src/core/tariff';
import { credentialTariff } from '../../src/n8n/tariff';
import { CarDataError } from '../../src/core/errors';
import { DEFAULT_STREAM_URL, type StreamStatus, type StreamSubscription } from '../../src/core/stream/types';
import type { StreamEvent, StreamMessage } from '../../src/core/stream/message';
import { getDescriptors } from '../../src/n8n/descriptors';
import { CredentialStreamTokens } from '../../src/n8n/stream-tokens';
import { vehicleNameIn } from '../../src/n8n/vehicles';
import { subscribeStream } from '../../src/node/stream';
import { nodeTimers } from '../../src/node/timers';

const SOC = 'vehicle.drivetrain.batteryManagement.header';

const EVENT_NAMES: Readonly<Record<ChargingEventKind, string>> = {
  'plugged-in': 'Plugged In',
  'charging-started': 'Charging Started',
  'charging-interrupted': 'Charging Interrupted',
  'charging-error': 'Charging Error',
  'target-reached': 'Target Reached',
  'charging-finished': 'Charging Finished',
  unplugged: 'Unplugged',
};

const TRIP_EVENT_NAMES: Readonly<Record<TripEventKind, string>> = {
  'trip-started': 'Trip Started',
  'trip-finished': 'Trip Finished',
};

const LEDGER_EVENT_NAMES: Readonly<Record<LedgerEventKind, string>> = {
  summary: 'Summary',
  'month-closed': 'Month Closed',
};

function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => String(v).trim()).filter(Boolean);
  if (typeof value === 'string')
    return value
      .split(/[\s,;]+/)
      .map((v) => v.trim())
      .filter(Boolean);
  return [];
}

function eventItem(e: StreamEvent): IDataObject {
  const json: IDataObject = { vin: e.vin, descriptor: e.descriptor, value: e.value, unit: e.unit, timestamp: e.timestamp };
  if (e.numericValue !== undefined) json.numericValue = e.numericValue;
  return json;
}

function messageItem(m: StreamMessage): IDataObject {
  return {
    vin: m.vin,
    timestamp: m.timestamp,
    entityId: m.entityId,
    data: m.data as unknown as IDataObject,
    events: m.events.map(eventItem),
  };
}

/** What a manual run shows when the car sends nothing in time: the shape of a real item, marked as a sample. */
function sampleItem(vins: string[], descriptors: string[], perMessage: boolean): IDataObject {
  const descriptor = descriptors.find((d) => !d.endsWith('*')) ?? SOC;
  const isSoc = descriptor === SOC;
  const unit = isSoc ? '%' : findDescriptor(descriptor)?.unit || null;
  const timestamp = new Date().toISOString();
  const event: IDataObject = { vin: vins[0] ?? 'WBA00000000000000', descriptor, value: isSoc ? 64 : null, unit, timestamp };
  if (isSoc) event.numericValue = 64;
  const item = perMessage
    ? { vin: event.vin, timestamp, entityId: null, data: { [descriptor]: { value: event.value, unit, timestamp } }, events: [event] }
    : event;
  return { ...item, sample: true };
}

/** The late-readings wait in ms: seconds from 0 up, else the default (five minutes). */
function settleMs(seconds: unknown): number {
  const n = Number(seconds);
  return Number.isFinite(n) && n >= 0 ? n * 1000 : FINISH_SETTLE_MS;
}

export class BmwCarDataStreamTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'BMW CarData Stream Trigger',
    name: 'bmwCarDataStreamTrigger',
    icon: { light: 'file:../../icons/bmwCarData.svg', dark: 'file:../../icons/bmwCarData.dark.svg' },
    group: ['trigger'],
    version: 1,
    subtitle: 'Live vehicle data',
    description: 'Starts the workflow when the vehicle sends live data over the BMW CarData stream (no quota used)',
    defaults: { name: 'BMW CarData Stream Trigger' },
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    credentials: [{ name: 'bmwCarDataApi', required: true }],
    properties: [
      {
        displayName:
          "Set up the stream once in the BMW CarData portal: open 'Configure data stream', pick the data keys, save. BMW allows one stream connection per account: Home Assistant or evcc streaming the same account will compete with this trigger.",
        name: 'streamNotice',
        type: 'notice',
        default: '',
      },
      {
        displayName: 'VINs',
        name: 'vins',
        type: 'string',
        default: '',
        placeholder: 'e.g. WBA11AA010CH00001',
        description: 'Vehicles to listen to, separated by commas; empty for every vehicle of the account',
      },
      {
        displayName: 'Descriptor Names or IDs',
        name: 'descriptors',
        type: 'multiOptions',
        typeOptions: { loadOptionsMethod: 'getDescriptors' },
        default: [],
        description:
          'Values to listen to, e.g. vehicle.drivetrain.batteryManagement.header (state of charge); empty for all the stream sends. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
      },
      {
        displayName: 'Output',
        name: 'output',
        type: 'options',
        default: 'event',
        options: [
          {
            name: 'Charging Events',
            value: 'charging',
            description: 'Plugged in, charging started, finished (with kWh and SoC), interrupted, unplugged, worked out from the stream',
          },
          {
            name: 'Monthly Summary',
            value: 'summary',
            description:
              "Each car's month so far after every finished charge or trip (sessions, kWh, cost with the credential's tariff, trips, km), and its final figures once the month has ended",
          },
          { name: 'One Item per BMW Message', value: 'message', description: 'All values of one message together, as BMW sent them' },
          { name: 'One Item per Value', value: 'event', description: 'Vin, descriptor, value, unit, timestamp' },
          { name: "The Car's State on Change", value: 'state', description: 'The latest typed value of every descriptor of the vehicle, whenever one changes' },
          {
            name: 'Trip Events',
            value: 'trips',
            description: 'Trip started, trip finished (with distance, duration, positions, energy or fuel used), worked out from the stream',
          },
        ],
      },
      {
        displayName: 'Trigger On',
        name: 'events',
        type: 'multiOptions',
        default: ['charging-finished'],
        displayOptions: { show: { output: ['charging'] } },
        options: CHARGING_EVENT_KINDS.map((kind) => ({ name: EVENT_NAMES[kind], value: kind })),
        description:
          'The charging events that start the workflow. The state behind them is kept in the workflow, so a restart during a charge still gives one finished event.',
      },
      {
        displayName: 'Trigger On',
        name: 'tripEvents',
        type: 'multiOptions',
        default: ['trip-finished'],
        displayOptions: { show: { output: ['trips'] } },
        options: TRIP_EVENT_KINDS.map((kind) => ({ name: TRIP_EVENT_NAMES[kind], value: kind })),
        description:
          'The trip events that start the workflow, one item per event. A trip is read from the ignition, motion, odometer and position the car streams; a stop under 10 minutes stays in the trip. Trip Finished carries startedAt, endedAt, durationSeconds, distanceKm, start and end odometer and position, averageSpeedKmh, stops, state of charge and energyUsed or fuel used, endedBy and missing (the figures the car did not send). The state behind them is kept in the workflow, so a restart during a drive still gives one trip.',
      },
      {
        displayName: 'Trigger On',
        name: 'summaryEvents',
        type: 'multiOptions',
        default: ['summary', 'month-closed'],
        displayOptions: { show: { output: ['summary'] } },
        options: LEDGER_EVENT_KINDS.map((kind) => ({ name: LEDGER_EVENT_NAMES[kind], value: kind })),
        description:
          "Summary: after each finished charge or trip, its month so far. Month Closed: once when a month has ended (at midnight of the first, in the tariff's time zone, else UTC), its final figures. Both carry month, sessions, kwh (kwhMeasured and kwhEstimate apart), trips, distanceKm, kwhPer100Km and energyCounterKwh (the car's kWh charged, only ever increasing); with a tariff also cost, currency and costPer100Km.",
      },
      {
        displayName: 'Wait for Late Readings (Seconds)',
        name: 'settleSeconds',
        type: 'number',
        default: 300,
        typeOptions: { minValue: 0 },
        displayOptions: { show: { output: ['charging', 'trips', 'summary'] } },
        description:
          "How long a finished charge or trip waits for readings BMW delivers late (it holds them back when the car has no signal), so that its figures are exact; a trip's finish waits this long after the 10 minutes that tell a stop from its end. What the car did meanwhile (unplugged, a new charge) waits behind it. 0 sends the finish at once, with the figures known by then.",
      },
      {
        displayName: 'Skip Repeated Readings',
        name: 'deduplicate',
        type: 'boolean',
        default: true,
        displayOptions: { show: { output: ['event'] } },
        description:
          'Whether to emit a reading BMW sends again (same VIN, descriptor, value and timestamp) only once. BMW sometimes sends the same reading more than once.',
      },
      {
        displayName: 'Stream URL',
        name: 'streamUrl',
        type: 'string',
        default: '',
        placeholder: DEFAULT_STREAM_URL,
        description: "The stream broker. Leave empty to use the credential's (BMW's unless changed there).",
      },
      {
        displayName: 'Options',
        name: 'options',
        type: 'collection',
        placeholder: 'Add option',
        default: {},
        options: [
          {
            displayName: 'Sample After (Seconds)',
            name: 'sampleAfterSec',
            type: 'number',
            typeOptions: { minValue: 0 },
            default: 30,
            description: 'In a manual test run, emit a sample item (marked sample: true) if the car sends nothing this long; 0 waits for real data',
          },
        ],
      },
    ],
  };

  methods = { loadOptions: { getDescriptors } };

  async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
    const vins = list(this.getNodeParameter('vins', ''));
    const descriptors = list(this.getNodeParameter('descriptors', []));
    const output = String(this.getNodeParameter('output', 'event'));
    const perMessage = output === 'message';
    const deduplicate = output === 'event' && this.getNodeParameter('deduplicate', true) !== false;
    const ownUrl = String(this.getNodeParameter('streamUrl', '') ?? '').trim();
    const options = this.getNodeParameter('options', {}) as { sampleAfterSec?: number };
    const manual = this.getMode() === 'manual';
    const node = this.getNode();

    const tokens = new CredentialStreamTokens(this);
    await tokens.load();
    const url = ownUrl || tokens.streamUrl || DEFAULT_STREAM_URL;
    const current = tokens.current();
    if (!current) {
      throw new NodeOperationError(node, 'The BMW CarData credential is not logged in', {
        description: 'Open the credential and log in with your BMW ID first.',
      });
    }
    if (!current.idToken || !current.gcid) {
      // A pasted refresh token: the first refresh brings the id_token and GCID the stream logs in with.
      try {
        await tokens.refresh();
      } catch (e) {
        const err = e instanceof CarDataError ? e : undefined;
        throw new NodeOperationError(node, err?.message ?? String(e), { description: err?.hint || undefined });
      }
    }

    let done = false;
    let resolveFirst: () => void = () => undefined;
    const first = new Promise<void>((resolve) => {
      resolveFirst = resolve;
    });
    // Every item names its car (the credential's Car Names, else the model once read, else the VIN), after the VIN.
    const named = (json: IDataObject): IDataObject => {
      if (typeof json.vin !== 'string') return json;
      const { vin, ...rest } = json;
      return { vin, vehicleName: vehicleNameIn(tokens.accountId, tokens.vehicleNames, vin), ...rest };
    };
    const emit = (item: IDataObject): void => {
      if (done) return;
      const json = named(item);
      if (manual) {
        // A manual run ends with its first item.
        done = true;
        resolveFirst();
      }
      this.emit([this.helpers.returnJsonArray([json])]);
    };
    let lastReported: string | undefined;
    const onState = (s: StreamStatus): void => {
      if (s.state === 'reconnecting') this.logger.warn(`BMW CarData stream reconnecting: ${s.reason ?? ''}`);
      if ((s.state === 'not-configured' || s.state === 'unauthorized') && lastReported !== s.state && s.error) {
        lastReported = s.state;
        if (manual) {
          done = true;
          resolveFirst();
        }
        this.emitError(new NodeOperationError(node, s.error.message, { description: s.error.hint || undefined }));
      }
      if (s.state === 'connected') lastReported = undefined;
    };

    let feed: LiveFeed | undefined;
    let tariff: Tariff | undefined;
    try {
      tariff = credentialTariff(tokens.tariffText);
    } catch (e) {
      const err = e instanceof CarDataError ? e : undefined;
      throw new NodeOperationError(node, `The credential's Tariff: ${err?.message ?? String(e)}`, { description: err?.hint || undefined });
    }
    if (output === 'state' || output === 'charging' || output === 'trips' || output === 'summary') {
      // The workflow's static data keeps the state between executions and restarts of an active workflow.
      const staticData = this.getWorkflowStaticData('node');
      // One record per car (JSON text by VIN): a save replaces the cars that changed. Earlier versions kept the
      // whole state as one text (liveData), read once and replaced.
      const cars = (staticData.liveCars ?? {}) as Record<string, string>;
      feed = createLiveFeed({
        saved: manual ? undefined : (staticData.liveData ?? liveStateFromCars(cars).saved),
        // Readings are kept every 30 s, events before they go out, what is left when the workflow stops.
        saveCars: (changed) => {
          if (manual) return;
          if (staticData.liveData !== undefined && feed) {
            Object.assign(cars, feed.live.serializeCars(feed.live.vins()));
            delete staticData.liveData;
          }
          staticData.liveCars = Object.assign(cars, changed);
        },
        timers: nodeTimers,
        settleMs: settleMs(this.getNodeParameter('settleSeconds', FINISH_SETTLE_MS / 1000)),
        descriptors: output === 'state' ? descriptors : undefined,
        kinds: output === 'charging' ? (list(this.getNodeParameter('events', [])) as ChargingEventKind[]) : undefined,
        onVehicle: output === 'state' ? (v, u) => emit({ ...(v as unknown as IDataObject), changes: u.changes }) : undefined,
        onChargingEvent: output === 'charging' ? (e) => emit(e as unknown as IDataObject) : undefined,
        tripKinds: output === 'trips' ? (list(this.getNodeParameter('tripEvents', [])) as TripEventKind[]) : undefined,
        onTripEvent: output === 'trips' ? (e) => emit(e as unknown as IDataObject) : undefined,
        ledgerKinds: output === 'summary' ? (list(this.getNodeParameter('summaryEvents', [])) as LedgerEventKind[]) : undefined,
        onLedgerEvent: output === 'summary' ? (e) => emit(e as unknown as IDataObject) : undefined,
        tariff,
        onProblem: (message) => this.logger.warn(message),
      });
    }

    let subscription: StreamSubscription;
    try {
      subscription = subscribeStream(tokens, {
        url,
        vins,
        // The charging and trip trackers need every reading of the car, whatever the values picked.
        descriptors: feed ? [] : descriptors,
        deduplicate,
        onState,
        onEvent: output === 'event' ? (e) => emit(eventItem(e)) : undefined,
        onMessage: perMessage ? (m) => emit(messageItem(m)) : feed ? (m) => void feed.push(m) : undefined,
        onError: (e) => this.logger.warn(e.message),
      });
    } catch (e) {
      const err = e instanceof CarDataError ? e : undefined;
      throw new NodeOperationError(node, err?.message ?? String(e), { description: err?.hint || undefined });
    }

    const sampleAfterMs = Math.max(0, Number(options.sampleAfterSec ?? 30)) * 1000;
    if (manual && sampleAfterMs > 0 && !feed) {
      // emit() ignores the sample once the run has ended or a real message came first.
      void sleep(sampleAfterMs).then(() => emit(sampleItem(vins, descriptors, perMessage)));
    }

    const closeFunction = async (): Promise<void> => {
      done = true;
      resolveFirst();
      await subscription.close();
      await feed?.close();
    };
    if (!manual) return { closeFunction };
    return { closeFunction, manualTriggerFunction: () => first };
  }
}
