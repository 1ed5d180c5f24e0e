import type { Command } from "commander";

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** True when stdout is a terminal (progress bars). */
  isTty: boolean;
  /** The raw streams, for what whole lines cannot do: redrawing a progress bar, reading a piped secret. */
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

/** What every command gets: the environment (read here, never from `process.env`) and the terminal. */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  io: CliIo;
  /** Where the development secrets of `npm start` live when ECODRIX_DATA_DIR is unset: `<repo>/.data`. */
  defaultDataDir: string;
}

/** A command area (`jobs`, `clients` …) adds its commands to the program. */
export type CommandGroup = (program: Command, context: CliContext) => void;

/** A failure with a message fit to print as is, and the exit code that goes with it. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Wrong use of a command (exit 2); printed with the command's usage line. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}
