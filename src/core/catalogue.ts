import { DESCRIPTOR_WORDS, normaliseWords, searchWords } from './descriptor-words';
import raw from './telematic-catalogue.json';

/** One telematic descriptor of BMW's catalogue. */
export interface Descriptor {
  id: string;
  name: string;
  description: string;
  unit: string;
  range: string;
  datatype: string;
  streamable: boolean;
  vehicleTypes: string[];
  category: string;
}

export interface DescriptorCategory {
  name: string;
  rank: number;
  description: string;
}

interface RawCatalogue {
  source: string;
  categories: DescriptorCategory[];
  items: (Descriptor & { brand?: string[] })[];
}

const data = raw as RawCatalogue;

/** The categories, in BMW's rank order. */
export const CATEGORIES: readonly DescriptorCategory[] = [...data.categories].sort((a, b) => a.rank - b.rank);

/** All descriptors of the bundled catalogue snapshot (294, October 2025). */
export const DESCRIPTORS: readonly Descriptor[] = data.items.map((d) => ({
  id: d.id,
  name: d.name.trim(),
  description: d.description.trim(),
  unit: d.unit,
  range: d.range,
  datatype: d.datatype,
  streamable: d.streamable,
  vehicleTypes: d.vehicleTypes,
  category: d.category,
}));

const byId = new Map(DESCRIPTORS.map((d) => [d.id, d]));

export function findDescriptor(id: string): Descriptor | undefined {
  return byId.get(id);
}

/**
 * Keys BMW accepts in a container but never returns from /telematicData: they have endpoints of their own
 * (Integration Guide 3.3.4). The whole BASIC_DATA category belongs to /basicData.
 */
export const DEDICATED_ENDPOINT_DESCRIPTORS: Readonly<Record<string, string>> = {
  'vehicle.chassis.axle.wheel.tire.diagnosis': 'tyre diagnosis',
  'vehicle.look.image': 'image',
  'vehicle.powertrain.electric.battery.charging.history.sessionsList': 'charging history',
  'vehicle.powertrain.electric.battery.charging.settingsList': 'charging settings',
};

/** The endpoint a descriptor is bound to, or undefined when /telematicData returns it. */
export function dedicatedEndpointOf(id: string): string | undefined {
  if (DEDICATED_ENDPOINT_DESCRIPTORS[id]) return DEDICATED_ENDPOINT_DESCRIPTORS[id];
  return byId.get(id)?.category === 'BASIC_DATA' ? 'basic data' : undefined;
}

/** Descriptors grouped by category (rank order), for pickers. */
export function descriptorsByCategory(): { category: DescriptorCategory; descriptors: Descriptor[] }[] {
  return CATEGORIES.map((category) => ({
    category,
    descriptors: DESCRIPTORS.filter((d) => d.category === category.name).sort((a, b) => a.name.localeCompare(b.name)),
  })).filter((g) => g.descriptors.length > 0);
}

/** What a picker shows of a unit: nothing for the catalogue's empty or "null" units, "%" for "percent". */
export function unitLabel(unit: string | null | undefined): string {
  const u = typeof unit === 'string' ? unit.trim() : '';
  if (u === '' || u === 'null') return '';
  return u === 'percent' ? '%' : u;
}

/**
 * Case-insensitive search over id, name, description and the words people use (descriptor-words.ts), best first:
 * a descriptor one of whose words is the whole text, then one whose word starts with it or holds it, then any
 * whose text holds every word typed. No text: everything, in catalogue order.
 */
const TABLE_ORDER = Object.keys(DESCRIPTOR_WORDS);

export function searchDescriptors(text: string): Descriptor[] {
  const q = normaliseWords(text);
  const words = q.split(' ').filter(Boolean);
  const ranked: { d: Descriptor; rank: number; at: number }[] = [];
  DESCRIPTORS.forEach((d, at) => {
    const own = searchWords(d.id);
    let rank: number;
    if (q && own.includes(q)) rank = 0;
    else if (q.length >= 3 && own.some((w) => w.startsWith(q))) rank = 1;
    else if (q.length >= 3 && own.some((w) => w.includes(q))) rank = 2;
    else if (words.every((w) => normaliseWords(`${d.id} ${d.name} ${d.description} ${own.join(' ')}`).includes(w))) rank = 3;
    else return;
    // The exact hits in the table's order (most wanted first), the rest in the catalogue's.
    ranked.push({ d, rank, at: rank === 0 ? TABLE_ORDER.indexOf(d.id) : at });
  });
  return ranked.sort((a, b) => a.rank - b.rank || a.at - b.at).map((r) => r.d);
}
