import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, usePlugin } from '@botbridge/sdk';
import { bridgeConfigSchema } from '@botbridge/sdk/internal';
import { editDistance, keysAt, suggestKey } from '../../src/config/config-issues.js';
import { resolveConfig } from '../../src/config/load-config.js';
import { BridgeError } from '../../src/errors.js';
import { createBridge } from '../../src/bridge.js';

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BridgeError);
    return (error as BridgeError).message;
  }
  throw new Error('did not throw');
}

describe('config error texts', () => {
  it('names an unknown key once, with the nearest key of the schema', () => {
    expect(messageOf(() => resolveConfig({ pipline: {} } as never))).toBe('invalid config: pipline: unknown key (did you mean "pipeline"?)');
    expect(messageOf(() => resolveConfig({ listen: { prot: 1 } } as never))).toBe('invalid config: listen.prot: unknown key (did you mean "port"?)');
    // Nothing close: no guess.
    expect(messageOf(() => resolveConfig({ zzzzzz: 1 } as never))).toBe('invalid config: zzzzzz: unknown key');
  });

  it('lists every problem, not only the first', () => {
    const message = messageOf(() => resolveConfig({ pipline: {}, limits: { maxConnections: 0 }, log: { categories: { pings: 'debug' } } } as never));
    expect(message).toMatch(/^invalid config: /);
    expect(message).toContain('pipline: unknown key (did you mean "pipeline"?)');
    expect(message).toContain('limits.maxConnections: Too small');
    expect(message).toContain('log.categories.pings: invalid key: expected one of connection');
    expect(message.split('; ')).toHaveLength(3);
    expect(message).not.toContain('(root): (root)');
  });

  it('docs/configuration.md shows what is printed', () => {
    const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    const message = messageOf(() => resolveConfig({ pipline: {}, limits: { maxConnections: 0 } } as never));
    expect(docs).toContain(`botbridge: ${message} (BRIDGE_ERR_CONFIG_INVALID)`);
  });

  it('reports every broken plugin config before any plugin is set up', () => {
    let setups = 0;
    const one = definePlugin({ name: 'one', config: z.strictObject({ prefix: z.string().min(1).default('#') }), setup: () => void (setups += 1) });
    const two = definePlugin({ name: 'two', config: z.strictObject({ triggers: z.array(z.string()).min(1).default(['hi']) }), setup: () => void (setups += 1) });
    const error = (() => {
      try {
        createBridge({ config: { plugins: [usePlugin(one, { prefx: '!' } as never), usePlugin(two, { triggers: [] })] } });
      } catch (caught) {
        return caught as BridgeError;
      }
      throw new Error('did not throw');
    })();
    expect(error.code).toBe('BRIDGE_ERR_PLUGIN_CONFIG');
    expect(error.message).toBe('invalid plugin config: plugin one: prefx: unknown key (did you mean "prefix"?); plugin two: triggers: Too small: expected array to have >=1 items');
    expect(error.params).toMatchObject({ plugin: 'one', path: 'prefx', plugins: 'one, two' });
    expect(setups).toBe(0);
  });

  it('finds the keys of nested, defaulted and record-valued objects', () => {
    expect(keysAt(bridgeConfigSchema, [])).toContain('pipeline');
    expect(keysAt(bridgeConfigSchema, ['listen'])).toEqual(['host', 'port', 'tls']);
    expect(keysAt(bridgeConfigSchema, ['auth', 'bots', 'LOA.i'])).toEqual(['secretKey', 'salt', 'secrets']);
    expect(keysAt(bridgeConfigSchema, ['listen', 'port'])).toEqual([]);
    expect(editDistance('pipline', 'pipeline')).toBe(1);
    expect(editDistance('lsiten', 'listen')).toBe(1);
    expect(suggestKey('HTTP', ['http', 'log'])).toBe('http');
    expect(suggestKey('ab', ['http'])).toBeUndefined();
  });
});
