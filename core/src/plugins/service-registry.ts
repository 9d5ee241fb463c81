import type { BridgeServices, ServiceConsumer, ServiceFactory, ServiceName } from '@botbridge/sdk';
import { BridgeError } from '../errors.js';

interface Provided {
  readonly provider: string;
  readonly factory: (consumer: ServiceConsumer) => unknown;
}

/**
 * The services plugins provide to each other (`ctx.provide` / `ctx.inject`). Plugins are set up
 * in list order and torn down in reverse, so a provider is up before its consumers and still up
 * while they stop; a service is only looked up, never waited for (no hidden reordering of hooks).
 */
export class ServiceRegistry {
  private readonly services = new Map<string, Provided>();

  has(name: string): boolean {
    return this.services.has(name);
  }

  /** Registers `name` for `provider`; returns the withdrawal. A second provider is refused. */
  provide<K extends ServiceName>(provider: string, name: K, factory: ServiceFactory<K>): () => void {
    const held = this.services.get(name);
    if (held !== undefined) {
      throw new BridgeError('BRIDGE_ERR_PLUGIN_SERVICE_DUPLICATE', { plugin: provider, service: name, holder: held.provider });
    }
    const entry: Provided = { provider, factory };
    this.services.set(name, entry);
    return () => {
      if (this.services.get(name) === entry) this.services.delete(name);
    };
  }

  /** The consumer's view of `name`; throws the coded error when no plugin provides it. */
  inject<K extends ServiceName>(consumer: ServiceConsumer, name: K): BridgeServices[K] {
    const entry = this.services.get(name);
    if (entry === undefined) throw missingService(consumer.plugin, name);
    return entry.factory(consumer) as BridgeServices[K];
  }
}

export function missingService(plugin: string, service: string): BridgeError {
  return new BridgeError('BRIDGE_ERR_PLUGIN_SERVICE_MISSING', { plugin, service });
}
