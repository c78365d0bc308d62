import type { NodeAPI } from 'node-red';
import { checkVin } from '../core';
import { registerAction, type ActionConfig } from './action';

export = function (RED: NodeAPI): void {
  registerAction<ActionConfig>(RED, 'bmw-cardata-image', async ({ account, msg, vin, read }) => {
    const image = await account.client.getImage(vin, read);
    msg.payload = image.data;
    msg.contentType = image.contentType;
    msg.filename = image.fileName;
    msg.vin = checkVin(vin);
    return { summary: RED._('bmw-cardata-image.status.image', { size: Math.round(image.data.length / 1024) }), output: msg };
  });
};
