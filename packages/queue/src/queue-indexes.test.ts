import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { claimCandidates } from "./claim.js";
import { buildJobDocument } from "./enqueue-input.js";
import { createQueue, type Queue } from "./queue.js";

// The embedded server has no query planner (it scans, and has no explain): this runs on servers that
// plan. There it proves that finished jobs stay off the claim path.
const { explain } = inject("mongoCapabilities");

/** The nodes of a PostgreSQL plan (FerretDB's explain), depth first. */
function planNodes(node: { "Node Type"?: string; Plans?: unknown[] }): { type: string; index?: string }[] {
  const own = { type: node["Node Type"] ?? "", index: (node as { "Index Name"?: string })["Index Name"] };
  return [own, ...(node.Plans ?? []).flatMap((child) => planNodes(child as typeof node))];
}

describe("claim query on a server with a query planner", () => {
  let mongo: TestMongo;
  let queue: Queue;

  beforeAll(async () => {
    if (explain === "none") return;
    mongo = await createTestMongo("indexes");
    queue = createQueue({ db: mongo.db });
    await queue.ensureIndexes();
    // Finished jobs written as such (one write each). FerretDB gets fewer: DocumentDB's RUM indexes pay
    // more per insert the more documents share a key (1,000 take seconds there, 20,000 minutes), and
    // PostgreSQL already plans index scans at a few hundred rows.
    const finished = new Date();
    const count = explain === "postgresql" ? 1_000 : 20_000;
    await queue.jobs.insertMany(
      Array.from({ length: count }, () => ({
        ...buildJobDocument({ type: "noop" }, finished, 5),
        status: "completed" as const,
        completedAt: finished,
      })),
    );
    await queue.enqueueMany(Array.from({ length: 10 }, () => ({ type: "noop" })));
  });
  afterAll(() => mongo?.close());

  it("reads only runnable jobs through indexes, however many finished jobs the collection holds", async (ctx) => {
    ctx.skip(explain === "none", "the embedded server has no query planner and no explain");
    const cursor = claimCandidates(queue.jobs, new Date(), { limit: 10 });
    if (explain === "mongodb") {
      const plan = (await cursor.explain("executionStats")) as {
        executionStats: { totalDocsExamined: number; nReturned: number };
        queryPlanner: { winningPlan: unknown };
      };
      expect(plan.executionStats.nReturned).toBe(10);
      expect(plan.executionStats.totalDocsExamined).toBeLessThanOrEqual(20);
      expect(JSON.stringify(plan.queryPlanner.winningPlan)).not.toContain("COLLSCAN");
      return;
    }
    // FerretDB: PostgreSQL's plan, without row counts (explain does not execute). The claim's two
    // branches are served by the `claim` and `leases` indexes; no node reads the whole table.
    expect(await claimCandidates(queue.jobs, new Date(), { limit: 10 }).toArray()).toHaveLength(10);
    const plan = (await cursor.explain()) as { queryPlanner: { Plan: Parameters<typeof planNodes>[0] } };
    const nodes = planNodes(plan.queryPlanner.Plan);
    expect(nodes.map((node) => node.type)).not.toContain("Seq Scan");
    expect(nodes.map((node) => node.index)).toEqual(expect.arrayContaining(["claim", "leases"]));
  });
});
