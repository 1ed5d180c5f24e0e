import type { JobHandler } from "@ecodrix/queue";

/** Diagnostic job: proves a job travels API → jobs → worker. Returns what it was given. */
export const echoHandler: JobHandler = async ({ job, log }) => {
  const message = typeof job.payload.message === "string" ? job.payload.message : "";
  log.info("echo job ran");
  return { echoed: message, handledAt: new Date().toISOString(), pid: process.pid };
};
