import type { NodeAPI } from 'node-red';
import { registerAction, type ActionConfig } from './action';

export = function (RED: NodeAPI): void {
  registerAction<ActionConfig>(RED, 'bmw-cardata-tyre-diagnosis', async ({ account, msg, vin, read }) => {
    const diagnosis = await account.client.getTyreDiagnosis(vin, read);
    msg.payload = diagnosis;
    msg.vin = vin;
    const quality = diagnosis.passengerCar?.mountedTyres?.aggregatedQualityStatus?.qualityStatus;
    return {
      summary: quality
        ? RED._('bmw-cardata-tyre-diagnosis.status.quality', { quality: quality.toLowerCase() })
        : RED._('bmw-cardata-tyre-diagnosis.status.read'),
      output: msg,
    };
  });
};
