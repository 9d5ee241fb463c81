import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Reply } from '@botbridge/sdk';
import { imagesOf, type ImageRef, type ScheduleRow } from './schedule-row.js';

/** One thing a schedule sends: its text, then image group 1, then image group 2 (the old server's order). */
export interface Part {
  readonly component: 'text' | 'images_1' | 'images_2';
  /** Null when it could not be built (an image file missing): logged as this part's failure. */
  readonly reply: Reply | null;
  readonly error: string | null;
}

/**
 * Builds a schedule's parts. Images: `{ path }` is a file under `imageRoot` (the PHP admin's
 * `web/data` folder; paths outside it are refused), read and sent as base64 like the old
 * server; `{ base64 }` is sent as it is; `{ url }` as a media URL. A group's items go in one share.
 */
export async function partsOf(row: ScheduleRow, imageRoot: string | null): Promise<Part[]> {
  const parts: Part[] = [];
  if (row.message_text !== null && row.message_text !== '') parts.push({ component: 'text', reply: { kind: 'text', text: row.message_text }, error: null });
  const groups = [
    ['images_1', imagesOf(row.message_images_1), row.media_wait_time_1],
    ['images_2', imagesOf(row.message_images_2), row.media_wait_time_2],
  ] as const;
  for (const [component, images, wait] of groups) {
    if (images.length === 0) continue;
    parts.push(await imagePart(component, images, Number(wait ?? 0), imageRoot));
  }
  return parts;
}

async function imagePart(component: 'images_1' | 'images_2', images: readonly ImageRef[], waitMs: number, imageRoot: string | null): Promise<Part> {
  const urls = images.filter((i) => typeof i.url === 'string' && i.url !== '').map((i) => i.url!);
  if (urls.length === images.length) return { component, reply: { kind: 'media', form: 'url', items: urls, ...(waitMs > 0 ? { waitMs } : {}) }, error: null };
  const items: string[] = [];
  for (const image of images) {
    if (typeof image.base64 === 'string' && image.base64 !== '') {
      items.push(image.base64);
      continue;
    }
    if (typeof image.path !== 'string' || image.path === '') return { component, reply: null, error: `${component}: an image has neither path nor base64 (a URL cannot be mixed with files)` };
    if (imageRoot === null) return { component, reply: null, error: `${component}: image files need the scheduler's imageRoot setting` };
    const outside = { component, reply: null, error: `${component}: ${image.path} is outside imageRoot` };
    if (!isInside(resolve(imageRoot), resolve(imageRoot, image.path))) return outside;
    try {
      // Symbolic links resolved too: a link in the upload folder must not reach outside it.
      const file = await realpath(resolve(imageRoot, image.path));
      if (!isInside(await realpath(imageRoot), file)) return outside;
      items.push((await readFile(file)).toString('base64'));
    } catch (error) {
      return { component, reply: null, error: `${component}: cannot read ${image.path} (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
    }
  }
  return { component, reply: { kind: 'media', form: 'base64', items, ...(waitMs > 0 ? { waitMs } : {}) }, error: null };
}

function isInside(root: string, file: string): boolean {
  const inside = relative(root, file);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
}

/** What a log row records of an image group: names and sizes, never the image data (as the old server). */
export function imagesSummary(value: unknown): string | null {
  const images = imagesOf(value);
  if (images.length === 0) return null;
  return JSON.stringify(images.map((i) => (i.path !== undefined ? { path: i.path, name: i.name ?? null } : i.url !== undefined ? { url: i.url } : { base64Chars: i.base64?.length ?? 0 })));
}
