import { BRIDGE_HOOKS, type HookName } from '@botbridge/sdk';
import type { BotSettings } from '../bots/bot-settings.js';
import type { BridgeHooks } from '../hooks.js';
import type { PluginHost } from './plugin-host.js';

/** A generation as one piece of work holds it: its hooks until `release` (idempotent). */
export interface PinnedPlugins {
  readonly hooks: BridgeHooks;
  readonly generation: number;
  release(): void;
}

/**
 * One plugin set: the hooks its plugins tapped, its host (contexts, services) and the per-bot
 * settings its schemas describe. tapable cannot untap, so a reload never re-taps the running
 * hooks: each generation has hooks of its own, and the old ones are dropped with it. Work that
 * started on a generation (a message job) pins it, so it finishes on the plugins it started
 * with; the generation is torn down once it is retired and nothing pins it.
 */
export class PluginGeneration {
  private pins = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly id: number,
    readonly hooks: BridgeHooks,
    readonly host: PluginHost,
    readonly botSettings: BotSettings,
  ) {}

  /** Work in flight on this generation. */
  get inFlight(): number {
    return this.pins;
  }

  pin(): PinnedPlugins {
    this.pins += 1;
    return new Pin(this);
  }

  /** One pin let go (Pin.release, once per pin). */
  unpin(): void {
    if (--this.pins === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Resolves true once nothing pins this generation, or false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.pins === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const index = this.idleWaiters.indexOf(wake);
        if (index >= 0) this.idleWaiters.splice(index, 1);
        resolve(false);
      }, timeoutMs);
      this.idleWaiters.push(wake);
    });
  }
}

/**
 * A generation pinned by one job. A class rather than a literal with a `release` closure: one is
 * made per message, and under tsx (keepNames) a named closure costs a defineProperty each time.
 */
class Pin implements PinnedPlugins {
  readonly hooks: BridgeHooks;
  readonly generation: number;
  private held = true;

  constructor(private readonly owner: PluginGeneration) {
    this.hooks = owner.hooks;
    this.generation = owner.id;
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    this.owner.unpin();
  }
}

/**
 * The current generation and a view of its hooks: `hooks.onHandshake` and the others read
 * the current generation's hook at each call, so the call sites that do not pin (handshakes,
 * proactive sends, the bridge's own lifecycle) follow a reload without knowing about it.
 */
export class PluginGenerations {
  readonly hooks: BridgeHooks;

  constructor(private current: PluginGeneration) {
    const view: Record<string, unknown> = {};
    for (const name of Object.keys(BRIDGE_HOOKS) as HookName[]) {
      Object.defineProperty(view, name, { enumerable: true, get: () => this.current.hooks[name] });
    }
    this.hooks = Object.freeze(view) as BridgeHooks;
  }

  get active(): PluginGeneration {
    return this.current;
  }

  pin(): PinnedPlugins {
    return this.current.pin();
  }

  /** Makes `next` current; returns the one it replaced (the caller retires it). */
  swap(next: PluginGeneration): PluginGeneration {
    const previous = this.current;
    this.current = next;
    return previous;
  }
}
