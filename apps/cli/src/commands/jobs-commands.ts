import { connectCentralMongo, loadMongoConfig } from "@ecodrix/platform";
import {
  createQueue,
  JOB_STATUSES,
  type JobDocument,
  type JobListFilter,
  type JobStatus,
  type Queue,
} from "@ecodrix/queue";
import type { CliCommand, CliIo } from "../command.js";

type Context = Parameters<CliCommand["run"]>[1];

/** Opens the central database named by MONGODB_URI / SERVICES_DB_NAME only (no API secrets needed). */
async function withQueue<T>(context: Context, work: (queue: Queue) => Promise<T>): Promise<T> {
  const config = loadMongoConfig(context.env);
  const mongo = await connectCentralMongo(config.mongodbUri, config.servicesDbName);
  try {
    return await work(createQueue({ db: mongo.db }));
  } finally {
    await mongo.close();
  }
}

function usageError(io: CliIo, usage: string, problem: string): number {
  io.err(`${problem} (usage: ecodrix ${usage})`);
  return 2;
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

/** `--name value` options; returns undefined and prints the problem on an unknown or valueless option. */
function parseOptions(args: string[], allowed: string[], io: CliIo, usage: string) {
  const options: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--json") {
      options.json = "true";
    } else if (arg.startsWith("--")) {
      const name = arg.slice(2);
      const value = args[i + 1];
      if (!allowed.includes(name)) return void usageError(io, usage, `unknown option ${arg}`);
      if (value === undefined || value.startsWith("--"))
        return void usageError(io, usage, `${arg} needs a value`);
      options[name] = value;
      i++;
    } else {
      positional.push(arg);
    }
  }
  return { options, positional };
}

export const jobsStatsCommand: CliCommand = {
  name: "jobs stats",
  usage: "jobs stats [--json]",
  summary: "job counts by status and by type, and how many are stuck",
  async run(args, context) {
    const parsed = parseOptions(args, [], context.io, this.usage);
    if (!parsed) return 2;
    const stats = await withQueue(context, (queue) => queue.stats());
    if (parsed.options.json) {
      context.io.out(JSON.stringify(stats));
      return 0;
    }
    const { io } = context;
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
    return 0;
  },
};

export const jobsListCommand: CliCommand = {
  name: "jobs list",
  usage: "jobs list [--status S] [--type T] [--client CODE] [--limit N] [--json]",
  summary: "list jobs, newest first, filtered by status, type or client",
  async run(args, context) {
    const parsed = parseOptions(args, ["status", "type", "client", "limit"], context.io, this.usage);
    if (!parsed) return 2;
    const { options } = parsed;
    if (options.status && !JOB_STATUSES.includes(options.status as JobStatus)) {
      return usageError(context.io, this.usage, `--status must be one of ${JOB_STATUSES.join(", ")}`);
    }
    const limit = options.limit === undefined ? 50 : Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
      return usageError(context.io, this.usage, "--limit must be an integer from 1 to 500");
    }
    const filter: JobListFilter = {
      limit,
      ...(options.status ? { status: options.status as JobStatus } : {}),
      ...(options.type ? { type: options.type } : {}),
      ...(options.client ? { clientCode: options.client } : {}),
    };
    const jobs = await withQueue(context, (queue) => queue.list(filter));
    if (options.json) context.io.out(JSON.stringify(jobs));
    else printJobs(context.io, jobs);
    return 0;
  },
};

export const jobsStuckCommand: CliCommand = {
  name: "jobs stuck",
  usage: "jobs stuck [--json]",
  summary: "processing jobs whose lease expired or that have not moved for 10 minutes",
  async run(args, context) {
    const parsed = parseOptions(args, [], context.io, this.usage);
    if (!parsed) return 2;
    const jobs = await withQueue(context, (queue) => queue.list({ stuck: true, limit: 500 }));
    if (parsed.options.json) context.io.out(JSON.stringify(jobs));
    else printJobs(context.io, jobs);
    return 0;
  },
};

function oneJobCommand(
  name: string,
  summary: string,
  act: (queue: Queue, id: string) => Promise<string>,
): CliCommand {
  return {
    name: `jobs ${name}`,
    usage: `jobs ${name} <id>`,
    summary,
    async run(args, context) {
      if (args.length !== 1 || !args[0]) return usageError(context.io, this.usage, "one job id expected");
      const id = args[0];
      context.io.out(await withQueue(context, (queue) => act(queue, id)));
      return 0;
    },
  };
}

export const jobsShowCommand = oneJobCommand("show", "print one job document as JSON", async (queue, id) => {
  const job = await queue.get(id);
  if (!job) throw new Error(`Job ${id} not found`);
  return JSON.stringify(job, null, 2);
});

export const jobsRequeueCommand = oneJobCommand(
  "requeue",
  "reset a job to pending with retries 0, due now",
  async (queue, id) => {
    const job = await queue.requeue(id);
    return `requeued ${job._id} (${job.type}): pending, retries 0`;
  },
);

export const jobsCancelCommand = oneJobCommand("cancel", "cancel a pending job", async (queue, id) => {
  const job = await queue.cancel(id);
  return `cancelled ${job._id} (${job.type})`;
});

export const jobsKillCommand = oneJobCommand(
  "kill",
  "delete a job permanently (a poison job)",
  async (queue, id) => {
    await queue.remove(id);
    return `deleted ${id}`;
  },
);

export const jobsCommands: CliCommand[] = [
  jobsStatsCommand,
  jobsListCommand,
  jobsStuckCommand,
  jobsShowCommand,
  jobsRequeueCommand,
  jobsCancelCommand,
  jobsKillCommand,
];
