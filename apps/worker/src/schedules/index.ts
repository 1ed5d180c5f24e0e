import { scoreRecalculationJob } from "@ecodrix/crm";
import type { Config } from "@ecodrix/platform";
import type { CronSchedule } from "@ecodrix/queue";

/** Every cron schedule the workers run. Each replica runs all of them; each tick makes one job. */
export function schedules(config: Pick<Config, "worker">): CronSchedule[] {
  return [
    {
      name: "score_recalculation",
      pattern: config.worker.scoreRecalculationCron,
      timezone: config.worker.cronTimezone,
      job: { type: scoreRecalculationJob.type, ...scoreRecalculationJob.limits },
    },
  ];
}
