import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBridgeClient } from '@botbridge/testing';
import { spawnLogged } from './spawn-logged.js';

/**
 * The fault suite's SIGTERM scenario (issue 11, "Shutdown drains"): phones keep sending while
 * `botbridge start` is told to stop. Every message the server admitted (its journal row) is
 * answered exactly once before the exit, or is left unfinished in the journal and answered
 * exactly once by the next start's replay; no socket is closed as a handler error; exit 0.
 * Each connection closes as soon as its own work is done: phones whose messages were answered
 * see EOF at once and stop writing into a socket nobody reads (the v3.2 script then keeps what
 * it produces in its offline queue), while the phone with a message still running stays open.
 */

const root = new URL('../../', import.meta.url).pathname;
const PHONES = 20;
const SEND_EVERY_MS = 40;
const args = (dbFile: string) => ['core/bin/botbridge.js', 'start', '--config', 'test/fixtures/drain.config.ts', '--port', '0', '--store', `sqlite:${dbFile}`, '--auto-approve'];
const deviceId = (i: number) => `d${i.toString(16).padStart(15, '0')}`;
const room = (i: number) => ({ room: `방${i}`, channelId: `184456829593${String(i).padStart(5, '0')}` });
const replied = (phone: FakeBridgeClient) => phone.replies.map((r) => r.text.replace(/^답: /, ''));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function journalRows(dbFile: string): { message: string; state: string }[] {
  const db = new Database(dbFile, { readonly: true });
  try {
    return db.prepare('select message, state from botbridge_journal').all() as { message: string; state: string }[];
  } finally {
    db.close();
  }
}

async function connectAll(port: number): Promise<FakeBridgeClient[]> {
  const phones = await Promise.all(Array.from({ length: PHONES }, (_, i) => FakeBridgeClient.connect({ port, deviceId: deviceId(i) })));
  cleanup.push(async () => void (await Promise.all(phones.map((p) => p.close()))));
  await Promise.all(phones.map((p) => p.handshake));
  return phones;
}

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

describe('SIGTERM while phones keep sending (a real process)', () => {
  it('drains: admitted messages are answered once before exit or kept and answered once after a restart', { timeout: 45_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'botbridge-drain-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const dbFile = join(dir, 'bridge.db');

    const first = await spawnLogged(process.execPath, args(dbFile), { cwd: root });
    cleanup.push(first.killTree);
    const phones = await connectAll(first.port);
    // Which phone saw its connection end, in order.
    const closeOrder: number[] = [];
    phones.forEach((p, i) => void p.closed.then(() => closeOrder.push(i)));
    const sent = new Set<string>();
    let seq = 0;
    const send = (i: number, text: string) => {
      if (phones[i]!.closeReason !== null) return;
      phones[i]!.analyze({ text, ...room(i) });
      sent.add(text);
    };
    const traffic = setInterval(() => {
      seq += 1;
      for (let i = 0; i < PHONES; i += 1) send(i, `m${i}-${seq}`);
    }, SEND_EVERY_MS);
    cleanup.push(() => clearInterval(traffic));
    const total = () => phones.reduce((sum, p) => sum + p.replies.length, 0);
    await until('100 replies', () => total() >= 100, 15_000);
    // Runs past the grace period: aborted before it replies, and its room's later lines stay queued.
    send(0, 'slow-0');
    await until('slow-0 admitted (its journal row committed)', () => journalRows(dbFile).some((r) => r.message === 'slow-0'), 10_000);
    const seqAtSigterm = seq;
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    clearInterval(traffic);
    await Promise.all(phones.map((p) => p.closed));

    const disconnects = first.logs.filter((l) => l.msg === 'client disconnected').map((l) => l.reason);
    expect(disconnects).toHaveLength(PHONES);
    expect(new Set(disconnects)).toEqual(new Set(['BRIDGE_ERR_SHUTDOWN']));
    expect(JSON.stringify(first.logs)).not.toContain('handler-error');
    expect(first.logs.some((l) => l.msg === 'draining')).toBe(true);

    const rows = journalRows(dbFile);
    const answered = phones.flatMap(replied);
    // Exactly once: no text answered twice, and each answer is a journaled (admitted) message marked done.
    expect(new Set(answered).size).toBe(answered.length);
    const done = new Set(rows.filter((r) => r.state === 'done').map((r) => r.message));
    const unfinished = new Set(rows.filter((r) => r.state === 'admitted').map((r) => r.message));
    expect(new Set(answered)).toEqual(done);
    expect(unfinished.has('slow-0')).toBe(true);
    for (const text of unfinished) expect(answered).not.toContain(text);
    for (const { message } of rows) expect(sent.has(message)).toBe(true);
    // Lines written into a socket the server no longer read (lost when it closed), per phone.
    const admitted = new Set(rows.map((r) => r.message));
    const notRead = phones.map((_, i) => [...sent].filter((text) => text.startsWith(`m${i}-`) && !admitted.has(text)).length);
    const sentAfter = phones.map((_, i) => [...sent].filter((text) => text.startsWith(`m${i}-`) && Number(text.split('-')[1]) > seqAtSigterm).length);
    const idleNotRead = notRead.slice(1).reduce((a, b) => a + b, 0);
    console.log(
      `drain: ${sent.size} sent, ${rows.length} admitted, ${done.size} answered before exit, ${unfinished.size} kept for replay, ${sent.size - rows.length} not read ` +
        `(phone 0, busy past the grace period: ${notRead[0]} not read of ${sentAfter[0]} sent after SIGTERM; the ${PHONES - 1} others: ${idleNotRead} of ${sentAfter.slice(1).reduce((a, b) => a + b, 0)})`,
    );
    // The busy phone is the last to be closed: every phone whose work was done was closed before it.
    expect(closeOrder).toHaveLength(PHONES);
    expect(closeOrder.at(-1)).toBe(0);
    // It wrote a line every tick of the grace period into its held socket; the others, closed
    // once their last reply was written, stopped after a tick or two (same ticks for all phones).
    expect(notRead[0]).toBeGreaterThanOrEqual(10);
    expect(idleNotRead / (PHONES - 1)).toBeLessThan(notRead[0]! / 2);

    // The next start replays what was kept, once each, as the phones reconnect.
    const second = await spawnLogged(process.execPath, args(dbFile), { cwd: root });
    cleanup.push(second.killTree);
    const again = await connectAll(second.port);
    await until('the replayed replies', () => again.reduce((sum, p) => sum + p.replies.length, 0) >= unfinished.size, 15_000);
    await sleep(300);
    const replayed = again.flatMap(replied);
    expect(replayed.sort()).toEqual([...unfinished].sort());
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
    expect(journalRows(dbFile).filter((r) => r.state !== 'done')).toEqual([]);
  });
});
