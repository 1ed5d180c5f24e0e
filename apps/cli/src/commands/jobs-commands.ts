import type { JobDocument, JobListFilter, JobStatus, Queue } from "@ecodrix/queue";
import type { Command } from "commander";
import { type CliContext, CliError, type CliIo, type CommandGroup, UsageError } from "../command.js";

/**
 * Opens the central database named by MONGODB_URI / SERVICES_DB_NAME only (no API secrets needed).
 * The queue and the driver are loaded here, on use: `clients …`, `completion` and `--help` start
 * without them.
 */
async function withQueue<T>(context: CliContext, work: (queue: Queue) => Promise<T>): Promise<T> {
  const [{ connectCentralMongo, loadMongoConfig }, { createQueue }] = await Promise.all([
    import("@ecodrix/platform"),
    import("@ecodrix/queue"),
  ]);
  const config = loadMongoConfig(context.env);
  const mongo = await connectCentralMongo(config.mongodbUri, config.servicesDbName);
  try {
    return await work(createQueue({ db: mongo.db }));
  } finally {
    await mongo.close();
  }
}

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : "-");

function printJobs(io: CliIo, jobs: JobDocument[]): void {
  if (jobs.length === 0) {
    io.out("no jobs");
    return;
  }
  io.out(
    `${"id".padEnd(24)}  ${"status".padEnd(10)}  ${"type".padEnd(22)}  ${"client".padEnd(16)}  retries  ${"updatedAt".padEnd(24)}  lockedBy / lastError`,
  );
  for (const job of jobs) {
    const note = job.status === "processing" ? (job.lockedBy ?? "-") : (job.lastError ?? "");
    io.out(
      `${String(job._id)}  ${job.status.padEnd(10)}  ${job.type.padEnd(22)}  ${(job.clientCode ?? "-").padEnd(16)}  ${`${job.retries}/${job.maxRetries}`.padEnd(7)}  ${iso(job.updatedAt).padEnd(24)}  ${note}`,
    );
  }
}

const jsonOption = (command: Command) => command.option("--json", "print JSON instead of a table");

/** `jobs show|requeue|cancel|kill <id>`: one job by id, one line (or document) printed. */
function oneJobCommand(
  jobs: Command,
  context: CliContext,
  name: string,
  description: string,
  act: (queue: Queue, id: string) => Promise<string>,
): void {
  jobs
    .command(name)
    .description(description)
    .argument("<id>", "the job's _id (24 hexadecimal characters)")
    .action(async (id: string) => {
      context.io.out(await withQueue(context, (queue) => act(queue, id)));
    });
}

/**
 * `ecodrix jobs …`: what runbook §2 does with mongosh, against MONGODB_URI directly (the admin API's
 * `/api/admin/jobs` routes do the same over HTTP).
 */
export const jobsCommands: CommandGroup = (program, context) => {
  const { io } = context;
  const jobs = program
    .command("jobs")
    .description("inspect and fix the job queue (runbook §2), against MONGODB_URI and SERVICES_DB_NAME");

  jsonOption(
    jobs.command("stats").description("job counts by status and by type, and how many are stuck"),
  ).action(async (options: { json?: boolean }) => {
    const { JOB_STATUSES } = await import("@ecodrix/queue");
    const stats = await withQueue(context, (queue) => queue.stats());
    if (options.json) return io.out(JSON.stringify(stats));
    io.out(`total ${stats.total}   stuck ${stats.stuck}`);
    io.out(JOB_STATUSES.map((status) => `${status} ${stats.byStatus[status]}`).join("   "));
    if (stats.byType.length > 0) {
      io.out("");
      io.out(
        `${"type".padEnd(24)}${JOB_STATUSES.map((status) => status.padStart(12)).join("")}${"total".padStart(10)}`,
      );
      for (const row of stats.byType) {
        io.out(
          `${row.type.padEnd(24)}${JOB_STATUSES.map((status) => String(row[status]).padStart(12)).join("")}${String(row.total).padStart(10)}`,
        );
      }
    }
  });

  jsonOption(
    jobs
      .command("list")
      .description("list jobs, newest first, filtered by status, type or client")
      .option("--status <status>", "pending, processing, completed, failed or cancelled")
      .option("--type <type>", "a job type, e.g. send_whatsapp")
      .option("--client <clientCode>", "one client's jobs")
      .option("--limit <n>", "how many (1 to 500)", "50"),
  ).action(
    async (options: { status?: string; type?: string; client?: string; limit: string; json?: boolean }) => {
      const { JOB_STATUSES } = await import("@ecodrix/queue");
      if (options.status !== undefined && !JOB_STATUSES.includes(options.status as JobStatus)) {
        throw new UsageError(`--status must be one of ${JOB_STATUSES.join(", ")}`);
      }
      const limit = Number(options.limit);
      if (!/^[0-9]+$/.test(options.limit) || limit < 1 || limit > 500) {
        throw new UsageError("--limit must be an integer from 1 to 500");
      }
      const filter: JobListFilter = {
        limit,
        ...(options.status ? { status: options.status as JobStatus } : {}),
        ...(options.type ? { type: options.type } : {}),
        ...(options.client ? { clientCode: options.client } : {}),
      };
      const found = await withQueue(context, (queue) => queue.list(filter));
      if (options.json) io.out(JSON.stringify(found));
      else printJobs(io, found);
    },
  );

  jsonOption(
    jobs
      .command("stuck")
      .description("processing jobs whose lease expired or that have not moved for 10 minutes"),
  ).action(async (options: { json?: boolean }) => {
    const found = await withQueue(context, (queue) => queue.list({ stuck: true, limit: 500 }));
    if (options.json) io.out(JSON.stringify(found));
    else printJobs(io, found);
  });

  oneJobCommand(jobs, context, "show", "print one job document as JSON", async (queue, id) => {
    const job = await queue.get(id);
    if (!job) throw new CliError(`Job ${id} not found`);
    return JSON.stringify(job, null, 2);
  });

  jobs
    .command("requeue")
    .description("reset a job to pending with retries 0, due now")
    .argument("<id>", "the job's _id (24 hexadecimal characters)")
    .option(
      "--force",
      "also a job running under a live lease or a completed one (its handler may run twice: runbook §2)",
    )
    .action(async (id: string, options: { force?: boolean }) => {
      const job = await withQueue(context, (queue) => queue.requeue(id, { force: options.force === true }));
      io.out(`requeued ${job._id} (${job.type}): pending, retries 0${options.force ? " (forced)" : ""}`);
    });

  oneJobCommand(jobs, context, "cancel", "cancel a pending job", async (queue, id) => {
    const job = await queue.cancel(id);
    return `cancelled ${job._id} (${job.type})`;
  });

  oneJobCommand(jobs, context, "kill", "delete a job permanently (a poison job)", async (queue, id) => {
    await queue.remove(id);
    return `deleted ${id}`;
  });
};
