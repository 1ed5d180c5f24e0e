import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { isProcessAlive } from "@ecodrix/test-kit";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

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

function processesMentioning(text: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" });
  return out.split("\n").filter((line) => line.includes(text) && !line.includes("ps -eo"));
}

/** The Java, API and worker processes `npm start` launched (tsx may add an esbuild helper beside them). */
function launchedBy(parent: number): { java: number; api: number; worker: number } {
  const children = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(parent)], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const pidOf = (text: string) => Number(children.find((line) => line.includes(text))?.split(" ")[0]);
  return {
    java: pidOf("com.ecodrix.embeddedmongo.EmbeddedMongo"),
    api: pidOf("apps/api/src/main.ts"),
    worker: pidOf("apps/worker/src/main.ts"),
  };
}

describe("npm start (embedded database, API and worker as separate processes)", () => {
  const dataDirs: string[] = [];
  const started: ChildProcess[] = [];
  afterAll(() => {
    // Whatever a failed test left: the start command and everything in its process group.
    for (const child of started) {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  async function startProduct(): Promise<{
    child: ChildProcess;
    port: number;
    dataDir: string;
    output: () => string;
  }> {
    const parentDir = mkdtempSync(path.join(tmpdir(), "ecodrix-start-"));
    dataDirs.push(parentDir);
    // As an earlier version left it: world-readable. The start command makes it private.
    const dataDir = path.join(parentDir, "data");
    mkdirSync(dataDir, { mode: 0o755 });
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      ECODRIX_DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
    };
    delete env.MONGODB_URI;
    delete env.CORE_API_TOKEN;
    delete env.ENCRYPTION_KEY;
    let output = "";
    // Its own process group, so cleanup can reach every process it starts.
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/start.ts")], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    started.push(child);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/api/saas/health`);
      return res.status === 200 ? true : undefined;
    }, 60_000);
    return { child, port, dataDir, output: () => output };
  }

  it("serves health, runs the echo job in the worker process, and Ctrl-C stops everything", async () => {
    const { child, port, dataDir, output } = await startProduct();
    const base = `http://127.0.0.1:${port}`;

    const health = (await (await fetch(`${base}/api/saas/health`)).json()) as { mongo: string };
    expect(health.mongo).toBe("up");
    expect(output()).toContain(`http://localhost:${port}`);
    expect(output()).toContain(path.join(dataDir, "dev.env"));
    expect(output()).toContain(`http://localhost:${port}/console/`);
    const consolePage = await fetch(`${base}/console/`);
    expect(consolePage.status).toBe(200);
    expect(consolePage.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await consolePage.text()).toMatch(/<script type="module" crossorigin src="\/console\/assets\//);
    // The secrets and the database (job payloads) are readable by their owner only.
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dataDir, "dev.env")).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dataDir, "mongo", "ecodrix.mv")).mode & 0o777).toBe(0o600);

    const token = /CORE_API_TOKEN=(\S+)/.exec(readFileSync(path.join(dataDir, "dev.env"), "utf8"))?.[1];
    expect(token).toBeTruthy();
    const enqueued = await fetch(`${base}/api/admin/jobs/echo`, {
      method: "POST",
      headers: { "x-core-api-key": token ?? "", "content-type": "application/json" },
      body: JSON.stringify({ message: "through the worker" }),
    });
    expect(enqueued.status).toBe(202);
    const { jobId } = (await enqueued.json()) as { jobId: string };

    const job = await waitFor(async () => {
      const res = await fetch(`${base}/api/admin/jobs/${jobId}`, {
        headers: { "x-core-api-key": token ?? "" },
      });
      const body = (await res.json()) as { status: string; result?: { echoed: string; pid: number } };
      return body.status === "completed" ? body : undefined;
    }, 30_000);
    expect(job.result?.echoed).toBe("through the worker");
    // The job ran in the worker process, not in the API or the start command.
    expect(job.result?.pid).not.toBe(child.pid);
    expect(
      processesMentioning("apps/worker/src/main.ts").some((line) =>
        line.trim().startsWith(`${job.result?.pid} `),
      ),
    ).toBe(true);
    expect(processesMentioning(dataDir).length).toBeGreaterThan(0);

    const { java, api, worker } = launchedBy(child.pid ?? 0);
    const launched = [java, api, worker];
    expect(launched.every((pid) => Number.isInteger(pid) && pid > 0)).toBe(true);
    expect(worker).toBe(job.result?.pid);

    const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    // No API, worker or Java process is left behind.
    await waitFor(async () => (processesMentioning(dataDir).length === 0 ? true : undefined), 15_000);
    expect(launched.filter(isProcessAlive)).toEqual([]);
  });

  it("restarts a worker or an API killed with SIGKILL, and stops everything when the database dies", async () => {
    const { child, port, dataDir, output } = await startProduct();
    const base = `http://127.0.0.1:${port}`;
    const token = /CORE_API_TOKEN=(\S+)/.exec(readFileSync(path.join(dataDir, "dev.env"), "utf8"))?.[1] ?? "";
    const first = launchedBy(child.pid ?? 0);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

    // The worker dies: the start command says so, starts a new one after its back-off, and the new
    // one runs jobs. The API never stopped.
    process.kill(first.worker, "SIGKILL");
    const worker = await waitFor(async () => {
      const pid = launchedBy(child.pid ?? 0).worker;
      return pid > 0 && pid !== first.worker && isProcessAlive(pid) ? pid : undefined;
    }, 20_000);
    expect(output()).toContain("worker exited (killed by SIGKILL); restarting it in 1 s");
    expect(output()).toContain(`worker restarted (pid ${worker})`);
    expect(isProcessAlive(first.api)).toBe(true);
    const enqueued = await fetch(`${base}/api/admin/jobs/echo`, {
      method: "POST",
      headers: { "x-core-api-key": token, "content-type": "application/json" },
      body: JSON.stringify({ message: "after the restart" }),
    });
    expect(enqueued.status).toBe(202);
    const { jobId } = (await enqueued.json()) as { jobId: string };
    const job = await waitFor(async () => {
      const res = await fetch(`${base}/api/admin/jobs/${jobId}`, { headers: { "x-core-api-key": token } });
      const body = (await res.json()) as { status: string; result?: { pid: number } };
      return body.status === "completed" ? body : undefined;
    }, 30_000);
    expect(job.result?.pid).toBe(worker);

    // The API dies: a new one answers on the same port.
    process.kill(first.api, "SIGKILL");
    const api = await waitFor(async () => {
      const pid = launchedBy(child.pid ?? 0).api;
      return pid > 0 && pid !== first.api ? pid : undefined;
    }, 20_000);
    await waitFor(
      async () => ((await fetch(`${base}/api/saas/health`)).status === 200 ? true : undefined),
      30_000,
    );
    expect(output()).toContain("api exited (killed by SIGKILL); restarting it in 1 s");
    expect(output()).toContain(`api restarted (pid ${api})`);

    // The database dies: nothing is restarted, everything stops, and the start command says why.
    process.kill(first.java, "SIGKILL");
    expect(await exited).toBe(1);
    expect(output()).toContain(
      "the embedded database exited (killed by SIGKILL); stopping the API and the worker",
    );
    await waitFor(async () => ([api, worker].some(isProcessAlive) ? undefined : true), 15_000);
    expect([api, worker, first.java].filter(isProcessAlive)).toEqual([]);
  }, 150_000);

  it("killed with SIGKILL, it still takes the API, the worker and the database down with it", async () => {
    const { child } = await startProduct();
    const launched = Object.values(launchedBy(child.pid ?? 0));
    expect(launched.every((pid) => Number.isInteger(pid) && pid > 0 && isProcessAlive(pid))).toBe(true);

    child.kill("SIGKILL");
    // Java watches its stdin pipe; the API and the worker their IPC channel: none outlives the parent.
    await waitFor(async () => (launched.some(isProcessAlive) ? undefined : true), 20_000);
    expect(launched.filter(isProcessAlive)).toEqual([]);
  });
});
