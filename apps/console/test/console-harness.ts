// Test support for the console's browser tests: the real API on a port-0 socket over a fresh test
// database, a real worker on the same queue, and Debian's Chromium driven by playwright-core.
// Not a *.test.ts file: no tests here.
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { ADMIN_TOKEN, startTestApi, type TestApi } from "@ecodrix/api/test-app";
import { createLogger, loadConfig } from "@ecodrix/platform";
import { createQueue } from "@ecodrix/queue";
import { buildWorker, type Worker } from "@ecodrix/worker";
import { type Browser, chromium } from "playwright-core";
import { ensureConsoleBuilt } from "../src/console-assets.js";

const CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser"];

/** Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it), or CHROMIUM_PATH. */
export function chromiumPath(): string {
  const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : CHROMIUM_CANDIDATES;
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error(
      `Chromium not found (looked at ${candidates.join(", ")}): apt-get install -y chromium, or set CHROMIUM_PATH`,
    );
  }
  return found;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root in CI containers has no user namespaces for Chromium's sandbox.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
}

const silent = () =>
  new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });

export interface ConsoleStack {
  api: TestApi;
  /** http://127.0.0.1:<port> */
  url: string;
  startWorker(): void;
  close(): Promise<void>;
}

/** The console's build, the API listening on port 0 and a worker (started on demand) on its queue. */
export async function startConsoleStack(): Promise<ConsoleStack> {
  await ensureConsoleBuilt();
  const api = await startTestApi();
  await api.app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = api.app.server.address() as AddressInfo;
  const queue = createQueue({ db: api.db });
  let worker: Worker | undefined;
  return {
    api,
    url: `http://127.0.0.1:${port}`,
    startWorker() {
      // Configured from the environment as the worker process is, on the API's test database.
      const config = loadConfig({
        NODE_ENV: "test",
        MONGODB_URI: api.mongo.uri,
        SERVICES_DB_NAME: api.mongo.dbName,
        CORE_API_TOKEN: ADMIN_TOKEN,
        ENCRYPTION_KEY: api.keys[0]!.toString("hex"),
        WORKER_CONCURRENCY: "2",
        WORKER_POLL_MIN_MS: "20",
        WORKER_POLL_MAX_MS: "200",
        WORKER_SHUTDOWN_TIMEOUT_MS: "2000",
        JOB_RETENTION_DAYS: "0",
      });
      worker = buildWorker({
        config,
        logger: createLogger({ level: "warn", name: "console-test-worker", destination: silent() }),
        db: api.db,
        queue,
        schedules: [],
      });
      worker.start();
    },
    async close() {
      await worker?.stop();
      await api.close();
    },
  };
}
