import type { StreamEventName } from './debug-protocol.js';

export interface FilterSpec {
  readonly events: ReadonlySet<StreamEventName>;
  readonly bot: string | null;
  readonly device: string | null;
  readonly room: string | null;
}

/** Traces remembered per filter; older ones are forgotten first. */
const MAX_TRACES = 2_000;

const FIELDS = [
  ['bot', 'botName'],
  ['device', 'deviceId'],
  ['room', 'room'],
] as const;

/**
 * One debug client's server-side filter. An event passes when its name was chosen and, for each
 * criterion (bot, device, room), it carries that field with the wanted value, or it belongs to
 * a trace whose `message:admitted` passed: events like `message:started` or `plugin:handler`
 * carry no device, yet belong to the device's message. Events with neither (e.g.
 * `connection:open` under a bot filter) do not pass.
 */
export class EventFilter {
  private readonly traces = new Set<string>();

  constructor(readonly spec: FilterSpec) {}

  get hasCriteria(): boolean {
    return this.spec.bot !== null || this.spec.device !== null || this.spec.room !== null;
  }

  /**
   * The events the hub must listen to for this filter: the chosen ones, plus `message:admitted`
   * when criteria need it to follow traces.
   */
  listensTo(): Set<StreamEventName> {
    const names = new Set(this.spec.events);
    if (this.hasCriteria) names.add('message:admitted');
    return names;
  }

  /** Whether `event` is delivered; also remembers the trace of a passing admitted message. */
  accept(name: StreamEventName, event: Readonly<Record<string, unknown>>): boolean {
    if (!this.hasCriteria) return this.spec.events.has(name);
    const traceId = typeof event.traceId === 'string' ? event.traceId : null;
    if (traceId !== null && this.traces.has(traceId)) return this.spec.events.has(name);
    if (name === 'queue:stats') return this.spec.events.has(name);
    for (const [criterion, field] of FIELDS) {
      const wanted = this.spec[criterion];
      if (wanted !== null && event[field] !== wanted) return false;
    }
    if (traceId !== null && name === 'message:admitted') this.remember(traceId);
    return this.spec.events.has(name);
  }

  private remember(traceId: string): void {
    this.traces.add(traceId);
    if (this.traces.size > MAX_TRACES) {
      const oldest = this.traces.values().next().value;
      if (oldest !== undefined) this.traces.delete(oldest);
    }
  }
}
