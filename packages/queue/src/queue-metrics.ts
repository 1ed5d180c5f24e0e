import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { QueueAdmin, QueueDepth } from "./queue-admin.js";
import type { WorkerObserver } from "./worker-runner.js";

/**
 * `ecodrix_jobs{status,type}`: the queue's depth, read from MongoDB at scrape time, so every API replica
 * reports the same truth and nothing is counted in memory. Unfinished and dead-lettered jobs are
 * grouped by type (a `status` match the indexes serve); completed and cancelled jobs — the bulk of the
 * collection — are only counted per status (`type="*"`), so a scrape never groups a million finished
 * documents.
 */
export function registerQueueDepthMetric(registry: Registry, queue: Pick<QueueAdmin, "depth">): void {
  // Both gauges are filled from one read per scrape, whichever prom-client collects first.
  let reading: Promise<QueueDepth> | undefined;
  const read = () => {
    reading ??= queue.depth().finally(() => setImmediate(() => (reading = undefined)));
    return reading;
  };
  new Gauge({
    name: "ecodrix_jobs",
    help: "Jobs in the jobs collection by status and type; completed and cancelled per status only (type=*)",
    labelNames: ["status", "type"] as const,
    registers: [registry],
    async collect() {
      const depth = await read();
      this.reset();
      for (const group of depth.groups) this.set({ status: group.status, type: group.type }, group.count);
      this.set({ status: "completed", type: "*" }, depth.completed);
      this.set({ status: "cancelled", type: "*" }, depth.cancelled);
    },
  });
  new Gauge({
    name: "ecodrix_jobs_unhandled",
    help: "Pending jobs whose type no running worker has a definition for, by type",
    labelNames: ["type"] as const,
    registers: [registry],
    async collect() {
      const depth = await read();
      this.reset();
      for (const row of depth.unhandledTypes) this.set({ type: row.type }, row.pending);
    },
  });
}

export interface WorkerMetrics {
  registry: Registry;
  observer: WorkerObserver;
}

/** Worker-side metrics: job durations and outcomes (failures, dead letters, lost leases), running jobs. */
export function createWorkerMetrics(registry = new Registry()): WorkerMetrics {
  const duration = new Histogram({
    name: "ecodrix_job_duration_seconds",
    help: "Handler run time per job attempt, by type and outcome",
    labelNames: ["type", "outcome"] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });
  const finished = new Counter({
    name: "ecodrix_jobs_finished_total",
    help: "Job attempts finished, by type and outcome (completed, retry, failed = dead letter, lost, released)",
    labelNames: ["type", "outcome"] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: "ecodrix_job_failures_total",
    help: "Job attempts that failed (retried or dead-lettered), by type",
    labelNames: ["type"] as const,
    registers: [registry],
  });
  const running = new Gauge({
    name: "ecodrix_worker_running_jobs",
    help: "Jobs running in this worker process",
    registers: [registry],
  });
  return {
    registry,
    observer: {
      jobStarted() {
        running.inc();
      },
      jobFinished(job, outcome, durationMs) {
        running.dec();
        duration.observe({ type: job.type, outcome }, durationMs / 1000);
        finished.inc({ type: job.type, outcome });
        if (outcome === "retry" || outcome === "failed") failures.inc({ type: job.type });
      },
    },
  };
}

/** A bare `GET /metrics` server for a worker process (workers have no Fastify). */
export async function startMetricsServer(
  registry: Registry,
  port: number,
  host = "0.0.0.0",
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== "GET" || request.url?.split("?")[0] !== "/metrics") {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => response.writeHead(200, { "content-type": registry.contentType }).end(body),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
