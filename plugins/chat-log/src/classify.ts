/**
 * How a chat line is classified for the log. Kept deliberately simple; the rules are the
 * documentation:
 * - directive: when the line starts with the prefix, the prefix plus the first word after it
 *   (spaces as typed, no line break): `# echo hi` → `# echo`, `#echo` → `#echo`,
 *   `# reload bots-config` → `# reload`; cut to MAX_DIRECTIVE_LENGTH. A bare prefix is none.
 * - meaningful: something is left after removing KakaoTalk's emoticon placeholders and the line
 *   contains a letter or a digit (any script). Placeholders are `(이모티콘)`-style tokens: up to
 *   10 non-space characters in parentheses (`(하하)`, `(emoticon)`), and lines that are only a
 *   media placeholder (`이모티콘`, `사진`, `사진 3장`, `동영상`, `파일`, `음성메시지`).
 *   Punctuation-only lines (`...`, `?!`) are not meaningful; `ㅋㅋ` is (jamo are letters).
 */

/** kb_chat_logs.directive is VARCHAR(30) in deployed databases (characters, i.e. code points). */
export const MAX_DIRECTIVE_LENGTH = 30;

const EMOTICON_TOKEN = /\([^()\s]{1,10}\)/gu;
const MEDIA_PLACEHOLDER = /^(?:이모티콘|사진(?: \d+장)?|동영상|파일|음성메시지)$/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

export type MessageKind = 'command' | 'text';

export interface Classification {
  readonly directive: string | null;
  readonly messageType: MessageKind;
  readonly isMeaningful: boolean;
}

export function classify(text: string, prefix: string): Classification {
  const directive = directiveOf(text, prefix);
  return { directive, messageType: directive === null ? 'text' : 'command', isMeaningful: isMeaningful(text) };
}

export function directiveOf(text: string, prefix: string): string | null {
  if (!text.startsWith(prefix)) return null;
  const word = /^[ \t]*\S+/u.exec(text.slice(prefix.length));
  if (word === null) return null;
  const directive = prefix + word[0];
  // Cut by code points only when it may be too long: at most 30 UTF-16 units are at most 30 code points.
  return directive.length <= MAX_DIRECTIVE_LENGTH ? directive : Array.from(directive).slice(0, MAX_DIRECTIVE_LENGTH).join('');
}

export function isMeaningful(text: string): boolean {
  const trimmed = text.trim();
  if (trimmed.length === 0 || MEDIA_PLACEHOLDER.test(trimmed)) return false;
  // Placeholders open with `(`: a line without one keeps its text (every line is classified).
  return LETTER_OR_DIGIT.test(trimmed.includes('(') ? trimmed.replace(EMOTICON_TOKEN, '') : trimmed);
}
