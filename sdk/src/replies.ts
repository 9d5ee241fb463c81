import type { MediaReply, MediaType, NoReply, Reply, TextReply } from './types.js';

/** A text reply. */
export function text(body: string): TextReply {
  return { kind: 'text', text: body };
}

/** Several text replies, sent in order with the configured gap (pipeline.replyGapMs). */
export function texts(bodies: readonly string[]): TextReply[] {
  return bodies.map(text);
}

export interface MediaOptions {
  /** How long the phone waits after handing the media to KakaoTalk; clamped by the core. */
  readonly waitMs?: number;
  /** What the items are, for v3.3 phones (`message_type`); default `image`. v3.2 phones ignore it. */
  readonly mediaType?: MediaType;
}

/** Media by URL (`http(s)://…`) or a path on the phone; sent as `MEDIA_URL:a|||b`. */
export function mediaUrl(urls: string | readonly string[], options: MediaOptions = {}): MediaReply {
  return { kind: 'media', form: 'url', items: typeof urls === 'string' ? [urls] : [...urls], ...waitOf(options) };
}

/** Images as base64 (no data: prefix); sent as `IMAGE_BASE64:a|||b`, saved as PNG by the phone. */
export function mediaBase64(images: string | readonly string[], options: MediaOptions = {}): MediaReply {
  return { kind: 'media', form: 'base64', items: typeof images === 'string' ? [images] : [...images], ...waitOf(options) };
}

/** "Handled, say nothing": stops later plugins from answering this message. */
export function noReply(): NoReply {
  return { kind: 'none' };
}

/** Normalises what a handler may pass to ctx.reply / return. */
export function toReplies(value: Reply | readonly Reply[] | string): Reply[] {
  if (typeof value === 'string') return [text(value)];
  if (isReplyArray(value)) return [...value];
  return [value];
}

function isReplyArray(value: Reply | readonly Reply[]): value is readonly Reply[] {
  return Array.isArray(value);
}

function waitOf(options: MediaOptions): { waitMs?: number; mediaType?: MediaType } {
  const type = options.mediaType === undefined ? {} : { mediaType: options.mediaType };
  return options.waitMs === undefined ? type : { waitMs: options.waitMs, ...type };
}
