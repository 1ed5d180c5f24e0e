import type { CliCommand } from "../command.js";
import { encryptionCommands } from "./encryption-commands.js";
import { jobsCommands } from "./jobs-commands.js";

/** Every CLI command, in one table. Add a command file and spread its commands here. */
export const commands: CliCommand[] = [...encryptionCommands, ...jobsCommands];
