import { permanentFailure } from "@ecodrix/platform";
import { defineJob } from "@ecodrix/queue";
import type { CrmJobDeps } from "../crm-job-deps.js";
import { automationEventContract } from "./automation-contracts.js";
import { processAutomationEvent } from "./automation-engine.js";

/** The worker side of `automation_event`: see processAutomationEvent. */
export const automationEventJob = defineJob({
  ...automationEventContract,
  create:
    (deps: CrmJobDeps) =>
    async ({ job, log }) => {
      const clientCode = job.clientCode;
      if (!clientCode)
        throw permanentFailure("ECODRIX_CRM_NO_CLIENT", "automation_event jobs need a clientCode");
      const outcome = await deps.tenancy.tenantConnections.withDb(clientCode, (db) =>
        processAutomationEvent(
          { db, queue: deps.queue, clientCode, now: deps.clock },
          job.payload,
          job.createdAt,
        ),
      );
      log.info(
        { eventType: job.payload.type, runs: outcome.runs.length, scheduled: outcome.stepsScheduled },
        "automation event processed",
      );
      return outcome;
    },
});
