import { randomBytes } from "node:crypto";
import type { TenancyServices } from "@ecodrix/domain";
import type { Config } from "@ecodrix/platform";
import { createJobRegistry, enqueueJob, type Queue } from "@ecodrix/queue";
import type { TestMongo } from "@ecodrix/test-kit";
import { type GoogleFake, startGoogleFake } from "@ecodrix/test-kit/fakes";
import type { ObjectId } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type IntegrationTestEnv, startIntegrationTestEnv } from "../../test/integration-test-env.js";
import { createMeetJob } from "./create-meet-job.js";
import { type CreateMeetPayload, createMeetContract } from "./google-contracts.js";
import { createGoogleTokenRepository, type GoogleTokenRepository } from "./google-token-repository.js";

const CALENDAR_SCOPES = [
  "https://www.googleapis.com/auth/calendar.events",
  "https://www.googleapis.com/auth/userinfo.email",
];

describe("create_meet against the Google fake", () => {
  let env: IntegrationTestEnv;
  let mongo: TestMongo;
  let fake: GoogleFake;
  let queue: Queue;
  let tenancy: TenancyServices;
  let tokens: GoogleTokenRepository;
  let config: Config;

  beforeAll(async () => {
    fake = await startGoogleFake();
    env = await startIntegrationTestEnv({ name: "google_meet", env: fake.settings });
    ({ mongo, queue, tenancy, config } = env);
    tokens = createGoogleTokenRepository({ db: mongo.db, crypto: tenancy.crypto });
    await tokens.ensureIndexes();
  });

  afterEach(async () => {
    await env.stopWorker();
  });

  afterAll(async () => {
    await fake.stop();
    await env.close();
  });

  /** A client whose Google account is connected with a refresh token the fake knows. */
  async function connectedClient(
    scopes = CALENDAR_SCOPES,
  ): Promise<{ clientCode: string; email: string; refreshToken: string }> {
    const clientCode = await env.createClient({ datasource: false });
    const email = `doctor@${clientCode}.example`;
    const refreshToken = fake.issueRefreshToken(email, scopes);
    await tokens.save(clientCode, { email, refreshToken, scopes });
    return { clientCode, email, refreshToken };
  }

  function startWorker(jobTimeoutMs = 10_000): void {
    env.startWorker(createJobRegistry([createMeetJob], { config, db: mongo.db, tenancy, queue }), {
      concurrency: 2,
      leaseMs: 5_000,
      jobTimeoutMs,
      shutdownTimeoutMs: 500,
    });
  }

  async function enqueueMeet(clientCode: string, payload: Partial<CreateMeetPayload> = {}) {
    return enqueueJob(queue, createMeetContract, {
      clientCode,
      payload: {
        title: "Consultation with Asha",
        startsAt: "2026-03-02T10:30:00+05:30",
        durationMinutes: 30,
        ...payload,
      },
    });
  }

  const settled = (id: ObjectId, timeoutMs?: number) => env.settled(id, timeoutMs);

  const eventsOf = (email: string) => fake.events.filter((event) => event.calendar === email);

  it("creates an event with a Meet on the connected account's primary calendar", async () => {
    const { clientCode, email, refreshToken } = await connectedClient();
    startWorker();
    const job = await enqueueMeet(clientCode, { attendees: ["asha@patient.example"] });
    const done = await settled(job._id);

    expect(done.status).toBe("completed");
    const [event] = eventsOf(email);
    expect(eventsOf(email)).toHaveLength(1);
    expect(done.result).toEqual({ eventId: String(job._id), meetUrl: event?.meetUrl });
    expect(event?.meetUrl).toMatch(/^https:\/\/meet\.google\.com\/[a-z]{3}-[a-z]{4}-[a-z]{3}$/);
    expect(event?.summary).toBe("Consultation with Asha");
    expect(event?.attendees).toEqual(["asha@patient.example"]);
    expect(Date.parse(event?.end ?? "") - Date.parse(event?.start ?? "")).toBe(30 * 60_000);

    const insert = fake.requests.find(
      (request) => request.method === "POST" && request.path === "/calendar/v3/calendars/primary/events",
    );
    expect(insert?.query).toMatchObject({ conferenceDataVersion: "1", sendUpdates: "all" });
    expect(insert?.body).toMatchObject({
      conferenceData: {
        createRequest: { requestId: String(job._id), conferenceSolutionKey: { type: "hangoutsMeet" } },
      },
    });
    // The access token came from the client's stored refresh token.
    const refresh = fake.requests.find(
      (request) =>
        request.path === "/token" && (request.body as Record<string, string>).refresh_token === refreshToken,
    );
    expect(refresh?.body).toMatchObject({ grant_type: "refresh_token", client_id: fake.clientId });
  });

  it("a job retried after a timeout creates one meeting, and both attempts agree on it", async () => {
    const { clientCode, email } = await connectedClient();
    // Google creates the event but its answer arrives after the job's timeout: the attempt fails.
    fake.delayNextInsert(2_500);
    startWorker(1_000);
    const job = await enqueueMeet(clientCode);
    const done = await settled(job._id);

    expect(done.status).toBe("completed");
    expect(done.retries).toBe(1);
    expect(done.errors[0]?.message).toMatch(/timed out|timeout/i);
    expect(eventsOf(email)).toHaveLength(1);
    expect(done.result).toEqual({ eventId: String(job._id), meetUrl: eventsOf(email)[0]?.meetUrl });
    // The second attempt asked for the same event id and read the existing one instead of making another.
    const inserts = fake.requests.filter(
      (request) =>
        request.method === "POST" && request.path.endsWith("/events") && request.at >= job.createdAt,
    );
    expect(inserts.map((request) => (request.body as { id: string }).id)).toEqual([
      String(job._id),
      String(job._id),
    ]);
    expect(
      fake.requests.some(
        (request) => request.method === "GET" && request.path.endsWith(`/events/${String(job._id)}`),
      ),
    ).toBe(true);
  });

  it("a completed job requeued with force returns the same meeting, creating none", async () => {
    const { clientCode, email } = await connectedClient();
    startWorker();
    const job = await enqueueMeet(clientCode);
    const first = await settled(job._id);
    // An operator forcing a completed job to run again (runbook §2): still one meeting.
    await queue.requeue(job._id, { force: true });
    const second = await settled(job._id);
    expect(second.status).toBe("completed");
    expect(second.result).toEqual(first.result);
    expect(eventsOf(email)).toHaveLength(1);
  });

  it("invalid_grant: permanent failure, and the client is marked googleStatus reconnect_required", async () => {
    const { clientCode, email, refreshToken } = await connectedClient();
    fake.failRefreshToken(refreshToken);
    startWorker();
    const job = await enqueueMeet(clientCode);
    const done = await settled(job._id);

    expect(done.status).toBe("failed");
    expect(done.retries).toBe(0);
    expect(done.lastError).toContain("invalid_grant");
    expect(done.lastError).toContain("runbook §1 step 4");
    expect(done.lastError).not.toContain(refreshToken);
    expect(eventsOf(email)).toHaveLength(0);
    expect(await tenancy.clients.get(clientCode)).toMatchObject({ googleStatus: "reconnect_required" });
    expect(await tokens.find(clientCode)).toMatchObject({ status: "reconnect_required" });

    // The next job fails at once, without asking Google again.
    const tokenCalls = fake.requests.filter((request) => request.path === "/token").length;
    const next = await settled((await enqueueMeet(clientCode))._id);
    expect(next.status).toBe("failed");
    expect(next.lastError).toContain("must be reconnected");
    expect(fake.requests.filter((request) => request.path === "/token")).toHaveLength(tokenCalls);

    // A new connection clears the mark (the callback does both; here the repository and the service).
    await tokens.save(clientCode, {
      email,
      refreshToken: fake.issueRefreshToken(email),
      scopes: CALENDAR_SCOPES,
    });
    await tenancy.clients.setIntegrationStatus(clientCode, "googleStatus", null);
    expect((await tenancy.clients.get(clientCode)).googleStatus).toBeUndefined();
    expect((await settled((await enqueueMeet(clientCode))._id)).status).toBe("completed");
  });

  it("a token without the calendar scope is also a reconnect, not a retry", async () => {
    const { clientCode } = await connectedClient(["https://www.googleapis.com/auth/userinfo.email"]);
    startWorker();
    const done = await settled((await enqueueMeet(clientCode))._id);
    expect(done.status).toBe("failed");
    expect(done.retries).toBe(0);
    expect(done.lastError).toContain("insufficientPermissions");
    expect(await tenancy.clients.get(clientCode)).toMatchObject({ googleStatus: "reconnect_required" });
  });

  it("a rate limit waits for Retry-After, then succeeds", async () => {
    const { clientCode, email } = await connectedClient();
    fake.failNextInsert({
      status: 429,
      headers: { "retry-after": "1" },
      body: {
        error: { code: 429, message: "Rate Limit Exceeded", errors: [{ reason: "rateLimitExceeded" }] },
      },
    });
    startWorker();
    const job = await enqueueMeet(clientCode);
    const done = await settled(job._id);
    expect(done.status).toBe("completed");
    expect(done.retries).toBe(1);
    expect(done.errors[0]).toMatchObject({ code: "ECODRIX_GOOGLE_RATE_LIMITED" });
    expect(done.errors[0]?.message).toContain("rateLimitExceeded");
    // The retry waited the second Google asked for (the queue's own backoff here is 100–200 ms).
    const attempts = fake.requests.filter(
      (request) =>
        request.method === "POST" && request.path.endsWith("/events") && request.at >= job.createdAt,
    );
    expect(attempts).toHaveLength(2);
    expect((attempts[1]?.at.getTime() ?? 0) - (attempts[0]?.at.getTime() ?? 0)).toBeGreaterThanOrEqual(900);
    expect(eventsOf(email)).toHaveLength(1);
  });

  it("a Google 5xx is retried with backoff; a 400 is permanent with Google's message", async () => {
    const { clientCode } = await connectedClient();
    fake.failNextInsert({
      status: 503,
      body: { error: { code: 503, message: "Backend Error", errors: [{ reason: "backendError" }] } },
    });
    startWorker();
    const retried = await settled((await enqueueMeet(clientCode))._id);
    expect(retried.status).toBe("completed");
    expect(retried.errors[0]?.message).toContain("Google 503 backendError: Backend Error");

    fake.failNextInsert({
      status: 400,
      body: { error: { code: 400, message: "Invalid attendee email.", errors: [{ reason: "invalid" }] } },
    });
    const rejected = await settled((await enqueueMeet(clientCode))._id);
    expect(rejected.status).toBe("failed");
    expect(rejected.retries).toBe(0);
    expect(rejected.lastError).toBe("Google 400 invalid: Invalid attendee email.");
  });

  it("a client without a connection fails at once, naming the runbook step", async () => {
    const clientCode = `clinic-${randomBytes(4).toString("hex")}`;
    await tenancy.clients.create({ name: "Unconnected", email: `a@${clientCode}.example`, clientCode });
    startWorker();
    const done = await settled((await enqueueMeet(clientCode))._id);
    expect(done.status).toBe("failed");
    expect(done.lastError).toBe(
      `Google Calendar is not connected for ${clientCode}: connect it (runbook §1 step 4), then requeue`,
    );
  });

  it("each client's meeting goes to its own Google account", async () => {
    const a = await connectedClient();
    const b = await connectedClient();
    startWorker();
    const [jobA, jobB] = await Promise.all([
      enqueueMeet(a.clientCode, { title: "A" }),
      enqueueMeet(b.clientCode, { title: "B" }),
    ]);
    await Promise.all([settled(jobA._id), settled(jobB._id)]);
    expect(eventsOf(a.email).map((event) => event.summary)).toEqual(["A"]);
    expect(eventsOf(b.email).map((event) => event.summary)).toEqual(["B"]);
  });

  it("with a context, hands the result back as one meet_created job (dedupeKey meet:<jobId>)", async () => {
    const { clientCode } = await connectedClient();
    startWorker();
    const context = { appointmentId: "apt_1", automationId: "auto_9", runId: "run_3", step: 2 };
    const withContext = await enqueueMeet(clientCode, { context });
    const done = await settled(withContext._id);
    const outcomes = await queue.jobs.find({ type: "meet_created", clientCode }).toArray();
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({
      dedupeKey: `meet:${String(withContext._id)}`,
      payload: { ...(done.result as object), context },
    });

    await settled((await enqueueMeet(clientCode))._id);
    expect(await queue.jobs.countDocuments({ type: "meet_created", clientCode })).toBe(1);
  });

  it("refuses a malformed payload at enqueue, naming the field", async () => {
    await expect(
      enqueueJob(queue, createMeetContract, {
        clientCode: "any",
        payload: { title: "x", startsAt: "tomorrow at ten", durationMinutes: 30 },
      }),
    ).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining("payload/startsAt") });
    await expect(
      enqueueJob(queue, createMeetContract, {
        clientCode: "any",
        payload: { title: "x", startsAt: "2026-03-02T10:30:00Z", durationMinutes: 0 },
      }),
    ).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining("payload/durationMinutes") });
  });
});
