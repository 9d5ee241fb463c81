import { BridgeError } from '../errors.js';

/** Where a command writes. Injected so a caller (or a test) can capture the output. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

export const EXIT_OK = 0;
/** A failure the operator can act on (missing device, unreachable store, bad config). */
export const EXIT_FAILURE = 1;
/** The command line itself is wrong (unknown command or option, invalid value). */
export const EXIT_USAGE = 2;

/** An expected failure: printed as one line, never with a stack trace. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Prints a failure and returns the exit code: expected failures briefly, surprises with their stack. */
export function reportFailure(error: unknown, io: CliIo): number {
  if (error instanceof CliError) {
    io.err(`botbridge: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof BridgeError) {
    io.err(`botbridge: ${error.message} (${error.code})\n`);
    return EXIT_FAILURE;
  }
  io.err(`botbridge: unexpected error\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT_FAILURE;
}
