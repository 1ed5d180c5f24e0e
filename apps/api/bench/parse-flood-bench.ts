// Health latency while unauthenticated clients flood the API with deeply nested JSON bodies sent to an
// unknown route: 10 keep-alive connections, each sending a 98 KB body nested 49,000 levels deep, one
// request after another. The API runs as its own process (the real entry point, `src/main.ts`) against
// an embedded MongoDB-compatible server, so the load generator never shares its event loop.
//
//   node --import tsx apps/api/bench/parse-flood-bench.ts        (or: npm run bench:flood -w @ecodrix/api)
//
// The last line is one JSON object: health p50/p95 idle and under the flood, and what the flood got.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Agent, request } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startEmbeddedMongo } from "@ecodrix/test-kit";

const CONNECTIONS = Number(process.env.FLOOD_CONNECTIONS ?? 10);
const DEPTH = Number(process.env.FLOOD_DEPTH ?? 49_000);
const SAMPLES = Number(process.env.HEALTH_SAMPLES ?? 100);
const FLOOD_PATH = process.env.FLOOD_PATH ?? "/api/nope";

const apiMain = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src/main.ts");

function startApi(mongoUri: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", apiMain], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      MONGODB_URI: mongoUri,
      CORE_API_TOKEN: randomBytes(24).toString("hex"),
      ENCRYPTION_KEY: randomBytes(32).toString("hex"),
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) {
        // Keep draining the API's log lines so its stdout never blocks.
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        resolve({ child, base: match[1] });
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`the API exited with code ${code}\n${output.slice(-2000)}`)),
    );
  });
}

function send(
  agent: Agent,
  url: string,
  method: string,
  body?: Buffer,
): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        agent,
        method,
        headers: body ? { "content-type": "application/json", "content-length": body.length } : {},
      },
      (res) => {
        res.resume();
        res.once("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.once("error", reject);
    req.end(body);
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

async function healthLatency(base: string): Promise<{ p50: number; p95: number; statuses: number[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  const statuses = new Set<number>();
  for (let i = 0; i < SAMPLES; i++) {
    const { status, ms } = await send(agent, `${base}/api/saas/health`, "GET");
    statuses.add(status);
    times.push(ms);
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  return {
    p50: Math.round(percentile(times, 50)),
    p95: Math.round(percentile(times, 95)),
    statuses: [...statuses],
  };
}

const mongo = await startEmbeddedMongo();
const { child, base } = await startApi(mongo.uri);
try {
  await healthLatency(base); // warm-up
  const idle = await healthLatency(base);

  const body = Buffer.from(`${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}`);
  const floodAgent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const floodStatuses: Record<string, number> = {};
  let flooding = true;
  let floodRequests = 0;
  const floodTimes: number[] = [];
  const connections = Array.from({ length: CONNECTIONS }, async () => {
    while (flooding) {
      try {
        const { status, ms } = await send(floodAgent, `${base}${FLOOD_PATH}`, "POST", body);
        floodStatuses[status] = (floodStatuses[status] ?? 0) + 1;
        floodTimes.push(ms);
      } catch (error) {
        const code = (error as { code?: string }).code ?? "error";
        floodStatuses[code] = (floodStatuses[code] ?? 0) + 1;
      }
      floodRequests += 1;
    }
  });
  const floodStarted = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // let the flood build up
  const underFlood = await healthLatency(base);
  flooding = false;
  await Promise.all(connections);
  const seconds = (performance.now() - floodStarted) / 1000;
  floodAgent.destroy();
  floodTimes.sort((a, b) => a - b);

  console.log(
    JSON.stringify({
      bodyBytes: body.length,
      depth: DEPTH,
      connections: CONNECTIONS,
      floodPath: FLOOD_PATH,
      healthIdleMs: { p50: idle.p50, p95: idle.p95 },
      healthUnderFloodMs: { p50: underFlood.p50, p95: underFlood.p95, statuses: underFlood.statuses },
      flood: {
        requests: floodRequests,
        perSecond: Math.round(floodRequests / seconds),
        statuses: floodStatuses,
        p50Ms: Math.round(percentile(floodTimes, 50)),
      },
    }),
  );
} finally {
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  await mongo.stop();
}
