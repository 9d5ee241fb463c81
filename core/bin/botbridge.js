#!/usr/bin/env node
// Runs the TypeScript sources directly: tsx compiles them on load, so there is no build step.
import { register } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';

register();
// Also the CommonJS hook: an operator's bridge.config.ts in a folder without a package.json of
// "type": "module" is loaded as CommonJS, and without this hook Node 20 fails on its `export default`.
registerCjs();
const { main } = await import('../src/cli/main.ts');
// exitCode, not process.exit(): open handles (the running server) keep the process alive until done.
process.exitCode = await main(process.argv);
