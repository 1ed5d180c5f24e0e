import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "@ecodrix/platform";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CronSchedule, createCronScheduler, cronTickId } from "./cron-scheduler.js";
import { createQueue, type Queue } from "./queue.js";

const logger = createLogger({ level: "silent", name: "test" });

describe("cron scheduler", () => {
  let mongo: TestMongo;
  let queue: Queue;

  beforeAll(async () => {
    mongo = await createTestMongo("cron");
    queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
  });
  beforeEach(async () => {
    await queue.jobs.deleteMany({});
  });
  afterAll(() => mongo.close());

  const everySecond: CronSchedule = {
    name: "heartbeat_probe",
    pattern: "* * * * * *",
    job: { type: "score_recalculation" },
  };

  it("3 schedulers (replicas) running the same per-second schedule make exactly one job per tick", async () => {
    const replicas = Array.from({ length: 3 }, () =>
      createCronScheduler({ queue, schedules: [everySecond], logger }),
    );
    for (const replica of replicas) replica.start();
    await sleep(3_300);
    for (const replica of replicas) replica.stop();
    await sleep(200);

    const jobs = await queue.jobs.find({}).toArray();
    const ticks = jobs.map((job) => String(job.payload.scheduledFor));
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    expect(new Set(ticks).size).toBe(jobs.length);
    for (const job of jobs) {
      expect(job.dedupeKey).toBe(`cron:heartbeat_probe:${job.payload.scheduledFor}`);
      expect(new Date(String(job.payload.scheduledFor)).getMilliseconds()).toBe(0);
    }
  });

  it("a replica that ticks late, after the tick's job already finished, still makes no second job", async () => {
    const [a, b, c] = Array.from({ length: 3 }, () =>
      createCronScheduler({
        queue,
        schedules: [
          {
            name: "score_recalculation",
            pattern: "0 2 * * *",
            timezone: "Asia/Kolkata",
            job: { type: "score_recalculation" },
          },
        ],
        logger,
      }),
    );
    const tick = new Date("2026-03-01T20:30:00.000Z"); // 02:00 in Asia/Kolkata
    const [first, second] = await Promise.all([
      a!.tick("score_recalculation", tick),
      b!.tick("score_recalculation", tick),
    ]);
    expect(String(second._id)).toBe(String(first._id));
    const claimed = (await queue.claim("w", 10_000))!;
    expect(await queue.complete(claimed)).toBe(true);
    const late = await c!.tick("score_recalculation", new Date(tick.getTime() + 900));
    expect(String(late._id)).toBe(String(first._id));
    expect(await queue.jobs.countDocuments({})).toBe(1);
    expect(String(first._id)).toBe(String(cronTickId("score_recalculation", tick)));
  });
});
