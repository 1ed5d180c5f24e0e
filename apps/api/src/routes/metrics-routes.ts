import type { Server } from "node:http";
import { type QueueAdmin, registerQueueDepthMetric, startMetricsServer } from "@ecodrix/queue";
import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * The API's Prometheus metrics: the queue's depth by status and type (read from MongoDB at scrape time)
 * and the process's default metrics. Counts only — no tenant names, payloads or secrets. Job durations
 * and failures come from the workers' own /metrics (WORKER_METRICS_PORT).
 */
export function createApiMetricsRegistry(deps: { queue: Pick<QueueAdmin, "depth"> }): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerQueueDepthMetric(registry, deps.queue);
  return registry;
}

/**
 * `GET /metrics` on a listener of its own (METRICS_PORT), never on the public API port: the load balancer
 * forwards PORT only, so the metrics stay on the internal network without a token to manage.
 */
export function startApiMetricsServer(
  deps: { queue: Pick<QueueAdmin, "depth"> },
  port: number,
  host: string,
): Promise<Server> {
  return startMetricsServer(createApiMetricsRegistry(deps), port, host);
}
