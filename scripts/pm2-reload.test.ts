import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, inject, it } from "vitest";

const execFileAsync = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pm2Bin = path.join(root, "node_modules", ".bin", "pm2");

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(250);
  }
}

interface Pm2Process {
  name: string;
  pid: number;
  pm2_env: { status: string };
}

describe("pm2 reload under load (ecosystem.config.cjs, 2 API instances in cluster mode)", () => {
  // PM2 keeps its daemon, sockets and logs under PM2_HOME: a temporary one, killed at the end.
  const pm2Home = mkdtempSync(path.join(tmpdir(), "ecodrix-pm2-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PM2_HOME: pm2Home,
    MONGODB_URI: inject("mongoUri"),
    SERVICES_DB_NAME: `pm2_reload_${randomBytes(4).toString("hex")}`,
    CORE_API_TOKEN: randomBytes(24).toString("hex"),
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    HOST: "127.0.0.1",
    API_INSTANCES: "2",
    WORKER_INSTANCES: "1",
    LOG_LEVEL: "warn",
  };
  const pm2 = (...args: string[]) =>
    execFileAsync(pm2Bin, args, { cwd: root, env, maxBuffer: 16 * 1024 * 1024 }).then((r) => r.stdout);
  const processes = async () => JSON.parse(await pm2("jlist")) as Pm2Process[];

  afterAll(async () => {
    await pm2("kill").catch(() => undefined);
    rmSync(pm2Home, { recursive: true, force: true });
  });

  it("loses no request while the API is reloaded (twice), then the workers, and every accepted job completes", async () => {
    const port = await freePort();
    env.PORT = String(port);
    const base = `http://127.0.0.1:${port}`;
    // The ecosystem file runs the compiled build, as production does.
    await execFileAsync("npm", ["run", "build", "--silent"], { cwd: root });
    await pm2("start", "ecosystem.config.cjs");
    await waitFor(
      async () => ((await fetch(`${base}/api/saas/health`)).status === 200 ? true : undefined),
      90_000,
    );
    const apiPidsBefore = (await processes()).filter((p) => p.name === "ecodrix-api").map((p) => p.pid);
    expect(apiPidsBefore).toHaveLength(2);

    // 8 keep-alive clients (fetch keeps its connections alive) enqueue echo jobs back to back.
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const jobIds: string[] = [];
    let stop = false;
    const client = async (c: number) => {
      for (let n = 0; !stop; n++) {
        try {
          const res = await fetch(`${base}/api/admin/jobs/echo`, {
            method: "POST",
            headers: { "x-core-api-key": env.CORE_API_TOKEN ?? "", "content-type": "application/json" },
            body: JSON.stringify({ message: `client ${c} request ${n}` }),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const body = (await res.json()) as { jobId?: string };
          if (res.status === 202 && body.jobId) jobIds.push(body.jobId);
        } catch (error) {
          const cause =
            error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
          failures.push(`${String(error)}${cause}`);
        }
      }
    };
    const load = Array.from({ length: 8 }, (_, c) => client(c));
    // Twice: each reload replaces both instances, and each old one closing is a chance to drop a request.
    for (let reload = 0; reload < 2; reload++) {
      await sleep(2_000);
      await pm2("reload", "ecodrix-api");
    }
    await sleep(2_000);
    await pm2("reload", "ecodrix-worker");
    await sleep(2_000);
    stop = true;
    await Promise.all(load);

    const apiPidsAfter = (await processes()).filter((p) => p.name === "ecodrix-api").map((p) => p.pid);
    expect(apiPidsAfter).toHaveLength(2);
    expect(apiPidsAfter.filter((pid) => apiPidsBefore.includes(pid))).toEqual([]);
    expect(failures).toEqual([]);
    expect([...statuses.keys()]).toEqual([202]);
    expect(jobIds.length).toBeGreaterThan(100);

    // Every accepted job is run by a worker, the reloaded one included.
    const pending = new Set(jobIds);
    await waitFor(async () => {
      const batch = [...pending].slice(0, 400);
      for (let i = 0; i < batch.length; i += 20) {
        await Promise.all(
          batch.slice(i, i + 20).map(async (id) => {
            const res = await fetch(`${base}/api/admin/jobs/${id}`, {
              headers: { "x-core-api-key": env.CORE_API_TOKEN ?? "" },
            });
            const job = (await res.json()) as { status: string };
            if (job.status === "completed") pending.delete(id);
          }),
        );
      }
      return pending.size === 0 ? true : undefined;
    }, 120_000);
    expect(pending.size).toBe(0);
    console.log(
      `pm2 reload under load: ${jobIds.length} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ` +
        `${failures.length} failed, all jobs completed`,
    );
  }, 300_000);
});
