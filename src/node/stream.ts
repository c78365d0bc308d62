import { subscribeStream as subscribeCoreStream } from '../core/stream/subscribe';
import type { StreamPorts, StreamSubscribeOptions, StreamSubscription, StreamTokenSource } from '../core/stream/types';
import { mqttConnect } from './mqtt-connection';
import { nodeTimers } from './timers';

export type NodeStreamSubscribeOptions = StreamSubscribeOptions & Partial<StreamPorts>;

/** Core's stream on Node.js's ports: mqtt unless a connection is given, Node's timers unless timers are. */
export function subscribeStream(tokens: StreamTokenSource, options: NodeStreamSubscribeOptions = {}): StreamSubscription {
  return subscribeCoreStream(tokens, { ...options, connect: options.connect ?? mqttConnect, timers: options.timers ?? nodeTimers });
}
