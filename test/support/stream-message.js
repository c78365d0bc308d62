'use strict';
// A BMW stream message as the stream connection hands it on to its subscribers: read once, with its readings,
// unfiltered. For tests that push messages into a live feed without a broker.
const { code } = require('./code');
const { compileFilter, filterStreamMessage, normalizeStreamMessage } = code('src/core');

const EVERYTHING = compileFilter({});

function streamed(raw, topic = `gcid/${raw.vin}`) {
  return filterStreamMessage(raw, topic, normalizeStreamMessage(raw, topic), EVERYTHING);
}

module.exports = { streamed };
