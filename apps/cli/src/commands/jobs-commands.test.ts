import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createQueue, type Queue } from "@ecodrix/queue";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real CLI process, with only MONGODB_URI and SERVICES_DB_NAME: the jobs commands need no API secrets. */
function runCli(mongo: TestMongo, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(root, "apps/cli/src/main.ts"), ...args],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", MONGODB_URI: mongo.uri, SERVICES_DB_NAME: mongo.dbName },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += String(chunk);
    });
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("jobs CLI (a real process against MONGODB_URI)", () => {
  let mongo: TestMongo;
  let queue: Queue;

  beforeAll(async () => {
    mongo = await createTestMongo("cli_jobs");
    queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
  });
  afterAll(() => mongo.close());

  it("stats, stuck, list, requeue, cancel and kill do what runbook §2 does by hand", async () => {
    const [email, , webhook] = await queue.enqueueMany([
      { type: "send_email", clientCode: "acme" },
      { type: "send_email", clientCode: "beta" },
      { type: "webhook", clientCode: "acme" },
    ]);
    const stuck = (await queue.claim("crashed-worker", 60 * 60 * 1000))!;
    await queue.jobs.updateOne(
      { _id: stuck._id },
      { $set: { updatedAt: new Date(Date.now() - 11 * 60 * 1000) } },
    );

    const stats = await runCli(mongo, ["jobs", "stats", "--json"]);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({
      total: 3,
      byStatus: { pending: 2, processing: 1 },
      stuck: 1,
    });
    const table = await runCli(mongo, ["jobs", "stats"]);
    expect(table.stdout).toMatch(/send_email\s+1\s+1\s+0\s+0\s+0\s+2/);

    const stuckList = await runCli(mongo, ["jobs", "stuck"]);
    expect(stuckList.code).toBe(0);
    expect(stuckList.stdout).toContain(String(stuck._id));
    expect(stuckList.stdout).toContain("crashed-worker");

    const list = await runCli(mongo, ["jobs", "list", "--client", "acme", "--type", "webhook", "--json"]);
    expect(JSON.parse(list.stdout).map((job: { _id: string }) => job._id)).toEqual([String(webhook!._id)]);

    const requeue = await runCli(mongo, ["jobs", "requeue", String(stuck._id)]);
    expect(requeue.code, requeue.stderr).toBe(0);
    expect(requeue.stdout).toContain(`requeued ${stuck._id}`);
    expect(await queue.get(stuck._id)).toMatchObject({ status: "pending", retries: 0, lockedBy: null });

    const cancel = await runCli(mongo, ["jobs", "cancel", String(webhook!._id)]);
    expect(cancel.code).toBe(0);
    expect((await queue.get(webhook!._id))?.status).toBe("cancelled");

    const kill = await runCli(mongo, ["jobs", "kill", String(email!._id)]);
    expect(kill.code).toBe(0);
    expect(await queue.get(email!._id)).toBeNull();
  });

  it("bad input: a malformed id, an unknown id, a missing id, an unknown option", async () => {
    const malformed = await runCli(mongo, ["jobs", "requeue", "not-an-id"]);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain("Invalid job id: expected 24 hexadecimal characters");
    const unknownId = String(new ObjectId());
    const unknown = await runCli(mongo, ["jobs", "kill", unknownId]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`Job ${unknownId} not found`);
    const missing = await runCli(mongo, ["jobs", "requeue"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("usage: ecodrix jobs requeue <id>");
    const option = await runCli(mongo, ["jobs", "list", "--colour", "red"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option --colour");
  });

  it("requeue refuses a completed job unless --force (runbook §2)", async () => {
    const [job] = await queue.enqueueMany([{ type: "send_email", clientCode: "acme" }]);
    await queue.jobs.updateOne({ _id: job!._id }, { $set: { status: "completed", completedAt: new Date() } });
    const refused = await runCli(mongo, ["jobs", "requeue", String(job!._id)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Job ${job!._id} is completed`);
    expect((await queue.get(job!._id))?.status).toBe("completed");
    const forced = await runCli(mongo, ["jobs", "requeue", String(job!._id), "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`requeued ${job!._id} (send_email): pending, retries 0 (forced)`);
    expect(await queue.get(job!._id)).toMatchObject({ status: "pending", retries: 0 });
  });

  it("says which variable is missing when MONGODB_URI is not set", async () => {
    const run = await new Promise<Run>((resolve) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", path.join(root, "apps/cli/src/main.ts"), "jobs", "stats"],
        {
          cwd: root,
          env: { PATH: process.env.PATH ?? "" },
        },
      );
      let stderr = "";
      child.stderr.on("data", (chunk) => {
        stderr += String(chunk);
      });
      child.on("close", (code) => resolve({ code, stdout: "", stderr }));
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("MONGODB_URI is missing");
  });
});
