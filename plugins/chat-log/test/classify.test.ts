import { describe, expect, it } from 'vitest';
import { classify, directiveOf, isMeaningful, MAX_DIRECTIVE_LENGTH } from '../src/classify.js';

describe('directiveOf', () => {
  it('is the prefix and the first word after it', () => {
    expect(directiveOf('# echo 안녕', '#')).toBe('# echo');
    expect(directiveOf('# echo', '#')).toBe('# echo');
    expect(directiveOf('#echo hi', '#')).toBe('#echo');
    expect(directiveOf('# reload bots-config', '#')).toBe('# reload');
    expect(directiveOf('! 날씨 서울', '!')).toBe('! 날씨');
  });

  it('is null for plain text, a bare prefix, or a word on the next line', () => {
    expect(directiveOf('hello # echo', '#')).toBeNull();
    expect(directiveOf('#', '#')).toBeNull();
    expect(directiveOf('#   ', '#')).toBeNull();
    expect(directiveOf('#\necho', '#')).toBeNull();
  });

  it('is cut to the kb_chat_logs column length in code points', () => {
    const directive = directiveOf(`# ${'가'.repeat(50)}`, '#');
    expect(Array.from(directive ?? '')).toHaveLength(MAX_DIRECTIVE_LENGTH);
    expect(directiveOf(`# ${'😀'.repeat(40)}`, '#')).toBe(`# ${'😀'.repeat(MAX_DIRECTIVE_LENGTH - 2)}`);
  });
});

describe('isMeaningful', () => {
  it.each(['안녕하세요', 'ㅋㅋㅋ', 'ok', '42', '(하하) 좋아요', '사진 보냈어'])('%s is meaningful', (text) => {
    expect(isMeaningful(text)).toBe(true);
  });

  it.each(['', '   ', '...', '?!', '(이모티콘)', '(하하)(굿)', '이모티콘', '사진', '사진 3장', '동영상', ' 😀 '])(
    '%j is not meaningful',
    (text) => {
      expect(isMeaningful(text)).toBe(false);
    },
  );
});

describe('classify', () => {
  it('marks commands and text', () => {
    expect(classify('# echo hi', '#')).toEqual({ directive: '# echo', messageType: 'command', isMeaningful: true });
    expect(classify('hi', '#')).toEqual({ directive: null, messageType: 'text', isMeaningful: true });
  });
});
