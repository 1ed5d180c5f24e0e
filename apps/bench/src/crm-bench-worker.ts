/**
 * One worker process of `npm run bench:crm` (forked by crm-bench.ts): the product's worker
 * (buildWorker with the product's job definitions), its `send_whatsapp` pointed at the fake Graph API
 * the bench started. Argument: the config as JSON.
 */
import { connectCentralMongo, createLogger, loadConfig, stopWithParent } from "@ecodrix/platform";
import { createQueue } from "@ecodrix/queue";
import { buildWorker, jobDefinitions } from "@ecodrix/worker";

export interface CrmBenchWorkerConfig {
  uri: string;
  dbName: string;
  encryptionKey: string;
  coreApiToken: string;
  graphBaseUrl: string;
}

export type CrmBenchWorkerMessage = { type: "ready" } | { type: "stopped" };

const config = JSON.parse(process.argv[2] ?? "{}") as CrmBenchWorkerConfig;
const logger = createLogger({ level: "warn", name: "crm-bench-worker", destination: process.stderr });
const mongo = await connectCentralMongo(config.uri, config.dbName);
const queue = createQueue({ db: mongo.db });
const worker = buildWorker({
  config: loadConfig({
    MONGODB_URI: config.uri,
    SERVICES_DB_NAME: config.dbName,
    CORE_API_TOKEN: config.coreApiToken,
    ENCRYPTION_KEY: config.encryptionKey,
    WHATSAPP_GRAPH_BASE_URL: config.graphBaseUrl,
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith("WORKER_"))),
  }),
  logger,
  db: mongo.db,
  queue,
  definitions: jobDefinitions,
  schedules: [],
});
stopWithParent(logger);
worker.start();
process.send?.({ type: "ready" } satisfies CrmBenchWorkerMessage);
process.on("message", async (message: unknown) => {
  if ((message as { type?: unknown }).type !== "stop") return;
  await worker.stop();
  await mongo.close();
  process.send?.({ type: "stopped" } satisfies CrmBenchWorkerMessage);
  process.exit(0);
});
