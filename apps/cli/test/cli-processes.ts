// Test support (apps/cli/test, not shipped): the real CLI and the real API as child processes. Not a *.test.ts file: no tests here.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `ecodrix <args>` as its own process, with exactly `env` (plus PATH and HOME) and `stdin` piped in. */
export function runCliProcess(args: string[], env: Record<string, string>, stdin = ""): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(root, "apps/cli/src/main.ts"), ...args],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += String(chunk);
    });
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

export interface ApiProcess {
  url: string;
  /** Everything the API process printed (its JSON log lines). */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * `apps/api/src/main.ts` as its own process on port 0 of 127.0.0.1, as `npm start` runs it; the URL
 * is read from Fastify's "Server listening at …" log line. The IPC channel stops it if the test
 * process dies.
 */
export function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      ["--import", "tsx", path.join(root, "apps/api/src/main.ts")],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", ...env },
        stdio: ["ignore", "pipe", "pipe", "ipc"],
      },
    );
    let output = "";
    let started = false;
    const exited = new Promise<void>((done) => child.once("exit", () => done()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the API did not start within 60 s:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1] && !started) {
        started = true;
        clearTimeout(timer);
        resolve({
          url: match[1],
          logs: () => output,
          async stop() {
            child.kill("SIGTERM");
            await exited;
          },
        });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`the API exited (${code}) before listening:\n${output}`));
      }
    });
  });
}
