import { IpcChannel } from '../ipc/channel.js';
import { runChurnTask } from './churn-run.js';
import { runIdleTask } from './idle-run.js';
import { runLoadTask } from './load-run.js';
import type { TaskMessage } from './messages.js';

/**
 * A generator worker process: takes one task from the coordinator, runs it, exits. Several
 * workers can share a scenario so that the generator is not the bottleneck; each reports its
 * own CPU time. It exits when the coordinator goes away.
 */
const channel = new IpcChannel(process, 'generator');
process.on('disconnect', () => process.exit(0));
const { task } = await channel.next<TaskMessage>('task');
try {
  if (task.type === 'load') await runLoadTask(task, channel);
  else if (task.type === 'idle') await runIdleTask(task, channel);
  else await runChurnTask(task, channel);
  process.exit(0);
} catch (error) {
  process.stderr.write(`generator worker failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
}
