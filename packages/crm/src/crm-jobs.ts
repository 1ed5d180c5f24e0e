import type { AnyJobDefinition } from "@ecodrix/queue";
import { meetCreatedJob } from "./appointments/meet-created-job.js";
import { automationEventJob } from "./automations/automation-event-job.js";
import { messageStatusChangedJob } from "./automations/message-status-job.js";
import { updateLeadJob } from "./automations/update-lead-job.js";
import type { CrmJobDeps } from "./crm-job-deps.js";

/** The CRM's job types, for the worker's one list of definitions. */
export const crmJobDefinitions: readonly AnyJobDefinition<CrmJobDeps>[] = [
  automationEventJob,
  updateLeadJob,
  messageStatusChangedJob,
  meetCreatedJob,
];
