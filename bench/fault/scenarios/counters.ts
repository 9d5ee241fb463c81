/**
 * The bridge counters worth showing next to a scenario's verdict (evidence of where messages
 * went): non-zero `_total` counters only, histograms and process gauges left out.
 */
export function interestingCounters(all: Record<string, number> | null): Record<string, number> | null {
  if (all === null) return null;
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(all)) {
    if (value === 0 || !name.includes('_total') || name.startsWith('botbridge_process_') || name.includes('_seconds')) continue;
    out[name] = value;
  }
  return out;
}
