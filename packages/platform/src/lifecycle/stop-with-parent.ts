import type { Logger } from "pino";

/**
 * A process started with an IPC channel (`npm start`, a PM2 cluster) shuts down gracefully when that
 * channel closes — its parent is gone, even by SIGKILL — instead of running on as an orphan. It sends
 * itself SIGTERM, so the usual close-with-grace shutdown runs (leases released, requests drained).
 */
export function stopWithParent(logger: Pick<Logger, "warn">): void {
  if (!process.send) return;
  process.once("disconnect", () => {
    logger.warn("the parent process went away: shutting down");
    process.kill(process.pid, "SIGTERM");
  });
}
