import { Type } from "@sinclair/typebox";
import { defineJob, jobContract } from "./job-definition.js";

/** `echo`: proves a job travels API → jobs → worker (runbook §2's smoke test). */
export const echoJobContract = jobContract({
  type: "echo",
  payload: Type.Object(
    { message: Type.String({ minLength: 1, maxLength: 1000 }) },
    { additionalProperties: false },
  ),
});

export const echoJob = defineJob({
  ...echoJobContract,
  create:
    () =>
    async ({ job, log }) => {
      log.info("echo job ran");
      return { echoed: job.payload.message, handledAt: new Date().toISOString(), pid: process.pid };
    },
});

/** `noop`: does nothing and says so, for benchmarks and smoke tests of the queue itself. */
export const noopJob = defineJob({
  type: "noop",
  payload: Type.Object({}),
  create: () => async () => ({ noop: true }),
});
