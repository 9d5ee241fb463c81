import type { OutgoingReply } from '@botbridge/sdk';

/**
 * Which plugin dropped a reply in `beforeReply`. The hook is a waterfall of `OutgoingReply |
 * null`: a null carries no name, and a rewrite replaces the object the core started with. The
 * plugin host's beforeReply wrapper notes each rewrite (new object → the original) and each drop
 * (original → plugin), so the reply path can name the plugin in its `dropped` result. Only
 * rewrites and drops pay for a WeakMap entry; the entries go with the reply objects.
 */
const originOf = new WeakMap<OutgoingReply, OutgoingReply>();
const dropperOf = new WeakMap<OutgoingReply, string>();

/** A plugin's beforeReply returned `next` instead of `from`. */
export function noteRewrite(from: OutgoingReply, next: OutgoingReply): void {
  if (next !== from) originOf.set(next, originOf.get(from) ?? from);
}

/** A plugin's beforeReply returned null for `out`. */
export function noteDrop(out: OutgoingReply, plugin: string): void {
  dropperOf.set(originOf.get(out) ?? out, plugin);
}

/** The plugin that dropped the reply that started as `original`; null when none was noted. */
export function droppedBy(original: OutgoingReply): string | null {
  return dropperOf.get(original) ?? null;
}
