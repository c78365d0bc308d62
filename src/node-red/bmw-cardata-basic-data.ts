import type { NodeAPI } from 'node-red';
import { registerAction, type ActionConfig } from './action';

export = function (RED: NodeAPI): void {
  registerAction<ActionConfig>(RED, 'bmw-cardata-basic-data', async ({ account, accountNode, msg, vin, read }) => {
    const data = await account.client.getBasicData(vin, read);
    if (data.modelName) accountNode.rememberModel(data.vin ?? vin, data.modelName);
    msg.payload = data;
    msg.vin = data.vin ?? vin;
    return { summary: data.modelName ?? RED._('bmw-cardata-basic-data.status.read'), output: msg };
  });
};
