// `npm run bench:startup`: how long the API and the worker take to start, and their resident memory once
// started, run from the compiled build (`node --conditions=ecodrix-dist dist/main.js`, what production
// runs) against the development way (`node --import tsx src/main.ts`). Against one embedded server;
// each variant started RUNS times, medians reported. Builds first (`npm run build`).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { startEmbeddedMongo } from "@ecodrix/test-kit";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const RUNS = Number(process.env.RUNS ?? 5);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

interface Variant {
  app: "api" | "worker";
  way: "dist" | "tsx";
}

async function startOnce(variant: Variant, env: NodeJS.ProcessEnv): Promise<{ ms: number; rss: number }> {
  const dir = path.join(root, "apps", variant.app);
  const args =
    variant.way === "dist"
      ? ["--conditions=ecodrix-dist", path.join(dir, "dist/main.js")]
      : ["--import", "tsx", path.join(dir, "src/main.ts")];
  const port = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: root,
    env: { ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${variant.app} (${variant.way}) exited:\n${output}`);
      if (Date.now() > deadline) throw new Error(`${variant.app} (${variant.way}) did not start:\n${output}`);
      if (variant.app === "api") {
        const ok = await fetch(`http://127.0.0.1:${port}/api/saas/health`).then(
          (response) => response.ok,
          () => false,
        );
        if (ok) break;
      } else if (output.includes('"msg":"worker started"')) break;
      await sleep(5);
    }
    const ms = performance.now() - started;
    await sleep(500);
    return { ms, rss: rssMb(child.pid!) };
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

console.log("building (npm run build)…");
execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });
const mongo = await startEmbeddedMongo();
const env: NodeJS.ProcessEnv = {
  ...process.env,
  MONGODB_URI: mongo.uri,
  SERVICES_DB_NAME: "startup_bench",
  CORE_API_TOKEN: randomBytes(24).toString("hex"),
  ENCRYPTION_KEY: randomBytes(32).toString("hex"),
  LOG_LEVEL: "info",
  NODE_ENV: "production",
};
const figures: Record<string, { start_ms: number; rss_mb: number }> = {};
try {
  for (const app of ["api", "worker"] as const) {
    for (const way of ["dist", "tsx"] as const) {
      const runs = [];
      for (let n = 0; n < RUNS; n++) runs.push(await startOnce({ app, way }, env));
      const row = {
        start_ms: Math.round(median(runs.map((run) => run.ms))),
        rss_mb: Math.round(median(runs.map((run) => run.rss))),
      };
      figures[`${app}_${way}`] = row;
      console.log(
        `${app.padEnd(6)} ${way.padEnd(4)}  start ${row.start_ms} ms  rss ${row.rss_mb} MB  (median of ${RUNS})`,
      );
    }
  }
} finally {
  await mongo.stop();
}
console.log(JSON.stringify(figures));
