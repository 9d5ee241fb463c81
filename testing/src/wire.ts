/**
 * The raw wire pieces the fake phone is built from, for tests that write packets by hand
 * (malformed, replayed or legacy lines the FakeBridgeClient would never send). Plugin tests
 * rarely need these: `FakeBridgeClient` and `createTestBridge` are the kit's main entry.
 */
export { buildAuthBlock, signAuth, SCRIPT_SALT, SCRIPT_SECRET_KEY } from './auth-signer.js';
export type { AuthIdentity, SigningKey } from './auth-signer.js';
export { buildAnalyzeData, buildHandshake, buildLegacyTwin, buildPingAnswer, encodeLine } from './wire-packets.js';
export type { AnalyzeDefaults, HandshakeFields, MonitoringBlock } from './wire-packets.js';
export type * from './wire-types.js';
export { buildV33Handshake, buildV33MessageLine, buildV33PingAnswer, encodeV33Line, readV33Reply, splitV33Line } from './wire-v33.js';
export type { PositionsMode } from './wire-v33.js';
