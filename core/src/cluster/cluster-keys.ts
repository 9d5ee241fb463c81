/**
 * Names in NATS: KV keys and subject tokens may hold only `[-/_=.A-Za-z0-9]` and a `.` separates
 * tokens, while bot names and device ids are free text (Korean, spaces, dots). Each free-text
 * part is base64url-encoded (no padding), so a key is `<bot>.<device>` whatever they contain and
 * a watch on `<bot>.*` would select one bot.
 */
export function encodeToken(value: string): string {
  // An empty token would make an invalid key; `=` alone is a valid token and no base64url output.
  return value === '' ? '=' : Buffer.from(value, 'utf8').toString('base64url');
}

export function decodeToken(token: string): string {
  return token === '=' ? '' : Buffer.from(token, 'base64url').toString('utf8');
}

export function presenceKey(botName: string, deviceId: string): string {
  return `${encodeToken(botName)}.${encodeToken(deviceId)}`;
}

export function parsePresenceKey(key: string): { botName: string; deviceId: string } | null {
  const dot = key.indexOf('.');
  if (dot < 0) return null;
  return { botName: decodeToken(key.slice(0, dot)), deviceId: decodeToken(key.slice(dot + 1)) };
}

/** Bucket and subject names of one fleet (`cluster.prefix`), so fleets can share a NATS server. */
export interface ClusterNames {
  readonly leaseBucket: string;
  readonly presenceBucket: string;
  /** Request/reply: a reply delivered through its holder (`<prefix>.node.<id>.deliver`). */
  deliver(nodeId: string): string;
  /** Request/reply: close a device's connection on its holder (`<prefix>.node.<id>.disconnect`). */
  disconnect(nodeId: string): string;
  /** Request/reply: is this node's run alive (`<prefix>.node.<id>.alive`; answers `{node, epoch}`)? */
  alive(nodeId: string): string;
  /** Request/reply: a node's own clients, every node answers (scatter-gather). */
  readonly clients: string;
  /** Publish: an approval changed (device or room); every node re-reads it from SQL. */
  readonly approvals: string;
  /** Publish: done notices of a node's journaled messages and delivered outbox rows (`<prefix>.journal.done.<id>`). */
  doneNotices(nodeId: string): string;
  /** Subscribe: every node's done notices. */
  readonly allDoneNotices: string;
  /** Request/reply, every node answers: which of these messages were announced done (a restarted run asks). */
  readonly doneQuery: string;
}

export function clusterNames(prefix: string): ClusterNames {
  return {
    leaseBucket: `${prefix}_leases`,
    presenceBucket: `${prefix}_presence`,
    deliver: (nodeId) => `${prefix}.node.${nodeId}.deliver`,
    disconnect: (nodeId) => `${prefix}.node.${nodeId}.disconnect`,
    alive: (nodeId) => `${prefix}.node.${nodeId}.alive`,
    clients: `${prefix}.clients`,
    approvals: `${prefix}.approvals`,
    doneNotices: (nodeId) => `${prefix}.journal.done.${nodeId}`,
    allDoneNotices: `${prefix}.journal.done.*`,
    // Not under `journal.done.`: a node may be called `query`.
    doneQuery: `${prefix}.journal.done-query`,
  };
}
