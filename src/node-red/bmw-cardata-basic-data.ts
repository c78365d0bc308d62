import type { NodeAPI } from 'node-red';
import { registerAction, type ActionConfig } from './action';

export = function (RED: NodeAPI): void {
  registerAction<ActionConfig>(RED, 'bmw-cardata-basic-data', async ({ account, msg, vin, read }) => {
    const data = await account.client.getBasicData(vin, read);
    msg.payload = data;
    msg.vin = data.vin ?? vin;
    return { summary: data.modelName ?? 'basic data', output: msg };
  });
};
