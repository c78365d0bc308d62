'use strict';
// Scripts of the simulator replayed through its MQTT stream to the core client, as a host gets them: a
// subscription that reconnects after a script's drop, the host restarted at a script's restart marker.
const assert = require('assert');
const { code } = require('./code');
const { subscribeStream, streamConnections } = code('src/node');
const { simulatorAccount } = require('./simulator-account');
const { startSimulator } = code('src/simulator');

/**
 * Plays each script (`play`: playChargingScript or playTripScript) over a fresh simulator's stream. The `host` is
 * told `start(name)` before a script, `restart()` at its host-restart marker and `message(m)` for each message;
 * once the `messagesOf(name)` messages of a script arrived, `check(name)` asserts what the host made of them.
 * Afterwards no stream connection is left.
 */
async function replayScriptsOverMqtt({ names, play, messagesOf, host }) {
  const sim = await startSimulator({ stream: true });
  let sub;
  try {
    const account = simulatorAccount(sim);
    let received = 0;
    sub = subscribeStream(account.tokens, {
      url: sim.streamUrl,
      backoffMinMs: 20,
      backoffMaxMs: 100,
      onMessage: (m) => {
        received += 1;
        host.message(m);
      },
    });
    await sub.waitFor('connected', 5000);
    for (const name of names) {
      host.start(name);
      received = 0;
      await play(sim.stream, name, {
        intervalMs: 10,
        onMarker: async (marker) => {
          if (marker === 'host-restart') host.restart();
          if (marker === 'stream-back') await sub.waitFor('connected', 5000);
        },
      });
      const expected = messagesOf(name);
      const deadline = Date.now() + 5000;
      while (received < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.strictEqual(received, expected, `${name}: messages received`);
      host.check(name);
    }
  } finally {
    if (sub) await sub.close();
    await sim.close();
  }
  assert.deepStrictEqual(streamConnections(), []);
}

module.exports = { replayScriptsOverMqtt };
