import { PNG } from 'pngjs';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphOf } from './bitmap-font.js';

export type Rgb = readonly [number, number, number];

/** IMGEXT's background colours, cycled per word (the old server's list and order). */
export const BACKGROUND_COLOURS: readonly Rgb[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 0],
  [255, 0, 255],
  [0, 255, 255],
  [255, 128, 0],
  [128, 0, 255],
  [0, 128, 255],
  [255, 0, 128],
];

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
/** Blank columns between glyphs and rows between lines, before scaling. */
const GLYPH_GAP = 1;
const LINE_GAP = 1;
/** Text is drawn 2× when it fits on one line, else 1× wrapped over several lines. */
const LARGE_SCALE = 2;

/** White on dark backgrounds, black on light ones (r+g+b below 384 counts as dark). */
export function textColourFor(background: Rgb): Rgb {
  return background[0] + background[1] + background[2] < 384 ? WHITE : BLACK;
}

export function backgroundColourAt(index: number): Rgb {
  return BACKGROUND_COLOURS[index % BACKGROUND_COLOURS.length]!;
}

/**
 * A size×size PNG (RGB, no alpha) of `word` centred on `background`. Characters outside
 * printable ASCII are drawn as a hollow box; text that does not fit is cut at the edges.
 */
export function renderTextImage(word: string, background: Rgb, size: number): Buffer {
  const png = new PNG({ width: size, height: size });
  fill(png, background);
  const chars = Array.from(word);
  const scale = lineWidth(chars.length, LARGE_SCALE) <= size ? LARGE_SCALE : 1;
  const perLine = Math.max(1, Math.floor((size + GLYPH_GAP * scale) / ((GLYPH_WIDTH + GLYPH_GAP) * scale)));
  const lines = chunk(chars, perLine);
  const lineHeight = (GLYPH_HEIGHT + LINE_GAP) * scale;
  const blockHeight = lines.length * lineHeight - LINE_GAP * scale;
  const top = Math.floor((size - blockHeight) / 2);
  const colour = textColourFor(background);
  lines.forEach((line, row) => {
    const left = Math.floor((size - lineWidth(line.length, scale)) / 2);
    line.forEach((char, column) => {
      drawGlyph(png, glyphOf(char), left + column * (GLYPH_WIDTH + GLYPH_GAP) * scale, top + row * lineHeight, scale, colour);
    });
  });
  return PNG.sync.write(png, { colorType: 2 });
}

function lineWidth(chars: number, scale: number): number {
  return chars === 0 ? 0 : (chars * (GLYPH_WIDTH + GLYPH_GAP) - GLYPH_GAP) * scale;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function fill(png: PNG, [r, g, b]: Rgb): void {
  for (let i = 0; i < png.data.length; i += 4) {
    png.data[i] = r;
    png.data[i + 1] = g;
    png.data[i + 2] = b;
    png.data[i + 3] = 255;
  }
}

function drawGlyph(png: PNG, columns: readonly number[], x0: number, y0: number, scale: number, colour: Rgb): void {
  columns.forEach((bits, column) => {
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      if ((bits >> row) & 1) fillRect(png, x0 + column * scale, y0 + row * scale, scale, colour);
    }
  });
}

function fillRect(png: PNG, x0: number, y0: number, side: number, [r, g, b]: Rgb): void {
  for (let y = Math.max(0, y0); y < Math.min(png.height, y0 + side); y++) {
    for (let x = Math.max(0, x0); x < Math.min(png.width, x0 + side); x++) {
      const i = (y * png.width + x) * 4;
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
    }
  }
}
