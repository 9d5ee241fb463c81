export { createTestBridge } from './test-bridge.js';
export type { TestBridge, TestBridgeOptions } from './test-bridge.js';
export { FakeBridgeClient } from './fake-client.js';
export type * from './fake-client.js';
