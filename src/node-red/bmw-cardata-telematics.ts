import type { NodeAPI } from 'node-red';
import { checkContainerId, telematicValues, type TelematicDataEntry } from '../core';
import { pick, registerAction, type ActionConfig } from './action';

interface TelematicsConfig extends ActionConfig {
  descriptors?: string[] | string;
  /** `managed`: the node finds or creates the container; `id`: the container given in containerId. */
  containerMode?: 'managed' | 'id';
  containerId?: string;
  allowUnknown?: boolean;
}

export = function (RED: NodeAPI): void {
  registerAction<TelematicsConfig>(RED, 'bmw-cardata-telematics', async ({ account, msg, vin, config, read }) => {
    const configuredId = config.containerMode === 'id' ? config.containerId : undefined;
    const containerId = pick(msg.containerId, configuredId ?? '');
    let data: Record<string, TelematicDataEntry>;
    let usedContainer: string;
    if (containerId) {
      usedContainer = checkContainerId(containerId);
      data = (await account.client.getTelematicData(vin, usedContainer, read)).telematicData ?? {};
    } else {
      const descriptors = pick(msg.descriptors, config.descriptors ?? []);
      const result = await account.client.getTelematicValues(vin, descriptors, { allowUnknown: config.allowUnknown === true, ...read });
      data = result.telematicData ?? {};
      usedContainer = result.containerId;
    }
    msg.payload = data;
    msg.values = telematicValues(data);
    msg.containerId = usedContainer;
    msg.vin = vin;
    const count = Object.keys(data).length;
    return { summary: RED._('bmw-cardata-telematics.status.values', { count }), output: msg };
  });
};
