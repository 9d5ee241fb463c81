import {
  BRIDGE_HOOKS,
  type BotConfigProvider,
  type BridgeApi,
  type BridgeServices,
  type BridgeEventName,
  type Disposer,
  type ExtensionHandler,
  type ExtensionName,
  type HookHandler,
  type HookName,
  type Logger,
  type MessageContext,
  type PluginContext,
  type PluginMetrics,
  type OutgoingReply,
  type ServiceConsumer,
  type ServiceFactory,
  type ServiceName,
} from '@botbridge/sdk';
import type { Registry } from 'prom-client';
import type { BotSettings } from '../bots/bot-settings.js';
import { BridgeError } from '../errors.js';
import { eventTime, type EventBus, type ScopedEvents } from '../events/bridge-events.js';
import type { BridgeHooks } from '../hooks.js';
import { PluginMetricsAdapter } from '../metrics/plugin-metrics.js';
import { noteDrop, noteRewrite } from '../outbound/reply-drops.js';
import { pluginErrorEvent, withDeadline, type PluginErrorReporter } from './isolate.js';
import { countReplies, type PluginActivity } from './plugin-activity.js';
import { PluginMessageContext } from './plugin-message-context.js';
import { ServiceRegistry } from './service-registry.js';

export interface PluginContextDeps {
  readonly hooks: BridgeHooks;
  readonly bridge: BridgeApi;
  /** The plugin's own logger (category `plugin:<name>`). */
  readonly log: Logger;
  readonly hookTimeoutMs: number;
  readonly report: PluginErrorReporter;
  readonly events: EventBus;
  readonly botSettings: BotSettings;
  /** The bridge's Prometheus registry (plugin metrics live beside the core's). */
  readonly metricsRegistry: Registry;
  /** Services plugins provide to each other; the host shares one registry between its plugins. */
  readonly services?: ServiceRegistry;
  /** Where this plugin's counts go (GET /api/plugins); failures are counted by the host's `report`. */
  readonly activity?: PluginActivity;
}

type AnyHandler = (...args: unknown[]) => unknown;
const RESOLVED: Promise<undefined> = Promise.resolve(undefined);
/** The tapable side as this file uses it (every hook of the table is a promise hook). */
type Tappable = { tapPromise(name: string, fn: (...args: unknown[]) => Promise<unknown>): void };

/**
 * The context one plugin's setup receives. Every tap is wrapped so that a throw or a missed
 * deadline is reported with plugin and hook names and never reaches another plugin or the
 * socket loop. `on` picks the wrapper from the hook's class in the extension table; event names
 * subscribe to the event stream. tapable has no untap, so a disposer makes its tap inert
 * instead; taps are registered once at start-up, never per message.
 */
export class ManagedPluginContext implements PluginContext {
  readonly log: Logger;
  readonly bridge: BridgeApi;
  readonly events: ScopedEvents;
  private readonly effects: Disposer[] = [];
  /** Live timers (their disposers): cleared at once when the plugin set is retired (`quiesce`). */
  private readonly timers = new Set<Disposer>();
  private quiesced = false;
  private metricsAdapter: PluginMetricsAdapter | undefined;
  private sealed = false;
  private disposed = false;

  constructor(
    readonly name: string,
    private readonly deps: PluginContextDeps,
  ) {
    this.log = deps.log;
    this.bridge = deps.bridge;
    // A throwing event handler is the plugin's error like any other handler's.
    this.events = deps.events.scope((error, event) => deps.report(pluginErrorEvent(name, `event ${event}`, error), error));
    this.effects.push(() => this.events.dispose());
  }

  get metrics(): PluginMetrics {
    if (this.metricsAdapter === undefined) {
      const adapter = new PluginMetricsAdapter(this.name, this.deps.metricsRegistry);
      this.metricsAdapter = adapter;
      this.effects.push(() => adapter.dispose());
    }
    return this.metricsAdapter;
  }

  botConfig(botName: string): unknown {
    return this.deps.botSettings.pluginConfig(this.name, botName);
  }

  provideBotConfig(): BotConfigProvider {
    this.guard('provideBotConfig');
    const provider = this.deps.botSettings.claimSource(this.name);
    this.effects.push(() => this.deps.botSettings.releaseSource(this.name));
    return provider;
  }

  /** Called when setup finished: later registrations are refused with a coded error. */
  seal(): void {
    this.sealed = true;
  }

  on<K extends ExtensionName>(name: K, handler: ExtensionHandler<K>): Disposer {
    // Event subscriptions cost no recompilation and may come and go (the profiler's do).
    if (!Object.hasOwn(BRIDGE_HOOKS, name)) return this.events.subscribe(name as BridgeEventName, handler as (event: unknown) => void);
    const hook = name as HookName;
    this.guard(hook);
    let live = true;
    const isLive = () => live && !this.disposed;
    const fn = handler as AnyHandler;
    const target = this.deps.hooks[hook] as unknown as Tappable;
    // Every hook of the table takes one argument or none; the handler gets exactly as many.
    const unary = BRIDGE_HOOKS[hook].args.length > 0;
    if (hook === 'onMessage') target.tapPromise(this.name, (ctx) => this.runMessage(isLive, fn, ctx as MessageContext));
    else {
      switch (BRIDGE_HOOKS[hook].class) {
        case 'bail':
          target.tapPromise(this.name, async (arg) => (isLive() ? (await this.runTimed(hook, fn, unary, arg, traceIdOf(arg))) ?? undefined : undefined));
          break;
        case 'waterfall':
          // A failing rewrite keeps the value as it was (undefined = unchanged in a waterfall);
          // a dropped value (null) is not offered to later plugins.
          target.tapPromise(this.name, async (value) => {
            if (!isLive() || value === null) return value;
            const next = await this.runTimed(hook, fn, unary, value, traceIdOf(value));
            if (next === undefined) return value;
            // Noted so a reply's `dropped` result can name this plugin (outbound/reply-drops.ts).
            if (hook === 'beforeReply') {
              if (next === null) noteDrop(value as OutgoingReply, this.name);
              else noteRewrite(value as OutgoingReply, next as OutgoingReply);
            }
            return next;
          });
          break;
        default:
          // Series and parallel hooks ignore what a tap resolves with: runTimed's promise is
          // handed to tapable as it is (no async wrapper around it, per call).
          target.tapPromise(this.name, (arg) => (isLive() ? this.runTimed(hook, fn, unary, arg, traceIdOf(arg)) : RESOLVED));
      }
    }
    const dispose = () => {
      live = false;
    };
    this.effects.push(dispose);
    return dispose;
  }

  onHandshake(handler: HookHandler<'onHandshake'>): Disposer {
    return this.on('onHandshake', handler);
  }

  onReceive(handler: HookHandler<'onReceive'>): Disposer {
    return this.on('onReceive', handler);
  }

  onMessage(handler: HookHandler<'onMessage'>): Disposer {
    return this.on('onMessage', handler);
  }

  beforeReply(handler: HookHandler<'beforeReply'>): Disposer {
    return this.on('beforeReply', handler);
  }

  provide<K extends ServiceName>(name: K, factory: ServiceFactory<K>): void {
    this.guard(`provide(${name})`);
    this.effects.push(this.services.provide(this.name, name, factory));
  }

  inject<K extends ServiceName>(name: K): BridgeServices[K] {
    return this.services.inject(this.consumer, name);
  }

  /** This plugin as the providers of the services it injects see it. */
  private get consumer(): ServiceConsumer {
    return {
      plugin: this.name,
      log: this.log,
      effect: (dispose) => {
        // A registration made after this plugin stopped would never be undone: undo it now.
        if (this.disposed) void Promise.resolve().then(dispose).catch((error: unknown) => this.deps.report(pluginErrorEvent(this.name, 'teardown', error), error));
        else this.effects.push(dispose);
      },
    };
  }

  private get services(): ServiceRegistry {
    return (this.serviceRegistry ??= this.deps.services ?? new ServiceRegistry());
  }

  private serviceRegistry: ServiceRegistry | undefined;

  effect(dispose: Disposer): void {
    this.effects.push(dispose);
  }

  setInterval(fn: () => void, ms: number): Disposer {
    if (this.quiesced || this.disposed) return () => undefined;
    const timer = setInterval(() => this.runSync('interval', fn), ms);
    const dispose = () => {
      clearInterval(timer);
      this.timers.delete(dispose);
    };
    this.timers.add(dispose);
    this.effects.push(dispose);
    return dispose;
  }

  setTimeout(fn: () => void, ms: number): Disposer {
    if (this.quiesced || this.disposed) return () => undefined;
    const timer = setTimeout(() => {
      // A fired timeout has nothing left to undo: forget it, so many short timeouts do not pile up.
      const index = this.effects.indexOf(dispose);
      if (index >= 0) this.effects.splice(index, 1);
      this.timers.delete(dispose);
      this.runSync('timeout', fn);
    }, ms);
    const dispose = () => {
      clearTimeout(timer);
      this.timers.delete(dispose);
    };
    this.timers.add(dispose);
    this.effects.push(dispose);
    return dispose;
  }

  /**
   * Hot reload: this plugin's set was replaced. Its background work ends at once (event
   * subscriptions, timers), so the old and new instances never both act on one fact (a reply
   * logged twice, a schedule run twice); its hook handlers stay live for the messages that
   * started on the old set, and the rest of the teardown (`dispose`) waits for them.
   */
  quiesce(): void {
    this.quiesced = true;
    this.events.dispose();
    for (const clear of [...this.timers]) clear();
  }

  /** Undoes every side effect in reverse order; taps become inert. Returns the failures. */
  async dispose(timeoutMs: number): Promise<unknown[]> {
    this.disposed = true;
    const failures: unknown[] = [];
    for (const dispose of this.effects.splice(0).reverse()) {
      try {
        await withDeadline(
          Promise.resolve().then(dispose),
          timeoutMs,
          () => new BridgeError('BRIDGE_ERR_PLUGIN_HOOK_TIMEOUT', { plugin: this.name, hook: 'teardown', timeoutMs }),
        );
      } catch (error) {
        failures.push(error);
      }
    }
    return failures;
  }

  private guard(hook: string): void {
    if (this.sealed) throw new BridgeError('BRIDGE_ERR_REGISTER_AFTER_START', { plugin: this.name, hook });
  }

  /**
   * onMessage's deadline is the message's own (processing timeout, shutdown), not the hook
   * deadline: the handler is raced against ctx.abort, which makes no AbortSignal unless a
   * handler reads one.
   */
  private async runMessage(isLive: () => boolean, handler: AnyHandler, ctx: MessageContext): Promise<unknown> {
    const abort = ctx.abort;
    if (!isLive() || abort.aborted) return undefined;
    const started = this.deps.events.active('plugin:handler') ? eventTime() : 0;
    try {
      const own = new PluginMessageContext(ctx, this.log, this.deps.activity);
      // The handler runs a microtask later, as before; a synchronous result needs no race.
      await undefined;
      const value = handler(own);
      const result = isThenable(value) ? await abort.race(Promise.resolve(value)) : value;
      if (started) this.timed('onMessage', started, 'ok', ctx.message.traceId);
      this.deps.activity?.handled();
      if (result !== undefined && result !== null) this.deps.activity?.replied(countReplies(result));
      return result ?? undefined;
    } catch (error) {
      const report = pluginErrorEvent(this.name, 'onMessage', error, ctx.message.traceId);
      if (started) this.timed('onMessage', started, outcomeOf(report.code), ctx.message.traceId);
      this.deps.report(report, error);
      return undefined;
    }
  }

  private runSync(hook: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.deps.report(pluginErrorEvent(this.name, hook, error), error);
    }
  }

  /**
   * Runs a handler (`fn(arg)`, or `fn()` for a hook without arguments) with the hook deadline;
   * failures are reported and yield undefined. The handler and its argument are passed rather
   * than a closure over them: this runs for every message's onReceive.
   */
  private async runTimed(hook: string, fn: AnyHandler, unary: boolean, arg: unknown, traceId: string | undefined): Promise<unknown> {
    const timeoutMs = this.deps.hookTimeoutMs;
    const started = this.deps.events.active('plugin:handler') ? eventTime() : 0;
    try {
      // The handler runs a microtask later, as before; only a promise it returns gets a deadline
      // (a timer per call): a synchronous handler has finished by the time it returns.
      await undefined;
      const value = unary ? fn(arg) : fn();
      const result = isThenable(value)
        ? await withDeadline(
          Promise.resolve(value),
          timeoutMs,
          () => new BridgeError('BRIDGE_ERR_PLUGIN_HOOK_TIMEOUT', { plugin: this.name, hook, timeoutMs }),
        )
        : value;
      if (started) this.timed(hook, started, 'ok', traceId);
      return result;
    } catch (error) {
      const report = pluginErrorEvent(this.name, hook, error, traceId);
      if (started) this.timed(hook, started, outcomeOf(report.code), traceId);
      this.deps.report(report, error);
      return undefined;
    }
  }

  /** Publishes one handler's timing (only called when someone listens). */
  private timed(hook: string, started: number, outcome: 'ok' | 'error' | 'timeout', traceId: string | undefined): void {
    const at = eventTime();
    const events = this.deps.events;
    events.publishBuilt('plugin:handler', { bridge: events.id, at, plugin: this.name, hook, traceId: traceId ?? null, durationMs: at - started, outcome });
  }
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

function outcomeOf(code: string): 'error' | 'timeout' {
  return code === 'BRIDGE_ERR_PLUGIN_HOOK_TIMEOUT' ? 'timeout' : 'error';
}

/** The trace id of a hook argument (a message event, an outgoing reply, a context), if any. */
function traceIdOf(arg: unknown): string | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const own = (arg as { traceId?: unknown }).traceId;
  if (typeof own === 'string') return own;
  const message = (arg as { message?: { traceId?: unknown } | null }).message;
  return typeof message?.traceId === 'string' ? message.traceId : undefined;
}
