// The library for Node.js: core with its Node.js adapters (axios, files, timers, mqtt). createAccount and
// subscribeStream here shadow core's: they fill in those adapters.
export * from '../core';
export { AxiosTransport } from './axios-transport';
export { FileQuotaStore, type FileQuotaStoreOptions, quotaFileProblem } from './file-quota-store';
export { writePrivateJson, writePrivateText, type WritePrivateOptions } from './private-file';
export { nodeSleep } from './sleep';
export { nodeTimers } from './timers';
export { machineTimeZone } from './time-zone';
export { mqttConnect } from './mqtt-connection';
export { createAccount, type NodeAccountOptions } from './node-account';
export { subscribeStream, type NodeStreamSubscribeOptions } from './stream';
export { DEFAULT_OUTBOX_LIMIT, FileOutbox, type FileOutboxOptions, type OutboxEntry } from './outbox';
export { readTripLog, TRIP_LOG_MAX_AGE_MS, TRIP_LOG_MAX_TRIPS, TripLog, type LoggedTrip, type TripLogOptions } from './trip-log';
