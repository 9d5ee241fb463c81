import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bridgeConfigSchema } from '@botbridge/sdk/internal';
import { resolveConfig } from '../../src/config/load-config.js';
import { BridgeError } from '../../src/errors.js';

const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');

/** Dotted paths of every leaf (and record-valued) key of the schema's defaults. */
function keysOf(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  const entries = Object.entries(value);
  if (entries.length === 0) return [prefix];
  return entries.flatMap(([key, inner]) => keysOf(inner, prefix ? `${prefix}.${key}` : key));
}

describe('configuration', () => {
  it('documents every key of the config schema with its default', () => {
    const defaults = bridgeConfigSchema.parse({});
    const keys = keysOf(defaults).concat('log.pretty', 'http.adminToken');
    expect(keys.length).toBeGreaterThan(30);
    for (const key of keys) expect(docs, `docs/configuration.md lacks ${key}`).toContain(`\`${key}\``);
  });

  it('names the offending path of an invalid config', () => {
    try {
      resolveConfig({ limits: { maxConnections: 0 } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BridgeError);
      expect((error as BridgeError).code).toBe('BRIDGE_ERR_CONFIG_INVALID');
      expect((error as BridgeError).message).toContain('limits.maxConnections');
    }
  });

  it('rejects unknown keys instead of ignoring a typo', () => {
    expect(() => resolveConfig({ limts: {} } as never)).toThrow(/limts/);
  });
});
