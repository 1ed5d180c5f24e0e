// `npm start`: the whole product on one machine. With MONGODB_URI unset it starts the embedded
// MongoDB-compatible server (H2 file under .data/), then the API and one worker as separate
// processes. A crashed API or worker is restarted with a back-off; if the embedded database dies,
// everything stops. Ctrl-C (or SIGTERM) stops the API and worker gracefully, then the database.
// With ECODRIX_SANDBOX=true it also starts local fakes of every provider (Google, and whatever the
// registry in packages/test-kit/src/fakes/index.ts lists) and points the API and the worker at them.
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureConsoleBuilt } from "@ecodrix/console";
import { type EmbeddedMongo, startEmbeddedMongo } from "@ecodrix/test-kit/embedded-mongo";
import { type Sandbox, sandboxFakes, startSandbox } from "@ecodrix/test-kit/fakes";
import { loadOrCreateDevEnv } from "./dev-env.js";
import { type RestartPolicy, restartDelayMs } from "./restart-policy.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// ECODRIX_DATA_DIR moves the dev data (embedded database, generated secrets) elsewhere, e.g. for tests.
const dataDir = path.resolve(process.env.ECODRIX_DATA_DIR ?? path.join(root, ".data"));
const env: NodeJS.ProcessEnv = { ...process.env };
let embedded: EmbeddedMongo | undefined;
/** Set when the development secrets file supplied the admin token. */
let devEnvFile: string | undefined;

/** Restart a crashed API or worker after 1 s, 2 s, 4 s … up to 30 s; give up after 5 quick crashes. */
const restartPolicy: RestartPolicy = {
  initialMs: 1_000,
  maxMs: 30_000,
  stableAfterMs: 30_000,
  maxQuickCrashes: 5,
};

if (!env.MONGODB_URI) {
  // The data directory holds the admin token, the encryption key and job payloads: owner only,
  // including a directory an earlier version created with the umask's 0755.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
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

interface Service {
  name: string;
  entry: string;
  child?: ChildProcess;
  startedAt: number;
  /** Crashes in a row, each soon after its start; reset by a run longer than stableAfterMs. */
  quickCrashes: number;
  restartTimer?: NodeJS.Timeout;
}

const services: Service[] = [
  { name: "api", entry: "apps/api/src/main.ts", startedAt: 0, quickCrashes: 0 },
  { name: "worker", entry: "apps/worker/src/main.ts", startedAt: 0, quickCrashes: 0 },
];
let shuttingDown = false;

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

function launch(service: Service): void {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, service.entry)], {
    env,
    // The IPC channel lets the API and the worker notice when this process dies, even by SIGKILL.
    stdio: ["inherit", "inherit", "inherit", "ipc"],
  });
  service.child = child;
  service.startedAt = Date.now();
  child.on("exit", (code, signal) => {
    service.child = undefined;
    if (shuttingDown) {
      if (services.every((s) => !s.child)) void finish();
      return;
    }
    const ranMs = Date.now() - service.startedAt;
    service.quickCrashes = ranMs >= restartPolicy.stableAfterMs ? 1 : service.quickCrashes + 1;
    const delayMs = restartDelayMs(restartPolicy, service.quickCrashes);
    if (delayMs === undefined) {
      console.error(
        `${service.name} exited (${describeExit(code, signal)}) ${service.quickCrashes} times in a row, ` +
          `each within ${restartPolicy.stableAfterMs / 1_000} s of starting; stopping everything`,
      );
      void shutdown(1);
      return;
    }
    console.error(
      `${service.name} exited (${describeExit(code, signal)}); restarting it in ${delayMs / 1_000} s`,
    );
    service.restartTimer = setTimeout(() => {
      service.restartTimer = undefined;
      if (shuttingDown) return;
      launch(service);
      console.error(`${service.name} restarted (pid ${service.child?.pid})`);
    }, delayMs);
  });
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

/**
 * Stops the API and the worker (SIGTERM: they drain), then the database. `forceAfterMs` bounds the
 * wait: when the database is already gone, their graceful paths can only time out against it.
 */
async function shutdown(code: number, forceAfterMs?: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  exitCode = code;
  for (const service of services) clearTimeout(service.restartTimer);
  const running = services.flatMap((s) => (s.child ? [s.child] : []));
  if (running.length === 0) return finish();
  for (const child of running) child.kill("SIGTERM");
  if (forceAfterMs !== undefined) {
    setTimeout(() => {
      for (const child of running)
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }, forceAfterMs).unref();
  }
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

if (embedded) {
  const dataPath = path.join(dataDir, "mongo");
  void embedded.exited.then(({ code, signal }) => {
    if (finishing) return; // stopped by us
    console.error(
      `the embedded database exited (${describeExit(code, signal)}); stopping the API and the worker. ` +
        `Its data is kept in ${dataPath}: run npm start again.`,
    );
    void shutdown(1, 5_000);
  });
}

for (const service of services) launch(service);

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
