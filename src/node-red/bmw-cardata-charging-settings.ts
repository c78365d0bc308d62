import type { NodeAPI } from 'node-red';
import { type LocationBasedChargingSetting } from '../core';
import { pick, registerAction, type ActionConfig } from './action';

interface SettingsConfig extends ActionConfig {
  limit?: string | number;
}

export = function (RED: NodeAPI): void {
  registerAction<SettingsConfig>(RED, 'bmw-cardata-charging-settings', async ({ account, msg, vin, config, progress, read }) => {
    const options = {
      ...read,
      limit: pick(msg.limit, config.limit) as number | undefined,
      onPage: ({ pages, items }: { pages: number; items: number }) =>
        progress(RED._('bmw-cardata-charging-settings.status.page', { page: pages, count: items })),
    };
    const settings: LocationBasedChargingSetting[] = await account.client.paginate('getLocationBasedChargingSettings', { vin }, options);
    msg.payload = settings;
    msg.vin = vin;
    return { summary: RED._('bmw-cardata-charging-settings.status.settings', { count: settings.length }), output: msg };
  });
};
