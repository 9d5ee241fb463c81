export { createTestBridge } from './test-bridge.js';
export type { LogLine, TestBridge, TestBridgeOptions } from './test-bridge.js';
export { FakeBridgeClient } from './fake-client.js';
export type * from './fake-client.js';
