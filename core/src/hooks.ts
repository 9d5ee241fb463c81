import { AsyncParallelHook, AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook } from 'tapable';
import { BRIDGE_HOOKS, type BridgeHookTable, type HookArgs, type HookName, type HookResult } from '@botbridge/sdk';

/**
 * The tapable hooks of one bridge, built from the extension table (`BRIDGE_HOOKS` in the sdk,
 * which declares each hook's class, arguments and doc): adding a hook is a row there plus its
 * call site. Plugins tap them through `ctx.on` (isolation, deadlines, disposal); taps are made at
 * start-up only, never per message, because every tap recompiles the hook.
 *
 * Class choices (tapable README, "Hook classes"): `bail` is AsyncSeriesBailHook (the first answer
 * wins), `waterfall` AsyncSeriesWaterfallHook (transforms), `series` AsyncSeriesHook (ordered
 * lifecycle steps), `parallel` AsyncParallelHook (observers that do I/O and do not wait for each
 * other). Notifications nobody waits for are events (`BridgeEventMap`), not hooks.
 */
type TapableOf<K extends HookName> = BridgeHookTable[K]['class'] extends 'bail'
  ? AsyncSeriesBailHook<HookArgs<K>, Exclude<HookResult<K>, void> | undefined>
  : BridgeHookTable[K]['class'] extends 'waterfall'
    ? AsyncSeriesWaterfallHook<[HookArgs<K>[0] | null]>
    : BridgeHookTable[K]['class'] extends 'series'
      ? AsyncSeriesHook<HookArgs<K>>
      : AsyncParallelHook<HookArgs<K>>;

export type BridgeHooks = { readonly [K in HookName]: TapableOf<K> };
export type { HookName };

const CLASSES = {
  bail: AsyncSeriesBailHook,
  waterfall: AsyncSeriesWaterfallHook,
  series: AsyncSeriesHook,
  parallel: AsyncParallelHook,
} as const;

export function createHooks(): BridgeHooks {
  const hooks: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(BRIDGE_HOOKS)) {
    const Hook = CLASSES[spec.class] as unknown as new (args: string[]) => unknown;
    hooks[name] = new Hook([...spec.args]);
  }
  return Object.freeze(hooks) as BridgeHooks;
}

/** Reported whenever a plugin's handler throws or times out (published as `plugin:error`). */
export interface PluginErrorEvent {
  readonly plugin: string;
  readonly hook: string;
  readonly code: 'BRIDGE_ERR_PLUGIN_HOOK' | 'BRIDGE_ERR_PLUGIN_HOOK_TIMEOUT';
  readonly message: string;
  readonly traceId?: string;
}
