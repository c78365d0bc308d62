import type { NodeAPI } from 'node-red';
import { checkVin } from '../core';
import { registerAction, type ActionConfig } from './action';

const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif', 'image/svg+xml': 'svg' };

export = function (RED: NodeAPI): void {
  registerAction<ActionConfig>(RED, 'bmw-cardata-image', async ({ account, msg, vin }) => {
    const image = await account.client.getImage(vin);
    const checkedVin = checkVin(vin);
    msg.payload = image.data;
    msg.contentType = image.contentType;
    msg.filename = `${checkedVin}.${EXTENSIONS[image.contentType] ?? 'bin'}`;
    msg.vin = checkedVin;
    return { summary: `image ${Math.round(image.data.length / 1024)} kB`, output: msg };
  });
};
