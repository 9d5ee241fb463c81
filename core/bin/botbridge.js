#!/usr/bin/env node
// Runs the TypeScript sources directly: tsx compiles them on load, so there is no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
// exitCode, not process.exit(): open handles (the running server) keep the process alive until done.
process.exitCode = await main(process.argv);
