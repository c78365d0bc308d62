// The library for Node.js: core with its Node.js adapters (axios, files, timers). createAccount here shadows
// core's: it fills in those adapters.
export * from '../core';
export { AxiosTransport } from './axios-transport';
export { FileQuotaStore, type FileQuotaStoreOptions, quotaFileProblem } from './file-quota-store';
export { writePrivateJson } from './private-file';
export { nodeSleep } from './sleep';
export { createAccount, type NodeAccountOptions } from './account';
