import type { Config } from "@ecodrix/platform";

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** True when stdout is a terminal (progress bars, colours). */
  isTty: boolean;
}

export interface CliCommand {
  /** e.g. `jobs stats` */
  name: string;
  usage: string;
  summary: string;
  /** Returns the process exit code. */
  run(
    args: string[],
    context: { env: NodeJS.ProcessEnv; io: CliIo; loadConfig: () => Config },
  ): Promise<number>;
}
