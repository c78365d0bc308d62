import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';
import { dedicatedEndpointOf, descriptorsByCategory } from '../core/catalogue';

function label(category: string): string {
  return category
    .split('_')
    .map((w) => (w.length <= 4 && /^(BEV|PHEV|CD)$/.test(w) ? w : w.charAt(0) + w.slice(1).toLowerCase()))
    .join(' ');
}

/**
 * The telematic catalogue as options, "Category: Name", in BMW's category order. Keys served by an endpoint of
 * their own (image, tyres, charging history and settings, basic data) are left out. Costs no call.
 */
export async function getDescriptors(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
  return descriptorsByCategory().flatMap(({ category, descriptors }) =>
    descriptors
      .filter((d) => !dedicatedEndpointOf(d.id))
      .map((d) => ({
        name: `${label(category.name)}: ${d.name}`,
        value: d.id,
        description: [d.description, d.unit ? `Unit: ${d.unit}` : '', d.streamable ? 'Also streamed' : ''].filter(Boolean).join('. '),
      })),
  );
}
