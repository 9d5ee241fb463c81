import { v32Codec, type ProtocolCodec } from './codec.js';
import { isRecord } from './packets.js';
import { v33Codec } from './v33-codec.js';

const CLOSE_BRACE = 0x7d;

export interface Frame {
  /** The JSON part: the line up to and including its last `}` (the whole line if it has none). */
  readonly json: string;
  /** What followed the last `}` (v3.3's raw payload), trimmed like the script's `trim()`; '' for v3.2. */
  readonly raw: string;
}

/**
 * Splits a "JSON + raw" line (PROTOCOL.md §8) at its last `}`: base64 and the payloads the
 * scripts send contain none. A v3.2 line ends in `}` and costs one character test. The split is
 * the same for every connection because the first line decides the codec.
 */
export function splitFrame(line: string): Frame {
  if (line.charCodeAt(line.length - 1) === CLOSE_BRACE) return { json: line, raw: '' };
  const end = line.lastIndexOf('}');
  if (end < 0) return { json: line, raw: '' };
  return { json: line.slice(0, end + 1), raw: line.slice(end + 1).trim() };
}

export type FirstLine =
  /** A handshake line (bare: v3.2, wrapped: v3.3); decode it with the codec. */
  | { readonly codec: ProtocolCodec; readonly kind: 'handshake' }
  /** A v3.3 line the script's offline queue sent before its handshake: hold it. */
  | { readonly codec: ProtocolCodec; readonly kind: 'early' };

/**
 * Chooses a connection's codec from the shape of its first line. `{"event":"handshake",...}` is
 * v3.3; any other `{event, data}` with v3.3's marks (a `message`, a `pong`, `message_positions`)
 * is a v3.3 line queued before the handshake (the script sends its handshake through its offline
 * queue, behind up to 10 queued items). Everything else is taken as a bare v3.2 handshake and
 * validated as one, so a malformed first line is refused exactly as before.
 */
export function selectCodec(value: unknown): FirstLine {
  if (isRecord(value) && typeof value.event === 'string') {
    if (value.event === 'handshake') return { codec: v33Codec, kind: 'handshake' };
    if (isEarlyV33(value)) return { codec: v33Codec, kind: 'early' };
  }
  return { codec: v32Codec, kind: 'handshake' };
}

/** True for the wrapped v3.3 handshake (a later line of a connection whose first lines were early). */
export function isV33Handshake(value: unknown): boolean {
  return isRecord(value) && value.event === 'handshake';
}

function isEarlyV33(value: Record<string, unknown>): boolean {
  const data = value.data;
  if (!isRecord(data)) return false;
  return value.event === 'message' || value.event === 'pong' || Array.isArray(data.message_positions);
}
