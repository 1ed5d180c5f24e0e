// `npm start`: the whole product on one machine. With MONGODB_URI unset it starts the embedded
// MongoDB-compatible server (H2 file under .data/), then the API and one worker as separate
// processes. Ctrl-C (or SIGTERM) stops the API and worker gracefully, then the database.
// With ECODRIX_SANDBOX=true it also starts local fakes of every provider (Google, and whatever the
// registry in packages/test-kit/src/fakes/index.ts lists) and points the API and the worker at them.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureConsoleBuilt } from "@ecodrix/console";
import { type EmbeddedMongo, startEmbeddedMongo } from "@ecodrix/test-kit/embedded-mongo";
import { type Sandbox, sandboxFakes, startSandbox } from "@ecodrix/test-kit/fakes";
import { loadOrCreateDevEnv } from "./dev-env.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// ECODRIX_DATA_DIR moves the dev data (embedded database, generated secrets) elsewhere, e.g. for tests.
const dataDir = path.resolve(process.env.ECODRIX_DATA_DIR ?? path.join(root, ".data"));
const env: NodeJS.ProcessEnv = { ...process.env };
let embedded: EmbeddedMongo | undefined;
/** Set when the development secrets file supplied the admin token. */
let devEnvFile: string | undefined;

if (!env.MONGODB_URI) {
  if (!env.CORE_API_TOKEN || !env.ENCRYPTION_KEY) {
    const tokenFromFile = !env.CORE_API_TOKEN;
    const file = path.join(dataDir, "dev.env");
    const { values, created } = loadOrCreateDevEnv(file);
    if (tokenFromFile) devEnvFile = file;
    env.CORE_API_TOKEN ||= values.CORE_API_TOKEN;
    env.ENCRYPTION_KEY ||= values.ENCRYPTION_KEY;
    console.log(
      `${created ? "generated" : "using"} development CORE_API_TOKEN and ENCRYPTION_KEY in ${file}`,
    );
  }
  console.log("starting the embedded MongoDB-compatible server (first run fetches it with Maven)…");
  embedded = await startEmbeddedMongo({
    backend: "h2",
    file: path.join(dataDir, "mongo", "ecodrix.mv"),
    port: Number(env.EMBEDDED_MONGO_PORT ?? 0),
  });
  env.MONGODB_URI = embedded.uri;
  console.log(`embedded MongoDB at ${embedded.uri} (data in ${path.join(dataDir, "mongo")})`);
}

let sandbox: Sandbox | undefined;
if (env.ECODRIX_SANDBOX === "true") {
  sandbox = await startSandbox(sandboxFakes);
  // The fakes' settings win over the environment's: sandbox mode never reaches a real provider.
  Object.assign(env, sandbox.env);
}

const children = new Map<string, ChildProcess>();
let shuttingDown = false;

function launch(name: string, entry: string): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, entry)], {
    env,
    // The IPC channel lets the API and the worker notice when this process dies, even by SIGKILL.
    stdio: ["inherit", "inherit", "inherit", "ipc"],
  });
  children.set(name, child);
  child.on("exit", (code, signal) => {
    children.delete(name);
    if (!shuttingDown) {
      console.error(`${name} exited (${signal ?? code}); stopping everything`);
      void shutdown(1);
    } else if (children.size === 0) {
      void finish();
    }
  });
  return child;
}

let exitCode = 0;
let finishing: Promise<void> | undefined;
function finish(): Promise<void> {
  finishing ??= (async () => {
    await sandbox?.stop();
    await embedded?.stop();
    process.exit(exitCode);
  })();
  return finishing;
}

async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  exitCode = code;
  if (children.size === 0) return finish();
  for (const child of children.values()) child.kill("SIGTERM");
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
// `kill <npm's pid>` ends npm without passing the signal on: when we are orphaned, stop everything too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void shutdown(0);
}, 1_000).unref();

// The ops console is served by the API from its Vite build: build it when the sources are newer.
try {
  if (await ensureConsoleBuilt()) console.log("built the ops console (apps/console/dist/web)");
} catch (error) {
  console.error(`the ops console could not be built, /console answers 503: ${(error as Error).message}`);
}

launch("api", "apps/api/src/main.ts");
launch("worker", "apps/worker/src/main.ts");

const port = env.PORT ?? "3000";
console.log(`ECODrIx API: http://localhost:${port}  (health: http://localhost:${port}/api/saas/health)`);
console.log(`ops console: http://localhost:${port}/console/  (sign in with the admin token)`);
console.log(
  devEnvFile
    ? `admin token (x-core-api-key): CORE_API_TOKEN in ${devEnvFile}`
    : "admin token (x-core-api-key): the CORE_API_TOKEN you set",
);
if (sandbox) {
  console.log("sandbox mode: every provider is a local fake; nothing leaves this machine");
  for (const fake of sandbox.fakes) for (const note of fake.notes) console.log(`  ${note}`);
  console.log(
    `  captured messages: curl http://localhost:${port}/api/sandbox/outbox -H "x-core-api-key: $ADMIN_KEY"`,
  );
}
console.log(`Ctrl-C stops the API, the worker${sandbox ? ", the fakes" : ""} and the database.`);
