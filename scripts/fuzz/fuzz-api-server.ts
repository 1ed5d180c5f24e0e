// The API for the fuzz run (scripts/fuzz/run-schemathesis.sh): the product's buildApp on the embedded
// database (in memory), on 127.0.0.1 and a free port, configured as `ECODRIX_SANDBOX=true npm start`
// configures it (the providers' local fakes: Google is configured, the sandbox outbox is served), with a
// random admin token and one seeded client whose datasource is registered, so the tenant routes reach
// their handlers. Prints one JSON line
// { url, adminToken, clientCode, apiKey } on stdout when ready; stops on SIGTERM or SIGINT.
import { randomBytes } from "node:crypto";
import { buildApp } from "@ecodrix/api";
import { templatesOf } from "@ecodrix/integrations";
import { connectCentralMongo, createLogger, loadConfig } from "@ecodrix/platform";
import { createQueue } from "@ecodrix/queue";
import { startEmbeddedMongo } from "@ecodrix/test-kit/embedded-mongo";
import { sandboxFakes, startSandbox } from "@ecodrix/test-kit/fakes";

const embedded = await startEmbeddedMongo();
const sandbox = await startSandbox(sandboxFakes);
const adminToken = `fuzz_${randomBytes(24).toString("hex")}`;
const config = loadConfig({
  ...sandbox.env,
  ECODRIX_SANDBOX: "true",
  MONGODB_URI: embedded.uri,
  CORE_API_TOKEN: adminToken,
  ENCRYPTION_KEY: randomBytes(32).toString("hex"),
});
const mongo = await connectCentralMongo(config.mongodbUri, config.servicesDbName);
const queue = createQueue({ db: mongo.db });
await queue.ensureIndexes();
// Warnings and errors only, on stderr: a 5xx's stack lands in the fuzz log beside its finding.
const logger = createLogger({ level: "warn", name: "ecodrix-api-fuzz", destination: process.stderr });
const app = await buildApp({
  config,
  db: mongo.db,
  logger,
  queue,
  // The fuzzer sends thousands of requests with wrong credentials on purpose; a 429 would hide the
  // routes' own answers behind the limiter (which has tests of its own).
  authRateLimit: { maxFailures: 1_000_000, maxFailuresPerIp: 1_000_000 },
  adminAuthRateLimit: { maxFailures: 1_000_000, maxFailuresPerIp: 1_000_000 },
});
const admin = { "x-core-api-key": adminToken };
const created = await app.inject({
  method: "POST",
  url: "/api/clients",
  headers: admin,
  payload: { name: "Fuzz Clinic", email: "fuzz@fuzzclinic.example" },
});
if (created.statusCode !== 201) throw new Error(`seeding the client failed: ${created.body}`);
const { clientCode, apiKey } = created.json() as { clientCode: string; apiKey: string };
const datasource = await app.inject({
  method: "POST",
  url: `/api/clients/${clientCode}/datasource`,
  headers: admin,
  payload: { dbUri: `${embedded.uri}/fuzz_${clientCode}` },
});
if (datasource.statusCode !== 200) throw new Error(`registering the datasource failed: ${datasource.body}`);

const tenant = { "x-client-code": clientCode, "x-api-key": apiKey };
async function seed(url: string, payload: Record<string, unknown>, idField = "id"): Promise<string> {
  const answer = await app.inject({ method: "POST", url, headers: tenant, payload });
  if (answer.statusCode >= 300) throw new Error(`seeding ${url} failed: ${answer.body}`);
  return String((answer.json() as Record<string, unknown>)[idField]);
}
// The runbook's automation sends a template: a synced, approved one, as a template sync stores it.
await templatesOf(mongo.client.db(`fuzz_${clientCode}`)).insertOne({
  id: "1000000000000001",
  name: "appointment_confirmed",
  language: "en_US",
  status: "APPROVED",
  category: "UTILITY",
  components: [{ type: "BODY", text: "Your appointment is confirmed." }],
  syncedAt: new Date(),
});
const leadId = await seed("/api/crm/leads", { name: "Asha Rao", phone: "+919812345678" });
const appointmentId = await seed("/api/crm/appointments", {
  leadId,
  startsAt: new Date(Date.now() + 86_400_000).toISOString(),
});
const automationId = await seed("/api/crm/automations", {
  name: "Appointment Confirmed WA",
  trigger: "appointment_confirmed",
  triggerConfig: {},
  actions: [
    {
      type: "send_whatsapp",
      delayMinutes: 0,
      config: { templateName: "appointment_confirmed", language: "en_US" },
    },
  ],
});
const jobId = await seed(
  "/api/saas/chat/messages",
  { to: "+919812345678", templateName: "appointment_confirmed", language: "en_US" },
  "jobId",
);

const url = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(
  `${JSON.stringify({ url, adminToken, clientCode, apiKey, leadId, appointmentId, automationId, jobId })}\n`,
);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await app.close();
  await mongo.close();
  await sandbox.stop();
  await embedded.stop();
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
