// `npm run cli -- <command> …` (or `ecodrix <command> …`): operations commands. `clients …` talks to the
// admin API over HTTP; `jobs …` and `encryption …` work on MONGODB_URI directly.
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CliIo } from "./command.js";
import { runCli } from "./program.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const io: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTty: Boolean(process.stdout.isTTY),
  stdout: process.stdout,
  stdin: process.stdin,
};

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  io,
  defaultDataDir: path.join(root, ".data"),
});
