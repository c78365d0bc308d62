import { statusTopic, vehicleTopic, DESCRIPTORS, SUBTOPICS } from './bridge-topics';

// Home Assistant MQTT discovery for the bridge: one retained config per entity under
// `<discovery prefix>/<component>/<object_id>/config`, one device per VIN, every entity available while the
// bridge's status topic says `online`. The state topics are the bridge's own topics (bridge-topics.ts). Only the
// fields Home Assistant documents for each component are used.

export const DEFAULT_DISCOVERY_PREFIX = 'homeassistant';

export type DiscoveryComponent = 'sensor' | 'binary_sensor' | 'device_tracker';

/** What the bridge knows of a car beyond its VIN (from basic data, fetched once). */
export interface VehicleInfo {
  brand?: string;
  model?: string;
}

export interface DiscoveryConfig {
  component: DiscoveryComponent;
  topic: string;
  config: Record<string, unknown>;
}

interface Entity {
  key: string;
  component: DiscoveryComponent;
  name: string;
  /** Sub-topic of `<prefix>/<VIN>/`. */
  topic: string;
  fields: Record<string, unknown>;
  /** The topic's JSON also becomes the entity's attributes (json_attributes_topic). */
  attributes?: boolean;
}

const BOOLEAN = { payload_on: 'true', payload_off: 'false' };
/** Home Assistant's lock class: on means unlocked. */
const LOCKED_IS_OFF = { payload_on: 'false', payload_off: 'true' };
const DOORS: Array<[string, string, string]> = [
  ['door_front_left', 'Front left door', 'vehicle.cabin.door.row1.driver.isOpen'],
  ['door_front_right', 'Front right door', 'vehicle.cabin.door.row1.passenger.isOpen'],
  ['door_rear_left', 'Rear left door', 'vehicle.cabin.door.row2.driver.isOpen'],
  ['door_rear_right', 'Rear right door', 'vehicle.cabin.door.row2.passenger.isOpen'],
];

const ENTITIES: Entity[] = [
  {
    key: 'soc',
    component: 'sensor',
    name: 'State of charge',
    topic: 'evcc/soc',
    fields: { device_class: 'battery', unit_of_measurement: '%', state_class: 'measurement' },
  },
  {
    key: 'electric_range',
    component: 'sensor',
    name: 'Electric range',
    topic: 'evcc/range',
    fields: { device_class: 'distance', unit_of_measurement: 'km', state_class: 'measurement' },
  },
  {
    key: 'total_range',
    component: 'sensor',
    name: 'Total range',
    topic: DESCRIPTORS.totalRange,
    fields: { device_class: 'distance', unit_of_measurement: 'km', state_class: 'measurement' },
  },
  {
    key: 'odometer',
    component: 'sensor',
    name: 'Odometer',
    topic: 'evcc/odometer',
    fields: { device_class: 'distance', unit_of_measurement: 'km', state_class: 'total_increasing', icon: 'mdi:counter' },
  },
  {
    key: 'charging_status',
    component: 'sensor',
    name: 'Charging status',
    topic: 'vehicle.drivetrain.electricEngine.charging.status',
    fields: { icon: 'mdi:ev-station' },
  },
  {
    key: 'charging_power',
    component: 'sensor',
    name: 'Charging power',
    topic: SUBTOPICS.charging,
    fields: { device_class: 'power', unit_of_measurement: 'kW', state_class: 'measurement', value_template: '{{ value_json.powerKw }}' },
  },
  { key: 'door_lock', component: 'sensor', name: 'Door lock', topic: 'vehicle.cabin.door.lock.status', fields: { icon: 'mdi:car-door-lock' } },
  { key: 'plugged', component: 'binary_sensor', name: 'Plugged in', topic: 'evcc/plugged', fields: { device_class: 'plug', ...BOOLEAN } },
  { key: 'charging', component: 'binary_sensor', name: 'Charging', topic: 'evcc/charging', fields: { device_class: 'battery_charging', ...BOOLEAN } },
  ...DOORS.map(([key, name, topic]): Entity => ({ key, component: 'binary_sensor', name, topic, fields: { device_class: 'door', ...BOOLEAN } })),
  { key: 'trunk', component: 'binary_sensor', name: 'Trunk', topic: 'vehicle.body.trunk.isOpen', fields: { device_class: 'opening', ...BOOLEAN } },
  { key: 'hood', component: 'binary_sensor', name: 'Hood', topic: 'vehicle.body.hood.isOpen', fields: { device_class: 'opening', ...BOOLEAN } },
  {
    key: 'trunk_lock',
    component: 'binary_sensor',
    name: 'Trunk lock',
    topic: 'vehicle.body.trunk.isLocked',
    fields: { device_class: 'lock', ...LOCKED_IS_OFF },
  },
  {
    key: 'last_trip_distance',
    component: 'sensor',
    name: 'Last trip distance',
    topic: SUBTOPICS.lastTrip,
    // An unknown distance (null) renders as None, which Home Assistant shows as unknown, never as 0.
    fields: {
      device_class: 'distance',
      unit_of_measurement: 'km',
      state_class: 'measurement',
      value_template: '{{ value_json.distanceKm }}',
      icon: 'mdi:map-marker-distance',
    },
    attributes: true,
  },
  // The energy counter, for Home Assistant's Energy dashboard: it only ever increases.
  {
    key: 'energy_charged',
    component: 'sensor',
    name: 'Energy charged',
    topic: SUBTOPICS.energy,
    fields: { device_class: 'energy', state_class: 'total_increasing', unit_of_measurement: 'kWh', icon: 'mdi:ev-station' },
  },
  { key: 'position', component: 'device_tracker', name: 'Position', topic: SUBTOPICS.location, fields: { source_type: 'gps', icon: 'mdi:car' } },
];

export function objectIdOf(vin: string, key: string): string {
  return `bmw_cardata_${vin}_${key}`;
}

export interface DiscoveryOptions {
  prefix: string;
  discoveryPrefix: string;
  vin: string;
  info?: VehicleInfo;
  /** The package's version, for the origin of the configs. */
  version?: string;
  /** The tariff's currency: this month's charging cost is announced in it; without a tariff it is not. */
  currency?: string;
}

/** The discovery configs of one car. */
export function discoveryConfigs(opts: DiscoveryOptions): DiscoveryConfig[] {
  const { prefix, discoveryPrefix, vin, info } = opts;
  const brand = info?.brand || 'BMW';
  const device: Record<string, unknown> = {
    identifiers: [`bmw_cardata_${vin}`],
    name: info?.model ? `${brand} ${info.model}` : `${brand} ${vin}`,
    manufacturer: brand,
  };
  if (info?.model) device.model = info.model;
  const origin: Record<string, string> = { name: 'bmw-cardata' };
  if (opts.version) origin.sw_version = opts.version;
  // Monetary sensors take the currency as their unit and no state class of measurement; the month's cost starts
  // again at 0 each month, so it has no state class at all.
  const entities: Entity[] = opts.currency
    ? [
        ...ENTITIES,
        {
          key: 'month_cost',
          component: 'sensor',
          name: 'Charging cost this month',
          topic: SUBTOPICS.month,
          fields: { device_class: 'monetary', unit_of_measurement: opts.currency, value_template: '{{ value_json.cost }}', icon: 'mdi:cash' },
        },
      ]
    : ENTITIES;
  return entities.map((e) => {
    const objectId = objectIdOf(vin, e.key);
    const topic = vehicleTopic(prefix, vin, e.topic);
    const config: Record<string, unknown> = {
      name: e.name,
      unique_id: objectId,
      // A device tracker reads its position from the attributes (latitude, longitude); it has no state topic.
      ...(e.component === 'device_tracker' ? { json_attributes_topic: topic } : { state_topic: topic }),
      ...(e.attributes ? { json_attributes_topic: topic } : {}),
      ...e.fields,
      availability_topic: statusTopic(prefix),
      payload_available: 'online',
      payload_not_available: 'offline',
      device,
      origin,
    };
    return { component: e.component, topic: `${discoveryPrefix}/${e.component}/${objectId}/config`, config };
  });
}
