import type { BridgeConfig, BridgeSettings, PluginEntry } from '@botbridge/sdk';
import { resolveConfig } from '../config/load-config.js';
import { restartRequired } from '../config/reload-scope.js';
import { BridgeError, reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import type { PluginGeneration, PluginGenerations } from './plugin-generation.js';

/** What a reload did: the answer of `POST /api/reload` and `botbridge reload`. */
export interface ReloadReport {
  /** false: the new config or plugin set was refused and the previous set goes on serving. */
  readonly ok: boolean;
  /** The generation serving now (the new one, or the old one when refused). */
  readonly generation: number;
  /** Its plugins, in list order. */
  readonly plugins: readonly string[];
  /** Changed settings a reload does not apply (dotted paths); they take effect at the next restart. */
  readonly restartRequired: readonly string[];
  /** Why it was refused (the coded error), null when accepted. */
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly durationMs: number;
  /**
   * Files re-read by the same reload (issue 13): TLS certificate pairs now in use, and whether
   * the secrets file changed. Absent when the bridge was not running.
   */
  readonly files?: { readonly certificates: number; readonly secretsFile: boolean };
}

export interface PluginReloaderDeps {
  readonly generations: PluginGenerations;
  /** Builds a generation (validates every plugin config; throws the coded error). */
  readonly build: (id: number, entries: readonly PluginEntry[], settings: BridgeSettings) => PluginGeneration;
  /** The settings the bridge was built with (what a restart-only change is compared to). */
  readonly settings: BridgeSettings;
  /** Reads the operator's config again (a fresh import of bridge.config.ts); absent: only `reload(config)`. */
  readonly configSource?: () => Promise<BridgeConfig>;
  /** Applies the reloadable settings outside the plugin set (the signing secrets) once a reload is accepted. */
  readonly applySettings?: (settings: BridgeSettings) => void;
  /** Whether the bridge still runs (a reload that finishes during close is undone). */
  readonly running: () => boolean;
  readonly log: CoreLogger;
  /** How long a retired generation may stay pinned by running jobs (their processing timeout bounds it). */
  readonly retireWaitMs: number;
}

/**
 * Hot reload of the plugin set (`botbridge reload`, `POST /api/reload`, SIGHUP): reads the
 * config, validates it and the plugins' configs, sets the new set up beside the running one
 * (its own hooks, services and per-bot settings), runs its onStart, and only then makes it
 * current. Any failure before the swap tears the new set down and leaves the old one serving.
 * The old set is retired: once no job pins it (bounded by the processing timeout), its onClose
 * runs and its plugins are torn down, once. Reloads run one at a time.
 */
export class PluginReloader {
  private chain: Promise<unknown> = Promise.resolve();
  private nextId: number;
  private readonly retiring = new Map<PluginGeneration, Promise<void>>();

  constructor(private readonly deps: PluginReloaderDeps) {
    this.nextId = deps.generations.active.id + 1;
  }

  /** Generations replaced but not torn down yet (their jobs are still finishing). */
  retiringGenerations(): PluginGeneration[] {
    return [...this.retiring.keys()];
  }

  reload(config?: BridgeConfig): Promise<ReloadReport> {
    const run = this.chain.then(() => this.reloadOnce(config));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Waits for every retiring generation's teardown (bridge close); a pending reload finishes first. */
  async close(): Promise<void> {
    await this.chain;
    await Promise.all(this.retiring.values());
  }

  private async reloadOnce(given: BridgeConfig | undefined): Promise<ReloadReport> {
    const started = performance.now();
    const { log } = this.deps;
    const current = this.deps.generations.active;
    let restart: string[] = [];
    let next: PluginGeneration | null = null;
    let nextSettings: BridgeSettings | null = null;
    try {
      if (!this.deps.running()) throw new BridgeError('BRIDGE_ERR_RELOAD_UNAVAILABLE', { reason: 'the bridge is not running' });
      const config = given ?? (await this.source());
      const { settings, plugins } = resolveConfig(config);
      restart = restartRequired(this.deps.settings, settings);
      nextSettings = settings;
      next = this.deps.build(this.nextId, plugins, settings);
      await next.host.setup();
      await next.hooks.onStart.promise();
      if (!this.deps.running()) throw new BridgeError('BRIDGE_ERR_RELOAD_UNAVAILABLE', { reason: 'the bridge began closing during the reload' });
    } catch (error) {
      if (next !== null) await next.host.teardown();
      const code = error instanceof BridgeError ? error.code : 'BRIDGE_ERR_RELOAD_UNAVAILABLE';
      const report: ReloadReport = {
        ok: false,
        generation: current.id,
        plugins: names(current),
        restartRequired: restart,
        error: { code, message: reasonOf(error) },
        durationMs: Math.round(performance.now() - started),
      };
      log.error({ code, err: report.error!.message, generation: current.id }, 'reload refused; the previous plugin set goes on serving');
      return report;
    }
    this.nextId += 1;
    const previous = this.deps.generations.swap(next);
    this.retire(previous);
    if (nextSettings !== null) this.deps.applySettings?.(nextSettings);
    const report: ReloadReport = {
      ok: true,
      generation: next.id,
      plugins: names(next),
      restartRequired: restart,
      error: null,
      durationMs: Math.round(performance.now() - started),
    };
    log.info({ generation: next.id, previous: previous.id, inFlight: previous.inFlight, plugins: report.plugins, durationMs: report.durationMs }, 'plugins reloaded');
    if (restart.length > 0) log.warn({ settings: restart }, 'reload: these settings changed but take effect only after a restart');
    return report;
  }

  private async source(): Promise<BridgeConfig> {
    if (this.deps.configSource === undefined) {
      throw new BridgeError('BRIDGE_ERR_RELOAD_UNAVAILABLE', { reason: 'this bridge was not started from a config file' });
    }
    return this.deps.configSource();
  }

  /**
   * In-flight jobs finish on `old` (its hook handlers); its subscriptions and timers end now, so
   * the new set alone acts on facts from here on; then its onClose and teardown run, once.
   */
  private retire(old: PluginGeneration): void {
    const { log, retireWaitMs } = this.deps;
    old.host.quiesce();
    const done = (async () => {
      const drained = await old.idle(retireWaitMs);
      if (!drained) log.warn({ generation: old.id, inFlight: old.inFlight, waitedMs: retireWaitMs }, 'retired plugin set still pinned by jobs; tearing it down anyway');
      await old.hooks.onClose.promise().catch((error: unknown) => log.error({ generation: old.id, err: reasonOf(error) }, 'onClose of the retired plugin set failed'));
      await old.host.teardown();
      log.info({ generation: old.id }, 'retired plugin set torn down');
    })();
    this.retiring.set(old, done);
    void done.finally(() => this.retiring.delete(old));
  }
}

function names(generation: PluginGeneration): string[] {
  return generation.host.list().map((plugin) => plugin.name);
}
