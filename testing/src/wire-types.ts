/**
 * Shapes of the packets a v3.2.x bridge script exchanges with the server (PROTOCOL.md §2–§6),
 * as the fake client sends and receives them. Received shapes are what the protocol promises;
 * the fake client does not validate them, so tests assert on them.
 */

/** `data` of the server's `handshakeComplete` (PROTOCOL.md §2.3). */
export interface HandshakeCompleteData {
  readonly success: boolean;
  readonly approved: boolean;
  readonly message: string;
  readonly server_version: string;
}

/**
 * `data` of a `messageResponse` (docs/protocol.md). From a v3.3 server line, `text` is what the
 * script makes of it (the decoded text, or the media items as `IMAGE_BASE64:a|||b` /
 * `MEDIA_URL:a|||b`), so the same expectation holds for both protocols; the v3.3 fields are kept.
 */
export interface MessageResponse {
  readonly room: string;
  readonly channel_id: string | null;
  readonly bot_name: string;
  readonly text: string;
  /** Present only when > 0. */
  readonly media_wait_time?: number;
  /** v3.3 only: `text`, `image`, `audio`, `video`, `document`. */
  readonly message_type?: string;
  /** v3.3 only: offsets cutting `payload` into items. */
  readonly message_positions?: readonly number[];
  /** v3.3 only: the raw payload after the JSON. */
  readonly payload?: string;
}

/** `data` of a server `ping` (PROTOCOL.md §6). */
export interface PingPacketData {
  readonly bot_name: string;
  readonly device_id: string;
  readonly server_timestamp: number;
  readonly is_manual: boolean;
  readonly server_info: { readonly total_clients: number; readonly timestamp: number };
}

/**
 * The `auth` block on every `analyze` and ping answer (PROTOCOL.md §4), in the script's key order.
 * A type alias, not an interface, so it is assignable to `Record<string, unknown>`.
 */
export type AuthBlock = {
  readonly clientType: string;
  readonly botName: string;
  readonly deviceUUID: string;
  readonly deviceID: string;
  readonly macAddress: string;
  readonly ipAddress: string;
  readonly timestamp: number;
  readonly version: string;
  readonly signature: string;
};

/** What a test may set on one chat line; everything else takes the fake client's defaults. */
export interface AnalyzeInput {
  readonly room?: string;
  readonly text?: string;
  readonly sender?: string;
  readonly isGroupChat?: boolean;
  readonly channelId?: string | null;
  /** Default: a fresh id per call (decimal string above 2^53). `null` is sent as JSON null. */
  readonly logId?: string | null;
  /** Default 'abcd1234'. `null` leaves the key out (builds that send no userHash). */
  readonly userHash?: string | null;
  readonly isMention?: boolean;
  /** Phone local time `YYYY-MM-DD HH:mm:ss`; default now. */
  readonly timestamp?: string;
  /** Default: the client's botName. */
  readonly botName?: string;
  /** Default: the client's clientType. */
  readonly clientType?: string;
}

/** `data` of an `analyze` packet exactly as written on the wire (key order included). */
export interface AnalyzeData {
  readonly room: string;
  readonly text: string;
  readonly sender: string;
  readonly isGroupChat: boolean;
  readonly channelId: string | null;
  /** Absent on the legacy twin. */
  readonly logId?: string | null;
  /** The legacy twin sends a random id, or null when the sender is empty. */
  readonly userHash?: string | null;
  readonly isMention: boolean;
  readonly timestamp: string;
  readonly botName: string;
  /** Legacy twin only. */
  readonly packageName?: string;
  /** Legacy twin only: whatever the app passes as response()'s 8th argument (a boolean on 0.7.36a+). */
  readonly threadId?: string | boolean | null;
  /** Absent on the legacy twin. */
  readonly clientType?: string;
  readonly auth?: Readonly<Record<string, unknown>>;
}

/** Which auth block `analyze` attaches. */
export type AuthVariant =
  | 'valid'
  | 'missing'
  /** Correctly signed, timestamp 6 minutes in the past. */
  | 'stale'
  /** Fresh timestamp, signature of another message. */
  | 'bad-signature'
  /** Correctly signed, but `deviceID` differs from the handshake's. */
  | 'other-identity'
  /** Sent verbatim. */
  | Readonly<Record<string, unknown>>;

export interface AnalyzeOptions {
  readonly auth?: AuthVariant;
  /** Also send the legacy `response()` twin of the line right after it (PROTOCOL.md §3). */
  readonly legacyTwin?: boolean;
}
