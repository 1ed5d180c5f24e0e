import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createQueue, type Queue } from "./queue.js";
import { createServerClock } from "./server-clock.js";

/** A worker host whose clock runs 90 s ahead: longer than the lease (30 s). */
const AHEAD_MS = 90_000;

describe("leases in the database server's time", () => {
  let mongo: TestMongo;
  let honest: Queue;

  beforeAll(async () => {
    mongo = await createTestMongo("clock");
    honest = createQueue({ db: mongo.db });
    await honest.ensureIndexes();
  });
  beforeEach(async () => {
    await honest.jobs.deleteMany({});
  });
  afterAll(() => mongo.close());

  it("the offset is measured from the server: a clock 90 s ahead is corrected to within a second", async () => {
    const clock = createServerClock(mongo.db, { localNow: () => Date.now() + AHEAD_MS });
    const offset = await clock.sync();
    expect(offset).toBeLessThan(-AHEAD_MS + 1_000);
    expect(offset).toBeGreaterThan(-AHEAD_MS - 1_000);
    expect(Math.abs(clock.now().getTime() - Date.now())).toBeLessThan(1_000);
  });

  it("a worker whose clock runs ahead by more than the lease does not take over a live job", async () => {
    await honest.enqueue({ type: "send_whatsapp" });
    const running = (await honest.claim("honest-worker", 30_000))!;
    expect(running).not.toBeNull();

    // With its own clock, the skewed worker sees the lease as long expired and takes the job over:
    // the failure this guards against.
    const skewedLocal = createQueue({ db: mongo.db, clock: () => new Date(Date.now() + AHEAD_MS) });
    const stolen = await skewedLocal.claim("skewed-worker", 30_000);
    expect(stolen?._id.equals(running._id)).toBe(true);

    // Reset to the honest worker's live lease, then the same host with the server's time: no takeover.
    await honest.jobs.updateOne(
      { _id: running._id },
      {
        $set: {
          lockedBy: "honest-worker",
          lockedUntil: new Date(Date.now() + 30_000),
          attempts: running.attempts,
        },
        $unset: { lastError: "" },
      },
    );
    const clock = createServerClock(mongo.db, { localNow: () => Date.now() + AHEAD_MS });
    await clock.sync();
    const corrected = createQueue({ db: mongo.db, clock: clock.now });
    expect(await corrected.claim("skewed-worker", 30_000)).toBeNull();
    expect(await honest.get(running._id)).toMatchObject({ status: "processing", lockedBy: "honest-worker" });
    // Its own leases are not stretched either: a heartbeat sets lockedUntil ~30 s from the server's now.
    await honest.enqueue({ type: "send_email" });
    const own = (await corrected.claim("skewed-worker", 30_000))!;
    expect(Math.abs(own.lockedUntil!.getTime() - (Date.now() + 30_000))).toBeLessThan(1_000);
  });
});
