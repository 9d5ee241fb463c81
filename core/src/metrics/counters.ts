/**
 * In-process counters and gauges of the bridge, labelled by a short reason. Cheap enough for the
 * hot path (a Map lookup and an increment). The Prometheus exporter reads them; tests and the
 * admin API read `snapshot()`.
 */
export class Counters {
  private readonly values = new Map<string, number>();

  inc(name: string, label?: string, by = 1): void {
    const key = label === undefined ? name : `${name}{${label}}`;
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  get(name: string, label?: string): number {
    return this.values.get(label === undefined ? name : `${name}{${label}}`) ?? 0;
  }

  /** Sum over every label of a counter. */
  total(name: string): number {
    let sum = 0;
    for (const [key, value] of this.values) {
      if (key === name || key.startsWith(`${name}{`)) sum += value;
    }
    return sum;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.values);
  }
}
