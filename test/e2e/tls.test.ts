import { execFileSync } from 'node:child_process';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { analyzeLine, echoPlugin, handshakeLine, signedAnalyze, useBridges } from './helpers.js';

/**
 * Issue 13, finding 8: an optional TLS port beside the plain one, same pipeline, hot-reloadable
 * certificate. node:crypto cannot make an X.509 certificate, so the test makes a self-signed one
 * with the openssl binary, and is skipped (with the reason) where there is none.
 */

const { bridge, tempDir } = useBridges();

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', key, '-out', cert], { stdio: 'ignore', timeout: 10_000 });
  return { cert, key };
}

/** A TLS client speaking raw protocol lines; `lines()` waits for the next `count` lines. */
async function tlsPhone(port: number): Promise<{ socket: TLSSocket; next: () => Promise<Record<string, unknown>> }> {
  const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffer = '';
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else queue.push(line);
    }
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no line within 5 s')), 5_000);
      const take = (line: string) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      };
      const queued = queue.shift();
      if (queued !== undefined) take(queued);
      else waiting.push(take);
    });
  return { socket, next };
}

describe.skipIf(!hasOpenssl())('TLS listener (needs the openssl binary to make a test certificate)', () => {
  it('speaks the same protocol over TLS, and serves a renewed certificate to new connections without a restart', async () => {
    const dir = await tempDir();
    const first = selfSigned(dir, 'first');
    const t = await bridge({ plugins: [echoPlugin], autoApprove: true, captureLogs: true, config: { listen: { tls: { port: 0, ...first, reloadMs: 100 } } } });
    const port = t.bridge.tlsAddress!.port;
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(t.port);

    const phone = await tlsPhone(port);
    defer(phone.socket);
    phone.socket.write(handshakeLine());
    expect(await phone.next()).toMatchObject({ event: 'handshakeComplete', data: { success: true } });
    phone.socket.write(analyzeLine(signedAnalyze({ text: 'over tls' })));
    expect(await waitForEvent(phone, 'messageResponse')).toMatchObject({ data: { text: '에코: over tls' } });
    // The wrapped socket still reports its peer: caps and bans by address apply to TLS clients too.
    expect(t.bridge.clients()[0]?.remoteAddress).toMatch(/127\.0\.0\.1$/);
    const firstPrint = phone.socket.getPeerCertificate().fingerprint256;

    const second = selfSigned(dir, 'second');
    await rename(second.key, first.key);
    await rename(second.cert, first.cert);
    await t.waitForLog('TLS certificate reloaded');
    const renewed = await tlsPhone(port);
    defer(renewed.socket);
    expect(renewed.socket.getPeerCertificate().fingerprint256).not.toBe(firstPrint);
    expect(renewed.socket.getPeerCertificate().subject.CN).toBe('second');
    // The connection accepted before the renewal is unaffected.
    phone.socket.write(analyzeLine(signedAnalyze({ text: 'still here' })));
    expect(await waitForEvent(phone, 'messageResponse')).toMatchObject({ data: { text: '에코: still here' } });
  });
});

describe.skipIf(!hasOpenssl())('listeners: several ports, TLS certificates swapped by a reload', () => {
  it('serves the same pipeline on every listener; `reload` swaps the certificate for new connections while an old one stays open', async () => {
    const dir = await tempDir();
    const first = selfSigned(dir, 'first');
    // No polling within the test (reloadMs an hour): only the reload can pick the new pair up.
    const listeners = [{ port: 0 }, { port: 0, tls: { ...first, reloadMs: 3_600_000 } }, { port: 0, host: '127.0.0.1' }];
    const t = await bridge({ plugins: [echoPlugin], autoApprove: true, captureLogs: true, config: { listeners } });
    const addresses = t.bridge.listenerAddresses;
    expect(addresses.map((a) => a.tls)).toEqual([false, true, false]);
    expect(new Set(addresses.map((a) => a.port)).size).toBe(3);
    expect(t.port).toBe(addresses[0]!.port);
    expect(t.bridge.tlsAddress?.port).toBe(addresses[1]!.port);

    const old = await tlsPhone(addresses[1]!.port);
    defer(old.socket);
    old.socket.write(handshakeLine());
    expect(await old.next()).toMatchObject({ event: 'handshakeComplete', data: { success: true } });
    expect(old.socket.getPeerCertificate().subject.CN).toBe('first');

    // The renewal lands in place (same paths), then the operator runs `botbridge reload`.
    const second = selfSigned(dir, 'second');
    await rename(second.key, first.key);
    await rename(second.cert, first.cert);
    const report = await t.bridge.reload({ plugins: [echoPlugin], listeners, store: { url: t.storeUrl }, approval: { autoApprove: true }, log: { level: 'silent' } });
    expect(report).toMatchObject({ ok: true, files: { certificates: 1, secretsFile: false } });
    const renewed = await tlsPhone(addresses[1]!.port);
    defer(renewed.socket);
    expect(renewed.socket.getPeerCertificate().subject.CN).toBe('second');
    renewed.socket.write(handshakeLine(undefined, 'renewed-device'));
    expect(await renewed.next()).toMatchObject({ event: 'handshakeComplete', data: { success: true } });

    // The connection made before the reload is still open and served, with its old certificate.
    expect(old.socket.destroyed).toBe(false);
    expect(old.socket.getPeerCertificate().subject.CN).toBe('first');
    old.socket.write(analyzeLine(signedAnalyze({ text: 'still here' })));
    expect(await waitForEvent(old, 'messageResponse')).toMatchObject({ data: { text: '에코: still here' } });
    // A pair that fails to load keeps the one in use.
    await rename(join(dir, 'first.key'), join(dir, 'gone.key'));
    expect((await t.bridge.reload({ plugins: [echoPlugin], listeners, store: { url: t.storeUrl }, approval: { autoApprove: true }, log: { level: 'silent' } })).files).toEqual({ certificates: 0, secretsFile: false });
    await t.waitForLog(/^TLS certificate not reloaded/);
    const after = await tlsPhone(addresses[1]!.port);
    defer(after.socket);
    expect(after.socket.getPeerCertificate().subject.CN).toBe('second');
  });

  it('refuses listeners together with listen.tls (its shorthand)', async () => {
    const dir = await tempDir();
    const pair = selfSigned(dir, 'x');
    await expect(bridge({ plugins: [echoPlugin], config: { listeners: [{ port: 0 }], listen: { tls: { port: 0, ...pair } } } })).rejects.toThrow(/listeners or listen\.tls/);
  });
});

const sockets: TLSSocket[] = [];
function defer(socket: TLSSocket): void {
  sockets.push(socket);
  socket.on('close', () => sockets.splice(sockets.indexOf(socket), 1));
}
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

async function waitForEvent(phone: { next: () => Promise<Record<string, unknown>> }, event: string): Promise<Record<string, unknown>> {
  for (;;) {
    const packet = await phone.next();
    if (packet.event === event) return packet;
  }
}
