import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type TokenSource = 'config' | 'generated';

/**
 * The admin token and the dashboard session derived from it. Comparisons are constant-time
 * over SHA-256 digests, so neither the content nor the length of the real token leaks through
 * timing. The session cookie holds an HMAC of the token under a key that lives only in this
 * process: it never carries the token itself, and a restart signs every browser out.
 */
export class AdminToken {
  private readonly digest: Buffer;
  private readonly session: Buffer;
  private readonly sessionValue: string;

  private constructor(
    private readonly secret: string,
    readonly source: TokenSource,
  ) {
    this.digest = sha256(secret);
    this.sessionValue = createHmac('sha256', randomBytes(32)).update(secret).digest('base64url');
    this.session = sha256(this.sessionValue);
  }

  /** The configured token, or a random one (loopback only) when none is configured. */
  static resolve(configured: string | undefined): AdminToken {
    if (configured !== undefined) return new AdminToken(configured, 'config');
    return new AdminToken(randomBytes(24).toString('base64url'), 'generated');
  }

  matches(candidate: string): boolean {
    return timingSafeEqual(this.digest, sha256(candidate));
  }

  /** The value of the dashboard's session cookie. */
  get cookieValue(): string {
    return this.sessionValue;
  }

  matchesCookie(candidate: string): boolean {
    return timingSafeEqual(this.session, sha256(candidate));
  }

  /**
   * The token itself, for the one place that may show it: the dashboard URL logged once at
   * start when the token was generated (it exists nowhere else; see docs/admin-api.md).
   */
  reveal(): string {
    return this.secret;
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
