import { spawn } from 'node:child_process';
import { followServer, type RunningServer } from './example-process.js';

/**
 * Spawns any command that ends up running `botbridge start` (node on the bin, `npm start`,
 * `npx botbridge start`) with JSON logs on stdout, and waits for its "listening" line. The
 * child is its own process group leader, so `killTree` can stop every process it started
 * in every outcome.
 */
export async function spawnLogged(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): Promise<RunningServer & { killTree(): void }> {
  const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killTree = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  try {
    return { ...(await followServer(child)), killTree };
  } catch (error) {
    killTree();
    throw error;
  }
}
