/**
 * `@botbridge/core/test-support`: what test harnesses need from the core and programs never do
 * (the `@botbridge/testing` kit, the MySQL suites). Kept off the public index on purpose.
 */
export { createTestDatabase, supportsTestDatabase } from './store/test-database.js';
export type { TestDatabase } from './store/test-database.js';
export { tcpReachable } from './store/tcp-reachable.js';
