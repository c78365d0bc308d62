import type { NodeAPI } from 'node-red';
import { registerAction, type ActionConfig } from './action';

export = function (RED: NodeAPI): void {
  registerAction<ActionConfig>(RED, 'bmw-cardata-vehicles', async ({ account, accountNode, msg, read }) => {
    const vehicles = await account.client.getMappings(read);
    accountNode.rememberVehicles(vehicles);
    msg.payload = vehicles;
    return { summary: RED._('bmw-cardata-vehicles.status.vehicles', { count: vehicles.length }), output: msg };
  });
};
