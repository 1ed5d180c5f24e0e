import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { admin, startTestApi, type TestApi } from "../../test/test-app.js";
import { startApiMetricsServer } from "./metrics-routes.js";

describe("admin jobs API (runbook §2)", () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());
  beforeEach(async () => {
    await api.queue.jobs.deleteMany({});
  });

  const call = (method: "GET" | "POST" | "DELETE", url: string, headers: Record<string, string> = admin) =>
    api.app.inject({ method, url, headers });

  it("every jobs route requires x-core-api-key", async () => {
    const id = String(new ObjectId());
    for (const [method, url] of [
      ["GET", "/api/admin/jobs/stats"],
      ["GET", "/api/admin/jobs/throughput"],
      ["GET", "/api/admin/jobs"],
      ["GET", `/api/admin/jobs/${id}`],
      ["POST", `/api/admin/jobs/${id}/requeue`],
      ["POST", `/api/admin/jobs/${id}/cancel`],
      ["DELETE", `/api/admin/jobs/${id}`],
    ] as const) {
      const res = await call(method, url, {});
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      const wrong = await call(method, url, { "x-core-api-key": "not-the-token-0123456789" });
      expect(wrong.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it("stats: counts by status and by type, and stuck jobs", async () => {
    await api.queue.enqueueMany([
      { type: "send_email", clientCode: "acme" },
      { type: "send_email", clientCode: "acme" },
      { type: "webhook", clientCode: "beta" },
    ]);
    await api.queue.claim("w", 1);
    await sleep(10);
    const res = await call("GET", "/api/admin/jobs/stats");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      total: 3,
      byStatus: { pending: 2, processing: 1, completed: 0, failed: 0, cancelled: 0 },
      byType: [
        { type: "send_email", total: 2, pending: 1, processing: 1, completed: 0, failed: 0, cancelled: 0 },
        { type: "webhook", total: 1, pending: 1, processing: 0, completed: 0, failed: 0, cancelled: 0 },
      ],
      stuck: 1,
      // No worker process runs in this test, so every pending type is one no worker knows.
      workers: 0,
      unhandledTypes: [
        { type: "send_email", pending: 1 },
        { type: "webhook", pending: 1 },
      ],
    });
  });

  it("throughput: jobs finished per minute over the last hour, counted by the queue", async () => {
    await api.queue.enqueueMany([{ type: "a" }, { type: "b" }, { type: "c" }]);
    const [first, second, third] = await api.queue.claimBatch({ workerId: "w", leaseMs: 10_000, limit: 3 });
    await api.queue.complete(first!);
    await api.queue.complete(second!);
    await api.queue.fail(third!, { message: "boom", retryable: false });
    const res = await call("GET", "/api/admin/jobs/throughput");
    expect(res.statusCode).toBe(200);
    const body = res.json() as {
      bucketSeconds: number;
      buckets: { at: string; completed: number; failed: number }[];
    };
    expect(body.bucketSeconds).toBe(60);
    expect(body.buckets).toHaveLength(60);
    // The current minute, or the one before when the minute turned between the writes and the read.
    const recent = body.buckets.slice(-2);
    expect(recent.reduce((sum, bucket) => sum + bucket.completed, 0)).toBe(2);
    expect(recent.reduce((sum, bucket) => sum + bucket.failed, 0)).toBe(1);
    expect(Date.parse(body.buckets[1]!.at) - Date.parse(body.buckets[0]!.at)).toBe(60_000);
    const ten = await call("GET", "/api/admin/jobs/throughput?minutes=10");
    expect(ten.json().buckets).toHaveLength(10);
    const bad = await call("GET", "/api/admin/jobs/throughput?minutes=0");
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ statusCode: 400, code: "ECODRIX_VALIDATION_FAILED" });
  });

  it("list filters by status, type, clientCode and stuck, newest first, with paging", async () => {
    const jobs = await api.queue.enqueueMany([
      { type: "send_email", clientCode: "acme" },
      { type: "webhook", clientCode: "acme" },
      { type: "webhook", clientCode: "beta" },
    ]);
    const byTenant = await call("GET", "/api/admin/jobs?clientCode=acme&type=webhook");
    expect(byTenant.json().jobs.map((job: { _id: string }) => job._id)).toEqual([String(jobs[1]!._id)]);
    const page = await call("GET", "/api/admin/jobs?limit=2");
    expect(page.json().jobs).toHaveLength(2);
    const rest = await call("GET", `/api/admin/jobs?limit=2&before=${page.json().nextBefore}`);
    expect(rest.json()).toMatchObject({ jobs: [{ _id: String(jobs[0]!._id) }], nextBefore: null });
    expect((await call("GET", "/api/admin/jobs?stuck=true")).json().jobs).toEqual([]);
    const bad = await call("GET", "/api/admin/jobs?status=stuck");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe("ECODRIX_VALIDATION_FAILED");
  });

  it("get one job: the whole readable document; 404 for an unknown id; 400 for a malformed id", async () => {
    const job = await api.queue.enqueue({ type: "echo", clientCode: "acme", payload: { message: "hi" } });
    const res = await call("GET", `/api/admin/jobs/${job._id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      _id: String(job._id),
      type: "echo",
      status: "pending",
      payload: { message: "hi" },
      attempts: 0,
      lockedBy: null,
      errors: [],
    });
    expect(res.json().runAt).toBe(job.runAt.toISOString());

    const missing = await call("GET", `/api/admin/jobs/${new ObjectId()}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe("ECODRIX_JOBS_NOT_FOUND");
    for (const id of ["123", "zzzzzzzzzzzzzzzzzzzzzzzz", "%24where"]) {
      const bad = await call("GET", `/api/admin/jobs/${id}`);
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({
        code: "ECODRIX_JOBS_INVALID_ID",
        message: "Invalid job id: expected 24 hexadecimal characters",
      });
    }
  });

  it("requeue resets a dead-lettered job to pending with retries 0, and a worker takes it again", async () => {
    const job = await api.queue.enqueue({ type: "x", maxRetries: 0 });
    const claimed = (await api.queue.claim("w", 10_000))!;
    await api.queue.fail(claimed, { message: "boom" });
    const res = await call("POST", `/api/admin/jobs/${job._id}/requeue`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: "pending", retries: 0, lockedBy: null, completedAt: null });
    expect(String((await api.queue.claim("w2", 10_000))?._id)).toBe(String(job._id));
    // Now it runs under w2's live lease: refused (409, nothing changed) unless forced.
    const running = await call("POST", `/api/admin/jobs/${job._id}/requeue`);
    expect(running.statusCode).toBe(409);
    expect(running.json().message).toContain("is running (worker w2 holds its lease");
    expect((await api.queue.get(job._id))?.lockedBy).toBe("w2");
    const forced = await call("POST", `/api/admin/jobs/${job._id}/requeue?force=true`);
    expect(forced.statusCode).toBe(200);
    expect(forced.json()).toMatchObject({ status: "pending", lockedBy: null });
    expect((await call("POST", `/api/admin/jobs/${job._id}/requeue?force=maybe`)).statusCode).toBe(400);
    expect((await call("POST", `/api/admin/jobs/${new ObjectId()}/requeue`)).statusCode).toBe(404);
    expect((await call("POST", "/api/admin/jobs/nope/requeue")).statusCode).toBe(400);
  });

  it("cancel: a pending job is cancelled; a running one is refused with 409", async () => {
    const pending = await api.queue.enqueue({ type: "x" });
    const res = await call("POST", `/api/admin/jobs/${pending._id}/cancel`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: "cancelled" });
    await api.queue.enqueue({ type: "y" });
    const running = (await api.queue.claim("w", 10_000))!;
    const refused = await call("POST", `/api/admin/jobs/${running._id}/cancel`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      code: "ECODRIX_JOBS_NOT_PENDING",
      message: `Job ${running._id} is processing: only pending jobs can be cancelled`,
    });
    expect((await api.queue.get(running._id))?.status).toBe("processing");
  });

  it("delete removes the job (kill a poison job); a second delete is 404", async () => {
    const job = await api.queue.enqueue({ type: "poison" });
    const res = await call("DELETE", `/api/admin/jobs/${job._id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: String(job._id), deleted: true });
    expect(await api.queue.get(job._id)).toBeNull();
    expect((await call("DELETE", `/api/admin/jobs/${job._id}`)).statusCode).toBe(404);
  });

  it("/metrics exposes queue depth by status and type for Prometheus, read at scrape time, on its own port only", async () => {
    await api.queue.enqueueMany([{ type: "send_email" }, { type: "send_email" }, { type: "webhook" }]);
    // Not on the public listener, with or without the admin token.
    for (const headers of [{}, admin]) {
      const publicPort = await api.app.inject({ method: "GET", url: "/metrics", headers });
      expect(publicPort.statusCode).toBe(404);
      expect(publicPort.json().code).toBe("ECODRIX_ROUTE_NOT_FOUND");
    }
    const server = await startApiMetricsServer({ queue: api.queue }, 0, "127.0.0.1");
    try {
      const address = server.address() as AddressInfo;
      const scrape = () => fetch(`http://127.0.0.1:${address.port}/metrics`);
      const res = await scrape();
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toContain('ecodrix_jobs{status="pending",type="send_email"} 2');
      expect(text).toContain('ecodrix_jobs{status="pending",type="webhook"} 1');
      await api.queue.jobs.deleteMany({ type: "webhook" });
      const [done] = await api.queue.claimBatch({ workerId: "w", leaseMs: 10_000, limit: 1 });
      await api.queue.complete(done!);
      const later = await (await scrape()).text();
      expect(later).not.toContain('type="webhook"');
      expect(later).toMatch(/ecodrix_jobs\{status="completed",type="\*"\} [1-9]/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
