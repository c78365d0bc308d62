import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';
import { dedicatedEndpointOf, descriptorsByCategory, unitLabel } from '../core/catalogue';
import { DESCRIPTOR_WORDS } from '../core/descriptor-words';

function label(category: string): string {
  return category
    .split('_')
    .map((w) => (w.length <= 4 && /^(BEV|PHEV|CD)$/.test(w) ? w : w.charAt(0) + w.slice(1).toLowerCase()))
    .join(' ');
}

/** The words people use for a descriptor, English and German, in the option's name: n8n's filter searches names only. */
function aka(id: string): string {
  const w = DESCRIPTOR_WORDS[id];
  return w ? ` (${[...w.en, ...w.de].join(', ')})` : '';
}

/**
 * The telematic catalogue as options, "Category: Name (words people use)", in BMW's category order. Keys served by
 * an endpoint of their own (image, tyres, charging history and settings, basic data) are left out. Costs no call.
 */
export async function getDescriptors(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
  return descriptorsByCategory().flatMap(({ category, descriptors }) =>
    descriptors
      .filter((d) => !dedicatedEndpointOf(d.id))
      .map((d) => ({
        name: `${label(category.name)}: ${d.name}${aka(d.id)}`,
        value: d.id,
        description: [d.description?.replace(/\.+$/, ''), unitLabel(d.unit) ? `Unit: ${unitLabel(d.unit)}` : '', d.streamable ? 'Also streamed' : '']
          .filter(Boolean)
          .join('. '),
      })),
  );
}
