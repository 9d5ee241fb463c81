/**
 * `--name=value` command parameters, as the Domaeka server parsed them
 * (server/core/utils/command_parser.py): found anywhere in the command's text, removed from it,
 * the rest (trimmed) is the prompt. Error texts are the old server's, verbatim: users and
 * operators know them.
 */

export type ParameterType = 'int' | 'float' | 'bool' | 'string';
export type ParameterValue = number | boolean | string;

/** One declared parameter of a command. */
export interface ParameterSpec {
  /** As typed after `--`; hyphens are kept (`media-wait-time`). */
  readonly name: string;
  readonly type: ParameterType;
  readonly optional: boolean;
  /** Applied when the parameter is absent. */
  readonly default?: ParameterValue;
  /** Numbers outside [min, max] are clamped, not refused (the old server did so for media-wait-time). */
  readonly min?: number;
  readonly max?: number;
  readonly description: string;
}

export interface SplitParameters {
  /** The text without its parameters, trimmed. */
  readonly prompt: string;
  /** Raw values by name; the last occurrence of a name wins. A Map, so `--constructor=x` is just a key. */
  readonly raw: ReadonlyMap<string, string>;
}

export type ValidationResult =
  | {
      readonly ok: true;
      /** Declared parameters only, converted, clamped, defaults applied. */
      readonly values: Readonly<Record<string, ParameterValue>>;
      /** Names given but not declared (ignored; the caller logs them). */
      readonly unknown: readonly string[];
      /** Names whose value was clamped into [min, max]. */
      readonly clamped: readonly string[];
    }
  | { readonly ok: false; readonly error: string };

const PARAMETER_PATTERN = /--([a-zA-Z0-9-]+)=([^\s]+)/g;
const INT_PATTERN = /^[+-]?\d+$/;
const FLOAT_PATTERN = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);

/** Splits `text` into its prompt and its raw `--name=value` parameters. */
export function splitParameters(text: string): SplitParameters {
  // Most commands carry no parameter: no regex pass for them (this runs for every command).
  if (!text.includes('--')) return { prompt: text.trim(), raw: new Map() };
  const raw = new Map<string, string>();
  for (const match of text.matchAll(PARAMETER_PATTERN)) raw.set(match[1]!, match[2]!);
  return { prompt: text.replace(PARAMETER_PATTERN, '').trim(), raw };
}

/**
 * Checks raw parameters against the declared ones: required ones first (in declaration order),
 * then the given ones (in order of first appearance), then defaults.
 */
export function validateParameters(raw: ReadonlyMap<string, string>, specs: readonly ParameterSpec[]): ValidationResult {
  const byName = specsByName(specs);
  for (const spec of specs) {
    if (!spec.optional && !raw.has(spec.name)) return { ok: false, error: `필수 파라미터 '${spec.name}'가 누락되었습니다.` };
  }
  const values: Record<string, ParameterValue> = {};
  const unknown: string[] = [];
  const clamped: string[] = [];
  for (const [name, value] of raw) {
    const spec = byName.get(name);
    if (spec === undefined) {
      unknown.push(name);
      continue;
    }
    const converted = convert(spec.type, value);
    if (converted === undefined) {
      return { ok: false, error: `파라미터 '${name}'의 값이 올바른 ${spec.type} 형식이 아닙니다: ${value}` };
    }
    const bounded = typeof converted === 'number' ? clamp(converted, spec) : converted;
    if (bounded !== converted) clamped.push(name);
    values[name] = bounded;
  }
  for (const spec of specs) {
    if (!Object.hasOwn(values, spec.name) && spec.default !== undefined) values[spec.name] = spec.default;
  }
  return { ok: true, values, unknown, clamped };
}

/** Per parameter list (a command's, defined once): not a new Map for every message. */
const byNameCache = new WeakMap<readonly ParameterSpec[], ReadonlyMap<string, ParameterSpec>>();

function specsByName(specs: readonly ParameterSpec[]): ReadonlyMap<string, ParameterSpec> {
  let byName = byNameCache.get(specs);
  if (byName === undefined) {
    byName = new Map(specs.map((spec) => [spec.name, spec]));
    byNameCache.set(specs, byName);
  }
  return byName;
}

/** Converts one raw value, or returns undefined when it is not of that type. */
export function convert(type: ParameterType, value: string): ParameterValue | undefined {
  switch (type) {
    case 'int': {
      if (!INT_PATTERN.test(value)) return undefined;
      const parsed = Number(value);
      return Number.isSafeInteger(parsed) ? parsed : undefined;
    }
    case 'float': {
      // Unlike Python's float(), `inf` and `nan` are refused: no command wants them.
      if (!FLOAT_PATTERN.test(value)) return undefined;
      const parsed = Number(value);
      return Number.isFinite(parsed) ? parsed : undefined;
    }
    case 'bool':
      // Never an error: anything not in the true-list is false (old server behaviour).
      return TRUE_WORDS.has(value.toLowerCase());
    case 'string':
      return value;
  }
}

function clamp(value: number, spec: ParameterSpec): number {
  if (spec.min !== undefined && value < spec.min) return spec.min;
  if (spec.max !== undefined && value > spec.max) return spec.max;
  return value;
}
