import { scoreRecalculationJob } from "@ecodrix/crm";
import { whatsappTemplateSyncAllContract } from "@ecodrix/integrations";
import type { Config } from "@ecodrix/platform";
import type { CronSchedule } from "@ecodrix/queue";

/** Every cron schedule the workers run. Each replica runs all of them; each tick makes one job. */
export function schedules(config: Pick<Config, "worker" | "whatsapp">): CronSchedule[] {
  return [
    {
      name: "score_recalculation",
      pattern: config.worker.scoreRecalculationCron,
      timezone: config.worker.cronTimezone,
      job: { type: scoreRecalculationJob.type, ...scoreRecalculationJob.limits },
    },
    {
      // One sync job per client with WhatsApp secrets (templates approved or paused since the last sync).
      name: "whatsapp_template_sync",
      pattern: config.whatsapp.templateSyncCron,
      timezone: config.worker.cronTimezone,
      job: { type: whatsappTemplateSyncAllContract.type, ...whatsappTemplateSyncAllContract.limits },
    },
  ];
}
