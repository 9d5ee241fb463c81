/** Slots allocated at first use and never released below this (8 KiB of arrays). */
const MIN_SLOTS = 256;

/**
 * The dedup memory of message ids: 64-bit key hashes (KeyHasher) with the time each was seen,
 * in arrival order, plus an index for O(1) membership. Everything lives in typed arrays: 16
 * bytes a slot in the ring (two hash halves, a time) and about 8 in the open-addressing index,
 * so 200,000 ids take about 5 MiB and no object per id exists for the GC to trace.
 *
 * The ring grows by doubling up to `maxSlots` and shrinks by half once it is a quarter full,
 * so the arrays follow the load: a burst's memory is returned after its ids expire.
 */
export class HashWindow {
  private hi = new Uint32Array(0);
  private lo = new Uint32Array(0);
  private at = new Float64Array(0);
  /** Ring slot + 1 per index position; 0 is empty. Linear probing from `lo & mask`. */
  private index = new Int32Array(0);
  private mask = 0;
  private head = 0;
  private count = 0;

  constructor(private readonly maxSlots: number) {}

  get length(): number {
    return this.count;
  }

  /** Slots currently allocated (the memory held: about 24 bytes each). */
  get allocated(): number {
    return this.hi.length;
  }

  /** Time of the oldest entry, undefined when empty. */
  oldestAt(): number | undefined {
    return this.count === 0 ? undefined : this.at[this.head];
  }

  has(hi: number, lo: number): boolean {
    return this.find(hi, lo) >= 0;
  }

  /** Appends (callers append in time order and check `has` first). Evicts the oldest when full. */
  push(hi: number, lo: number, at: number): void {
    if (this.count === this.hi.length) {
      if (this.hi.length < this.maxSlots) this.resize(Math.min(this.maxSlots, Math.max(MIN_SLOTS, this.hi.length * 2)));
      else this.shift();
    }
    const slot = (this.head + this.count) % this.hi.length;
    this.hi[slot] = hi;
    this.lo[slot] = lo;
    this.at[slot] = at;
    this.count += 1;
    let pos = lo & this.mask;
    while (this.index[pos] !== 0) pos = (pos + 1) & this.mask;
    this.index[pos] = slot + 1;
  }

  /** Forgets the oldest entry; gives memory back once the ring is a quarter full. */
  shift(): void {
    if (this.count === 0) return;
    const slot = this.head;
    this.removeFromIndex(slot);
    this.head = (this.head + 1) % this.hi.length;
    this.count -= 1;
    const size = this.hi.length;
    if (size > MIN_SLOTS && this.count <= size / 4) this.resize(Math.max(MIN_SLOTS, size / 2));
  }

  private find(hi: number, lo: number): number {
    if (this.count === 0) return -1;
    for (let pos = lo & this.mask; ; pos = (pos + 1) & this.mask) {
      const ref = this.index[pos]!;
      if (ref === 0) return -1;
      if (this.lo[ref - 1] === lo && this.hi[ref - 1] === hi) return pos;
    }
  }

  /** Backward-shift deletion: no tombstones, so probes stay short however long the ring runs. */
  private removeFromIndex(slot: number): void {
    const mask = this.mask;
    let hole = this.lo[slot]! & mask;
    while (this.index[hole] !== slot + 1) hole = (hole + 1) & mask;
    this.index[hole] = 0;
    for (let next = (hole + 1) & mask; this.index[next] !== 0; next = (next + 1) & mask) {
      const home = this.lo[this.index[next]! - 1]! & mask;
      // The entry at `next` may move into the hole only if its home is not within (hole, next].
      const stays = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (stays) continue;
      this.index[hole] = this.index[next]!;
      this.index[next] = 0;
      hole = next;
    }
  }

  private resize(slots: number): void {
    const hi = new Uint32Array(slots);
    const lo = new Uint32Array(slots);
    const at = new Float64Array(slots);
    for (let i = 0; i < this.count; i += 1) {
      const from = (this.head + i) % this.hi.length;
      hi[i] = this.hi[from]!;
      lo[i] = this.lo[from]!;
      at[i] = this.at[from]!;
    }
    // At most half full: probes stay short.
    let indexSize = 1;
    while (indexSize < slots * 2) indexSize *= 2;
    const index = new Int32Array(indexSize);
    const mask = indexSize - 1;
    for (let i = 0; i < this.count; i += 1) {
      let pos = lo[i]! & mask;
      while (index[pos] !== 0) pos = (pos + 1) & mask;
      index[pos] = i + 1;
    }
    this.hi = hi;
    this.lo = lo;
    this.at = at;
    this.index = index;
    this.mask = mask;
    this.head = 0;
  }
}
