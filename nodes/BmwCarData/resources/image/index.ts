import { vinLocator } from '../../../../src/n8n/descriptions';
import { type Operation } from '../../../../src/n8n/operation';

const getImage: Operation = {
  operationId: 'getImage',
  value: 'get',
  name: 'Get',
  action: 'Get the vehicle image',
  description: 'Download the picture of the vehicle as binary data',
  quotaByDefault: true,
  fields: [
    vinLocator('image', ['get']),
    {
      displayName: 'Put Output File in Field',
      name: 'binaryPropertyName',
      type: 'string',
      default: 'data',
      required: true,
      hint: 'The name of the output binary field to put the image in',
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
