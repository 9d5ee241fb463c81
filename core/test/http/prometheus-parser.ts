/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests: it throws on
 * anything a Prometheus server would reject or that breaks the format's rules (names, label
 * syntax and escapes, values, one TYPE per family declared before its samples, contiguous
 * families, duplicate series, histogram bucket order and +Inf = _count).
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  type: string;
  help: string | null;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seenSeries = new Set<string>();
  const closed = new Set<string>();
  const typed = new Set<string>();
  let current: Family | null = null;
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('exposition must end with a newline');
  lines.forEach((line, index) => {
    const where = `line ${index + 1}: ${line}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (meta === null) return;
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`bad metric name (${where})`);
      const family = familyFor(name, families, closed, current, where);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`bad type (${where})`);
        if (family.samples.length > 0) throw new Error(`TYPE after samples (${where})`);
        if (typed.has(name)) throw new Error(`second TYPE (${where})`);
        typed.add(name);
        family.type = rest;
      } else {
        if (family.help !== null) throw new Error(`second HELP (${where})`);
        family.help = rest;
      }
      current = family;
      return;
    }
    const sample = parseSample(line, where);
    const familyName = familyOf(sample.name, families);
    const family = familyFor(familyName, families, closed, current, where);
    const suffix = sample.name.slice(familyName.length);
    const allowed = SUFFIXES[family.type] ?? [''];
    if (!allowed.includes(suffix)) throw new Error(`sample ${sample.name} does not fit a ${family.type} (${where})`);
    const series = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seenSeries.has(series)) throw new Error(`duplicate series (${where})`);
    seenSeries.add(series);
    family.samples.push(sample);
    current = family;
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function familyFor(name: string, families: Map<string, Family>, closed: Set<string>, current: Family | null, where: string): Family {
  let family = families.get(name);
  if (family === undefined) {
    if (current !== null) closed.add(current.name);
    family = { name, type: 'untyped', help: null, samples: [] };
    families.set(name, family);
    return family;
  }
  if (current !== family && closed.has(name)) throw new Error(`family ${name} is not contiguous (${where})`);
  if (current !== null && current !== family) closed.add(current.name);
  return family;
}

/** The family a sample belongs to: its own name, or its name without a histogram/summary suffix. */
function familyOf(name: string, families: Map<string, Family>): string {
  if (families.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix) && families.has(name.slice(0, -suffix.length))) return name.slice(0, -suffix.length);
  }
  return name;
}

function parseSample(line: string, where: string): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (nameMatch === null) throw new Error(`bad sample name (${where})`);
  const name = nameMatch[0];
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    let i = 1;
    while (rest[i] !== '}') {
      const labelMatch = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(rest.slice(i));
      if (labelMatch === null || !LABEL_NAME.test(labelMatch[1]!)) throw new Error(`bad label (${where})`);
      i += labelMatch[0].length;
      let value = '';
      for (;;) {
        const c = rest[i];
        if (c === undefined) throw new Error(`unterminated label value (${where})`);
        if (c === '"') break;
        if (c === '\\') {
          const next = rest[i + 1];
          if (next === 'n') value += '\n';
          else if (next === '\\' || next === '"') value += next;
          else throw new Error(`bad escape (${where})`);
          i += 2;
          continue;
        }
        value += c;
        i += 1;
      }
      i += 1;
      if (labelMatch[1]! in labels) throw new Error(`label repeated (${where})`);
      labels[labelMatch[1]!] = value;
      if (rest[i] === ',') i += 1;
      else if (rest[i] !== '}') throw new Error(`expected , or } (${where})`);
    }
    rest = rest.slice(i + 1);
  }
  const valueMatch = /^ (\S+)( -?\d+)?$/.exec(rest);
  if (valueMatch === null) throw new Error(`bad value part (${where})`);
  const raw = valueMatch[1]!;
  const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : raw === 'NaN' ? NaN : Number(raw);
  if (!/^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$/.test(raw) || (Number.isNaN(value) && raw !== 'NaN')) {
    throw new Error(`bad value ${raw} (${where})`);
  }
  return { name, labels, value };
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      group.buckets.push([le === '+Inf' ? Infinity : Number(le), sample.value]);
    } else if (sample.name.endsWith('_count')) group.count = sample.value;
  }
  for (const [key, group] of groups) {
    const sorted = [...group.buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i += 1) {
      if (sorted[i]![1] < sorted[i - 1]![1]) throw new Error(`${family.name}${key}: buckets decrease`);
    }
    const inf = sorted.at(-1);
    if (inf === undefined || inf[0] !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (inf[1] !== group.count) throw new Error(`${family.name}${key}: +Inf bucket ${inf[1]} != _count ${group.count}`);
  }
}

/** The value of one series (0 when absent), e.g. value(f, 'botbridge_replies_total', { result: 'sent' }). */
export function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => sample.labels[k] === v)) return sample.value;
    }
  }
  return 0;
}
