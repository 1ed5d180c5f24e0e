// `npm run cli -- <command> …` (or `ecodrix <command> …`): operations commands against any MONGODB_URI.
import { loadConfig } from "@ecodrix/platform";
import type { CliIo } from "./command.js";
import { commands } from "./commands/index.js";

const io: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTty: Boolean(process.stdout.isTTY),
};

function help(): void {
  io.out("usage: ecodrix <command> [args]\n");
  for (const command of commands) io.out(`  ${command.usage.padEnd(44)} ${command.summary}`);
}

const argv = process.argv.slice(2);
// Longest name first, so `jobs stuck` wins over a hypothetical `jobs`.
const command = [...commands]
  .sort((a, b) => b.name.split(" ").length - a.name.split(" ").length)
  .find((candidate) => candidate.name.split(" ").every((word, index) => argv[index] === word));

if (!command || argv.includes("--help")) {
  help();
  process.exit(command || argv.length === 0 || argv.includes("--help") ? 0 : 2);
}

try {
  const args = argv.slice(command.name.split(" ").length);
  process.exitCode = await command.run(args, {
    env: process.env,
    io,
    loadConfig: () => loadConfig(process.env),
  });
} catch (error) {
  io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
