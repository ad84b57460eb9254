// The contract between `edgecap` and its command modules.
// Exit codes (documented in the README): 0 success, 1 the command ran but the data was invalid or
// a check failed, 2 invalid usage, 3 an internal error.

export interface Command {
  /** One line for `edgecap --help`. */
  summary: string;
  /** Full usage text for `edgecap <command> --help`. */
  usage: string;
  /** Runs the command and resolves to its exit code. */
  run(argv: string[]): Promise<number>;
}

export const EXIT_OK = 0;
export const EXIT_DATA_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 3;

/** Thrown by commands for invalid arguments; main prints the message and the command's usage. */
export class UsageError extends Error {}
