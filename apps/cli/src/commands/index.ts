import type { CommandGroup } from "../command.js";
import { clientsCommands } from "./clients-commands.js";
import { completionCommands } from "./completion-commands.js";
import { encryptionCommands } from "./encryption-commands.js";
import { jobsCommands } from "./jobs-commands.js";
import { tenantsCommands } from "./tenants-commands.js";

/** Every command area, in the order `ecodrix --help` lists them. Add a file and list it here. */
export const commandGroups: CommandGroup[] = [
  clientsCommands,
  jobsCommands,
  encryptionCommands,
  tenantsCommands,
  completionCommands,
];
