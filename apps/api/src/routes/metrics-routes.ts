import { type QueueAdmin, registerQueueDepthMetric } from "@ecodrix/queue";
import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * `GET /metrics` for Prometheus: the queue's depth by status and type (read from MongoDB at scrape
 * time) and the process's default metrics. Counts only — no tenant names, payloads or secrets.
 * Job durations and failures come from the workers' own /metrics (WORKER_METRICS_PORT).
 */
export function metricsRoutes(app: FastifyInstance, deps: { queue: Pick<QueueAdmin, "depth"> }): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerQueueDepthMetric(registry, deps.queue);
  app.get("/metrics", { schema: { response: { 200: { type: "string" } } } }, async (_request, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}
