/** BMW's CarData stream broker (MQTT over TLS). Kept apart from the stream client so it can be read without loading mqtt. */
export const DEFAULT_STREAM_URL = 'mqtts://customer.streaming-cardata.bmwgroup.com:9000';
