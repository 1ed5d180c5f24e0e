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

  it("frozen replicas (3.5 s, every replica at once) lose no tick: the late fire enqueues each missed one once", async () => {
    const replicas = Array.from({ length: 3 }, () =>
      createCronScheduler({ queue, schedules: [everySecond], logger, catchUpMs: 5_000 }),
    );
    for (const replica of replicas) replica.start();
    await sleep(1_200);
    // The whole process (all three replicas) is frozen: no timer fires for 3.5 s.
    const frozenUntil = Date.now() + 3_500;
    while (Date.now() < frozenUntil) {
      /* frozen */
    }
    await sleep(2_300);
    for (const replica of replicas) replica.stop();
    await sleep(300);

    const ticks = (await queue.jobs.find({}).toArray())
      .map((job) => new Date(String(job.payload.scheduledFor)).getTime())
      .sort((a, b) => a - b);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(ticks.length).toBeGreaterThanOrEqual(8);
    const gaps = ticks.slice(1).filter((tick, index) => tick - ticks[index]! !== 1_000);
    expect(gaps, `ticks ${ticks.map((tick) => new Date(tick).toISOString()).join(" ")}`).toEqual([]);
  });

  it("a nightly tick missed by every worker is enqueued once by the next worker to start within the window", async () => {
    const nightly: CronSchedule = { name: "nightly_probe", pattern: "0 2 * * *", job: { type: "noop" } };
    const at = (iso: string) => () => new Date(iso);
    const late = createCronScheduler({
      queue,
      schedules: [nightly],
      logger,
      now: at("2026-03-02T02:40:00.000Z"),
    });
    const other = createCronScheduler({
      queue,
      schedules: [nightly],
      logger,
      now: at("2026-03-02T03:10:00.000Z"),
    });
    late.start();
    other.start();
    const tick = new Date("2026-03-02T02:00:00.000Z");
    await expect.poll(() => queue.jobs.countDocuments({ _id: cronTickId("nightly_probe", tick) })).toBe(1);
    late.stop();
    other.stop();
    await sleep(200);
    expect(await queue.jobs.countDocuments({})).toBe(1);

    // Outside the window (default 3 h), a missed tick stays missed.
    await queue.jobs.deleteMany({});
    const tooLate = createCronScheduler({
      queue,
      schedules: [nightly],
      logger,
      now: at("2026-03-02T05:30:00.000Z"),
    });
    tooLate.start();
    await sleep(300);
    tooLate.stop();
    expect(await queue.jobs.countDocuments({})).toBe(0);
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
