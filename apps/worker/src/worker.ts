import {
  type Config,
  createWorkerRunner,
  type JobHandlers,
  type Logger,
  type Queue,
  type WorkerRunner,
} from "@ecodrix/domain";
import { handlers as defaultHandlers } from "./handlers/index.js";

export interface WorkerDeps {
  config: Pick<Config, "worker">;
  logger: Logger;
  queue: Queue;
  handlers?: JobHandlers;
}

/** The worker's composition root: tests call it with a test database; main.ts with the real one. */
export function buildWorker(deps: WorkerDeps): WorkerRunner {
  return createWorkerRunner({
    queue: deps.queue,
    handlers: deps.handlers ?? defaultHandlers,
    logger: deps.logger,
    concurrency: deps.config.worker.concurrency,
    leaseMs: deps.config.worker.leaseMs,
    pollMinMs: deps.config.worker.pollMinMs,
    pollMaxMs: deps.config.worker.pollMaxMs,
  });
}
