import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBridgeClient } from '@botbridge/testing';

/**
 * SIGKILL with messages in flight, then a restart on the same SQLite file (docs/architecture.md,
 * "Journal"): every message whose admission was committed is answered exactly once over both
 * runs, except the ones whose done mark fell in the last group-commit window (answered before
 * the kill and again by the replay); resent lines are not processed again; replayed replies keep
 * room order. The test prints what fell in the window.
 */

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'core/bin/botbridge.js');
const PHONES = 5;
const PER_PHONE = 40;

interface Started {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exit: Promise<unknown>;
}

async function startProcess(dbFile: string): Promise<Started> {
  const child = spawn(process.execPath, [bin, 'start', '--config', 'test/fixtures/journal-crash.config.ts', '--port', '0', '--store', `sqlite:${dbFile}`, '--auto-approve'], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanup.push(async () => {
    child.kill('SIGKILL');
    await exit;
  });
  const exit = new Promise((resolve) => child.on('exit', resolve));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 15 s; stderr: ${stderr}`)), 15_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === 'botbridge listening') {
          clearTimeout(timer);
          resolve(entry.port as number);
        }
      } catch {
        // not a log line
      }
    });
    void exit.then((code) => reject(new Error(`exited with ${String(code)} before listening; stderr: ${stderr}`)));
  });
  return { child, port, exit };
}

function journalRows(dbFile: string): { log_id: string; state: string }[] {
  const db = new Database(dbFile, { readonly: true });
  try {
    return db.prepare('select log_id, state from botbridge_journal').all() as { log_id: string; state: string }[];
  } finally {
    db.close();
  }
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  cleanup = [];
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('journal: SIGKILL and restart (a real process)', () => {
  it('answers every committed admission exactly once across the crash, except the documented window', { timeout: 30_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'botbridge-crash-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const dbFile = join(dir, 'bridge.db');
    const logIdOf = (phone: number, seq: number) => String(5_000_000 + phone * 1_000 + seq);
    const answers = new Map<string, number>();
    const count = (text: string) => {
      const logId = text.replace('echo ', '');
      answers.set(logId, (answers.get(logId) ?? 0) + 1);
    };

    const first = await startProcess(dbFile);
    const phones = await Promise.all(Array.from({ length: PHONES }, async (_, p) => {
      const phone = await FakeBridgeClient.connect({ port: first.port, botName: 'crash-bot', deviceId: `dev-${p}` });
      cleanup.push(() => phone.close());
      await phone.handshake;
      return phone;
    }));
    const sent: string[] = [];
    // Paced sending; the kill comes once half the messages were answered, so some are queued,
    // running and being answered at that moment.
    let killed = false;
    for (let seq = 0; seq < PER_PHONE && !killed; seq += 1) {
      for (const [p, phone] of phones.entries()) {
        phone.analyze({ text: `m${seq}`, logId: logIdOf(p, seq), channelId: String(100 + p), room: `room-${p}` });
        sent.push(logIdOf(p, seq));
      }
      await sleep(5);
      if (phones.reduce((sum, ph) => sum + ph.replies.length, 0) >= (PHONES * PER_PHONE) / 2) killed = true;
    }
    first.child.kill('SIGKILL');
    await first.exit;
    const before = phones.map((ph) => ph.replies.map((r) => r.text));
    for (const texts of before) texts.forEach(count);
    const atKill = journalRows(dbFile);
    const pendingAtKill = atKill.filter((r) => r.state === 'admitted').map((r) => r.log_id);
    expect(pendingAtKill.length).toBeGreaterThan(0);

    const second = await startProcess(dbFile);
    const again = await Promise.all(Array.from({ length: PHONES }, async (_, p) => {
      const phone = await FakeBridgeClient.connect({ port: second.port, botName: 'crash-bot', deviceId: `dev-${p}` });
      cleanup.push(() => phone.close());
      await phone.handshake;
      return phone;
    }));
    // Replay is done when no journaled row is left unanswered (done marks follow the replies).
    for (let i = 0; journalRows(dbFile).some((r) => r.state === 'admitted'); i += 1) {
      if (i > 200) throw new Error('replay did not finish within 10 s');
      await sleep(50);
    }
    // A resend of each phone's first line (answered and committed long before the kill) is a
    // duplicate; the fresh line after it, in the same room, is the next reply.
    for (const [p, phone] of again.entries()) {
      phone.analyze({ text: 'm0', logId: logIdOf(p, 0), channelId: String(100 + p), room: `room-${p}` });
      phone.analyze({ text: 'fresh', logId: logIdOf(p, 999), channelId: String(100 + p), room: `room-${p}` });
    }
    await Promise.all(again.map((phone, p) => phone.waitForReplies(
      pendingAtKill.filter((id) => Math.floor((Number(id) - 5_000_000) / 1_000) === p).length + 1, 10_000,
    )));
    for (const [p, phone] of again.entries()) {
      const texts = phone.replies.map((r) => r.text);
      expect(texts.at(-1)).toBe(`echo ${logIdOf(p, 999)}`);
      // Replayed replies keep room order (log ids of one room grow with send order).
      const replayed = texts.slice(0, -1).map((t) => Number(t.replace('echo ', '')));
      expect(replayed).toEqual([...replayed].sort((a, b) => a - b));
      texts.slice(0, -1).forEach(count);
    }

    const journaled = new Set(atKill.map((r) => r.log_id));
    const committedLost = [...journaled].filter((id) => (answers.get(id) ?? 0) === 0);
    const duplicated = [...answers].filter(([, n]) => n > 1).map(([id]) => id);
    const unjournaledUnanswered = sent.filter((id) => !journaled.has(id) && (answers.get(id) ?? 0) === 0);
    console.log(JSON.stringify({
      sent: sent.length, answeredBeforeKill: before.flat().length, pendingAtKill: pendingAtKill.length,
      replayed: pendingAtKill.length, duplicated: duplicated.length, lostInWindowOrUnread: unjournaledUnanswered.length,
    }));
    expect(committedLost).toEqual([]);
    // A duplicate is a message answered before the kill whose done mark had not been committed.
    for (const id of duplicated) {
      expect(answers.get(id)).toBe(2);
      expect(pendingAtKill).toContain(id);
    }
    expect([...answers.values()].every((n) => n <= 2)).toBe(true);
  });
});
