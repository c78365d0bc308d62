'use strict';
// A saved live-data state as a host keeps it, for the tests of restoring one.
const { code } = require('./code');

const { initialChargingState, initialTripState } = code('src/node');

const SOC = 'vehicle.drivetrain.batteryManagement.header';

/** The saved state of one car `vin`, updated at `at` with a state of charge of 50 %, and `vehicle`'s fields on top. */
function savedLiveState(vin, at, vehicle = {}) {
  return {
    version: 1,
    vehicles: {
      [vin]: {
        vin,
        updatedAt: at,
        values: { [SOC]: { value: 50, unit: '%', timestamp: at } },
        charging: initialChargingState(),
        trips: initialTripState(),
        ...vehicle,
      },
    },
  };
}

module.exports = { savedLiveState };
