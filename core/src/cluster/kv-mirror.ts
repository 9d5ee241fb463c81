import type { KV, KvEntry } from '@nats-io/kv';

/**
 * A live in-memory copy of one KV bucket, fed by a watch (last value of every key, then every
 * change). Reads are Map lookups: routing a reply or judging a lease never waits for NATS.
 * `loaded()` resolves once the bucket's content at start has been seen, so a node accepts no
 * phone before it knows the fleet (CLUSTER-NOTES: VerneMQ #1363).
 *
 * The KV client's watch is an ordered consumer: after a reconnect it resumes where it was, so
 * changes made while this node was away are delivered when NATS is back.
 */
export class KvMirror<V> {
  private readonly entries = new Map<string, { value: V; revision: number; created: number }>();
  private stopped = false;
  private iterator: { stop(): void } | null = null;

  constructor(
    private readonly kv: KV,
    private readonly decode: (entry: KvEntry) => V | null,
    private readonly onChange: (key: string, value: V | null, revision: number, previous: V | null) => void = () => {},
  ) {}

  /** Starts the watch; resolves once every key present at start is mirrored (or after timeoutMs, rejecting). */
  async start(timeoutMs: number): Promise<void> {
    const status = await this.kv.status();
    const lastSeq = status.streamInfo.state.last_seq;
    const iter = await this.kv.watch({ key: '>' });
    this.iterator = iter;
    let resolveLoaded!: () => void;
    const loaded = new Promise<void>((resolve) => (resolveLoaded = resolve));
    if (status.values === 0) resolveLoaded();
    void (async () => {
      for await (const entry of iter) {
        if (this.stopped) break;
        this.apply(entry);
        if (entry.revision >= lastSeq || entry.delta === 0) resolveLoaded();
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`KV bucket ${status.bucket} not loaded within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([loaded, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private apply(entry: KvEntry): void {
    const previous = this.entries.get(entry.key);
    if (previous && previous.revision >= entry.revision) return;
    const value = entry.operation === 'PUT' ? this.decode(entry) : null;
    if (value === null) this.entries.delete(entry.key);
    else this.entries.set(entry.key, { value, revision: entry.revision, created: entry.created.getTime() });
    this.onChange(entry.key, value, entry.revision, previous?.value ?? null);
  }

  get(key: string): { value: V; revision: number; created: number } | undefined {
    return this.entries.get(key);
  }

  /** Forgets a key locally (its holder is dead); the bucket itself is not changed. */
  forget(key: string): void {
    this.entries.delete(key);
  }

  all(): IterableIterator<[string, { value: V; revision: number; created: number }]> {
    return this.entries.entries();
  }

  stop(): void {
    this.stopped = true;
    this.iterator?.stop();
  }
}
