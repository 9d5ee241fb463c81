import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { glyphOf, hasGlyph, HOLLOW_BOX } from '../src/image/bitmap-font.js';
import { BACKGROUND_COLOURS, backgroundColourAt, renderTextImage, textColourFor, type Rgb } from '../src/image/text-image.js';

function pixel(png: PNG, x: number, y: number): Rgb {
  const i = (y * png.width + x) * 4;
  return [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
}

function countColour(png: PNG, colour: Rgb, box = { x0: 0, y0: 0, x1: png.width, y1: png.height }): number {
  let count = 0;
  for (let y = box.y0; y < box.y1; y++) {
    for (let x = box.x0; x < box.x1; x++) {
      const [r, g, b] = pixel(png, x, y);
      if (r === colour[0] && g === colour[1] && b === colour[2]) count++;
    }
  }
  return count;
}

describe('renderTextImage', () => {
  it('writes a 100×100 RGB PNG with the background in the corners and the text in the middle', () => {
    const buffer = renderTextImage('42', [255, 0, 0], 100);
    expect(buffer.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(buffer[25]).toBe(2); // IHDR colour type 2: RGB without alpha
    const png = PNG.sync.read(buffer);
    expect([png.width, png.height]).toEqual([100, 100]);
    for (const [x, y] of [[0, 0], [99, 0], [0, 99], [99, 99]] as const) expect(pixel(png, x, y)).toEqual([255, 0, 0]);
    const middle = { x0: 30, y0: 30, x1: 70, y1: 70 };
    expect(countColour(png, [255, 255, 255], middle)).toBeGreaterThan(20);
    expect(countColour(png, [255, 255, 255])).toBe(countColour(png, [255, 255, 255], middle));
  });

  it('draws black text on light backgrounds', () => {
    const png = PNG.sync.read(renderTextImage('A', [255, 255, 0], 100));
    expect(pixel(png, 0, 0)).toEqual([255, 255, 0]);
    expect(countColour(png, [0, 0, 0])).toBeGreaterThan(20);
    expect(countColour(png, [255, 255, 255])).toBe(0);
  });

  it('centres the text', () => {
    const png = PNG.sync.read(renderTextImage('H', [0, 0, 255], 100));
    const xs: number[] = [];
    const ys: number[] = [];
    for (let y = 0; y < 100; y++) {
      for (let x = 0; x < 100; x++) {
        if (pixel(png, x, y)[0] === 255) xs.push(x), ys.push(y);
      }
    }
    // 'H' at 2×: 10 px wide, 14 px tall.
    expect([Math.min(...xs), Math.max(...xs)]).toEqual([45, 54]);
    expect([Math.min(...ys), Math.max(...ys)]).toEqual([43, 56]);
  });

  it('shrinks long words to 1× and wraps them instead of dropping characters', () => {
    const short = PNG.sync.read(renderTextImage('IIIIIIII', [0, 0, 0], 100));
    const long = PNG.sync.read(renderTextImage('I'.repeat(20), [0, 0, 0], 100));
    // 'I' has 7 + 2 + 2 = 11 lit cells; at 2× each is 4 pixels.
    expect(countColour(short, [255, 255, 255])).toBe(8 * 11 * 4);
    expect(countColour(long, [255, 255, 255])).toBe(20 * 11);
  });

  it('renders characters outside the font as a hollow box', () => {
    const hangul = PNG.sync.read(renderTextImage('가', [0, 0, 0], 100));
    const box = PNG.sync.read(renderTextImage('\u{1F600}', [0, 0, 0], 100));
    const boxCells = HOLLOW_BOX.reduce((sum, bits) => sum + bits.toString(2).split('1').length - 1, 0);
    expect(countColour(hangul, [255, 255, 255])).toBe(boxCells * 4);
    expect(countColour(box, [255, 255, 255])).toBe(boxCells * 4); // one box per code point, not per UTF-16 unit
    expect(glyphOf('가')).toBe(HOLLOW_BOX);
    expect(hasGlyph('가')).toBe(false);
    expect(hasGlyph('~')).toBe(true);
  });

  it('honours another size', () => {
    const png = PNG.sync.read(renderTextImage('x', [0, 255, 0], 40));
    expect([png.width, png.height]).toEqual([40, 40]);
  });
});

describe('colours', () => {
  it('cycles the old server palette', () => {
    expect(BACKGROUND_COLOURS).toHaveLength(10);
    expect(backgroundColourAt(0)).toEqual([255, 0, 0]);
    expect(backgroundColourAt(9)).toEqual([255, 0, 128]);
    expect(backgroundColourAt(10)).toEqual([255, 0, 0]);
  });

  it('picks white below r+g+b 384 and black from it', () => {
    expect(textColourFor([255, 0, 128])).toEqual([255, 255, 255]); // 383
    expect(textColourFor([255, 128, 1])).toEqual([0, 0, 0]); // 384
    expect(textColourFor([0, 255, 255])).toEqual([0, 0, 0]);
  });
});
