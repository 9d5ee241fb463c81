export { Bridge, createBridge } from './bridge.js';
export type { CreateBridgeOptions } from './bridge.js';
export { createHooks } from './hooks.js';
export type { BridgeHooks, HookName, PluginErrorEvent } from './hooks.js';
export { BridgeError, errorCatalogue, isBridgeError } from './errors.js';
export type { BridgeErrorCode } from './errors.js';
export { loadBridgeConfig, resolveConfig } from './config/load-config.js';
export type { LoadedConfig } from './config/load-config.js';
export { openStore } from './store/open-store.js';
export type { StoreOpenOptions } from './store/open-store.js';
/** Test support: a throwaway MySQL database per test bridge (`BOTBRIDGE_TEST_STORE=mysql://…`). */
export { createTestDatabase, isMysqlUrl } from './store/test-database.js';
export type { TestDatabase } from './store/test-database.js';
export type { Store, DeviceRecord, RoomRecord, ChatLogRow, PingRow, SystemSampleRow } from './store/types.js';
export { createLogger } from './logger.js';
export type { CoreLogger } from './logger.js';
export { SERVER_VERSION } from './version.js';
export type { InjectInput, InjectResult } from './pipeline/message-source.js';
