import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

const javaDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../java");
const targetDir = path.join(javaDir, "target");
const launcherJar = path.join(targetDir, "embedded-mongo.jar");
const launcherSources = path.join(javaDir, "src/main/java/com/ecodrix/embeddedmongo");
const pom = path.join(javaDir, "pom.xml");

export interface EmbeddedMongo {
  /** `mongodb://127.0.0.1:<port>` */
  readonly uri: string;
  readonly pid: number | undefined;
  /** Settles when the Java process exits, for whatever reason (stop(), a crash, a SIGKILL). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops the server and waits for the Java process to exit. Safe to call twice. */
  stop(): Promise<void>;
}

export interface EmbeddedMongoOptions {
  /** `memory` (tests) or `h2` (a file, for `npm start`). Default `memory`. */
  backend?: "memory" | "h2";
  /** H2 database file; required with `backend: "h2"`. */
  file?: string;
  /**
   * h2 only. `commit` (default): every write is committed to the file before it is acknowledged, so
   * a SIGKILL loses no acknowledged write. `fsync`: also fsync'ed, so an OS crash loses none either
   * (slower). `deferred`: H2's own background commit about once a second (loses the last second of
   * writes when killed; kept to measure what the others cost).
   */
  durability?: "commit" | "fsync" | "deferred";
  /** 0 (default) picks a free port. */
  port?: number;
  /** How long to wait for the server to print READY. Default 60 s (the first start may compile). */
  startTimeoutMs?: number;
}

function isBuilt(): boolean {
  if (!existsSync(launcherJar) || !existsSync(path.join(targetDir, "lib"))) return false;
  const built = statSync(launcherJar).mtimeMs;
  const sources = readdirSync(launcherSources).map((name) => path.join(launcherSources, name));
  return [pom, ...sources].every((file) => statSync(file).mtimeMs <= built);
}

/**
 * Builds the launcher jar and fetches mongo-java-server and its dependencies from Maven Central
 * (once; later calls return at once). Needs `mvn` and Java 17+ on PATH.
 */
export async function ensureEmbeddedMongoBuilt(): Promise<void> {
  if (isBuilt()) return;
  try {
    await execFileAsync("mvn", ["-q", "-B", "-f", pom, "package"], { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const detail =
      error instanceof Error && "stdout" in error ? String(error.stdout).slice(-2000) : String(error);
    throw new Error(
      `building the embedded MongoDB server with Maven failed (mvn -f ${pom} package):\n${detail}`,
    );
  }
}

async function classPath(): Promise<string> {
  const jars = (await readdir(path.join(targetDir, "lib"))).filter((name) => name.endsWith(".jar"));
  return [launcherJar, ...jars.map((name) => path.join(targetDir, "lib", name))].join(path.delimiter);
}

/**
 * Starts mongo-java-server in a child Java process. The child holds our stdin pipe and exits when it
 * closes, so it dies with this process even on SIGKILL.
 */
export async function startEmbeddedMongo(options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  await ensureEmbeddedMongoBuilt();
  const backend = options.backend ?? "memory";
  const args = [
    "-Xss512k",
    "-XX:+UseSerialGC",
    "-cp",
    await classPath(),
    "com.ecodrix.embeddedmongo.EmbeddedMongo",
  ];
  args.push("--port", String(options.port ?? 0), "--backend", backend);
  if (backend === "h2") {
    if (!options.file) throw new Error("startEmbeddedMongo: backend h2 needs a file");
    // The database holds job payloads and results: its directory is private to the owner.
    const dir = path.dirname(options.file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    args.push("--file", options.file, "--durability", options.durability ?? "commit");
  }
  const child = spawn("java", args, { stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const uri = await waitForReady(child, options.startTimeoutMs ?? 60_000);
  let stopped: Promise<void> | undefined;
  return {
    uri,
    pid: child.pid,
    exited,
    stop() {
      stopped ??= stopChild(child);
      return stopped;
    },
  };
}

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => fail(new Error(`embedded MongoDB did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /READY (\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        resolve(match[1]);
      }
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${error.message}\n${output.slice(-2000)}`));
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", (error) => fail(new Error(`could not run java: ${error.message}`)));
    child.once("exit", (code) =>
      fail(new Error(`embedded MongoDB exited with code ${code} before it was ready`)),
    );
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.end();
  });
}
