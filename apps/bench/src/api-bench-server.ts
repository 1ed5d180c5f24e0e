/**
 * The API process of `npm run bench:api` (forked by api-bench.ts): the product's buildApp on the
 * central database given in argv, with the driver's command monitoring on its MongoClient, plus one bare
 * route (`POST /bench/bare-insert`: one insertOne, no authentication, no validation beyond Fastify's
 * JSON parsing) as the ceiling. Seeds one client; answers "counts" with the commands started so far.
 */
import { randomBytes } from "node:crypto";
import { buildApp } from "@ecodrix/api";
import { connectCentralMongo, createLogger } from "@ecodrix/platform";
import { createQueue } from "@ecodrix/queue";

export type ApiBenchServerMessage =
  | { type: "ready"; url: string; clientCode: string; apiKey: string }
  | { type: "counts"; total: number; byCommand: Record<string, number> }
  | { type: "stopped" };

const { uri, dbName } = JSON.parse(process.argv[2] ?? "{}") as { uri: string; dbName: string };
const mongo = await connectCentralMongo(uri, dbName, { monitorCommands: true });
const byCommand: Record<string, number> = {};
let total = 0;
mongo.client.on("commandStarted", (event) => {
  total += 1;
  byCommand[event.commandName] = (byCommand[event.commandName] ?? 0) + 1;
});
const queue = createQueue({ db: mongo.db });
await queue.ensureIndexes();
const adminToken = randomBytes(24).toString("hex");
const app = await buildApp({
  config: { coreApiToken: adminToken, encryptionKeys: [randomBytes(32)] },
  db: mongo.db,
  logger: createLogger({ level: "silent", name: "bench-api" }),
  queue,
});
const bare = mongo.db.collection("bench_bare");
app.post("/bench/bare-insert", { schema: { hide: true } }, async (request, reply) => {
  const result = await bare.insertOne({ body: request.body, createdAt: new Date() });
  return reply.status(202).send({ id: String(result.insertedId) });
});
const created = await app.inject({
  method: "POST",
  url: "/api/clients",
  headers: { "x-core-api-key": adminToken },
  payload: { name: "Bench Clinic", email: "bench@benchclinic.example" },
});
if (created.statusCode !== 201) throw new Error(`seeding the client failed: ${created.body}`);
const { clientCode, apiKey } = created.json() as { clientCode: string; apiKey: string };
const url = await app.listen({ host: "127.0.0.1", port: 0 });

const send = (message: ApiBenchServerMessage) => process.send?.(message);
process.on("message", async (message: { type: string }) => {
  if (message.type === "counts") send({ type: "counts", total, byCommand: { ...byCommand } });
  if (message.type === "stop") {
    await app.close();
    await mongo.client.db(dbName).dropDatabase();
    await mongo.close();
    send({ type: "stopped" });
    process.disconnect?.();
  }
});
send({ type: "ready", url, clientCode, apiKey });
