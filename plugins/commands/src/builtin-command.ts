import type { z } from '@botbridge/sdk';
import type { CommandDefinition } from './command-registry.js';

/**
 * A built-in command in one file: its id (for `enabled`), the schema of its options in this
 * plugin's config (under its id, e.g. `echo: { maxRepeat }`), and how to make it from them.
 * Listed once in `builtins.ts`; the config schema and the `enabled` ids are derived from the list.
 */
export interface BuiltinCommand<Name extends string = string, Options extends z.ZodType | undefined = z.ZodType | undefined> {
  readonly name: Name;
  /** Must parse `undefined` (give it `.prefault({})`): an operator may leave the section out. */
  readonly options: Options;
  create(options: Options extends z.ZodType ? z.output<Options> : undefined): CommandDefinition;
}

/** Gives a built-in its type without widening its name or its options. */
export function defineBuiltin<const Name extends string, Options extends z.ZodType | undefined = undefined>(
  builtin: BuiltinCommand<Name, Options>,
): BuiltinCommand<Name, Options> {
  return builtin;
}
