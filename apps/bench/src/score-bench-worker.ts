// The worker process of the scoring benchmark: the product's worker (buildWorker, every job
// definition, no cron), in a process of its own so that its peak RSS is the worker's alone.
// Env: MONGODB_URI, SERVICES_DB_NAME, CORE_API_TOKEN, ENCRYPTION_KEY (and any WORKER_*).
// IPC: sends { ready } once claiming; on "mark" starts counting CPU time; on "report" sends its memory
// and CPU figures; on "stop" stops and exits.
import { constants, type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import { createLogger, loadConfig } from "@ecodrix/platform";
import { createQueue } from "@ecodrix/queue";
import { buildWorker } from "@ecodrix/worker";
import { MongoClient } from "mongodb";

const config = loadConfig();
const client = new MongoClient(config.mongodbUri);
await client.connect();
const db = client.db(config.servicesDbName);
const queue = createQueue({ db });
const worker = buildWorker({
  config,
  logger: createLogger({ level: "warn", name: "bench-score-worker", pretty: false }),
  db,
  queue,
  schedules: [],
});

// Sampled while the job runs: RSS now and then, besides the kernel's peak (maxRSS).
let sampledPeakRss = 0;
let peakHeapUsed = 0;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  sampledPeakRss = Math.max(sampledPeakRss, usage.rss);
  peakHeapUsed = Math.max(peakHeapUsed, usage.heapUsed);
}, 50);
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

// The heap in use right after each full (mark-sweep-compact) collection: live data, not garbage waiting
// for the next collection. Its maximum is what the run really kept in memory.
let liveHeapAfterGc = 0;
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
      liveHeapAfterGc = Math.max(liveHeapAfterGc, process.memoryUsage().heapUsed);
    }
  }
});
gcObserver.observe({ entryTypes: ["gc"] });

let cpuMark = process.cpuUsage();
let startRss = process.memoryUsage.rss();
process.on("message", async (message: unknown) => {
  // "mark": the measured work starts now (CPU time is reported from here).
  if (message === "mark") {
    cpuMark = process.cpuUsage();
    liveHeapAfterGc = 0;
    peakHeapUsed = 0;
    sampledPeakRss = 0;
    startRss = process.memoryUsage.rss();
  }
  if (message === "report") {
    const cpu = process.cpuUsage(cpuMark);
    const usage = process.memoryUsage();
    process.send?.({
      report: {
        maxRssMb: mb(process.resourceUsage().maxRSS * 1024),
        sampledPeakRssMb: mb(sampledPeakRss),
        rssMb: mb(usage.rss),
        heapUsedMb: mb(usage.heapUsed),
        peakHeapUsedMb: mb(peakHeapUsed),
        liveHeapAfterGcMb: mb(liveHeapAfterGc),
        heapLimitMb: mb(getHeapStatistics().heap_size_limit),
        startRssMb: mb(startRss),
        cpuS: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      },
    });
  }
  if (message === "stop") {
    clearInterval(sampler);
    gcObserver.disconnect();
    await worker.stop();
    await client.close();
    process.exit(0);
  }
});

worker.start();
process.send?.({ ready: true });
