import { crmJobDefinitions, leadScoreRecalculationJob, scoreRecalculationJob } from "@ecodrix/crm";
import { sendEmailJob } from "@ecodrix/integrations/email";
import { createMeetJob } from "@ecodrix/integrations/google";
import { deliverWebhookJob, webhookEventJob } from "@ecodrix/integrations/webhooks";
import {
  sendWhatsappJob,
  whatsappTemplateSyncAllJob,
  whatsappTemplateSyncJob,
  whatsappWebhookJob,
} from "@ecodrix/integrations/whatsapp";
import { type AnyJobDefinition, echoJob, noopJob } from "@ecodrix/queue";
import type { WorkerJobDeps } from "./job-deps.js";

/**
 * Every job type this worker runs, in one list. A definition lives next to the code that owns it
 * (its payload schema, its handler factory); the worker only lists it here. The worker claims only
 * these types: a job of a type an older worker does not know waits for a newer one.
 */
export const jobDefinitions: readonly AnyJobDefinition<WorkerJobDeps>[] = [
  echoJob,
  noopJob,
  scoreRecalculationJob,
  leadScoreRecalculationJob,
  createMeetJob,
  sendEmailJob,
  sendWhatsappJob,
  whatsappTemplateSyncJob,
  whatsappTemplateSyncAllJob,
  whatsappWebhookJob,
  webhookEventJob,
  deliverWebhookJob,
  ...crmJobDefinitions,
];
