import { Command, CommanderError } from 'commander';
import { SERVER_VERSION } from '../version.js';
import { addApprovalCommands } from './approval-commands.js';
import { addBackupCommand } from './backup-command.js';
import { addBanCommands } from './ban-commands.js';
import { addDoctorCommand } from './doctor-command.js';
import { EXIT_OK, EXIT_USAGE, processIo, reportFailure } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { addPluginCommands } from './plugin-command.js';
import { addReloadCommand } from './reload-command.js';
import { addScheduleCommands } from './schedule-commands.js';
import { addStartCommand } from './start-command.js';

function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('botbridge')
    .description('A plugin host that gives MessengerBot R KakaoTalk bots a reliable TCP backbone.')
    .version(SERVER_VERSION)
    // Set before the subcommands are added: commander copies both to every subcommand.
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  addStartCommand(program, setExitCode);
  addApprovalCommands(program, io);
  addPluginCommands(program, io);
  addBanCommands(program, io);
  addReloadCommand(program, io, setExitCode);
  addBackupCommand(program, io);
  addDoctorCommand(program, io, setExitCode);
  addScheduleCommands(program, io);
  return program;
}

/**
 * Runs the command line (`argv` as in process.argv) and resolves with the exit code. Never calls
 * process.exit: `botbridge start` resolves only once the server has stopped.
 */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let exitCode = EXIT_OK;
  try {
    await buildProgram(io, (code) => { exitCode = code; }).parseAsync(argv);
    return exitCode;
  } catch (error) {
    // Commander has already printed its message (usage errors) or the help text.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    return reportFailure(error, io);
  }
}
