import type { BridgeApi, BridgeSettings, Logger, PluginDefinition, PluginEntry, ServiceName } from '@botbridge/sdk';
import { Registry } from 'prom-client';
import { BotSettings } from '../bots/bot-settings.js';
import { describeIssues, firstPath } from '../config/config-issues.js';
import { BridgeError, reasonOf } from '../errors.js';
import type { EventBus } from '../events/bridge-events.js';
import type { BridgeHooks } from '../hooks.js';
import type { PluginErrorReporter } from './isolate.js';
import { withDeadline } from './isolate.js';
import { PluginActivity, type PluginActivitySnapshot } from './plugin-activity.js';
import { ManagedPluginContext } from './plugin-context.js';
import { missingService, ServiceRegistry } from './service-registry.js';

export interface PluginState extends PluginActivitySnapshot {
  readonly name: string;
  readonly version: string | null;
  /** `retiring`: replaced by a hot reload, still finishing the jobs that started on it. */
  readonly state: 'configured' | 'running' | 'retiring' | 'failed' | 'stopped';
  /** Why the plugin is not running (its config or setup failed). */
  readonly error: string | null;
  /** The plugin set it belongs to: 1 at start, one more for each accepted reload. */
  readonly generation: number;
}

interface Loaded {
  readonly definition: PluginDefinition;
  readonly config: unknown;
  context: ManagedPluginContext | null;
  state: Exclude<PluginState['state'], 'retiring'>;
  error: string | null;
  readonly activity: PluginActivity;
}

/**
 * Loads the operator's plugin list: validates every plugin's config against its schema before
 * any setup runs (so a typo fails the start with the plugin and the path named), sets plugins up
 * in list order under a deadline, and tears them down last-set-up-first on close.
 */
export class PluginHost {
  private readonly loaded: Loaded[];
  private readonly botSettings: BotSettings;
  private readonly metricsRegistry: Registry;
  private readonly services = new ServiceRegistry();

  constructor(
    entries: readonly PluginEntry[],
    private readonly deps: {
      readonly hooks: BridgeHooks;
      readonly bridge: BridgeApi;
      readonly log: Logger;
      readonly settings: BridgeSettings['pluginHost'];
      readonly report: PluginErrorReporter;
      readonly events: EventBus;
      /** Per-bot settings; every plugin's `botConfig` schema is registered here. */
      readonly botSettings?: BotSettings;
      readonly metricsRegistry?: Registry;
      /** A plugin's logger (category `plugin:<name>`); default: a child of `log`. */
      readonly pluginLog?: (name: string) => Logger;
      /** This plugin set's number (hot reload, plugins/plugin-generation.ts); default 1. */
      readonly generation?: number;
    },
  ) {
    this.botSettings = deps.botSettings ?? new BotSettings({ replyGapMs: 0, outboxTtlMs: 600_000, rooms: {} });
    this.metricsRegistry = deps.metricsRegistry ?? new Registry();
    this.loaded = validateEntries(entries);
    for (const plugin of this.loaded) this.botSettings.registerPlugin(plugin.definition, plugin.config);
  }

  /**
   * A service as an operator's tool uses it (the admin API's /api/schedules uses the scheduler's
   * `schedules`), or undefined when no running plugin provides it. The tool registers nothing
   * through it, so its effects are ignored.
   */
  toolService(name: string): unknown {
    if (!this.services.has(name)) return undefined;
    return this.services.inject({ plugin: 'admin', log: this.deps.log, effect: () => undefined }, name as ServiceName);
  }

  list(): PluginState[] {
    return this.loaded.map((p) => ({
      name: p.definition.name,
      version: p.definition.version ?? null,
      state: p.state,
      error: p.error,
      generation: this.deps.generation ?? 1,
      ...p.activity.snapshot(),
    }));
  }

  /** Runs every setup in order; on a failure, tears down the ones already set up and throws. */
  async setup(): Promise<void> {
    const { setupTimeoutMs, hookTimeoutMs } = this.deps.settings;
    for (const plugin of this.loaded) {
      const name = plugin.definition.name;
      const missing = plugin.definition.inject?.find((service) => !this.services.has(service));
      if (missing !== undefined) {
        const error = missingService(name, missing);
        plugin.state = 'failed';
        plugin.error = error.message;
        await this.teardown();
        throw error;
      }
      const log = this.deps.pluginLog?.(name) ?? this.deps.log.child({ plugin: name });
      const context = new ManagedPluginContext(name, {
        ...this.deps,
        log,
        hookTimeoutMs,
        botSettings: this.botSettings,
        metricsRegistry: this.metricsRegistry,
        services: this.services,
        activity: plugin.activity,
        report: (event, error) => {
          plugin.activity.failed(event);
          this.deps.report(event, error);
        },
      });
      plugin.context = context;
      try {
        await withDeadline(
          Promise.resolve()
            .then(() => plugin.definition.setup(context, plugin.config))
            // A setup may return a disposer (e.g. `setup: (ctx) => ctx.onMessage(...)`): undone at teardown.
            .then((dispose) => (typeof dispose === 'function' ? context.effect(dispose) : undefined)),
          setupTimeoutMs,
          () => new BridgeError('BRIDGE_ERR_PLUGIN_SETUP_TIMEOUT', { plugin: name, timeoutMs: setupTimeoutMs }),
        );
        context.seal();
        plugin.state = 'running';
        // debug only: the listener may still fail to bind; `botbridge listening` names the running plugins.
        this.deps.log.debug({ plugin: name, version: plugin.definition.version }, 'plugin set up');
      } catch (error) {
        context.seal();
        plugin.state = 'failed';
        plugin.error = reasonOf(error);
        await this.teardown();
        if (error instanceof BridgeError) throw error;
        throw new BridgeError('BRIDGE_ERR_PLUGIN_SETUP', { plugin: name, reason: reasonOf(error) }, { cause: error });
      }
    }
  }

  /** Hot reload: ends every plugin's event subscriptions and timers now; hook handlers stay until `teardown`. */
  quiesce(): void {
    for (const plugin of this.loaded) plugin.context?.quiesce();
  }

  /** Disposes every plugin's effects, last set up first. Failures are logged, never thrown. */
  async teardown(): Promise<void> {
    const timeoutMs = this.deps.settings.teardownTimeoutMs;
    for (const plugin of [...this.loaded].reverse()) {
      if (!plugin.context) continue;
      const failures = await plugin.context.dispose(timeoutMs);
      for (const failure of failures) {
        this.deps.log.error({ plugin: plugin.definition.name, hook: 'teardown', err: failure }, 'plugin teardown failed');
      }
      plugin.context = null;
      if (plugin.state === 'running') plugin.state = 'stopped';
    }
  }
}

/** Every entry's config is checked before the first error is thrown: an operator fixes them all in one go. */
export function validateEntries(entries: readonly PluginEntry[]): Loaded[] {
  const seen = new Set<string>();
  const broken: { plugin: string; lines: string[]; path: string }[] = [];
  const loaded = entries.map((entry) => {
    const definition: PluginDefinition = 'plugin' in entry ? entry.plugin : entry;
    const raw = 'plugin' in entry ? entry.config : undefined;
    if (seen.has(definition.name)) throw new BridgeError('BRIDGE_ERR_PLUGIN_DUPLICATE', { plugin: definition.name });
    seen.add(definition.name);
    let config: unknown = raw ?? {};
    if (definition.config) {
      const parsed = definition.config.safeParse(raw ?? {});
      if (parsed.success) config = parsed.data;
      else broken.push({ plugin: definition.name, lines: describeIssues(parsed.error.issues, definition.config), path: firstPath(parsed.error.issues) });
    }
    return { definition, config, context: null, state: 'configured' as const, error: null, activity: new PluginActivity() };
  });
  if (broken.length > 0) {
    throw new BridgeError('BRIDGE_ERR_PLUGIN_CONFIG', {
      plugin: broken[0]!.plugin,
      path: broken[0]!.path,
      plugins: broken.map((b) => b.plugin).join(', '),
      issues: broken.flatMap((b) => b.lines.map((line) => `plugin ${b.plugin}: ${line}`)).join('; '),
    });
  }
  return loaded;
}
