import { describe, expect, it } from 'vitest';
import { botNameOf, fileNameOf } from '../src/bot-files.js';

describe('bot file names', () => {
  it('keeps readable names readable, Hangul included', () => {
    expect(fileNameOf('LOA.i')).toBe('LOA.i.json');
    expect(fileNameOf('꼬봇_2')).toBe('꼬봇_2.json');
  });

  it('encodes anything that could leave the folder, hide the file or confuse a shell', () => {
    expect(fileNameOf('../etc/passwd')).toBe('%2E.%2Fetc%2Fpasswd.json');
    expect(fileNameOf('.hidden')).toBe('%2Ehidden.json');
    expect(fileNameOf('a b*c')).toBe('a%20b%2Ac.json');
    expect(fileNameOf('x\\y:z')).toBe('x%5Cy%3Az.json');
  });

  it('maps file names back to bot names, and ignores files that are not a bot\'s', () => {
    for (const name of ['LOA.i', '꼬봇_2', '../etc/passwd', '.hidden', 'a b*c', '😀bot']) expect(botNameOf(fileNameOf(name))).toBe(name);
    expect(botNameOf('.LOA.i.json.1a2b3c4d.tmp')).toBeUndefined();
    expect(botNameOf('notes.txt')).toBeUndefined();
    expect(botNameOf('a%2.json')).toBeUndefined();
    expect(botNameOf('a%41.json')).toBeUndefined(); // not how `A` is written
  });
});
