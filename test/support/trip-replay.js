'use strict';
// The simulator's trip scripts as tests replay them: when to start one so that its finish falls due at a chosen
// moment, and the trip events core derives from it when fed straight to LiveData (what a host must deliver).
const { code } = require('./code');
const { LiveData } = code('src/core');
const { tripScriptItems, TRIP_SCRIPTS } = code('src/simulator/trip-scripts');

/** A trip script's start such that its finish (the ignition off, the 10-minute pause, the 5-minute wait) falls `dueInMs` from now. */
function tripStart(name, dueInMs) {
  const items = tripScriptItems(TRIP_SCRIPTS[name], { start: 0 }).filter((i) => 'message' in i);
  const off = Date.parse(items.find((i) => i.message.data['vehicle.drivetrain.engine.isIgnitionOn']?.value === false).at);
  return Date.now() + dueInMs - off - 15 * 60_000;
}

/** The trip events of a script started at `start`, fed straight to the core, the host's clock following the messages. */
function directTrips(name, start) {
  let clock = start;
  const live = new LiveData({ now: () => clock });
  const events = [];
  for (const item of tripScriptItems(TRIP_SCRIPTS[name], { start })) {
    if ('marker' in item) continue;
    clock = Math.max(clock, Date.parse(item.at));
    events.push(...live.ingest(item.message).trips);
  }
  clock += 24 * 3_600_000;
  for (const u of live.settle()) events.push(...u.trips);
  return events;
}

/** The finished trip of a script started at `start`. */
function finishedTrip(name, start) {
  return directTrips(name, start).find((t) => t.kind === 'trip-finished');
}

module.exports = { tripStart, directTrips, finishedTrip };
