import { randomBytes } from 'node:crypto';

/**
 * A seeded 64-bit hash of a few strings, streamed over their UTF-16 code units, so dedup keys
 * are remembered as two 32-bit numbers instead of strings (no key string is built or kept).
 * Two independent multiplicative lanes, each closed by murmur3's finaliser. The seeds are drawn
 * per process: a client cannot precompute colliding ids, and what one process remembers is
 * never compared with another's hashes (the journal re-hashes its keys at start).
 *
 * Not cryptographic. With n keys remembered, a new key collides with one of them with
 * probability about n / 2^64 (2e-14 at 200,000 keys): that is the chance of a false duplicate.
 */
export class KeyHasher {
  /** The two halves of the last `hash` call (read right after it: no tuple is allocated). */
  hi = 0;
  lo = 0;
  private readonly seedHi: number;
  private readonly seedLo: number;

  constructor(seed: Buffer = randomBytes(8)) {
    this.seedHi = seed.readUInt32LE(0) | 0;
    this.seedLo = seed.readUInt32LE(4) | 0;
  }

  private h1 = 0;
  private h2 = 0;

  /** Hashes the parts as if joined by a separator no part contains (the part lengths are mixed in). */
  hash(a: string, b: string, c: string, d = ''): void {
    this.h1 = this.seedHi;
    this.h2 = this.seedLo;
    this.mix(a);
    this.mix(b);
    this.mix(c);
    this.mix(d);
    const { h1, h2 } = this;
    this.hi = fmix32(h1 ^ Math.imul(h2, 0x27d4eb2f)) >>> 0;
    this.lo = fmix32(h2 ^ Math.imul(h1, 0x165667b1)) >>> 0;
  }

  private mix(part: string): void {
    let { h1, h2 } = this;
    for (let i = 0; i < part.length; i += 1) {
      const ch = part.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 0x9e3779b1);
      h1 = (h1 << 13) | (h1 >>> 19);
      h2 = Math.imul(h2 ^ ch, 0x85ebca77);
      h2 = (h2 << 17) | (h2 >>> 15);
    }
    // The length ends each part: ('ab', 'c') and ('a', 'bc') hash apart.
    this.h1 = Math.imul(h1 ^ part.length, 0xcc9e2d51);
    this.h2 = Math.imul(h2 ^ part.length, 0x1b873593);
  }
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
