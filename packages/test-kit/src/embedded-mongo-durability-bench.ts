// `npm run bench:embedded-mongo`: what committing before acknowledging costs the embedded server's
// H2 file backend. For each durability mode it starts a fresh server on a temporary file, creates
// two unique indexes (as the queue's jobs collection has), warms the JVM up, then measures inserts/s
// with one client awaiting each insert and with 8 concurrent clients. The modes take turns for
// BENCH_ROUNDS rounds (default 3) so that a busy machine weighs on all of them alike; the figures
// are each mode's median. Progress on stderr; the last line of stdout is one JSON object.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { MongoClient } from "mongodb";
import { type EmbeddedMongoOptions, startEmbeddedMongo } from "./embedded-mongo.js";

type Durability = NonNullable<EmbeddedMongoOptions["durability"]>;

const modes: Durability[] = ["deferred", "commit", "fsync"];
const warmupInserts = 2_000;
const measureMs = Number(process.env.BENCH_MS ?? 5_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * CPU time (user + system, ms) the process has used, from /proc (Linux). On a shared machine the
 * server's CPU time per insert is steadier than inserts/s, which other processes' load moves.
 */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

interface Phase {
  insertsPerS: number;
  serverCpuMsPerInsert: number;
}

async function phase(
  insert: (key: string) => Promise<unknown>,
  clients: number,
  label: string,
  serverPid: number | undefined,
): Promise<Phase> {
  let count = 0;
  const deadline = Date.now() + measureMs;
  const started = performance.now();
  const cpuBefore = cpuMs(serverPid);
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let n = 0; Date.now() < deadline; n++) {
        await insert(`${label}-${c}-${n}`);
        count++;
      }
    }),
  );
  return {
    insertsPerS: Math.round(count / ((performance.now() - started) / 1_000)),
    serverCpuMsPerInsert: Number(((cpuMs(serverPid) - cpuBefore) / count).toFixed(2)),
  };
}

async function measure(durability: Durability): Promise<{ sequential: Phase; concurrent8: Phase }> {
  const dir = mkdtempSync(path.join(tmpdir(), "ecodrix-h2-bench-"));
  const server = await startEmbeddedMongo({ backend: "h2", file: path.join(dir, "bench.mv"), durability });
  const client = new MongoClient(server.uri, { maxPoolSize: 8 });
  try {
    const docs = client.db("bench").collection("docs");
    await docs.createIndex({ key: 1 }, { unique: true });
    await docs.createIndex({ fence: 1 }, { unique: true });
    const insert = (key: string) =>
      docs.insertOne({ key, fence: `f-${key}`, payload: { message: "x".repeat(200) } });
    for (let n = 0; n < warmupInserts; n++) await insert(`warm-${n}`);
    const sequential = await phase(insert, 1, "seq", server.pid);
    const concurrent8 = await phase(insert, 8, "par", server.pid);
    return { sequential, concurrent8 };
  } finally {
    await client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const samples = new Map<Durability, { sequential: Phase[]; concurrent8: Phase[] }>(
  modes.map((mode) => [mode, { sequential: [], concurrent8: [] }]),
);
for (let round = 1; round <= rounds; round++) {
  for (const mode of modes) {
    console.error(`round ${round}/${rounds}: durability=${mode} (${measureMs} ms per phase)…`);
    const result = await measure(mode);
    samples.get(mode)?.sequential.push(result.sequential);
    samples.get(mode)?.concurrent8.push(result.concurrent8);
    console.error(`  ${JSON.stringify(result)} inserts/s`);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const summary = (phases: Phase[]) => ({
  insertsPerS: median(phases.map((p) => p.insertsPerS)),
  serverCpuMsPerInsert: median(phases.map((p) => p.serverCpuMsPerInsert)),
  samples: phases,
});
const results = Object.fromEntries(
  [...samples].map(([mode, s]) => [
    mode,
    { sequential: summary(s.sequential), concurrent8: summary(s.concurrent8) },
  ]),
);
console.log(
  JSON.stringify({
    results,
    rounds,
    measure_ms: measureMs,
    cpus: cpus().length,
    node: process.version,
  }),
);
