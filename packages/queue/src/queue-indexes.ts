import type { IndexDescription } from "mongodb";

/** The `jobs` collection's indexes, each with the query it serves. */
export const JOB_INDEXES: IndexDescription[] = [
  // The claim: due pending jobs by priority then runAt.
  { key: { status: 1, priority: -1, runAt: 1 }, name: "claim" },
  // The claim's other branch (expired leases) and the runbook's stuck query.
  { key: { status: 1, lockedUntil: 1 }, name: "leases" },
  { key: { status: 1, updatedAt: 1 }, name: "status_updated" },
  // Fenced writes. Unique because it contains _id; its point is that the embedded server can
  // serve `{ _id, attempts, status }` from it instead of scanning the collection.
  { key: { _id: 1, attempts: 1, status: 1 }, name: "fence", unique: true },
  // Sparse rather than partial: the key is renamed away when the job finishes (see finishUpdate).
  { key: { dedupeKey: 1 }, name: "dedupe", unique: true, sparse: true },
  // Tenant views, offboarding's cancel-by-tenant and admin filters.
  { key: { clientCode: 1, status: 1, _id: -1 }, name: "tenant" },
  { key: { type: 1, status: 1, _id: -1 }, name: "type" },
  // Retention sweep.
  { key: { completedAt: 1 }, name: "retention" },
];
