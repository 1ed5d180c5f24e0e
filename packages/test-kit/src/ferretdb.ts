import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const compatScripts = path.join(repoRoot, "scripts/compat");

export interface FerretDb {
  /** `mongodb://127.0.0.1:<port>` */
  readonly uri: string;
  /** False when an instance was already running (then stop() leaves it running). */
  readonly startedHere: boolean;
  stop(): Promise<void>;
}

/** Where scripts/compat/start-ferretdb.sh keeps its data and writes the URI. */
export function ferretDbDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.ECODRIX_DATA_DIR ?? path.join(repoRoot, ".data"), "ferretdb");
}

function answers(uri: string, timeoutMs = 1_000): Promise<boolean> {
  const { hostname, port } = new URL(uri);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** The URI of the FerretDB that start-ferretdb.sh left running, if it still answers. */
export async function runningFerretDbUri(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const file = path.join(ferretDbDataDir(env), "uri");
  if (!existsSync(file)) return undefined;
  const uri = readFileSync(file, "utf8").trim();
  return uri && (await answers(uri)) ? uri : undefined;
}

async function runScript(name: string, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await execFileAsync(path.join(compatScripts, name), [], { env, timeout: 180_000 });
    return stdout;
  } catch (error) {
    const stderr = typeof error === "object" && error && "stderr" in error ? String(error.stderr).trim() : "";
    throw new Error(`scripts/compat/${name} failed${stderr ? `:\n${stderr}` : `: ${String(error)}`}`);
  }
}

/**
 * FerretDB 2 over PostgreSQL + DocumentDB, the second test backend (see scripts/compat/README.md):
 * the instance already running under .data/ferretdb/ if there is one, else one started with
 * scripts/compat/start-ferretdb.sh (installed beforehand by install-ferretdb.sh). stop() stops only
 * what this call started.
 */
export async function startFerretDb(env: NodeJS.ProcessEnv = process.env): Promise<FerretDb> {
  const running = await runningFerretDbUri(env);
  if (running) return { uri: running, startedHere: false, stop: async () => {} };
  const uri = (await runScript("start-ferretdb.sh", env)).trim().split("\n").pop() ?? "";
  if (!uri.startsWith("mongodb://"))
    throw new Error(`start-ferretdb.sh printed no MongoDB URI (got "${uri}")`);
  let stopped = false;
  return {
    uri,
    startedHere: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      await runScript("stop-ferretdb.sh", env);
    },
  };
}
