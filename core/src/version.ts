import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** botbridge's version, sent as `server_version` in handshakeComplete. */
export const SERVER_VERSION: string = (require('../package.json') as { version: string }).version;
