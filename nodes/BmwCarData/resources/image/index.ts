import { DAILY_CALLS, vinLocator } from '../../../../src/n8n/node-parameters';
import { type Operation } from '../../../../src/n8n/operation';

/** What the image operation answers an agent: a model reads no binary data, so BMW is not asked. */
export const IMAGE_FOR_TOOL =
  'The vehicle image is a picture (binary data), which an AI agent cannot read; it is not fetched, so no call was spent. Use Vehicle > Get for what the car is (brand, model, colour).';

const getImage: Operation = {
  operationId: 'getImage',
  value: 'get',
  name: 'Get',
  action: 'Get the vehicle image',
  description: 'Download the picture of the vehicle as binary data: 1 call, then none for a day (cache)',
  toolDescription: `Not for agents: the vehicle image is binary data a model cannot read. As a tool it answers with a short note and spends none ${DAILY_CALLS}.`,
  quotaByDefault: true,
  toolAnswer: { note: IMAGE_FOR_TOOL },
  fields: [
    vinLocator('image', ['get']),
    {
      displayName: 'Put Output File in Field',
      name: 'binaryPropertyName',
      type: 'string',
      default: 'data',
      required: true,
      hint: 'The name of the output binary field to put the image in',
      displayOptions: { show: { '@tool': [false], resource: ['image'], operation: ['get'] } },
    },
  ],
  async execute(account, i, vin, read) {
    const field = String(this.getNodeParameter('binaryPropertyName', i, 'data')).trim() || 'data';
    const image = await account.client.getImage(vin, read);
    const binary = await this.helpers.prepareBinaryData(image.data, image.fileName, image.contentType);
    return [{ json: { vin, mimeType: image.contentType, fileName: image.fileName, bytes: image.data.length }, binary: { [field]: binary } }];
  },
};

export const imageOperations: Operation[] = [getImage];
